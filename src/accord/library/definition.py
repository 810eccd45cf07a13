"""Teams and workflows defined in Python: `Agent`, `Step`, `Workflow`, `Coordination` and
`Constraints`.

A `Workflow` is the YAML workflow format (`accord.domain.workflow_file`) built from
objects: it is turned into the file's data and validated by the same code, so a workflow
built in code and its YAML make the same stored definition and report the same problems.
The only things code adds are objects where a file has names: an `Agent` where a step names
its agent, a `Workflow` where a step names its sub-workflow's file, a pydantic-ai `Model`
object as an agent's model, and a function tool (`@accord.tool`) in an agent's tools, which
the file declares in `functionTools` by where the function is defined. A Model object and a
function tool exist only in the process that holds them: a run elsewhere fails the steps
that need them, saying why.
"""

import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import yaml
from pydantic.alias_generators import to_camel

from accord.domain.agent import IN_PROCESS_MODEL_PREFIX, OFFLINE_MODEL_NAME
from accord.domain.enums import (
    CommunicationStyle,
    ConsensusFallback,
    DecisionMaking,
    StepType,
    WorkflowType,
)
from accord.domain.tools import FunctionToolSpec, McpServer, ToolkitSettings
from accord.domain.workflow_file import (
    OFFLINE_PROVIDER,
    FileProblem,
    WorkflowFile,
    WorkflowFileError,
    validate_workflow_data,
)
from accord.library.errors import ValidationError

if TYPE_CHECKING:
    from pydantic_ai.models import Model

    from accord.domain.approval import ToolApproval
    from accord.library.function_tools import FunctionTool
    from accord.library.results import RunResult
    from accord.library.running import ExecutionStream
    from accord.team import LoadedWorkflow

WorkflowTypeName = Literal["pipeline", "parallel", "conditional", "recursive"]
StepTypeName = Literal[
    "analysis", "implementation", "review", "testing", "documentation", "coordination", "decision"
]


@dataclass(frozen=True, kw_only=True)
class Agent:
    """A member of a team: who it is, what it is good at, and the model it thinks with.

    `model` is one of:
    - `None` or `"offline"`: Accord's built-in offline model (no network, no key);
    - a pydantic-ai model name, `"openai:gpt-4o-mini"` or `"anthropic:claude-sonnet-4-0"`
      (the key comes from the vendor's environment variable, e.g. `OPENAI_API_KEY`);
    - the name of a provider saved in Accord (`accord providers list`);
    - any pydantic-ai `Model` object. It lives only in this process: a run elsewhere (a server
      resuming the execution) fails the agent's steps and says why.

    `provider` names a saved provider explicitly, with `model` then overriding its default
    model (as a workflow file's `provider:` and `model:`). Agents are matched by name: running
    a workflow creates them, or brings the ones of that name up to date.
    """

    name: str
    role: str
    backstory: str = ""
    skills: Sequence[str] = ()
    model: "str | Model | None" = None
    provider: str | None = None
    model_settings: Mapping[str, Any] = field(default_factory=dict)
    """Passed to the model with each request (temperature, max_tokens, ...)."""
    tools: "Sequence[str | FunctionTool[..., Any]]" = ()
    """What the agent may use besides talking to its team (its allow-list): a function made a
    tool with `@accord.tool`, a server of the workflow's `mcp_servers` or a built-in toolkit
    (`workspace`) whole, one tool (`files.read_text_file`) or a pattern (`git.*`)."""


@dataclass(frozen=True, kw_only=True)
class Step:
    """One step of a workflow; the fields are a workflow file's, in snake_case.

    `agent` is the agent preferred for the step (an `Agent` of the workflow, or its name);
    otherwise the coordinator or a skills score chooses. `condition` uses the safe condition
    language (`decisions.classify.outcome == "bug"`). `sub_workflow` (recursive workflows)
    runs another workflow as a nested team: a `Workflow`, or the path of a workflow file.
    """

    id: str
    name: str
    description: str = ""
    type: StepTypeName | StepType = "implementation"
    agent: Agent | str | None = None
    assigned_agent_role: str | None = None
    required_skills: Sequence[str] = ()
    depends_on: Sequence[str] = ()
    can_run_in_parallel: bool = False
    instructions: str = ""
    expected_output: str = ""
    timeout_minutes: float | None = None
    validation_criteria: Sequence[str] = ()
    review_required: bool = False
    reviewer_role: str | None = None
    condition: str | None = None
    max_retries: int | None = None
    decision_options: Sequence[str] = ()
    sub_workflow: "Workflow | str | Path | None" = None


