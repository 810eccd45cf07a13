"""The schema built by the migrations holds every column of the spec's "Database Schema",
with its type, nullability, default and foreign keys, on SQLite and Postgres alike."""

import time
import uuid

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.types import Boolean, Float, Integer, String

from accord.storage.repositories.agents import AgentRepository
from accord.storage.tables import metadata

NOW = "now"  # the spec's DEFAULT (strftime('%s', 'now'))
NO_DEFAULT = object()

# (table, column, type family, nullable, default): copied from the spec's CREATE TABLEs.
SPEC_COLUMNS = [
    ("collaboration_workflows", "id", "text", False, NO_DEFAULT),
    ("collaboration_workflows", "user_id", "text", False, NO_DEFAULT),
    ("collaboration_workflows", "project_id", "text", True, NO_DEFAULT),
    ("collaboration_workflows", "name", "text", False, NO_DEFAULT),
    ("collaboration_workflows", "description", "text", False, NO_DEFAULT),
    ("collaboration_workflows", "workflow_type", "text", False, "pipeline"),
    ("collaboration_workflows", "configuration", "text", False, NO_DEFAULT),
    ("collaboration_workflows", "participating_agents", "text", False, NO_DEFAULT),
    ("collaboration_workflows", "coordinator_agent_id", "text", True, NO_DEFAULT),
    ("collaboration_workflows", "status", "text", False, "draft"),
    ("collaboration_workflows", "current_step", "integer", True, 0),
    ("collaboration_workflows", "total_steps", "integer", True, 0),
    ("collaboration_workflows", "execution_history", "text", True, NO_DEFAULT),
    ("collaboration_workflows", "collaboration_metrics", "text", True, NO_DEFAULT),
    ("collaboration_workflows", "final_result", "text", True, NO_DEFAULT),
    ("collaboration_workflows", "started_at", "integer", True, NO_DEFAULT),
    ("collaboration_workflows", "completed_at", "integer", True, NO_DEFAULT),
    ("collaboration_workflows", "estimated_duration", "integer", True, NO_DEFAULT),
    ("collaboration_workflows", "actual_duration", "integer", True, NO_DEFAULT),
    ("collaboration_workflows", "created_at", "integer", False, NOW),
    ("collaboration_workflows", "updated_at", "integer", False, NOW),
    ("workflow_executions", "id", "text", False, NO_DEFAULT),
    ("workflow_executions", "workflow_id", "text", False, NO_DEFAULT),
    ("workflow_executions", "execution_number", "integer", False, NO_DEFAULT),
    ("workflow_executions", "trigger_reason", "text", False, NO_DEFAULT),
    ("workflow_executions", "triggered_by", "text", True, NO_DEFAULT),
    ("workflow_executions", "current_step_id", "text", True, NO_DEFAULT),
    ("workflow_executions", "execution_context", "text", True, NO_DEFAULT),
    ("workflow_executions", "step_results", "text", True, NO_DEFAULT),
    ("workflow_executions", "active_agents", "text", True, NO_DEFAULT),
    ("workflow_executions", "agent_assignments", "text", True, NO_DEFAULT),
    ("workflow_executions", "status", "text", False, "pending"),
    ("workflow_executions", "error_message", "text", True, NO_DEFAULT),
    ("workflow_executions", "final_output", "text", True, NO_DEFAULT),
    ("workflow_executions", "started_at", "integer", False, NOW),
    ("workflow_executions", "completed_at", "integer", True, NO_DEFAULT),
    ("workflow_executions", "updated_at", "integer", False, NOW),
    ("agent_interactions", "id", "text", False, NO_DEFAULT),
    ("agent_interactions", "workflow_execution_id", "text", False, NO_DEFAULT),
    ("agent_interactions", "from_agent_id", "text", False, NO_DEFAULT),
    ("agent_interactions", "to_agent_id", "text", True, NO_DEFAULT),
    ("agent_interactions", "interaction_type", "text", False, NO_DEFAULT),
    ("agent_interactions", "message", "text", False, NO_DEFAULT),
    ("agent_interactions", "context_data", "text", True, NO_DEFAULT),
    ("agent_interactions", "related_step_id", "text", True, NO_DEFAULT),
    ("agent_interactions", "related_task_id", "text", True, NO_DEFAULT),
    ("agent_interactions", "requires_response", "boolean", True, False),
    ("agent_interactions", "response_deadline", "integer", True, NO_DEFAULT),
    ("agent_interactions", "response_received", "boolean", True, False),
    ("agent_interactions", "response_message", "text", True, NO_DEFAULT),
    ("agent_interactions", "response_data", "text", True, NO_DEFAULT),
    ("agent_interactions", "created_at", "integer", False, NOW),
    ("agent_interactions", "responded_at", "integer", True, NO_DEFAULT),
    ("collaboration_knowledge", "id", "text", False, NO_DEFAULT),
    ("collaboration_knowledge", "workflow_id", "text", False, NO_DEFAULT),
    ("collaboration_knowledge", "title", "text", False, NO_DEFAULT),
    ("collaboration_knowledge", "content", "text", False, NO_DEFAULT),
    ("collaboration_knowledge", "knowledge_type", "text", False, NO_DEFAULT),
    ("collaboration_knowledge", "created_by_agent_id", "text", False, NO_DEFAULT),
    ("collaboration_knowledge", "validated_by_agents", "text", True, NO_DEFAULT),
    ("collaboration_knowledge", "relevance_score", "real", True, 1.0),
    ("collaboration_knowledge", "usage_count", "integer", True, 0),
    ("collaboration_knowledge", "tags", "text", True, NO_DEFAULT),
    ("collaboration_knowledge", "is_active", "boolean", True, True),
    ("collaboration_knowledge", "superseded_by", "text", True, NO_DEFAULT),
    ("collaboration_knowledge", "created_at", "integer", False, NOW),
    ("collaboration_knowledge", "updated_at", "integer", False, NOW),
    ("workflow_templates", "id", "text", False, NO_DEFAULT),
    ("workflow_templates", "name", "text", False, NO_DEFAULT),
    ("workflow_templates", "description", "text", False, NO_DEFAULT),
    ("workflow_templates", "category", "text", False, NO_DEFAULT),
    ("workflow_templates", "template_definition", "text", False, NO_DEFAULT),
    ("workflow_templates", "required_agent_roles", "text", False, NO_DEFAULT),
    ("workflow_templates", "recommended_agent_count", "integer", True, 2),
    ("workflow_templates", "is_system_template", "boolean", True, False),
    ("workflow_templates", "created_by_user_id", "text", True, NO_DEFAULT),
    ("workflow_templates", "usage_count", "integer", True, 0),
    ("workflow_templates", "success_rate", "real", True, 0.0),
    ("workflow_templates", "created_at", "integer", False, NOW),
    ("workflow_templates", "updated_at", "integer", False, NOW),
]

