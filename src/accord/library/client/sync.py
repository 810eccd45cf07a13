"""`Client`: the Accord REST API from synchronous code, one typed method per operation.

Generated from `aio.py` by `python -m accord.library.client.unasync`: edit that file instead.
"""

import time
import builtins  # `builtins.list` in annotations: resources' `list` methods shadow it
from collections.abc import Iterator, Mapping
from types import TracebackType
from typing import Any

import httpx
from pydantic import BaseModel

from accord.domain.agent import (
    Agent,
    ApiToken,
    LlmProvider,
    Project,
    ProjectMember,
    User,
)
from accord.domain.approval import ToolApproval
from accord.domain.execution import ExecutionEvent, WorkflowExecution
from accord.domain.interaction import AgentInteraction
from accord.domain.knowledge import CollaborationKnowledge
from accord.domain.mcp_server import SavedMcpServer
from accord.domain.metrics import CollaborationMetrics
from accord.domain.template import WorkflowTemplate
from accord.domain.triggers import (
    Dependency,
    HookCreated,
    Notification,
    NotificationCreated,
    NotificationDelivery,
    Schedule,
)
from accord.domain.workflow import CollaborationWorkflow
from accord.domain.workspace import WorkspaceFile
from accord.library.client.operations import (
    OPERATIONS,
    SseParser,
    build_request,
    ends_watch,
    raise_for_error,
)
from accord.server.routes.triggers import WorkflowTriggers
from accord.server.schemas import ExecutionDetail, SessionInfo, TokenCreated, ValidationReport
from accord.team import ExecutionReport

Body = BaseModel | Mapping[str, Any]
"""A request body: the API's request model, or a mapping of its fields (either spelling)."""
DEFAULT_URL = "http://127.0.0.1:8765"
RECONNECT_DELAYS_S = (0.1, 0.5, 1.0, 2.0, 5.0)
"""Waits before reconnecting a dropped event stream; the last repeats."""


