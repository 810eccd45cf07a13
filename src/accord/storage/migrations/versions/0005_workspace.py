"""Execution workspaces (a named folder per execution, who wrote which file) and saved MCP
servers.

Revision ID: 0005_workspace
Revises: 0004
Create Date: 2026-12-07 01:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_workspace"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def epoch_default() -> sa.TextClause:
    if op.get_bind().dialect.name == "sqlite":
        return sa.text("(strftime('%s', 'now'))")
    return sa.text("(extract(epoch from now())::integer)")


def upgrade() -> None:
    with op.batch_alter_table("workflow_executions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("workspace_dir", sa.Text(), nullable=True))

    op.create_table(
        "workspace_files",
        sa.Column("execution_id", sa.Text(), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("step_id", sa.Text(), nullable=True),
        sa.Column("attempt", sa.Integer(), nullable=True),
        sa.Column("agent_id", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["execution_id"],
            ["workflow_executions.id"],
            name=op.f("fk_workspace_files_execution_id_workflow_executions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["agent_id"],
            ["agents.id"],
            name=op.f("fk_workspace_files_agent_id_agents"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("execution_id", "path", name=op.f("pk_workspace_files")),
    )

    op.create_table(
        "mcp_servers",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("user_id", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("command", sa.Text(), nullable=True),
        sa.Column("args", sa.Text(), nullable=True),
        sa.Column("cwd", sa.Text(), nullable=True),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("encrypted_env", sa.Text(), nullable=True),
        sa.Column("encrypted_headers", sa.Text(), nullable=True),
        sa.Column(
            "require_approval", sa.Boolean(), server_default=sa.text("false"), nullable=False
        ),
        sa.Column("created_at", sa.Integer(), server_default=epoch_default(), nullable=False),
        sa.Column("updated_at", sa.Integer(), server_default=epoch_default(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_mcp_servers_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mcp_servers")),
    )
    with op.batch_alter_table("mcp_servers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_mcp_servers_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("mcp_servers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mcp_servers_user_id"))
    op.drop_table("mcp_servers")
    op.drop_table("workspace_files")
    with op.batch_alter_table("workflow_executions", schema=None) as batch_op:
        batch_op.drop_column("workspace_dir")
