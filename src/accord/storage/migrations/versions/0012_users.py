"""Users who sign in with a password, administrators, disabled accounts, token scopes and
project members with roles.

Columns are added with plain ADD COLUMN (no batch rebuild: other tables reference `users`
with ON DELETE CASCADE). The first user of an existing database, the local user every
earlier version made, becomes the administrator, so an upgrade keeps someone able to
manage users.

Revision ID: 0012_users
Revises: 0010_retry
Create Date: 2026-12-07 05:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012_users"
down_revision: str | None = "0010_retry"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def epoch_default() -> sa.TextClause:
    if op.get_bind().dialect.name == "sqlite":
        return sa.text("(strftime('%s', 'now'))")
    return sa.text("(extract(epoch from now())::integer)")


def upgrade() -> None:
    op.add_column("users", sa.Column("password_hash", sa.Text(), nullable=True))
    op.add_column(
        "users",
        sa.Column("is_admin", sa.Boolean(), server_default=sa.text("false"), nullable=False),
    )
    op.add_column("users", sa.Column("disabled_at", sa.Integer(), nullable=True))
    # Tokens made before scopes existed could do everything their user can: they keep that.
    op.add_column(
        "api_tokens", sa.Column("scope", sa.Text(), server_default="admin", nullable=False)
    )
    op.create_table(
        "project_members",
        sa.Column("project_id", sa.Text(), nullable=False),
        sa.Column("user_id", sa.Text(), nullable=False),
        sa.Column("role", sa.Text(), nullable=False),
        sa.Column("created_at", sa.Integer(), server_default=epoch_default(), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_project_members_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_project_members_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("project_id", "user_id", name=op.f("pk_project_members")),
    )
    op.create_index("ix_project_members_user_id", "project_members", ["user_id"])
    users = sa.table("users", sa.column("id", sa.Text()), sa.column("is_admin", sa.Boolean()))
    first = (
        sa.select(sa.column("id"))
        .select_from(sa.table("users"))
        .order_by(sa.column("created_at"), sa.column("id"))
        .limit(1)
        .scalar_subquery()
    )
    op.execute(users.update().where(users.c.id == first).values(is_admin=True))


def downgrade() -> None:
    op.drop_index("ix_project_members_user_id", table_name="project_members")
    op.drop_table("project_members")
    # Plain DROP COLUMN (SQLite 3.35+): a batch rebuild of `users` would drop the table
    # every other one references.
    op.drop_column("api_tokens", "scope")
    for column in ("disabled_at", "is_admin", "password_hash"):
        op.drop_column("users", column)
