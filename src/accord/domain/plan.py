"""Build, then compile: a workflow definition is validated once into an immutable plan.

`compile_workflow` finds every fault of a definition at creation time, each named by its
field and step with a fix, and returns the `WorkflowPlan` the scheduler runs.
"""

import difflib
from collections.abc import Callable, Mapping, Set
from dataclasses import dataclass
from functools import cached_property
from types import MappingProxyType

from accord.domain.agent import Agent
from accord.domain.conditions import Condition, ConditionError, parse_condition
from accord.domain.enums import StepType, WorkflowType
from accord.domain.errors import InvalidDefinition, Problem
from accord.domain.tools import (
    McpServer,
    allow_list_problems,
    function_tool_problems,
    server_problems,
    toolkit_problems,
)
from accord.domain.workflow import (
    MAX_CONCURRENCY,
    MAX_CONSENSUS_ROUNDS,
    MAX_EXECUTION_SECONDS,
    MAX_FAN_OUT,
    MAX_RECURSION_DEPTH,
    MAX_RETRIES_LIMIT,
    MAX_STEPS,
    MAX_TIMEOUT_MINUTES,
    WorkflowConfiguration,
    WorkflowStep,
)
from accord.domain.workspace import workspace_path_problem


@dataclass(frozen=True)
class StepPlan:
    step: WorkflowStep
    deps: tuple[str, ...]
    """Steps that must end (completed or skipped) before this one may start."""
    condition: Condition | None
    max_retries: int
    timeout_seconds: float | None

    @cached_property  # read for every step at every advance: the scheduler's inner loop
    def id(self) -> str:
        return self.step.id


@dataclass(frozen=True)
class WorkflowPlan:
    workflow_type: WorkflowType
    configuration: WorkflowConfiguration
    steps: tuple[StepPlan, ...]
    """In a topological order: every step after all of its dependencies."""
    by_id: Mapping[str, StepPlan]
    participants: tuple[str, ...]
    coordinator_agent_id: str | None
    concurrency: int
    """Steps of one execution that may run at once (1 when parallel execution is off)."""

    def critical_path_length(self) -> int:
        """Steps on the longest dependency chain."""
        depth: dict[str, int] = {}
        for sp in self.steps:
            depth[sp.id] = 1 + max((depth[d] for d in sp.deps), default=0)
        return max(depth.values(), default=0)


def saved_server_problems(
    servers: Mapping[str, McpServer], saved_servers: Set[str]
) -> list[Problem]:
    """Each `{"saved": name}` entry must name one of the user's saved servers."""
    known = {name.strip().casefold(): name for name in saved_servers}
    problems = []
    for entry, server in servers.items():
        if server.saved is None or server.saved.strip().casefold() in known:
            continue
        close = difflib.get_close_matches(server.saved, sorted(known.values()), n=1)
        problems.append(
            Problem(
                f"configuration.mcpServers.{entry}.saved",
                f"you have no saved MCP server named {server.saved!r}",
                (f"did you mean {close[0]!r}? " if close else "")
                + "save it first (`accord mcp-servers create`, or the browser's MCP servers "
                "page), or declare the server here with `command` or `url`",
            )
        )
    return problems


