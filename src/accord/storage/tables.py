"""Every table: the spec's five, the four they reference, and the engine's extensions.

Spec columns keep the spec's names, types (JSON lives in TEXT, times are INTEGER epoch
seconds) and defaults. Extension columns are commented. The Alembic migrations build the same
schema; `tests/storage/test_schema.py` checks both against the spec on SQLite and Postgres.
"""

import json
import time
import uuid
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.types import TypeDecorator

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class JSONText(TypeDecorator[Any]):
    """JSON kept in a TEXT column, as the spec stores it."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> str | None:
        return None if value is None else json.dumps(value, separators=(",", ":"))

    def process_result_value(self, value: str | None, dialect: Any) -> Any:
        return None if value is None else json.loads(value)


def new_id() -> str:
    return str(uuid.uuid4())


def epoch_now() -> int:
    return int(time.time())


# The spec's `DEFAULT (strftime('%s', 'now'))`, rendered per dialect by the migrations.
EPOCH_DEFAULT = text("(strftime('%s', 'now'))")

# BIGINT on Postgres, INTEGER on SQLite (so it is SQLite's auto-incrementing rowid alias).
EventId = BigInteger().with_variant(Integer(), "sqlite")


def _id() -> Column[str]:
    return Column("id", Text, primary_key=True, default=new_id)


def _created() -> Column[int]:
    return Column(
        "created_at", Integer, nullable=False, default=epoch_now, server_default=EPOCH_DEFAULT
    )


def _updated() -> Column[int]:
    return Column(
        "updated_at",
        Integer,
        nullable=False,
        default=epoch_now,
        onupdate=epoch_now,
        server_default=EPOCH_DEFAULT,
    )


# --- Referenced by the spec -------------------------------------------------------------

users = Table(
    "users",
    metadata,
    _id(),
    Column("email", Text, nullable=False, unique=True),
    Column("display_name", Text, nullable=False),
    _created(),
    _updated(),
)

projects = Table(
    "projects",
    metadata,
    _id(),
    Column("user_id", Text, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("name", Text, nullable=False),
    Column("description", Text, nullable=False, server_default=""),
    _created(),
    _updated(),
)

llm_providers = Table(
    "llm_providers",
    metadata,
    _id(),
    Column("user_id", Text, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("name", Text, nullable=False),
    Column("kind", Text, nullable=False),  # openai, openai_compatible, anthropic, offline
    Column("base_url", Text),
    Column("encrypted_api_key", Text),  # Fernet token; never returned by the API
    Column("default_model", Text, nullable=False),
    Column("price_overrides", JSONText),  # {model: {inputPerMtok, outputPerMtok}}
    Column("settings", JSONText),  # kind-specific knobs (offline latency and seed, timeouts)
    _created(),
    _updated(),
)

agents = Table(
    "agents",
    metadata,
    _id(),
    Column("user_id", Text, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("name", Text, nullable=False),
    Column("role", Text, nullable=False),
    Column("backstory", Text, nullable=False, server_default=""),
    Column("skills", JSONText),  # JSON array of skill names
    Column("llm_provider_id", Text, ForeignKey("llm_providers.id", ondelete="SET NULL")),
    Column("model", Text),
    Column("model_parameters", JSONText),
    Column("tools", JSONText),  # JSON array: the agent's tool allow-list (extension)
    _created(),
    _updated(),
)

# --- The spec's tables ------------------------------------------------------------------

workflow_templates = Table(
    "workflow_templates",
    metadata,
    _id(),
    Column("name", Text, nullable=False),
    Column("description", Text, nullable=False),
    Column("category", Text, nullable=False),
    Column("template_definition", JSONText, nullable=False),
    Column("required_agent_roles", JSONText, nullable=False),
    Column("recommended_agent_count", Integer, server_default=text("2"), default=2),
    Column("is_system_template", Boolean, server_default=text("false"), default=False),
    Column("created_by_user_id", Text, ForeignKey("users.id", ondelete="CASCADE")),
    Column("usage_count", Integer, server_default=text("0"), default=0),
    Column("success_rate", Float, server_default=text("0.0"), default=0.0),
    _created(),
    _updated(),
    Column("workflow_type", Text, nullable=False, server_default="pipeline"),  # extension
    Column("system_key", Text, unique=True),  # extension: system templates install once
)

collaboration_workflows = Table(
    "collaboration_workflows",
    metadata,
    _id(),
    Column("user_id", Text, ForeignKey("users.id"), nullable=False, index=True),
    Column("project_id", Text, ForeignKey("projects.id")),
    Column("name", Text, nullable=False),
    Column("description", Text, nullable=False),
    Column("workflow_type", Text, nullable=False, server_default="pipeline", default="pipeline"),
    Column("configuration", JSONText, nullable=False),
    Column("participating_agents", JSONText, nullable=False),
    Column("coordinator_agent_id", Text, ForeignKey("agents.id")),
    Column("status", Text, nullable=False, server_default="draft", default="draft"),
    Column("current_step", Integer, server_default=text("0"), default=0),
    Column("total_steps", Integer, server_default=text("0"), default=0),
    Column("execution_history", JSONText),
    Column("collaboration_metrics", JSONText),
    Column("final_result", JSONText),
    Column("started_at", Integer),
    Column("completed_at", Integer),
    Column("estimated_duration", Integer),
    Column("actual_duration", Integer),
    _created(),
    _updated(),
    # extension: the template it was made from, for the template's success rate
    Column("template_id", Text, ForeignKey("workflow_templates.id", ondelete="SET NULL")),
)

workflow_executions = Table(
    "workflow_executions",
    metadata,
    _id(),
    Column(
        "workflow_id",
        Text,
        ForeignKey("collaboration_workflows.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("execution_number", Integer, nullable=False),
    Column("trigger_reason", Text, nullable=False),
    Column("triggered_by", Text),
    Column("current_step_id", Text),
    Column("execution_context", JSONText),
    Column("step_results", JSONText),
    Column("active_agents", JSONText),
    Column("agent_assignments", JSONText),
    Column("status", Text, nullable=False, server_default="pending", default="pending"),
    Column("error_message", Text),
    Column("final_output", JSONText),
    Column("started_at", Integer, nullable=False, default=epoch_now, server_default=EPOCH_DEFAULT),
    Column("completed_at", Integer),
    _updated(),
    # extensions
    Column(
        "parent_execution_id",
        Text,
        ForeignKey("workflow_executions.id", ondelete="CASCADE"),
        index=True,
    ),
    Column("parent_step_id", Text),
    Column("depth", Integer, nullable=False, server_default=text("0"), default=0),
    Column("definition", JSONText),  # the workflow as started: type, configuration, agents
    Column("estimated_duration", Integer),
    Column("actual_duration", Integer),
    Column("usage", JSONText),  # {inputTokens, outputTokens, costUsd, modelCalls}
    Column("user_id", Text, ForeignKey("users.id", ondelete="CASCADE"), index=True),
    # what started it by itself (a schedule's tick, a hook's delivery, an upstream run), so
    # that a start repeated after a crash finds the execution it already made
    Column("trigger_key", Text),
    Index("uq_workflow_executions_trigger_key", "trigger_key", unique=True),
    # the folder a user named for this execution's files (per run or per workflow); None: the
    # default, `<data dir>/workspaces/<id>`, or for a child `<parent's>/children/<id>`
    Column("workspace_dir", Text),
    Column("deliverable", JSONText),  # {markdown, stepIds}, set when it completes
    # the failed or cancelled execution this one retries (its completed results were kept)
    Column("retry_of", Text),
    UniqueConstraint(
        "workflow_id",
        "execution_number",
        name="uq_workflow_executions_workflow_id_execution_number",
    ),
)

agent_interactions = Table(
    "agent_interactions",
    metadata,
    _id(),
    Column(
        "workflow_execution_id",
        Text,
        ForeignKey("workflow_executions.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("from_agent_id", Text, ForeignKey("agents.id"), nullable=False),
    Column("to_agent_id", Text, ForeignKey("agents.id")),
    Column("interaction_type", Text, nullable=False),
    Column("message", Text, nullable=False),
    Column("context_data", JSONText),
    Column("related_step_id", Text),
    Column("related_task_id", Text),
    Column("requires_response", Boolean, server_default=text("false"), default=False),
    Column("response_deadline", Integer),
    Column("response_received", Boolean, server_default=text("false"), default=False),
    Column("response_message", Text),
    Column("response_data", JSONText),
    Column("created_at", Integer, nullable=False, default=epoch_now, server_default=EPOCH_DEFAULT),
    Column("responded_at", Integer),
    # extensions
    Column("to_user_id", Text, ForeignKey("users.id", ondelete="CASCADE")),  # question to user
    Column("response_status", Text),  # pending, answered, expired
    Column(
        "recorded_at", Float, nullable=False, default=time.time, server_default=text("0")
    ),  # sub-second order within a second
)

collaboration_knowledge = Table(
    "collaboration_knowledge",
    metadata,
    _id(),
    Column(
        "workflow_id",
        Text,
        ForeignKey("collaboration_workflows.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("title", Text, nullable=False),
    Column("content", Text, nullable=False),
    Column("knowledge_type", Text, nullable=False),
    Column("created_by_agent_id", Text, ForeignKey("agents.id"), nullable=False),
    Column("validated_by_agents", JSONText),
    Column("relevance_score", Float, server_default=text("1.0"), default=1.0),
    Column("usage_count", Integer, server_default=text("0"), default=0),
    Column("tags", JSONText),
    Column("is_active", Boolean, server_default=text("true"), default=True),
    Column("superseded_by", Text, ForeignKey("collaboration_knowledge.id")),
    _created(),
    _updated(),
    # extensions
    Column("subject", Text),  # a newer active entry with the same subject supersedes
    Column("execution_id", Text, ForeignKey("workflow_executions.id", ondelete="SET NULL")),
    Column("source_step_id", Text),
    Column("status", Text, nullable=False, server_default="unvalidated", default="unvalidated"),
)

# --- Engine and server extensions -------------------------------------------------------

step_runs = Table(
    "step_runs",
    metadata,
    _id(),
    Column(
        "execution_id",
        Text,
        ForeignKey("workflow_executions.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("step_id", Text, nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("status", Text, nullable=False),
    Column("agent_id", Text, ForeignKey("agents.id", ondelete="SET NULL")),
    Column("started_at", Float),
    Column("finished_at", Float),
    Column("output", JSONText),
    Column("error", Text),
    Column("feedback", Text),
    Column("input_tokens", Integer, nullable=False, server_default=text("0"), default=0),
    Column("output_tokens", Integer, nullable=False, server_default=text("0"), default=0),
    Column("cost_usd", Float, nullable=False, server_default=text("0"), default=0.0),
    Column("model_calls", Integer, nullable=False, server_default=text("0"), default=0),
    Column("tool_calls", Integer, nullable=False, server_default=text("0"), default=0),
    Column("tool_seconds", Float, nullable=False, server_default=text("0"), default=0.0),
    Column("output_mode", Text),
    Column("validation_retries", Integer, nullable=False, server_default=text("0"), default=0),
    Column("executor_id", Text),
    # the execution whose completed result a retry carried over instead of running the step
    Column("reused_from", Text),
    Column("created_at", Float, nullable=False, default=time.time),
    UniqueConstraint(
        "execution_id", "step_id", "attempt", name="uq_step_runs_execution_id_step_id_attempt"
    ),
)

execution_events = Table(
    "execution_events",
    metadata,
    Column("id", EventId, primary_key=True, autoincrement=True),
    Column(
        "execution_id",
        Text,
        ForeignKey("workflow_executions.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("user_id", Text, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("kind", Text, nullable=False),
    Column("step_id", Text),
    Column("data", JSONText),
    Column("created_at", Float, nullable=False, default=time.time),
    Index("ix_execution_events_execution_id_id", "execution_id", "id"),
    Index("ix_execution_events_user_id_id", "user_id", "id"),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    _id(),
    Column("user_id", Text, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("name", Text, nullable=False),
    Column("token_hash", Text, nullable=False, unique=True),  # SHA-256 of the secret
    Column("kind", Text, nullable=False, server_default="api"),  # api, login (one-time), session
    Column("used_at", Integer),
    Column("last_used_at", Integer),
    Column("expires_at", Integer),
    _created(),
)

workers = Table(
    "workers",
    metadata,
    Column("executor_id", Text, primary_key=True),
    Column("hostname", Text, nullable=False),
    Column("pid", Integer, nullable=False),
    Column("role", Text, nullable=False),  # serve, worker, run
    Column("started_at", Float, nullable=False),
    Column("heartbeat_at", Float, nullable=False),
)

# --- Triggers: what starts a workflow by itself, and who hears about its runs ----------

workflow_schedules = Table(
    "workflow_schedules",
    metadata,
    _id(),
    Column(
        "workflow_id",
        Text,
        ForeignKey("collaboration_workflows.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("user_id", Text, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("spec", JSONText, nullable=False),  # ScheduleSpec: cron/every, zone, inputs, policies
    Column("paused", Boolean, nullable=False, server_default=text("false"), default=False),
    _created(),
)

workflow_hooks = Table(
    "workflow_hooks",
    metadata,
    _id(),
    Column(
        "workflow_id",
        Text,
        ForeignKey("collaboration_workflows.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("user_id", Text, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("spec", JSONText, nullable=False),  # HookSpec: name, auth, input selectors, limits
    Column("encrypted_secret", Text, nullable=False),  # Fernet: HMAC needs the secret itself
    _created(),
)

hook_deliveries = Table(
    "hook_deliveries",
    metadata,
    Column("hook_id", Text, ForeignKey("workflow_hooks.id", ondelete="CASCADE"), primary_key=True),
    Column("delivery_id", Text, primary_key=True),  # X-GitHub-Delivery / X-Delivery-Id
    Column("execution_id", Text),
    Column("received_at", Float, nullable=False),
)

workflow_dependencies = Table(
    "workflow_dependencies",
    metadata,
    _id(),
    Column(
        "workflow_id",
        Text,
        ForeignKey("collaboration_workflows.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column(
        "upstream_workflow_id",
        Text,
        ForeignKey("collaboration_workflows.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("user_id", Text, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("outcome", Text, nullable=False),  # completed, failed, any
    _created(),
    UniqueConstraint("workflow_id", "upstream_workflow_id", name="uq_workflow_dependencies_pair"),
)

notifications = Table(
    "notifications",
    metadata,
    _id(),
    Column("user_id", Text, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    Column(
        "workflow_id",
        Text,
        ForeignKey("collaboration_workflows.id", ondelete="CASCADE"),
    ),  # None: every workflow of the user
    Column("url", Text, nullable=False),
    Column("events", JSONText, nullable=False),
    Column("encrypted_secret", Text, nullable=False),
    _created(),
)

notification_deliveries = Table(
    "notification_deliveries",
    metadata,
    _id(),
    Column(
        "notification_id",
        Text,
        ForeignKey("notifications.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("event", Text, nullable=False),
    Column("execution_id", Text),
    Column("payload", JSONText, nullable=False),
    Column("status", Text, nullable=False),  # pending, delivered, failed
    Column("attempts", Integer, nullable=False, server_default=text("0"), default=0),
    Column("next_attempt_at", Float, index=True),
    Column("claimed_until", Float),  # a process delivering it holds it until then
    Column("last_error", Text),
    Column("response_status", Integer),
    Column("created_at", Float, nullable=False),
    Column("delivered_at", Float),
)

notification_cursor = Table(
    "notification_cursor",
    metadata,
    Column("id", Integer, primary_key=True),  # one row
    Column("last_event_id", BigInteger().with_variant(Integer(), "sqlite"), nullable=False),
)

# --- Workspaces and saved MCP servers ----------------------------------------------------

workspace_files = Table(
    "workspace_files",
    metadata,
    Column(
        "execution_id",
        Text,
        ForeignKey("workflow_executions.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("path", Text, primary_key=True),  # relative to the workspace, `/`-separated
    Column("size", BigInteger, nullable=False),
    # who last wrote it through the `workspace` toolkit
    Column("step_id", Text),
    Column("attempt", Integer),
    Column("agent_id", Text, ForeignKey("agents.id", ondelete="SET NULL")),
    Column("updated_at", Float, nullable=False, default=time.time),
)

mcp_servers = Table(
    "mcp_servers",
    metadata,
    _id(),
    Column("user_id", Text, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("name", Text, nullable=False),
    Column("command", Text),  # stdio servers
    Column("args", JSONText),
    Column("cwd", Text),
    Column("url", Text),  # streamable-HTTP servers
    Column("encrypted_env", Text),  # Fernet token of the JSON map; never returned by the API
    Column("encrypted_headers", Text),  # likewise
    Column(
        "require_approval", Boolean, nullable=False, server_default=text("false"), default=False
    ),
    _created(),
    _updated(),
)

tool_approvals = Table(
    "tool_approvals",
    metadata,
    _id(),
    Column(
        "execution_id",
        Text,
        ForeignKey("workflow_executions.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("user_id", Text, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("step_id", Text, nullable=False),
    Column("attempt", Integer, nullable=False),
    # execution:step:attempt:n, so that a replayed attempt finds the request it made
    Column("request_key", Text, nullable=False, unique=True),
    Column("agent_id", Text),
    Column("agent_name", Text),
    Column("server", Text, nullable=False),
    Column("tool", Text, nullable=False),
    Column("arguments", JSONText),  # secrets redacted
    Column("status", Text, nullable=False),  # pending, approved, rejected, expired
    Column("reason", Text),
    Column("decided_by", Text),  # the deciding user's ID; NULL for an expiry
    Column("deadline_at", Float),
    Column("on_timeout", Text, nullable=False, server_default="reject"),  # approve, reject
    Column("created_at", Float, nullable=False, default=time.time),
    Column("decided_at", Float),
    Index("ix_tool_approvals_user_id_status", "user_id", "status"),
)
