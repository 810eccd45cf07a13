"""Retrying a failed execution from its failed steps.

- `workflow_executions.retry_of`: the execution a retry picks up from (its completed step
  results were kept), so that either can be found from the other.
- `step_runs.reused_from`: the execution whose completed result this attempt carries over
  instead of running the step again (its tokens and cost stay with that execution).

Plain ADD COLUMNs: both tables are referenced with ON DELETE CASCADE, so they must never be
rebuilt.

Revision ID: 0010_retry
Revises: 0008_approvals
Create Date: 2026-12-07 05:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_retry"
down_revision: str | None = "0008_approvals"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("workflow_executions", sa.Column("retry_of", sa.Text(), nullable=True))
    op.add_column("step_runs", sa.Column("reused_from", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("step_runs", "reused_from")
    op.drop_column("workflow_executions", "retry_of")
