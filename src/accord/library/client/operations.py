"""Every REST operation of the Accord API, as the clients call it.

`OPERATIONS` is checked against the server's `/openapi.json` by the tests (same methods and
paths, query parameters, request and response schemas), so the clients cannot drift from
the API. What both clients share lives here too: building requests, reading answers and
errors, and parsing Server-Sent Events.
"""

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, TypeAdapter

from accord.domain.agent import (
    Agent,
    AgentCreate,
    AgentUpdate,
    ApiToken,
    LlmProvider,
    Project,
    ProjectCreate,
    ProjectMember,
    ProjectMemberPut,
    ProjectUpdate,
    ProviderCreate,
    ProviderUpdate,
    User,
)
from accord.domain.approval import ToolApproval
from accord.domain.errors import Problem
from accord.domain.execution import TEXT_DELTA_KIND, ExecutionEvent, WorkflowExecution
from accord.domain.interaction import AgentInteraction
from accord.domain.knowledge import CollaborationKnowledge
from accord.domain.mcp_server import McpServerCreate, McpServerUpdate, SavedMcpServer
from accord.domain.metrics import CollaborationMetrics
from accord.domain.template import (
    CreateFromTemplateRequest,
    CreateTemplateRequest,
    WorkflowTemplate,
)
from accord.domain.triggers import (
    Dependency,
    HookCreate,
    HookCreated,
    Notification,
    NotificationCreated,
    NotificationDelivery,
    Schedule,
    ScheduleSpec,
)
from accord.domain.workflow import (
    CollaborationWorkflow,
    CreateWorkflowRequest,
    UpdateWorkflowRequest,
)
from accord.domain.workspace import WorkspaceFile
from accord.library.errors import ApiError, ValidationError
from accord.server.routes.triggers import DependencyCreate, NotificationCreate, WorkflowTriggers
from accord.server.schemas import (
    AnswerRequest,
    ApprovalDecision,
    ExecutionDetail,
    ExecutionStart,
    SaveAsTemplate,
    SessionInfo,
    TemplateUpdate,
    TokenCreate,
    TokenCreated,
    UserAdminUpdate,
    UserCreate,
    UserUpdate,
    ValidationReport,
    ValidationRequest,
    WorkflowYaml,
)
from accord.team import ExecutionReport

API_PREFIX = "/api/v1"
TERMINAL_STATUSES = frozenset({"completed", "failed", "cancelled"})


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    """Under `/api/v1`, with `{name}` path parameters."""
    response: Any = None
    """The answer's type (a model, or `list[Model]`); None for 204 and event streams."""
    body: type[BaseModel] | None = None
    query: tuple[str, ...] = ()
    """Query parameters, as the API spells them."""
    stream: bool = False
    """A Server-Sent Events stream."""
    binary: bool = False
    """The answer is a file (its bytes), not JSON."""
    adapter: TypeAdapter[Any] | None = field(default=None, compare=False)

    def read(self, payload: Any) -> Any:
        if self.response is None:
            return None
        adapter = self.adapter or TypeAdapter(self.response)
        return adapter.validate_python(payload)


def _op(
    method: str,
    path: str,
    response: Any = None,
    *,
    body: type[BaseModel] | None = None,
    query: tuple[str, ...] = (),
    stream: bool = False,
    binary: bool = False,
) -> Operation:
    adapter = TypeAdapter(response) if response is not None else None
    return Operation(method, path, response, body, query, stream, binary, adapter)


PAGE = ("limit", "cursor")
"""The query of a list that comes in pages (`Client.call` reads them all)."""

