"""The YAML workflow format: a team (agents) and its workflow (steps, coordination,
constraints) in one file that people write by hand and keep in git.

Parsing is pure (text in, model or errors out) so that every layer above the domain can use
it: the CLI runs files, the server may accept them. Every fault is reported with the line and
the field it sits on, in the file's own terms: a file names agents by `name`, never by ID, so
the semantic checks of `compile_workflow` run with the names standing in for IDs and their
field paths are translated back (`participatingAgents[1]` becomes `agents[1]`).

The published JSON Schema (`schemas/workflow.schema.json`) is `workflow_file_schema()`.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path as FsPath
from typing import Any, Protocol

import yaml
from pydantic import ConfigDict, Field, ValidationError, model_validator
from pydantic.alias_generators import to_camel
from pydantic.json_schema import SkipJsonSchema

from accord.domain.agent import Agent
from accord.domain.base import CamelModel
from accord.domain.enums import WorkflowType
from accord.domain.errors import InvalidDefinition, Problem
from accord.domain.plan import compile_workflow
from accord.domain.tools import FunctionToolSpec, McpServer, ToolkitSettings
from accord.domain.triggers import TriggersSpec
from accord.domain.workflow import (
    Constraints,
    Coordination,
    CreateWorkflowRequest,
    WorkflowConfiguration,
    WorkflowStep,
    WorkspaceSettings,
)

OFFLINE_PROVIDER = "offline"
SCHEMA_ID = "https://accord.dev/schemas/workflow.schema.json"


class _Strict(CamelModel):
    """File models refuse unknown keys, so a misspelt field is an error with its line."""

    model_config = ConfigDict(extra="forbid")


class AgentSpec(_Strict):
    """An agent of the file's team, created (or brought up to date) by name when it runs."""

    name: str = Field(min_length=1, max_length=200, description="Unique within the file.")
    role: str = Field(min_length=1, max_length=200)
    backstory: str = ""
    skills: list[str] = Field(default_factory=list)
    provider: str = Field(
        default=OFFLINE_PROVIDER,
        description="`offline` (the built-in model, the default) or the name of one of your "
        "providers (`accord providers list`).",
    )
    model: str | None = Field(default=None, description="Overrides the provider's model.")
    model_parameters: dict[str, Any] = Field(default_factory=dict)
    tools: list[str] = Field(
        default_factory=list,
        description="What the agent may use besides talking to its team: a server of "
        "`mcpServers` or a built-in toolkit (`workspace`) whole, one tool "
        "(`files.read_text_file`), a pattern (`git.*`), or a function tool of "
        "`functionTools` by its name.",
    )


