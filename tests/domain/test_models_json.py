"""The spec's camelCase JSON goes in and comes out; Python speaks snake_case."""

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from accord.domain.execution import WorkflowExecution
from accord.domain.interaction import AgentInteraction
from accord.domain.knowledge import CollaborationKnowledge
from accord.domain.metrics import CollaborationMetrics
from accord.domain.step_result import StepResult
from accord.domain.template import WorkflowTemplate
from accord.domain.workflow import CollaborationWorkflow, CreateWorkflowRequest

STAMP = "2026-01-02T03:04:05Z"

# Shaped exactly as the spec's TypeScript interfaces (no extension fields).
SPEC_REQUEST = {
    "name": "Feature",
    "description": "Design, build, review",
    "workflowType": "parallel",
    "participatingAgents": ["a1", "a2"],
    "coordinatorAgentId": "a1",
    "configuration": {
        "steps": [
            {
                "id": "design",
                "name": "Design",
                "description": "Sketch it",
                "type": "analysis",
                "assignedAgentRole": "architect",
                "requiredSkills": ["modeling"],
                "dependsOn": [],
                "canRunInParallel": False,
                "instructions": "Write the design",
                "expectedOutput": "A design doc",
                "timeoutMinutes": 10,
            },
            {
                "id": "build",
                "name": "Build",
                "description": "",
                "type": "implementation",
                "preferredAgentId": "a2",
                "requiredSkills": [],
                "dependsOn": ["design"],
                "canRunInParallel": True,
                "instructions": "",
                "expectedOutput": "",
                "validationCriteria": ["tests pass"],
                "reviewRequired": True,
                "reviewerRole": "architect",
            },
        ],
        "coordination": {
            "communicationStyle": "formal",
            "decisionMaking": "majority",
            "knowledgeSharing": True,
        },
        "constraints": {"maxExecutionTime": 30, "maxRetries": 1, "allowParallelExecution": True},
    },
}


def test_a_spec_shaped_request_parses_into_snake_case():
    request = CreateWorkflowRequest.model_validate(SPEC_REQUEST)
    build = request.configuration.steps[1]
    assert request.workflow_type == "parallel" and request.coordinator_agent_id == "a1"
    assert (build.preferred_agent_id, build.depends_on, build.review_required) == (
        "a2",
        ["design"],
        True,
    )
    assert request.configuration.coordination.decision_making == "majority"
    assert request.configuration.constraints.max_execution_time == 30


def test_round_trip_keeps_every_spec_field_in_camel_case():
    request = CreateWorkflowRequest.model_validate(SPEC_REQUEST)
    dumped = request.to_json_dict()
    assert CreateWorkflowRequest.model_validate(dumped) == request
    # Every key the spec sent comes back under the same name with the same value.
    assert _subset(SPEC_REQUEST, dumped)
    assert "workflow_type" not in dumped and "participating_agents" not in dumped


def _subset(expected, actual) -> bool:
    if isinstance(expected, dict):
        return all(k in actual and _subset(v, actual[k]) for k, v in expected.items())
    if isinstance(expected, list):
        return len(expected) == len(actual) and all(map(_subset, expected, actual))
    return expected == actual


def test_snake_case_is_accepted_too():
    request = CreateWorkflowRequest.model_validate(
        {
            "name": "x",
            "description": "",
            "workflow_type": "pipeline",
            "participating_agents": ["a"],
            "configuration": {"steps": []},
        }
    )
    assert request.participating_agents == ["a"]


