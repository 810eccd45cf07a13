"""The migrations: one head, a full upgrade on an empty database and on one holding data,
agreement with `tables.py`, and `accord db upgrade` as a user runs it."""

import os
import subprocess
import sys
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from accord.domain.enums import KnowledgeStatus
from accord.domain.workflow import CreateWorkflowRequest, WorkflowConfiguration, WorkflowStep
from accord.storage.db import Database
from accord.storage.migrate import (
    alembic_config,
    current_revision,
    downgrade,
    heads,
    shipped_head,
    upgrade,
)
from accord.storage.repositories.agents import AgentRepository
from accord.storage.repositories.knowledge import KnowledgeRepository
from accord.storage.repositories.users import UserRepository
from accord.storage.repositories.workflows import WorkflowRepository
from accord.storage.tables import metadata

# Full-text search objects live outside tables.py on purpose (dialect-specific, made in 0001).
SEARCH_OBJECTS = {
    "collaboration_knowledge_fts",
    "search_vector",
    "ix_collaboration_knowledge_search_vector",
}


def _revisions_oldest_first() -> list[str]:
    script = ScriptDirectory.from_config(alembic_config())
    return [r.revision for r in reversed(list(script.walk_revisions()))]


def test_the_migrations_have_a_single_head_and_a_single_base():
    script = ScriptDirectory.from_config(alembic_config())
    assert len(heads()) == 1
    assert len(script.get_bases()) == 1
    assert _revisions_oldest_first()[-1] == heads()[0]


def test_the_head_read_from_the_scripts_text_is_alembics():
    assert shipped_head() == heads()[0]


def test_a_database_at_head_is_not_handed_to_alembic(empty_database_url, monkeypatch):
    """Every command starts by upgrading; at head that is one query, not Alembic (whose
    import and scripts were most of a short command's start-up). Below head, Alembic runs."""
    from alembic import command

    db = Database(empty_database_url)
    try:
        first, *_ = _revisions_oldest_first()
        upgrade(db.engine, first)
        upgrade(db.engine)  # below head: Alembic brings it up
        assert current_revision(db.engine) == heads()[0]

        def no_alembic(*_args: object) -> None:
            raise AssertionError("Alembic ran on a database already at head")

        monkeypatch.setattr(command, "upgrade", no_alembic)
        upgrade(db.engine)
        db.upgrade()
    finally:
        db.dispose()


def test_upgrading_a_database_that_holds_data_keeps_it(empty_database_url):
    """Stop at the first revision, store data, then upgrade through every later revision."""
    db = Database(empty_database_url)
    try:
        first, *_ = _revisions_oldest_first()
        upgrade(db.engine, first)
        with db.session() as s:
            user = UserRepository(s).create(email="keep@example.test", display_name="Keeper")
            # The agents table as the first revision made it (later ones add columns).
            agent_id = "agent-ada"
            s.execute(
                text(
                    "INSERT INTO agents (id, user_id, name, role, backstory, created_at, "
                    "updated_at) VALUES (:id, :user_id, 'Ada', 'architect', '', 0, 0)"
                ),
                {"id": agent_id, "user_id": user.id},
            )
            workflow_id = "workflow-kept"
            s.execute(
                text(
                    "INSERT INTO collaboration_workflows (id, user_id, name, description, "
                    "configuration, participating_agents, created_at, updated_at) VALUES "
                    "(:id, :user_id, 'Kept', '', :configuration, :agents, 0, 0)"
                ),
                {
                    "id": workflow_id,
                    "user_id": user.id,
                    "configuration": WorkflowConfiguration(
                        steps=[WorkflowStep(id="s", name="S")]
                    ).model_dump_json(by_alias=True),
                    "agents": f'["{agent_id}"]',
                },
            )
            # The first revision's columns only: later ones add theirs (the status, say).
            s.execute(
                text(
                    "INSERT INTO collaboration_knowledge (id, workflow_id, title, content, "
                    "knowledge_type, created_by_agent_id, validated_by_agents, created_at, "
                    "updated_at) VALUES ('knowledge-kept', :workflow, 'Durable facts', "
                    "'Survive upgrades', 'insight', :agent, :validated, 0, 0)"
                ),
                {"workflow": workflow_id, "agent": agent_id, "validated": f'["{agent_id}"]'},
            )
            # An execution with a step run, an event and an interaction: rows that hang off
            # workflow_executions, which a table rebuild on SQLite would delete by cascade.
            s.execute(
                text(
                    "INSERT INTO workflow_executions (id, workflow_id, execution_number, "
                    "trigger_reason, status, user_id, started_at, updated_at) VALUES "
                    "('execution-kept', :workflow, 1, 'manual', 'completed', :user, 0, 0)"
                ),
                {"workflow": workflow_id, "user": user.id},
            )
            s.execute(
                text(
                    "INSERT INTO step_runs (id, execution_id, step_id, attempt, status, "
                    "created_at) VALUES ('run-kept', 'execution-kept', 's', 1, 'completed', 0)"
                )
            )
            s.execute(
                text(
                    "INSERT INTO execution_events (execution_id, user_id, kind, created_at) "
                    "VALUES ('execution-kept', :user, 'execution.created', 0)"
                ),
                {"user": user.id},
            )
            s.execute(
                text(
                    "INSERT INTO agent_interactions (id, workflow_execution_id, from_agent_id, "
                    "interaction_type, message, created_at) VALUES ('interaction-kept', "
                    "'execution-kept', :agent, 'question', 'Still there?', 0)"
                ),
                {"agent": agent_id},
            )
        db.upgrade()
        db.upgrade()  # every start runs it: a second run changes nothing
        with db.session() as s:
            for table in (
                "workflow_executions",
                "step_runs",
                "execution_events",
                "agent_interactions",
            ):
                count = s.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
                assert count == 1, f"the upgrade lost the rows of {table}"
        assert current_revision(db.engine) == heads()[0]
        with db.session() as s:
            kept = WorkflowRepository(s).get(workflow_id, user_id=user.id)
            found = KnowledgeRepository(s).search(workflow_id, "durable")
        assert kept.name == "Kept" and kept.participating_agents == [agent_id]
        assert [k.title for k in found] == ["Durable facts"]
        # An entry someone validated before statuses existed is validated.
        assert found[0].status is KnowledgeStatus.VALIDATED
        with db.session() as s:
            assert AgentRepository(s).get(agent_id, user_id=user.id).tools == []
    finally:
        db.dispose()