@dataclass(frozen=True, kw_only=True)
class Coordination:
    """How the team talks and decides (a workflow file's `coordination:`)."""

    communication_style: Literal["formal", "casual", "technical"] | CommunicationStyle = "technical"
    decision_making: Literal["consensus", "coordinator", "majority"] | DecisionMaking = (
        "coordinator"
    )
    knowledge_sharing: bool = True
    consensus_rounds: int = 3
    consensus_fallback: Literal["coordinator", "majority", "fail"] | ConsensusFallback = (
        "coordinator"
    )
    question_deadline_minutes: float = 5.0
    fail_on_unanswered_question: bool = False


@dataclass(frozen=True, kw_only=True)
class Constraints:
    """Limits of each execution (a workflow file's `constraints:`); minutes, tokens, dollars."""

    max_execution_time: float | None = None
    """Seconds the whole execution may take."""
    max_retries: int | None = 2
    allow_parallel_execution: bool | None = True
    max_concurrency: int = 4
    max_depth: int = 3
    max_fan_out: int = 5
    budget_tokens: int | None = None
    budget_usd: float | None = None
    max_tool_calls_per_step: int = 50
    tool_call_timeout_seconds: float = 60.0
    max_tool_result_chars: int = 20_000
    approval_timeout_minutes: float | None = None
    """How long a tool call that needs approval waits (None: until someone decides)."""
    approval_timeout_outcome: Literal["approve", "reject"] = "reject"