class StepSpec(WorkflowStep, _Strict):
    """A workflow step; agents are named by `agent`, a sub-workflow by its file path."""

    agent: str | None = Field(
        default=None, description="The name of the agent (in `agents`) preferred for this step."
    )
    sub_workflow: str | None = Field(
        default=None,
        description="Recursive workflows: the path of another workflow file (relative to this "
        "one) that this step runs as a child execution.",
    )
    preferred_agent_id: SkipJsonSchema[None] = Field(default=None, exclude=True)
    sub_workflow_id: SkipJsonSchema[None] = Field(default=None, exclude=True)

    @model_validator(mode="before")
    @classmethod
    def _ids_are_not_file_terms(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for key, instead in (
                ("preferredAgentId", "agent: <agent name>"),
                ("preferred_agent_id", "agent: <agent name>"),
                ("subWorkflowId", "subWorkflow: <file path>"),
                ("sub_workflow_id", "subWorkflow: <file path>"),
            ):
                if key in data:
                    raise ValueError(f"{key} is not used in workflow files: write {instead}")
        return data


class CoordinationSpec(Coordination, _Strict):
    pass


class McpServerSpec(McpServer, _Strict):
    pass


class ToolkitSpec(ToolkitSettings, _Strict):
    pass


class FunctionToolFileSpec(FunctionToolSpec, _Strict):
    pass


class ConstraintsSpec(Constraints, _Strict):
    pass


class WorkspaceSpec(WorkspaceSettings, _Strict):
    path: str | None = Field(
        default=None,
        description="The folder the team's files go to, shared by every run of this workflow "
        "(relative to this file, or absolute); omitted: a fresh folder per execution in the "
        "data directory.",
    )


class WorkflowFile(_Strict):
    """One workflow file: who takes part, what they do, and how they decide."""

    model_config = ConfigDict(
        title="Accord workflow",
        json_schema_extra={
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": SCHEMA_ID,
        },
    )

    name: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=10_000)
    workflow_type: WorkflowType = WorkflowType.PIPELINE
    agents: list[AgentSpec] = Field(min_length=1)
    coordinator: str | None = Field(
        default=None, description="The name of the agent (in `agents`) who coordinates."
    )
    steps: list[StepSpec] = Field(min_length=1)
    coordination: CoordinationSpec = Field(default_factory=CoordinationSpec)
    constraints: ConstraintsSpec = Field(default_factory=ConstraintsSpec)
    triggers: TriggersSpec = Field(
        default_factory=TriggersSpec,
        description="What starts this workflow by itself (schedules, webhooks, other "
        "workflows' ends) and where its runs are reported (signed notifications).",
    )
    mcp_servers: dict[str, McpServerSpec] = Field(
        default_factory=dict,
        description="MCP servers the agents may use, in the `mcpServers` format other MCP "
        "clients read; `${VAR}` and `${VAR:-default}` expand from the environment of the "
        "process running the step, `${WORKSPACE}` to the execution's workspace folder.",
    )
    toolkits: dict[str, ToolkitSpec] = Field(
        default_factory=dict,
        description="Settings of the built-in toolkits, by name: e.g. `workspace: "
        "{requireApproval: [write_file]}` makes those calls wait for a user's approval.",
    )
    function_tools: dict[str, FunctionToolFileSpec] = Field(
        default_factory=dict,
        description="Python functions the agents may use, made tools with `@accord.tool`, by "
        "tool name: `{function: module:qualname}`. Only a Python process that has imported "
        "the function can run a step that uses it; elsewhere (`accord run`, a server) that "
        "step fails saying which function is missing.",
    )
    workspace: WorkspaceSpec = Field(default_factory=WorkspaceSpec)

    def configuration(
        self,
        *,
        sub_workflow_ids: dict[str, str] | None = None,
        agent_ids: dict[str, str] | None = None,
        base_dir: FsPath | None = None,
    ) -> WorkflowConfiguration:
        """The stored configuration, with agent names and sub-workflow files resolved to IDs
        (`agent_ids`: name -> ID; `sub_workflow_ids`: step ID -> workflow ID) and a relative
        workspace folder to an absolute one under `base_dir` (the file's folder; default: the
        current directory)."""
        agent_ids = agent_ids or {a.name: a.name for a in self.agents}
        sub_workflow_ids = sub_workflow_ids or {}
        steps = [
            WorkflowStep.model_validate(
                {
                    **step.model_dump(exclude={"agent", "sub_workflow"}),
                    "preferred_agent_id": agent_ids.get(step.agent) if step.agent else None,
                    "sub_workflow_id": sub_workflow_ids.get(step.id, step.sub_workflow),
                }
            )
            for step in self.steps
        ]
        return WorkflowConfiguration(
            steps=steps,
            coordination=Coordination.model_validate(self.coordination.model_dump()),
            constraints=Constraints.model_validate(self.constraints.model_dump()),
            mcp_servers={
                name: McpServer.model_validate(server.model_dump())
                for name, server in self.mcp_servers.items()
            },
            toolkits={
                name: ToolkitSettings.model_validate(settings.model_dump())
                for name, settings in self.toolkits.items()
            },
            function_tools={
                name: FunctionToolSpec.model_validate(spec.model_dump())
                for name, spec in self.function_tools.items()
            },
            workspace=WorkspaceSettings(path=self._workspace_path(base_dir)),
        )

    def _workspace_path(self, base_dir: FsPath | None) -> str | None:
        path = self.workspace.path
        if path is None or not path.strip() or path.startswith("~") or FsPath(path).is_absolute():
            return path  # blank is reported by the definition check
        return str(((base_dir or FsPath.cwd()) / path).resolve())

    def create_request(
        self,
        *,
        agent_ids: dict[str, str],
        sub_workflow_ids: dict[str, str] | None = None,
        base_dir: FsPath | None = None,
    ) -> CreateWorkflowRequest:
        """The API's create request for this file, once its agents exist (name -> ID)."""
        return CreateWorkflowRequest(
            name=self.name,
            description=self.description,
            workflow_type=self.workflow_type,
            participating_agents=[agent_ids[a.name] for a in self.agents],
            coordinator_agent_id=agent_ids[self.coordinator] if self.coordinator else None,
            configuration=self.configuration(
                agent_ids=agent_ids, sub_workflow_ids=sub_workflow_ids, base_dir=base_dir
            ),
        )


