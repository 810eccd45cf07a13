"""The engine's transactions, as one object: start an execution, advance it, begin and
finish attempts, pause, resume and cancel.

Each is one transaction on our tables (the truth every reader sees), with the events a live
view needs appended in the same transaction; each part does one job (`execution_starts`,
`advancing`, `attempt_records`, `execution_control`, `execution_ends`) and they share the
cached facts of each execution (`execution_facts`). Nothing here talks to DBOS or a model:
`accord.engine.service.Engine` does that around these transactions.
"""

from accord.engine.advancing import Advancer
from accord.engine.attempt_records import AttemptRecords
from accord.engine.execution_control import ExecutionControl
from accord.engine.execution_ends import ExecutionEnds
from accord.engine.execution_facts import ExecutionFacts
from accord.engine.execution_starts import ExecutionStarts
from accord.storage.db import Database


class ExecutionRunner:
    def __init__(
        self, db: Database, *, executor_id: str | None = None, backoff_base_s: float = 1.0
    ) -> None:
        self.db = db
        self.facts = ExecutionFacts()
        ends = ExecutionEnds(self.facts)
        advancer = Advancer(self.facts, ends, backoff_base_s=backoff_base_s)
        starts = ExecutionStarts(self.facts, advancer)
        records = AttemptRecords(self.facts, advancer, executor_id=executor_id)
        self.owner = self.facts.owner
        self.plan = self.facts.plan
        self.cached_plan = self.facts.cached_plan
        self.start_execution = starts.start_execution
        self.retry_execution = starts.retry_execution
        self.start_child = starts.start_child
        self.advance = advancer.advance
        self.control = ExecutionControl(ends, advancer).control
        self.end_orphan = ends.end_orphan
        self.begin_attempt = records.begin_attempt
        self.mark_attempts = records.mark_attempts
        self.finish_attempt = records.finish_attempt
        self.finish_attempts = records.finish_attempts
        self.interrupted_attempt = records.interrupted_attempt