def compile_workflow(
    *,
    workflow_type: WorkflowType,
    configuration: WorkflowConfiguration,
    participating_agents: list[str],
    coordinator_agent_id: str | None,
    owned_agents: Mapping[str, Agent],
    owned_workflow_ids: Set[str] | None = None,
    environment: Mapping[str, str] | None = None,
    saved_servers: Set[str] | None = None,
) -> WorkflowPlan:
    """Validate a definition and compile it. Raises `InvalidDefinition` listing every problem.

    `saved_servers`, when given, holds the names of the user's saved MCP servers, which
    `mcpServers` entries of the form `{"saved": name}` must name (ignoring case).

    `owned_agents` holds the requesting user's agents (at least those the definition names);
    `owned_workflow_ids`, when given, the user's workflows a recursive step may run;
    `environment`, when given, the variables the MCP servers' `${VAR}` must find (checked
    when a definition is saved, not when a stored one runs: the runner checks at the call).
    """
    problems: list[Problem] = []
    add = problems.append
    steps = configuration.steps
    participants = list(dict.fromkeys(participating_agents))

    # Participants and coordinator.
    if not participants:
        add(
            Problem(
                "participatingAgents",
                "no agents take part",
                "add at least one agent ID; a one-agent workflow is fine",
            )
        )
    if len(participants) != len(participating_agents):
        add(Problem("participatingAgents", "an agent is listed twice", "list each agent once"))
    for i, agent_id in enumerate(participants):
        if agent_id not in owned_agents:
            add(
                Problem(
                    f"participatingAgents[{i}]",
                    f"agent {agent_id!r} does not exist or is not yours",
                    "create the agent first, or pick one of your agents",
                )
            )
    if coordinator_agent_id is not None and coordinator_agent_id not in participants:
        add(
            Problem(
                "coordinatorAgentId",
                f"coordinator {coordinator_agent_id!r} is not a participant",
                "add it to participatingAgents or choose a participant",
            )
        )

    if saved_servers is not None:
        problems += saved_server_problems(configuration.mcp_servers, saved_servers)
    if configuration.workspace.path is not None:
        problem = workspace_path_problem(
            configuration.workspace.path, "configuration.workspace.path"
        )
        if problem:
            add(problem)

    # Limits.
    c = configuration.constraints
    _range(add, "configuration.constraints.maxRetries", c.max_retries, 0, MAX_RETRIES_LIMIT)
    _range(
        add,
        "configuration.constraints.maxExecutionTime",
        c.max_execution_time,
        0.01,
        MAX_EXECUTION_SECONDS,
        unit="minutes",
    )
    _range(add, "configuration.constraints.maxConcurrency", c.max_concurrency, 1, MAX_CONCURRENCY)
    _range(add, "configuration.constraints.maxDepth", c.max_depth, 1, MAX_RECURSION_DEPTH)
    _range(add, "configuration.constraints.maxFanOut", c.max_fan_out, 1, MAX_FAN_OUT)
    _range(add, "configuration.constraints.budgetTokens", c.budget_tokens, 1, 10**10)
    _range(add, "configuration.constraints.budgetUsd", c.budget_usd, 0.0001, 10**6)
    _range(
        add,
        "configuration.coordination.consensusRounds",
        configuration.coordination.consensus_rounds,
        1,
        MAX_CONSENSUS_ROUNDS,
    )
    _range(
        add,
        "configuration.coordination.questionDeadlineMinutes",
        configuration.coordination.question_deadline_minutes,
        0.001,
        24 * 60,
        unit="minutes",
    )

    _range(
        add,
        "configuration.constraints.maxToolCallsPerStep",
        c.max_tool_calls_per_step,
        0,
        10_000,
    )
    _range(
        add,
        "configuration.constraints.toolCallTimeoutSeconds",
        c.tool_call_timeout_seconds,
        0.1,
        24 * 3600,
        unit="seconds",
    )
    _range(
        add,
        "configuration.constraints.maxToolResultChars",
        c.max_tool_result_chars,
        100,
        10_000_000,
    )

    # Tools: servers, and what each participant may use of them.
    problems += server_problems(
        configuration.mcp_servers, where="configuration.mcpServers", environ=environment
    )
    problems += toolkit_problems(configuration.toolkits, where="configuration.toolkits")
    problems += function_tool_problems(
        configuration.function_tools,
        where="configuration.functionTools",
        servers=configuration.mcp_servers,
    )
    for i, agent_id in enumerate(participants):
        agent = owned_agents.get(agent_id)
        if agent is not None and agent.tools:
            problems += allow_list_problems(
                agent.tools,
                where=f"participatingAgents[{i}].tools",
                declared=[*configuration.mcp_servers, *configuration.function_tools],
                owner=f"agent {agent.name!r}",
            )

    # Steps.
    if not steps:
        add(Problem("configuration.steps", "the workflow has no steps", "add at least one step"))
    if len(steps) > MAX_STEPS:
        add(
            Problem(
                "configuration.steps",
                f"{len(steps)} steps is more than {MAX_STEPS}",
                "split the work into sub-workflows",
            )
        )
    seen: dict[str, int] = {}
    for i, step in enumerate(steps):
        if step.id in seen:
            add(
                Problem(
                    f"configuration.steps[{i}].id",
                    f"step ID {step.id!r} is also used by step {seen[step.id]}",
                    "give every step a unique ID",
                )
            )
        else:
            seen[step.id] = i
    roles = {owned_agents[a].role.lower() for a in participants if a in owned_agents}
    for i, step in enumerate(steps):
        where = f"configuration.steps[{i}]"
        for j, dep in enumerate(step.depends_on):
            if dep not in seen:
                add(
                    Problem(
                        f"{where}.dependsOn[{j}]",
                        f"step {step.id!r} depends on unknown step {dep!r}",
                        f"use one of: {', '.join(seen) or 'no steps yet'}",
                    )
                )
            elif dep == step.id:
                add(
                    Problem(
                        f"{where}.dependsOn[{j}]",
                        f"step {step.id!r} depends on itself",
                        "remove it from its own dependsOn",
                    )
                )
        if step.preferred_agent_id is not None and step.preferred_agent_id not in participants:
            add(
                Problem(
                    f"{where}.preferredAgentId",
                    f"step {step.id!r} prefers agent "
                    f"{step.preferred_agent_id!r}, which is not a participant",
                    "add that agent to participatingAgents or pick a participant",
                )
            )
        _range(
            add,
            f"{where}.timeoutMinutes",
            step.timeout_minutes,
            0.001,
            MAX_TIMEOUT_MINUTES,
            unit="minutes",
        )
        _range(add, f"{where}.maxRetries", step.max_retries, 0, MAX_RETRIES_LIMIT)
        if step.review_required:
            _check_reviewer(add, where, step, participants, owned_agents, roles)
        if step.type is StepType.DECISION and len(step.decision_options) == 1:
            add(
                Problem(
                    f"{where}.decisionOptions",
                    f"decision step {step.id!r} has one option",
                    "give at least two options, or none for approve/reject",
                )
            )
        if step.sub_workflow_id is not None:
            if workflow_type is not WorkflowType.RECURSIVE:
                add(
                    Problem(
                        f"{where}.subWorkflowId",
                        f"step {step.id!r} runs a sub-workflow "
                        f"but the workflow is {workflow_type.value}",
                        "set workflowType to recursive",
                    )
                )
            elif owned_workflow_ids is not None and step.sub_workflow_id not in owned_workflow_ids:
                add(
                    Problem(
                        f"{where}.subWorkflowId",
                        f"workflow {step.sub_workflow_id!r} does not exist or is not yours",
                        "create the sub-workflow first",
                    )
                )

    deps = _effective_deps(workflow_type, steps, seen)
    order = _topological_order(add, steps, deps)

    conditions: dict[str, Condition] = {}
    ancestors = _ancestors(order, deps) if order is not None else {}
    for i, step in enumerate(steps):
        if step.condition is None:
            continue
        where = f"configuration.steps[{i}].condition"
        if workflow_type not in (WorkflowType.CONDITIONAL, WorkflowType.RECURSIVE):
            add(
                Problem(
                    where,
                    f"step {step.id!r} has a condition but the workflow is {workflow_type.value}",
                    "set workflowType to conditional",
                )
            )
            continue
        try:
            cond = parse_condition(step.condition)
        except ConditionError as exc:
            add(
                Problem(
                    where,
                    f"step {step.id!r}: {exc}",
                    exc.fix
                    or "see the condition syntax in the "
                    'README, e.g. decisions.choose.outcome == "yes"',
                )
            )
            continue
        _check_decisions(add, where, step, cond, steps, seen)
        for ref in sorted(cond.referenced_steps):
            if ref not in seen:
                add(
                    Problem(
                        where,
                        f"step {step.id!r} tests unknown step {ref!r}",
                        f"use one of: {', '.join(seen)}",
                    )
                )
            elif order is not None and ref not in ancestors.get(step.id, set()):
                add(
                    Problem(
                        where,
                        f"step {step.id!r} tests step {ref!r}, which does not run before it",
                        f"add {ref!r} to its dependsOn",
                    )
                )
        conditions[step.id] = cond

    if problems:
        raise InvalidDefinition(problems)
    assert order is not None

    default_retries = c.max_retries if c.max_retries is not None else 2
    plans = tuple(
        StepPlan(
            step=step,
            deps=tuple(deps[step.id]),
            condition=conditions.get(step.id),
            max_retries=step.max_retries if step.max_retries is not None else default_retries,
            timeout_seconds=step.timeout_minutes * 60 if step.timeout_minutes else None,
        )
        for step in order
    )
    concurrency = 1 if c.allow_parallel_execution is False else c.max_concurrency
    return WorkflowPlan(
        workflow_type=workflow_type,
        configuration=configuration,
        steps=plans,
        by_id=MappingProxyType({p.id: p for p in plans}),
        participants=tuple(participants),
        coordinator_agent_id=coordinator_agent_id,
        concurrency=concurrency,
    )