class Client:
    """A client of a running Accord server (`accord serve`).

    `token` is an API token: `accord tokens create NAME` where the server runs (on its
    database), or `POST /tokens` once signed in. Errors raise `ValidationError` (422:
    `problems`, each with its field and fix) or `ApiError` (`status`, `code`, `message`,
    `details`). Use it in `with`, or call `close`."""

    def __init__(
        self,
        base_url: str = DEFAULT_URL,
        *,
        token: str | None = None,
        timeout: float = 30.0,
        http: httpx.Client | None = None,
    ) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.http = http or httpx.Client(base_url=base_url, headers=headers, timeout=timeout)
        self.me = _Me(self)
        """`get()`, `update(display_name=...)`: the token's user."""
        self.tokens = _Tokens(self)
        """`list()`, `create(name=..., scope=...)`, `revoke(id)`: API tokens."""
        self.users = _Users(self)
        """`list()`, `create(email=..., display_name=...)`, `get(id)`, `update(id, ...)`:
        the server's users (administrators only)."""
        self.providers = _Providers(self)
        """`list()`, `create(body)`, `get(id)`, `update(id, body)`, `delete(id)`."""
        self.agents = _Agents(self)
        """`list()`, `create(body)`, `get(id)`, `update(id, body)`, `delete(id)`."""
        self.templates = _Templates(self)
        """`list(category=)`, `create`, `get`, `update`, `delete`, `create_workflow(id, body)`."""
        self.workflows = _Workflows(self)
        """`list(status=)`, `create`, `validate`, `get`, `update`, `delete`, `import_yaml`,
        `export_yaml`, `save_as_template`, `start(id, inputs=)`, `executions(id)`, `analytics(id)`,
        `knowledge(id, q=)`."""
        self.executions = _Executions(self)
        """`get(id)`, `pause`, `resume`, `cancel`, `rerun`, `retry`, `interactions(id, type=)`,
        `metrics(id)`, `files(id)`, `file(id, path)`, `files_zip(id)`, `watch(id, after=)`:
        its events to its end, resumed after drops."""
        self.events = _Events(self)
        """`watch(after=)`: every event of the user's executions from now on."""
        self.questions = _Questions(self)
        """`list(status=)`: questions agents put to the user."""
        self.interactions = _Interactions(self)
        """`answer(id, message=...)`: answer a question put to the user."""
        self.knowledge = _Knowledge(self)
        """`validate(id, agent_id=...)`: an agent confirms a knowledge entry."""
        self.mcp_servers = _McpServers(self)
        """`list()`, `create(body)`, `get(id)`, `update(id, body)`, `delete(id)`: saved MCP
        servers a workflow names as `{saved: NAME}`."""
        self.projects = _Projects(self)
        """`list()`, `create(body)`, `get(id)`, `update(id, body)`, `delete(id)`,
        `workflows(id)`, `members(id)`, `set_member(id, user, role)`, `remove_member(id, user)`."""
        self.approvals = _Approvals(self)
        """`list(status=, execution_id=)`, `get(id)`, `approve(id, reason=)`,
        `reject(id, reason=)`: tool calls waiting for a person's decision."""
        self.schedules = _Schedules(self)
        """`pause(id)`, `resume(id)`, `delete(id)`; add one with `workflows.add_schedule`."""
        self.hooks = _Hooks(self)
        """`delete(id)`; add one with `workflows.add_hook`."""
        self.dependencies = _Dependencies(self)
        """`delete(id)`; add one with `workflows.add_dependency`."""
        self.notifications = _Notifications(self)
        """`list()`, `create(body)`, `delete(id)`, `deliveries(id)`, `redeliver(delivery_id)`."""

    def close(self) -> None:
        """Close the connections."""
        self.http.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def call(
        self,
        name: str,
        path_params: Mapping[str, str] | None = None,
        *,
        query: Mapping[str, Any] | None = None,
        body: Body | None = None,
        raw: bool = False,
    ) -> Any:
        """Operation `name` of `OPERATIONS` (e.g. `"agents.get"`), its answer read as its type
        (`raw`: its bytes, for an operation that answers in several formats)."""
        request = build_request(name, path_params, query=query, body=body)
        response = self.http.request(
            request.method, request.url, params=request.params, json=request.json
        )
        if (raw or OPERATIONS[name].binary) and response.status_code < 400:
            return response.content
        payload = response.json() if response.content else None
        raise_for_error(response.status_code, payload, response.reason_phrase)
        # A list comes in pages (`Link: <...>; rel="next"`): read them all, unless the caller
        # asked for at most `limit`.
        whole = query is None or query.get("limit") is None
        while whole and isinstance(payload, list) and "next" in response.links:
            response = self.http.get(response.request.url.join(response.links["next"]["url"]))
            more = response.json() if response.content else None
            raise_for_error(response.status_code, more, response.reason_phrase)
            payload += more or []
        return OPERATIONS[name].read(payload)

    def follow(
        self, name: str, path_params: Mapping[str, str], *, after: int | None, until: str | None
    ) -> Iterator[ExecutionEvent]:
        """The events of stream `name` after event `after`, reconnecting with `Last-Event-ID`
        whenever the connection drops; ends after execution `until` ends (if given)."""
        parser = SseParser(last_event_id=after)
        failures = 0
        while True:
            request = build_request(name, path_params)
            parser.reconnected()
            headers = {"Accept": "text/event-stream"}
            if parser.last_event_id is not None:
                headers["Last-Event-ID"] = str(parser.last_event_id)
            try:
                with self.http.stream(
                    "GET", request.url, headers=headers, timeout=httpx.Timeout(None)
                ) as response:
                    if response.status_code >= 400:
                        response.read()
                        raise_for_error(
                            response.status_code, response.json(), response.reason_phrase
                        )
                    for line in response.iter_lines():
                        for event in parser.feed(line):
                            failures = 0
                            yield event
                            if until is not None and ends_watch(event, until):
                                return
            except (httpx.TransportError, httpx.RemoteProtocolError):
                pass  # dropped: resume after the last event received
            time.sleep(RECONNECT_DELAYS_S[min(failures, len(RECONNECT_DELAYS_S) - 1)])
            failures += 1


