import pytest

from accord.domain.enums import ProviderKind
from accord.domain.errors import Conflict, InvalidInput, NotFound
from accord.storage.repositories.agents import AgentRepository
from accord.storage.repositories.providers import ProviderRepository
from accord.storage.repositories.workflows import WorkflowRepository


def test_agent_round_trip_with_skills_and_model(db, user_id):
    with db.session() as s:
        provider = ProviderRepository(s).create(
            user_id=user_id, name="Local", kind=ProviderKind.OFFLINE, default_model="offline"
        )
        created = AgentRepository(s).create(
            user_id=user_id,
            name="Ada",
            role="architect",
            backstory="Designs systems",
            skills=["python", "sql", "python"],
            llm_provider_id=provider.id,
            model="offline-large",
            model_parameters={"temperature": 0.2},
        )
    with db.session() as s:
        agent = AgentRepository(s).get(created.id, user_id=user_id)
    assert agent == created
    assert agent.skills == ["python", "sql"]
    assert agent.model_parameters == {"temperature": 0.2}
    assert agent.to_json_dict()["llmProviderId"] == provider.id


def test_agents_are_private_to_their_owner(db, user_id, make_user, make_agent):
    mine = make_agent(user_id, "tester")
    other = make_user()
    with db.session() as s:
        repo = AgentRepository(s)
        with pytest.raises(NotFound):
            repo.get(mine.id, user_id=other)
        with pytest.raises(NotFound):
            repo.update(mine.id, user_id=other, name="Stolen")
        with pytest.raises(NotFound):
            repo.delete(mine.id, user_id=other)
        assert repo.list(user_id=other) == []
        assert repo.owned([mine.id], user_id=other) == {}
        assert [a.id for a in repo.list(user_id=user_id)] == [mine.id]


def test_agent_cannot_use_another_users_provider(db, user_id, make_user):
    other = make_user()
    with db.session() as s:
        theirs = ProviderRepository(s).create(
            user_id=other, name="Theirs", kind=ProviderKind.OFFLINE, default_model="offline"
        )
    with db.session() as s, pytest.raises(NotFound):
        AgentRepository(s).create(user_id=user_id, name="A", role="dev", llm_provider_id=theirs.id)


def test_update_changes_only_given_fields_and_none_clears(db, user_id, make_agent):
    agent = make_agent(user_id, "writer", model="m1", skills=["prose"])
    with db.session() as s:
        updated = AgentRepository(s).update(agent.id, user_id=user_id, name="Wren", model=None)
    assert (updated.name, updated.role, updated.model, updated.skills) == (
        "Wren",
        "writer",
        None,
        ["prose"],
    )


def test_deleting_an_agent_in_a_workflow_is_refused_until_it_leaves(
    db, user_id, make_agent, two_step_request
):
    a, b = make_agent(user_id, "architect"), make_agent(user_id, "developer")
    with db.session() as s:
        workflow = WorkflowRepository(s).create(user_id, two_step_request([a, b]))
    with db.session() as s, pytest.raises(Conflict, match="takes part in a workflow"):
        AgentRepository(s).delete(b.id, user_id=user_id)
    with db.session() as s:
        WorkflowRepository(s).delete(workflow.id, user_id=user_id)
        AgentRepository(s).delete(b.id, user_id=user_id)
    with db.session() as s, pytest.raises(NotFound):
        AgentRepository(s).get(b.id, user_id=user_id)


def test_a_provider_its_agents_speak_through_is_not_deleted(db, user_id):
    with db.session() as s:
        provider = ProviderRepository(s).create(
            user_id=user_id, name="P", kind=ProviderKind.OFFLINE, default_model="offline"
        )
        agent = AgentRepository(s).create(
            user_id=user_id, name="A", role="dev", llm_provider_id=provider.id
        )
    with pytest.raises(Conflict, match="used by agent"), db.session() as s:
        ProviderRepository(s).delete(provider.id, user_id=user_id)
    with db.session() as s:
        assert AgentRepository(s).get(agent.id, user_id=user_id).llm_provider_id == provider.id


def test_agent_names_are_unique_per_user_ignoring_case(db, user_id, make_user):
    other = make_user()
    with db.session() as s:
        repo = AgentRepository(s)
        ada = repo.create(user_id=user_id, name="Ada", role="developer")
        bo = repo.create(user_id=user_id, name="Bo", role="reviewer")
        repo.create(user_id=other, name="Ada", role="developer")  # another user's: fine
        for taken in ("Ada", "ada", " ADA "):
            with pytest.raises(Conflict) as refused:
                repo.create(user_id=user_id, name=taken, role="tester")
            assert "'Ada' already exists" in refused.value.message
            assert "pick another name, or update the existing agent" in refused.value.message
            assert refused.value.details["existingId"] == ada.id
        with pytest.raises(Conflict, match="'Ada' already exists"):
            repo.update(bo.id, user_id=user_id, name="ADA")
        # Keeping its own name, or changing only its case, is no clash.
        assert repo.update(ada.id, user_id=user_id, name="ADA", role="architect").name == "ADA"
        assert repo.update(bo.id, user_id=user_id, name="Bo", role="tester").role == "tester"
        assert sorted(a.name for a in repo.list(user_id=user_id)) == ["ADA", "Bo"]


def test_a_blank_agent_name_is_refused(db, user_id):
    with db.session() as s, pytest.raises(InvalidInput) as refused:
        AgentRepository(s).create(user_id=user_id, name="  ", role="developer")
    assert refused.value.problems[0].field == "name"
