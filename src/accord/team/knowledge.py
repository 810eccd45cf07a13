"""The team's shared knowledge: what agents learn in one step, found again in later ones.

Knowledge belongs to a workflow, not to an execution (the spec's illustration wrote the
execution ID as the workflow ID), so a second run of a workflow starts from what the first
one learnt. Every entry has a subject (its title when none is given): a newer entry on the
same subject supersedes the older one, which stays as history (`is_active` false,
`superseded_by` set) but is no longer retrieved; sharing what the active entry on the subject
already says (same title and content) adds nothing. Every entry has a status: unvalidated
until a teammate validates it or a review approves the step that wrote it (validated), or
a review sends that step back (rejected). Search ranks by the database's full-text
rank weighted by relevance and validations (see `KnowledgeRepository.search`).

Each change is also appended as a `knowledge.created` / `knowledge.updated` event of the
execution it happened in, so the live monitor shows the knowledge growing.
"""

from collections.abc import Iterable

from sqlalchemy.orm import Session

from accord.domain.enums import KnowledgeStatus, KnowledgeType
from accord.domain.errors import NotFound
from accord.domain.events import EventKind
from accord.domain.knowledge import CollaborationKnowledge
from accord.storage.repositories.events import EventRepository
from accord.storage.repositories.knowledge import KnowledgeRepository


def subject_of(title: str, subject: str | None) -> str:
    """Entries without an explicit subject are about their title (case and spaces aside)."""
    return " ".join((subject or title).lower().split())


class KnowledgeBase:
    """One workflow's knowledge as seen from one execution (flushes, never commits)."""

    def __init__(
        self,
        session: Session,
        *,
        workflow_id: str,
        user_id: str,
        execution_id: str | None = None,
        step_id: str | None = None,
    ) -> None:
        """`step_id`: the step of `execution_id` making the changes, which their events name.
        An entry used or validated there may come from another step or execution (a child
        shares its parent's knowledge), whose step a live view of this one does not have."""
        self.repo = KnowledgeRepository(session)
        self.events = EventRepository(session)
        self.workflow_id = workflow_id
        self.user_id = user_id
        self.execution_id = execution_id
        self.step_id = step_id

    def share(
        self,
        *,
        agent_id: str,
        title: str,
        content: str,
        knowledge_type: KnowledgeType = KnowledgeType.INSIGHT,
        tags: Iterable[str] = (),
        subject: str | None = None,
        relevance_score: float = 1.0,
        step_id: str | None = None,
        status: KnowledgeStatus = KnowledgeStatus.UNVALIDATED,
        validated_by: Iterable[str] = (),
    ) -> CollaborationKnowledge:
        """Add an entry; the active entry on the same subject is superseded by it, unless it
        says the same, which is then returned instead of a duplicate."""
        about = subject_of(title, subject)
        current = self._on_subject(about)  # what a duplicate or a superseded entry can be
        known = self.already_known(title=title, content=content, subject=subject, entries=current)
        if known is not None:
            return known
        before = {k.id for k in current}
        entry = self.repo.add(
            workflow_id=self.workflow_id,
            title=title,
            content=content,
            knowledge_type=knowledge_type,
            created_by_agent_id=agent_id,
            tags=sorted({t.strip().lower() for t in tags if t.strip()}),
            relevance_score=relevance_score,
            subject=about,
            execution_id=self.execution_id,
            source_step_id=step_id,
            status=status,
            validated_by=validated_by,
        )
        self._event(EventKind.KNOWLEDGE_CREATED, entry)
        for old_id in before - {k.id for k in self._on_subject(about)}:
            self._event(EventKind.KNOWLEDGE_UPDATED, self.repo.get(old_id))
        return entry

    def already_known(
        self,
        *,
        title: str,
        content: str,
        subject: str | None,
        entries: list[CollaborationKnowledge] | None = None,
    ) -> CollaborationKnowledge | None:
        """The active entry that says exactly this on the same subject, if any."""
        about = subject_of(title, subject)
        for existing in self._on_subject(about) if entries is None else entries:
            if (existing.subject, existing.title, existing.content) == (about, title, content):
                return existing
        return None

    def get(self, entry_id: str) -> CollaborationKnowledge:
        """An entry of this workflow (another workflow's entries do not exist here)."""
        entry = self.repo.get(entry_id)
        if entry.workflow_id != self.workflow_id:
            raise NotFound("knowledge", entry_id)
        return entry

    def entries(self, *, include_inactive: bool = False) -> list[CollaborationKnowledge]:
        return self.repo.list_for_workflow(self.workflow_id, include_inactive=include_inactive)

    def _on_subject(self, about: str) -> list[CollaborationKnowledge]:
        """The active entries on one subject: a read that stays small as the base grows."""
        return self.repo.list_for_workflow(self.workflow_id, subject=about)

    def search(self, query: str, *, limit: int = 5) -> list[CollaborationKnowledge]:
        return self.repo.search(self.workflow_id, query, limit=limit)

    def use(self, query: str, *, limit: int = 5) -> list[CollaborationKnowledge]:
        """Search, and count one use of each entry found: it is put in front of an agent."""
        found = self.search(query, limit=limit)
        self.repo.record_use(k.id for k in found)
        used = [self.repo.get(k.id) for k in found]
        for entry in used:
            self._event(EventKind.KNOWLEDGE_UPDATED, entry)
        return used

    def validate(self, entry_id: str, *, agent_id: str) -> CollaborationKnowledge:
        """Another agent confirms an entry (its author cannot; each agent counts once)."""
        self.get(entry_id)
        entry = self.repo.add_validation(entry_id, agent_id)
        self._event(EventKind.KNOWLEDGE_UPDATED, entry)
        return entry

    def settle(
        self, entry_ids: Iterable[str], status: KnowledgeStatus, *, reviewers: Iterable[str]
    ) -> list[CollaborationKnowledge]:
        """A review's verdict on the entries its step wrote (`KnowledgeRepository.set_status`)."""
        changed = self.repo.set_status(entry_ids, status, checked_by=list(reviewers))
        for entry in changed:
            self._event(EventKind.KNOWLEDGE_UPDATED, entry)
        return changed

    def _event(self, kind: EventKind, entry: CollaborationKnowledge) -> None:
        if self.execution_id is not None:
            self.events.append(
                execution_id=self.execution_id,
                user_id=self.user_id,
                kind=kind,
                step_id=self.step_id or entry.source_step_id,
                data=entry.to_json_dict(),
            )
