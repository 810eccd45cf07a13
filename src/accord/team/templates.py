"""Workflow templates: the system set, workflows made from templates, workflows saved as ones.

A template names roles, not agents. Making a workflow from it maps each required role to a
chosen participant: steps for that role prefer that agent, and reviews by that role go to
that agent's role. System templates are installed once (their `system_key` is unique), on
first run; `usage_count` counts the workflows made from a template and `success_rate`
follows their executions (`metrics.record_finished_execution`).
"""

from collections.abc import Mapping
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from accord.domain.agent import Agent
from accord.domain.enums import TemplateCategory, WorkflowType
from accord.domain.errors import InvalidDefinition, Problem
from accord.domain.template import (
    CreateFromTemplateRequest,
    CreateTemplateRequest,
    WorkflowTemplate,
)
from accord.domain.workflow import (
    CollaborationWorkflow,
    CreateWorkflowRequest,
    WorkflowConfiguration,
)
from accord.storage.repositories.agents import AgentRepository
from accord.storage.repositories.templates import TemplateRepository
from accord.storage.repositories.workflows import WorkflowRepository


def _template(
    name: str,
    description: str,
    category: TemplateCategory,
    roles: list[str],
    steps: list[dict[str, Any]],
    *,
    workflow_type: WorkflowType = WorkflowType.PIPELINE,
    coordination: Mapping[str, Any] | None = None,
) -> CreateTemplateRequest:
    return CreateTemplateRequest(
        name=name,
        description=description,
        category=category,
        workflow_type=workflow_type,
        required_agent_roles=roles,
        recommended_agent_count=len(roles),
        template_definition=WorkflowConfiguration.model_validate(
            {"steps": steps, "coordination": dict(coordination or {})}
        ),
    )


