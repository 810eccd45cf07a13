import pytest

from accord.domain.enums import KnowledgeStatus, KnowledgeType
from accord.domain.errors import Conflict, NotFound
from accord.storage.repositories.knowledge import KnowledgeRepository, query_terms

ENTRIES = [
    # (key, title, content, tags, relevance)
    (
        "wal",
        "SQLite WAL mode",
        "Enable write-ahead logging so readers never block writers.",
        ["sqlite", "database"],
        1.0,
    ),
    (
        "pool",
        "Connection pooling",
        "Size the database connection pool to the worker count.",
        ["database"],
        1.0,
    ),
    (
        "retries",
        "Retry with backoff",
        "Retry failed model calls with exponential backoff.",
        ["llm"],
        1.0,
    ),
    (
        "index",
        "Index foreign keys",
        "Postgres does not index foreign keys by itself; the "
        "database planner needs them for cascades.",
        ["postgres", "database"],
        0.5,
    ),
]


@pytest.fixture
def kb(db, user_id, make_workflow):
    workflow_id, team = make_workflow(user_id)
    ids = {}
    with db.session() as s:
        repo = KnowledgeRepository(s)
        for key, title, content, tags, relevance in ENTRIES:
            ids[key] = repo.add(
                workflow_id=workflow_id,
                title=title,
                content=content,
                knowledge_type=KnowledgeType.BEST_PRACTICE,
                created_by_agent_id=team[0].id,
                tags=tags,
                relevance_score=relevance,
            ).id
    return workflow_id, team, ids


def _titles(db, workflow_id, query, limit=5):
    with db.session() as s:
        return [e.title for e in KnowledgeRepository(s).search(workflow_id, query, limit)]


def test_search_ranks_by_field_weighted_term_coverage_and_relevance(db, kb):
    workflow_id, _, _ = kb
    # "database" is in the content and tags of two entries (one of half relevance), and only
    # in the tags of the third.
    assert _titles(db, workflow_id, "database") == [
        "Connection pooling",
        "Index foreign keys",
        "SQLite WAL mode",
    ]
    assert _titles(db, workflow_id, "database", limit=1) == ["Connection pooling"]
    # Matching more of the query's terms beats matching one of them.
    assert _titles(db, workflow_id, "indexes keyed databases") == [
        "Index foreign keys",
        "Connection pooling",
        "SQLite WAL mode",
    ]
    assert _titles(db, workflow_id, "the backoff of retries") == ["Retry with backoff"]


def test_search_stems_and_ignores_stop_words_and_unknown_terms(db, kb):
    workflow_id, _, _ = kb
    assert _titles(db, workflow_id, "retrying") == ["Retry with backoff"]
    assert _titles(db, workflow_id, "the and of") == []
    assert _titles(db, workflow_id, "kubernetes") == []
    assert _titles(db, workflow_id, '"quoted" OR (weird) & | ! * stuff:') == []
    assert query_terms("The SQLite, the WAL!") == ["sqlite", "wal"]


def test_validations_lift_an_entry_over_an_equal_match(db, kb):
    workflow_id, team, _ = kb
    with db.session() as s:
        repo = KnowledgeRepository(s)
        alpha, beta = (
            repo.add(
                workflow_id=workflow_id,
                title=f"{name} cache",
                content="Cache the plans.",
                knowledge_type=KnowledgeType.INSIGHT,
                created_by_agent_id=team[0].id,
            )
            for name in ("Alpha", "Beta")
        )
    assert _titles(db, workflow_id, "cache") == ["Alpha cache", "Beta cache"]
    with db.session() as s:
        repo = KnowledgeRepository(s)
        with pytest.raises(Conflict, match="cannot validate it"):
            repo.add_validation(beta.id, team[0].id)
        validated = repo.add_validation(beta.id, team[1].id)
        assert repo.add_validation(beta.id, team[1].id) == validated
    assert validated.validated_by_agents == [team[1].id]
    assert _titles(db, workflow_id, "cache") == ["Beta cache", "Alpha cache"]