class Workflow:
    """A team and its work: agents, steps, how they coordinate, and their limits.

    Validated when built: every problem (an unknown agent, a dependency cycle, a condition
    naming a step that does not exist...) is listed in one `accord.ValidationError`, each
    with its field and fix, as `accord validate` and the API report them. Run it with
    `run` (blocking), `arun` (async) or `stream` (its events as they happen); it runs in
    this process on the local database, like `accord run`.

    `mcp_servers` declares the MCP servers the agents may use, by name (an `McpServer`, or
    its fields as a workflow file writes them: `{"command": "npx", "args": [...]}`); each
    agent's `tools` says which of them (and which built-in toolkits) it may use.
    Function tools given to agents (`Agent(tools=[lookup_price])`) are declared by the
    workflow itself (its file's `functionTools`, naming each by `module:qualname`);
    `function_tools` declares more by name, as a file does. `toolkits` configures the
    built-in toolkits: `{"workspace": {"requireApproval": ["write_file"]}}` makes those
    calls wait for a user's approval.
    `triggers` is a workflow file's `triggers:` block (`schedules`, `hooks`, `after`,
    `notify`): installed with the workflow when it runs; a new hook's or notification's
    secret is printed to stderr, the one time it is shown. `workspace` is a workflow file's
    `workspace:` block (`{"path": "reports"}`: a named folder shared by its runs).
    """

    def __init__(
        self,
        *,
        name: str,
        agents: Sequence[Agent],
        steps: Sequence[Step],
        workflow_type: WorkflowTypeName | WorkflowType = "pipeline",
        description: str = "",
        coordinator: Agent | str | None = None,
        coordination: Coordination | None = None,
        constraints: Constraints | None = None,
        mcp_servers: "Mapping[str, McpServer | Mapping[str, Any]] | None" = None,
        toolkits: "Mapping[str, ToolkitSettings | Mapping[str, Any]] | None" = None,
        function_tools: "Mapping[str, FunctionToolSpec | Mapping[str, Any]] | None" = None,
        triggers: Mapping[str, Any] | None = None,
        workspace: Mapping[str, Any] | None = None,
    ) -> None:
        self.name = name
        self.agents: tuple[Agent, ...] = tuple(agents)
        self.steps: tuple[Step, ...] = tuple(steps)
        self.workflow_type: WorkflowTypeName | WorkflowType = workflow_type
        self.description = description
        self.coordinator = coordinator
        self.coordination = coordination or Coordination()
        self.constraints = constraints or Constraints()
        self.mcp_servers = dict(mcp_servers or {})
        self.toolkits = dict(toolkits or {})
        self.function_tools = dict(function_tools or {})
        self.triggers = dict(triggers or {})
        self.workspace = dict(workspace or {})
        self._path: Path | None = None
        self._children: dict[str, Workflow] = {}
        try:
            self._file: WorkflowFile = validate_workflow_data(
                self._data(workflow_type), source=self._source, environment=os.environ
            )
        except WorkflowFileError as exc:
            raise ValidationError(exc.problems, subject=f"workflow {name!r}") from None
        self.workflow_type = self._file.workflow_type

    # --- YAML --------------------------------------------------------------------------------

    @classmethod
    def from_yaml(cls, path: str | Path) -> "Workflow":
        """A workflow file (and the sub-workflow files it names) as a `Workflow`."""
        from accord.team import load_workflow  # not needed to build one

        try:
            loaded = load_workflow(Path(path))
        except WorkflowFileError as exc:
            raise ValidationError(exc.problems, subject=f"workflow file {str(path)!r}") from None
        return cls._from_loaded(loaded, Path(path).resolve())

    @classmethod
    def _from_loaded(cls, loaded: "LoadedWorkflow", path: Path) -> "Workflow":
        file = loaded.workflow
        agents = {
            a.name: Agent(
                name=a.name,
                role=a.role,
                backstory=a.backstory,
                skills=tuple(a.skills),
                model=a.model,
                provider=None if a.provider == OFFLINE_PROVIDER else a.provider,
                model_settings=a.model_parameters,
                tools=tuple(a.tools),
            )
            for a in file.agents
        }
        steps = []
        for spec in file.steps:
            values = spec.model_dump(by_alias=False, exclude={"agent", "sub_workflow"})
            child = loaded.children.get(spec.id)
            steps.append(
                Step(
                    **values,
                    agent=spec.agent,
                    sub_workflow=cls._from_loaded(child, path.parent / (spec.sub_workflow or ""))
                    if child is not None
                    else None,
                )
            )
        workflow = cls.__new__(cls)
        workflow._init_from(
            file,
            agents=tuple(agents.values()),
            steps=tuple(steps),
            coordination=Coordination(**file.coordination.model_dump(by_alias=False)),
            constraints=Constraints(**file.constraints.model_dump(by_alias=False)),
        )
        workflow._path = path
        workflow._children = {
            s.id: s.sub_workflow for s in steps if isinstance(s.sub_workflow, Workflow)
        }
        return workflow

    def _init_from(
        self,
        file: WorkflowFile,
        *,
        agents: tuple[Agent, ...],
        steps: tuple[Step, ...],
        coordination: Coordination,
        constraints: Constraints,
    ) -> None:
        self.name = file.name
        self.description = file.description
        self.workflow_type = file.workflow_type
        self.agents = agents
        self.steps = steps
        self.coordinator = file.coordinator
        self.coordination = coordination
        self.constraints = constraints
        self.mcp_servers = {
            name: McpServer.model_validate(server.model_dump())
            for name, server in file.mcp_servers.items()
        }
        self.toolkits = {
            name: ToolkitSettings.model_validate(settings.model_dump())
            for name, settings in file.toolkits.items()
        }
        self.function_tools = {
            name: FunctionToolSpec.model_validate(spec.model_dump())
            for name, spec in file.function_tools.items()
        }
        self.triggers = file.triggers.model_dump(mode="json", exclude_defaults=True)
        self.workspace = file.workspace.model_dump(mode="json", exclude_defaults=True)
        self._file = file

    def to_yaml(self) -> str:
        """The workflow as a workflow file (fields left at their defaults are omitted). A
        sub-workflow is named by its file: the one it was read from, or `<its name>.yaml`
        next to this one, which `save` writes. A function tool is written as a reference,
        `functionTools: {name: {function: module:qualname}}`: a Python process that imports
        that module can run the file (`Workflow.from_yaml(path).run()`); anywhere else
        (`accord run`, a server) the steps that use it fail, saying which function is
        missing. A pydantic-ai `Model` object is written as its system and name."""
        data = self._file.model_dump(mode="json", by_alias=True, exclude_defaults=True)
        data = {"name": data.pop("name"), **data}
        text: str = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
        return text

    def save(self, path: str | Path) -> Path:
        """Write the workflow to `path` as YAML, and each sub-workflow built in code beside it;
        returns the path."""
        target = Path(path)
        target.write_text(self.to_yaml(), encoding="utf-8")
        for step in self._file.steps:
            child = self._children.get(step.id)
            if child is not None and step.sub_workflow is not None:
                child_path = (target.parent / step.sub_workflow).resolve()
                if child._path is None or child._path != child_path:
                    child.save(child_path)
        return target

    # --- running -----------------------------------------------------------------------------

    def run(
        self,
        *,
        inputs: Mapping[str, Any] | None = None,
        timeout: float | None = None,
        approve: "Callable[[ToolApproval], bool] | None" = None,
    ) -> "RunResult":
        """Run the workflow to its end in this process and return what it came to.

        Blocks; works from a script and inside a running event loop (a notebook). An
        execution of this workflow cut off before it ended (by a crash, or Ctrl-C) is
        followed to its end instead of starting another. `timeout` (seconds) cancels the
        execution when it is reached. Ctrl-C stops cleanly and leaves the execution to
        resume on the next run.

        A tool call marked `requireApproval` is put to `approve` (True: make the call,
        False: reject it; it runs in a worker thread, so it may ask with `input()`).
        Without it the run says on stderr which call waits and waits for a decision made
        elsewhere (`accord approvals approve ID`, the web UI on the same database)."""
        from accord.library.running import run_blocking

        return run_blocking(self, inputs=inputs, timeout=timeout, approve=approve)

    async def arun(
        self,
        *,
        inputs: Mapping[str, Any] | None = None,
        timeout: float | None = None,
        approve: "Callable[[ToolApproval], bool] | None" = None,
    ) -> "RunResult":
        """`run` for async code: await the workflow's end."""
        from accord.library.running import run_async

        return await run_async(self, inputs=inputs, timeout=timeout, approve=approve)

    def stream(
        self, *, inputs: Mapping[str, Any] | None = None, timeout: float | None = None
    ) -> "ExecutionStream":
        """Run the workflow and yield its events as they are recorded (`async for`); the
        stream's `result` holds the outcome once it has ended. Leaving the loop early stops
        the run as Ctrl-C does: the execution resumes on the next run."""
        from accord.library.running import ExecutionStream

        return ExecutionStream(self, inputs=inputs, timeout=timeout)

    # --- what the runner needs ---------------------------------------------------------------

    def loaded(self) -> "LoadedWorkflow":
        """The validated workflow tree, in the form `install_workflow` takes."""
        from accord.team import LoadedWorkflow

        return LoadedWorkflow(
            workflow=self._file,
            source=self._source,
            children={sid: child.loaded() for sid, child in self._children.items()},
        )

    def in_process_tools(self) -> "list[FunctionTool[..., Any]]":
        """The function tools its agents hold, over the whole tree."""
        found = [t for a in self.agents for t in a.tools if not isinstance(t, str)]
        for child in self._children.values():
            found += child.in_process_tools()
        return found

    def in_process_models(self) -> "dict[str, Model]":
        """Agent name -> the `Model` object it runs on, over the whole tree."""
        models = {
            a.name: a.model
            for a in self.agents
            if a.model is not None and not isinstance(a.model, str)
        }
        for child in self._children.values():
            models |= child.in_process_models()
        return models

    def __repr__(self) -> str:
        return f"Workflow(name={self.name!r}, steps={len(self.steps)}, agents={len(self.agents)})"

    @property
    def _source(self) -> str:
        return str(self._path) if self._path else f"workflow {self.name!r}"

    def _data(self, workflow_type: object) -> dict[str, Any]:
        """The workflow file's data for this workflow (validated by the file's own rules)."""
        steps = []
        for step in self.steps:
            values = {
                f.name: list(value) if isinstance(value, tuple) else value
                for f in fields(step)
                if f.name not in ("agent", "sub_workflow")
                for value in [getattr(step, f.name)]
            }
            values["agent"] = step.agent.name if isinstance(step.agent, Agent) else step.agent
            values["sub_workflow"] = self._sub_workflow(step)
            steps.append(values)
        coordinator = self.coordinator
        function_tools = {
            name: spec.model_dump(mode="json", by_alias=True, exclude_defaults=True)
            if isinstance(spec, FunctionToolSpec)
            else dict(spec)
            for name, spec in self.function_tools.items()
        }
        function_tools |= _held_tools(self.agents)
        return _camel(
            {
                "name": self.name,
                "description": self.description,
                "workflow_type": workflow_type,
                "agents": [_camel(_agent_data(a)) for a in self.agents],
                "coordinator": coordinator.name if isinstance(coordinator, Agent) else coordinator,
                "steps": [_camel(s) for s in steps],
                "coordination": _camel(asdict(self.coordination)),
                "constraints": _camel(asdict(self.constraints)),
                "mcp_servers": {
                    name: server.model_dump(mode="json", by_alias=True, exclude_defaults=True)
                    if isinstance(server, McpServer)
                    else dict(server)
                    for name, server in self.mcp_servers.items()
                },
                "toolkits": {
                    name: settings.model_dump(mode="json", by_alias=True, exclude_defaults=True)
                    if isinstance(settings, ToolkitSettings)
                    else dict(settings)
                    for name, settings in self.toolkits.items()
                },
                "function_tools": function_tools,
                "triggers": self.triggers,
                "workspace": self.workspace,
            }
        )

    def _sub_workflow(self, step: Step) -> str | None:
        child = step.sub_workflow
        if child is None:
            return None
        if not isinstance(child, Workflow):
            child = Workflow.from_yaml(child)
        self._children[step.id] = child
        if child._path is not None:
            return str(child._path)
        return f"{_slug(child.name)}.yaml"


