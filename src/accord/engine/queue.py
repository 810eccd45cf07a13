"""The settings of distributed mode, apart from the engine so that reading them (the CLI's
options, the server's settings) does not load DBOS."""

import os
from dataclasses import dataclass

from accord.domain.errors import AccordError

EXECUTOR_ID_ENV = "ACCORD_EXECUTOR_ID"
ATTEMPT_QUEUE = "accord_attempts"
WORKER_CONCURRENCY_ENV = "ACCORD_WORKER_CONCURRENCY"
GLOBAL_CONCURRENCY_ENV = "ACCORD_GLOBAL_CONCURRENCY"


@dataclass(frozen=True)
class AttemptQueue:
    """Distributed mode: attempts go through the DBOS queue `accord_attempts` (Postgres).

    The limits belong to the queue, which every process shares: give all processes the same
    ones (the last to start writes them)."""

    run_steps: bool = True
    """Whether this process takes attempts from the queue (off for an API-only server)."""
    worker_concurrency: int = 256
    """At most this many attempts at once in each process (children's attempts besides). An
    attempt spends nearly all its time waiting on a model: one process holds 256 of them in
    about 120 MB with little CPU (`bench/run.py --scenario concurrency`)."""
    global_concurrency: int | None = None
    """At most this many attempts at once in all processes together (None: no limit)."""
    polling_s: float = 0.05
    """How often each process looks for queued attempts (DBOS polls; its default is 1 s)."""

    @classmethod
    def from_env(cls, *, run_steps: bool = True) -> "AttemptQueue":
        """The limits from `ACCORD_WORKER_CONCURRENCY` and `ACCORD_GLOBAL_CONCURRENCY`, the
        settings every process of one deployment shares."""
        worker = _positive_int_env(WORKER_CONCURRENCY_ENV)
        return cls(
            run_steps=run_steps,
            worker_concurrency=worker if worker is not None else cls.worker_concurrency,
            global_concurrency=_positive_int_env(GLOBAL_CONCURRENCY_ENV),
        )


def _positive_int_env(name: str) -> int | None:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return None
    if not raw.isdigit() or int(raw) < 1:
        raise AccordError(f"{name} must be a whole number of at least 1, not {raw!r}")
    return int(raw)