class _Resource:
    def __init__(self, client: Client) -> None:
        self._client = client


class _Me(_Resource):
    def get(self) -> User:
        """The user the token belongs to."""
        user: User = self._client.call("me.get")
        return user

    def update(self, *, display_name: str) -> User:
        """Change the user's display name."""
        user: User = self._client.call("me.update", body={"displayName": display_name})
        return user

    def sessions(self) -> list[SessionInfo]:
        """The user's browser sessions."""
        sessions: list[SessionInfo] = self._client.call("me.sessions")
        return sessions

    def end_session(self, session_id: str) -> None:
        """End one of the user's browser sessions (and its open event streams)."""
        self._client.call("me.end_session", {"session_id": session_id})


class _Users(_Resource):
    def list(self) -> builtins.list[User]:
        """Every user (administrators only)."""
        users: list[User] = self._client.call("users.list")
        return users

    def create(
        self,
        *,
        email: str,
        display_name: str,
        password: str | None = None,
        is_admin: bool = False,
    ) -> User:
        """A new user (administrators only)."""
        body = {
            "email": email,
            "displayName": display_name,
            "password": password,
            "isAdmin": is_admin,
        }
        user: User = self._client.call("users.create", body=body)
        return user

    def get(self, user_id: str) -> User:
        """One user (administrators only)."""
        user: User = self._client.call("users.get", {"user_id": user_id})
        return user

    def update(
        self,
        user_id: str,
        *,
        disabled: bool | None = None,
        is_admin: bool | None = None,
        password: str | None = None,
    ) -> User:
        """Disable or enable, make or unmake administrator, set a password."""
        body = {
            key: value
            for key, value in (
                ("disabled", disabled),
                ("isAdmin", is_admin),
                ("password", password),
            )
            if value is not None
        }
        user: User = self._client.call("users.update", {"user_id": user_id}, body=body)
        return user


class _Tokens(_Resource):
    def list(self) -> list[ApiToken]:
        """The user's API tokens (never their secrets)."""
        tokens: list[ApiToken] = self._client.call("tokens.list")
        return tokens

    def create(
        self, *, name: str, expires_in_days: int | None = None, scope: str = "admin"
    ) -> TokenCreated:
        """A new API token of `scope` (read, run or admin); its secret (`token`) is in this
        answer only."""
        created: TokenCreated = self._client.call(
            "tokens.create",
            body={"name": name, "expiresInDays": expires_in_days, "scope": scope},
        )
        return created

    def revoke(self, token_id: str) -> None:
        """Revoke a token: requests with it fail from now on."""
        self._client.call("tokens.revoke", {"token_id": token_id})


class _Providers(_Resource):
    def list(self) -> list[LlmProvider]:
        """The user's LLM providers (API keys are never returned)."""
        providers: list[LlmProvider] = self._client.call("providers.list")
        return providers

    def create(self, body: Body) -> LlmProvider:
        """Save a provider (`ProviderCreate`: name, kind, defaultModel, baseUrl, apiKey...)."""
        provider: LlmProvider = self._client.call("providers.create", body=body)
        return provider

    def get(self, provider_id: str) -> LlmProvider:
        """One provider."""
        provider: LlmProvider = self._client.call(
            "providers.get", {"provider_id": provider_id}
        )
        return provider

    def update(self, provider_id: str, body: Body) -> LlmProvider:
        """Change the fields given (`ProviderUpdate`); `apiKey: None` removes the key."""
        provider: LlmProvider = self._client.call(
            "providers.update", {"provider_id": provider_id}, body=body
        )
        return provider

    def delete(self, provider_id: str) -> None:
        """Delete a provider no agent speaks through."""
        self._client.call("providers.delete", {"provider_id": provider_id})


