"""`accord worker`: a process that runs step attempts from the shared queue (Postgres);
`accord workers list`: the processes that run steps, and whether they are alive."""

import asyncio
import logging
import time
from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from rich.table import Column, Table

from accord.cli.context import AccordApp, console, print_json, require_postgres
from accord.cli.terminal import plain
from accord.engine.liveness import failover_seconds, state_of
from accord.engine.queue import (
    EXECUTOR_ID_ENV,
    GLOBAL_CONCURRENCY_ENV,
    WORKER_CONCURRENCY_ENV,
    AttemptQueue,
)
from accord.storage.db import Database
from accord.storage.repositories.step_runs import StepRunRepository
from accord.storage.repositories.workers import WorkerRepository
from accord.team import open_database
from accord.telemetry import logs

METRICS_PORT_ENV = "ACCORD_WORKER_METRICS_PORT"
METRICS_HOST_ENV = "ACCORD_WORKER_METRICS_HOST"

workers_app = AccordApp(no_args_is_help=True, help="The processes that run steps.")


def worker(
    concurrency: Annotated[
        int,
        typer.Option(
            min=1,
            envvar=WORKER_CONCURRENCY_ENV,
            help="At most this many step attempts at once in each worker.",
        ),
    ] = AttemptQueue.worker_concurrency,
    global_concurrency: Annotated[
        int | None,
        typer.Option(
            min=1,
            envvar=GLOBAL_CONCURRENCY_ENV,
            help="At most this many step attempts at once across all workers.",
        ),
    ] = None,
    executor_id: Annotated[
        str | None,
        typer.Option(
            envvar=EXECUTOR_ID_ENV,
            help="This process's stable, unique ID (default: a free slot in the data "
            "directory, the same one after a restart).",
        ),
    ] = None,
    metrics_port: Annotated[
        int | None,
        typer.Option(
            min=0,
            max=65535,
            envvar=METRICS_PORT_ENV,
            help="Serve /metrics, /healthz and /readyz on this port (0: any free port, "
            "printed at start; default: not served).",
        ),
    ] = None,
    metrics_host: Annotated[
        str,
        typer.Option(
            envvar=METRICS_HOST_ENV,
            help="The address /metrics, /healthz and /readyz listen on (0.0.0.0 for a "
            "scraper on another machine).",
        ),
    ] = "127.0.0.1",
) -> None:
    """Run step attempts from the queue shared with `accord serve` until Ctrl-C or SIGTERM."""
    require_postgres("accord worker")
    logs.configure(logging.INFO)  # ACCORD_LOG_FORMAT=json: one JSON object per line
    database = open_database()
    queue = AttemptQueue(worker_concurrency=concurrency, global_concurrency=global_concurrency)
    probes = (metrics_host, metrics_port) if metrics_port is not None else None
    try:
        asyncio.run(_work(database, queue, executor_id, probes))
    finally:
        database.dispose()


async def _work(
    database: Database,
    queue: AttemptQueue,
    executor_id: str | None,
    probes: tuple[str, int] | None,
) -> None:
    from accord.engine.service import Engine  # the engine stack loads only when working
    from accord.engine.worker import work_until_stopped
    from accord.server.probes import ProbeServer
    from accord.team import AgentTeam

    engine = Engine(
        database, AgentTeam(database), queue=queue, role="worker", executor_id=executor_id
    )
    probe_server = None
    if probes is not None:
        host, port = probes
        probe_server = ProbeServer(database, engine, host=host, port=port)
        await asyncio.to_thread(probe_server.start)
        console.print(
            f"Metrics and health on http://{host}:{probe_server.port} "
            "(/metrics, /healthz, /readyz).",
            highlight=False,
        )

    def ready() -> None:
        limit = queue.global_concurrency
        across = f", {limit} across all workers" if limit else ""
        console.print(
            f"Accord worker [bold]{engine.executor_id}[/] is taking step attempts "
            f"(at most {queue.worker_concurrency} at once{across}). Ctrl-C to stop.",
            highlight=False,
        )

    try:
        await work_until_stopped(engine, on_ready=ready)
    finally:
        if probe_server is not None:
            await asyncio.to_thread(probe_server.stop)


@workers_app.command("list")
def list_workers(json_: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List the processes that run steps (servers, workers, `accord run`), whether each is
    alive, and how many step attempts each is running."""
    database = open_database()
    try:
        with database.read_session() as session:
            found = WorkerRepository(session).list()
            running = StepRunRepository(session).running_by_executor()
    finally:
        database.dispose()
    now, failover_s = time.time(), failover_seconds()
    rows: list[dict[str, Any]] = [
        {
            "executorId": w.executor_id,
            "role": w.role,
            "hostname": w.hostname,
            "pid": w.pid,
            "state": state_of(w.heartbeat_at, now=now, failover_s=failover_s),
            "startedAt": datetime.fromtimestamp(w.started_at, UTC).isoformat(),
            "heartbeatAgoSeconds": round(now - w.heartbeat_at, 1) if w.heartbeat_at else None,
            "runningAttempts": running.get(w.executor_id, 0),
        }
        for w in found
    ]
    if json_:
        print_json(rows)
        return
    table = Table(
        Column("executor", no_wrap=True),
        "role",
        "host",
        "pid",
        "state",
        "last heartbeat",
        "running",
    )
    for r in rows:
        ago = r["heartbeatAgoSeconds"]
        table.add_row(
            plain(r["executorId"]),
            r["role"],
            plain(r["hostname"]),
            str(r["pid"]),
            r["state"],
            "-" if ago is None else f"{ago:.0f} s ago",
            str(r["runningAttempts"]),
        )
    console.print(table if rows else "No process has run steps on this database yet.")