def test_checked_knowledge_ranks_above_unchecked_and_rejected_below_both(db, kb):
    """On both backends: the status tier comes before the text rank, so a weak match someone
    validated beats a perfect match nobody checked, and work a review sent back comes last."""
    workflow_id, team, ids = kb
    with db.session() as s:
        repo = KnowledgeRepository(s)
        rejected = repo.add(
            workflow_id=workflow_id,
            title="Database connection pool database",
            content="database database",
            knowledge_type=KnowledgeType.INSIGHT,
            created_by_agent_id=team[0].id,
            tags=["database"],
        )
        repo.set_status([rejected.id], KnowledgeStatus.REJECTED, checked_by=[team[1].id])
        [checked] = repo.set_status(
            [ids["wal"]], KnowledgeStatus.VALIDATED, checked_by=[team[0].id, team[1].id]
        )
    # The reviewer counts as a validator; the author never does.
    assert (checked.status, checked.validated_by_agents) == (
        KnowledgeStatus.VALIDATED,
        [team[1].id],
    )
    assert _titles(db, workflow_id, "database") == [
        "SQLite WAL mode",  # a tag-only match, but validated
        "Connection pooling",
        "Index foreign keys",
        "Database connection pool database",  # the best match, from rejected work
    ]


def test_search_is_scoped_to_the_workflow_and_skips_superseded_entries(
    db, user_id, kb, make_workflow
):
    workflow_id, team, ids = kb
    other_workflow, other_team = make_workflow(user_id, name="Other")
    with db.session() as s:
        repo = KnowledgeRepository(s)
        repo.add(
            workflow_id=other_workflow,
            title="SQLite elsewhere",
            content="sqlite",
            knowledge_type=KnowledgeType.INSIGHT,
            created_by_agent_id=other_team[0].id,
        )
        newer = repo.add(
            workflow_id=workflow_id,
            title="SQLite WAL and checkpoints",
            content="Checkpoint the WAL when idle.",
            knowledge_type=KnowledgeType.BEST_PRACTICE,
            created_by_agent_id=team[1].id,
        )
        retired = repo.supersede(ids["wal"], newer.id)
        with pytest.raises(Conflict):
            repo.supersede(newer.id, newer.id)
    assert not retired.is_active and retired.superseded_by == newer.id
    assert _titles(db, workflow_id, "sqlite") == ["SQLite WAL and checkpoints"]
    with db.session() as s:
        repo = KnowledgeRepository(s)
        active = {e.id for e in repo.list_for_workflow(workflow_id)}
        everything = {e.id for e in repo.list_for_workflow(workflow_id, include_inactive=True)}
    assert ids["wal"] not in active and everything - active == {ids["wal"]}


def test_a_new_entry_on_the_same_subject_supersedes_the_old_one(db, kb):
    workflow_id, team, _ = kb
    with db.session() as s:
        repo = KnowledgeRepository(s)
        old = repo.add(
            workflow_id=workflow_id,
            title="Deadline",
            content="Friday",
            knowledge_type=KnowledgeType.CONSTRAINT,
            created_by_agent_id=team[0].id,
            subject="deadline",
        )
        new = repo.add(
            workflow_id=workflow_id,
            title="Deadline moved",
            content="Monday",
            knowledge_type=KnowledgeType.CONSTRAINT,
            created_by_agent_id=team[1].id,
            subject="deadline",
        )
        assert repo.get(old.id).superseded_by == new.id
        assert repo.get(new.id).is_active


def test_usage_is_counted_and_entries_are_private(db, kb, make_user):
    workflow_id, _, ids = kb
    stranger = make_user()
    with db.session() as s:
        KnowledgeRepository(s).record_use([ids["wal"], ids["pool"]])
        KnowledgeRepository(s).record_use([ids["wal"]])
    with db.session() as s:
        repo = KnowledgeRepository(s)
        assert repo.get(ids["wal"]).usage_count == 2
        assert repo.get(ids["pool"]).usage_count == 1
        assert repo.get(ids["retries"]).usage_count == 0
        with pytest.raises(NotFound):
            repo.get(ids["wal"], user_id=stranger)
