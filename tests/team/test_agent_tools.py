"""Agents' own tools in a step: a real MCP server (the SDK-built test server over stdio, the
reference filesystem server), each call recorded, reported and counted; allow-lists hold
even when a model asks for more; a server that cannot start or crashes fails cleanly."""

from pathlib import Path

import pytest

from accord.domain.mcp_server import McpServerCreate
from accord.llm.offline import OfflineModel
from accord.storage.repositories.events import EventRepository
from accord.storage.repositories.mcp_servers import McpServerRepository
from accord.team.attempt import AgentModel
from accord.team.runtime import AgentTeam
from accord.tools.reference import reference_server
from accord.tools.testing import counting_server

from .helpers import Durable, answer, call

STEPS = [{"id": "audit", "name": "Audit the notes", "instructions": "Record what you find."}]


def tool_events(crew):
    with crew.db.session() as s:
        events = EventRepository(s).of_execution(
            user_id=crew.user_id, execution_id=crew.execution_id
        )
    return [e.data for e in events if e.kind == "tool.called"]


def filesystem_server(*args: str) -> dict[str, object]:
    server = reference_server("filesystem", *args)
    assert server is not None, "the reference MCP servers are not installed: run ./dev setup"
    return server.to_json_dict()


def lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


@pytest.fixture
def counter(tmp_path):
    return tmp_path / "calls.txt"


async def test_a_call_is_made_once_reported_and_counted_then_replayed_without_the_server(
    make_crew, counter
):
    crew = make_crew(
        steps=STEPS,
        mcp_servers={"notes": counting_server(counter).to_json_dict()},
        tools={"Ada": ["notes"]},
    )
    ada = crew.script("Ada", call("notes_record", note="first finding"), answer())

    outcome = await crew.team().perform(crew.ctx("audit", agent="Ada"))

    assert outcome.status == "completed", outcome.error
    assert lines(counter) == ["first finding"]
    assert "recorded 'first finding'; 1 notes so far" in ada.prompt_text(1)
    assert {"notes_record", "notes_echo"} <= set(ada.offered[0])
    [event] = tool_events(crew)
    assert event | {"durationMs": 0} == {
        "stepId": "audit",
        "attempt": 1,
        "agentId": crew.id("Ada"),
        "agentName": "Ada",
        "server": "notes",
        "tool": "record",
        "arguments": {"note": "first finding"},
        "resultExcerpt": "recorded 'first finding'; 1 notes so far",
        "durationMs": 0,
        "error": None,
    }
    assert outcome.usage.tool_calls == 1 and outcome.usage.tool_seconds > 0
    assert crew.durable.names[:1] == ["knowledge:retrieve"]
    assert "tools:list:notes" in crew.durable.names and "tool:notes.record" in crew.durable.names

    # After a crash the engine replays the attempt from its records: the call is not made
    # again, and nothing is started (the command now points nowhere).
    records = crew.durable.records
    crew.durable = Durable(replaying=records)
    crew.plan.configuration.mcp_servers["notes"].command = "/nonexistent/server"
    crew.script("Ada", call("notes_record", note="first finding"), answer())
    replayed = await crew.team().perform(crew.ctx("audit", agent="Ada", attempt=2))
    assert replayed.status == "completed", replayed.error
    assert lines(counter) == ["first finding"]
    assert replayed.usage.tool_calls == 1


async def test_a_saved_server_runs_with_the_settings_it_was_saved_with(
    make_crew, db, user_id, counter
):
    # The counter's path travels in the server's env, which is stored encrypted.
    config = counting_server(counter)
    with db.session() as s:
        McpServerRepository(s).create(
            user_id=user_id,
            request=McpServerCreate(
                name="Team-Notes", command=config.command, args=config.args, env=config.env
            ),
        )
    crew = make_crew(
        steps=STEPS, mcp_servers={"notes": {"saved": "team-notes"}}, tools={"Ada": ["notes"]}
    )
    crew.script("Ada", call("notes_record", note="kept in a saved server"), answer())

    outcome = await crew.team().perform(crew.ctx("audit", agent="Ada"))

    assert outcome.status == "completed", outcome.error
    assert lines(counter) == ["kept in a saved server"]
    assert [e["server"] for e in tool_events(crew)] == ["notes"]


async def test_an_agent_sees_only_its_tools_and_a_call_outside_them_is_refused(make_crew, counter):
    crew = make_crew(
        steps=STEPS,
        mcp_servers={"notes": counting_server(counter).to_json_dict()},
        tools={"Ada": ["notes.echo"]},
    )
    ada = crew.script(
        "Ada", call("notes_record", note="sneaky"), call("notes_echo", text="hi"), answer()
    )

    outcome = await crew.team().perform(crew.ctx("audit", agent="Ada"))

    assert outcome.status == "completed", outcome.error
    assert [t for t in ada.offered[0] if t.startswith("notes_")] == ["notes_echo"]
    assert "notes_record" in ada.prompt_text(1) and "Unknown tool name" in ada.prompt_text(1)
    assert not counter.exists()
    assert [e["tool"] for e in tool_events(crew)] == ["echo"]