class _Agents(_Resource):
    def list(self) -> list[Agent]:
        """The user's agents."""
        agents: list[Agent] = self._client.call("agents.list")
        return agents

    def create(self, body: Body) -> Agent:
        """Create an agent (`AgentCreate`: name, role, backstory, skills, llmProviderId...)."""
        agent: Agent = self._client.call("agents.create", body=body)
        return agent

    def get(self, agent_id: str) -> Agent:
        """One agent."""
        agent: Agent = self._client.call("agents.get", {"agent_id": agent_id})
        return agent

    def update(self, agent_id: str, body: Body) -> Agent:
        """Change the fields given (`AgentUpdate`)."""
        agent: Agent = self._client.call("agents.update", {"agent_id": agent_id}, body=body)
        return agent

    def delete(self, agent_id: str) -> None:
        """Delete an agent that no workflow uses."""
        self._client.call("agents.delete", {"agent_id": agent_id})


class _Templates(_Resource):
    def list(self, *, category: str | None = None) -> list[WorkflowTemplate]:
        """System templates and the user's own, optionally of one category."""
        templates: list[WorkflowTemplate] = self._client.call(
            "templates.list", query={"category": category}
        )
        return templates

    def create(self, body: Body) -> WorkflowTemplate:
        """Save a template (`CreateTemplateRequest`)."""
        template: WorkflowTemplate = self._client.call("templates.create", body=body)
        return template

    def get(self, template_id: str) -> WorkflowTemplate:
        """One template."""
        template: WorkflowTemplate = self._client.call(
            "templates.get", {"template_id": template_id}
        )
        return template

    def update(self, template_id: str, body: Body) -> WorkflowTemplate:
        """Change the fields given (`TemplateUpdate`) of one of the user's templates."""
        template: WorkflowTemplate = self._client.call(
            "templates.update", {"template_id": template_id}, body=body
        )
        return template

    def delete(self, template_id: str) -> None:
        """Delete one of the user's templates."""
        self._client.call("templates.delete", {"template_id": template_id})

    def create_workflow(self, template_id: str, body: Body) -> CollaborationWorkflow:
        """A workflow made from a template (`CreateFromTemplateRequest`: participatingAgents,
        roleAssignments, ...)."""
        workflow: CollaborationWorkflow = self._client.call(
            "templates.create_workflow", {"template_id": template_id}, body=body
        )
        return workflow


