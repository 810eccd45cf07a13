"""`/mcp` on the server: the user's workflows as MCP tools over streamable HTTP, through an
MCP client of the official SDK, behind the API's bearer tokens."""

from typing import Any

import httpx
import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from server.conftest import ApiUser, LiveServer, make_user
from server.test_executions import team_workflow

INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "curl", "version": "1"},
    },
}
MCP_HEADERS = {"Accept": "application/json, text/event-stream"}


def mcp_client(server: LiveServer, token: str) -> Client:
    http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=30)
    return Client(streamable_http_client(f"{server.base_url}/mcp", http_client=http))


def structured(result: Any) -> Any:
    assert not result.is_error, result.content
    return result.structured_content


def test_a_request_without_a_valid_token_is_refused(engine_server: LiveServer) -> None:
    for headers in ({}, {"Authorization": "Bearer not-a-token"}):
        response = httpx.post(
            f"{engine_server.base_url}/mcp", json=INITIALIZE, headers=MCP_HEADERS | headers
        )
        assert response.status_code == 401, response.text
        assert response.headers["www-authenticate"] == "Bearer"
        assert response.json()["error"]["code"] == "unauthorized"


async def test_a_client_starts_a_workflow_follows_it_and_gets_its_result(
    engine_server: LiveServer,
) -> None:
    user = make_user(engine_server)
    workflow = team_workflow(user, "plan", "build")
    async with mcp_client(engine_server, user.token) as client:
        tools = {t.name for t in (await client.list_tools()).tools}
        assert {"list_workflows", "start_workflow", "get_execution", "get_result"} <= tools

        listed = structured(await client.call_tool("list_workflows", {}))["result"]
        assert [(w["id"], w["name"]) for w in listed] == [(workflow["id"], "Pipeline")]
        assert [s["id"] for s in listed[0]["steps"]] == ["plan", "build"]

        started = structured(
            await client.call_tool(
                "start_workflow", {"workflow": "pipeline", "inputs": {"topic": "rate limits"}}
            )
        )
        execution_id = started["executionId"]
        assert started["status"] == "running" and started["finished"] is False

        done = structured(
            await client.call_tool("get_result", {"execution_id": execution_id, "wait_seconds": 30})
        )
        assert done["status"] == "completed" and done["finished"] is True
        assert set(done["finalOutput"]) == {"build"}
        assert done["finalOutput"]["build"]["summary"]

        followed = structured(
            await client.call_tool("get_execution", {"execution_id": execution_id})
        )
        assert [(s["id"], s["status"]) for s in followed["steps"]] == [
            ("plan", "completed"),
            ("build", "completed"),
        ]
        kinds = [e["kind"] for e in followed["recentEvents"]]
        assert kinds[-1] == "execution.status" and "step.completed" in kinds

    # What the client started is the user's, as if started through the API.
    execution = user.api.get(f"/executions/{execution_id}").json()
    assert execution["executionContext"]["topic"] == "rate limits"


async def test_a_user_reaches_only_their_own_workflows_and_executions(
    engine_server: LiveServer,
) -> None:
    owner: ApiUser = make_user(engine_server, "Owner")
    team_workflow(owner, "only")
    started = owner.api.post(
        f"/workflows/{owner.api.get('/workflows').json()[0]['id']}/executions", json={}
    ).json()
    intruder = make_user(engine_server, "Mallory")
    async with mcp_client(engine_server, intruder.token) as client:
        assert structured(await client.call_tool("list_workflows", {}))["result"] == []
        refused = await client.call_tool("get_result", {"execution_id": started["id"]})
        assert refused.is_error and "not found" in refused.content[0].text
        unknown = await client.call_tool("start_workflow", {"workflow": "Pipeline"})
        assert unknown.is_error and "no workflow 'Pipeline'" in unknown.content[0].text
