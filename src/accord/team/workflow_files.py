"""Workflow files on disk and in the database.

The format itself (and its validation) is `accord.domain.workflow_file`; this module adds the
file system (sub-workflow paths relative to the naming file, unreadable files and include
cycles reported with the line of the step that names them) and installing a workflow for a
user: its agents are created or brought up to date by name, and its workflow likewise, so
running a file again adds an execution to the same workflow instead of another copy of
everything. A workflow built in Python (`accord.Workflow`) installs through the same path,
so code and YAML make the same stored definition.
"""

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict

from accord.domain.agent import same_name
from accord.domain.enums import WorkflowStatus
from accord.domain.errors import InvalidInput, NotFound
from accord.domain.lookup import pick
from accord.domain.tools import in_folder
from accord.domain.triggers import HookCreated, NotificationCreated
from accord.domain.workflow import CollaborationWorkflow, UpdateWorkflowRequest
from accord.domain.workflow_file import (
    OFFLINE_PROVIDER,
    AgentSpec,
    FileProblem,
    WorkflowFile,
    WorkflowFileError,
    file_problem,
    parse_workflow_file,
)

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

# The repositories (and SQLAlchemy) are imported by the functions that install: reading and
# validating a file (`accord validate`) touches no database and should not pay for them.


@dataclass(frozen=True, eq=False)
class LoadedWorkflow:
    """A validated workflow (from a file, or built in Python) and its sub-workflows."""

    workflow: WorkflowFile
    source: str
    """Where its problems point: the file as shown to the user, or the workflow built in code."""
    text: str | None = None
    """The file's YAML, to give the line of a problem found when it is installed."""
    base_dir: Path | None = None
    """The file's folder (relative paths in it start there); None: built in code."""
    children: dict[str, "LoadedWorkflow"] = field(default_factory=dict)
    """Step ID -> the sub-workflow that step runs."""

    def problem(self, field: str, message: str, fix: str) -> FileProblem:
        """A problem found after validation (at install), on its line when there is a file."""
        if self.text is None:
            return FileProblem(field, message, fix, source=self.source)
        return file_problem(self.text, field, message, fix, source=self.source)

    def depth_first(self) -> list["LoadedWorkflow"]:
        """Children before parents: the order in which they must be created."""
        out: list[LoadedWorkflow] = []
        for child in self.children.values():
            out += child.depth_first()
        return [*out, self]


def load_workflow(path: Path, *, _including: tuple[Path, ...] = ()) -> LoadedWorkflow:
    """Load and validate a workflow file and, recursively, its sub-workflow files."""
    path = path.resolve()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise WorkflowFileError(
            [
                FileProblem(
                    "", f"cannot read the file: {exc.strerror}", "check the path", source=str(path)
                )
            ]
        ) from None
    source = _display(path)
    workflow = parse_workflow_file(text, source=source, environment=os.environ)
    children: dict[str, LoadedWorkflow] = {}
    problems: list[FileProblem] = []
    for i, step in enumerate(workflow.steps):
        if step.sub_workflow is None:
            continue
        child_path = (path.parent / step.sub_workflow).resolve()
        field = f"steps[{i}].subWorkflow"
        if child_path in (*_including, path):
            problems.append(
                file_problem(
                    text,
                    field,
                    f"{step.sub_workflow} includes this file again",
                    "a workflow cannot run itself; remove the cycle",
                    source=source,
                )
            )
        elif not child_path.is_file():
            problems.append(
                file_problem(
                    text,
                    field,
                    f"no workflow file at {step.sub_workflow!r}",
                    "give a path relative to this file",
                    source=source,
                )
            )
        else:  # a broken sub-workflow reports its own file and lines
            children[step.id] = load_workflow(child_path, _including=(*_including, path))
    if problems:
        raise WorkflowFileError(problems)
    return LoadedWorkflow(
        workflow=workflow, source=source, text=text, base_dir=path.parent, children=children
    )