class _Workflows(_Resource):
    def list(
        self, *, status: str | None = None, project_id: str | None = None
    ) -> list[CollaborationWorkflow]:
        """The user's workflows, optionally in one status or one project."""
        workflows: list[CollaborationWorkflow] = self._client.call(
            "workflows.list", query={"status": status, "projectId": project_id}
        )
        return workflows

    def create(self, body: Body) -> CollaborationWorkflow:
        """Create a workflow (`CreateWorkflowRequest`); every problem of its definition
        raises one `ValidationError`."""
        workflow: CollaborationWorkflow = self._client.call("workflows.create", body=body)
        return workflow

    def validate(self, body: Body) -> ValidationReport:
        """Check a `CreateWorkflowRequest` without saving it: `valid` and `problems`."""
        report: ValidationReport = self._client.call("workflows.validate", body=body)
        return report

    def get(self, workflow_id: str) -> CollaborationWorkflow:
        """One workflow."""
        workflow: CollaborationWorkflow = self._client.call(
            "workflows.get", {"workflow_id": workflow_id}
        )
        return workflow

    def update(self, workflow_id: str, body: Body) -> CollaborationWorkflow:
        """Change the fields given (`UpdateWorkflowRequest`)."""
        workflow: CollaborationWorkflow = self._client.call(
            "workflows.update", {"workflow_id": workflow_id}, body=body
        )
        return workflow

    def delete(self, workflow_id: str) -> None:
        """Delete a workflow and its executions."""
        self._client.call("workflows.delete", {"workflow_id": workflow_id})

    def save_as_template(
        self,
        workflow_id: str,
        *,
        category: str = "development",
        name: str | None = None,
        description: str | None = None,
    ) -> WorkflowTemplate:
        """Save the workflow as one of the user's templates."""
        template: WorkflowTemplate = self._client.call(
            "workflows.save_as_template",
            {"workflow_id": workflow_id},
            body={"category": category, "name": name, "description": description},
        )
        return template

    def start(
        self,
        workflow_id: str,
        *,
        inputs: Mapping[str, Any] | None = None,
        trigger_reason: str = "manual",
    ) -> WorkflowExecution:
        """Start an execution; `inputs` is the context every step sees."""
        execution: WorkflowExecution = self._client.call(
            "workflows.start",
            {"workflow_id": workflow_id},
            body={"inputs": dict(inputs or {}), "triggerReason": trigger_reason},
        )
        return execution

    def executions(self, workflow_id: str) -> builtins.list[WorkflowExecution]:
        """The workflow's executions, newest first."""
        executions: list[WorkflowExecution] = self._client.call(
            "workflows.executions", {"workflow_id": workflow_id}
        )
        return executions

    def analytics(self, workflow_id: str) -> CollaborationMetrics:
        """Collaboration metrics over the workflow's executions."""
        metrics: CollaborationMetrics = self._client.call(
            "workflows.analytics", {"workflow_id": workflow_id}
        )
        return metrics

    def knowledge(
        self,
        workflow_id: str,
        *,
        q: str | None = None,
        include_inactive: bool | None = None,
        limit: int | None = None,
    ) -> builtins.list[CollaborationKnowledge]:
        """The workflow's knowledge, newest first, or ranked by a search for `q`."""
        entries: list[CollaborationKnowledge] = self._client.call(
            "workflows.knowledge",
            {"workflow_id": workflow_id},
            query={"q": q, "includeInactive": include_inactive, "limit": limit},
        )
        return entries

    def import_yaml(self, yaml: str) -> CollaborationWorkflow:
        """Install a workflow file's text (its agents made or updated by name), as
        `accord workflows create FILE` does; `Workflow.to_yaml()` gives one."""
        workflow: CollaborationWorkflow = self._client.call(
            "workflows.import_yaml", body={"yaml": yaml}
        )
        return workflow

    def export_yaml(self, workflow_id: str) -> str:
        """The workflow as a workflow file (`accord.Workflow.from_yaml` reads it)."""
        content: bytes = self._client.call(
            "workflows.export_yaml", {"workflow_id": workflow_id}
        )
        return content.decode("utf-8")

    def triggers(self, workflow_id: str) -> WorkflowTriggers:
        """What starts the workflow by itself: its schedules, hooks and dependencies."""
        triggers: WorkflowTriggers = self._client.call(
            "workflows.triggers", {"workflow_id": workflow_id}
        )
        return triggers

    def add_schedule(self, workflow_id: str, body: Body) -> Schedule:
        """Start the workflow on a schedule (`ScheduleSpec`: cron or every, timezone, ...)."""
        schedule: Schedule = self._client.call(
            "workflows.add_schedule", {"workflow_id": workflow_id}, body=body
        )
        return schedule

    def add_hook(self, workflow_id: str, body: Body) -> HookCreated:
        """Start the workflow from signed webhooks (`HookCreate`); the secret is in this
        answer only."""
        hook: HookCreated = self._client.call(
            "workflows.add_hook", {"workflow_id": workflow_id}, body=body
        )
        return hook

    def add_dependency(self, workflow_id: str, body: Body) -> Dependency:
        """Start the workflow when another one's run ends (`DependencyCreate`)."""
        dependency: Dependency = self._client.call(
            "workflows.add_dependency", {"workflow_id": workflow_id}, body=body
        )
        return dependency


