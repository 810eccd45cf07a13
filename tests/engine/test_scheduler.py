"""The pure scheduler: plan + attempts so far -> next actions, without any I/O."""

from datetime import UTC, datetime
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from accord.domain.agent import Agent
from accord.domain.conditions import DECISION_FIELDS, STEP_FIELDS
from accord.domain.enums import StepRunStatus, WorkflowType
from accord.domain.plan import WorkflowPlan, compile_workflow
from accord.domain.workflow import WorkflowConfiguration
from accord.engine.scheduler import (
    CompleteExecution,
    ExecutionState,
    FailExecution,
    RunView,
    SkipStep,
    StartAttempt,
    backoff_delay,
    condition_context,
    decide,
)

NOW = 1000.0
AGENT = Agent(
    id="a1",
    user_id="u",
    name="A",
    role="developer",
    created_at=datetime.now(UTC),
    updated_at=datetime.now(UTC),
)
S = StepRunStatus


def plan(
    steps: list[dict[str, Any]], workflow_type: str = "parallel", **constraints: Any
) -> WorkflowPlan:
    return compile_workflow(
        workflow_type=WorkflowType(workflow_type),
        configuration=WorkflowConfiguration.model_validate(
            {"steps": [{"name": s["id"], **s} for s in steps], "constraints": constraints}
        ),
        participating_agents=["a1"],
        coordinator_agent_id=None,
        owned_agents={"a1": AGENT},
    )


def run(step_id: str, status: StepRunStatus, attempt: int = 1, **kw: Any) -> RunView:
    return RunView(step_id=step_id, attempt=attempt, status=status, **kw)


def done(step_id: str, **data: Any) -> RunView:
    return run(step_id, S.COMPLETED, output={"summary": step_id, "output": "x", "data": data})


def state(*runs: RunView, paused: bool = False) -> ExecutionState:
    return ExecutionState(runs=list(runs), now=NOW, paused=paused)


def starts(actions: list[Any]) -> list[str]:
    return [a.step_id for a in actions if isinstance(a, StartAttempt)]


def test_pipeline_runs_one_step_at_a_time_in_order() -> None:
    p = plan([{"id": "a"}, {"id": "b"}, {"id": "c"}], "pipeline")
    assert starts(decide(p, state())) == ["a"]
    assert decide(p, state(run("a", S.RUNNING))) == []
    assert starts(decide(p, state(done("a")))) == ["b"]


def test_parallel_starts_independent_steps_up_to_the_concurrency_limit() -> None:
    p = plan([{"id": f"s{i}"} for i in range(6)], maxConcurrency=4)
    assert starts(decide(p, state())) == ["s0", "s1", "s2", "s3"]
    assert starts(decide(p, state(run("s0", S.RUNNING), done("s1")))) == ["s2", "s3", "s4"]


def test_parallel_execution_off_serialises() -> None:
    p = plan([{"id": "a"}, {"id": "b"}], allowParallelExecution=False)
    assert starts(decide(p, state())) == ["a"]
    assert decide(p, state(run("a", S.RUNNING))) == []


def test_a_step_waits_for_all_its_dependencies() -> None:
    p = plan([{"id": "a"}, {"id": "b"}, {"id": "c", "dependsOn": ["a", "b"]}])
    assert starts(decide(p, state(done("a"), run("b", S.RUNNING)))) == []
    assert starts(decide(p, state(done("a"), done("b")))) == ["c"]


def test_completion_reports_the_results_of_the_final_steps() -> None:
    p = plan([{"id": "a"}, {"id": "b", "dependsOn": ["a"]}, {"id": "c", "dependsOn": ["a"]}])
    [complete] = decide(p, state(done("a"), done("b"), done("c")))
    assert isinstance(complete, CompleteExecution)
    assert complete.final_steps == ("b", "c")


def test_false_condition_skips_and_cascades_but_a_merge_runs() -> None:
    p = plan(
        [
            {"id": "choose", "type": "decision", "decisionOptions": ["yes", "no"]},
            {
                "id": "yes",
                "dependsOn": ["choose"],
                "condition": 'decisions.choose.outcome == "yes"',
            },
            {"id": "no", "dependsOn": ["choose"], "condition": 'decisions.choose.outcome == "no"'},
            {"id": "after_no", "dependsOn": ["no"]},
            {"id": "merge", "dependsOn": ["yes", "no"]},
        ],
        "conditional",
    )
    actions = decide(p, state(done("choose", outcome="yes")))
    assert [a.step_id for a in actions if isinstance(a, SkipStep)] == ["no", "after_no"]
    assert starts(actions) == ["yes"]
    skipped = [run("no", S.SKIPPED), run("after_no", S.SKIPPED)]
    assert starts(decide(p, state(done("choose", outcome="yes"), done("yes"), *skipped))) == [
        "merge"
    ]


def test_conditions_see_step_data_and_confidence() -> None:
    p = plan(
        [
            {"id": "t"},
            {
                "id": "fix",
                "dependsOn": ["t"],
                "condition": "steps.t.data.severity in ['high'] and steps.t.confidence > 0.5",
            },
        ],
        "conditional",
    )
    high = run(
        "t",
        S.COMPLETED,
        output={"summary": "s", "output": "o", "confidence": 0.9, "data": {"severity": "high"}},
    )
    assert starts(decide(p, state(high))) == ["fix"]
    assert isinstance(decide(p, state(done("t", severity="low")))[0], SkipStep)


