"""Knowledge status: validated, unvalidated or rejected, so that search ranks checked
knowledge first and knowledge from work a review sent back last.

Revision ID: 0006
Revises: 0005_workspace
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005_workspace"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("collaboration_knowledge", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("status", sa.Text(), nullable=False, server_default="unvalidated")
        )
    # Entries some agent validated before statuses existed are validated.
    op.execute(
        "UPDATE collaboration_knowledge SET status = 'validated' "
        "WHERE validated_by_agents IS NOT NULL AND validated_by_agents NOT IN ('[]', 'null')"
    )


def downgrade() -> None:
    with op.batch_alter_table("collaboration_knowledge", schema=None) as batch_op:
        batch_op.drop_column("status")
