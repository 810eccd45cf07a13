"""A stored workflow as a workflow file (YAML, the format `accord run` takes) and back.

Export names agents and providers, never IDs, so the file runs on another account or machine
(`accord run exported.yaml`). Import parses the text with the same parser and checks as the
CLI (every problem with its line), reuses the user's agents of the same names as they are
and creates the missing ones. Nested teams (`subWorkflow`) name other files, which an upload
does not carry, so they are refused at their line on import and at export; so are
`triggers` on import (schedules and webhooks are set up on the workflow page, or by
`accord run`, which installs them).
"""

from typing import Any

import yaml
from sqlalchemy.orm import Session

from accord.domain.agent import Agent, same_name
from accord.domain.errors import InvalidDefinition, NotFound, Problem
from accord.domain.workflow import CollaborationWorkflow, WorkflowStep
from accord.domain.workflow_file import (
    OFFLINE_PROVIDER,
    WorkflowFile,
    file_problem,
    parse_workflow_file,
)
from accord.storage.repositories.agents import AgentRepository
from accord.storage.repositories.providers import ProviderRepository
from accord.storage.repositories.workflows import WorkflowRepository

SOURCE = "upload.yaml"
# The file format leaves these to `agent` and `subWorkflow`; the rest of a step is the API's.
_STEP_IDS = {"preferred_agent_id", "sub_workflow_id"}


def export_yaml(session: Session, workflow: CollaborationWorkflow, *, user_id: str) -> str:
    """The workflow as a file `parse_workflow_file` accepts (checked before it is returned)."""
    nested = [s.id for s in workflow.configuration.steps if s.sub_workflow_id]
    if nested:
        raise InvalidDefinition(
            [
                Problem(
                    "configuration.steps",
                    f"steps {', '.join(nested)} run a nested team, which a single file "
                    "cannot carry",
                    "export the nested workflow too and keep both files side by side "
                    "(subWorkflow: <its file>), or use `accord run` with your own files",
                )
            ]
        )
    wanted = list(
        dict.fromkeys([*workflow.participating_agents, *_preferred(workflow.configuration.steps)])
    )
    owned = AgentRepository(session).owned(wanted, user_id=user_id)
    agents = {agent_id: owned[agent_id] for agent_id in wanted if agent_id in owned}
    providers = {p.id: p.name for p in ProviderRepository(session).list(user_id=user_id)}
    names = {agent_id: agent.name for agent_id, agent in agents.items()}
    data: dict[str, Any] = {
        "name": workflow.name,
        "description": workflow.description,
        "workflowType": workflow.workflow_type.value,
        "agents": [_agent(a, providers) for a in agents.values()],
        "coordinator": names.get(workflow.coordinator_agent_id or ""),
        "steps": [_step(s, names) for s in workflow.configuration.steps],
        "coordination": workflow.configuration.coordination.model_dump(
            mode="json", by_alias=True, exclude_defaults=True
        ),
        "constraints": workflow.configuration.constraints.model_dump(
            mode="json", by_alias=True, exclude_none=True
        ),
        "mcpServers": {
            name: server.model_dump(mode="json", by_alias=True, exclude_defaults=True)
            for name, server in workflow.configuration.mcp_servers.items()
        },
        "toolkits": {
            name: settings.model_dump(mode="json", by_alias=True, exclude_defaults=True)
            for name, settings in workflow.configuration.toolkits.items()
        },
        "functionTools": {
            name: spec.model_dump(mode="json", by_alias=True, exclude_defaults=True)
            for name, spec in workflow.configuration.function_tools.items()
        },
    }
    text = yaml.safe_dump(
        {k: v for k, v in data.items() if v not in (None, "", {})},
        sort_keys=False,
        allow_unicode=True,
        width=100,
    )
    parse_workflow_file(text, source=f"{workflow.name}.yaml")
    return text


def import_yaml(session: Session, text: str, *, user_id: str) -> CollaborationWorkflow:
    """Creates the file's workflow (and the agents it names that the user does not have)."""
    parsed = parse_workflow_file(text, source=SOURCE)
    problems = [
        file_problem(
            text,
            f"steps[{i}].subWorkflow",
            "a nested team names another file, which an upload does not include",
            "run this file with `accord run` next to its nested files, or remove subWorkflow",
            source=SOURCE,
        )
        for i, step in enumerate(parsed.steps)
        if step.sub_workflow
    ]
    triggers = parsed.triggers
    if triggers.schedules or triggers.hooks or triggers.after or triggers.notify:
        problems.append(
            file_problem(
                text,
                "triggers",
                "an upload does not set up triggers (their secrets are shown once, on creation)",
                "remove the triggers block and add them on the workflow page, or run the file "
                "with `accord run`",
                source=SOURCE,
            )
        )
    providers = ProviderRepository(session).list(user_id=user_id)
    provider_ids: dict[str, str | None] = {}
    for i, spec in enumerate(parsed.agents):
        if spec.provider == OFFLINE_PROVIDER:
            provider_ids[spec.name] = None
            continue
        match = next((p for p in providers if same_name(p.name, spec.provider)), None)
        if match is None:
            problems.append(
                file_problem(
                    text,
                    f"agents[{i}].provider",
                    f"you have no provider named {spec.provider!r}",
                    "add it on the Providers page, or write `provider: offline`",
                    source=SOURCE,
                )
            )
        else:
            provider_ids[spec.name] = match.id
    if problems:
        raise InvalidDefinition(problems)
    return WorkflowRepository(session).create(
        user_id,
        parsed.create_request(agent_ids=_ensure_agents(session, parsed, provider_ids, user_id)),
    )


def _ensure_agents(
    session: Session, parsed: WorkflowFile, provider_ids: dict[str, str | None], user_id: str
) -> dict[str, str]:
    repo = AgentRepository(session)
    existing = repo.list(user_id=user_id)
    ids: dict[str, str] = {}
    for spec in parsed.agents:
        mine = next((a for a in existing if same_name(a.name, spec.name)), None)
        ids[spec.name] = (
            mine.id
            if mine
            else repo.create(
                user_id=user_id,
                name=spec.name,
                role=spec.role,
                backstory=spec.backstory,
                skills=spec.skills,
                tools=spec.tools,
                llm_provider_id=provider_ids[spec.name],
                model=spec.model,
                model_parameters=spec.model_parameters,
            ).id
        )
    return ids


def _preferred(steps: list[WorkflowStep]) -> list[str]:
    return [s.preferred_agent_id for s in steps if s.preferred_agent_id]


def _agent(agent: Agent, providers: dict[str, str]) -> dict[str, Any]:
    data: dict[str, Any] = {"name": agent.name, "role": agent.role}
    if agent.backstory:
        data["backstory"] = agent.backstory
    if agent.skills:
        data["skills"] = agent.skills
    if agent.tools:
        data["tools"] = agent.tools
    if agent.llm_provider_id:
        if agent.llm_provider_id not in providers:
            raise NotFound("provider", agent.llm_provider_id)
        data["provider"] = providers[agent.llm_provider_id]
    if agent.model:
        data["model"] = agent.model
    if agent.model_parameters:
        data["modelParameters"] = agent.model_parameters
    return data


def _step(step: WorkflowStep, names: dict[str, str]) -> dict[str, Any]:
    data: dict[str, Any] = {"id": step.id, "name": step.name}
    data.update(
        step.model_dump(mode="json", by_alias=True, exclude_defaults=True, exclude=_STEP_IDS)
    )
    if step.preferred_agent_id and step.preferred_agent_id in names:
        data["agent"] = names[step.preferred_agent_id]
    return data
