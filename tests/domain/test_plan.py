"""Every validation rule of a workflow definition, each with the field it names."""

from dataclasses import FrozenInstanceError
from datetime import UTC, datetime

import pytest

from accord.domain.agent import Agent
from accord.domain.enums import StepType, WorkflowType
from accord.domain.errors import InvalidDefinition
from accord.domain.plan import WorkflowPlan, compile_workflow
from accord.domain.workflow import (
    MAX_STEPS,
    Constraints,
    Coordination,
    WorkflowConfiguration,
    WorkflowStep,
)

NOW = datetime(2026, 1, 1, tzinfo=UTC)
AGENTS = {
    a.id: a
    for a in (
        Agent(id="ana", user_id="u", name="Ana", role="Architect", created_at=NOW, updated_at=NOW),
        Agent(id="dev", user_id="u", name="Dev", role="developer", created_at=NOW, updated_at=NOW),
        Agent(id="rev", user_id="u", name="Rev", role="reviewer", created_at=NOW, updated_at=NOW),
    )
}


def step(step_id: str, **fields) -> WorkflowStep:
    return WorkflowStep(id=step_id, name=step_id.title(), **fields)


def compile_(
    steps: list[WorkflowStep],
    *,
    workflow_type: WorkflowType = WorkflowType.PARALLEL,
    participants: list[str] | None = None,
    coordinator: str | None = None,
    constraints: Constraints | None = None,
    coordination: Coordination | None = None,
    owned_workflow_ids: set[str] | None = None,
) -> WorkflowPlan:
    return compile_workflow(
        workflow_type=workflow_type,
        configuration=WorkflowConfiguration(
            steps=steps,
            constraints=constraints or Constraints(),
            coordination=coordination or Coordination(),
        ),
        participating_agents=participants if participants is not None else ["ana", "dev"],
        coordinator_agent_id=coordinator,
        owned_agents=AGENTS,
        owned_workflow_ids=owned_workflow_ids,
    )


def problems(**kwargs) -> list[tuple[str, str]]:
    steps = kwargs.pop("steps", [step("a")])
    with pytest.raises(InvalidDefinition) as caught:
        compile_(steps, **kwargs)
    error = caught.value
    assert error.code == "invalid_definition"
    assert error.details["problems"] == [p.__dict__ for p in error.problems]
    return [(p.field, p.message) for p in error.problems]


def fields(**kwargs) -> list[str]:
    return [f for f, _ in problems(**kwargs)]


# --- Valid definitions compile into a plan --------------------------------------------------


def test_a_parallel_definition_compiles_in_dependency_order():
    plan = compile_(
        [step("report", depends_on=["lint", "test"]), step("lint"), step("test")],
        coordinator="ana",
    )
    assert [p.id for p in plan.steps] == ["lint", "test", "report"]
    assert plan.by_id["report"].deps == ("lint", "test")
    assert plan.critical_path_length() == 2
    assert plan.participants == ("ana", "dev") and plan.coordinator_agent_id == "ana"
    assert plan.concurrency == 4
    with pytest.raises(FrozenInstanceError):
        plan.concurrency = 9  # type: ignore[misc]


def test_a_pipeline_runs_in_listed_order():
    plan = compile_([step("a"), step("b"), step("c")], workflow_type=WorkflowType.PIPELINE)
    assert [p.deps for p in plan.steps] == [(), ("a",), ("b",)]
    assert plan.critical_path_length() == 3


def test_one_agent_is_a_whole_team():
    plan = compile_([step("only")], participants=["dev"])
    assert plan.participants == ("dev",)


def test_retries_timeouts_and_serial_execution_come_from_constraints():
    plan = compile_(
        [step("a", timeout_minutes=1.5), step("b", max_retries=0)],
        constraints=Constraints(max_retries=4, allow_parallel_execution=False),
    )
    assert plan.by_id["a"].max_retries == 4 and plan.by_id["b"].max_retries == 0
    assert plan.by_id["a"].timeout_seconds == 90 and plan.by_id["b"].timeout_seconds is None
    assert plan.concurrency == 1


# --- Each fault, with the field it names -----------------------------------------------------


def test_duplicate_step_ids():
    found = problems(steps=[step("a"), step("b"), step("a")])
    assert found == [("configuration.steps[2].id", "step ID 'a' is also used by step 0")]


def test_depends_on_an_unknown_step():
    assert fields(steps=[step("a"), step("b", depends_on=["a", "ghost"])]) == [
        "configuration.steps[1].dependsOn[1]"
    ]


def test_depends_on_itself():
    found = problems(steps=[step("a", depends_on=["a"])])
    assert found == [("configuration.steps[0].dependsOn[0]", "step 'a' depends on itself")]


