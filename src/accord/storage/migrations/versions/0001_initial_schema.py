"""Initial schema: the spec's tables, those they reference, and the engine's extensions.

Revision ID: 0001
Revises:
Create Date: 2026-11-24 02:33:49.302126
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def epoch_default() -> sa.TextClause:
    """The spec's `DEFAULT (strftime('%s', 'now'))`, in each dialect's words."""
    if op.get_bind().dialect.name == "sqlite":
        return sa.text("(strftime('%s', 'now'))")
    return sa.text("(extract(epoch from now())::integer)")


def create_knowledge_search() -> None:
    """Full-text search over knowledge: FTS5 kept in step by triggers on SQLite, a generated
    tsvector with a GIN index on Postgres."""
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "CREATE VIRTUAL TABLE collaboration_knowledge_fts USING fts5("
            "title, content, tags, content='collaboration_knowledge', content_rowid='rowid', "
            "tokenize='porter unicode61')"
        )
        op.execute(
            "CREATE TRIGGER collaboration_knowledge_fts_insert AFTER INSERT ON "
            "collaboration_knowledge BEGIN INSERT INTO collaboration_knowledge_fts(rowid, title, "
            "content, tags) VALUES (new.rowid, new.title, new.content, coalesce(new.tags, '')); END"
        )
        op.execute(
            "CREATE TRIGGER collaboration_knowledge_fts_delete AFTER DELETE ON "
            "collaboration_knowledge BEGIN INSERT INTO collaboration_knowledge_fts("
            "collaboration_knowledge_fts, rowid, title, content, tags) VALUES ('delete', "
            "old.rowid, old.title, old.content, coalesce(old.tags, '')); END"
        )
        op.execute(
            "CREATE TRIGGER collaboration_knowledge_fts_update AFTER UPDATE OF title, content, tags "
            "ON collaboration_knowledge BEGIN INSERT INTO collaboration_knowledge_fts("
            "collaboration_knowledge_fts, rowid, title, content, tags) VALUES ('delete', "
            "old.rowid, old.title, old.content, coalesce(old.tags, '')); INSERT INTO "
            "collaboration_knowledge_fts(rowid, title, content, tags) VALUES (new.rowid, "
            "new.title, new.content, coalesce(new.tags, '')); END"
        )
    else:
        op.execute(
            "ALTER TABLE collaboration_knowledge ADD COLUMN search_vector tsvector GENERATED "
            "ALWAYS AS (setweight(to_tsvector('english', coalesce(title, '')), 'A') || "
            "setweight(to_tsvector('english', coalesce(content, '')), 'B') || "
            "setweight(to_tsvector('english', coalesce(tags, '')), 'C')) STORED"
        )
        op.execute(
            "CREATE INDEX ix_collaboration_knowledge_search_vector ON collaboration_knowledge "
            "USING gin (search_vector)"
        )


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("email", sa.Text(), nullable=False),
        sa.Column("display_name", sa.Text(), nullable=False),
        sa.Column("created_at", sa.Integer(), server_default=epoch_default(), nullable=False),
        sa.Column("updated_at", sa.Integer(), server_default=epoch_default(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("email", name=op.f("uq_users_email")),
    )
    op.create_table(
        "workers",
        sa.Column("executor_id", sa.Text(), nullable=False),
        sa.Column("hostname", sa.Text(), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("role", sa.Text(), nullable=False),
        sa.Column("started_at", sa.Float(), nullable=False),
        sa.Column("heartbeat_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("executor_id", name=op.f("pk_workers")),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("user_id", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("token_hash", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), server_default="api", nullable=False),
        sa.Column("used_at", sa.Integer(), nullable=True),
        sa.Column("last_used_at", sa.Integer(), nullable=True),
        sa.Column("expires_at", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.Integer(), server_default=epoch_default(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_api_tokens_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
    )
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_tokens_user_id"), ["user_id"], unique=False)

    op.create_table(
        "llm_providers",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("user_id", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("base_url", sa.Text(), nullable=True),
        sa.Column("encrypted_api_key", sa.Text(), nullable=True),
        sa.Column("default_model", sa.Text(), nullable=False),
        sa.Column("price_overrides", sa.Text(), nullable=True),
        sa.Column("settings", sa.Text(), nullable=True),
        sa.Column("created_at", sa.Integer(), server_default=epoch_default(), nullable=False),
        sa.Column("updated_at", sa.Integer(), server_default=epoch_default(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_llm_providers_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_llm_providers")),
    )
    with op.batch_alter_table("llm_providers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_llm_providers_user_id"), ["user_id"], unique=False)

    op.create_table(
        "projects",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("user_id", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), server_default="", nullable=False),
        sa.Column("created_at", sa.Integer(), server_default=epoch_default(), nullable=False),
        sa.Column("updated_at", sa.Integer(), server_default=epoch_default(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_projects_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_projects")),
    )
    with op.batch_alter_table("projects", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_projects_user_id"), ["user_id"], unique=False)

    op.create_table(
        "workflow_templates",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("category", sa.Text(), nullable=False),
        sa.Column("template_definition", sa.Text(), nullable=False),
        sa.Column("required_agent_roles", sa.Text(), nullable=False),
        sa.Column(
            "recommended_agent_count", sa.Integer(), server_default=sa.text("2"), nullable=True
        ),
        sa.Column(
            "is_system_template", sa.Boolean(), server_default=sa.text("(false)"), nullable=True
        ),
        sa.Column("created_by_user_id", sa.Text(), nullable=True),
        sa.Column("usage_count", sa.Integer(), server_default=sa.text("0"), nullable=True),
        sa.Column("success_rate", sa.Float(), server_default=sa.text("(0.0)"), nullable=True),
        sa.Column("created_at", sa.Integer(), server_default=epoch_default(), nullable=False),
        sa.Column("updated_at", sa.Integer(), server_default=epoch_default(), nullable=False),
        sa.Column("workflow_type", sa.Text(), server_default="pipeline", nullable=False),
        sa.Column("system_key", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_user_id"],
            ["users.id"],
            name=op.f("fk_workflow_templates_created_by_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workflow_templates")),
        sa.UniqueConstraint("system_key", name=op.f("uq_workflow_templates_system_key")),
    )
    op.create_table(
        "agents",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("user_id", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("role", sa.Text(), nullable=False),
        sa.Column("backstory", sa.Text(), server_default="", nullable=False),
        sa.Column("skills", sa.Text(), nullable=True),
        sa.Column("llm_provider_id", sa.Text(), nullable=True),
        sa.Column("model", sa.Text(), nullable=True),
        sa.Column("model_parameters", sa.Text(), nullable=True),
        sa.Column("created_at", sa.Integer(), server_default=epoch_default(), nullable=False),
        sa.Column("updated_at", sa.Integer(), server_default=epoch_default(), nullable=False),
        sa.ForeignKeyConstraint(
            ["llm_provider_id"],
            ["llm_providers.id"],
            name=op.f("fk_agents_llm_provider_id_llm_providers"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_agents_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agents")),
    )
    with op.batch_alter_table("agents", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_agents_user_id"), ["user_id"], unique=False)

    op.create_table(
        "collaboration_workflows",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("user_id", sa.Text(), nullable=False),
        sa.Column("project_id", sa.Text(), nullable=True),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("workflow_type", sa.Text(), server_default="pipeline", nullable=False),
        sa.Column("configuration", sa.Text(), nullable=False),
        sa.Column("participating_agents", sa.Text(), nullable=False),
        sa.Column("coordinator_agent_id", sa.Text(), nullable=True),
        sa.Column("status", sa.Text(), server_default="draft", nullable=False),
        sa.Column("current_step", sa.Integer(), server_default=sa.text("0"), nullable=True),
        sa.Column("total_steps", sa.Integer(), server_default=sa.text("0"), nullable=True),
        sa.Column("execution_history", sa.Text(), nullable=True),
        sa.Column("collaboration_metrics", sa.Text(), nullable=True),
        sa.Column("final_result", sa.Text(), nullable=True),
        sa.Column("started_at", sa.Integer(), nullable=True),
        sa.Column("completed_at", sa.Integer(), nullable=True),
        sa.Column("estimated_duration", sa.Integer(), nullable=True),
        sa.Column("actual_duration", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.Integer(), server_default=epoch_default(), nullable=False),
        sa.Column("updated_at", sa.Integer(), server_default=epoch_default(), nullable=False),
        sa.Column("template_id", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["coordinator_agent_id"],
            ["agents.id"],
            name=op.f("fk_collaboration_workflows_coordinator_agent_id_agents"),
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_collaboration_workflows_project_id_projects"),
        ),
        sa.ForeignKeyConstraint(
            ["template_id"],
            ["workflow_templates.id"],
            name=op.f("fk_collaboration_workflows_template_id_workflow_templates"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_collaboration_workflows_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_collaboration_workflows")),
    )
    with op.batch_alter_table("collaboration_workflows", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_collaboration_workflows_user_id"), ["user_id"], unique=False
        )

    op.create_table(
        "workflow_executions",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("workflow_id", sa.Text(), nullable=False),
        sa.Column("execution_number", sa.Integer(), nullable=False),
        sa.Column("trigger_reason", sa.Text(), nullable=False),
        sa.Column("triggered_by", sa.Text(), nullable=True),
        sa.Column("current_step_id", sa.Text(), nullable=True),
        sa.Column("execution_context", sa.Text(), nullable=True),
        sa.Column("step_results", sa.Text(), nullable=True),
        sa.Column("active_agents", sa.Text(), nullable=True),
        sa.Column("agent_assignments", sa.Text(), nullable=True),
        sa.Column("status", sa.Text(), server_default="pending", nullable=False),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("final_output", sa.Text(), nullable=True),
        sa.Column("started_at", sa.Integer(), server_default=epoch_default(), nullable=False),
        sa.Column("completed_at", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.Integer(), server_default=epoch_default(), nullable=False),
        sa.Column("parent_execution_id", sa.Text(), nullable=True),
        sa.Column("parent_step_id", sa.Text(), nullable=True),
        sa.Column("depth", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("definition", sa.Text(), nullable=True),
        sa.Column("estimated_duration", sa.Integer(), nullable=True),
        sa.Column("actual_duration", sa.Integer(), nullable=True),
        sa.Column("usage", sa.Text(), nullable=True),
        sa.Column("user_id", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["parent_execution_id"],
            ["workflow_executions.id"],
            name=op.f("fk_workflow_executions_parent_execution_id_workflow_executions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_workflow_executions_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workflow_id"],
            ["collaboration_workflows.id"],
            name=op.f("fk_workflow_executions_workflow_id_collaboration_workflows"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workflow_executions")),
        sa.UniqueConstraint(
            "workflow_id",
            "execution_number",
            name="uq_workflow_executions_workflow_id_execution_number",
        ),
    )
    with op.batch_alter_table("workflow_executions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_workflow_executions_parent_execution_id"),
            ["parent_execution_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_workflow_executions_user_id"), ["user_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_workflow_executions_workflow_id"), ["workflow_id"], unique=False
        )

    op.create_table(
        "agent_interactions",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("workflow_execution_id", sa.Text(), nullable=False),
        sa.Column("from_agent_id", sa.Text(), nullable=False),
        sa.Column("to_agent_id", sa.Text(), nullable=True),
        sa.Column("interaction_type", sa.Text(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("context_data", sa.Text(), nullable=True),
        sa.Column("related_step_id", sa.Text(), nullable=True),
        sa.Column("related_task_id", sa.Text(), nullable=True),
        sa.Column(
            "requires_response", sa.Boolean(), server_default=sa.text("(false)"), nullable=True
        ),
        sa.Column("response_deadline", sa.Integer(), nullable=True),
        sa.Column(
            "response_received", sa.Boolean(), server_default=sa.text("(false)"), nullable=True
        ),
        sa.Column("response_message", sa.Text(), nullable=True),
        sa.Column("response_data", sa.Text(), nullable=True),
        sa.Column("created_at", sa.Integer(), server_default=epoch_default(), nullable=False),
        sa.Column("responded_at", sa.Integer(), nullable=True),
        sa.Column("to_user_id", sa.Text(), nullable=True),
        sa.Column("response_status", sa.Text(), nullable=True),
        sa.Column("recorded_at", sa.Float(), server_default=sa.text("0"), nullable=False),
        sa.ForeignKeyConstraint(
            ["from_agent_id"],
            ["agents.id"],
            name=op.f("fk_agent_interactions_from_agent_id_agents"),
        ),
        sa.ForeignKeyConstraint(
            ["to_agent_id"], ["agents.id"], name=op.f("fk_agent_interactions_to_agent_id_agents")
        ),
        sa.ForeignKeyConstraint(
            ["to_user_id"],
            ["users.id"],
            name=op.f("fk_agent_interactions_to_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workflow_execution_id"],
            ["workflow_executions.id"],
            name=op.f("fk_agent_interactions_workflow_execution_id_workflow_executions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agent_interactions")),
    )
    with op.batch_alter_table("agent_interactions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_agent_interactions_workflow_execution_id"),
            ["workflow_execution_id"],
            unique=False,
        )

    op.create_table(
        "collaboration_knowledge",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("workflow_id", sa.Text(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("knowledge_type", sa.Text(), nullable=False),
        sa.Column("created_by_agent_id", sa.Text(), nullable=False),
        sa.Column("validated_by_agents", sa.Text(), nullable=True),
        sa.Column("relevance_score", sa.Float(), server_default=sa.text("(1.0)"), nullable=True),
        sa.Column("usage_count", sa.Integer(), server_default=sa.text("0"), nullable=True),
        sa.Column("tags", sa.Text(), nullable=True),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("(true)"), nullable=True),
        sa.Column("superseded_by", sa.Text(), nullable=True),
        sa.Column("created_at", sa.Integer(), server_default=epoch_default(), nullable=False),
        sa.Column("updated_at", sa.Integer(), server_default=epoch_default(), nullable=False),
        sa.Column("subject", sa.Text(), nullable=True),
        sa.Column("execution_id", sa.Text(), nullable=True),
        sa.Column("source_step_id", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_agent_id"],
            ["agents.id"],
            name=op.f("fk_collaboration_knowledge_created_by_agent_id_agents"),
        ),
        sa.ForeignKeyConstraint(
            ["execution_id"],
            ["workflow_executions.id"],
            name=op.f("fk_collaboration_knowledge_execution_id_workflow_executions"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["superseded_by"],
            ["collaboration_knowledge.id"],
            name=op.f("fk_collaboration_knowledge_superseded_by_collaboration_knowledge"),
        ),
        sa.ForeignKeyConstraint(
            ["workflow_id"],
            ["collaboration_workflows.id"],
            name=op.f("fk_collaboration_knowledge_workflow_id_collaboration_workflows"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_collaboration_knowledge")),
    )
    with op.batch_alter_table("collaboration_knowledge", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_collaboration_knowledge_workflow_id"), ["workflow_id"], unique=False
        )

    op.create_table(
        "execution_events",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("execution_id", sa.Text(), nullable=False),
        sa.Column("user_id", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("step_id", sa.Text(), nullable=True),
        sa.Column("data", sa.Text(), nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["execution_id"],
            ["workflow_executions.id"],
            name=op.f("fk_execution_events_execution_id_workflow_executions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_execution_events_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_execution_events")),
    )
    with op.batch_alter_table("execution_events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_execution_events_execution_id_id", ["execution_id", "id"], unique=False
        )
        batch_op.create_index("ix_execution_events_user_id_id", ["user_id", "id"], unique=False)

    op.create_table(
        "step_runs",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("execution_id", sa.Text(), nullable=False),
        sa.Column("step_id", sa.Text(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("agent_id", sa.Text(), nullable=True),
        sa.Column("started_at", sa.Float(), nullable=True),
        sa.Column("finished_at", sa.Float(), nullable=True),
        sa.Column("output", sa.Text(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("feedback", sa.Text(), nullable=True),
        sa.Column("input_tokens", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("output_tokens", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("cost_usd", sa.Float(), server_default=sa.text("0"), nullable=False),
        sa.Column("model_calls", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("executor_id", sa.Text(), nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_id"],
            ["agents.id"],
            name=op.f("fk_step_runs_agent_id_agents"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["execution_id"],
            ["workflow_executions.id"],
            name=op.f("fk_step_runs_execution_id_workflow_executions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_step_runs")),
        sa.UniqueConstraint(
            "execution_id", "step_id", "attempt", name="uq_step_runs_execution_id_step_id_attempt"
        ),
    )
    create_knowledge_search()


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE IF EXISTS collaboration_knowledge_fts")
    op.drop_table("step_runs")
    with op.batch_alter_table("execution_events", schema=None) as batch_op:
        batch_op.drop_index("ix_execution_events_user_id_id")
        batch_op.drop_index("ix_execution_events_execution_id_id")

    op.drop_table("execution_events")
    with op.batch_alter_table("collaboration_knowledge", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_collaboration_knowledge_workflow_id"))

    op.drop_table("collaboration_knowledge")
    with op.batch_alter_table("agent_interactions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_agent_interactions_workflow_execution_id"))

    op.drop_table("agent_interactions")
    with op.batch_alter_table("workflow_executions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_workflow_executions_workflow_id"))
        batch_op.drop_index(batch_op.f("ix_workflow_executions_user_id"))
        batch_op.drop_index(batch_op.f("ix_workflow_executions_parent_execution_id"))

    op.drop_table("workflow_executions")
    with op.batch_alter_table("collaboration_workflows", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_collaboration_workflows_user_id"))

    op.drop_table("collaboration_workflows")
    with op.batch_alter_table("agents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_agents_user_id"))

    op.drop_table("agents")
    op.drop_table("workflow_templates")
    with op.batch_alter_table("projects", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_projects_user_id"))

    op.drop_table("projects")
    with op.batch_alter_table("llm_providers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_llm_providers_user_id"))

    op.drop_table("llm_providers")
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_tokens_user_id"))

    op.drop_table("api_tokens")
    op.drop_table("workers")
    op.drop_table("users")