class _Executions(_Resource):
    def get(self, execution_id: str) -> ExecutionDetail:
        """One execution with every step attempt (`stepRuns`) and its usage."""
        execution: ExecutionDetail = self._client.call(
            "executions.get", {"execution_id": execution_id}
        )
        return execution

    def pause(self, execution_id: str) -> WorkflowExecution:
        """Pause: running steps finish, no new ones start."""
        execution: WorkflowExecution = self._client.call(
            "executions.pause", {"execution_id": execution_id}
        )
        return execution

    def resume(self, execution_id: str) -> WorkflowExecution:
        """Resume a paused execution."""
        execution: WorkflowExecution = self._client.call(
            "executions.resume", {"execution_id": execution_id}
        )
        return execution

    def cancel(self, execution_id: str) -> WorkflowExecution:
        """Cancel an execution that has not ended."""
        execution: WorkflowExecution = self._client.call(
            "executions.cancel", {"execution_id": execution_id}
        )
        return execution

    def rerun(self, execution_id: str) -> WorkflowExecution:
        """Run the workflow again with the same inputs: a new execution."""
        execution: WorkflowExecution = self._client.call(
            "executions.rerun", {"execution_id": execution_id}
        )
        return execution

    def retry(self, execution_id: str) -> WorkflowExecution:
        """Retry a failed or cancelled execution from where it stopped: a new execution that
        keeps the completed steps' results and runs the rest."""
        execution: WorkflowExecution = self._client.call(
            "executions.retry", {"execution_id": execution_id}
        )
        return execution

    def interactions(
        self,
        execution_id: str,
        *,
        type: str | None = None,
        agent_id: str | None = None,
        step_id: str | None = None,
    ) -> list[AgentInteraction]:
        """The execution's interactions, oldest first, optionally filtered."""
        interactions: list[AgentInteraction] = self._client.call(
            "executions.interactions",
            {"execution_id": execution_id},
            query={"type": type, "agentId": agent_id, "stepId": step_id},
        )
        return interactions

    def metrics(self, execution_id: str) -> CollaborationMetrics:
        """The execution's collaboration metrics, with per-agent figures."""
        metrics: CollaborationMetrics = self._client.call(
            "executions.metrics", {"execution_id": execution_id}
        )
        return metrics

    def files(self, execution_id: str) -> builtins.list[WorkspaceFile]:
        """The files in the execution's workspace, with who wrote each when known."""
        files: list[WorkspaceFile] = self._client.call(
            "executions.files", {"execution_id": execution_id}
        )
        return files

    def file(self, execution_id: str, path: str) -> bytes:
        """One file of the execution's workspace, as it is."""
        content: bytes = self._client.call(
            "executions.file", {"execution_id": execution_id, "path": path}
        )
        return content

    def files_zip(self, execution_id: str) -> bytes:
        """The whole workspace as a zip archive."""
        content: bytes = self._client.call(
            "executions.files_zip", {"execution_id": execution_id}
        )
        return content

    def report(self, execution_id: str) -> ExecutionReport:
        """The execution's report: deliverable, steps, team, usage, files."""
        report: ExecutionReport = self._client.call(
            "executions.report", {"execution_id": execution_id}, query={"format": "json"}
        )
        return report

    def report_file(self, execution_id: str, *, format: str = "md") -> bytes:
        """The report as a file: `md` (markdown) or `zip` (with the workspace's files)."""
        content: bytes = self._client.call(
            "executions.report", {"execution_id": execution_id}, query={"format": format}, raw=True
        )
        return content

    def watch(
        self, execution_id: str, *, after: int | None = None
    ) -> Iterator[ExecutionEvent]:
        """The execution's events as they happen, from its first (or after event `after`),
        ending with its end. A dropped connection is resumed where it broke off
        (`Last-Event-ID`), so no event is missed or repeated."""
        for event in self._client.follow(
            "executions.watch", {"execution_id": execution_id}, after=after, until=execution_id
        ):
            yield event


