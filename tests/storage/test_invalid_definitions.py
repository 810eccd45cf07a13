"""Every invalid definition of issue 2 gets its error and leaves the database unchanged."""

import pytest
from sqlalchemy import func, select

from accord.domain.enums import WorkflowType
from accord.domain.errors import InvalidDefinition
from accord.domain.workflow import (
    Constraints,
    CreateWorkflowRequest,
    UpdateWorkflowRequest,
    WorkflowConfiguration,
    WorkflowStep,
)
from accord.storage.repositories.workflows import WorkflowRepository
from accord.storage.tables import metadata

S = WorkflowStep

# name -> (what to change in a valid request, the field the error names)
FAULTS = {
    "duplicate-step-ids": (
        {"steps": [S(id="a", name="A"), S(id="a", name="B")]},
        "configuration.steps[1].id",
    ),
    "unknown-dependency": (
        {"steps": [S(id="a", name="A", depends_on=["nope"])]},
        "configuration.steps[0].dependsOn[0]",
    ),
    "cycle": (
        {
            "type": WorkflowType.PARALLEL,
            "steps": [S(id="a", name="A", depends_on=["b"]), S(id="b", name="B", depends_on=["a"])],
        },
        "configuration.steps[1].dependsOn",
    ),
    "preferred-agent-not-participant": (
        {"steps": [S(id="a", name="A", preferred_agent_id="OUTSIDER")]},
        "configuration.steps[0].preferredAgentId",
    ),
    "coordinator-not-participant": ({"coordinator": "OUTSIDER"}, "coordinatorAgentId"),
    "agent-not-owned": ({"participants": ["ME", "STRANGER"]}, "participatingAgents[1]"),
    "no-steps": ({"steps": []}, "configuration.steps"),
    "review-with-nobody-to-review": (
        {"participants": ["ME"], "steps": [S(id="a", name="A", review_required=True)]},
        "configuration.steps[0].reviewRequired",
    ),
    "limit-out-of-range": (
        {"constraints": Constraints(max_retries=50)},
        "configuration.constraints.maxRetries",
    ),
}


@pytest.fixture
def agents(user_id, make_user, make_agent):
    me, outsider = make_agent(user_id, "developer"), make_agent(user_id, "tester")
    stranger = make_agent(make_user(), "spy")
    return {"ME": me.id, "OUTSIDER": outsider.id, "STRANGER": stranger.id}


def _request(agents, fault) -> CreateWorkflowRequest:
    def real(name):
        return agents.get(name, name)

    steps = fault.get("steps", [S(id="a", name="A")])
    for step in steps:
        if step.preferred_agent_id:
            step.preferred_agent_id = real(step.preferred_agent_id)
    coordinator = fault.get("coordinator")
    return CreateWorkflowRequest(
        name="Broken",
        description="",
        workflow_type=fault.get("type", WorkflowType.PIPELINE),
        participating_agents=[real(a) for a in fault.get("participants", ["ME"])],
        coordinator_agent_id=real(coordinator) if coordinator else None,
        configuration=WorkflowConfiguration(
            steps=steps, constraints=fault.get("constraints", Constraints())
        ),
    )


def _row_counts(db) -> dict[str, int]:
    with db.session() as s:
        return {
            name: s.execute(select(func.count()).select_from(table)).scalar_one()
            for name, table in metadata.tables.items()
        }


@pytest.mark.parametrize("fault", FAULTS, ids=list(FAULTS))
def test_create_refuses_and_writes_nothing(db, user_id, agents, fault):
    change, field = FAULTS[fault]
    before = _row_counts(db)
    with pytest.raises(InvalidDefinition) as caught, db.session() as s:
        WorkflowRepository(s).create(user_id, _request(agents, change))
    assert field in [p.field for p in caught.value.problems]
    assert all(p.message and p.fix for p in caught.value.problems)
    assert _row_counts(db) == before


@pytest.mark.parametrize("fault", FAULTS, ids=list(FAULTS))
def test_update_refuses_and_changes_nothing(db, user_id, agents, fault):
    change, field = FAULTS[fault]
    with db.session() as s:
        stored = WorkflowRepository(s).create(user_id, _request(agents, {}))
    broken = _request(agents, change)
    before = _row_counts(db)
    with pytest.raises(InvalidDefinition) as caught, db.session() as s:
        WorkflowRepository(s).update(
            stored.id,
            user_id=user_id,
            request=UpdateWorkflowRequest(
                workflow_type=broken.workflow_type,
                configuration=broken.configuration,
                participating_agents=broken.participating_agents,
                coordinator_agent_id=broken.coordinator_agent_id,
            ),
        )
    assert field in [p.field for p in caught.value.problems]
    assert _row_counts(db) == before
    with db.session() as s:
        assert WorkflowRepository(s).get(stored.id, user_id=user_id) == stored
