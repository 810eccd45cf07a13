"""`/metrics`, `/healthz` and `/readyz`: what Prometheus, load balancers and supervisors ask.

The same three routes serve on `accord serve` (beside the API, without a token: they say
nothing about anyone's work but counts) and on each `accord worker` that is given a port
(`ProbeServer`, a small server of its own). Both read the database and the engine from their
app's state (`db`, `engine`).

- `/healthz`: 200 while the process answers at all.
- `/readyz`: 200 when the database answers, its schema is at the latest migration and the
  engine runs; otherwise 503, and the body says which check failed and why.
- `/metrics`: the Prometheus text format: this process's counters (`accord.telemetry.metrics`)
  and, on the server only, gauges read from the database (`DatabaseCollector`).
"""

import contextlib
import threading
import time
from collections.abc import Iterator
from typing import Any

import uvicorn
from anyio import to_thread
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import text
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from accord.domain.errors import AccordError
from accord.storage.db import Database
from accord.storage.migrate import current_revision, heads
from accord.storage.repositories.operations import OperationsRepository

# Imported for its side effect: it registers Accord's metrics, so that a scrape lists them
# (with their help text) before anything has happened.
from accord.telemetry import metrics as _metrics  # noqa: F401


class DatabaseCollector(Collector):
    """Gauges read from the database at each scrape: one process (the server) reports them,
    so they are not counted once per worker."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def collect(self) -> Iterator[GaugeMetricFamily]:
        with self.db.read_session() as session:
            snap = OperationsRepository(session).snapshot()
        now = time.time()
        executions = GaugeMetricFamily(
            "accord_executions",
            "Executions in the database, by workflow and status.",
            labels=["workflow_id", "workflow", "status"],
        )
        for e in snap.executions:
            executions.add_metric([e.workflow_id, e.workflow_name, e.status], e.count)
        yield executions
        yield GaugeMetricFamily(
            "accord_queue_depth",
            "Step attempts waiting to run in running executions (queued, or in a retry's backoff).",
            value=snap.queued_attempts,
        )
        yield GaugeMetricFamily(
            "accord_queue_oldest_wait_seconds",
            "How long the longest-waiting step attempt has waited to run (0 when none waits).",
            value=0.0 if snap.oldest_queued_at is None else max(0.0, now - snap.oldest_queued_at),
        )
        running = GaugeMetricFamily(
            "accord_running_attempts",
            "Step attempts running now, by the process (executor) running them.",
            labels=["executor_id"],
        )
        for executor_id, count in snap.running_by_executor.items():
            running.add_metric([executor_id], count)
        yield running
        yield GaugeMetricFamily(
            "accord_approvals_waiting",
            "Tool calls waiting for a person to approve or reject them.",
            value=snap.approvals_waiting,
        )
        ages = GaugeMetricFamily(
            "accord_process_heartbeat_age_seconds",
            "Seconds since each live process (server, worker, accord run) last heartbeat; a "
            "process that stopped cleanly is not listed.",
            labels=["executor_id", "role"],
        )
        for beat in snap.heartbeats:
            ages.add_metric([beat.executor_id, beat.role], max(0.0, now - beat.heartbeat_at))
        yield ages


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    db: Database | None = getattr(request.app.state, "db", None)
    engine: Any = getattr(request.app.state, "engine", None)
    wants_engine: bool = getattr(request.app.state, "wants_engine", True)
    checks = await to_thread.run_sync(_database_checks, db)
    if wants_engine:
        checks["engine"] = "ok" if engine is not None and engine.running else "not running"
    ready = all(v == "ok" for v in checks.values())
    return JSONResponse(
        {"status": "ready" if ready else "not ready", "checks": checks},
        status_code=200 if ready else 503,
    )


def _database_checks(db: Database | None) -> dict[str, str]:
    if db is None:
        return {"database": "not open yet"}
    try:
        with db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:  # what a load balancer needs: not ready, and why
        return {"database": f"unreachable: {type(exc).__name__}: {exc}"[:300]}
    current, latest = current_revision(db.engine), heads()
    if current not in latest:
        return {
            "database": "ok",
            "migrations": f"at {current or 'none'}, not at the latest ({', '.join(latest)}): "
            "run accord db upgrade",
        }
    return {"database": "ok", "migrations": "ok"}


async def metrics(request: Request) -> Response:
    body = await to_thread.run_sync(generate_latest, REGISTRY)
    # The app's own registry (the server's database gauges): one per app, so that two apps in
    # one process (tests) each report their own database.
    own: CollectorRegistry | None = getattr(request.app.state, "metrics_registry", None)
    if own is not None:
        body += await to_thread.run_sync(generate_latest, own)
    return PlainTextResponse(body, media_type=CONTENT_TYPE_LATEST)


def database_registry(db: Database) -> CollectorRegistry:
    """The server's database gauges, in a registry of their own (see `metrics`)."""
    registry = CollectorRegistry()
    registry.register(DatabaseCollector(db))
    return registry


ROUTES = [
    Route("/healthz", healthz, methods=["GET"], include_in_schema=False),
    Route("/readyz", readyz, methods=["GET"], include_in_schema=False),
    Route("/metrics", metrics, methods=["GET"], include_in_schema=False),
]


class ProbeServer:
    """The three routes on a port of their own, for a process without the API (a worker).

    Served by uvicorn on a thread of its own, so the worker's signal handling (SIGTERM stops
    it cleanly) stays the worker's."""

    def __init__(self, db: Database, engine: Any, *, host: str, port: int) -> None:
        app = Starlette(routes=list(ROUTES))
        app.state.db, app.state.engine, app.state.wants_engine = db, engine, True
        self._server = uvicorn.Server(
            uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="off")
        )
        self._where = f"{host}:{port}"
        self._thread = threading.Thread(target=self._serve, name="accord-probes", daemon=True)

    def _serve(self) -> None:
        # uvicorn exits (SystemExit) when it cannot bind, having logged why; `start` then
        # raises for the caller.
        with contextlib.suppress(SystemExit):
            self._server.run()

    def start(self, timeout: float = 10.0) -> None:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise AccordError(
                    f"could not serve /metrics, /healthz and /readyz on {self._where}: is the "
                    "port in use, or the address not this machine's? Pick another "
                    "--metrics-port (0: any free port)"
                )
            time.sleep(0.02)

    @property
    def port(self) -> int:
        """The port it listens on (the one picked for port 0)."""
        sockets = [s for server in self._server.servers for s in server.sockets]
        return int(sockets[0].getsockname()[1])

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=5)