def test_a_cycle_names_every_step_on_it():
    found = problems(
        steps=[
            step("start"),
            step("a", depends_on=["start", "c"]),
            step("b", depends_on=["a"]),
            step("c", depends_on=["b"]),
        ]
    )
    assert len(found) == 1
    field, message = found[0]
    assert field.startswith("configuration.steps[") and field.endswith("].dependsOn")
    assert message.startswith("dependency cycle: ")
    cycle = message.removeprefix("dependency cycle: ").split(" -> ")
    assert cycle[0] == cycle[-1] and sorted(cycle[:-1]) == ["a", "b", "c"]


def test_preferred_agent_not_a_participant():
    assert fields(steps=[step("a"), step("b", preferred_agent_id="rev")]) == [
        "configuration.steps[1].preferredAgentId"
    ]


def test_coordinator_not_a_participant():
    assert fields(coordinator="rev") == ["coordinatorAgentId"]


def test_agent_not_owned():
    found = problems(participants=["ana", "stranger"])
    assert found == [("participatingAgents[1]", "agent 'stranger' does not exist or is not yours")]


def test_no_participants_and_duplicate_participants():
    assert fields(participants=[]) == ["participatingAgents"]
    assert fields(participants=["ana", "ana"]) == ["participatingAgents"]


def test_no_steps():
    assert problems(steps=[]) == [("configuration.steps", "the workflow has no steps")]


def test_too_many_steps():
    steps = [step(f"s{i}") for i in range(MAX_STEPS + 1)]
    assert fields(steps=steps) == ["configuration.steps"]


def test_review_with_nobody_to_review():
    assert fields(steps=[step("a", review_required=True)], participants=["dev"]) == [
        "configuration.steps[0].reviewRequired"
    ]
    # Two agents without a reviewer role: the other one reviews.
    compile_([step("a", review_required=True)], participants=["ana", "dev"])


def test_review_by_a_role_nobody_has():
    assert fields(steps=[step("a", review_required=True, reviewer_role="reviewer")]) == [
        "configuration.steps[0].reviewerRole"
    ]
    # Roles match case-insensitively.
    compile_([step("a", review_required=True, reviewer_role="ARCHITECT")])


@pytest.mark.parametrize(
    ("constraints", "coordination", "field"),
    [
        (Constraints(max_retries=-1), None, "configuration.constraints.maxRetries"),
        (Constraints(max_retries=11), None, "configuration.constraints.maxRetries"),
        (Constraints(max_execution_time=0), None, "configuration.constraints.maxExecutionTime"),
        (Constraints(max_concurrency=0), None, "configuration.constraints.maxConcurrency"),
        (Constraints(max_concurrency=65), None, "configuration.constraints.maxConcurrency"),
        (Constraints(max_depth=6), None, "configuration.constraints.maxDepth"),
        (Constraints(max_fan_out=0), None, "configuration.constraints.maxFanOut"),
        (Constraints(budget_tokens=0), None, "configuration.constraints.budgetTokens"),
        (Constraints(budget_usd=-1), None, "configuration.constraints.budgetUsd"),
        (None, Coordination(consensus_rounds=0), "configuration.coordination.consensusRounds"),
        (
            None,
            Coordination(question_deadline_minutes=0),
            "configuration.coordination.questionDeadlineMinutes",
        ),
    ],
)
def test_limits_out_of_range(constraints, coordination, field):
    found = problems(constraints=constraints, coordination=coordination)
    assert [f for f, _ in found] == [field]
    assert "out of range" in found[0][1]


def test_step_limits_out_of_range():
    assert fields(steps=[step("a", timeout_minutes=0), step("b", max_retries=99)]) == [
        "configuration.steps[0].timeoutMinutes",
        "configuration.steps[1].maxRetries",
    ]


def test_a_decision_needs_two_options_or_none():
    assert fields(steps=[step("d", type=StepType.DECISION, decision_options=["yes"])]) == [
        "configuration.steps[0].decisionOptions"
    ]
    compile_([step("d", type=StepType.DECISION, decision_options=["yes", "no"])])


def test_sub_workflows_need_a_recursive_workflow_of_the_user():
    sub = [step("a", sub_workflow_id="wf-1")]
    assert fields(steps=sub) == ["configuration.steps[0].subWorkflowId"]
    assert fields(steps=sub, workflow_type=WorkflowType.RECURSIVE, owned_workflow_ids={"wf-2"}) == [
        "configuration.steps[0].subWorkflowId"
    ]
    compile_(sub, workflow_type=WorkflowType.RECURSIVE, owned_workflow_ids={"wf-1"})


