"""The live view folds the event log into what a watcher sees: step states and a feed."""

from datetime import UTC, datetime

from rich.console import Console

from accord.cli.live import ExecutionView
from accord.domain.execution import ExecutionEvent, TextDelta

DEFINITION = {
    "configuration": {"steps": [{"id": "plan", "name": "Plan"}, {"id": "build", "name": "Build"}]}
}
NAMES = {"a1": "Ada", "a2": "Rex"}


def event(
    i: int,
    kind: str,
    step_id: str | None = None,
    *,
    execution_id: str = "ex",
    at: float = 1000.0,
    **data,
) -> ExecutionEvent:
    return ExecutionEvent(
        id=i,
        execution_id=execution_id,
        user_id="u",
        kind=kind,
        step_id=step_id,
        data=data,
        created_at=datetime.fromtimestamp(at, tz=UTC),
    )


def view() -> ExecutionView:
    return ExecutionView.for_definition(
        "ex", title="Demo", definition=DEFINITION, agent_names=NAMES
    )


def test_steps_follow_their_events_with_agent_attempt_time_and_tokens():
    v = view()
    v.apply(event(1, "step.started", "plan", at=1000, attempt=1, agentId="a1"))
    v.apply(
        event(
            2,
            "step.completed",
            "plan",
            at=1002.5,
            attempt=1,
            agentId="a1",
            summary="Planned",
            inputTokens=120,
            outputTokens=30,
        )
    )
    v.apply(event(3, "step.started", "build", at=1003, attempt=1, agentId="a2"))
    v.apply(event(4, "step.failed", "build", at=1004, error="boom", willRetry=True))
    v.apply(event(5, "step.started", "build", at=1005, attempt=2, agentId="a2"))
    plan, build = v.steps["plan"], v.steps["build"]
    assert (plan.status, plan.agent_id, plan.attempt) == ("completed", "a1", 1)
    assert plan.elapsed(now=9999) == 2.5 and plan.input_tokens + plan.output_tokens == 150
    assert (build.status, build.attempt) == ("running", 2)
    assert build.elapsed(now=1006) == 1.0
    assert v.last_event_id == 5
    assert list(v.feed) == [
        "Ada started Plan",
        "Ada completed Plan: Planned",
        "Rex started Build",
        "Build failed: boom",
        "Rex started Build (attempt 2)",
    ]


def test_interactions_and_knowledge_are_counted_and_fed():
    v = view()
    v.apply(
        event(
            1,
            "interaction.created",
            "plan",
            interactionType="question",
            fromAgentId="a1",
            toAgentId="a2",
            message="Which database?",
        )
    )
    v.apply(
        event(
            2,
            "interaction.answered",
            "plan",
            interactionType="question",
            fromAgentId="a1",
            toAgentId="a2",
            responseMessage="Postgres",
        )
    )
    v.apply(
        event(
            3,
            "interaction.created",
            "plan",
            interactionType="knowledge_sharing",
            fromAgentId="a2",
            message="Shared: Use WAL",
            contextData={"knowledgeIds": ["k1"]},
        )
    )
    v.apply(event(4, "knowledge.created", "plan", title="Use WAL", createdByAgentId="a2"))
    v.apply(
        event(
            5,
            "interaction.created",
            "plan",
            interactionType="knowledge_sharing",
            fromAgentId="a1",
            message="Mind the locks",
        )
    )
    v.apply(
        event(
            6,
            "interaction.created",
            "build",
            interactionType="task_delegation",
            fromAgentId="a1",
            toAgentId="a1",
            message="Assigned 'Build' to Ada: best score",
        )
    )
    assert v.interactions == {"question": 1, "knowledge_sharing": 2, "task_delegation": 1}
    assert v.knowledge_items == 1
    assert list(v.feed) == [
        "[question] Ada -> Rex: Which database?",
        "Rex answered Ada: Postgres",
        "Rex shared knowledge: Use WAL",  # once, not again as the interaction that shared it
        "[knowledge sharing] Ada: Mind the locks",
        "[task delegation] Ada: Assigned 'Build' to Ada: best score",  # not "Ada -> Ada"
    ]


def test_the_execution_status_ends_the_view_and_a_skip_is_shown():
    v = view()
    v.apply(event(1, "step.skipped", "build", reason="condition is false"))
    assert not v.finished
    v.apply(event(2, "execution.status", status="completed", previous="running"))
    assert v.finished and v.status == "completed"
    assert v.steps["build"].status == "skipped"


def test_a_cancel_ends_the_steps_still_running_or_waiting():
    v = view()
    v.apply(event(1, "step.started", "plan", attempt=1, agentId="a1"))
    v.apply(event(2, "step.cancelled", "plan", attempt=1, reason="cancelled by the user"))
    v.apply(event(3, "step.cancelled", "build", attempt=1, reason="cancelled by the user"))
    v.apply(event(4, "execution.status", status="cancelled", previous="running"))
    assert [s.status for s in v.steps.values()] == ["cancelled", "cancelled"]


def test_the_render_shows_every_step_row():
    v = view()
    v.apply(event(1, "step.started", "plan", attempt=1, agentId="a1"))
    console = Console(width=100, record=True)
    console.print(v.render(now=1001.0))
    text = console.export_text()
    assert "Plan" in text and "Build" in text and "Ada" in text and "running" in text
    assert "1.0s" in text and "Ada started Plan" in text


