"""Dispatch: the attempts an advance queued start as top-level DBOS workflows, in this
process (embedded) or through the DBOS queue that worker processes take them from
(distributed)."""

import asyncio
import contextlib
import logging
from collections.abc import Callable

from dbos import DBOS, Queue, SetWorkflowID

from accord.engine.attempt_keys import AttemptKey, attempt_workflow_id
from accord.engine.dbos_runtime import step_attempt
from accord.engine.engine_loop import EngineLoop
from accord.engine.queue import ATTEMPT_QUEUE, AttemptQueue
from accord.engine.transaction_results import AdvanceResult, AttemptStart
from accord.storage.faults import describe


class Dispatcher:
    def __init__(
        self,
        loop: EngineLoop,
        queue: AttemptQueue | None,
        *,
        note_fault: Callable[[BaseException], None],
    ) -> None:
        self._loop = loop
        self.queue = queue
        self._note_fault = note_fault
        self._dispatch_queue: asyncio.Queue[list[AttemptKey]] = asyncio.Queue()
        self._dispatcher: asyncio.Task[None] | None = None
        self.started: set[str] = set()
        self.adopted: set[str] = set()
        """Child executions an attempt in this process waits for (see `_dispatch_loop`)."""
        self.prefetched: dict[str, AttemptStart] = {}
        self._attempts: Queue | None = None  # the DBOS queue, in distributed mode

    async def start(self) -> None:
        if self.queue is not None:
            self._attempts = await DBOS.register_queue_async(
                ATTEMPT_QUEUE,
                worker_concurrency=self.queue.worker_concurrency,
                global_concurrency=self.queue.global_concurrency,
                polling_interval_sec=self.queue.polling_s,
                on_conflict="always_update",
            )
        self._dispatcher = asyncio.create_task(self._dispatch_loop())

    async def stop(self) -> None:
        if self._dispatcher is not None:
            self._dispatcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._dispatcher

    @property
    def alive(self) -> bool:
        return self._dispatcher is not None and not self._dispatcher.done()

    def dispatch(self, result: AdvanceResult) -> None:
        """Start the attempts an advance queued."""
        if result.dispatch:
            if self.queue is None:  # on a queue, another process may well run them
                for key, start in result.starts.items():
                    self.prefetched[attempt_workflow_id(key)] = start
            self.submit(result.dispatch)

    def submit(self, keys: list[AttemptKey]) -> None:
        assert self._loop.loop is not None
        self._loop.loop.call_soon_threadsafe(self._dispatch_queue.put_nowait, keys)

    async def _dispatch_loop(self) -> None:
        """Starts attempt workflows outside any workflow context (so they are top-level, and
        never started from racing coroutines inside one workflow)."""
        while True:
            keys = await self._dispatch_queue.get()
            if self.queue is not None:
                # A child execution's attempts run here, beside the attempt waiting for it,
                # not from the queue: that attempt holds a queue slot while it waits, so once
                # every slot held a waiting parent, children queued behind them would never
                # start. Children run within their parent's slot, as a call would.
                queued = [k for k in keys if k[0] not in self.adopted]
                # Enqueuing an ID again is a no-op in the database. One that fails is
                # dispatched again by the reconciler.
                for failed in await asyncio.gather(
                    *(self._enqueue_attempt(k) for k in queued), return_exceptions=True
                ):
                    if isinstance(failed, Exception):
                        self._note_fault(failed)
                        logging.getLogger(__name__).warning(
                            "could not enqueue an attempt (%s)", describe(failed)
                        )
                keys = [k for k in keys if k[0] in self.adopted]
            fresh = [k for k in keys if attempt_workflow_id(k) not in self.started]
            self.started.update(attempt_workflow_id(k) for k in fresh)
            # Top-level starts, one at a time: each attempt runs as soon as its own start is
            # recorded. Started all at once, a fan-out's starts took the pool's threads
            # together and the attempts already started waited behind them to mark
            # themselves and call (S2: 1.46 -> 1.40 times the critical path).
            for key in fresh:
                try:
                    await self._start_attempt(key)
                except Exception as exc:  # DBOS's database full: the reconciler starts it later
                    self._note_fault(exc)
                    self.started.discard(attempt_workflow_id(key))
                    logging.getLogger(__name__).warning(
                        "could not start attempt %s (%s)", attempt_workflow_id(key), describe(exc)
                    )

    async def _start_attempt(self, key: AttemptKey) -> None:
        with SetWorkflowID(attempt_workflow_id(key)):
            await DBOS.start_workflow_async(step_attempt, *key)

    async def _enqueue_attempt(self, key: AttemptKey) -> None:
        assert self._attempts is not None
        with SetWorkflowID(attempt_workflow_id(key)):
            await self._attempts.enqueue_async(step_attempt, *key)

    def cancel_remote(self, workflow_id: str) -> None:
        """Stop an attempt this process does not run: DBOS takes it off the queue, or ends
        it at its running process's next recorded call."""

        async def cancel() -> None:
            try:
                await DBOS.cancel_workflow_async(workflow_id)
            except Exception:  # it ended meanwhile; its outcome is moot anyway
                logging.getLogger(__name__).debug("could not cancel %s", workflow_id)

        self._loop.soon(cancel)