def _display(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def install_workflow(
    session: "Session",
    *,
    user_id: str,
    loaded: LoadedWorkflow,
    show_secret: Callable[[HookCreated | NotificationCreated], None] | None = None,
    project_id: str | None = None,
) -> CollaborationWorkflow:
    """Create (or update, matching by name) the file's agents and workflow, sub-workflows
    first; returns the top workflow, ready to start (filed under `project_id` when given).
    A workflow of that name that is still running (its run was cut off, say) is returned
    as it is, for the caller to follow: it
    cannot change while it runs, and a second one of the same name would make every lookup
    by name ambiguous."""
    from accord.storage.repositories.workflows import WorkflowRepository

    installed: dict[int, CollaborationWorkflow] = {}  # by identity: code has no paths
    for item in loaded.depth_first():
        agent_ids = {
            spec.name: _ensure_agent(session, user_id, spec, item, i)
            for i, spec in enumerate(item.workflow.agents)
        }
        sub_ids = {step_id: installed[id(child)].id for step_id, child in item.children.items()}
        request = item.workflow.create_request(
            agent_ids=agent_ids, sub_workflow_ids=sub_ids, base_dir=item.base_dir
        )
        filed = project_id is not None and item is loaded
        if filed:
            request.project_id = project_id
        servers = request.configuration.mcp_servers
        for name, server in servers.items():
            servers[name] = in_folder(server, str(item.base_dir or Path.cwd()))
        repo = WorkflowRepository(session)
        existing = [w for w in repo.list(user_id=user_id) if w.name == item.workflow.name]
        if existing and existing[0].status in (WorkflowStatus.ACTIVE, WorkflowStatus.PAUSED):
            installed[id(item)] = existing[0]
        elif existing:
            installed[id(item)] = repo.update(
                existing[0].id,
                user_id=user_id,
                request=UpdateWorkflowRequest(
                    **request.model_dump(exclude=set() if filed else {"project_id"})
                ),
            )
        else:
            installed[id(item)] = repo.create(user_id, request)
        if installed[id(item)].status not in (WorkflowStatus.ACTIVE, WorkflowStatus.PAUSED):
            for made in _install_triggers(session, user_id, installed[id(item)].id, item):
                if show_secret is not None:
                    show_secret(made)
    return installed[id(loaded)]


def _install_triggers(
    session: "Session", user_id: str, workflow_id: str, item: LoadedWorkflow
) -> list[HookCreated | NotificationCreated]:
    from accord.team.workflow_triggers import install_triggers

    try:
        return install_triggers(
            session, user_id=user_id, workflow_id=workflow_id, triggers=item.workflow.triggers
        )
    except InvalidInput as exc:
        problems = [item.problem(p.field, p.message, p.fix) for p in exc.problems]
        raise WorkflowFileError(problems) from None


class _AgentFields(TypedDict):
    """What a file says of an agent, as `AgentRepository.create` and `update` take it."""

    role: str
    backstory: str
    skills: list[str]
    llm_provider_id: str | None
    model: str | None
    model_parameters: dict[str, Any]
    tools: list[str]


def _ensure_agent(
    session: "Session", user_id: str, spec: AgentSpec, item: LoadedWorkflow, index: int
) -> str:
    from accord.storage.repositories.agents import AgentRepository
    from accord.storage.repositories.providers import ProviderRepository

    repo = AgentRepository(session)
    provider_id = None
    if spec.provider != OFFLINE_PROVIDER:
        try:
            provider_id = pick(
                ProviderRepository(session).list(user_id=user_id),
                spec.provider,
                kind="llm provider",
                name=lambda p: p.name,
                ident=lambda p: p.id,
            ).id
        except NotFound:
            raise WorkflowFileError(
                [
                    item.problem(
                        f"agents[{index}].provider",
                        f"you have no provider named {spec.provider!r}",
                        "create it (`accord providers create`) or use `offline`",
                    )
                ]
            ) from None
    fields = _AgentFields(
        role=spec.role,
        backstory=spec.backstory,
        skills=spec.skills,
        llm_provider_id=provider_id,
        model=spec.model,
        model_parameters=spec.model_parameters,
        tools=spec.tools,
    )
    for agent in repo.list(user_id=user_id):
        if same_name(agent.name, spec.name):
            return repo.update(agent.id, user_id=user_id, **fields).id
    return repo.create(user_id=user_id, name=spec.name, **fields).id