OPERATIONS: dict[str, Operation] = {
    "me.get": _op("GET", "/me", User),
    "me.update": _op("PATCH", "/me", User, body=UserUpdate),
    "me.sessions": _op("GET", "/me/sessions", list[SessionInfo], query=PAGE),
    "me.end_session": _op("DELETE", "/me/sessions/{session_id}"),
    "users.list": _op("GET", "/users", list[User], query=PAGE),
    "users.create": _op("POST", "/users", User, body=UserCreate),
    "users.get": _op("GET", "/users/{user_id}", User),
    "users.update": _op("PATCH", "/users/{user_id}", User, body=UserAdminUpdate),
    "tokens.list": _op("GET", "/tokens", list[ApiToken], query=PAGE),
    "tokens.create": _op("POST", "/tokens", TokenCreated, body=TokenCreate),
    "tokens.revoke": _op("DELETE", "/tokens/{token_id}"),
    "providers.list": _op("GET", "/providers", list[LlmProvider], query=PAGE),
    "providers.create": _op("POST", "/providers", LlmProvider, body=ProviderCreate),
    "providers.get": _op("GET", "/providers/{provider_id}", LlmProvider),
    "providers.update": _op("PATCH", "/providers/{provider_id}", LlmProvider, body=ProviderUpdate),
    "providers.delete": _op("DELETE", "/providers/{provider_id}"),
    "agents.list": _op("GET", "/agents", list[Agent], query=PAGE),
    "agents.create": _op("POST", "/agents", Agent, body=AgentCreate),
    "agents.get": _op("GET", "/agents/{agent_id}", Agent),
    "agents.update": _op("PATCH", "/agents/{agent_id}", Agent, body=AgentUpdate),
    "agents.delete": _op("DELETE", "/agents/{agent_id}"),
    "templates.list": _op("GET", "/templates", list[WorkflowTemplate], query=("category", *PAGE)),
    "templates.create": _op("POST", "/templates", WorkflowTemplate, body=CreateTemplateRequest),
    "templates.get": _op("GET", "/templates/{template_id}", WorkflowTemplate),
    "templates.update": _op(
        "PATCH", "/templates/{template_id}", WorkflowTemplate, body=TemplateUpdate
    ),
    "templates.delete": _op("DELETE", "/templates/{template_id}"),
    "templates.create_workflow": _op(
        "POST",
        "/templates/{template_id}/workflows",
        CollaborationWorkflow,
        body=CreateFromTemplateRequest,
    ),
    "workflows.list": _op(
        "GET", "/workflows", list[CollaborationWorkflow], query=("status", "projectId", *PAGE)
    ),
    "workflows.create": _op(
        "POST", "/workflows", CollaborationWorkflow, body=CreateWorkflowRequest
    ),
    "workflows.validate": _op(
        "POST", "/workflows/validate", ValidationReport, body=CreateWorkflowRequest
    ),
    "workflows.get": _op("GET", "/workflows/{workflow_id}", CollaborationWorkflow),
    "workflows.update": _op(
        "PATCH", "/workflows/{workflow_id}", CollaborationWorkflow, body=UpdateWorkflowRequest
    ),
    "workflows.delete": _op("DELETE", "/workflows/{workflow_id}"),
    "workflows.save_as_template": _op(
        "POST", "/workflows/{workflow_id}/template", WorkflowTemplate, body=SaveAsTemplate
    ),
    "workflows.start": _op(
        "POST", "/workflows/{workflow_id}/executions", WorkflowExecution, body=ExecutionStart
    ),
    "workflows.executions": _op(
        "GET", "/workflows/{workflow_id}/executions", list[WorkflowExecution], query=PAGE
    ),
    "workflows.analytics": _op("GET", "/workflows/{workflow_id}/analytics", CollaborationMetrics),
    "workflows.knowledge": _op(
        "GET",
        "/workflows/{workflow_id}/knowledge",
        list[CollaborationKnowledge],
        query=("q", "includeInactive", *PAGE),
    ),
    "executions.get": _op("GET", "/executions/{execution_id}", ExecutionDetail),
    "executions.pause": _op("POST", "/executions/{execution_id}/pause", WorkflowExecution),
    "executions.resume": _op("POST", "/executions/{execution_id}/resume", WorkflowExecution),
    "executions.cancel": _op("POST", "/executions/{execution_id}/cancel", WorkflowExecution),
    "executions.rerun": _op("POST", "/executions/{execution_id}/rerun", WorkflowExecution),
    "executions.retry": _op("POST", "/executions/{execution_id}/retry", WorkflowExecution),
    "executions.interactions": _op(
        "GET",
        "/executions/{execution_id}/interactions",
        list[AgentInteraction],
        query=("type", "agentId", "stepId", *PAGE),
    ),
    "executions.metrics": _op("GET", "/executions/{execution_id}/metrics", CollaborationMetrics),
    "executions.watch": _op("GET", "/executions/{execution_id}/events", stream=True),
    "events.watch": _op("GET", "/events", stream=True),
    "questions.list": _op("GET", "/questions", list[AgentInteraction], query=("status", *PAGE)),
    "interactions.answer": _op(
        "POST", "/interactions/{interaction_id}/answer", AgentInteraction, body=AnswerRequest
    ),
    "workflows.import_yaml": _op(
        "POST", "/workflows/import", CollaborationWorkflow, body=WorkflowYaml
    ),
    "workflows.export_yaml": _op("GET", "/workflows/{workflow_id}/export", binary=True),
    "workflows.triggers": _op("GET", "/workflows/{workflow_id}/triggers", WorkflowTriggers),
    "workflows.add_schedule": _op(
        "POST", "/workflows/{workflow_id}/schedules", Schedule, body=ScheduleSpec
    ),
    "workflows.add_hook": _op(
        "POST", "/workflows/{workflow_id}/hooks", HookCreated, body=HookCreate
    ),
    "workflows.add_dependency": _op(
        "POST", "/workflows/{workflow_id}/dependencies", Dependency, body=DependencyCreate
    ),
    "schedules.pause": _op("POST", "/schedules/{schedule_id}/pause", Schedule),
    "schedules.resume": _op("POST", "/schedules/{schedule_id}/resume", Schedule),
    "schedules.delete": _op("DELETE", "/schedules/{schedule_id}"),
    "hooks.delete": _op("DELETE", "/hooks/{hook_id}"),
    "dependencies.delete": _op("DELETE", "/dependencies/{dependency_id}"),
    "notifications.list": _op("GET", "/notifications", list[Notification], query=PAGE),
    "notifications.create": _op(
        "POST", "/notifications", NotificationCreated, body=NotificationCreate
    ),
    "notifications.delete": _op("DELETE", "/notifications/{notification_id}"),
    "notifications.deliveries": _op(
        "GET", "/notifications/{notification_id}/deliveries", list[NotificationDelivery], query=PAGE
    ),
    "notifications.redeliver": _op(
        "POST", "/notification-deliveries/{delivery_id}/redeliver", NotificationDelivery
    ),
    "executions.files": _op(
        "GET", "/executions/{execution_id}/files", list[WorkspaceFile], query=PAGE
    ),
    "executions.file": _op("GET", "/executions/{execution_id}/files/{path}", binary=True),
    "executions.files_zip": _op("GET", "/executions/{execution_id}/files.zip", binary=True),
    "mcp_servers.list": _op("GET", "/mcp-servers", list[SavedMcpServer], query=PAGE),
    "mcp_servers.create": _op("POST", "/mcp-servers", SavedMcpServer, body=McpServerCreate),
    "mcp_servers.get": _op("GET", "/mcp-servers/{server_id}", SavedMcpServer),
    "mcp_servers.update": _op(
        "PATCH", "/mcp-servers/{server_id}", SavedMcpServer, body=McpServerUpdate
    ),
    "mcp_servers.delete": _op("DELETE", "/mcp-servers/{server_id}"),
    "executions.report": _op(
        "GET", "/executions/{execution_id}/report", ExecutionReport, query=("format",)
    ),
    "projects.list": _op("GET", "/projects", list[Project], query=PAGE),
    "projects.create": _op("POST", "/projects", Project, body=ProjectCreate),
    "projects.get": _op("GET", "/projects/{project_id}", Project),
    "projects.update": _op("PATCH", "/projects/{project_id}", Project, body=ProjectUpdate),
    "projects.delete": _op("DELETE", "/projects/{project_id}"),
    "projects.workflows": _op(
        "GET", "/projects/{project_id}/workflows", list[CollaborationWorkflow], query=PAGE
    ),
    "projects.members": _op(
        "GET", "/projects/{project_id}/members", list[ProjectMember], query=PAGE
    ),
    "projects.set_member": _op(
        "PUT", "/projects/{project_id}/members/{member_id}", ProjectMember, body=ProjectMemberPut
    ),
    "projects.remove_member": _op("DELETE", "/projects/{project_id}/members/{member_id}"),
    "approvals.list": _op(
        "GET", "/approvals", list[ToolApproval], query=("status", "executionId", *PAGE)
    ),
    "approvals.get": _op("GET", "/approvals/{approval_id}", ToolApproval),
    "approvals.approve": _op(
        "POST", "/approvals/{approval_id}/approve", ToolApproval, body=ApprovalDecision
    ),
    "approvals.reject": _op(
        "POST", "/approvals/{approval_id}/reject", ToolApproval, body=ApprovalDecision
    ),
    "knowledge.validate": _op(
        "POST",
        "/knowledge/{knowledge_id}/validations",
        CollaborationKnowledge,
        body=ValidationRequest,
    ),
}


