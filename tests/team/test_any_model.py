"""Every example on a weak and a strong model, end to end: the fake OpenAI-compatible server
scripted as each, the real OpenAI SDK, the real engine, through `bench/models.py` (what a user
runs against Ollama or a llama.cpp server)."""

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from sqlalchemy import select

from accord.domain.agent import DETECTED_OUTPUT_MODES
from accord.domain.enums import InteractionType, ProviderKind
from accord.llm.testing import FakeOpenAIServer, Fault, strong_responder, weak_responder
from accord.storage.db import Database
from accord.storage.repositories.agents import AgentRepository
from accord.storage.repositories.interactions import InteractionRepository
from accord.storage.repositories.providers import ProviderRepository
from accord.storage.tables import agent_interactions, llm_providers
from accord.team.runtime import AgentTeam

ROOT = Path(__file__).resolve().parents[2]
FAST_RETRIES = {"retryInitialDelaySeconds": 0.001, "retryMaxDelaySeconds": 0.01}


@pytest.fixture(scope="module")
def bench() -> Iterator[ModuleType]:
    spec = importlib.util.spec_from_file_location("bench_models", ROOT / "bench" / "models.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_models"] = module
    spec.loader.exec_module(module)
    yield module
    sys.modules.pop("bench_models", None)


def run(
    bench: ModuleType,
    server: FakeOpenAIServer,
    data_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    examples: list[str | Path] | None = None,
) -> list[Any]:
    """Run `examples` (names in examples/, or paths; default: every example) on the server."""
    monkeypatch.setenv("ACCORD_DATA_DIR", str(data_dir))  # restored after the test
    return list(
        bench.run_examples(
            base_url=server.base_url,
            model="small-local-model",
            settings=FAST_RETRIES,
            examples=[ROOT / "examples" / name for name in examples] if examples else None,
            data_dir=data_dir,
            timeout_s=120,
        )
    )