def test_conditions_are_checked_at_creation():
    conditional = WorkflowType.CONDITIONAL
    assert fields(steps=[step("a"), step("b", depends_on=["a"], condition="steps.a.ok")]) == [
        "configuration.steps[1].condition"
    ]
    for bad in ("__import__('os')", "steps.a.ok +", "steps.ghost.data.ok", "steps.c.data.ok"):
        assert fields(
            steps=[step("a"), step("b", depends_on=["a"], condition=bad), step("c")],
            workflow_type=conditional,
        ) == ["configuration.steps[1].condition"], bad
    plan = compile_(
        [step("a"), step("b", depends_on=["a"], condition="steps.a.data.go == true")],
        workflow_type=conditional,
    )
    assert plan.by_id["b"].condition is not None
    assert plan.by_id["b"].condition.evaluate({"steps": {"a": {"data": {"go": True}}}})


def condition_problems(condition: str, **decision) -> list[tuple[str, str, str]]:
    """The problems of a conditional workflow whose step `c` tests decision step `pick`."""
    steps = [
        step("pick", type=StepType.DECISION, **decision),
        step("work"),
        step("c", depends_on=["pick", "work"], condition=condition),
    ]
    try:
        compile_(steps, workflow_type=WorkflowType.CONDITIONAL)
    except InvalidDefinition as exc:
        return [(p.field, p.message, p.fix) for p in exc.problems]
    return []


def test_a_condition_reads_only_the_fields_a_step_result_has():
    assert condition_problems("steps.pick.confidnce > 0.5") == [
        (
            "configuration.steps[2].condition",
            "step 'c': steps.pick has no field 'confidnce'",
            "did you mean 'confidence'? use one of: status, summary, output, data, confidence "
            "(anything under data. is free-form, e.g. data.severity)",
        )
    ]
    assert condition_problems("steps.pick.confidence > 0.5 and steps.work.data.x") == []


def test_a_decision_outcome_is_compared_with_one_of_its_options():
    options = {"decision_options": ["bug", "feature"]}
    assert condition_problems('decisions.pick.outcome == "Bug"', **options) == [
        (
            "configuration.steps[2].condition",
            "step 'c' compares decisions.pick.outcome with 'Bug', which is not one of the "
            "options of 'pick': [bug, feature]",
            "did you mean 'bug'? compare with one of: bug, feature",
        )
    ]
    bad = 'decisions.pick.outcome in ["bug", "featur"] or decisions.pick.outcome != "chore"'
    assert [m for _, m, _ in condition_problems(bad, **options)] == [
        "step 'c' compares decisions.pick.outcome with 'featur', which is not one of the "
        "options of 'pick': [bug, feature]",
        "step 'c' compares decisions.pick.outcome with 'chore', which is not one of the "
        "options of 'pick': [bug, feature]",
    ]
    fine = 'decisions.pick.outcome in ["bug", "feature"] and "bug" != decisions.pick.outcome'
    assert condition_problems(fine, **options) == []


def test_a_decision_without_options_decides_between_the_defaults():
    [(_, message, fix)] = condition_problems('decisions.pick.outcome == "yes"')
    assert message == (
        "step 'c' compares decisions.pick.outcome with 'yes', which is not one of the "
        "options of 'pick': [approve, reject]"
    )
    assert fix == (
        "compare with one of: approve, reject (step 'pick' has no decisionOptions, so it "
        "decides between the defaults approve, reject; list its options in decisionOptions "
        "to offer others)"
    )
    assert condition_problems('decisions.pick.outcome == "approve"') == []


def test_only_a_decision_step_has_an_outcome():
    assert condition_problems('decisions.work.outcome == "approve"') == [
        (
            "configuration.steps[2].condition",
            "step 'c' tests decisions.work, but 'work' is not a decision step, so it never "
            "has an outcome",
            "test steps.work.data.<field> instead, or make 'work' a decision step",
        )
    ]


def test_every_problem_is_reported_at_once():
    found = fields(
        steps=[step("a", depends_on=["ghost"]), step("a", preferred_agent_id="rev")],
        coordinator="rev",
        constraints=Constraints(max_concurrency=0),
    )
    assert found == [
        "coordinatorAgentId",
        "configuration.constraints.maxConcurrency",
        "configuration.steps[1].id",
        "configuration.steps[0].dependsOn[0]",
        "configuration.steps[1].preferredAgentId",
    ]


def test_the_message_says_how_to_fix_it():
    with pytest.raises(InvalidDefinition) as caught:
        compile_([step("a", depends_on=["ghost"])])
    problem = caught.value.problems[0]
    assert problem.fix == "use one of: a"
    assert str(caught.value) == (
        "Invalid workflow definition: configuration.steps[0].dependsOn[0]: step 'a' depends on "
        "unknown step 'ghost' (use one of: a)"
    )