SYSTEM_TEMPLATES: Mapping[str, CreateTemplateRequest] = {
    "feature-development": _template(
        "Feature development",
        "Design, implement with review, test (delegating the performance check) and "
        "document a feature.",
        TemplateCategory.DEVELOPMENT,
        ["architect", "developer", "reviewer"],
        [
            {
                "id": "design",
                "name": "Design the feature",
                "type": "analysis",
                "assignedAgentRole": "architect",
                "requiredSkills": ["design"],
                "instructions": "Describe the components, interfaces and data the feature needs.",
                "expectedOutput": "A short design with interfaces",
            },
            {
                "id": "implement",
                "name": "Implement the feature",
                "type": "implementation",
                "assignedAgentRole": "developer",
                "requiredSkills": ["programming"],
                "instructions": "Implement the design; keep changes small and explained.",
                "expectedOutput": "The change, with notes",
                "reviewRequired": True,
                "reviewerRole": "reviewer",
                "validationCriteria": ["follows the design", "handles errors"],
            },
            {
                "id": "test",
                "name": "Test the feature",
                "type": "testing",
                "assignedAgentRole": "reviewer",
                "requiredSkills": ["testing"],
                "instructions": "Write and run tests for the main paths and the edge cases; "
                "delegate the performance check to a teammate as a sub-task.",
                "expectedOutput": "Test cases and results",
            },
            {
                "id": "document",
                "name": "Document the feature",
                "type": "documentation",
                "assignedAgentRole": "developer",
                "instructions": "Write user-facing documentation of the feature.",
                "expectedOutput": "Documentation in markdown",
            },
        ],
    ),
    "code-review": _template(
        "Code review",
        "Understand a change, review it against the team's criteria, and decide on merging.",
        TemplateCategory.REVIEW,
        ["developer", "reviewer"],
        [
            {
                "id": "summarise",
                "name": "Summarise the change",
                "type": "analysis",
                "assignedAgentRole": "developer",
                "instructions": "Explain what the change does and why.",
                "expectedOutput": "A summary of the change and its risks",
            },
            {
                "id": "review",
                "name": "Review the change",
                "type": "review",
                "assignedAgentRole": "reviewer",
                "requiredSkills": ["code review"],
                "instructions": "Check correctness, tests, security and readability.",
                "expectedOutput": "Findings, each with a severity",
            },
            {
                "id": "merge",
                "name": "Decide on merging",
                "type": "decision",
                "decisionOptions": ["merge", "request_changes"],
                "instructions": "Decide from the review's findings.",
            },
        ],
        coordination={"decisionMaking": "majority"},
    ),
    "parallel-analysis": _template(
        "Parallel system analysis",
        "Analyse a system from security, performance and usability angles at once, then "
        "combine the findings.",
        TemplateCategory.ANALYSIS,
        ["analyst", "security", "performance"],
        [
            {
                "id": "scope",
                "name": "Scope the analysis",
                "type": "analysis",
                "assignedAgentRole": "analyst",
                "instructions": "List the parts of the system and what matters most.",
                "expectedOutput": "The scope and the questions to answer",
            },
            {
                "id": "security",
                "name": "Security analysis",
                "type": "analysis",
                "dependsOn": ["scope"],
                "canRunInParallel": True,
                "assignedAgentRole": "security",
                "instructions": "Find threats and weaknesses.",
                "expectedOutput": "Risks, ranked",
            },
            {
                "id": "performance",
                "name": "Performance analysis",
                "type": "analysis",
                "dependsOn": ["scope"],
                "canRunInParallel": True,
                "assignedAgentRole": "performance",
                "instructions": "Find bottlenecks and limits.",
                "expectedOutput": "Bottlenecks",
            },
            {
                "id": "usability",
                "name": "Usability analysis",
                "type": "analysis",
                "dependsOn": ["scope"],
                "canRunInParallel": True,
                "assignedAgentRole": "analyst",
                "instructions": "Find where users struggle.",
                "expectedOutput": "Usability issues",
            },
            {
                "id": "synthesis",
                "name": "Combine the findings",
                "type": "coordination",
                "dependsOn": ["security", "performance", "usability"],
                "assignedAgentRole": "analyst",
                "instructions": "Merge the analyses into one prioritised list.",
                "expectedOutput": "A prioritised action list",
            },
        ],
        workflow_type=WorkflowType.PARALLEL,
    ),
    "research-brief": _template(
        "Research brief",
        "Frame a question, gather sources, synthesise, and have the synthesis reviewed.",
        TemplateCategory.RESEARCH,
        ["researcher", "reviewer"],
        [
            {
                "id": "frame",
                "name": "Frame the question",
                "type": "analysis",
                "assignedAgentRole": "researcher",
                "instructions": "Turn the topic into precise questions.",
                "expectedOutput": "Research questions",
            },
            {
                "id": "gather",
                "name": "Gather sources",
                "type": "analysis",
                "assignedAgentRole": "researcher",
                "requiredSkills": ["research"],
                "instructions": "Collect and summarise the relevant sources.",
                "expectedOutput": "Annotated sources",
            },
            {
                "id": "synthesise",
                "name": "Write the brief",
                "type": "documentation",
                "assignedAgentRole": "researcher",
                "reviewRequired": True,
                "reviewerRole": "reviewer",
                "validationCriteria": ["answers every question", "cites its sources"],
                "instructions": "Answer the questions from the sources.",
                "expectedOutput": "A two-page brief",
            },
        ],
    ),
    "test-strategy": _template(
        "Risk-based test strategy",
        "Assess risk, decide between a full and a smoke test pass, and run only that branch.",
        TemplateCategory.TESTING,
        ["tester", "developer"],
        [
            {
                "id": "assess",
                "name": "Assess the risk",
                "type": "analysis",
                "assignedAgentRole": "tester",
                "requiredSkills": ["testing"],
                "instructions": "Rate the change's risk and say what could break.",
                "expectedOutput": "A risk assessment",
            },
            {
                "id": "scope",
                "dependsOn": ["assess"],
                "name": "Choose the test scope",
                "type": "decision",
                "decisionOptions": ["full", "smoke"],
                "instructions": "Full for high risk, smoke for low risk.",
            },
            {
                "id": "full_suite",
                "name": "Run the full test plan",
                "type": "testing",
                "dependsOn": ["scope"],
                "condition": "decisions.scope.outcome == 'full'",
                "assignedAgentRole": "tester",
                "instructions": "Test every path the assessment lists.",
                "expectedOutput": "Results per path",
            },
            {
                "id": "smoke",
                "name": "Run smoke tests",
                "type": "testing",
                "dependsOn": ["scope"],
                "condition": "decisions.scope.outcome == 'smoke'",
                "assignedAgentRole": "tester",
                "instructions": "Check the main paths still work.",
                "expectedOutput": "Smoke test results",
            },
            {
                "id": "report",
                "name": "Report",
                "type": "documentation",
                "dependsOn": ["full_suite", "smoke"],
                "assignedAgentRole": "developer",
                "instructions": "Summarise what was tested and what was found.",
                "expectedOutput": "A test report",
            },
        ],
        workflow_type=WorkflowType.CONDITIONAL,
        coordination={"decisionMaking": "consensus"},
    ),
    "bug-investigation": _template(
        "Bug investigation",
        "Reproduce a bug, find its cause (delegating sub-investigations), fix and verify it.",
        TemplateCategory.DEVELOPMENT,
        ["developer", "tester"],
        [
            {
                "id": "reproduce",
                "name": "Reproduce the bug",
                "type": "testing",
                "assignedAgentRole": "tester",
                "instructions": "Find the smallest steps that show the bug.",
                "expectedOutput": "Reproduction steps",
            },
            {
                "id": "diagnose",
                "dependsOn": ["reproduce"],
                "name": "Find the cause",
                "type": "analysis",
                "assignedAgentRole": "developer",
                "requiredSkills": ["debugging"],
                "instructions": "Find the root cause; delegate side investigations to a teammate "
                "when they are separate.",
                "expectedOutput": "The root cause",
            },
            {
                "id": "fix",
                "dependsOn": ["diagnose"],
                "name": "Fix the bug",
                "type": "implementation",
                "assignedAgentRole": "developer",
                "reviewRequired": True,
                "reviewerRole": "tester",
                "validationCriteria": ["the reproduction no longer fails", "a regression test"],
                "instructions": "Fix the cause, not the symptom.",
                "expectedOutput": "The fix and a regression test",
            },
        ],
        workflow_type=WorkflowType.RECURSIVE,
    ),
}
"""By `system_key`. Six templates over the five categories: `parallel-analysis` is parallel,
`test-strategy` conditional, `bug-investigation` recursive (delegation)."""


