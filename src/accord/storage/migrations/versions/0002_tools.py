"""Agents' tools: each agent's allow-list, and tool calls counted per step attempt.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-07 01:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("agents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("tools", sa.Text(), nullable=True))
    with op.batch_alter_table("step_runs", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("tool_calls", sa.Integer(), server_default=sa.text("0"), nullable=False)
        )
        batch_op.add_column(
            sa.Column("tool_seconds", sa.Float(), server_default=sa.text("0"), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("step_runs", schema=None) as batch_op:
        batch_op.drop_column("tool_seconds")
        batch_op.drop_column("tool_calls")
    with op.batch_alter_table("agents", schema=None) as batch_op:
        batch_op.drop_column("tools")
