"""Output modes: the mode each step attempt's model answered in, and its validation retries.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07 01:55:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("step_runs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("output_mode", sa.Text(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "validation_retries", sa.Integer(), server_default=sa.text("0"), nullable=False
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("step_runs", schema=None) as batch_op:
        batch_op.drop_column("validation_retries")
        batch_op.drop_column("output_mode")
