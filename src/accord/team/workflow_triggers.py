"""A workflow file's `triggers:` block, installed with its workflow.

The file is the truth for the workflow it installs: running or installing it again leaves
the workflow with exactly the file's schedules, hooks, dependencies and notifications.
What is unchanged stays as it is (a schedule keeps its history, a hook keeps its URL and
secret); what the file no longer lists is removed; what is new is added.
"""

import os

from sqlalchemy.orm import Session

from accord.domain.errors import InvalidInput, Problem
from accord.domain.tools import MissingVariable, expand
from accord.domain.triggers import (
    HookCreated,
    NotificationCreated,
    NotificationSpec,
    ScheduleSpec,
    TriggersSpec,
)
from accord.storage.repositories.notifications import NotificationRepository
from accord.storage.repositories.triggers import TriggerRepository
from accord.storage.repositories.workflows import WorkflowRepository


def install_triggers(
    session: Session, *, user_id: str, workflow_id: str, triggers: TriggersSpec
) -> list[HookCreated | NotificationCreated]:
    """Bring the workflow's triggers in line with `triggers`; the hooks and notifications
    made now, each with its secret, to show this once. InvalidInput names the `triggers.`
    field at fault."""
    repo = TriggerRepository(session)
    _sync_schedules(repo, user_id, workflow_id, triggers.schedules)
    made: list[HookCreated | NotificationCreated] = []
    made += _sync_hooks(repo, user_id, workflow_id, triggers)
    _sync_dependencies(session, repo, user_id, workflow_id, triggers)
    made += _sync_notifications(session, user_id, workflow_id, triggers.notify)
    return made


def _key(spec: ScheduleSpec) -> str:
    return spec.model_dump_json()


def _sync_schedules(
    repo: TriggerRepository, user_id: str, workflow_id: str, wanted: list[ScheduleSpec]
) -> None:
    missing = {_key(s): s for s in wanted}
    for schedule in repo.schedules(user_id=user_id, workflow_id=workflow_id):
        key = _key(ScheduleSpec.model_validate(schedule.model_dump(include=_SPEC_FIELDS)))
        if missing.pop(key, None) is None:
            repo.remove_schedule(schedule.id, user_id=user_id)
    for spec in missing.values():
        repo.add_schedule(workflow_id=workflow_id, user_id=user_id, spec=spec)


_SPEC_FIELDS = set(ScheduleSpec.model_fields)


def _secret(value: str | None, field: str) -> str | None:
    if value is None:
        return None
    try:
        return expand(value, os.environ)
    except MissingVariable as exc:
        raise InvalidInput.of(
            field, str(exc), "set the variable, or leave the secret out"
        ) from None


def _sync_hooks(
    repo: TriggerRepository, user_id: str, workflow_id: str, triggers: TriggersSpec
) -> list[HookCreated]:
    existing = {h.name.casefold(): h for h in repo.hooks(user_id=user_id, workflow_id=workflow_id)}
    made = []
    for i, spec in enumerate(triggers.hooks):
        kept = existing.pop(spec.name.casefold(), None)
        if kept is not None and kept.model_dump(include=set(spec.model_fields) - {"secret"}) == (
            spec.model_dump(exclude={"secret"})
        ):
            continue
        if kept is not None:
            repo.remove_hook(kept.id, user_id=user_id)
        secret = _secret(spec.secret, f"triggers.hooks[{i}].secret")
        made.append(
            repo.add_hook(
                workflow_id=workflow_id,
                user_id=user_id,
                spec=spec.model_copy(update={"secret": secret}),
            )
        )
    for gone in existing.values():
        repo.remove_hook(gone.id, user_id=user_id)
    return made


def _sync_dependencies(
    session: Session,
    repo: TriggerRepository,
    user_id: str,
    workflow_id: str,
    triggers: TriggersSpec,
) -> None:
    by_name = {w.name.casefold(): w.id for w in WorkflowRepository(session).list(user_id=user_id)}
    for dependency in repo.dependencies(user_id=user_id, workflow_id=workflow_id):
        repo.remove_dependency(dependency.id, user_id=user_id)
    for i, spec in enumerate(triggers.after):
        upstream = by_name.get(spec.workflow.casefold())
        if upstream is None:
            raise InvalidInput(
                [
                    Problem(
                        f"triggers.after[{i}].workflow",
                        f"you have no workflow named {spec.workflow!r}",
                        "install that workflow first (`accord workflows create FILE`), or "
                        f"use one of: {', '.join(sorted(by_name)) or 'none yet'}",
                    )
                ]
            )
        repo.add_dependency(
            workflow_id=workflow_id, upstream_workflow_id=upstream, user_id=user_id, on=spec.on
        )


def _sync_notifications(
    session: Session, user_id: str, workflow_id: str, wanted: list[NotificationSpec]
) -> list[NotificationCreated]:
    """Match by URL and events; a subscription whose secret comes from the file is made
    again, so that a changed secret takes effect."""
    repo = NotificationRepository(session)
    existing = {
        (n.url, frozenset(n.events)): n for n in repo.list(user_id=user_id, workflow_id=workflow_id)
    }
    made = []
    for i, spec in enumerate(wanted):
        kept = existing.pop((spec.url, frozenset(spec.events)), None)
        if kept is not None and spec.secret is None:
            continue
        if kept is not None:
            repo.delete(kept.id, user_id=user_id)
        secret = _secret(spec.secret, f"triggers.notify[{i}].secret")
        made.append(
            repo.create(
                user_id=user_id,
                spec=spec.model_copy(update={"secret": secret}),
                workflow_id=workflow_id,
            )
        )
    for gone in existing.values():
        repo.delete(gone.id, user_id=user_id)
    return made