@dataclass(frozen=True)
class FileProblem(Problem):
    """A `Problem` located in a file: `field` is the file's own path (`steps[2].dependsOn`)."""

    source: str = "<string>"
    line: int | None = None
    """1-based line of the field, or of the nearest enclosing one that exists."""

    def __str__(self) -> str:
        where = f"{self.source}:{self.line}" if self.line else self.source
        return f"{where}: {self.field}: {self.message} ({self.fix})"


class WorkflowFileError(InvalidDefinition):
    """A workflow file that cannot run; each problem names its line and field."""

    def __init__(self, problems: list[FileProblem]) -> None:
        super().__init__(list(problems))
        self.problems: list[FileProblem] = problems
        self.message = "Invalid workflow file:\n" + "\n".join(f"  {p}" for p in problems)
        self.args = (self.message,)


def parse_workflow_file(
    text: str, *, source: str = "<string>", environment: Mapping[str, str] | None = None
) -> WorkflowFile:
    """Parse and fully validate a workflow file. Raises `WorkflowFileError` listing every
    problem found (syntax, shape, then the semantic checks of `compile_workflow`; with
    `environment`, the MCP servers' `${VAR}` must be set in it)."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        # Marked errors (syntax) say where; a ReaderError (a character YAML does not allow,
        # such as a control character) says which character instead.
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        what = getattr(exc, "problem", None) or getattr(exc, "context", None) or str(exc)
        raise WorkflowFileError(
            [
                FileProblem(
                    "",
                    f"not valid YAML: {what}",
                    "fix the YAML syntax",
                    source=source,
                    line=mark.line + 1 if mark else None,
                )
            ]
        ) from None
    if root is None or not isinstance(root, yaml.MappingNode):
        raise WorkflowFileError(
            [
                FileProblem(
                    "",
                    "the file is not a mapping of fields",
                    "start with `name:`, `agents:` and `steps:` (see examples/)",
                    source=source,
                    line=root.start_mark.line + 1 if root else 1,
                )
            ]
        )
    locate = _Locator(root, source)
    if duplicates := locate.duplicate_keys():
        raise WorkflowFileError(duplicates)
    return _validate(yaml.safe_load(text), locate, environment)


def validate_workflow_data(
    data: Any, *, source: str, environment: Mapping[str, str] | None = None
) -> WorkflowFile:
    """Validate a workflow given as data in the file's shape (what the Python library builds),
    with the same checks and problems as a file, named by `source` and without lines."""
    return _validate(data, _Unlocated(source), environment)


def _validate(data: Any, locate: "_Locates", environment: Mapping[str, str] | None) -> WorkflowFile:
    try:
        workflow = WorkflowFile.model_validate(data)
    except ValidationError as exc:
        raise WorkflowFileError([_shape_problem(err, locate) for err in exc.errors()]) from None
    problems = _reference_problems(workflow, locate)
    problems += _semantic_problems(workflow, locate, environment)
    if problems:
        raise WorkflowFileError(problems)
    return workflow


def file_problem(
    text: str, field: str, message: str, fix: str, *, source: str = "<string>"
) -> FileProblem:
    """A problem found after parsing (e.g. a provider name the user has no provider for),
    located on the line of `field` (a path like `agents[1].provider`) in the file's text."""
    path = _parse_path(field)
    root = yaml.compose(text, Loader=yaml.SafeLoader)
    if root is None:  # an empty document (e.g. the file was emptied since): no line to give
        return FileProblem(_render(path), message, fix, source=source)
    return _Locator(root, source).problem(path, message, fix)