def test_conditions_see_exactly_the_fields_validation_accepts() -> None:
    """Validation refuses any other field, so the two lists must not drift apart."""
    p = plan([{"id": "choose", "type": "decision"}, {"id": "t"}])
    context = condition_context(p, [done("choose", outcome="approve"), done("t")])
    assert set(context["steps"]["t"]) == set(STEP_FIELDS)
    assert set(context["decisions"]["choose"]) == set(DECISION_FIELDS)


def test_failed_attempt_is_retried_with_exponential_backoff_then_fails_the_execution() -> None:
    p = plan([{"id": "a", "maxRetries": 2}])
    [retry] = decide(p, state(run("a", S.FAILED, 1, error="boom", finished_at=NOW)))
    assert retry == StartAttempt("a", 2, NOW + 1.0, None, "boom")
    [retry] = decide(p, state(run("a", S.FAILED, 2, error="boom", finished_at=NOW)))
    assert retry.attempt == 3 and retry.not_before == NOW + 2.0
    [fail] = decide(p, state(run("a", S.FAILED, 3, error="boom", finished_at=NOW)))
    assert isinstance(fail, FailExecution)
    assert "'a'" in fail.error and "boom" in fail.error and "3 attempts" in fail.error


def test_non_retryable_failure_fails_at_once() -> None:
    p = plan([{"id": "a", "maxRetries": 5}])
    [fail] = decide(p, state(run("a", S.FAILED, error="budget spent", retryable=False)))
    assert isinstance(fail, FailExecution) and "budget spent" in fail.error


def test_rework_passes_feedback_on_and_counts_against_the_retry_bound() -> None:
    p = plan([{"id": "a", "maxRetries": 1}])
    [again] = decide(p, state(run("a", S.FAILED, 1, rework_feedback="add tests")))
    assert again == StartAttempt("a", 2, None, "add tests", "review asked for changes: add tests")
    [fail] = decide(p, state(run("a", S.FAILED, 2, rework_feedback="still no tests")))
    assert isinstance(fail, FailExecution) and "still no tests" in fail.error


def test_paused_starts_nothing_new_but_completes_when_all_is_done() -> None:
    p = plan([{"id": "a"}, {"id": "b"}])
    assert decide(p, state(paused=True)) == []
    assert decide(p, state(done("a"), run("b", S.FAILED, error="x"), paused=True)) == []
    assert isinstance(decide(p, state(done("a"), done("b"), paused=True))[0], CompleteExecution)


def test_backoff_is_capped() -> None:
    assert backoff_delay(1, 1.0) == 1.0
    assert backoff_delay(3, 1.0) == 4.0
    assert backoff_delay(30, 1.0) == 60.0


@st.composite
def dags(draw: st.DrawFn) -> WorkflowPlan:
    n = draw(st.integers(1, 8))
    steps = []
    for i in range(n):
        deps = draw(st.lists(st.integers(0, i - 1), unique=True, max_size=3)) if i else []
        steps.append({"id": f"s{i}", "dependsOn": [f"s{d}" for d in deps]})
    return plan(steps, maxConcurrency=draw(st.integers(1, 4)))


@settings(max_examples=150, deadline=None)
@given(p=dags(), data=st.data())
def test_any_dag_runs_to_completion_respecting_dependencies_and_concurrency(
    p: WorkflowPlan, data: st.DataObject
) -> None:
    """Simulate: finish a random in-flight attempt, sometimes failing it, until the end."""
    runs: dict[str, RunView] = {}
    history: list[RunView] = []
    for _ in range(200):
        actions = decide(p, ExecutionState(runs=history, now=NOW))
        if actions and isinstance(actions[-1], CompleteExecution):
            assert all(r.status is S.COMPLETED for r in runs.values())
            assert len(runs) == len(p.steps)
            return
        for action in actions:
            assert isinstance(action, StartAttempt)
            sp = p.by_id[action.step_id]
            assert all(runs[d].status is S.COMPLETED for d in sp.deps)
            view = run(action.step_id, S.RUNNING, action.attempt)
            runs[action.step_id] = view
            history.append(view)
        in_flight = [r for r in runs.values() if r.status is S.RUNNING]
        assert len(in_flight) <= p.concurrency
        assert in_flight, "nothing runs, yet the execution has not ended"
        chosen = data.draw(st.sampled_from(in_flight))
        fails = chosen.attempt <= p.by_id[chosen.step_id].max_retries and data.draw(st.booleans())
        ended = run(
            chosen.step_id,
            S.FAILED if fails else S.COMPLETED,
            chosen.attempt,
            output=None if fails else {"summary": "s", "output": "o"},
            finished_at=NOW,
        )
        history[history.index(chosen)] = ended
        runs[chosen.step_id] = ended
    raise AssertionError("the execution never ended")


def test_a_skipped_branch_leaves_the_step_before_it_as_the_final_one() -> None:
    p = plan(
        [{"id": "a"}, {"id": "b", "dependsOn": ["a"], "condition": 'steps.a.status == "failed"'}],
        "conditional",
    )
    [complete] = decide(p, state(done("a"), run("b", S.SKIPPED)))
    assert isinstance(complete, CompleteExecution) and complete.final_steps == ("a",)