_BROWSER_SIGN_IN = "browser sign-in: it sets or ends the session cookie, which clients do not use"
NOT_FOR_CLIENTS: dict[tuple[str, str], str] = {
    ("POST", "/session"): _BROWSER_SIGN_IN,
    ("DELETE", "/session"): _BROWSER_SIGN_IN,
    ("GET", "/sign-in-methods"): _BROWSER_SIGN_IN,
    ("POST", "/setup"): "the first administrator, made once in the browser with the setup "
    "link a server without users prints (or `accord users create --admin`)",
    ("POST", "/hooks/{hook_id}"): "a webhook delivery from another system, signed with the "
    "hook's secret and not made with an API token",
}
"""Operations of the API the clients leave out, and why."""


@dataclass(frozen=True)
class Request:
    method: str
    url: str
    params: dict[str, Any]
    json: Any


def build_request(
    name: str,
    path_params: Mapping[str, str] | None = None,
    *,
    query: Mapping[str, Any] | None = None,
    body: BaseModel | Mapping[str, Any] | None = None,
) -> Request:
    """The HTTP request of operation `name`; query values that are None are left out."""
    op = OPERATIONS[name]
    path = op.path.format(
        **{k: _segment(v, slashes=k == "path") for k, v in (path_params or {}).items()}
    )
    params = {k: _query_value(v) for k, v in (query or {}).items() if v is not None}
    unknown = set(params) - set(op.query)
    assert not unknown, f"{name} takes no query parameter {unknown}"
    payload: Any = None
    if isinstance(body, BaseModel):
        payload = body.model_dump(mode="json", by_alias=True, exclude_unset=True)
    elif body is not None:
        payload = dict(body)
    elif op.body is not None and op.method != "GET":
        payload = {}
    return Request(op.method, API_PREFIX + path, params, payload)


