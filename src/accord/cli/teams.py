"""Teams for templates: a template names roles, so running one needs an agent per role.

The demo team covers every role of the system templates, on the built-in offline model; a
role nobody of yours plays is filled by its demo agent, created (or found) by name.
"""

from dataclasses import dataclass

from sqlalchemy.orm import Session

from accord.cli.templates import find_template
from accord.domain.agent import OFFLINE_MODEL_NAME, Agent, same_name
from accord.domain.enums import ProviderKind, WorkflowStatus
from accord.domain.template import CreateFromTemplateRequest
from accord.domain.workflow import CollaborationWorkflow
from accord.storage.repositories.agents import AgentRepository
from accord.storage.repositories.providers import ProviderRepository
from accord.storage.repositories.templates import TemplateRepository
from accord.storage.repositories.workflows import WorkflowRepository
from accord.team import create_workflow_from_template

DEMO_TEMPLATE = "feature-development"
DEMO_PROVIDER = "offline (demo pace)"


@dataclass(frozen=True)
class DemoAgent:
    name: str
    role: str
    skills: tuple[str, ...]
    backstory: str


DEMO_TEAM = (
    DemoAgent(
        "Ada",
        "architect",
        ("design", "architecture", "planning"),
        "Designs systems and keeps the team's decisions consistent.",
    ),
    DemoAgent(
        "Dev",
        "developer",
        ("programming", "python", "debugging"),
        "Writes small, well-tested changes.",
    ),
    DemoAgent(
        "Rita",
        "reviewer",
        ("code review", "testing", "security"),
        "Reviews work for correctness and clarity.",
    ),
    DemoAgent("Tess", "tester", ("testing", "automation"), "Breaks things before users do."),
    DemoAgent("Ana", "analyst", ("analysis", "synthesis"), "Turns findings into decisions."),
    DemoAgent("Sid", "security", ("security", "threat modelling"), "Thinks like an attacker."),
    DemoAgent("Pat", "performance", ("performance", "profiling"), "Measures before tuning."),
    DemoAgent("Rhea", "researcher", ("research", "writing"), "Finds and weighs sources."),
)


def demo_agent(session: Session, user_id: str, spec: DemoAgent) -> Agent:
    """The demo agent of that name, created on the offline model if missing."""
    repo = AgentRepository(session)
    for agent in repo.list(user_id=user_id):
        if same_name(agent.name, spec.name):
            return agent
    return repo.create(
        user_id=user_id,
        name=spec.name,
        role=spec.role,
        backstory=spec.backstory,
        skills=spec.skills,
    )


def demo_provider(session: Session, user_id: str, *, pace_seconds: float) -> str:
    """The offline provider of the demo team, each model call taking `pace_seconds`, so
    that the team's work unfolds at a pace a person can watch."""
    repo = ProviderRepository(session)
    settings = {"latencySeconds": pace_seconds}
    for provider in repo.list(user_id=user_id):
        if same_name(provider.name, DEMO_PROVIDER):
            return repo.update(provider.id, user_id=user_id, settings=settings).id
    return repo.create(
        user_id=user_id,
        name=DEMO_PROVIDER,
        kind=ProviderKind.OFFLINE,
        default_model=OFFLINE_MODEL_NAME,
        settings=settings,
    ).id


def cast_for(session: Session, user_id: str, roles: list[str]) -> list[Agent]:
    """An agent per role: yours if one has the role, else the demo agent for it."""
    mine = AgentRepository(session).list(user_id=user_id)
    cast: list[Agent] = []
    for role in roles:
        found = next((a for a in mine if a.role.lower() == role.lower()), None)
        if found is None:
            spec = next(
                (d for d in DEMO_TEAM if d.role == role.lower()),
                DemoAgent(f"{role.title()} (demo)", role, (role,), ""),
            )
            found = demo_agent(session, user_id, spec)
        if found not in cast:
            cast.append(found)
    return cast


def workflow_from_template(
    session: Session, *, user_id: str, template: str
) -> CollaborationWorkflow:
    """The user's workflow made from the template (made once, then run again), with a cast
    for its roles; the first role's agent coordinates."""
    found = find_template(TemplateRepository(session), template, user_id=user_id)
    workflows = WorkflowRepository(session)
    for workflow in workflows.list(user_id=user_id):
        if workflow.template_id == found.id and workflow.status not in (
            WorkflowStatus.ACTIVE,
            WorkflowStatus.PAUSED,
        ):
            return workflow
    cast = cast_for(session, user_id, found.required_agent_roles)
    return create_workflow_from_template(
        session,
        user_id=user_id,
        template_id=found.id,
        request=CreateFromTemplateRequest(
            participating_agents=[a.id for a in cast],
            coordinator_agent_id=cast[0].id if cast else None,
        ),
    )
