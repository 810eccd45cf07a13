"""Outbound notifications: who hears about which events, and each delivery's log.

Deliveries are made from the event log (see `accord.engine.notifier`): the transaction that
turns events into deliveries also moves the one shared cursor, with a compare-and-set, so
each event is turned into deliveries once across all processes.
"""

from __future__ import annotations

import builtins
import secrets
import time
from typing import Any

from sqlalchemy import Row, delete, insert, or_, select, update
from sqlalchemy.orm import Session

from accord.domain.errors import NotFound
from accord.domain.triggers import (
    RETRY_DELAYS,
    Notification,
    NotificationCreated,
    NotificationDelivery,
    NotificationEvent,
    NotificationSpec,
)
from accord.storage.repositories._convert import (
    affected_rows,
    to_datetime,
    to_optional_datetime,
)
from accord.storage.repositories.events import EventRepository
from accord.storage.secrets import decrypt_secret, encrypt_secret
from accord.storage.tables import (
    collaboration_workflows,
    epoch_now,
    new_id,
    notification_cursor,
    notification_deliveries,
    notifications,
)

DueDelivery = tuple[NotificationDelivery, str, str, dict[str, Any]]
"""A delivery to make: it, the URL, the signing secret and the payload."""

CLAIM_SECONDS = 60.0
"""A process delivering a notification holds it this long (longer than any request)."""


def _notification(row: Row[Any]) -> Notification:
    return Notification(
        id=row.id,
        workflow_id=row.workflow_id,
        url=row.url,
        events=[NotificationEvent(e) for e in row.events],
        created_at=to_datetime(row.created_at),
    )


def _delivery(row: Row[Any]) -> NotificationDelivery:
    return NotificationDelivery(
        id=row.id,
        notification_id=row.notification_id,
        event=NotificationEvent(row.event),
        execution_id=row.execution_id,
        status=row.status,
        attempts=row.attempts,
        last_error=row.last_error,
        response_status=row.response_status,
        created_at=to_datetime(row.created_at),
        delivered_at=to_optional_datetime(row.delivered_at),
    )


class NotificationRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def create(
        self, *, user_id: str, spec: NotificationSpec, workflow_id: str | None = None
    ) -> NotificationCreated:
        """A subscription; its signing secret (given, or made here) is returned this once."""
        if workflow_id is not None:
            owned = self.session.execute(
                select(collaboration_workflows.c.id).where(
                    collaboration_workflows.c.id == workflow_id,
                    collaboration_workflows.c.user_id == user_id,
                )
            ).first()
            if owned is None:
                raise NotFound("workflow", workflow_id)
        self._start_cursor()
        secret = spec.secret or secrets.token_urlsafe(32)
        notification_id = new_id()
        self.session.execute(
            insert(notifications).values(
                id=notification_id,
                user_id=user_id,
                workflow_id=workflow_id,
                url=spec.url,
                events=[e.value for e in spec.events],
                encrypted_secret=encrypt_secret(secret),
                created_at=epoch_now(),
            )
        )
        made = self.get(notification_id, user_id=user_id)
        return NotificationCreated(**made.model_dump(), secret=secret)

    def _start_cursor(self) -> None:
        """The first subscription starts the cursor at the log's end: events from before
        anyone subscribed are not news."""
        if self.session.execute(select(notification_cursor.c.last_event_id)).first() is None:
            newest = EventRepository(self.session).newest_id()
            self.session.execute(insert(notification_cursor).values(id=1, last_event_id=newest))

    def get(self, notification_id: str, *, user_id: str) -> Notification:
        row = self.session.execute(
            select(notifications).where(
                notifications.c.id == notification_id, notifications.c.user_id == user_id
            )
        ).one_or_none()
        if row is None:
            raise NotFound("notification", notification_id)
        return _notification(row)

    def list(self, *, user_id: str, workflow_id: str | None = None) -> builtins.list[Notification]:
        query = (
            select(notifications)
            .where(notifications.c.user_id == user_id)
            .order_by(notifications.c.created_at)
        )
        if workflow_id is not None:
            query = query.where(notifications.c.workflow_id == workflow_id)
        return [_notification(r) for r in self.session.execute(query)]

    def delete(self, notification_id: str, *, user_id: str) -> None:
        result = self.session.execute(
            delete(notifications).where(
                notifications.c.id == notification_id, notifications.c.user_id == user_id
            )
        )
        if affected_rows(result) == 0:
            raise NotFound("notification", notification_id)

    def subscribed(
        self, *, user_id: str, workflow_id: str | None, event: NotificationEvent
    ) -> builtins.list[str]:
        """IDs of the user's subscriptions to `event` for this workflow (or all workflows)."""
        rows = self.session.execute(
            select(notifications.c.id, notifications.c.events).where(
                notifications.c.user_id == user_id,
                or_(
                    notifications.c.workflow_id.is_(None),
                    notifications.c.workflow_id == workflow_id,
                ),
            )
        )
        return [r.id for r in rows if event.value in r.events]

    # --- the cursor over the event log ----------------------------------------------------

    def cursor(self) -> int | None:
        """The last event turned into deliveries; None while nobody subscribes."""
        value = self.session.execute(select(notification_cursor.c.last_event_id)).scalar()
        return None if value is None else int(value)

    def move_cursor(self, *, seen: int, to: int) -> bool:
        """Compare-and-set: False when another process moved it first (then roll back)."""
        result = self.session.execute(
            update(notification_cursor)
            .where(notification_cursor.c.last_event_id == seen)
            .values(last_event_id=to)
        )
        return affected_rows(result) == 1

    # --- deliveries -----------------------------------------------------------------------

    def add_delivery(
        self,
        *,
        notification_id: str,
        event: NotificationEvent,
        execution_id: str | None,
        payload: dict[str, Any],
    ) -> None:
        now = time.time()
        self.session.execute(
            insert(notification_deliveries).values(
                id=new_id(),
                notification_id=notification_id,
                event=event.value,
                execution_id=execution_id,
                payload=payload,
                status="pending",
                attempts=0,
                next_attempt_at=now,
                created_at=now,
            )
        )

    def claim_due(self, *, limit: int = 20) -> builtins.list[DueDelivery]:
        """Due deliveries this process now holds for `CLAIM_SECONDS`: each with its URL,
        secret and payload."""
        now = time.time()
        due = self.session.execute(
            select(notification_deliveries.c.id)
            .where(
                notification_deliveries.c.status == "pending",
                notification_deliveries.c.next_attempt_at <= now,
                or_(
                    notification_deliveries.c.claimed_until.is_(None),
                    notification_deliveries.c.claimed_until < now,
                ),
            )
            .order_by(notification_deliveries.c.next_attempt_at)
            .limit(limit)
        ).scalars()
        claimed = []
        for delivery_id in list(due):
            result = self.session.execute(
                update(notification_deliveries)
                .where(
                    notification_deliveries.c.id == delivery_id,
                    or_(
                        notification_deliveries.c.claimed_until.is_(None),
                        notification_deliveries.c.claimed_until < now,
                    ),
                )
                .values(claimed_until=now + CLAIM_SECONDS)
            )
            if affected_rows(result) == 1:
                claimed.append(delivery_id)
        if not claimed:
            return []
        rows = self.session.execute(
            select(notification_deliveries, notifications.c.url, notifications.c.encrypted_secret)
            .join(notifications, notifications.c.id == notification_deliveries.c.notification_id)
            .where(notification_deliveries.c.id.in_(claimed))
        )
        return [
            (_delivery(r), r.url, decrypt_secret(r.encrypted_secret), dict(r.payload)) for r in rows
        ]

    def record_attempt(
        self, delivery_id: str, *, ok: bool, response_status: int | None, error: str | None
    ) -> None:
        """One attempt's result: delivered, retried after the next backoff, or failed."""
        attempts = (
            self.session.execute(
                select(notification_deliveries.c.attempts).where(
                    notification_deliveries.c.id == delivery_id
                )
            ).scalar_one()
            + 1
        )
        now = time.time()
        values: dict[str, Any] = {
            "attempts": attempts,
            "response_status": response_status,
            "last_error": error,
            "claimed_until": None,
        }
        if ok:
            values |= {"status": "delivered", "delivered_at": now, "next_attempt_at": None}
        elif attempts > len(RETRY_DELAYS):
            values |= {"status": "failed", "next_attempt_at": None}
        else:
            values["next_attempt_at"] = now + RETRY_DELAYS[attempts - 1].total_seconds()
        self.session.execute(
            update(notification_deliveries)
            .where(notification_deliveries.c.id == delivery_id)
            .values(**values)
        )

    def deliveries(
        self, notification_id: str, *, user_id: str, limit: int = 50
    ) -> builtins.list[NotificationDelivery]:
        self.get(notification_id, user_id=user_id)
        rows = self.session.execute(
            select(notification_deliveries)
            .where(notification_deliveries.c.notification_id == notification_id)
            .order_by(notification_deliveries.c.created_at.desc())
            .limit(limit)
        )
        return [_delivery(r) for r in rows]

    def redeliver(self, delivery_id: str, *, user_id: str) -> NotificationDelivery:
        """Send a delivery again now (a failed one, or a delivered one the receiver lost)."""
        row = self.session.execute(
            select(notification_deliveries.c.id)
            .join(notifications, notifications.c.id == notification_deliveries.c.notification_id)
            .where(notification_deliveries.c.id == delivery_id, notifications.c.user_id == user_id)
        ).first()
        if row is None:
            raise NotFound("notification delivery", delivery_id)
        self.session.execute(
            update(notification_deliveries)
            .where(notification_deliveries.c.id == delivery_id)
            .values(status="pending", attempts=0, next_attempt_at=time.time(), claimed_until=None)
        )
        return _delivery(
            self.session.execute(
                select(notification_deliveries).where(notification_deliveries.c.id == delivery_id)
            ).one()
        )
