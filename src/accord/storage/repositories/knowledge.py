"""The shared knowledge base of a workflow: entries, validation, use, supersession, search.

Search matches with each database's own full-text engine (SQLite FTS5 with the porter
stemmer over `collaboration_knowledge_fts`; Postgres's english configuration over the
weighted `search_vector`), then ranks by

    text_rank = sum over query terms of the weights of the fields the term occurs in
                / (number of terms * sum of the field weights)       (title 1.0, content 0.4,
                                                                      tags 0.2; 0..1)
    score     = text_rank * relevance_score * (1 + VALIDATION_WEIGHT * validations)

and orders by status first (validated, then unvalidated, then rejected: knowledge nobody
checked never outranks knowledge someone did), then by score.

The engines decide which fields a term occurs in (with their stemming); the rank itself is
computed the same way for both. bm25 and ts_rank, even normalised by the best match, weigh
term frequency and rarity differently and so put the same entries in different orders (e.g.
a content match of half relevance above or below a tag-only match); term coverage does not.
Stop words are dropped from the query on both sides (Postgres ignores them anyway; FTS5
would match them everywhere).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Row, insert, select, text, update
from sqlalchemy.orm import Session

from accord.domain.enums import KnowledgeStatus, KnowledgeType
from accord.domain.errors import Conflict, NotFound
from accord.domain.knowledge import CollaborationKnowledge
from accord.storage.repositories._convert import to_datetime
from accord.storage.tables import (
    collaboration_knowledge,
    collaboration_workflows,
    epoch_now,
    new_id,
)

ck = collaboration_knowledge
FIELD_WEIGHTS = {"title": 1.0, "content": 0.4, "tags": 0.2}
POSTGRES_LABELS = {"title": "a", "content": "b", "tags": "c"}  # setweight() in migration 0001
VALIDATION_WEIGHT = 0.25
CANDIDATES = 100
"""The matches a search reads and ranks at most, the best by the ranking's key as the
database computes it (see `search`)."""
MAX_QUERY_TERMS = 16
STATUS_ORDER = {
    KnowledgeStatus.VALIDATED: 0,
    KnowledgeStatus.UNVALIDATED: 1,
    KnowledgeStatus.REJECTED: 2,
}

# Postgres's english stop words (the Snowball list), so both backends ignore the same terms.
_STOP_WORDS_TEXT = (
    "i me my myself we our ours ourselves you your yours yourself yourselves he him his himself "
    "she her hers herself it its itself they them their theirs themselves what which who whom "
    "this that these those am is are was were be been being have has had having do does did "
    "doing a an the and but if or because as until while of at by for with about against "
    "between into through during before after above below to from up down in out on off over "
    "under again further then once here there when where why how all any both each few more "
    "most other some such no nor not only own same so than too very s t can will just don "
    "should now"
)
STOP_WORDS = frozenset(_STOP_WORDS_TEXT.split())


def _knowledge(row: Row[Any]) -> CollaborationKnowledge:
    return CollaborationKnowledge(
        id=row.id,
        workflow_id=row.workflow_id,
        title=row.title,
        content=row.content,
        knowledge_type=KnowledgeType(row.knowledge_type),
        created_by_agent_id=row.created_by_agent_id,
        validated_by_agents=row.validated_by_agents or [],
        relevance_score=1.0 if row.relevance_score is None else row.relevance_score,
        usage_count=row.usage_count or 0,
        tags=row.tags or [],
        is_active=bool(row.is_active),
        superseded_by=row.superseded_by,
        created_at=to_datetime(row.created_at),
        updated_at=to_datetime(row.updated_at),
        subject=row.subject,
        execution_id=row.execution_id,
        source_step_id=row.source_step_id,
        status=KnowledgeStatus(row.status or KnowledgeStatus.UNVALIDATED),
    )


def query_terms(query: str) -> list[str]:
    """The words of a search query worth matching: lower case, no stop words, each once."""
    words = re.findall(r"[^\W_]+", query.lower())
    return list(dict.fromkeys(w for w in words if w not in STOP_WORDS))[:MAX_QUERY_TERMS]


class KnowledgeRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(
        self,
        *,
        workflow_id: str,
        title: str,
        content: str,
        knowledge_type: KnowledgeType,
        created_by_agent_id: str,
        tags: Iterable[str] = (),
        relevance_score: float = 1.0,
        subject: str | None = None,
        execution_id: str | None = None,
        source_step_id: str | None = None,
        status: KnowledgeStatus = KnowledgeStatus.UNVALIDATED,
        validated_by: Iterable[str] = (),
    ) -> CollaborationKnowledge:
        """Add an entry. With a `subject`, it supersedes the active entries on that subject."""
        now = epoch_now()
        row = self.session.execute(
            insert(ck)
            .values(
                id=new_id(),
                workflow_id=workflow_id,
                title=title,
                content=content,
                knowledge_type=KnowledgeType(knowledge_type).value,
                created_by_agent_id=created_by_agent_id,
                validated_by_agents=list(validated_by),
                relevance_score=relevance_score,
                usage_count=0,
                tags=list(tags),
                is_active=True,
                subject=subject,
                execution_id=execution_id,
                source_step_id=source_step_id,
                status=KnowledgeStatus(status).value,
                created_at=now,
                updated_at=now,
            )
            .returning(ck)
        ).one()
        if subject is not None:
            older = self.session.execute(
                select(ck.c.id).where(
                    ck.c.workflow_id == workflow_id,
                    ck.c.subject == subject,
                    ck.c.is_active.is_(True),
                    ck.c.id != row.id,
                )
            ).scalars()
            for old_id in list(older):
                self.supersede(old_id, row.id)
        return _knowledge(row)

    def get(self, knowledge_id: str, *, user_id: str | None = None) -> CollaborationKnowledge:
        """One entry; with `user_id`, only if it belongs to one of the user's workflows."""
        query = select(ck).where(ck.c.id == knowledge_id)
        if user_id is not None:
            query = query.where(
                ck.c.workflow_id.in_(
                    select(collaboration_workflows.c.id).where(
                        collaboration_workflows.c.user_id == user_id
                    )
                )
            )
        row = self.session.execute(query).one_or_none()
        if row is None:
            raise NotFound("knowledge", knowledge_id)
        return _knowledge(row)

    def list_for_workflow(
        self,
        workflow_id: str,
        *,
        include_inactive: bool = False,
        created_by: str | None = None,
        subject: str | None = None,
        limit: int | None = None,
    ) -> list[CollaborationKnowledge]:
        """A workflow's entries, newest first; only those agent `created_by` wrote, those on
        `subject`, and at most `limit`, when given."""
        query = select(ck).where(ck.c.workflow_id == workflow_id)
        if not include_inactive:
            query = query.where(ck.c.is_active.is_(True))
        if created_by is not None:
            query = query.where(ck.c.created_by_agent_id == created_by)
        if subject is not None:
            query = query.where(ck.c.subject == subject)
        query = query.order_by(ck.c.created_at.desc(), ck.c.title, ck.c.id)
        rows = self.session.execute(query if limit is None else query.limit(limit))
        return [_knowledge(r) for r in rows]

    def search(self, workflow_id: str, query: str, limit: int = 5) -> list[CollaborationKnowledge]:
        """The workflow's active entries that match `query`, best first (see the module doc)."""
        terms = query_terms(query)
        if not terms or limit <= 0:
            return []
        if self.session.get_bind().dialect.name == "sqlite":
            occurrences = self._sqlite_occurrences(workflow_id, terms)
        else:
            occurrences = self._postgres_occurrences(workflow_id, terms)
        # The weights of the fields each term occurs in, summed per entry, and the best
        # CANDIDATES by the ranking's own key, all in the database: a long run's knowledge
        # base has hundreds of matches for a common word, and reading and ranking each of
        # them here made a search cost grow with the base.
        validations = (
            "json_array_length(k.validated_by_agents)"
            if self.session.get_bind().dialect.name == "sqlite"
            else "json_array_length(CAST(k.validated_by_agents AS json))"
        )
        candidates = self.session.execute(
            text(
                "SELECT o.id, o.weight, k.title, k.status, k.relevance_score, "
                "k.validated_by_agents FROM (SELECT id, CAST(SUM(weight) AS FLOAT) AS weight "
                f"FROM ({occurrences[0]}) AS occurrences GROUP BY id) AS o "
                "JOIN collaboration_knowledge AS k ON k.id = o.id ORDER BY CASE k.status "
                "WHEN 'validated' THEN 0 WHEN 'rejected' THEN 2 ELSE 1 END, "
                "o.weight * COALESCE(k.relevance_score, 1.0) "
                f"* (1 + {VALIDATION_WEIGHT} * COALESCE({validations}, 0)) DESC, k.title, k.id "
                "LIMIT :candidates"
            ),
            {**occurrences[1], "candidates": max(CANDIDATES, limit)},
        ).all()
        if not candidates:
            return []
        full_marks = len(terms) * sum(FIELD_WEIGHTS.values())

        # The same key, exactly as both databases must agree on it (scores rounded, so that
        # float noise never decides between equals): the database's order only chose which
        # entries to read.
        def order(row: Any) -> tuple[int, float, str, str]:
            status = KnowledgeStatus(row.status or KnowledgeStatus.UNVALIDATED)
            relevance = 1.0 if row.relevance_score is None else row.relevance_score
            validated = len(json.loads(row.validated_by_agents or "[]"))
            score = row.weight / full_marks * relevance * (1 + VALIDATION_WEIGHT * validated)
            return (STATUS_ORDER[status], -round(score, 9), row.title, row.id)

        best = [row.id for row in sorted(candidates, key=order)[:limit]]
        c = ck.c
        rows = {r.id: r for r in self.session.execute(select(ck).where(c.id.in_(best)))}
        return [_knowledge(rows[i]) for i in best]

    def record_use(self, knowledge_ids: Iterable[str]) -> None:
        """Count one use of each entry (it was put in front of an agent)."""
        ids = list(dict.fromkeys(knowledge_ids))
        if ids:
            self.session.execute(
                update(ck)
                .where(ck.c.id.in_(ids))
                .values(usage_count=ck.c.usage_count + 1, updated_at=epoch_now())
            )

    def add_validation(self, knowledge_id: str, agent_id: str) -> CollaborationKnowledge:
        """Another agent confirms the entry; confirming twice counts once."""
        row = self.session.execute(
            select(ck).where(ck.c.id == knowledge_id).with_for_update()
        ).one_or_none()
        if row is None:
            raise NotFound("knowledge", knowledge_id)
        if row.created_by_agent_id == agent_id:
            raise Conflict(
                f"agent {agent_id!r} wrote knowledge {knowledge_id!r} and cannot "
                "validate it; another agent must",
                details={"id": knowledge_id},
            )
        validators = list(row.validated_by_agents or [])
        if agent_id in validators:
            return _knowledge(row)
        row = self.session.execute(
            update(ck)
            .where(ck.c.id == knowledge_id)
            .values(
                validated_by_agents=[*validators, agent_id],
                status=KnowledgeStatus.VALIDATED.value,
                updated_at=epoch_now(),
            )
            .returning(ck)
        ).one()
        return _knowledge(row)

    def set_status(
        self, knowledge_ids: Iterable[str], status: KnowledgeStatus, *, checked_by: Iterable[str]
    ) -> list[CollaborationKnowledge]:
        """The verdict of a review on the entries its step wrote: validated ones count the
        reviewers among their validators (never an entry's own author)."""
        changed = []
        for knowledge_id in dict.fromkeys(knowledge_ids):
            row = self.session.execute(
                select(ck).where(ck.c.id == knowledge_id).with_for_update()
            ).one_or_none()
            if row is None:
                continue
            validators = list(row.validated_by_agents or [])
            if status is KnowledgeStatus.VALIDATED:
                validators += [
                    a for a in checked_by if a != row.created_by_agent_id and a not in validators
                ]
            row = self.session.execute(
                update(ck)
                .where(ck.c.id == knowledge_id)
                .values(status=status.value, validated_by_agents=validators, updated_at=epoch_now())
                .returning(ck)
            ).one()
            changed.append(_knowledge(row))
        return changed

    def supersede(self, old_id: str, new_id_: str) -> CollaborationKnowledge:
        """Retire `old_id` in favour of `new_id_` (both of the same workflow)."""
        old, new = self.get(old_id), self.get(new_id_)
        if old.workflow_id != new.workflow_id or old_id == new_id_:
            raise Conflict(
                "an entry can only be superseded by another entry of its workflow",
                details={"id": old_id, "supersededBy": new_id_},
            )
        row = self.session.execute(
            update(ck)
            .where(ck.c.id == old_id)
            .values(is_active=False, superseded_by=new_id_, updated_at=epoch_now())
            .returning(ck)
        ).one()
        return _knowledge(row)

    def _sqlite_occurrences(self, workflow_id: str, terms: list[str]) -> tuple[str, dict[str, Any]]:
        """SQL and parameters: (entry ID, weight) for every field of an active entry that a
        term occurs in, the field's weight.

        CROSS JOIN makes SQLite read the full-text match first and look its entries up by
        rowid; with a plain JOIN it walks the workflow's entries and runs the match once for
        each, which made a search cost the square of the knowledge base's size."""
        selects, params = [], {"workflow_id": workflow_id}
        for i, term in enumerate(terms):
            for field, weight in FIELD_WEIGHTS.items():
                params[f"m{i}{field}"] = f'{{{field}}} : "{term}"'
                selects.append(
                    f"SELECT k.id AS id, {weight} AS weight "
                    "FROM collaboration_knowledge_fts AS f CROSS JOIN collaboration_knowledge AS k "
                    "ON k.rowid = f.rowid WHERE collaboration_knowledge_fts MATCH "
                    f":m{i}{field} AND k.workflow_id = :workflow_id AND k.is_active"
                )
        return " UNION ALL ".join(selects), params

    def _postgres_occurrences(
        self, workflow_id: str, terms: list[str]
    ) -> tuple[str, dict[str, Any]]:
        """As `_sqlite_occurrences`, from the weight labels of `search_vector` (A, B, C)."""
        selects, params = [], {"workflow_id": workflow_id}
        for i, term in enumerate(terms):
            params[f"t{i}"] = term
            for field, label in POSTGRES_LABELS.items():
                selects.append(
                    f"SELECT id, {FIELD_WEIGHTS[field]} AS weight FROM collaboration_knowledge "
                    f"WHERE search_vector @@ plainto_tsquery('english', :t{i}) "
                    f"AND ts_filter(search_vector, '{{{label}}}') @@ "
                    f"plainto_tsquery('english', :t{i}) "
                    "AND workflow_id = :workflow_id AND is_active"
                )
        return " UNION ALL ".join(selects), params
