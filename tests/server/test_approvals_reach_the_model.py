"""Approvals end to end over real HTTP: the agent team on a scripted model asks to call a tool
of a real MCP server marked `requireApproval`; the user approves (the tool runs, the model
reads its result) or rejects with a reason (the tool never runs, the model reads why)."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic_ai.messages import ModelRequest
from support import wait_for

from accord.llm.testing import Reply, ScriptedModel, ToolCall
from accord.storage.db import Database
from accord.team.attempt import AgentModel
from accord.team.runtime import AgentTeam
from accord.tools.testing import counting_server
from server.conftest import ApiUser, LiveServer, _live_server, make_user
from server.test_executions import TERMINAL
from server.test_executions import wait_for as wait_for_status


class Models:
    """The scripted model every agent speaks through; each test sets its script."""

    model = ScriptedModel()

    def __call__(self, _agent: object) -> AgentModel:
        return AgentModel(self.model)


MODELS = Models()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    state = tmp_path_factory.mktemp("approvals-team")
    url = f"sqlite:///{state / 'accord.db'}"
    team = AgentTeam(Database(url), models=MODELS, workspaces=state / "workspaces")
    yield from _live_server(url, team, state_dir=state)


@pytest.fixture
def user(server: LiveServer) -> Iterator[ApiUser]:
    user = make_user(server, "Alice")
    yield user
    user.api.close()


def run_waiting_for_approval(user: ApiUser, counter: Path) -> tuple[str, dict]:
    """A one-step workflow whose agent may use the `notes` server, its `record` tool marked
    requireApproval; the scripted model asks to record a note, then answers."""
    MODELS.model = ScriptedModel(
        [
            Reply.calling(ToolCall("notes_record", {"note": "ship it"})),
            Reply.output({"summary": "Recorded the finding", "output": "Done."}),
        ]
    )
    agent = user.api.post(
        "/agents", json={"name": "Ada", "role": "auditor", "tools": ["notes"]}
    ).json()
    notes = counting_server(counter).to_json_dict() | {"requireApproval": ["record"]}
    workflow = user.api.post(
        "/workflows",
        json={
            "name": "Audit",
            "description": "",
            "participatingAgents": [agent["id"]],
            "configuration": {
                "steps": [{"id": "audit", "name": "Audit", "preferredAgentId": agent["id"]}],
                "mcpServers": {"notes": notes},
            },
        },
    )
    assert workflow.status_code == 201, workflow.text
    execution = user.api.post(f"/workflows/{workflow.json()['id']}/executions", json={}).json()

    def pending() -> dict | None:
        listed = user.api.get("/approvals", params={"executionId": execution["id"]}).json()
        return next((a for a in listed if a["status"] == "pending"), None)

    return execution["id"], wait_for("the approval request", pending, timeout=30)


def tool_answer(model: ScriptedModel) -> str:
    """What the model was told about its tool call (in its second request)."""
    last = model.requests[1].messages[-1]
    assert isinstance(last, ModelRequest)
    return "\n".join(str(getattr(p, "content", "")) for p in last.parts)


def test_an_approved_call_runs_and_the_model_reads_its_result(
    user: ApiUser, tmp_path: Path
) -> None:
    counter = tmp_path / "notes.txt"
    execution_id, approval = run_waiting_for_approval(user, counter)
    assert (approval["server"], approval["tool"], approval["arguments"]) == (
        "notes",
        "record",
        {"note": "ship it"},
    )
    assert not counter.exists()  # nothing runs before the decision

    assert user.api.post(f"/approvals/{approval['id']}/approve", json={}).status_code == 200
    done = wait_for_status(user, execution_id, TERMINAL, timeout=30)
    assert done["status"] == "completed", done
    assert counter.read_text().splitlines() == ["ship it"]
    assert "recorded 'ship it'; 1 notes so far" in tool_answer(MODELS.model)


def test_a_rejected_call_never_runs_and_the_model_reads_the_reason(
    user: ApiUser, tmp_path: Path
) -> None:
    counter = tmp_path / "notes.txt"
    execution_id, approval = run_waiting_for_approval(user, counter)
    refused = user.api.post(
        f"/approvals/{approval['id']}/reject", json={"reason": "not before the review"}
    )
    assert refused.status_code == 200, refused.text
    done = wait_for_status(user, execution_id, TERMINAL, timeout=30)
    assert done["status"] == "completed", done
    assert not counter.exists()
    told = tool_answer(MODELS.model)
    assert told == "the user rejected this call: not before the review"
