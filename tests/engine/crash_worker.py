"""A process the crash test kills: runs executions with an Engine until all have ended.

    python crash_worker.py <db_url> <state_dir> <call_log> [<workflow_id>:<user_id> ...]

With workflow IDs it starts one execution of each first; without, it only recovers. Exits 0
once no execution in the database is running or paused.
"""

import asyncio
import sys
from pathlib import Path

from sqlalchemy import select

from accord.engine.service import Engine
from accord.engine.testing import LatencyPerformer
from accord.storage.db import Database
from accord.storage.tables import agents, workflow_executions


async def main(db_url: str, state_dir: str, call_log: str, starts: list[str]) -> None:
    db = Database(db_url)
    with db.session() as s:
        helper = s.execute(select(agents.c.id).where(agents.c.role == "helper")).scalar_one()
    performer = LatencyPerformer(
        latency_s=0.15, call_log=Path(call_log), delegate_to={"lead": [helper, helper]}
    )
    engine = Engine(
        db, performer, executor_id="crash-worker", state_dir=Path(state_dir), backoff_base_s=0.01
    )
    await engine.start()
    for start in starts:
        workflow_id, user_id = start.split(":")
        await engine.start_execution(workflow_id, user_id)
    print("ready", flush=True)
    while True:
        with db.session() as s:
            unfinished = s.execute(
                select(workflow_executions.c.id).where(
                    workflow_executions.c.status.in_(["running", "paused", "pending"])
                )
            ).all()
        if not unfinished:
            break
        await asyncio.sleep(0.05)
    await engine.stop()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]))
