"""What never changes about an execution (its plan, owner and start time), cached for the
transactions that run it, so that each reads it once."""

from typing import Any

from sqlalchemy.orm import Session

from accord.domain.agent import Agent
from accord.domain.enums import WorkflowType
from accord.domain.execution import WorkflowExecution
from accord.domain.plan import WorkflowPlan, compile_workflow
from accord.domain.workflow import WorkflowConfiguration
from accord.storage.repositories.agents import AgentRepository
from accord.storage.repositories.executions import ExecutionRepository

CACHE_LIMIT = 4096
"""Executions whose plans and owners a runner keeps at most (see `_bounded`)."""


class ExecutionFacts:
    def __init__(self) -> None:
        self._plans: dict[str, WorkflowPlan] = {}
        self._owners: dict[str, str] = {}
        self._started_at: dict[str, float] = {}

    def owner(self, session: Session, execution: WorkflowExecution) -> str:
        """The user an execution belongs to (cached: it never changes)."""
        if execution.id not in self._owners:
            _bounded(self._owners)
            self._owners[execution.id] = ExecutionRepository(session).owner(execution.id)
        return self._owners[execution.id]

    def plan(self, session: Session, execution: WorkflowExecution) -> WorkflowPlan:
        """The compiled plan of the execution's definition snapshot (cached: it never changes)."""
        cached = self._plans.get(execution.id)
        if cached is not None:
            return cached
        if not execution.definition:  # a light read: fetch the snapshot
            execution = ExecutionRepository(session).get(execution.id)
        d = execution.definition
        user_id = self.owner(session, execution)
        plan = compile_workflow(
            workflow_type=WorkflowType(d["workflowType"]),
            configuration=WorkflowConfiguration.model_validate(d["configuration"]),
            participating_agents=d["participatingAgents"],
            coordinator_agent_id=d.get("coordinatorAgentId"),
            owned_agents=agents_for_plan(session, user_id),
        )
        _bounded(self._plans, self._started_at)
        self._plans[execution.id] = plan
        self._started_at[execution.id] = started_at(execution)
        return plan

    def forget(self, execution_id: str) -> None:
        """Drop what is cached about an execution that has ended."""
        self._plans.pop(execution_id, None)
        self._started_at.pop(execution_id, None)
        self._owners.pop(execution_id, None)

    def cached_plan(self, execution_id: str) -> WorkflowPlan | None:
        return self._plans.get(execution_id)

    def started_at(self, session: Session, execution: WorkflowExecution) -> float:
        self.plan(session, execution)
        return self._started_at[execution.id]


def agents_for_plan(session: Session, user_id: str) -> dict[str, Agent]:
    """The user's agents as a plan is checked against them when a run starts or goes on:
    without their tool allow-lists, which are checked when the workflow is saved (an agent's
    later edit must not stop a run; at a call an attempt reaches only the declared tools)."""
    return {
        agent.id: agent.model_copy(update={"tools": []})
        for agent in AgentRepository(session).list(user_id=user_id)
    }


def _bounded(*caches: dict[str, Any]) -> None:
    """Empty full caches. Only the process that ends an execution forgets it, so a worker
    would otherwise keep the plan of every execution it ran a step of and another ended; an
    emptied cache refills from the database, one read per execution."""
    if len(caches[0]) >= CACHE_LIMIT:
        for cache in caches:
            cache.clear()


def started_at(execution: WorkflowExecution) -> float:
    """When the execution started, to the sub-second (`started_at` keeps whole seconds, as the
    spec's column does; the definition snapshot records the precise time)."""
    return execution.definition.get("startedAt") or execution.started_at.timestamp()