# (table, column) -> (referred table, referred column, ON DELETE), from the spec's REFERENCES.
SPEC_FOREIGN_KEYS = {
    ("collaboration_workflows", "user_id"): ("users", "id", None),
    ("collaboration_workflows", "project_id"): ("projects", "id", None),
    ("collaboration_workflows", "coordinator_agent_id"): ("agents", "id", None),
    ("workflow_executions", "workflow_id"): ("collaboration_workflows", "id", "CASCADE"),
    ("agent_interactions", "workflow_execution_id"): ("workflow_executions", "id", "CASCADE"),
    ("agent_interactions", "from_agent_id"): ("agents", "id", None),
    ("agent_interactions", "to_agent_id"): ("agents", "id", None),
    ("collaboration_knowledge", "workflow_id"): ("collaboration_workflows", "id", "CASCADE"),
    ("collaboration_knowledge", "created_by_agent_id"): ("agents", "id", None),
    ("collaboration_knowledge", "superseded_by"): ("collaboration_knowledge", "id", None),
    ("workflow_templates", "created_by_user_id"): ("users", "id", None),
}

FAMILIES = {"text": String, "integer": Integer, "real": Float, "boolean": Boolean}
SPEC_TABLES = sorted({t for t, *_ in SPEC_COLUMNS})


@pytest.fixture
def inspector(db):
    return inspect(db.engine)


def test_every_spec_table_and_the_tables_they_reference_exist(inspector):
    tables = set(inspector.get_table_names())
    assert set(SPEC_TABLES) | {"users", "projects", "agents", "llm_providers"} <= tables
    assert set(metadata.tables) <= tables


@pytest.mark.parametrize("table", SPEC_TABLES)
def test_every_spec_column_has_its_type_and_nullability(inspector, table):
    columns = {c["name"]: c for c in inspector.get_columns(table)}
    primary_key = inspector.get_pk_constraint(table)["constrained_columns"]
    assert primary_key == ["id"]
    for _, name, family, nullable, _ in [c for c in SPEC_COLUMNS if c[0] == table]:
        assert name in columns, f"{table}.{name} is missing"
        column = columns[name]
        assert isinstance(column["type"], FAMILIES[family]), (table, name, column["type"])
        assert column["nullable"] is nullable or (name == "id" and not nullable), (table, name)


@pytest.mark.parametrize("table", SPEC_TABLES)
def test_every_spec_foreign_key_with_its_on_delete(inspector, table):
    found = {
        (table, fk["constrained_columns"][0]): (
            fk["referred_table"],
            fk["referred_columns"][0],
            (fk.get("options") or {}).get("ondelete"),
        )
        for fk in inspector.get_foreign_keys(table)
    }
    for key, (referred_table, referred_column, on_delete) in SPEC_FOREIGN_KEYS.items():
        if key[0] != table:
            continue
        assert key in found, f"{key} has no foreign key"
        assert found[key][:2] == (referred_table, referred_column), key
        if on_delete is not None:
            assert (found[key][2] or "").upper() == on_delete, key