def test_every_example_completes_on_a_model_whose_server_refuses_tools(
    bench: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with FakeOpenAIServer(responder=weak_responder("rejects_tools", question_rate=1.0)) as server:
        trials = run(bench, server, tmp_path, monkeypatch)

    assert [t.workflow for t in trials] == sorted(
        p.name for p in (ROOT / "examples").glob("*.yaml")
    )
    for trial in trials:
        assert trial.completed, f"{trial.workflow}: {trial.error}"
        assert trial.deliverable_chars > 0, trial.workflow
        assert set(trial.output_modes) == {"prompted"}, trial.workflow
    # Diagnosed once: the first call tried tool and native output (each refused on every
    # retry), then every later request went out without tools.
    with_tools = [r for r in server.requests if r.body.get("tools")]
    assert len(with_tools) == 2 * 4
    # Collaboration still happened, through the text protocol.
    assert sum(t.interactions.get("question", 0) for t in trials) > 0
    assert sum(t.tool_calls for t in trials) > 0
    database = Database(f"sqlite:///{tmp_path / 'bench.db'}")
    try:
        with database.session() as session:
            settings = session.execute(
                select(llm_providers.c.settings).where(llm_providers.c.name == bench.PROVIDER_NAME)
            ).scalar_one()
    finally:
        database.dispose()
    detected = settings[DETECTED_OUTPUT_MODES]["small-local-model"]
    assert detected["mode"] == "prompted"
    assert "the server rejects requests with tools" in detected["reason"]


@pytest.mark.parametrize("kind", ["drops_tools", "prose"])
def test_a_model_that_ignores_tools_and_schemas_completes_with_a_deliverable(
    bench: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    with FakeOpenAIServer(responder=weak_responder(kind)) as server:  # type: ignore[arg-type]
        trials = run(
            bench, server, tmp_path, monkeypatch, ["code-review.yaml", "conditional-triage.yaml"]
        )

    expected = {"drops_tools": "prompted", "prose": "text"}[kind]
    for trial in trials:
        assert trial.completed, f"{trial.workflow}: {trial.error}"
        assert trial.deliverable_chars > 0
        assert set(trial.output_modes) == {expected}
    assert trials[0].validation_retries > 0  # the stronger modes failed on its answers first
    assert trials[1].interactions.get("coordination", 0) >= 2  # the decision was voted on


HAND_OVER = """\
name: Hand-over
description: One agent scopes a release without being told what is in it; another verifies it.
workflowType: pipeline
agents:
  - name: Rel
    role: release manager
    skills: [planning, release]
  - name: Quinn
    role: tester
    skills: [testing]
steps:
  - id: scope
    name: Scope the release
    type: coordination
    agent: Rel
    instructions: List what goes into version 1.2.
  - id: verify
    name: Verify the release
    type: testing
    dependsOn: [scope]
    agent: Quinn
"""
"""Feedback is called for when an earlier result by another agent left a point open. No
example leaves one (each step has the material or tools it needs), so this workflow does: no
input says what the release holds. Both agents are pinned, as who gets a step is otherwise
the coordinator's or the score's choice, which may give both steps to one agent."""


def test_a_strong_model_chooses_every_kind_of_collaboration_with_parallel_calls(
    bench: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hand_over = tmp_path / "hand-over.yaml"
    hand_over.write_text(HAND_OVER)
    examples: list[str | Path] = sorted(p.name for p in (ROOT / "examples").glob("*.yaml"))
    responder = strong_responder(question_rate=1.0, feedback_rate=1.0, delegate_rate=1.0)
    with FakeOpenAIServer(responder=responder) as server:
        # Every example and the hand-over: the planner behind this model collaborates where
        # the content calls for it (a gap to ask about, an open point to give feedback on),
        # not in every step.
        trials = run(bench, server, tmp_path, monkeypatch, [*examples, hand_over])

    for trial in trials:
        assert trial.completed, trial.error
        assert set(trial.output_modes) == {"tool"}  # its sub-tasks too
    # A response that asked for several tools at once, answered in one go.
    parallel = [
        m
        for r in server.requests
        for m in r.body["messages"]
        if m.get("role") == "assistant" and len(m.get("tool_calls") or []) > 1
    ]
    assert parallel
    database = Database(f"sqlite:///{tmp_path / 'bench.db'}")
    try:
        with database.session() as session:
            rows = session.execute(agent_interactions.select()).mappings().all()
            chosen = [InteractionRepository(session).get(row["id"]) for row in rows]
    finally:
        database.dispose()
    by_kind = {kind: [i for i in chosen if i.interaction_type is kind] for kind in InteractionType}
    # Each kind appears because the model called its tool, not as the engine's own records
    # (assignments, review verdicts, insights copied from results).
    shared = by_kind[InteractionType.KNOWLEDGE_SHARING]
    assert any(i.message.startswith("Shared knowledge:") for i in shared)
    delegated = by_kind[InteractionType.TASK_DELEGATION]
    assert any(i.message.startswith("Delegated sub-task:") for i in delegated)
    assert by_kind[InteractionType.QUESTION]
    assert all(q.response_message for q in by_kind[InteractionType.QUESTION])  # answered
    feedback = by_kind[InteractionType.FEEDBACK]
    chosen_feedback = [i for i in feedback if "review" not in (i.context_data or {})]
    # The verifier tells the scope's author what their result left open.
    assert any(
        "Your `scope` result left open" in i.message and i.to_agent_id != i.from_agent_id
        for i in chosen_feedback
    )


async def test_a_timed_out_call_fails_the_attempt_with_its_tokens_estimated_and_recorded(
    make_crew: Any, db: Database, user_id: str
) -> None:
    crew = make_crew(steps=[{"id": "build", "name": "Build"}])
    with FakeOpenAIServer([Fault.delay(5.0)]) as server:
        with db.session() as session:
            provider = ProviderRepository(session).create(
                user_id=user_id,
                name=f"slow-{crew.workflow_id[:8]}",
                kind=ProviderKind.OPENAI_COMPATIBLE,
                default_model="slow",
                base_url=server.base_url,
                settings={"timeoutSeconds": 0.3, "maxTokens": 500, "outputMode": "prompted"},
            )
            AgentRepository(session).update(
                crew.id("Ada"), user_id=user_id, llm_provider_id=provider.id
            )
        outcome = await AgentTeam(db).perform(crew.ctx("build", agent="Ada"))
        assert server.received(1) == 1

    assert outcome.status == "failed" and not outcome.retryable
    assert "timed out" in (outcome.error or "")
    # The server read the prompt and wrote until cut off: that is counted, not dropped.
    assert outcome.usage.model_calls == 1
    assert outcome.usage.input_tokens > 100 and outcome.usage.output_tokens == 500
