"""One execution, one trace: its span, a span per step attempt under it, and under each
attempt the agent's run with its model calls (GenAI semantic conventions), tool calls and
interactions. The same run's log lines (JSON) and counters are checked against it."""

import io
import json
import logging
import uuid
from pathlib import Path

import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

import accord
from accord.domain.errors import AccordError
from accord.telemetry import tracing
from accord.telemetry.logs import JsonFormatter

from .conftest import scrape_here, total


def brief_workflow() -> accord.Workflow:
    ada = accord.Agent(name="Ada", role="researcher", skills=["research"], tools=["workspace"])
    bo = accord.Agent(name="Bo", role="writer", skills=["writing"])
    return accord.Workflow(
        name="Traced brief",
        workflow_type="pipeline",
        agents=[ada, bo],
        coordinator=ada,
        steps=[
            accord.Step(id="research", name="Research the topic", agent=ada),
            accord.Step(id="write", name="Write the brief", agent=bo, depends_on=["research"]),
        ],
    )


def children(spans: list[ReadableSpan], parent: ReadableSpan) -> list[ReadableSpan]:
    return [s for s in spans if s.parent is not None and s.parent.span_id == parent.context.span_id]


def below(spans: list[ReadableSpan], top: ReadableSpan) -> list[ReadableSpan]:
    """Every span under `top`, at any depth."""
    found, frontier = [], [top]
    while frontier:
        kids = [k for f in frontier for k in children(spans, f)]
        found += kids
        frontier = kids
    return found


async def test_a_run_is_one_trace_with_its_steps_model_calls_tools_and_interactions(
    data_dir: Path, spans: InMemorySpanExporter
) -> None:
    lines = io.StringIO()
    handler = logging.StreamHandler(lines)
    handler.setFormatter(JsonFormatter())
    accord_log = logging.getLogger("accord")
    accord_log.addHandler(handler)
    level = accord_log.level
    accord_log.setLevel(logging.INFO)
    before = scrape_here()
    try:
        result = await brief_workflow().arun(inputs={"topic": "durable agent teams"})
    finally:
        accord_log.removeHandler(handler)
        accord_log.setLevel(level)
    after = scrape_here()
    assert result.completed, result.error

    finished = list(spans.get_finished_spans())
    trace_id = uuid.UUID(result.execution_id).int
    assert {s.context.trace_id for s in finished} == {trace_id}, "one trace, the execution's ID"

    [root] = [s for s in finished if s.parent is None]
    assert root.name == "execution"
    assert root.context.span_id == tracing.execution_span_id(result.execution_id)
    assert root.attributes["accord.execution.status"] == "completed"
    assert root.attributes["accord.workflow.id"] == result.workflow_id

    steps = sorted(
        (s for s in children(finished, root) if s.name.startswith("step ")), key=lambda s: s.name
    )
    assert [s.name for s in steps] == ["step research", "step write"]
    for step in steps:
        assert step.attributes["accord.execution.id"] == result.execution_id
        assert step.attributes["accord.step.attempt"] == 1
        assert step.attributes["accord.step.status"] == "completed"
        assert step.attributes["accord.agent.id"]
        assert step.status.status_code is not StatusCode.ERROR
        assert root.start_time <= step.start_time and step.end_time <= root.end_time

        inside = below(finished, step)
        [agent_run] = [s for s in children(finished, step) if s.name.startswith("invoke_agent")]
        model_calls = [s for s in inside if s.attributes.get("gen_ai.operation.name") == "chat"]
        assert model_calls, f"no model call span under {step.name}"
        for call in model_calls:
            assert call.parent is not None and call.parent.span_id == agent_run.context.span_id
            assert call.attributes["gen_ai.request.model"] == "accord-offline"
            assert call.attributes["gen_ai.usage.input_tokens"] > 0
            assert call.attributes["gen_ai.usage.output_tokens"] > 0
            # Prompts and completions stay out unless the user opts in: the messages say
            # only what kind of parts there were.
            assert "gen_ai.system_instructions" not in call.attributes
            for key in ("gen_ai.input.messages", "gen_ai.output.messages"):
                for message in json.loads(str(call.attributes[key])):
                    for part in message["parts"]:
                        assert not {"content", "arguments", "result"} & set(part), part
        tools = [s for s in inside if s.attributes.get("gen_ai.operation.name") == "execute_tool"]
        assert tools and all("gen_ai.tool.call.arguments" not in t.attributes for t in tools)
        interactions = [s for s in inside if s.name.startswith("interaction ")]
        assert "interaction task_delegation" in {s.name for s in interactions}

    research_tools = {
        s.attributes["gen_ai.tool.name"]
        for s in below(finished, steps[0])
        if s.attributes.get("gen_ai.operation.name") == "execute_tool"
    }
    assert {"workspace_list_files", "workspace_write_file"} <= research_tools

    # The model spans carry exactly the tokens the run recorded.
    chats = [s for s in finished if s.attributes.get("gen_ai.operation.name") == "chat"]
    assert len(chats) == result.usage.model_calls
    assert sum(s.attributes["gen_ai.usage.input_tokens"] for s in chats) == (
        result.usage.input_tokens
    )

    # One JSON log line per attempt, naming it and its trace.
    records = [json.loads(line) for line in lines.getvalue().splitlines()]
    ends = [r for r in records if r["logger"] == "accord.attempts"]
    assert {(r["stepId"], r["attempt"]) for r in ends} == {("research", 1), ("write", 1)}
    for r in ends:
        assert r["executionId"] == result.execution_id
        assert r["traceId"] == format(trace_id, "032x")
        assert r["level"] == "INFO" and "completed" in r["message"] and r["agentId"]

    # This process's counters moved by exactly what the run did.
    def moved(name: str, **labels: str) -> float:
        return total(after, name, **labels) - total(before, name, **labels)

    assert moved("accord_step_attempts_total", status="completed") == 2
    assert moved("accord_model_calls_total", outcome="ok") == result.usage.model_calls
    assert moved("accord_model_calls_total", outcome="error") == 0
    assert moved("accord_model_tokens_total", direction="input") == result.usage.input_tokens
    assert moved("accord_model_tokens_total", direction="output") == result.usage.output_tokens
    assert moved("accord_model_call_duration_seconds_count") == result.usage.model_calls
    assert moved("accord_tool_calls_total", toolset="workspace", outcome="ok") == 2
    for kind in {str(i.interaction_type) for i in result.interactions}:
        recorded = sum(1 for i in result.interactions if str(i.interaction_type) == kind)
        assert moved("accord_interactions_total", type=kind) == recorded, kind


