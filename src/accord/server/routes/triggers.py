"""Triggers of a workflow (schedules, inbound hooks, dependencies) and the user's outbound
notifications with their delivery logs."""

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Request, status
from pydantic import Field

from accord.domain.base import CamelModel
from accord.domain.triggers import (
    Dependency,
    DependencyOutcome,
    Hook,
    HookCreate,
    HookCreated,
    Notification,
    NotificationCreated,
    NotificationDelivery,
    NotificationSpec,
    Schedule,
    ScheduleSpec,
)
from accord.server.access import EditAccess, ReadAccess, RunAccess
from accord.server.deps import SessionDep
from accord.server.schemas import ERROR_RESPONSES
from accord.storage.repositories.notifications import NotificationRepository
from accord.storage.repositories.triggers import TriggerRepository
from accord.storage.repositories.workflows import WorkflowRepository

router = APIRouter(tags=["triggers"], responses=ERROR_RESPONSES)


class HookWithDeliveries(Hook):
    recent_deliveries: list[dict[str, str | None]] = Field(default_factory=list)


class WorkflowTriggers(CamelModel):
    schedules: list[Schedule]
    hooks: list[HookWithDeliveries]
    dependencies: list[Dependency]
    notifications: list[Notification]


class DependencyCreate(CamelModel):
    upstream_workflow_id: Annotated[str, Field(min_length=1)]
    on: DependencyOutcome = DependencyOutcome.COMPLETED


class NotificationCreate(NotificationSpec):
    workflow_id: str | None = None
    """Only this workflow's runs; every workflow of yours when absent."""


def with_next_runs(schedule: Schedule) -> Schedule:
    if not schedule.paused:
        schedule.next_runs = schedule.next_times(datetime.now(UTC))
    return schedule


def _reconcile_soon(request: Request, tasks: BackgroundTasks) -> None:
    """Let this process's engine take a schedule change once it is committed (after the
    response), not only at its next round."""
    engine = request.app.state.engine
    if engine is not None:
        tasks.add_task(engine.triggers.reconcile)


@router.get("/workflows/{workflow_id}/triggers")
def list_triggers(workflow_id: str, access: ReadAccess, session: SessionDep) -> WorkflowTriggers:
    WorkflowRepository(session).get(workflow_id, user_id=access.owner_id)
    repo = TriggerRepository(session)
    hooks = [
        HookWithDeliveries(
            **h.model_dump(), recent_deliveries=repo.recent_deliveries(h.id, limit=10)
        )
        for h in repo.hooks(user_id=access.owner_id, workflow_id=workflow_id)
    ]
    return WorkflowTriggers(
        schedules=[
            with_next_runs(s)
            for s in repo.schedules(user_id=access.owner_id, workflow_id=workflow_id)
        ],
        hooks=hooks,
        dependencies=repo.dependencies(user_id=access.owner_id, workflow_id=workflow_id),
        notifications=NotificationRepository(session).list(
            user_id=access.owner_id, workflow_id=workflow_id
        ),
    )


@router.post("/workflows/{workflow_id}/schedules", status_code=status.HTTP_201_CREATED)
def add_schedule(
    workflow_id: str,
    body: ScheduleSpec,
    access: EditAccess,
    session: SessionDep,
    request: Request,
    tasks: BackgroundTasks,
) -> Schedule:
    """Run the workflow on a cron expression (five fields, in `timezone`) or every interval."""
    schedule = TriggerRepository(session).add_schedule(
        workflow_id=workflow_id, user_id=access.owner_id, spec=body
    )
    _reconcile_soon(request, tasks)
    return with_next_runs(schedule)


@router.post("/schedules/{schedule_id}/pause")
def pause_schedule(
    schedule_id: str,
    access: EditAccess,
    session: SessionDep,
    request: Request,
    tasks: BackgroundTasks,
) -> Schedule:
    schedule = TriggerRepository(session).set_schedule_paused(
        schedule_id, user_id=access.owner_id, paused=True
    )
    _reconcile_soon(request, tasks)
    return schedule


