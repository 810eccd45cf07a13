"""`accord triggers ...`, `accord hooks ...` and `accord notifications ...`: what starts a
workflow by itself and who hears about its runs.

Changes go to the database; a running `accord serve` or `accord worker` picks up a schedule
within seconds. A secret (a hook's, a notification's) is shown once, when it is made.
"""

from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.table import Table

from accord.cli.context import AccordApp, console, local_session, print_json, short_id
from accord.cli.terminal import plain
from accord.cli.workflow_triggers import show_new_secret
from accord.cli.workflows import find_workflow
from accord.domain.errors import AccordError, NotFound
from accord.domain.triggers import (
    CatchUp,
    DependencyOutcome,
    HookAuth,
    HookCreate,
    NotificationEvent,
    NotificationSpec,
    Overlap,
    ScheduleSpec,
)
from accord.storage.repositories.notifications import NotificationRepository
from accord.storage.repositories.triggers import TriggerRepository
from accord.storage.repositories.workflows import WorkflowRepository

app = AccordApp(no_args_is_help=True, help="Schedules and dependencies that start a workflow.")
hooks_app = AccordApp(no_args_is_help=True, help="Inbound webhooks that start a workflow.")
notifications_app = AccordApp(
    no_args_is_help=True, help="Signed webhooks Accord sends when runs end or need you."
)


def _inputs(pairs: list[str], flag: str) -> dict[str, str]:
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise AccordError(f"{flag} {pair!r} is not KEY=VALUE")
        out[key] = value
    return out


