"""`accord mcp`: an MCP client of the official SDK starts the real command as a subprocess,
speaks MCP to it over stdio, and hands a workflow to the team on the offline model."""

from pathlib import Path
from typing import Any

from mcp import Client, StdioServerParameters

from cli.conftest import ACCORD, EXAMPLES, Accord, accord_env, json_of


def structured(result: Any) -> Any:
    assert not result.is_error, result.content
    return result.structured_content


async def test_an_mcp_client_runs_a_workflow_through_accord_mcp(
    accord: Accord, data_dir: Path, tmp_path: Path
) -> None:
    accord("workflows", "create", str(EXAMPLES / "code-review.yaml"))
    server = StdioServerParameters(
        command=ACCORD, args=["mcp"], env=accord_env(data_dir), cwd=str(tmp_path)
    )
    async with Client(server, read_timeout_seconds=120) as client:
        listed = structured(await client.call_tool("list_workflows", {}))["result"]
        assert [w["name"] for w in listed] == ["Code review pipeline"]

        misspelt = await client.call_tool("start_workflow", {"workflow": "code revue pipeline"})
        assert misspelt.is_error
        assert "did you mean 'Code review pipeline'" in misspelt.content[0].text

        done = structured(
            await client.call_tool(
                "start_workflow",
                {
                    "workflow": "Code review pipeline",
                    "inputs": {"request": "add rate limiting"},
                    "wait_seconds": 90,
                },
            )
        )
        assert done["status"] == "completed" and done["finished"] is True
        assert "[offline model]" in done["finalOutput"]["document"]["summary"]

        followed = structured(
            await client.call_tool("get_execution", {"execution_id": done["executionId"]})
        )
        assert [(s["id"], s["status"]) for s in followed["steps"]] == [
            ("analyse", "completed"),
            ("implement", "completed"),
            ("document", "completed"),
        ]
        assert all(s["agent"] for s in followed["steps"])

    # The execution is the local user's, like any other: the CLI shows it.
    shown = json_of(accord("executions", "show", done["executionId"], "--json"))
    assert shown["status"] == "completed"
