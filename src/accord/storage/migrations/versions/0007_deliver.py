"""Deliverables, and maxExecutionTime in seconds.

- `workflow_executions.deliverable`: what a completed execution hands over
  (`{markdown, stepIds}`), stored so that listings never recompute it.
- `constraints.maxExecutionTime` was read in minutes; the spec's unit is seconds (its own
  default, 3600, is "1 hour"). Stored definitions are converted so that every limit keeps
  the length it had: workflows, templates and execution snapshots.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 02:00:00
"""

import json
from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, JSON column, where the configuration sits inside it)
_DEFINITIONS: list[tuple[str, str, Callable[[dict[str, Any]], dict[str, Any] | None]]] = [
    ("collaboration_workflows", "configuration", lambda d: d),
    ("workflow_templates", "template_definition", lambda d: d),
    ("workflow_executions", "definition", lambda d: d.get("configuration")),
]


def _rescale(factor: float) -> None:
    connection = op.get_bind()
    for table, column, configuration_of in _DEFINITIONS:
        rows = connection.execute(
            sa.text(f"SELECT id, {column} FROM {table} WHERE {column} LIKE :pattern"),
            {"pattern": '%"maxExecutionTime":%'},
        )
        for row_id, text in rows.fetchall():
            definition = json.loads(text)
            configuration = configuration_of(definition) or {}
            constraints = configuration.get("constraints") or {}
            limit = constraints.get("maxExecutionTime")
            if not isinstance(limit, int | float):
                continue
            constraints["maxExecutionTime"] = limit * factor
            connection.execute(
                sa.text(f"UPDATE {table} SET {column} = :value WHERE id = :id"),
                {"value": json.dumps(definition, separators=(",", ":")), "id": row_id},
            )


def upgrade() -> None:
    with op.batch_alter_table("workflow_executions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("deliverable", sa.Text(), nullable=True))
    _rescale(60)


def downgrade() -> None:
    _rescale(1 / 60)
    with op.batch_alter_table("workflow_executions", schema=None) as batch_op:
        batch_op.drop_column("deliverable")