def _when(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


@app.command("list")
def list_triggers(workflow: str, json_: Annotated[bool, typer.Option("--json")] = False) -> None:
    """The workflow's schedules (with their next runs), hooks and dependencies."""
    with local_session() as (session, user_id):
        found = find_workflow(WorkflowRepository(session), workflow, user_id=user_id)
        repo = TriggerRepository(session)
        schedules = repo.schedules(user_id=user_id, workflow_id=found.id)
        hooks = repo.hooks(user_id=user_id, workflow_id=found.id)
        dependencies = repo.dependencies(user_id=user_id, workflow_id=found.id)
    now = datetime.now(UTC)
    if json_:
        print_json(
            {
                "schedules": [
                    {**s.to_json_dict(), "nextRuns": [t.isoformat() for t in s.next_times(now)]}
                    for s in schedules
                ],
                "hooks": [h.to_json_dict() for h in hooks],
                "dependencies": [d.to_json_dict() for d in dependencies],
            }
        )
        return
    table = Table("id", "kind", "when", "next run", "state")
    for s in schedules:
        when = f"cron {s.cron} ({s.timezone})" if s.cron else f"every {s.every}"
        upcoming = "-" if s.paused else _when(s.next_times(now, 1)[0])
        table.add_row(short_id(s.id), "schedule", when, upcoming, "paused" if s.paused else "on")
    for h in hooks:
        table.add_row(short_id(h.id), "hook", f"POST {h.url_path}", "-", h.auth.value)
    for d in dependencies:
        table.add_row(short_id(d.id), "after", plain(d.upstream_workflow_name), "-", d.on.value)
    if schedules or hooks or dependencies:
        console.print(table)
    else:
        console.print(f"{plain(found.name)} starts only by hand: `accord triggers add --help`.")


@app.command()
def add(
    workflow: str,
    cron: Annotated[
        str | None, typer.Option(help="Five fields: minute hour day month weekday.")
    ] = None,
    every: Annotated[str | None, typer.Option(help="An interval: 30s, 5m, 2h, 1d.")] = None,
    timezone: Annotated[str, typer.Option(help="IANA time zone of --cron.")] = "UTC",
    input_: Annotated[
        list[str] | None, typer.Option("--input", help="KEY=VALUE, an input of each run.")
    ] = None,
    catch_up: Annotated[
        CatchUp, typer.Option(help="Ticks missed while nothing ran: skip, or run once.")
    ] = CatchUp.SKIP,
    overlap: Annotated[
        Overlap, typer.Option(help="A tick while a run goes on: skip it, or queue it.")
    ] = Overlap.SKIP,
    after: Annotated[
        str | None, typer.Option(help="Instead of a schedule: run after this workflow.")
    ] = None,
    on: Annotated[
        DependencyOutcome, typer.Option(help="With --after: which ends start this one.")
    ] = DependencyOutcome.COMPLETED,
) -> None:
    """Add a schedule (--cron or --every) or a dependency (--after WORKFLOW)."""
    with local_session() as (session, user_id):
        workflows = WorkflowRepository(session)
        found = find_workflow(workflows, workflow, user_id=user_id)
        repo = TriggerRepository(session)
        if after is not None:
            upstream = find_workflow(workflows, after, user_id=user_id)
            dependency = repo.add_dependency(
                workflow_id=found.id, upstream_workflow_id=upstream.id, user_id=user_id, on=on
            )
            console.print(
                f"{plain(found.name)} now runs after {plain(upstream.name)} ({on.value}) "
                f"[dim]{dependency.id}[/]",
                highlight=False,
            )
            return
        spec = ScheduleSpec.model_validate(
            {
                "cron": cron,
                "every": every,
                "timezone": timezone,
                "inputs": _inputs(input_ or [], "--input"),
                "catchUp": catch_up,
                "overlap": overlap,
            }
        )
        schedule = repo.add_schedule(workflow_id=found.id, user_id=user_id, spec=spec)
    upcoming = ", ".join(_when(t) for t in schedule.next_times(datetime.now(UTC)))
    console.print(
        f"Scheduled {plain(found.name)} [dim]{schedule.id}[/]; next runs: {upcoming}",
        highlight=False,
    )


def _set_paused(schedule: str, paused: bool) -> None:
    with local_session() as (session, user_id):
        repo = TriggerRepository(session)
        found = _find_schedule(repo, schedule, user_id)
        repo.set_schedule_paused(found, user_id=user_id, paused=paused)
    console.print(f"Schedule {short_id(found)} {'paused' if paused else 'resumed'}")


def _find_schedule(repo: TriggerRepository, wanted: str, user_id: str) -> str:
    ids = [s.id for s in repo.schedules(user_id=user_id) if s.id.startswith(wanted)]
    if len(ids) != 1:
        raise (
            NotFound("schedule", wanted)
            if not ids
            else AccordError(f"{len(ids)} schedules match {wanted!r}; give more of the ID")
        )
    return ids[0]


@app.command()
def pause(schedule: str) -> None:
    """Stop a schedule from firing (by ID or ID prefix)."""
    _set_paused(schedule, True)


@app.command()
def resume(schedule: str) -> None:
    """Let a paused schedule fire again."""
    _set_paused(schedule, False)


@app.command()
def remove(trigger: str) -> None:
    """Remove a schedule or a dependency (by ID or ID prefix)."""
    with local_session() as (session, user_id):
        repo = TriggerRepository(session)
        dependencies = [
            d.id for d in repo.dependencies(user_id=user_id) if d.id.startswith(trigger)
        ]
        schedules = [s.id for s in repo.schedules(user_id=user_id) if s.id.startswith(trigger)]
        if len(dependencies) + len(schedules) != 1:
            raise NotFound("schedule or dependency", trigger)
        if schedules:
            repo.remove_schedule(schedules[0], user_id=user_id)
        else:
            repo.remove_dependency(dependencies[0], user_id=user_id)
    console.print(f"Removed {trigger}")


@hooks_app.command("list")
def list_hooks(workflow: str, json_: Annotated[bool, typer.Option("--json")] = False) -> None:
    """The workflow's hooks and their latest deliveries."""
    with local_session() as (session, user_id):
        found = find_workflow(WorkflowRepository(session), workflow, user_id=user_id)
        repo = TriggerRepository(session)
        hooks = [
            (h, repo.recent_deliveries(h.id, limit=5))
            for h in repo.hooks(user_id=user_id, workflow_id=found.id)
        ]
    if json_:
        print_json([{**h.to_json_dict(), "recentDeliveries": d} for h, d in hooks])
        return
    table = Table("id", "name", "url", "auth", "latest deliveries")
    for hook, deliveries in hooks:
        latest = ", ".join(
            f"{d['deliveryId'][:12]}->{short_id(d['executionId'])}" for d in deliveries
        )
        table.add_row(short_id(hook.id), plain(hook.name), hook.url_path, hook.auth.value, latest)
    console.print(table if hooks else "No hooks: `accord hooks create WORKFLOW NAME`.")


@hooks_app.command("create")
def create_hook(
    workflow: str,
    name: str,
    auth: Annotated[HookAuth, typer.Option(help="hmac (X-Hub-Signature-256) or bearer.")] = (
        HookAuth.HMAC
    ),
    input_: Annotated[
        list[str] | None,
        typer.Option("--input", help="NAME=$.path: an input taken from the request's JSON."),
    ] = None,
) -> None:
    """Make a webhook that starts the workflow; its secret is printed this once."""
    with local_session() as (session, user_id):
        found = find_workflow(WorkflowRepository(session), workflow, user_id=user_id)
        spec = HookCreate.model_validate(
            {"name": name, "auth": auth, "inputs": _inputs(input_ or [], "--input")}
        )
        made = TriggerRepository(session).add_hook(workflow_id=found.id, user_id=user_id, spec=spec)
    show_new_secret(made)


@hooks_app.command("remove")
def remove_hook(hook: str) -> None:
    with local_session() as (session, user_id):
        repo = TriggerRepository(session)
        ids = [h.id for h in repo.hooks(user_id=user_id) if h.id.startswith(hook)]
        if len(ids) != 1:
            raise NotFound("hook", hook)
        repo.remove_hook(ids[0], user_id=user_id)
    console.print(f"Removed hook {short_id(ids[0])}")


@notifications_app.command("list")
def list_notifications(json_: Annotated[bool, typer.Option("--json")] = False) -> None:
    with local_session() as (session, user_id):
        found = NotificationRepository(session).list(user_id=user_id)
    if json_:
        print_json([n.to_json_dict() for n in found])
        return
    table = Table("id", "url", "events", "workflow")
    for n in found:
        table.add_row(
            short_id(n.id),
            plain(n.url),
            ", ".join(e.value for e in n.events),
            short_id(n.workflow_id) if n.workflow_id else "all",
        )
    console.print(table if found else "No notifications: `accord notifications create URL`.")


@notifications_app.command("create")
def create_notification(
    url: str,
    event: Annotated[
        list[NotificationEvent] | None, typer.Option(help="An event to send (repeatable).")
    ] = None,
    workflow: Annotated[str | None, typer.Option(help="Only this workflow's runs.")] = None,
) -> None:
    """Send signed webhooks to URL; by default when any run of yours completes or fails."""
    events = event or [NotificationEvent.EXECUTION_COMPLETED, NotificationEvent.EXECUTION_FAILED]
    with local_session() as (session, user_id):
        workflow_id = (
            find_workflow(WorkflowRepository(session), workflow, user_id=user_id).id
            if workflow
            else None
        )
        spec = NotificationSpec.model_validate({"url": url, "events": events})
        made = NotificationRepository(session).create(
            user_id=user_id, spec=spec, workflow_id=workflow_id
        )
    show_new_secret(made)


@notifications_app.command("deliveries")
def deliveries(notification: str, json_: Annotated[bool, typer.Option("--json")] = False) -> None:
    """The latest deliveries of a notification: status, attempts, last error."""
    with local_session() as (session, user_id):
        repo = NotificationRepository(session)
        ids = [n.id for n in repo.list(user_id=user_id) if n.id.startswith(notification)]
        if len(ids) != 1:
            raise NotFound("notification", notification)
        found = repo.deliveries(ids[0], user_id=user_id)
    if json_:
        print_json([d.to_json_dict() for d in found])
        return
    table = Table("id", "event", "execution", "status", "attempts", "last error")
    for d in found:
        table.add_row(
            short_id(d.id),
            d.event.value,
            short_id(d.execution_id),
            d.status,
            str(d.attempts),
            plain(d.last_error or ""),
        )
    console.print(table if found else "Nothing delivered yet.")


@notifications_app.command("redeliver")
def redeliver(delivery: str) -> None:
    """Send a delivery again (by its full ID, from `accord notifications deliveries`)."""
    with local_session() as (session, user_id):
        again = NotificationRepository(session).redeliver(delivery, user_id=user_id)
    console.print(f"Delivery {short_id(again.id)} queued again")


@notifications_app.command("remove")
def remove_notification(notification: str) -> None:
    with local_session() as (session, user_id):
        repo = NotificationRepository(session)
        ids = [n.id for n in repo.list(user_id=user_id) if n.id.startswith(notification)]
        if len(ids) != 1:
            raise NotFound("notification", notification)
        repo.delete(ids[0], user_id=user_id)
    console.print(f"Removed notification {short_id(ids[0])}")