class _Events(_Resource):
    def watch(self, *, after: int | None = None) -> Iterator[ExecutionEvent]:
        """Every event of the user's executions from now on (or after event `after`); never
        ends by itself, and resumes after a dropped connection."""
        for event in self._client.follow("events.watch", {}, after=after, until=None):
            yield event


class _Questions(_Resource):
    def list(self, *, status: str | None = None) -> list[AgentInteraction]:
        """Questions agents put to the user (`status="pending"`: unanswered ones)."""
        questions: list[AgentInteraction] = self._client.call(
            "questions.list", query={"status": status}
        )
        return questions


class _Interactions(_Resource):
    def answer(
        self, interaction_id: str, *, message: str, data: Any = None
    ) -> AgentInteraction:
        """Answer a question put to the user."""
        interaction: AgentInteraction = self._client.call(
            "interactions.answer",
            {"interaction_id": interaction_id},
            body={"message": message, "data": data},
        )
        return interaction


class _Knowledge(_Resource):
    def validate(self, knowledge_id: str, *, agent_id: str) -> CollaborationKnowledge:
        """An agent confirms a knowledge entry (not its own)."""
        entry: CollaborationKnowledge = self._client.call(
            "knowledge.validate", {"knowledge_id": knowledge_id}, body={"agentId": agent_id}
        )
        return entry


class _McpServers(_Resource):
    def list(self) -> builtins.list[SavedMcpServer]:
        """The user's saved MCP servers (secrets never returned)."""
        servers: list[SavedMcpServer] = self._client.call("mcp_servers.list")
        return servers

    def create(self, body: Body) -> SavedMcpServer:
        """Save an MCP server (`McpServerCreate`)."""
        server: SavedMcpServer = self._client.call("mcp_servers.create", body=body)
        return server

    def get(self, server_id: str) -> SavedMcpServer:
        """One saved MCP server."""
        server: SavedMcpServer = self._client.call(
            "mcp_servers.get", {"server_id": server_id}
        )
        return server

    def update(self, server_id: str, body: Body) -> SavedMcpServer:
        """Change the fields given (`McpServerUpdate`)."""
        server: SavedMcpServer = self._client.call(
            "mcp_servers.update", {"server_id": server_id}, body=body
        )
        return server

    def delete(self, server_id: str) -> None:
        """Delete a saved MCP server."""
        self._client.call("mcp_servers.delete", {"server_id": server_id})


class _Projects(_Resource):
    def list(self) -> builtins.list[Project]:
        """The user's projects."""
        projects: list[Project] = self._client.call("projects.list")
        return projects

    def create(self, body: Body) -> Project:
        """Create a project (`ProjectCreate`: name, description)."""
        project: Project = self._client.call("projects.create", body=body)
        return project

    def get(self, project_id: str) -> Project:
        """One project."""
        project: Project = self._client.call("projects.get", {"project_id": project_id})
        return project

    def update(self, project_id: str, body: Body) -> Project:
        """Change the fields given (`ProjectUpdate`)."""
        project: Project = self._client.call(
            "projects.update", {"project_id": project_id}, body=body
        )
        return project

    def delete(self, project_id: str) -> None:
        """Delete a project that holds no workflows."""
        self._client.call("projects.delete", {"project_id": project_id})

    def workflows(self, project_id: str) -> builtins.list[CollaborationWorkflow]:
        """The project's workflows."""
        workflows: list[CollaborationWorkflow] = self._client.call(
            "projects.workflows", {"project_id": project_id}
        )
        return workflows

    def members(self, project_id: str) -> builtins.list[ProjectMember]:
        """Who shares the project: its owner first, then its members with their roles."""
        members: list[ProjectMember] = self._client.call(
            "projects.members", {"project_id": project_id}
        )
        return members

    def set_member(self, project_id: str, user: str, role: str) -> ProjectMember:
        """Add a user (ID or email) as `owner`, `editor` or `viewer`, or change their role."""
        member: ProjectMember = self._client.call(
            "projects.set_member",
            {"project_id": project_id, "member_id": user},
            body={"role": role},
        )
        return member

    def remove_member(self, project_id: str, user: str) -> None:
        """The user (ID or email) no longer shares the project."""
        self._client.call(
            "projects.remove_member", {"project_id": project_id, "member_id": user}
        )