def workflow_file_schema() -> dict[str, Any]:
    """The published JSON Schema of the format (editors use it to complete and check files)."""
    return WorkflowFile.model_json_schema(by_alias=True, mode="validation")


# --- Locating fields -----------------------------------------------------------------------

Path = tuple[str | int, ...]


class _Locates(Protocol):
    def problem(self, path: Path, message: str, fix: str, *, key: bool = False) -> FileProblem:
        """The problem at the field `path`."""
        ...


@dataclass(frozen=True)
class _Unlocated:
    """Problems of a workflow that is not a file: the field path is all there is."""

    source: str

    def problem(self, path: Path, message: str, fix: str, *, key: bool = False) -> FileProblem:
        return FileProblem(_render(path), message, fix, source=self.source)


class _Locator:
    """Maps a field path to the line it sits on, from PyYAML's node marks."""

    def __init__(self, root: yaml.Node, source: str) -> None:
        self.root = root
        self.source = source

    def line(self, path: Path) -> int:
        node = self.root
        for part in path:
            child = self._child(node, part)
            if child is None:
                break
            node = child
        return node.start_mark.line + 1

    def key_line(self, path: Path) -> int:
        """The line of the key itself (for an unknown or misspelt key)."""
        parent = self._node(path[:-1])
        if isinstance(parent, yaml.MappingNode):
            for key, _ in _pairs(parent):
                if _same_key(key.value, path[-1]):
                    return key.start_mark.line + 1
        return self.line(path)

    def problem(self, path: Path, message: str, fix: str, *, key: bool = False) -> FileProblem:
        return FileProblem(
            _render(path),
            message,
            fix,
            source=self.source,
            line=self.key_line(path) if key and path else self.line(path),
        )

    def duplicate_keys(self) -> list[FileProblem]:
        problems: list[FileProblem] = []

        def walk(node: yaml.Node, path: Path) -> None:
            if isinstance(node, yaml.MappingNode):
                seen: set[str] = set()
                for key, value in _pairs(node):
                    if key.value in seen:
                        problems.append(
                            FileProblem(
                                _render((*path, key.value)),
                                "this key appears twice",
                                "keep one of them",
                                source=self.source,
                                line=key.start_mark.line + 1,
                            )
                        )
                    seen.add(key.value)
                    walk(value, (*path, key.value))
            elif isinstance(node, yaml.SequenceNode):
                for i, item in enumerate(_items(node)):
                    walk(item, (*path, i))

        walk(self.root, ())
        return problems

    def _node(self, path: Path) -> yaml.Node | None:
        node: yaml.Node | None = self.root
        for part in path:
            node = self._child(node, part) if node is not None else None
        return node

    @staticmethod
    def _child(node: yaml.Node, part: str | int) -> yaml.Node | None:
        if isinstance(node, yaml.MappingNode) and isinstance(part, str):
            for key, value in _pairs(node):
                if _same_key(key.value, part):
                    return value
        if isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            items = _items(node)
            if 0 <= part < len(items):
                return items[part]
        return None


def _pairs(node: yaml.MappingNode) -> list[tuple[yaml.Node, yaml.Node]]:
    """A mapping node's (key, value) nodes (PyYAML's stubs leave `value` untyped)."""
    pairs: list[tuple[yaml.Node, yaml.Node]] = node.value
    return pairs


def _items(node: yaml.SequenceNode) -> list[yaml.Node]:
    """A sequence node's item nodes (PyYAML's stubs leave `value` untyped)."""
    items: list[yaml.Node] = node.value
    return items


def _same_key(written: Any, field: str | int) -> bool:
    """A file may spell a field in camelCase or snake_case."""
    return isinstance(written, str) and (written == field or to_camel(written) == field)


def _render(path: Path) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


def _parse_path(field: str) -> Path:
    """`configuration.steps[2].dependsOn[0]` -> ("configuration", "steps", 2, "dependsOn", 0)."""
    return tuple(
        int(tok[1:-1]) if tok.startswith("[") else tok
        for tok in re.findall(r"\[\d+\]|[^.\[\]]+", field)
    )