async def test_the_wrapper_refuses_a_tool_off_the_list_even_when_asked_directly(make_crew, counter):
    from pydantic_ai import ToolFailed

    crew = make_crew(
        steps=STEPS,
        mcp_servers={"notes": counting_server(counter).to_json_dict()},
        tools={"Ada": ["notes.echo"]},
    )
    team = crew.team()
    attempt = team._attempt(crew.ctx("audit", agent="Ada"))
    [toolset] = attempt.agent_toolsets(attempt.team[crew.id("Ada")])
    await attempt.prepare_tools([toolset])
    try:
        with pytest.raises(ToolFailed, match="notes.record is not one of the tools you may use"):
            await toolset.call_tool("notes_record", {"note": "x"}, None, None)  # type: ignore[arg-type]
    finally:
        await attempt.close()
    assert not counter.exists()
    [event] = tool_events(crew)
    assert event["tool"] == "record" and "not one of the tools" in event["error"]


async def test_a_server_that_cannot_start_fails_the_step_with_its_command_and_stderr(
    make_crew, counter
):
    crew = make_crew(
        steps=STEPS,
        mcp_servers={"notes": counting_server(counter, "--fail-on-start").to_json_dict()},
        tools={"Ada": ["notes"]},
    )
    crew.script("Ada", answer())

    outcome = await crew.team().perform(crew.ctx("audit", agent="Ada"))

    assert outcome.status == "failed"
    assert "MCP server 'notes'" in outcome.error
    assert "-m accord.tools.testing stdio --fail-on-start" in outcome.error
    assert "cannot open its database: permission denied" in outcome.error


async def test_a_crash_mid_call_is_a_tool_error_and_the_next_call_restarts_the_server(
    make_crew, counter
):
    crew = make_crew(
        steps=STEPS,
        mcp_servers={"notes": counting_server(counter).to_json_dict()},
        tools={"Ada": ["notes"]},
    )
    ada = crew.script(
        "Ada", call("notes_crash"), call("notes_record", note="after the crash"), answer()
    )

    outcome = await crew.team().perform(crew.ctx("audit", agent="Ada"))

    assert outcome.status == "completed", outcome.error
    assert "died during the call" in ada.prompt_text(1) or "failed the call" in ada.prompt_text(1)
    assert "crashing on purpose" in ada.prompt_text(1)
    assert lines(counter) == ["after the crash"]
    crashed, recorded = tool_events(crew)
    assert crashed["tool"] == "crash" and "crashing on purpose" in crashed["error"]
    assert recorded["error"] is None


async def test_limits_per_step_bound_calls_time_and_result_size(make_crew, counter):
    crew = make_crew(
        steps=STEPS,
        mcp_servers={"notes": counting_server(counter).to_json_dict()},
        tools={"Ada": ["notes"]},
        constraints={
            "maxToolCallsPerStep": 2,
            "toolCallTimeoutSeconds": 0.5,
            "maxToolResultChars": 100,
        },
    )
    ada = crew.script(
        "Ada",
        call("notes_big", chars=5000),
        call("notes_slow", seconds=5),
        call("notes_echo", text="one too many"),
        answer(),
    )

    outcome = await crew.team().perform(crew.ctx("audit", agent="Ada"))

    assert outcome.status == "completed", outcome.error
    assert "[... truncated: the result had 5,000 characters, 100 are shown" in ada.prompt_text(1)
    assert "took longer than 0.5 seconds" in ada.prompt_text(2)
    assert "made its 2 tool calls" in ada.prompt_text(3)
    assert [e["error"] is None for e in tool_events(crew)] == [True, False, False]


async def test_an_agent_reads_and_writes_through_the_reference_filesystem_server(
    make_crew, tmp_path
):
    audited = tmp_path / "project"
    audited.mkdir()
    (audited / "README.md").write_text("# Project\nTODO: write the docs\n")
    crew = make_crew(
        steps=STEPS,
        mcp_servers={"files": filesystem_server(str(audited), "${WORKSPACE}")},
        tools={"Ada": ["files.read_text_file", "files.write_file", "files.list_directory"]},
    )
    workspace = crew.workspaces / crew.execution_id
    report = str(workspace / "report.md")
    ada = crew.script(
        "Ada",
        call("files_list_directory", path=str(audited)),
        call("files_read_text_file", path=str(audited / "README.md")),
        call("files_write_file", path=report, content="One TODO found."),
        call("files_delete_everything"),
        answer(),
    )

    outcome = await crew.team().perform(crew.ctx("audit", agent="Ada"))

    assert outcome.status == "completed", outcome.error
    assert sorted(t for t in ada.offered[0] if t.startswith("files_")) == [
        "files_list_directory",
        "files_read_text_file",
        "files_write_file",
    ]
    assert "[FILE] README.md" in ada.prompt_text(1)
    assert "TODO: write the docs" in ada.prompt_text(2)
    assert (workspace / "report.md").read_text() == "One TODO found."
    assert str(workspace) in ada.prompt_text(0)  # the prompt names the workspace folder
    assert [e["tool"] for e in tool_events(crew)] == [
        "list_directory",
        "read_text_file",
        "write_file",
    ]