def install_system_templates(session: Session) -> list[WorkflowTemplate]:
    """Install the system templates that are missing; a second run installs nothing."""
    repo = TemplateRepository(session)
    installed = []
    for key, request in SYSTEM_TEMPLATES.items():
        if repo.find_by_system_key(key) is not None:
            continue
        try:
            with session.begin_nested():
                installed.append(repo.create(request, user_id=None, system_key=key))
        except IntegrityError:
            continue  # another process installed it at the same moment
    return installed


def create_workflow_from_template(
    session: Session, *, user_id: str, template_id: str, request: CreateFromTemplateRequest
) -> CollaborationWorkflow:
    """A workflow of the user's agents from a template (InvalidDefinition names what is
    missing: a role nobody takes, an assignment outside the participants)."""
    templates = TemplateRepository(session)
    template = templates.get(template_id, user_id=user_id)
    agents = AgentRepository(session).owned(request.participating_agents, user_id=user_id)
    cast = _cast_roles(template, request, agents)
    steps = []
    for step in template.template_definition.steps:
        changes: dict[str, Any] = {}
        role_agent = cast.get(_key(step.assigned_agent_role))
        if role_agent is not None:
            changes = {"preferred_agent_id": role_agent.id, "assigned_agent_role": role_agent.role}
        reviewer = cast.get(_key(step.reviewer_role))
        if reviewer is not None:
            changes["reviewer_role"] = reviewer.role
        steps.append(step.model_copy(update=changes))
    configuration = template.template_definition.model_copy(update={"steps": steps})
    workflow = WorkflowRepository(session).create(
        user_id,
        CreateWorkflowRequest(
            name=request.name or template.name,
            description=template.description
            if request.description is None
            else request.description,
            workflow_type=template.workflow_type,
            participating_agents=request.participating_agents,
            coordinator_agent_id=request.coordinator_agent_id,
            configuration=configuration,
        ),
        template_id=template.id,
    )
    templates.record_use(template.id)
    return workflow


def _key(role: str | None) -> str:
    return (role or "").strip().lower()


def _cast_roles(
    template: WorkflowTemplate, request: CreateFromTemplateRequest, agents: Mapping[str, Agent]
) -> dict[str, Agent]:
    """Role (lower case) -> the participant who plays it: as assigned, else the first
    participant with that role."""
    problems = []
    assigned = {_key(role): agent_id for role, agent_id in request.role_assignments.items()}
    cast: dict[str, Agent] = {}
    for role in template.required_agent_roles:
        agent_id = assigned.get(_key(role))
        if agent_id is not None:
            if agent_id not in request.participating_agents or agent_id not in agents:
                problems.append(
                    Problem(
                        f"roleAssignments.{role}",
                        f"agent {agent_id!r} is not one of your participating agents",
                        "assign one of participatingAgents",
                    )
                )
                continue
            cast[_key(role)] = agents[agent_id]
            continue
        found = next(
            (
                agents[a]
                for a in request.participating_agents
                if a in agents and _key(agents[a].role) == _key(role)
            ),
            None,
        )
        if found is None:
            problems.append(
                Problem(
                    f"roleAssignments.{role}",
                    f"no participant has the role {role!r} this template needs",
                    "map the role to one of your agents in roleAssignments",
                )
            )
        else:
            cast[_key(role)] = found
    if problems:
        raise InvalidDefinition(problems)
    return cast


def save_workflow_as_template(
    session: Session,
    *,
    user_id: str,
    workflow_id: str,
    category: TemplateCategory,
    name: str | None = None,
    description: str | None = None,
) -> WorkflowTemplate:
    """The user's own template from one of their workflows: agents become their roles. Without
    a `name`, it is the workflow's, numbered if a template of that name exists (an explicit
    name that is taken is refused)."""
    workflow = WorkflowRepository(session).get(workflow_id, user_id=user_id)
    agents = AgentRepository(session).owned(workflow.participating_agents, user_id=user_id)
    team = [agents[a] for a in workflow.participating_agents if a in agents]
    steps = []
    for step in workflow.configuration.steps:
        role = step.assigned_agent_role
        if role is None and step.preferred_agent_id in agents:
            role = agents[step.preferred_agent_id].role
        steps.append(
            step.model_copy(update={"preferred_agent_id": None, "assigned_agent_role": role})
        )
    roles = list(dict.fromkeys(a.role for a in team))
    templates = TemplateRepository(session)
    return templates.create(
        CreateTemplateRequest(
            name=name or templates.free_name(workflow.name, user_id=user_id),
            description=workflow.description if description is None else description,
            category=category,
            workflow_type=workflow.workflow_type,
            template_definition=workflow.configuration.model_copy(update={"steps": steps}),
            required_agent_roles=roles,
            recommended_agent_count=max(1, len(team)),
        ),
        user_id=user_id,
    )
