"""Schedules, inbound hooks (and the deliveries they saw) and dependencies between workflows.

Hook secrets are encrypted at rest (an HMAC check needs the secret itself, not a hash) and
come out only through `hook_secret`, which the inbound route calls to check a signature.
"""

from __future__ import annotations

import builtins
import secrets
import time
from typing import Any

from sqlalchemy import Row, delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from accord.domain.errors import Conflict, InvalidInput, NotFound, Problem
from accord.domain.triggers import (
    Dependency,
    DependencyOutcome,
    Hook,
    HookCreate,
    HookCreated,
    HookSpec,
    Schedule,
    ScheduleSpec,
)
from accord.storage.repositories._convert import affected_rows, to_datetime
from accord.storage.secrets import decrypt_secret, encrypt_secret
from accord.storage.tables import (
    collaboration_workflows,
    epoch_now,
    hook_deliveries,
    new_id,
    workflow_dependencies,
    workflow_hooks,
    workflow_schedules,
)

_UPSTREAM = collaboration_workflows.alias("upstream")
_DEPENDENCIES = select(workflow_dependencies, _UPSTREAM.c.name.label("upstream_name")).join(
    _UPSTREAM, _UPSTREAM.c.id == workflow_dependencies.c.upstream_workflow_id
)
"""Dependencies with the name of the workflow each waits for."""


def hook_path(hook_id: str) -> str:
    return f"/api/v1/hooks/{hook_id}"


def _schedule(row: Row[Any]) -> Schedule:
    spec = ScheduleSpec.model_validate(row.spec)
    return Schedule(
        **spec.model_dump(exclude={"paused"}),
        paused=row.paused,
        id=row.id,
        workflow_id=row.workflow_id,
        created_at=to_datetime(row.created_at),
    )


def _hook(row: Row[Any]) -> Hook:
    return Hook(
        **HookSpec.model_validate(row.spec).model_dump(),
        id=row.id,
        workflow_id=row.workflow_id,
        url_path=hook_path(row.id),
        created_at=to_datetime(row.created_at),
    )


class TriggerRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def _check_workflow(self, workflow_id: str, user_id: str) -> str:
        name = self.session.execute(
            select(collaboration_workflows.c.name).where(
                collaboration_workflows.c.id == workflow_id,
                collaboration_workflows.c.user_id == user_id,
            )
        ).scalar_one_or_none()
        if name is None:
            raise NotFound("workflow", workflow_id)
        return str(name)

    # --- schedules ------------------------------------------------------------------------

    def add_schedule(self, *, workflow_id: str, user_id: str, spec: ScheduleSpec) -> Schedule:
        self._check_workflow(workflow_id, user_id)
        schedule_id = new_id()
        self.session.execute(
            insert(workflow_schedules).values(
                id=schedule_id,
                workflow_id=workflow_id,
                user_id=user_id,
                spec=spec.model_dump(mode="json", exclude={"paused"}),
                paused=spec.paused,
                created_at=epoch_now(),
            )
        )
        return self.schedule(schedule_id, user_id=user_id)

    def schedule(self, schedule_id: str, *, user_id: str | None = None) -> Schedule:
        query = select(workflow_schedules).where(workflow_schedules.c.id == schedule_id)
        if user_id is not None:
            query = query.where(workflow_schedules.c.user_id == user_id)
        row = self.session.execute(query).one_or_none()
        if row is None:
            raise NotFound("schedule", schedule_id)
        return _schedule(row)

    def schedule_owner(self, schedule_id: str) -> tuple[str, str] | None:
        """(workflow ID, user ID) of a schedule, None once it was removed."""
        row = self.session.execute(
            select(workflow_schedules.c.workflow_id, workflow_schedules.c.user_id).where(
                workflow_schedules.c.id == schedule_id
            )
        ).one_or_none()
        return None if row is None else (row.workflow_id, row.user_id)

    def schedules(
        self, *, user_id: str | None = None, workflow_id: str | None = None
    ) -> builtins.list[Schedule]:
        query = select(workflow_schedules).order_by(workflow_schedules.c.created_at)
        if user_id is not None:
            query = query.where(workflow_schedules.c.user_id == user_id)
        if workflow_id is not None:
            query = query.where(workflow_schedules.c.workflow_id == workflow_id)
        return [_schedule(r) for r in self.session.execute(query)]

    def set_schedule_paused(self, schedule_id: str, *, user_id: str, paused: bool) -> Schedule:
        result = self.session.execute(
            update(workflow_schedules)
            .where(workflow_schedules.c.id == schedule_id, workflow_schedules.c.user_id == user_id)
            .values(paused=paused)
        )
        if affected_rows(result) == 0:
            raise NotFound("schedule", schedule_id)
        return self.schedule(schedule_id, user_id=user_id)

    def remove_schedule(self, schedule_id: str, *, user_id: str) -> None:
        result = self.session.execute(
            delete(workflow_schedules).where(
                workflow_schedules.c.id == schedule_id, workflow_schedules.c.user_id == user_id
            )
        )
        if affected_rows(result) == 0:
            raise NotFound("schedule", schedule_id)

    # --- inbound hooks --------------------------------------------------------------------

    def add_hook(self, *, workflow_id: str, user_id: str, spec: HookCreate) -> HookCreated:
        """A new hook with the given secret or a fresh one, returned this once."""
        self._check_workflow(workflow_id, user_id)
        if any(
            h.name.casefold() == spec.name.casefold() for h in self.hooks(workflow_id=workflow_id)
        ):
            raise Conflict(f"workflow already has a hook named {spec.name!r}: choose another name")
        hook_id = new_id()
        secret = spec.secret or secrets.token_urlsafe(32)
        self.session.execute(
            insert(workflow_hooks).values(
                id=hook_id,
                workflow_id=workflow_id,
                user_id=user_id,
                spec=spec.model_dump(mode="json", exclude={"secret"}),
                encrypted_secret=encrypt_secret(secret),
                created_at=epoch_now(),
            )
        )
        hook = self.hook(hook_id, user_id=user_id)
        return HookCreated(**hook.model_dump(), secret=secret)

    def hook(self, hook_id: str, *, user_id: str | None = None) -> Hook:
        query = select(workflow_hooks).where(workflow_hooks.c.id == hook_id)
        if user_id is not None:
            query = query.where(workflow_hooks.c.user_id == user_id)
        row = self.session.execute(query).one_or_none()
        if row is None:
            raise NotFound("hook", hook_id)
        hook = _hook(row)
        hook.last_delivery_at = self._last_delivery(hook_id)
        return hook

    def hook_for_delivery(self, hook_id: str) -> tuple[Hook, str, str]:
        """The hook, its owner's user ID and its secret: for checking an inbound request."""
        row = self.session.execute(
            select(workflow_hooks).where(workflow_hooks.c.id == hook_id)
        ).one_or_none()
        if row is None:
            raise NotFound("hook", hook_id)
        return _hook(row), row.user_id, decrypt_secret(row.encrypted_secret)

    def hooks(
        self, *, user_id: str | None = None, workflow_id: str | None = None
    ) -> builtins.list[Hook]:
        query = select(workflow_hooks).order_by(workflow_hooks.c.created_at)
        if user_id is not None:
            query = query.where(workflow_hooks.c.user_id == user_id)
        if workflow_id is not None:
            query = query.where(workflow_hooks.c.workflow_id == workflow_id)
        return [_hook(r) for r in self.session.execute(query)]

    def remove_hook(self, hook_id: str, *, user_id: str) -> None:
        result = self.session.execute(
            delete(workflow_hooks).where(
                workflow_hooks.c.id == hook_id, workflow_hooks.c.user_id == user_id
            )
        )
        if affected_rows(result) == 0:
            raise NotFound("hook", hook_id)

    def record_delivery(self, hook_id: str, delivery_id: str) -> str | None:
        """Claim a delivery ID for this hook: None the first time; the execution it started (or
        "" while that start is still going) when the same delivery comes again."""
        try:
            with self.session.begin_nested():
                self.session.execute(
                    insert(hook_deliveries).values(
                        hook_id=hook_id, delivery_id=delivery_id, received_at=time.time()
                    )
                )
        except IntegrityError:
            started = self.session.execute(
                select(hook_deliveries.c.execution_id).where(
                    hook_deliveries.c.hook_id == hook_id,
                    hook_deliveries.c.delivery_id == delivery_id,
                )
            ).scalar_one()
            return started or ""
        return None

    def delivery_started(self, hook_id: str, delivery_id: str, execution_id: str) -> None:
        self.session.execute(
            update(hook_deliveries)
            .where(
                hook_deliveries.c.hook_id == hook_id, hook_deliveries.c.delivery_id == delivery_id
            )
            .values(execution_id=execution_id)
        )

    def forget_delivery(self, hook_id: str, delivery_id: str) -> None:
        """A delivery that started nothing: the sender may send it again."""
        self.session.execute(
            delete(hook_deliveries).where(
                hook_deliveries.c.hook_id == hook_id, hook_deliveries.c.delivery_id == delivery_id
            )
        )

    def recent_deliveries(self, hook_id: str, limit: int = 20) -> builtins.list[dict[str, Any]]:
        rows = self.session.execute(
            select(hook_deliveries)
            .where(hook_deliveries.c.hook_id == hook_id)
            .order_by(hook_deliveries.c.received_at.desc())
            .limit(limit)
        )
        return [
            {
                "deliveryId": r.delivery_id,
                "executionId": r.execution_id,
                "receivedAt": to_datetime(r.received_at).isoformat(),
            }
            for r in rows
        ]

    def _last_delivery(self, hook_id: str) -> Any:
        received = self.session.execute(
            select(hook_deliveries.c.received_at)
            .where(hook_deliveries.c.hook_id == hook_id)
            .order_by(hook_deliveries.c.received_at.desc())
            .limit(1)
        ).scalar_one_or_none()
        return None if received is None else to_datetime(received)

    # --- dependencies ---------------------------------------------------------------------

    def add_dependency(
        self,
        *,
        workflow_id: str,
        upstream_workflow_id: str,
        user_id: str,
        on: DependencyOutcome,
    ) -> Dependency:
        """`workflow_id` runs when `upstream_workflow_id` ends with `on`. Refused (naming the
        workflows) when it would close a cycle: a chain of runs that never ends."""
        name = self._check_workflow(workflow_id, user_id)
        upstream_name = self._check_workflow(upstream_workflow_id, user_id)
        cycle = self._path(upstream_workflow_id, workflow_id)
        if cycle is not None:
            names = [self._check_workflow(w, user_id) for w in [workflow_id, *cycle]]
            raise InvalidInput(
                [
                    Problem(
                        "after",
                        f"{name!r} after {upstream_name!r} closes a cycle: "
                        + " -> ".join(repr(n) for n in names),
                        "remove one of these dependencies so that the runs end",
                    )
                ]
            )
        dependency_id = new_id()
        try:
            with self.session.begin_nested():
                self.session.execute(
                    insert(workflow_dependencies).values(
                        id=dependency_id,
                        workflow_id=workflow_id,
                        upstream_workflow_id=upstream_workflow_id,
                        user_id=user_id,
                        outcome=DependencyOutcome(on).value,
                        created_at=epoch_now(),
                    )
                )
        except IntegrityError:
            raise Conflict(f"{name!r} already runs after {upstream_name!r}") from None
        return self.dependency(dependency_id, user_id=user_id)

    def _path(self, start: str, goal: str) -> builtins.list[str] | None:
        """Workflows from `start` up its upstreams to `goal` (a dependency of goal on start
        would close this path into a cycle), or None."""
        rows = self.session.execute(
            select(
                workflow_dependencies.c.workflow_id, workflow_dependencies.c.upstream_workflow_id
            )
        )
        upstreams: dict[str, builtins.list[str]] = {}
        for row in rows:
            upstreams.setdefault(row.workflow_id, []).append(row.upstream_workflow_id)
        stack: builtins.list[builtins.list[str]] = [[start]]
        seen = set()
        while stack:
            path = stack.pop()
            if path[-1] == goal:
                return path
            if path[-1] in seen:
                continue
            seen.add(path[-1])
            stack.extend([*path, up] for up in upstreams.get(path[-1], []))
        return None

    def dependency(self, dependency_id: str, *, user_id: str) -> Dependency:
        row = self.session.execute(
            _DEPENDENCIES.where(
                workflow_dependencies.c.id == dependency_id,
                workflow_dependencies.c.user_id == user_id,
            )
        ).one_or_none()
        if row is None:
            raise NotFound("dependency", dependency_id)
        return _dependency(row)

    def dependencies(
        self, *, user_id: str, workflow_id: str | None = None
    ) -> builtins.list[Dependency]:
        query = _DEPENDENCIES.where(workflow_dependencies.c.user_id == user_id).order_by(
            workflow_dependencies.c.created_at
        )
        if workflow_id is not None:
            query = query.where(workflow_dependencies.c.workflow_id == workflow_id)
        return [_dependency(r) for r in self.session.execute(query)]

    def has_dependencies(self) -> bool:
        return self.session.execute(select(workflow_dependencies.c.id).limit(1)).first() is not None

    def dependents(self, upstream_workflow_id: str) -> builtins.list[Dependency]:
        """The workflows that run after `upstream_workflow_id`."""
        rows = self.session.execute(
            _DEPENDENCIES.where(
                workflow_dependencies.c.upstream_workflow_id == upstream_workflow_id
            )
        )
        return [_dependency(r) for r in rows]

    def remove_dependency(self, dependency_id: str, *, user_id: str) -> None:
        result = self.session.execute(
            delete(workflow_dependencies).where(
                workflow_dependencies.c.id == dependency_id,
                workflow_dependencies.c.user_id == user_id,
            )
        )
        if affected_rows(result) == 0:
            raise NotFound("dependency", dependency_id)


def _dependency(row: Row[Any]) -> Dependency:
    return Dependency(
        id=row.id,
        workflow_id=row.workflow_id,
        user_id=row.user_id,
        upstream_workflow_id=row.upstream_workflow_id,
        upstream_workflow_name=row.upstream_name,
        on=DependencyOutcome(row.outcome),
        created_at=to_datetime(row.created_at),
    )