@router.post("/schedules/{schedule_id}/resume")
def resume_schedule(
    schedule_id: str,
    access: EditAccess,
    session: SessionDep,
    request: Request,
    tasks: BackgroundTasks,
) -> Schedule:
    schedule = TriggerRepository(session).set_schedule_paused(
        schedule_id, user_id=access.owner_id, paused=False
    )
    _reconcile_soon(request, tasks)
    return with_next_runs(schedule)


@router.delete("/schedules/{schedule_id}", status_code=status.HTTP_204_NO_CONTENT)
def remove_schedule(
    schedule_id: str,
    access: EditAccess,
    session: SessionDep,
    request: Request,
    tasks: BackgroundTasks,
) -> None:
    TriggerRepository(session).remove_schedule(schedule_id, user_id=access.owner_id)
    _reconcile_soon(request, tasks)


@router.post("/workflows/{workflow_id}/hooks", status_code=status.HTTP_201_CREATED)
def add_hook(
    workflow_id: str, body: HookCreate, access: EditAccess, session: SessionDep
) -> HookCreated:
    """A webhook that starts the workflow. Its secret (given, or made) is shown in this
    response only: sign
    requests with it (`X-Hub-Signature-256: sha256=<HMAC-SHA256 of the body>`) or send it
    as a bearer token, as the hook's `auth` says."""
    return TriggerRepository(session).add_hook(
        workflow_id=workflow_id, user_id=access.owner_id, spec=body
    )


@router.delete("/hooks/{hook_id}", status_code=status.HTTP_204_NO_CONTENT)
def remove_hook(hook_id: str, access: EditAccess, session: SessionDep) -> None:
    TriggerRepository(session).remove_hook(hook_id, user_id=access.owner_id)


@router.post("/workflows/{workflow_id}/dependencies", status_code=status.HTTP_201_CREATED)
def add_dependency(
    workflow_id: str, body: DependencyCreate, access: EditAccess, session: SessionDep
) -> Dependency:
    """Run this workflow when `upstreamWorkflowId`'s run ends `on` completed, failed or any;
    the upstream run's output comes in as `inputs.upstream`."""
    return TriggerRepository(session).add_dependency(
        workflow_id=workflow_id,
        upstream_workflow_id=body.upstream_workflow_id,
        user_id=access.owner_id,
        on=body.on,
    )


@router.delete("/dependencies/{dependency_id}", status_code=status.HTTP_204_NO_CONTENT)
def remove_dependency(dependency_id: str, access: EditAccess, session: SessionDep) -> None:
    TriggerRepository(session).remove_dependency(dependency_id, user_id=access.owner_id)


@router.get("/notifications")
def list_notifications(access: ReadAccess, session: SessionDep) -> list[Notification]:
    return NotificationRepository(session).list(user_id=access.owner_id)


@router.post("/notifications", status_code=status.HTTP_201_CREATED)
def add_notification(
    body: NotificationCreate, access: EditAccess, session: SessionDep
) -> NotificationCreated:
    """POST each listed event to `url`, signed with the secret shown in this response only
    (`X-Accord-Signature-256: sha256=<HMAC-SHA256 of the body>`)."""
    spec = NotificationSpec.model_validate(body.model_dump(exclude={"workflow_id"}))
    return NotificationRepository(session).create(
        user_id=access.owner_id, spec=spec, workflow_id=body.workflow_id
    )


@router.delete("/notifications/{notification_id}", status_code=status.HTTP_204_NO_CONTENT)
def remove_notification(notification_id: str, access: EditAccess, session: SessionDep) -> None:
    NotificationRepository(session).delete(notification_id, user_id=access.owner_id)


@router.get("/notifications/{notification_id}/deliveries")
def list_deliveries(
    notification_id: str, access: ReadAccess, session: SessionDep
) -> list[NotificationDelivery]:
    """The latest deliveries, newest first: status, attempts, last error."""
    return NotificationRepository(session).deliveries(notification_id, user_id=access.owner_id)


@router.post("/notification-deliveries/{delivery_id}/redeliver")
def redeliver(delivery_id: str, access: RunAccess, session: SessionDep) -> NotificationDelivery:
    return NotificationRepository(session).redeliver(delivery_id, user_id=access.owner_id)