async def test_an_offline_agent_audits_a_folder_and_writes_its_report_to_the_workspace(
    make_crew, tmp_path
):
    audited = tmp_path / "project"
    (audited / "src").mkdir(parents=True)
    (audited / "README.md").write_text("# Project\nTODO: write the docs\n")
    (audited / "notes.txt").write_text("FIXME: flaky test\nTODO: pin versions\n")
    (audited / "logo.png").write_bytes(b"\x89PNG")
    crew = make_crew(
        steps=[
            {
                "id": "audit",
                "name": "Audit the project folder",
                "instructions": f"Audit the files in {audited} and report the open TODOs.",
            }
        ],
        mcp_servers={"files": filesystem_server(str(audited), "${WORKSPACE}")},
        tools={"Ada": ["files.list_directory", "files.read_text_file", "files.write_file"]},
    )
    team = AgentTeam(
        crew.db,
        models=lambda _agent: AgentModel(OfflineModel(seed=3)),
        workspaces=crew.workspaces,
    )

    outcome = await team.perform(crew.ctx("audit", agent="Ada"))

    assert outcome.status == "completed", outcome.error
    calls = [(e["tool"], e["arguments"].get("path")) for e in tool_events(crew)]
    report = crew.workspaces / crew.execution_id / "audit-the-project-folder.md"
    assert calls == [
        ("list_directory", str(audited)),
        ("read_text_file", str(audited / "README.md")),
        ("read_text_file", str(audited / "notes.txt")),
        ("write_file", str(report)),
    ]
    text = report.read_text()
    assert "[offline model]" in text
    assert f"`{audited / 'notes.txt'}`: 2 TODO/FIXME marker(s)" in text
    assert "## What the tools showed" in outcome.result["output"]
    # What the tools read is the step's material: its findings and summary say where the
    # markers are, and it does not claim that nothing was given.
    expected = "2 file(s) read; TODO/FIXME markers in README.md (1), notes.txt (2)"
    assert expected in outcome.result["output"].split("## Findings")[1]
    assert expected in outcome.result["summary"]
    assert "No input describes" not in outcome.result["output"]
    assert outcome.usage.tool_calls == 4


async def test_the_protocol_test_server_s_text_numbers_and_images_reach_the_model(make_crew):
    everything = reference_server("everything", "stdio")
    assert everything is not None, "the reference MCP servers are not installed: run ./dev setup"
    crew = make_crew(
        steps=STEPS,
        mcp_servers={"every": everything.to_json_dict()},
        tools={"Ada": ["every.echo", "every.get-*"]},
    )
    ada = crew.script(
        "Ada",
        call("every_echo", message="hello"),
        call("every_get-sum", a=2, b=3),
        call("every_get-tiny-image"),
        answer(),
    )

    outcome = await crew.team().perform(crew.ctx("audit", agent="Ada"))

    assert outcome.status == "completed", outcome.error
    offered = [t for t in ada.offered[0] if t.startswith("every_")]
    assert "every_echo" in offered and "every_get-sum" in offered
    assert "every_trigger-long-running-operation" not in offered  # not on the list
    assert "Echo: hello" in ada.prompt_text(1)
    assert "5" in ada.prompt_text(2)
    assert "[image/png content" in ada.prompt_text(3)
    assert [e["error"] for e in tool_events(crew)] == [None, None, None]


async def test_a_built_in_toolkit_is_recorded_like_a_server_and_a_missing_one_is_named(
    make_crew, tmp_path
):
    from pydantic_ai.toolsets import FunctionToolset

    written = tmp_path / "notes.txt"

    def workspace(attempt, agent):
        def note(text: str) -> str:
            """Keep a note in the workspace."""
            with written.open("a") as f:
                f.write(f"{agent.name}: {text}\n")
            return f"noted in {attempt.workspace.name}"

        return FunctionToolset([note])

    crew = make_crew(steps=STEPS, tools={"Ada": ["workspace"]})
    ada = crew.script("Ada", call("workspace_note", text="first"), answer())

    outcome = await crew.team(toolkits={"workspace": workspace}).perform(
        crew.ctx("audit", agent="Ada")
    )

    assert outcome.status == "completed", outcome.error
    assert written.read_text() == "Ada: first\n"
    assert f"noted in {crew.execution_id}" in ada.prompt_text(1)
    [event] = tool_events(crew)
    assert (event["server"], event["tool"], event["error"]) == ("workspace", "note", None)

    crew.durable = Durable(replaying=crew.durable.records)  # after a crash: not noted again
    crew.script("Ada", call("workspace_note", text="first"), answer())
    await crew.team(toolkits={"workspace": workspace}).perform(
        crew.ctx("audit", agent="Ada", attempt=2)
    )
    assert written.read_text() == "Ada: first\n"

    crew.script("Ada", answer())  # a version without the toolkit says so in the prompt
    bare = await crew.team(toolkits={}).perform(crew.ctx("audit", agent="Ada", attempt=3))
    assert bare.status == "completed"
    assert "the built-in toolkit 'workspace' is not available" in crew.scripts["Ada"].prompt_text(0)
