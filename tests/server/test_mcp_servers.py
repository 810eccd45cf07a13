"""Saved MCP servers over HTTP: `env` and `headers` values are encrypted at rest and never
returned, names are unique per user, and a server workflows name cannot be deleted."""

from sqlalchemy import select

from accord.domain.tools import McpServer
from accord.storage.repositories.mcp_servers import McpServerRepository
from accord.storage.tables import mcp_servers
from server.conftest import ApiUser, LiveServer, make_user


def test_secrets_are_write_only_and_encrypted_at_rest(any_live_server: LiveServer) -> None:
    live_server = any_live_server
    alice, bob = make_user(live_server, "Alice"), make_user(live_server, "Bob")
    created = alice.api.post(
        "/mcp-servers",
        json={
            "name": "github",
            "url": "https://mcp.example.test/mcp",
            "headers": {"Authorization": "Bearer ghp-secret-123"},
            "requireApproval": True,
        },
    )
    assert created.status_code == 201, created.text
    server = created.json()
    assert server["transport"] == "http"
    assert server["headers"] == {"Authorization": "********"}
    assert server["requireApproval"] is True
    assert "ghp-secret-123" not in created.text
    for response in (
        alice.api.get("/mcp-servers"),
        alice.api.get(f"/mcp-servers/{server['id']}"),
        alice.api.patch(f"/mcp-servers/{server['id']}", json={"requireApproval": False}),
    ):
        assert response.status_code == 200
        assert "ghp-secret-123" not in response.text
    with live_server.db.session() as s:
        stored = s.execute(
            select(mcp_servers.c.encrypted_headers).where(mcp_servers.c.id == server["id"])
        ).scalar_one()
        assert "ghp-secret-123" not in stored and "Authorization" not in stored
        # The tools runtime gets the values in clear, by name (ignoring case).
        resolved = McpServerRepository(s).resolve(
            {"gh": McpServer(saved="GitHub"), "local": McpServer(command="npx")},
            user_id=alice.id,
        )
    assert resolved["gh"].url == "https://mcp.example.test/mcp"
    assert resolved["gh"].headers == {"Authorization": "Bearer ghp-secret-123"}
    assert resolved["gh"].require_approval is False  # as updated above
    assert resolved["local"] == McpServer(command="npx")

    assert bob.api.get(f"/mcp-servers/{server['id']}").status_code == 404
    assert bob.api.get("/mcp-servers").json() == []


def test_names_are_unique_ignoring_case_and_configs_are_checked(alice: ApiUser) -> None:
    stdio = alice.api.post(
        "/mcp-servers",
        json={
            "name": "files",
            "command": "npx",
            "args": ["-y", "@modelcontextprotocol/server-filesystem", "${WORKSPACE}"],
            "env": {"TOKEN": "t0k3n"},
        },
    )
    assert stdio.status_code == 201
    assert stdio.json()["env"] == {"TOKEN": "********"}
    assert stdio.json()["args"][-1] == "${WORKSPACE}"  # stored as written

    twin = alice.api.post("/mcp-servers", json={"name": "FILES", "url": "http://x.test/mcp"})
    assert twin.status_code == 409
    assert "already exists" in twin.json()["error"]["message"]

    both = alice.api.post(
        "/mcp-servers", json={"name": "both", "command": "npx", "url": "http://x.test/mcp"}
    )
    assert both.status_code == 422
    assert "either `command`" in both.text
    neither = alice.api.post("/mcp-servers", json={"name": "neither"})
    assert neither.status_code == 422
    bad_name = alice.api.post("/mcp-servers", json={"name": "my files", "command": "npx"})
    assert bad_name.status_code == 422
    assert bad_name.json()["error"]["details"]["problems"][0]["field"] == "name"

    # Switching transport clears the other's fields; replacing env drops the old values.
    server_id = stdio.json()["id"]
    moved = alice.api.patch(f"/mcp-servers/{server_id}", json={"url": "https://files.test/mcp"})
    assert moved.status_code == 200, moved.text
    assert moved.json()["transport"] == "http"
    assert moved.json()["command"] is None and moved.json()["env"] == {}
    mixed = alice.api.patch(f"/mcp-servers/{server_id}", json={"env": {"A": "b"}})
    assert mixed.status_code == 422 and "stdio servers only" in mixed.text


def test_workflows_name_saved_servers_which_cannot_be_deleted_meanwhile(alice: ApiUser) -> None:
    server = alice.api.post("/mcp-servers", json={"name": "docs", "url": "http://d.test/mcp"})
    agent = alice.api.post("/agents", json={"name": "Ada", "role": "writer", "tools": ["d"]})

    def workflow(saved: str):
        return alice.api.post(
            "/workflows",
            json={
                "name": "Uses docs",
                "description": "",
                "participatingAgents": [agent.json()["id"]],
                "configuration": {
                    "steps": [{"id": "a", "name": "A"}],
                    "mcpServers": {"d": {"saved": saved, "requireApproval": True}},
                },
            },
        )

    unknown = workflow("doc")
    assert unknown.status_code == 422
    [problem] = unknown.json()["error"]["details"]["problems"]
    assert problem["field"] == "configuration.mcpServers.d.saved"
    assert "no saved MCP server named 'doc'" in problem["message"]
    assert problem["fix"].startswith("did you mean 'docs'?")

    created = workflow("Docs")
    assert created.status_code == 201, created.text
    refused = alice.api.delete(f"/mcp-servers/{server.json()['id']}")
    assert refused.status_code == 409
    assert refused.json()["error"]["details"]["workflows"] == ["Uses docs"]
    assert "Uses docs" in refused.json()["error"]["message"]

    assert alice.api.delete(f"/workflows/{created.json()['id']}").status_code == 204
    assert alice.api.delete(f"/mcp-servers/{server.json()['id']}").status_code == 204
    assert alice.api.get(f"/mcp-servers/{server.json()['id']}").status_code == 404
