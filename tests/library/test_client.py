"""The clients of a running server: every operation of the API, typed, and checked against
its OpenAPI document; errors as exceptions; event streams that survive dropped connections."""

import asyncio
import contextlib
import inspect
import socket
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any, get_args, get_origin

import pytest
from support import free_port

import accord
from accord.library.client import sync, unasync
from accord.library.client.operations import API_PREFIX, NOT_FOR_CLIENTS, OPERATIONS
from accord.server.app import create_app
from accord.server.settings import ServerSettings
from accord.storage.db import Database
from accord.storage.repositories.tokens import TokenRepository
from accord.storage.repositories.users import UserRepository
from tests.server.conftest import start_live_server


@pytest.fixture(scope="module")
def openapi(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    url = f"sqlite:///{tmp_path_factory.mktemp('openapi') / 'accord.db'}"
    return create_app(ServerSettings(database_url=url, run_engine=False)).openapi()


def schema_name(schema: dict[str, Any]) -> str | None:
    optional = [s for s in schema.get("anyOf", []) if s.get("type") != "null"]
    if len(optional) == 1:  # an optional body: `Model | None`
        return schema_name(optional[0])
    if "$ref" in schema:
        return str(schema["$ref"]).rsplit("/", 1)[-1]
    if schema.get("type") == "array":
        return f"list[{schema_name(schema['items'])}]"
    return None


def type_name(value: Any) -> str | None:
    if value is None:
        return None
    if get_origin(value) is list:
        return f"list[{type_name(get_args(value)[0])}]"
    return str(value.__name__)


def test_the_clients_operations_are_exactly_the_apis(openapi: dict[str, Any]):
    """Every operation of `/openapi.json` (and no other) with its query parameters, request
    body and answer: a route added, changed or removed fails here until the client follows."""
    api: dict[tuple[str, str], dict[str, Any]] = {
        (method.upper(), path.removeprefix(API_PREFIX)): op
        for path, ops in openapi["paths"].items()
        if path.startswith(API_PREFIX)
        for method, op in ops.items()
        if (method.upper(), path.removeprefix(API_PREFIX)) not in NOT_FOR_CLIENTS
    }
    client = {(op.method, op.path): (name, op) for name, op in OPERATIONS.items()}
    assert sorted(client) == sorted(api)
    every = {
        (m.upper(), p.removeprefix(API_PREFIX)) for p, ops in openapi["paths"].items() for m in ops
    }
    assert set(NOT_FOR_CLIENTS) <= every  # what is left out, and why, is still in the API
    for key, spec in api.items():
        name, op = client[key]
        query = {p["name"] for p in spec.get("parameters", []) if p["in"] == "query"}
        assert set(op.query) == query, name
        body = spec.get("requestBody", {}).get("content", {}).get("application/json", {})
        assert type_name(op.body) == schema_name(body.get("schema", {})), name
        ok = next(code for code in spec["responses"] if code.startswith("2"))
        content = spec["responses"][ok].get("content", {})
        if op.stream:
            assert "text/event-stream" in content, name
        elif op.binary:
            assert "application/json" not in content and content, name
        else:
            answer = content.get("application/json", {}).get("schema", {})
            assert type_name(op.response) == schema_name(answer), name


def test_both_clients_have_a_method_for_every_operation():
    clients = accord.Client(), accord.AsyncClient()
    for name in OPERATIONS:
        group, method = name.split(".")
        blocking = getattr(getattr(clients[0], group), method)
        awaiting = getattr(getattr(clients[1], group), method)
        assert inspect.iscoroutinefunction(awaiting) or inspect.isasyncgenfunction(awaiting)
        assert not inspect.iscoroutinefunction(blocking) and inspect.getdoc(blocking)
        assert inspect.signature(blocking) == inspect.signature(awaiting).replace(
            return_annotation=inspect.signature(blocking).return_annotation
        )


def test_the_blocking_client_is_generated_from_the_async_one():
    assert Path(sync.__file__).read_text() == unasync.generate(), (
        "run: python -m accord.library.client.unasync"
    )


class DroppingProxy:
    """A TCP proxy to `port` that cuts each of the first `drops` connections after passing
    `after_bytes` bytes of the answer, as a flaky network or a restarting proxy would."""

    def __init__(self, port: int, *, drops: int, after_bytes: int) -> None:
        self.upstream = port
        self.drops = drops
        self.after_bytes = after_bytes
        self.connections = 0
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                downstream, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            limit = self.after_bytes if self.connections <= self.drops else None
            upstream = socket.create_connection(("127.0.0.1", self.upstream))
            threading.Thread(
                target=self._pump, args=(downstream, upstream, None), daemon=True
            ).start()
            threading.Thread(
                target=self._pump, args=(upstream, downstream, limit), daemon=True
            ).start()

    @staticmethod
    def _pump(source: socket.socket, target: socket.socket, limit: int | None) -> None:
        sent = 0
        try:
            while chunk := source.recv(4096):
                if limit is not None and sent + len(chunk) >= limit:
                    target.sendall(chunk[: limit - sent])
                    break
                target.sendall(chunk)
                sent += len(chunk)
        except OSError:
            pass
        for s in (source, target):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()

    def close(self) -> None:
        self.listener.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """A real server running steps on the offline team, and an API token for a user of it."""
    url = f"sqlite:///{tmp_path_factory.mktemp('server') / 'accord.db'}"
    port = free_port()
    from accord.team.runtime import AgentTeam

    database = Database(url)
    database.upgrade()
    live, thread = start_live_server(
        ServerSettings(database_url=url, port=port, run_engine=True), AgentTeam(database)
    )
    with database.session() as session:
        user = UserRepository(session).create(
            email=f"{uuid.uuid4().hex[:8]}@example.test", display_name="Client"
        )
        _, token = TokenRepository(session).create(user_id=user.id, name="client", kind="api")
    try:
        yield f"http://127.0.0.1:{port}", token
    finally:
        live.should_exit = True
        thread.join(timeout=10)
        database.dispose()


def make_workflow(client: accord.Client, name: str) -> str:
    agent = client.agents.create({"name": f"Ada {name}", "role": "developer"})
    workflow = client.workflows.create(
        {
            "name": name,
            "description": "",
            "participatingAgents": [agent.id],
            "configuration": {
                "steps": [
                    {"id": "a", "name": "A", "preferredAgentId": agent.id},
                    {"id": "b", "name": "B", "dependsOn": ["a"]},
                ]
            },
        }
    )
    return workflow.id


def test_the_blocking_client_drives_a_server(server: tuple[str, str]):
    base_url, token = server
    with accord.Client(base_url, token=token) as client:
        assert client.me.get().display_name == "Client"
        workflow_id = make_workflow(client, "Blocking")
        execution = client.workflows.start(workflow_id, inputs={"topic": "x"})
        events = list(client.executions.watch(execution.id))
        assert events[-1].kind == "execution.status" and events[-1].data["status"] == "completed"
        detail = client.executions.get(execution.id)
        assert detail.status == "completed" and [r.step_id for r in detail.step_runs] == ["a", "b"]
        assert detail.execution_context == {"topic": "x"}
        interactions = client.executions.interactions(execution.id, type="task_delegation")
        assert {i.interaction_type for i in interactions} == {"task_delegation"}
        assert client.executions.metrics(execution.id).total_interactions >= len(interactions)
        assert client.workflows.executions(workflow_id)[0].id == execution.id


def test_errors_carry_the_apis_code_problems_and_fix(server: tuple[str, str]):
    base_url, token = server
    with accord.Client(base_url, token=token) as client:
        with pytest.raises(accord.ApiError) as missing:
            client.agents.get("no-such-agent")
        assert (missing.value.status, missing.value.code) == (404, "not_found")
        with pytest.raises(accord.ValidationError) as invalid:
            client.workflows.create(
                {
                    "name": "Broken",
                    "description": "",
                    "participatingAgents": [],
                    "configuration": {"steps": [{"id": "a", "name": "A", "dependsOn": ["zz"]}]},
                }
            )
        assert (invalid.value.status, invalid.value.code) == (422, "invalid_definition")
        fields = {p.field: p.fix for p in invalid.value.problems}
        assert fields == {
            "participatingAgents": "add at least one agent ID; a one-agent workflow is fine",
            "configuration.steps[0].dependsOn[0]": "use one of: a",
        }
    with accord.Client(base_url, token="wrong") as stranger, pytest.raises(accord.ApiError) as no:
        stranger.me.get()
    assert (no.value.status, no.value.code) == (401, "unauthorized")


async def test_watch_resumes_after_dropped_connections_missing_and_repeating_nothing(
    server: tuple[str, str],
):
    base_url, token = server
    port = int(base_url.rsplit(":", 1)[1])
    proxy = DroppingProxy(port, drops=3, after_bytes=1500)
    try:
        async with accord.AsyncClient(base_url, token=token) as direct:
            blocking = accord.Client(base_url, token=token)
            workflow_id = await asyncio.to_thread(make_workflow, blocking, "Dropped")
            blocking.close()
            execution = await direct.workflows.start(workflow_id)
            async with accord.AsyncClient(f"http://127.0.0.1:{proxy.port}", token=token) as flaky:
                through_proxy = [e async for e in flaky.executions.watch(execution.id)]
            complete = [e async for e in direct.executions.watch(execution.id)]
    finally:
        proxy.close()
    assert proxy.connections >= 4  # three cut off, then one that lasted
    assert [e.id for e in through_proxy] == [e.id for e in complete]
    assert through_proxy == complete