async def test_prompts_and_completions_are_traced_only_when_the_user_opts_in(
    data_dir: Path, spans_with_content: InMemorySpanExporter
) -> None:
    ada = accord.Agent(name="Ada", role="researcher", skills=["research"])
    workflow = accord.Workflow(
        name="Traced with content",
        workflow_type="pipeline",
        agents=[ada],
        steps=[accord.Step(id="research", name="Research the topic", agent=ada)],
    )
    result = await workflow.arun(inputs={"topic": "tracing"})
    assert result.completed, result.error
    chats = [
        s
        for s in spans_with_content.get_finished_spans()
        if s.attributes.get("gen_ai.operation.name") == "chat"
    ]
    assert chats
    prompt = json.loads(str(chats[0].attributes["gen_ai.input.messages"]))
    assert "tracing" in json.dumps(prompt), "the step's inputs are in the traced prompt"
    assert "gen_ai.output.messages" in chats[-1].attributes


def test_tracing_is_off_without_the_otel_variables_and_imports_no_sdk() -> None:
    import subprocess
    import sys

    code = (
        "import sys, accord.telemetry.tracing as t, accord.engine.service, accord.team.runtime;"
        "assert not t.configure_from_environment();"
        "print(sorted(m for m in sys.modules if m.startswith('opentelemetry.sdk')))"
    )
    env = {"PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    assert done.stdout.strip() == "[]"


@pytest.mark.parametrize(
    ("environ", "wanted"),
    [
        ({}, False),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"}, True),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://127.0.0.1:4318/v1/traces"}, True),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://x:4318", "OTEL_SDK_DISABLED": "true"}, False),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://x:4318", "OTEL_TRACES_EXPORTER": "none"}, False),
    ],
)
def test_the_standard_variables_turn_traces_on_and_off(
    environ: dict[str, str], wanted: bool
) -> None:
    assert tracing.wanted(environ) is wanted


def test_an_unknown_protocol_is_refused_with_the_ones_that_work() -> None:
    with pytest.raises(AccordError, match="http/protobuf.*grpc"):
        tracing.configure_from_environment(
            {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://x:4318", "OTEL_EXPORTER_OTLP_PROTOCOL": "zmq"}
        )
    assert not tracing.enabled()