# --- Problems ------------------------------------------------------------------------------


def _shape_problem(err: Any, locate: _Locates) -> FileProblem:
    # Pydantic appends union/validator tags to locations; keep the data path only.
    path: Path = tuple(
        p
        for p in err["loc"]
        if isinstance(p, int) or not p.startswith(("function-", "tagged-union"))
    )
    kind = err["type"]
    if kind == "extra_forbidden":
        return locate.problem(
            path,
            f"unknown field {path[-1]!r}",
            "check its spelling against the schema (schemas/workflow.schema.json)",
            key=True,
        )
    if kind == "missing":
        return locate.problem(path, "this field is required", f"add `{path[-1]}:`")
    message = err["msg"].removeprefix("Value error, ")
    return locate.problem(path, message, _shape_fix(err))


def _shape_fix(err: Any) -> str:
    ctx = err.get("ctx") or {}
    if err["type"] == "string_type" and isinstance(err.get("input"), bool):
        return 'quote it (e.g. "yes"): unquoted, YAML reads yes/no/on/off/true/false as a boolean'
    if "expected" in ctx:
        return "use one of the values listed"
    return "see schemas/workflow.schema.json for the allowed values"


def _reference_problems(workflow: WorkflowFile, locate: _Locates) -> list[FileProblem]:
    """Names the file uses must be names the file defines."""
    problems: list[FileProblem] = []
    names = [a.name for a in workflow.agents]
    seen: set[str] = set()
    for i, name in enumerate(names):
        if name in seen:
            problems.append(
                locate.problem(
                    ("agents", i, "name"),
                    f"agent {name!r} is defined twice",
                    "give every agent a unique name",
                )
            )
        seen.add(name)
    choices = f"use one of: {', '.join(names)}"
    if workflow.coordinator is not None and workflow.coordinator not in seen:
        problems.append(
            locate.problem(("coordinator",), f"unknown agent {workflow.coordinator!r}", choices)
        )
    for i, step in enumerate(workflow.steps):
        if step.agent is not None and step.agent not in seen:
            problems.append(
                locate.problem(
                    ("steps", i, "agent"),
                    f"step {step.id!r} names unknown agent {step.agent!r}",
                    choices,
                )
            )
    return problems


# compile_workflow's field paths, in the file's terms.
_FIELD_RENAMES = (
    (re.compile(r"^participatingAgents"), "agents"),
    (re.compile(r"^coordinatorAgentId"), "coordinator"),
    (re.compile(r"^configuration\."), ""),
    (re.compile(r"\.preferredAgentId$"), ".agent"),
    (re.compile(r"\.subWorkflowId$"), ".subWorkflow"),
)


def _semantic_problems(
    workflow: WorkflowFile, locate: _Locates, environment: Mapping[str, str] | None
) -> list[FileProblem]:
    """Run the definition compiler with names as agent IDs; map its problems to lines."""
    names = {a.name for a in workflow.agents}
    now = datetime.now(UTC)
    agents = {
        a.name: Agent(
            id=a.name,
            user_id="file",
            name=a.name,
            role=a.role,
            backstory=a.backstory,
            skills=a.skills,
            tools=a.tools,
            created_at=now,
            updated_at=now,
        )
        for a in workflow.agents
    }
    configuration = workflow.configuration()
    for step in configuration.steps:  # unknown names are reported by _reference_problems
        if step.preferred_agent_id not in names:
            step.preferred_agent_id = None
    try:
        compile_workflow(
            workflow_type=workflow.workflow_type,
            configuration=configuration,
            participating_agents=list(dict.fromkeys(a.name for a in workflow.agents)),
            coordinator_agent_id=workflow.coordinator if workflow.coordinator in names else None,
            owned_agents=agents,
            environment=environment,
        )
    except InvalidDefinition as exc:
        problems = []
        for p in exc.problems:
            field = p.field
            for pattern, replacement in _FIELD_RENAMES:
                field = pattern.sub(replacement, field)
            fix = p.fix.replace("participatingAgents", "agents").replace(
                "coordinatorAgentId", "coordinator"
            )
            problems.append(locate.problem(_parse_path(field), p.message, fix))
        return problems
    return []