def _check_decisions(
    add: Callable[[Problem], None],
    where: str,
    step: WorkflowStep,
    cond: Condition,
    steps: list[WorkflowStep],
    index: Mapping[str, int],
) -> None:
    """`decisions.<id>` must name a decision step, and an outcome compared with a literal
    must be compared with one of that step's options: otherwise the test is always false
    (or always true) and a branch is silently never (or always) taken."""
    for ref in sorted(cond.referenced_decisions):
        if ref in index and steps[index[ref]].type is not StepType.DECISION:
            add(
                Problem(
                    where,
                    f"step {step.id!r} tests decisions.{ref}, but {ref!r} is not a "
                    "decision step, so it never has an outcome",
                    f"test steps.{ref}.data.<field> instead, or make {ref!r} a decision step",
                )
            )
    reported: set[tuple[str, str]] = set()
    for test in cond.outcome_tests:
        if test.step_id not in index:
            continue  # reported as an unknown step
        decision = steps[index[test.step_id]]
        choices = decision.decision_choices()
        if decision.type is not StepType.DECISION or test.value in choices:
            continue
        if (test.step_id, repr(test.value)) in reported:
            continue
        reported.add((test.step_id, repr(test.value)))
        listed = ", ".join(choices)
        fix = f"compare with one of: {listed}"
        close = [c for c in choices if c.lower() == str(test.value).lower()]
        close = close or difflib.get_close_matches(str(test.value), choices, n=1)
        if close:
            fix = f"did you mean {close[0]!r}? " + fix
        if not decision.decision_options:
            fix += (
                f" (step {test.step_id!r} has no decisionOptions, so it decides between "
                f"the defaults {listed}; list its options in decisionOptions to offer others)"
            )
        add(
            Problem(
                where,
                f"step {step.id!r} compares decisions.{test.step_id}.outcome with "
                f"{test.value!r}, which is not one of the options of {test.step_id!r}: "
                f"[{listed}]",
                fix,
            )
        )