@pytest.mark.parametrize(
    ("model", "payload"),
    [
        (
            CollaborationWorkflow,
            {
                "id": "w",
                "userId": "u",
                "name": "n",
                "description": "d",
                "workflowType": "pipeline",
                "configuration": {"steps": [{"id": "s", "name": "S"}]},
                "participatingAgents": ["a"],
                "status": "active",
                "currentStep": 1,
                "totalSteps": 1,
                "executionHistory": [
                    {
                        "timestamp": STAMP,
                        "stepId": "s",
                        "agentId": "a",
                        "action": "completed",
                        "result": {"ok": 1},
                        "duration": 2.5,
                    }
                ],
                "collaborationMetrics": {
                    "totalInteractions": 4,
                    "averageResponseTime": 1.5,
                    "knowledgeItemsCreated": 2,
                    "collaborationScore": 7,
                    "efficiencyRating": 8,
                    "qualityScore": 9,
                },
                "finalResult": {"summary": "done"},
                "startedAt": STAMP,
                "createdAt": STAMP,
                "updatedAt": STAMP,
            },
        ),
        (
            WorkflowExecution,
            {
                "id": "e",
                "workflowId": "w",
                "executionNumber": 3,
                "triggerReason": "manual",
                "currentStepId": "s",
                "executionContext": {"k": "v"},
                "stepResults": {"s": {}},
                "activeAgents": ["a"],
                "agentAssignments": {"s": "a"},
                "status": "running",
                "startedAt": STAMP,
                "updatedAt": STAMP,
            },
        ),
        (
            AgentInteraction,
            {
                "id": "i",
                "workflowExecutionId": "e",
                "fromAgentId": "a",
                "toAgentId": "b",
                "interactionType": "question",
                "message": "why?",
                "contextData": {"x": 1},
                "relatedStepId": "s",
                "requiresResponse": True,
                "responseDeadline": STAMP,
                "responseReceived": False,
                "createdAt": STAMP,
            },
        ),
        (
            CollaborationKnowledge,
            {
                "id": "k",
                "workflowId": "w",
                "title": "t",
                "content": "c",
                "knowledgeType": "best_practice",
                "createdByAgentId": "a",
                "validatedByAgents": ["b"],
                "relevanceScore": 0.5,
                "usageCount": 2,
                "tags": ["x"],
                "isActive": False,
                "supersededBy": "k2",
                "createdAt": STAMP,
                "updatedAt": STAMP,
            },
        ),
        (
            WorkflowTemplate,
            {
                "id": "t",
                "name": "n",
                "description": "d",
                "category": "research",
                "templateDefinition": {"steps": [{"id": "s", "name": "S"}]},
                "requiredAgentRoles": ["researcher"],
                "recommendedAgentCount": 3,
                "isSystemTemplate": True,
                "usageCount": 5,
                "successRate": 80.0,
                "createdAt": STAMP,
                "updatedAt": STAMP,
            },
        ),
    ],
    ids=lambda v: v.__name__ if isinstance(v, type) else "",
)
def test_spec_types_round_trip(model, payload):
    parsed = model.model_validate(payload)
    dumped = parsed.to_json_dict()
    assert model.model_validate(dumped) == parsed
    assert _subset(
        {
            k: v
            for k, v in payload.items()
            if not k.endswith("At") and k not in ("responseDeadline", "executionHistory")
        },
        dumped,
    )
    for key in [k for k in payload if k.endswith("At")]:
        assert datetime.fromisoformat(dumped[key]) == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def test_enums_refuse_values_outside_the_spec():
    with pytest.raises(ValidationError):
        CreateWorkflowRequest.model_validate({**SPEC_REQUEST, "workflowType": "circular"})
    with pytest.raises(ValidationError):
        CollaborationMetrics(collaboration_score=11)


def test_step_results_are_validated_not_parsed_from_prose():
    result = StepResult.model_validate(
        {
            "summary": "Did it",
            "output": "# Done",
            "insights": [{"title": "t", "content": "c"}],
            "confidence": 0.7,
            "data": {"passed": True},
        }
    )
    assert result.to_json_dict()["insights"][0]["knowledgeType"] == "insight"
    for bad in ({"summary": "", "output": "x"}, {"summary": "s", "output": "x", "confidence": 2}):
        with pytest.raises(ValidationError):
            StepResult.model_validate(bad)
