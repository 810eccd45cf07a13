"""Outbound notifications: turn events into signed webhook deliveries and make them.

Every process runs a `Notifier`. Each round it reads the event log past the shared cursor
(up to the settled horizon, so a late commit on Postgres is never skipped), adds a delivery
for each subscription an event concerns and moves the cursor in the same transaction with a
compare-and-set: one process wins each range, so every event is delivered once. Deliveries
are claimed for a while before they are sent, retried with backoff (`RETRY_DELAYS`), and
logged; they run on their own tasks with a timeout, so a dead endpoint never slows a run.
"""

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging

import httpx

from accord.domain.execution import ExecutionEvent
from accord.domain.triggers import NotificationEvent
from accord.storage.db import Database
from accord.storage.repositories.events import EventRepository, SettledHorizon
from accord.storage.repositories.executions import ExecutionRepository
from accord.storage.repositories.notifications import DueDelivery, NotificationRepository
from accord.telemetry import metrics

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Accord-Signature-256"
_ENDED = {
    "completed": NotificationEvent.EXECUTION_COMPLETED,
    "failed": NotificationEvent.EXECUTION_FAILED,
    "cancelled": NotificationEvent.EXECUTION_CANCELLED,
}


def signature(secret: str, body: bytes) -> str:
    """`sha256=<hex HMAC-SHA256 of the body>`, as GitHub signs its webhooks."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def notification_of(event: ExecutionEvent) -> NotificationEvent | None:
    """The notification an event is, if any."""
    if event.kind == "execution.status":
        return _ENDED.get(str(event.data.get("status")))
    if event.kind == "approval.requested":
        return NotificationEvent.APPROVAL_REQUESTED
    if (
        event.kind == "interaction.created"
        and event.data.get("interactionType") == "question"
        and event.data.get("toUserId")
    ):
        return NotificationEvent.QUESTION_FOR_USER
    return None


class Notifier:
    def __init__(
        self,
        db: Database,
        *,
        poll_seconds: float = 1.0,
        timeout_seconds: float = 10.0,
        grace_seconds: float = 5.0,
        concurrency: int = 8,
    ) -> None:
        self.db = db
        self.poll_seconds = poll_seconds
        self.timeout_seconds = timeout_seconds
        self.grace_seconds = grace_seconds
        self._sending = asyncio.Semaphore(concurrency)
        self._horizon: SettledHorizon | None = None
        self._task: asyncio.Task[None] | None = None
        self._sends: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._loop())

    async def stop(self) -> None:
        for task in (self._task, *self._sends):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    async def _loop(self) -> None:
        async with httpx.AsyncClient(timeout=self.timeout_seconds) as client:
            while True:
                try:
                    await asyncio.to_thread(self.collect)
                    for due in await asyncio.to_thread(self._claim):
                        task = asyncio.create_task(self._send(client, due))
                        self._sends.add(task)
                        task.add_done_callback(self._sends.discard)
                except Exception:  # a database blip: the next round tries again
                    log.warning("notifications: a round failed", exc_info=True)
                await asyncio.sleep(self.poll_seconds)

    def collect(self) -> int:
        """Turn the events past the cursor into deliveries; how many were added."""
        with self.db.session() as s:
            repo = NotificationRepository(s)
            cursor = repo.cursor()
            if cursor is None:
                return 0
            if self._horizon is None or self._horizon.horizon != cursor:
                self._horizon = SettledHorizon(cursor, self.grace_seconds)
            events = EventRepository(s).settled_after(self._horizon)
            upto = self._horizon.horizon
            if upto == cursor:
                return 0
            added = 0
            executions = ExecutionRepository(s)
            for event in events:
                kind = notification_of(event)
                if kind is None:
                    continue
                execution = executions.get(event.execution_id)
                if execution.depth > 0 and kind.value.startswith("execution."):
                    continue  # a sub-task's end is part of its parent's run
                payload = {
                    "event": kind.value,
                    "executionId": execution.id,
                    "workflowId": execution.workflow_id,
                    "executionNumber": execution.execution_number,
                    "status": execution.status.value,
                    "error": execution.error_message,
                    "triggerReason": execution.trigger_reason.value,
                    "occurredAt": event.created_at.isoformat(),
                    "data": event.data,
                }
                for notification_id in repo.subscribed(
                    user_id=event.user_id, workflow_id=execution.workflow_id, event=kind
                ):
                    repo.add_delivery(
                        notification_id=notification_id,
                        event=kind,
                        execution_id=execution.id,
                        payload={**payload, "notificationId": notification_id},
                    )
                    added += 1
            if not repo.move_cursor(seen=cursor, to=upto):
                s.rollback()  # another process took this range
                self._horizon = None
                return 0
            return added

    def _claim(self) -> list[DueDelivery]:
        with self.db.session() as s:
            return NotificationRepository(s).claim_due()

    async def _send(self, client: httpx.AsyncClient, due: DueDelivery) -> None:
        delivery, url, secret, payload = due
        body = json.dumps({**payload, "deliveryId": delivery.id}, separators=(",", ":")).encode()
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "Accord-Notifications",
            "X-Accord-Event": delivery.event.value,
            "X-Accord-Delivery": delivery.id,
            SIGNATURE_HEADER: signature(secret, body),
        }
        status: int | None = None
        error: str | None = None
        async with self._sending:
            try:
                response = await client.post(url, content=body, headers=headers)
                status = response.status_code
                if not response.is_success:
                    error = f"HTTP {status}: {response.text[:200]}"
            except httpx.HTTPError as exc:
                error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        metrics.NOTIFICATIONS.labels("delivered" if error is None else "failed").inc()
        await asyncio.to_thread(self._record, delivery.id, status, error)

    def _record(self, delivery_id: str, status: int | None, error: str | None) -> None:
        with self.db.session() as s:
            NotificationRepository(s).record_attempt(
                delivery_id, ok=error is None, response_status=status, error=error
            )