def _range(
    add: Callable[[Problem], None],
    field: str,
    value: float | None,
    low: float,
    high: float,
    *,
    unit: str = "",
) -> None:
    if value is not None and not (low <= value <= high):
        suffix = f" {unit}" if unit else ""
        add(Problem(field, f"{value} is out of range", f"use a value from {low} to {high}{suffix}"))


def _check_reviewer(
    add: Callable[[Problem], None],
    where: str,
    step: WorkflowStep,
    participants: list[str],
    owned_agents: Mapping[str, Agent],
    roles: set[str],
) -> None:
    if step.reviewer_role is not None:
        if step.reviewer_role.lower() not in roles:
            add(
                Problem(
                    f"{where}.reviewerRole",
                    f"step {step.id!r} needs a reviewer with role "
                    f"{step.reviewer_role!r} but no participant has it",
                    f"add an agent with that role, or use one of: {', '.join(sorted(roles))}",
                )
            )
    elif len(participants) < 2:
        add(
            Problem(
                f"{where}.reviewRequired",
                f"step {step.id!r} requires a review but only one "
                "agent takes part, and nobody reviews their own work",
                "add a second agent or set reviewRequired to false",
            )
        )


def _effective_deps(
    workflow_type: WorkflowType, steps: list[WorkflowStep], index: Mapping[str, int]
) -> dict[str, list[str]]:
    """A pipeline runs in the listed order; the other types follow `dependsOn`."""
    deps: dict[str, list[str]] = {}
    for i, step in enumerate(steps):
        explicit = [d for d in step.depends_on if d in index and d != step.id]
        if workflow_type is WorkflowType.PIPELINE and i > 0:
            explicit = list(dict.fromkeys([steps[i - 1].id, *explicit]))
        deps.setdefault(step.id, explicit)
    return deps


def _topological_order(
    add: Callable[[Problem], None], steps: list[WorkflowStep], deps: Mapping[str, list[str]]
) -> list[WorkflowStep] | None:
    """Kahn's algorithm in listed order (stable); on a cycle, report the steps on it."""
    by_id = {s.id: s for s in steps}
    remaining = {sid: set(d) for sid, d in deps.items()}
    order: list[WorkflowStep] = []
    done: set[str] = set()
    while True:
        ready = [sid for sid in by_id if sid not in done and remaining[sid] <= done]
        if not ready:
            break
        for sid in ready:
            done.add(sid)
            order.append(by_id[sid])
    if len(order) == len(by_id):
        return order
    cycle = _find_cycle(
        {sid: [d for d in remaining[sid] if d not in done] for sid in by_id if sid not in done}
    )
    index = {s.id: i for i, s in enumerate(steps)}
    add(
        Problem(
            f"configuration.steps[{index[cycle[0]]}].dependsOn",
            "dependency cycle: " + " -> ".join([*cycle, cycle[0]]),
            "remove one of these dependencies so the steps can run in an order",
        )
    )
    return None


def _find_cycle(graph: Mapping[str, list[str]]) -> list[str]:
    """Walk dependencies from any node left over; every leftover node leads into a cycle."""
    start = next(iter(graph))
    path: list[str] = []
    position: dict[str, int] = {}
    node = start
    while node not in position:
        position[node] = len(path)
        path.append(node)
        node = graph[node][0]
    return path[position[node] :][::-1]


def _ancestors(order: list[WorkflowStep], deps: Mapping[str, list[str]]) -> dict[str, set[str]]:
    result: dict[str, set[str]] = {}
    for step in order:
        acc: set[str] = set()
        for d in deps[step.id]:
            acc.add(d)
            acc |= result[d]
        result[step.id] = acc
    return result