def test_defaults_are_filled_in_by_the_database(db, user_id):
    """Insert with plain SQL, naming only the columns without a default, and read back what
    the database filled in: the spec's defaults, and the insert time for created_at."""
    with db.session() as s:
        agent = AgentRepository(s).create(user_id=user_id, name="A", role="dev")
    ids = {t: str(uuid.uuid4()) for t in SPEC_TABLES}
    inserts = [
        (
            "collaboration_workflows",
            {
                "user_id": user_id,
                "name": "n",
                "description": "d",
                "configuration": "{}",
                "participating_agents": "[]",
            },
        ),
        (
            "workflow_executions",
            {
                "workflow_id": ids["collaboration_workflows"],
                "execution_number": 1,
                "trigger_reason": "manual",
            },
        ),
        (
            "agent_interactions",
            {
                "workflow_execution_id": ids["workflow_executions"],
                "from_agent_id": agent.id,
                "interaction_type": "question",
                "message": "m",
            },
        ),
        (
            "collaboration_knowledge",
            {
                "workflow_id": ids["collaboration_workflows"],
                "title": "t",
                "content": "c",
                "knowledge_type": "insight",
                "created_by_agent_id": agent.id,
            },
        ),
        (
            "workflow_templates",
            {
                "name": "n",
                "description": "d",
                "category": "review",
                "template_definition": "{}",
                "required_agent_roles": "[]",
            },
        ),
    ]
    before = int(time.time())
    with db.session() as s:
        for table, values in inserts:
            values = {"id": ids[table], **values}
            s.execute(
                text(
                    f"INSERT INTO {table} ({', '.join(values)}) "
                    f"VALUES ({', '.join(':' + k for k in values)})"
                ),
                values,
            )
    after = int(time.time())
    with db.session() as s:
        for table, _ in inserts:
            row = (
                s.execute(text(f"SELECT * FROM {table} WHERE id = :id"), {"id": ids[table]})
                .mappings()
                .one()
            )
            for _, name, family, _, default in [c for c in SPEC_COLUMNS if c[0] == table]:
                value = row[name]
                if default is NOW:
                    assert before <= value <= after + 1, (table, name, value)
                elif default is NO_DEFAULT:
                    continue
                elif family == "boolean":
                    assert value in (0, 1, True, False) and bool(value) is default, (table, name)
                else:
                    assert value == default, (table, name, value)
    with db.session() as s:
        s.execute(
            text("DELETE FROM workflow_templates WHERE id = :id"), {"id": ids["workflow_templates"]}
        )


def test_deleting_a_workflow_cascades_to_its_executions_interactions_and_knowledge(db, user_id):
    with db.session() as s:
        agent = AgentRepository(s).create(user_id=user_id, name="A", role="dev")
        workflow, execution = str(uuid.uuid4()), str(uuid.uuid4())
        s.execute(
            text(
                "INSERT INTO collaboration_workflows (id, user_id, name, description, "
                "configuration, participating_agents) VALUES (:id, :u, 'n', 'd', '{}', "
                "'[]')"
            ),
            {"id": workflow, "u": user_id},
        )
        s.execute(
            text(
                "INSERT INTO workflow_executions (id, workflow_id, execution_number, "
                "trigger_reason) VALUES (:id, :w, 1, 'manual')"
            ),
            {"id": execution, "w": workflow},
        )
        s.execute(
            text(
                "INSERT INTO agent_interactions (id, workflow_execution_id, "
                "from_agent_id, interaction_type, message) VALUES (:id, :e, :a, "
                "'question', 'm')"
            ),
            {"id": str(uuid.uuid4()), "e": execution, "a": agent.id},
        )
        s.execute(
            text(
                "INSERT INTO collaboration_knowledge (id, workflow_id, title, content, "
                "knowledge_type, created_by_agent_id) VALUES (:id, :w, 't', 'c', "
                "'insight', :a)"
            ),
            {"id": str(uuid.uuid4()), "w": workflow, "a": agent.id},
        )
    with db.session() as s:
        s.execute(text("DELETE FROM collaboration_workflows WHERE id = :w"), {"w": workflow})
    with db.session() as s:
        counts = [
            s.execute(
                text(f"SELECT count(*) FROM {table} WHERE {column} = :v"), {"v": value}
            ).scalar_one()
            for table, column, value in [
                ("workflow_executions", "workflow_id", workflow),
                ("agent_interactions", "workflow_execution_id", execution),
                ("collaboration_knowledge", "workflow_id", workflow),
            ]
        ]
    assert counts == [0, 0, 0]


def test_foreign_keys_are_enforced(db):
    from sqlalchemy.exc import IntegrityError

    with pytest.raises(IntegrityError), db.session() as s:
        s.execute(
            text(
                "INSERT INTO workflow_executions (id, workflow_id, execution_number, "
                "trigger_reason) VALUES (:id, 'no-such-workflow', 1, 'manual')"
            ),
            {"id": str(uuid.uuid4())},
        )