def _agent_data(agent: Agent) -> dict[str, Any]:
    model = agent.model
    provider = agent.provider
    if model is not None and not isinstance(model, str):  # a pydantic-ai Model object
        model = f"{IN_PROCESS_MODEL_PREFIX}{model.system}:{model.model_name}"
    elif provider is None and model in (OFFLINE_PROVIDER, OFFLINE_MODEL_NAME):
        model = None
    elif provider is None and model is not None and ":" not in model:
        provider, model = model, None  # a saved provider's name
    return {
        "name": agent.name,
        "role": agent.role,
        "backstory": agent.backstory,
        "skills": list(agent.skills),
        "provider": provider or OFFLINE_PROVIDER,
        "model": model,
        "model_parameters": dict(agent.model_settings),
        "tools": [t if isinstance(t, str) else t.name for t in agent.tools],
    }


def _held_tools(agents: Sequence[Agent]) -> dict[str, Any]:
    """The `functionTools` declarations of the function tools the agents hold. Two different
    functions under one name are refused (the model could not tell them apart)."""
    held: dict[str, FunctionTool[..., Any]] = {}
    problems = []
    for i, agent in enumerate(agents):
        for j, held_tool in enumerate(agent.tools):
            if isinstance(held_tool, str):
                continue
            other = held.setdefault(held_tool.name, held_tool)
            if other.reference != held_tool.reference:
                problems.append(
                    FileProblem(
                        f"agents[{i}].tools[{j}]",
                        f"two different functions are tools named {held_tool.name!r}: "
                        f"{other.reference} and {held_tool.reference}",
                        "give one of them another name: @accord.tool(name=...)",
                    )
                )
    if problems:
        raise WorkflowFileError(problems)
    return {
        name: {"function": t.reference, "requireApproval": t.require_approval}
        for name, t in held.items()
    }


def _camel(values: dict[str, Any]) -> dict[str, Any]:
    """The file's spelling of the fields, so that problems name them as for a file."""
    return {to_camel(key): value for key, value in values.items()}


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "workflow"
