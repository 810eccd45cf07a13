"""Triggers: schedules, inbound hooks and their deliveries, dependencies between workflows,
outbound notifications and their deliveries; executions remember what started them.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07 02:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

EPOCH = sa.text("(strftime('%s', 'now'))")


def _epoch_default() -> sa.TextClause:
    if op.get_bind().dialect.name == "postgresql":
        return sa.text("(extract(epoch from now())::integer)")
    return EPOCH


def _workflow_fk(name: str = "workflow_id", *, nullable: bool = False) -> sa.Column[str]:
    return sa.Column(
        name,
        sa.Text(),
        sa.ForeignKey("collaboration_workflows.id", ondelete="CASCADE"),
        nullable=nullable,
    )


def _user_fk() -> sa.Column[str]:
    return sa.Column(
        "user_id", sa.Text(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )


def _created() -> sa.Column[int]:
    return sa.Column("created_at", sa.Integer(), nullable=False, server_default=_epoch_default())


def upgrade() -> None:
    op.create_table(
        "workflow_schedules",
        sa.Column("id", sa.Text(), primary_key=True),
        _workflow_fk(),
        _user_fk(),
        sa.Column("spec", sa.Text(), nullable=False),
        sa.Column("paused", sa.Boolean(), nullable=False, server_default=sa.text("false")),
        _created(),
    )
    op.create_index("ix_workflow_schedules_workflow_id", "workflow_schedules", ["workflow_id"])
    op.create_table(
        "workflow_hooks",
        sa.Column("id", sa.Text(), primary_key=True),
        _workflow_fk(),
        _user_fk(),
        sa.Column("spec", sa.Text(), nullable=False),
        sa.Column("encrypted_secret", sa.Text(), nullable=False),
        _created(),
    )
    op.create_index("ix_workflow_hooks_workflow_id", "workflow_hooks", ["workflow_id"])
    op.create_table(
        "hook_deliveries",
        sa.Column(
            "hook_id",
            sa.Text(),
            sa.ForeignKey("workflow_hooks.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("delivery_id", sa.Text(), primary_key=True),
        sa.Column("execution_id", sa.Text()),
        sa.Column("received_at", sa.Float(), nullable=False),
    )
    op.create_table(
        "workflow_dependencies",
        sa.Column("id", sa.Text(), primary_key=True),
        _workflow_fk(),
        _workflow_fk("upstream_workflow_id"),
        _user_fk(),
        sa.Column("outcome", sa.Text(), nullable=False),
        _created(),
        sa.UniqueConstraint(
            "workflow_id", "upstream_workflow_id", name="uq_workflow_dependencies_pair"
        ),
    )
    op.create_index(
        "ix_workflow_dependencies_workflow_id", "workflow_dependencies", ["workflow_id"]
    )
    op.create_index(
        "ix_workflow_dependencies_upstream_workflow_id",
        "workflow_dependencies",
        ["upstream_workflow_id"],
    )
    op.create_table(
        "notifications",
        sa.Column("id", sa.Text(), primary_key=True),
        _user_fk(),
        _workflow_fk(nullable=True),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("events", sa.Text(), nullable=False),
        sa.Column("encrypted_secret", sa.Text(), nullable=False),
        _created(),
    )
    op.create_index("ix_notifications_user_id", "notifications", ["user_id"])
    op.create_table(
        "notification_deliveries",
        sa.Column("id", sa.Text(), primary_key=True),
        sa.Column(
            "notification_id",
            sa.Text(),
            sa.ForeignKey("notifications.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("event", sa.Text(), nullable=False),
        sa.Column("execution_id", sa.Text()),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default=sa.text("0")),
        sa.Column("next_attempt_at", sa.Float()),
        sa.Column("claimed_until", sa.Float()),
        sa.Column("last_error", sa.Text()),
        sa.Column("response_status", sa.Integer()),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("delivered_at", sa.Float()),
    )
    op.create_index(
        "ix_notification_deliveries_notification_id",
        "notification_deliveries",
        ["notification_id"],
    )
    op.create_index(
        "ix_notification_deliveries_next_attempt_at",
        "notification_deliveries",
        ["next_attempt_at"],
    )
    op.create_table(
        "notification_cursor",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "last_event_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
        ),
    )
    # A plain ADD COLUMN and a unique index: a batch-made unique constraint would rebuild the
    # table on SQLite, and dropping the old copy with foreign keys on deletes (by cascade)
    # every step run, event and interaction of every execution.
    op.add_column("workflow_executions", sa.Column("trigger_key", sa.Text(), nullable=True))
    op.create_index(
        "uq_workflow_executions_trigger_key", "workflow_executions", ["trigger_key"], unique=True
    )


def downgrade() -> None:
    op.drop_index("uq_workflow_executions_trigger_key", table_name="workflow_executions")
    op.drop_column("workflow_executions", "trigger_key")
    for table in (
        "notification_cursor",
        "notification_deliveries",
        "notifications",
        "workflow_dependencies",
        "hook_deliveries",
        "workflow_hooks",
        "workflow_schedules",
    ):
        op.drop_table(table)