def test_downgrade_to_base_and_upgrade_again_rebuilds_the_schema(empty_database_url):
    db = Database(empty_database_url)
    try:
        db.upgrade()
        downgrade(db.engine, "base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        db.upgrade()
        assert set(metadata.tables) <= set(inspect(db.engine).get_table_names())
    finally:
        db.dispose()


def test_migrations_and_tables_py_describe_the_same_schema(db):
    """`tables.py` (what the code uses) and the migrations (what databases get) agree."""

    def include(obj, name, type_, reflected, compare_to):
        return not (name or "").startswith(tuple(SEARCH_OBJECTS))

    with db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"include_object": include, "compare_type": True}
        )
        differences = compare_metadata(context, metadata)
    assert differences == []


def test_accord_db_upgrade_brings_a_new_database_to_head(empty_database_url, tmp_path):
    accord = Path(sys.executable).with_name("accord")
    command = [str(accord)] if accord.exists() else [sys.executable, "-m", "accord.cli.main"]
    result = subprocess.run(
        [*command, "db", "upgrade"],
        env={
            **os.environ,
            "ACCORD_DATABASE_URL": empty_database_url,
            "ACCORD_DATA_DIR": str(tmp_path),
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert heads()[0] in result.stdout
    db = Database(empty_database_url)
    try:
        assert current_revision(db.engine) == heads()[0]
        assert set(metadata.tables) <= set(inspect(db.engine).get_table_names())
    finally:
        db.dispose()


def test_0007_keeps_every_stored_time_limit_the_same_length_in_seconds(empty_database_url):
    """`maxExecutionTime` was read in minutes before 0007 and in seconds (the spec's unit)
    after: stored workflows' limits are converted, so a 30-minute limit stays 30 minutes."""
    script = ScriptDirectory.from_config(alembic_config())
    before = script.get_revision("0007").down_revision
    db = Database(empty_database_url)
    try:
        upgrade(db.engine, before)
        with db.session() as s:
            user = UserRepository(s).create(email="limits@example.test", display_name="L")
            agent = AgentRepository(s).create(user_id=user.id, name="Ada", role="architect")
            request = CreateWorkflowRequest(
                name="Limited",
                description="",
                participating_agents=[agent.id],
                configuration=WorkflowConfiguration.model_validate(
                    {"steps": [{"id": "s", "name": "S"}], "constraints": {"maxExecutionTime": 30}}
                ),
            )
            limited = WorkflowRepository(s).create(user.id, request)
            unlimited = WorkflowRepository(s).create(
                user.id,
                request.model_copy(
                    update={
                        "configuration": WorkflowConfiguration(
                            steps=[WorkflowStep(id="s", name="S")]
                        )
                    }
                ),
            )
        db.upgrade()
        with db.session() as s:
            repo = WorkflowRepository(s)
            after = repo.get(limited.id, user_id=user.id).configuration.constraints
            untouched = repo.get(unlimited.id, user_id=user.id).configuration.constraints
        assert after.max_execution_time == 1800
        assert untouched.max_execution_time is None
        downgrade(db.engine, before)
        with db.engine.connect() as connection:
            text = connection.exec_driver_sql(
                f"SELECT configuration FROM collaboration_workflows WHERE id = '{limited.id}'"
            ).scalar_one()
        assert '"maxExecutionTime":30' in text.replace(".0", "")
    finally:
        db.dispose()