def _segment(value: str, *, slashes: bool = False) -> str:
    """A path parameter, escaped; a file path keeps its `/`."""
    from urllib.parse import quote

    return quote(str(value), safe="/" if slashes else "")


def _query_value(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    return getattr(value, "value", value)


def raise_for_error(status: int, payload: Any, reason: str) -> None:
    """Turn an error answer into `ValidationError` (422) or `ApiError` (anything else)."""
    if status < 400:
        return
    error = payload.get("error") if isinstance(payload, dict) else None
    if not isinstance(error, dict):
        raise ApiError(reason or f"HTTP {status}", status=status, code=f"http_{status}")
    code = str(error.get("code", f"http_{status}"))
    details = error.get("details") or {}
    problems = details.get("problems") if isinstance(details, dict) else None
    if status == 422 and isinstance(problems, list):
        raise ValidationError(
            [Problem(p.get("field", ""), p.get("message", ""), p.get("fix", "")) for p in problems],
            subject="request",
            code=code,
            status=status,
        )
    raise ApiError(str(error.get("message", reason)), status=status, code=code, details=details)


@dataclass
class SseParser:
    """Server-Sent Events, line by line (the `text/event-stream` format): yields each event's
    data once its blank line arrives; remembers the last event ID for resuming."""

    last_event_id: int | None = None
    _data: list[str] = field(default_factory=list)
    _kind: str | None = None

    def reconnected(self) -> None:
        """Drop an event cut off by a dropped connection: it is sent again after the last ID."""
        self._data, self._kind = [], None

    def feed(self, line: str) -> Iterator[ExecutionEvent]:
        if line == "":
            data, kind = self._data, self._kind
            self._data, self._kind = [], None
            # Text deltas (what agents are writing) are a live show, not events of the log.
            if data and kind != TEXT_DELTA_KIND:
                event = ExecutionEvent.model_validate_json("\n".join(data))
                self.last_event_id = event.id
                yield event
            return
        if line.startswith(":"):  # a comment: the server's keep-alive ping
            return
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._kind = value


def ends_watch(event: ExecutionEvent, execution_id: str) -> bool:
    """Whether `event` is the watched execution's end."""
    return (
        event.execution_id == execution_id
        and event.kind == "execution.status"
        and event.data.get("status") in TERMINAL_STATUSES
    )
