import uuid

import pytest

from accord.domain.enums import StepType, TemplateCategory, WorkflowType
from accord.domain.errors import Conflict, InvalidDefinition, NotFound
from accord.domain.template import CreateTemplateRequest
from accord.domain.workflow import WorkflowConfiguration, WorkflowStep
from accord.storage.repositories.templates import TemplateRepository


def _request(steps=None, **fields) -> CreateTemplateRequest:
    return CreateTemplateRequest(
        name=fields.pop("name", f"Code review {uuid.uuid4().hex[:8]}"),
        description="Write, then review",
        category=fields.pop("category", TemplateCategory.REVIEW),
        required_agent_roles=fields.pop("required_agent_roles", ["developer", "reviewer"]),
        template_definition=WorkflowConfiguration(
            steps=steps
            or [
                WorkflowStep(id="write", name="Write"),
                WorkflowStep(
                    id="review",
                    name="Review",
                    type=StepType.REVIEW,
                    depends_on=["write"],
                    review_required=True,
                    reviewer_role="reviewer",
                ),
            ]
        ),
        **fields,
    )


def test_system_templates_are_shared_and_user_templates_private(db, user_id, make_user):
    key = f"code-review-{user_id}"
    with db.session() as s:
        repo = TemplateRepository(s)
        system = repo.create(_request(), user_id=None, system_key=key)
        mine = repo.create(
            _request(name="Mine", category=TemplateCategory.DEVELOPMENT), user_id=user_id
        )
    other = make_user()
    with db.session() as s:
        repo = TemplateRepository(s)
        assert system.is_system_template and system.created_by_user_id is None
        assert repo.get(system.id, user_id=other) == system
        with pytest.raises(NotFound):
            repo.get(mine.id, user_id=other)
        theirs = {t.id for t in repo.list(user_id=other)}
        assert system.id in theirs and mine.id not in theirs
        assert mine.id in {t.id for t in repo.list(user_id=user_id)}
        assert [
            t.id
            for t in repo.list(user_id=user_id, category=TemplateCategory.DEVELOPMENT)
            if t.created_by_user_id == user_id
        ] == [mine.id]
        assert repo.find_by_system_key(key) == system
        assert repo.find_by_system_key("no-such-key") is None
    assert mine.template_definition.steps[1].reviewer_role == "reviewer"
    assert mine.to_json_dict()["requiredAgentRoles"] == ["developer", "reviewer"]


def test_system_templates_are_read_only(db, user_id):
    with db.session() as s:
        system = TemplateRepository(s).create(_request(), user_id=None)
    with db.session() as s:
        with pytest.raises(Conflict, match="system template"):
            TemplateRepository(s).update(system.id, user_id=user_id, request=_request(name="x"))
        with pytest.raises(Conflict):
            TemplateRepository(s).delete(system.id, user_id=user_id)


@pytest.mark.parametrize(
    ("steps", "fields", "field"),
    [
        (
            [WorkflowStep(id="a", name="A"), WorkflowStep(id="a", name="A again")],
            {},
            "templateDefinition.steps[1].id",
        ),
        (
            [WorkflowStep(id="a", name="A", depends_on=["ghost"])],
            {},
            "templateDefinition.steps[0].dependsOn[0]",
        ),
        (
            [
                WorkflowStep(id="a", name="A", depends_on=["b"]),
                WorkflowStep(id="b", name="B", depends_on=["a"]),
            ],
            {"workflow_type": WorkflowType.PARALLEL},
            "templateDefinition.steps[1].dependsOn",
        ),
        (
            [WorkflowStep(id="a", name="A", review_required=True, reviewer_role="auditor")],
            {},
            "templateDefinition.steps[0].reviewerRole",
        ),
        (
            [WorkflowStep(id="a", name="A", timeout_minutes=-1)],
            {},
            "templateDefinition.steps[0].timeoutMinutes",
        ),
    ],
    ids=[
        "duplicate-id",
        "unknown-dependency",
        "cycle",
        "reviewer-role-not-required",
        "timeout-out-of-range",
    ],
)
def test_invalid_templates_are_refused_naming_the_field(db, user_id, steps, fields, field):
    with db.session() as s, pytest.raises(InvalidDefinition) as caught:
        TemplateRepository(s).create(_request(steps, **fields), user_id=user_id)
    assert [p.field for p in caught.value.problems] == [field]
    with db.session() as s:
        assert [
            t
            for t in TemplateRepository(s).list(user_id=user_id)
            if t.created_by_user_id == user_id
        ] == []


