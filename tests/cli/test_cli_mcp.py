"""`accord mcp`: an MCP client of the official SDK starts the real command as a subprocess,
speaks MCP to it over stdio, and hands a workflow to the team on the offline model: here the
folder audit, whose team reads a folder through the reference filesystem MCP server and
writes its report into the workspace, which the client then reads."""

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
    accord("workflows", "create", str(EXAMPLES / "folder-audit.yaml"))
    server = StdioServerParameters(
        command=ACCORD, args=["mcp"], env=accord_env(data_dir), cwd=str(tmp_path)
    )
    async with Client(server, read_timeout_seconds=120) as client:
        listed = structured(await client.call_tool("list_workflows", {}))["result"]
        assert [w["name"] for w in listed] == ["Folder audit"]

        misspelt = await client.call_tool("start_workflow", {"workflow": "folder audti"})
        assert misspelt.is_error
        assert "did you mean 'Folder audit'" in misspelt.content[0].text

        done = structured(
            await client.call_tool(
                "start_workflow",
                {
                    "workflow": "Folder audit",
                    "inputs": {"request": "audit the examples"},
                    "wait_seconds": 90,
                },
            )
        )
        assert done["status"] == "completed" and done["finished"] is True, done
        assert "[offline model]" in done["finalOutput"]["report"]["summary"]

        followed = structured(
            await client.call_tool("get_execution", {"execution_id": done["executionId"]})
        )
        assert [(s["id"], s["status"]) for s in followed["steps"]] == [
            ("survey", "completed"),
            ("report", "completed"),
        ]
        assert [s["agent"] for s in followed["steps"]] == ["Iris", "Theo"]
        assert followed["pendingApprovals"] == []

        files = structured(
            await client.call_tool("list_files", {"execution_id": done["executionId"]})
        )["result"]
        assert files, "the writer wrote its report into the workspace"
        report = structured(
            await client.call_tool(
                "read_file", {"execution_id": done["executionId"], "path": files[0]["path"]}
            )
        )
        assert report["size"] == files[0]["size"] and report["text"].strip()
        escape = await client.call_tool(
            "read_file", {"execution_id": done["executionId"], "path": "../../accord.db"}
        )
        assert escape.is_error

    # The execution is the local user's, like any other: the CLI shows it.
    shown = json_of(accord("executions", "show", done["executionId"], "--json"))
    assert shown["status"] == "completed"