class _Approvals(_Resource):
    def list(
        self, *, status: str | None = None, execution_id: str | None = None
    ) -> builtins.list[ToolApproval]:
        """Tool calls that need approval (`status="pending"`: those still waiting)."""
        approvals: list[ToolApproval] = self._client.call(
            "approvals.list", query={"status": status, "executionId": execution_id}
        )
        return approvals

    def get(self, approval_id: str) -> ToolApproval:
        """One approval."""
        approval: ToolApproval = self._client.call(
            "approvals.get", {"approval_id": approval_id}
        )
        return approval

    def approve(self, approval_id: str, *, reason: str | None = None) -> ToolApproval:
        """Let the call be made; the waiting step goes on."""
        approval: ToolApproval = self._client.call(
            "approvals.approve", {"approval_id": approval_id}, body={"reason": reason}
        )
        return approval

    def reject(self, approval_id: str, *, reason: str | None = None) -> ToolApproval:
        """Refuse the call; the agent is told why."""
        approval: ToolApproval = self._client.call(
            "approvals.reject", {"approval_id": approval_id}, body={"reason": reason}
        )
        return approval


class _Schedules(_Resource):
    def pause(self, schedule_id: str) -> Schedule:
        """Stop starting runs until resumed."""
        schedule: Schedule = self._client.call(
            "schedules.pause", {"schedule_id": schedule_id}
        )
        return schedule

    def resume(self, schedule_id: str) -> Schedule:
        """Start runs again."""
        schedule: Schedule = self._client.call(
            "schedules.resume", {"schedule_id": schedule_id}
        )
        return schedule

    def delete(self, schedule_id: str) -> None:
        """Remove a schedule."""
        self._client.call("schedules.delete", {"schedule_id": schedule_id})


class _Hooks(_Resource):
    def delete(self, hook_id: str) -> None:
        """Remove a hook: deliveries to it are refused from now on."""
        self._client.call("hooks.delete", {"hook_id": hook_id})


class _Dependencies(_Resource):
    def delete(self, dependency_id: str) -> None:
        """Remove a dependency between workflows."""
        self._client.call("dependencies.delete", {"dependency_id": dependency_id})


class _Notifications(_Resource):
    def list(self) -> builtins.list[Notification]:
        """The user's notification subscriptions."""
        notifications: list[Notification] = self._client.call("notifications.list")
        return notifications

    def create(self, body: Body) -> NotificationCreated:
        """Subscribe a URL to runs' ends (`NotificationCreate`); the signing secret is in
        this answer only."""
        created: NotificationCreated = self._client.call("notifications.create", body=body)
        return created

    def delete(self, notification_id: str) -> None:
        """Remove a subscription."""
        self._client.call("notifications.delete", {"notification_id": notification_id})

    def deliveries(self, notification_id: str) -> builtins.list[NotificationDelivery]:
        """What was sent to the subscription's URL, and how it went."""
        deliveries: list[NotificationDelivery] = self._client.call(
            "notifications.deliveries", {"notification_id": notification_id}
        )
        return deliveries

    def redeliver(self, delivery_id: str) -> NotificationDelivery:
        """Send a delivery again."""
        delivery: NotificationDelivery = self._client.call(
            "notifications.redeliver", {"delivery_id": delivery_id}
        )
        return delivery