def test_an_empty_template_is_refused(db, user_id):
    request = _request()
    request.template_definition.steps = []
    with db.session() as s, pytest.raises(InvalidDefinition) as caught:
        TemplateRepository(s).create(request, user_id=user_id)
    assert [p.field for p in caught.value.problems] == ["templateDefinition.steps"]


def test_a_review_needs_two_agents_unless_the_template_recommends_them(db, user_id):
    steps = [WorkflowStep(id="a", name="A", review_required=True)]
    with db.session() as s, pytest.raises(InvalidDefinition, match="nobody reviews"):
        TemplateRepository(s).create(
            _request(steps, required_agent_roles=["developer"], recommended_agent_count=1),
            user_id=user_id,
        )
    with db.session() as s:
        TemplateRepository(s).create(
            _request(steps, required_agent_roles=["developer"], recommended_agent_count=2),
            user_id=user_id,
        )


def test_update_usage_and_success_rate(db, user_id, make_workflow, make_execution):
    with db.session() as s:
        template = TemplateRepository(s).create(_request(), user_id=user_id)
    workflow_id, _ = make_workflow(user_id, name="From template")
    from sqlalchemy import update

    from accord.storage.tables import collaboration_workflows

    with db.session() as s:
        s.execute(
            update(collaboration_workflows)
            .where(collaboration_workflows.c.id == workflow_id)
            .values(template_id=template.id)
        )
    for status in ("completed", "completed", "failed", "running"):
        make_execution(workflow_id, user_id, status=status)
    with db.session() as s:
        repo = TemplateRepository(s)
        repo.record_use(template.id)
        repo.record_use(template.id)
        rate = repo.refresh_success_rate(template.id)
        updated = repo.update(template.id, user_id=user_id, request=_request(name="Renamed"))
    assert rate == pytest.approx(200 / 3)
    assert (updated.name, updated.usage_count) == ("Renamed", 2)
    assert updated.success_rate == pytest.approx(200 / 3)
    with db.session() as s:
        TemplateRepository(s).delete(template.id, user_id=user_id)
    with db.session() as s, pytest.raises(NotFound):
        TemplateRepository(s).get(template.id, user_id=user_id)


def test_template_names_are_unique_among_those_a_user_sees(db, user_id, make_user):
    key = f"named-{user_id}"
    other = make_user()
    with db.session() as s:
        repo = TemplateRepository(s)
        system = repo.create(_request(name=f"System {user_id}"), user_id=None, system_key=key)
        mine = repo.create(_request(name="Mine"), user_id=user_id)
        repo.create(_request(name="Mine"), user_id=other)  # another user's: fine
        with pytest.raises(Conflict) as refused:
            repo.create(_request(name="MINE"), user_id=user_id)
        assert "a template named 'Mine' already exists" in refused.value.message
        assert "pick another name, or update the existing template" in refused.value.message
        # A system template's name would make lookups by name ambiguous too.
        with pytest.raises(Conflict, match="already exists"):
            repo.create(_request(name=system.name.lower()), user_id=user_id)
        second = repo.create(_request(name="Second"), user_id=user_id)
        with pytest.raises(Conflict, match="'Mine' already exists"):
            repo.update(second.id, user_id=user_id, request=_request(name="mine"))
        kept = repo.update(
            mine.id, user_id=user_id, request=_request(name="Mine", recommended_agent_count=3)
        )
        assert kept.recommended_agent_count == 3
