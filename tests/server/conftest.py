"""A real Accord server on 127.0.0.1 per backend, and users with tokens to call it as.

The server runs in a thread of the test process (uvicorn, a real socket), so tests talk
HTTP to it and can also set up or inspect rows through the same database.
"""

import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import uvicorn
from support import free_port

from accord.domain.ports import StepPerformer
from accord.engine.testing import LatencyPerformer
from accord.server.app import create_app
from accord.server.settings import ServerSettings
from accord.storage.db import Database
from accord.storage.repositories.tokens import TokenRepository
from accord.storage.repositories.users import UserRepository


@dataclass
class LiveServer:
    base_url: str
    db: Database
    """The database the server uses, for setting up rows and checking what was stored."""

    def client(self, token: str | None = None) -> httpx.Client:
        headers = {} if token is None else {"Authorization": f"Bearer {token}"}
        return httpx.Client(base_url=self.base_url, headers=headers, timeout=10)


@dataclass
class ApiUser:
    id: str
    token: str
    api: httpx.Client
    """Calls `/api/v1` as this user."""


def start_live_server(
    settings: ServerSettings, performer: StepPerformer | None = None
) -> tuple[uvicorn.Server, threading.Thread]:
    app = create_app(settings, performer=performer)
    server = uvicorn.Server(
        uvicorn.Config(app, host=settings.host, port=settings.port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    return server, thread


def _live_server(
    url: str, performer: StepPerformer | None = None, **settings: Any
) -> Iterator[LiveServer]:
    port = free_port()
    server, thread = start_live_server(
        ServerSettings(database_url=url, port=port, run_engine=performer is not None, **settings),
        performer,
    )
    db = Database(url)
    try:
        yield LiveServer(base_url=f"http://127.0.0.1:{port}", db=db)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        db.dispose()


@pytest.fixture(scope="session")
def live_server(sqlite_url: str) -> Iterator[LiveServer]:
    """The server on SQLite."""
    yield from _live_server(sqlite_url)


@pytest.fixture(scope="session")
def pg_live_server(postgres_url: str) -> Iterator[LiveServer]:
    """The server on Postgres."""
    yield from _live_server(postgres_url)


@pytest.fixture(
    scope="session", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def any_live_server(request: pytest.FixtureRequest) -> LiveServer:
    """The server on each backend, for the core tests that must hold on both."""
    return request.getfixturevalue("live_server" if request.param == "sqlite" else "pg_live_server")


SLOW_STEP_S = 1.5
"""How long the step called `slow` takes in `engine_server`, long enough to act on it."""


@pytest.fixture(scope="module")
def engine_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The server running executions in-process with the engine's test performer, on a
    database of its own. Module-scoped: DBOS allows one engine per process, so it must be
    stopped before another module's engine starts."""
    state = tmp_path_factory.mktemp("engine")
    performer = LatencyPerformer(latency_s=0.05, hang={"slow": SLOW_STEP_S})
    yield from _live_server(f"sqlite:///{state / 'accord.db'}", performer, state_dir=state)


def make_user(server: LiveServer, name: str = "User") -> ApiUser:
    with server.db.session() as s:
        user = UserRepository(s).create(
            email=f"{uuid.uuid4().hex[:12]}@example.test", display_name=name
        )
        _, secret = TokenRepository(s).create(user_id=user.id, name="tests")
    return ApiUser(
        id=user.id,
        token=secret,
        api=httpx.Client(
            base_url=f"{server.base_url}/api/v1",
            timeout=10,
            headers={"Authorization": f"Bearer {secret}"},
        ),
    )


@pytest.fixture
def alice(live_server: LiveServer) -> Iterator[ApiUser]:
    user = make_user(live_server, "Alice")
    yield user
    user.api.close()


@pytest.fixture
def bob(live_server: LiveServer) -> Iterator[ApiUser]:
    user = make_user(live_server, "Bob")
    yield user
    user.api.close()


def insert_execution(db: Database, user_id: str) -> str:
    """A workflow and one execution of it, written straight to the tables, as another process
    running an execution would leave them."""
    from sqlalchemy import insert

    from accord.storage.tables import collaboration_workflows, new_id, workflow_executions

    workflow_id, execution_id = new_id(), new_id()
    with db.session() as s:
        s.execute(
            insert(collaboration_workflows).values(
                id=workflow_id,
                user_id=user_id,
                name="wf",
                description="",
                configuration={},
                participating_agents=[],
            )
        )
        s.execute(
            insert(workflow_executions).values(
                id=execution_id,
                workflow_id=workflow_id,
                execution_number=1,
                trigger_reason="manual",
                user_id=user_id,
            )
        )
    return execution_id


def append_event(
    db: Database,
    *,
    execution_id: str,
    user_id: str,
    kind: str,
    data: dict | None = None,
    step_id: str | None = None,
) -> int:
    from sqlalchemy import insert

    from accord.storage.tables import execution_events

    with db.session() as s:
        return s.execute(
            insert(execution_events)
            .values(
                execution_id=execution_id,
                user_id=user_id,
                kind=kind,
                step_id=step_id,
                data=data or {},
                created_at=time.time(),
            )
            .returning(execution_events.c.id)
        ).scalar_one()