MARKUP = "use [/bold] and [red]x[/red] literally"
"""Model text that Rich would read as markup: a closing tag with no opening one raises."""


def test_model_text_with_markup_is_shown_literally_in_the_live_view_and_the_summary():
    from accord.cli.running import RunReport, print_summary

    v = ExecutionView.for_definition(
        "ex",
        title="Demo",
        definition={"configuration": {"steps": [{"id": "plan", "name": "Plan [/x]"}]}},
        agent_names={"a1": "Ada [/b]"},
    )
    v.apply(event(1, "step.started", "plan", attempt=1, agentId="a1"))
    v.apply(
        event(
            2,
            "interaction.created",
            "plan",
            interactionType="question",
            fromAgentId="a1",
            message=MARKUP,
        )
    )
    v.apply(event(3, "step.failed", "plan", error=MARKUP, willRetry=False))
    console = Console(width=200, record=True)
    console.print(v.render(now=1001.0))
    report = RunReport(
        {
            "executionId": "ex",
            "status": "failed",
            "error": f"step 'plan' failed: {MARKUP}",
            "usage": {
                "totalTokens": 0,
                "inputTokens": 0,
                "outputTokens": 0,
                "modelCalls": 0,
                "costUsd": 0.0,
            },
            "interactions": {},
            "knowledgeItems": 0,
            "childExecutions": 0,
            "workspace": {"files": 0, "path": "/tmp/ex"},
            "metrics": {"collaborationScore": 0, "efficiencyRating": 0, "qualityScore": 0},
        }
    )
    print_summary(console, report)
    text = console.export_text()
    assert "Plan [/x]" in text and "Ada [/b]" in text
    assert text.count(MARKUP) == 3  # two feed lines and the summary error, all verbatim


def test_a_call_waiting_for_approval_is_shown_until_decided():
    v = view()
    v.apply(event(1, "step.started", "build", attempt=1, agentId="a2"))
    requested = {
        "approvalId": "ap-123456789",
        "stepId": "build",
        "agentId": "a2",
        "agentName": "Rex",
        "server": "files",
        "tool": "write_file",
        "arguments": {"path": "notes.md", "token": "[redacted]"},
        "decision": None,
    }
    line = v.apply(event(2, "approval.requested", "build", **requested))
    assert line == (
        'Rex asks to call files.write_file {"path":"notes.md","token":"[redacted]"}: '
        "waiting for approval (accord approvals approve ap-12345)"
    )
    assert v.steps["build"].status == "awaiting approval"
    console = Console(width=120, record=True)
    console.print(v.render(now=1001.0))
    text = console.export_text()
    assert "waiting for your approval" in text and "ap-12345  Rex: files.write_file" in text

    decided = {**requested, "decision": "rejected", "reason": "not there"}
    assert v.apply(event(3, "approval.decided", "build", **decided)) == (
        "rejected files.write_file: not there"
    )
    assert v.steps["build"].status == "running" and v.pending_approvals == {}
    console = Console(width=120, record=True)
    console.print(v.render(now=1001.0))
    assert "waiting for your approval" not in console.export_text()


def delta(
    text: str,
    *,
    step: str = "plan",
    attempt: int = 1,
    call: int = 1,
    offset: int = 0,
    tool: str | None = None,
) -> TextDelta:
    return TextDelta(
        execution_id="ex",
        user_id="u",
        step_id=step,
        attempt=attempt,
        agent_id="a1",
        agent_name="Ada",
        call=call,
        part="tool_call" if tool else "text",
        tool=tool,
        offset=offset,
        text=text,
    )


def shown(v: ExecutionView) -> str:
    console = Console(width=300, record=True)
    console.print(v.render(now=1001.0))
    return console.export_text()


def test_the_text_a_running_step_s_agent_writes_grows_until_the_step_ends():
    v = view()
    v.apply(event(1, "step.started", "plan", attempt=1, agentId="a1"))
    v.write(delta("Plan: ship the [bold]CLI[/] first"))
    first = shown(v)
    assert "now writing" in first and "Ada · Plan: Plan: ship the [bold]CLI[/] first" in first
    v.write(delta(", then the server.", offset=33))
    assert "Ada · Plan: Plan: ship the [bold]CLI[/] first, then the server." in shown(v)

    # The next model call (after a tool call) starts afresh; a tool call shows its tool.
    v.write(delta('{"query": "release"}', call=2, tool="search_knowledge"))
    assert 'Ada · Plan -> search_knowledge: {"query": "release"}' in shown(v)
    v.write(delta("x" * 1000, call=3))
    assert "…" + "x" * 240 in shown(v)

    # Once the step completes its text is the recorded result: the strip goes, and late
    # pieces of that attempt do not bring it back; another execution's never show.
    v.apply(event(2, "step.completed", "plan", attempt=1, agentId="a1", summary="done"))
    v.write(delta("late", call=3, offset=1000))
    v.write(delta("elsewhere", step="build").model_copy(update={"execution_id": "other"}))
    assert "now writing" not in shown(v)


def test_a_retry_s_text_shows_even_before_its_start_is_read():
    v = view()
    v.apply(event(1, "step.started", "plan", attempt=1, agentId="a1"))
    v.apply(event(2, "step.failed", "plan", attempt=1, error="timeout", willRetry=True))
    v.write(delta("second go", attempt=2))
    assert "Ada · Plan: second go" in shown(v)
    v.apply(event(3, "step.started", "plan", attempt=2, agentId="a1"))
    assert "Ada · Plan: second go" in shown(v)
