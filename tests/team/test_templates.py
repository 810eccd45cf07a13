"""Templates: system set installed once, workflows from templates, outcomes, user templates."""

import pytest
from sqlalchemy import update

from accord.domain.enums import ExecutionStatus, TemplateCategory, TriggerReason, WorkflowType
from accord.domain.errors import InvalidDefinition
from accord.domain.template import CreateFromTemplateRequest
from accord.storage.repositories.agents import AgentRepository
from accord.storage.repositories.executions import ExecutionRepository
from accord.storage.repositories.templates import TemplateRepository
from accord.storage.repositories.workflows import WorkflowRepository
from accord.storage.tables import workflow_executions
from accord.team.metrics import record_finished_execution
from accord.team.templates import (
    SYSTEM_TEMPLATES,
    create_workflow_from_template,
    install_system_templates,
    save_workflow_as_template,
)


def system_template(session, key):
    install_system_templates(session)
    return TemplateRepository(session).find_by_system_key(key)


def test_system_templates_install_once_and_cover_every_category(db, user_id):
    with db.session() as s:
        install_system_templates(s)  # whatever an earlier test left, all are there now
        assert install_system_templates(s) == []
        # Other tests may add system templates of their own to the shared database; ours are
        # the ones with our keys, each there exactly once.
        templates = [
            t
            for t in TemplateRepository(s).list(user_id=user_id)
            if t.is_system_template and t.system_key in SYSTEM_TEMPLATES
        ]
    assert sorted(t.system_key for t in templates) == sorted(SYSTEM_TEMPLATES)
    assert len(SYSTEM_TEMPLATES) >= 6
    assert {t.category for t in templates} == set(TemplateCategory)
    kinds = {t.workflow_type for t in templates}
    assert WorkflowType.PARALLEL in kinds
    assert {WorkflowType.CONDITIONAL, WorkflowType.RECURSIVE} <= kinds


def test_a_workflow_from_a_template_maps_roles_to_the_chosen_agents(db, user_id):
    with db.session() as s:
        agents = AgentRepository(s)
        lead = agents.create(user_id=user_id, name="Lead", role="lead engineer")
        dev = agents.create(user_id=user_id, name="Dev", role="developer")
        rev = agents.create(user_id=user_id, name="Rev", role="qa")
        template = system_template(s, "feature-development")
        workflow = create_workflow_from_template(
            s,
            user_id=user_id,
            template_id=template.id,
            request=CreateFromTemplateRequest(
                participating_agents=[lead.id, dev.id, rev.id],
                role_assignments={"architect": lead.id, "reviewer": rev.id},
                name="Login feature",
                coordinator_agent_id=lead.id,
            ),
        )
        used = TemplateRepository(s).get(template.id, user_id=user_id).usage_count
    assert (workflow.name, workflow.description) == ("Login feature", template.description)
    assert workflow.template_id == template.id
    steps = {st.id: st for st in workflow.configuration.steps}
    assert steps["design"].preferred_agent_id == lead.id
    assert steps["implement"].preferred_agent_id == dev.id  # found by its own role
    assert steps["implement"].reviewer_role == "qa"
    assert steps["test"].preferred_agent_id == rev.id
    assert used >= 1


def test_a_role_nobody_plays_is_named(db, user_id):
    with db.session() as s:
        dev = AgentRepository(s).create(user_id=user_id, name="Dev", role="developer")
        template = system_template(s, "code-review")
        with pytest.raises(InvalidDefinition) as raised:
            create_workflow_from_template(
                s,
                user_id=user_id,
                template_id=template.id,
                request=CreateFromTemplateRequest(participating_agents=[dev.id]),
            )
    assert [p.field for p in raised.value.problems] == ["roleAssignments.reviewer"]


def test_success_rate_follows_the_executions_outcomes(db, user_id):
    with db.session() as s:
        agents = AgentRepository(s)
        ids = [agents.create(user_id=user_id, name=n, role=n).id for n in ("developer", "tester")]
        template = TemplateRepository(s).create(
            SYSTEM_TEMPLATES["bug-investigation"].model_copy(update={"name": "Our bugs"}),
            user_id=user_id,
        )
        workflow = create_workflow_from_template(
            s,
            user_id=user_id,
            template_id=template.id,
            request=CreateFromTemplateRequest(participating_agents=ids),
        )
        executions = ExecutionRepository(s)
        finished = []
        for status in ("completed", "failed", "completed", "pending"):
            e = executions.create(
                workflow_id=workflow.id,
                user_id=user_id,
                trigger_reason=TriggerReason.MANUAL,
                triggered_by=user_id,
                definition={},
                status=ExecutionStatus.PENDING,
            )
            s.execute(
                update(workflow_executions)
                .where(workflow_executions.c.id == e.id)
                .values(status=status)
            )
            finished.append(e.id)
        record_finished_execution(s, workflow_id=workflow.id, user_id=user_id)
        after = TemplateRepository(s).get(template.id, user_id=user_id)
        stored = WorkflowRepository(s).get(workflow.id, user_id=user_id)
    assert after.usage_count == 1
    assert round(after.success_rate, 2) == 66.67  # 2 of 3 finished runs completed
    assert stored.collaboration_metrics is not None


def test_a_workflow_saved_as_a_template_names_roles_not_agents(db, user_id):
    with db.session() as s:
        agents = AgentRepository(s)
        dev = agents.create(user_id=user_id, name="Dev", role="developer")
        qa = agents.create(user_id=user_id, name="QA", role="tester")
        source = system_template(s, "test-strategy")
        workflow = create_workflow_from_template(
            s,
            user_id=user_id,
            template_id=source.id,
            request=CreateFromTemplateRequest(participating_agents=[dev.id, qa.id]),
        )
        saved = save_workflow_as_template(
            s,
            user_id=user_id,
            workflow_id=workflow.id,
            category=TemplateCategory.TESTING,
            name="Our tests",
        )
        mine = TemplateRepository(s).list(user_id=user_id, category=TemplateCategory.TESTING)
    assert not saved.is_system_template and saved.created_by_user_id == user_id
    assert saved.required_agent_roles == ["developer", "tester"]
    assert saved.workflow_type is WorkflowType.CONDITIONAL
    assert all(st.preferred_agent_id is None for st in saved.template_definition.steps)
    assert saved.id in {t.id for t in mine}
