"""Two processes on one SQLite database (`accord serve` beside `accord run`) must not share
an executor ID, or each would resume the other's attempts after a restart; each restart must
still find its own ID again."""

import gc
import subprocess
import sys
from pathlib import Path

from accord.engine.service import Engine
from accord.engine.testing import LatencyPerformer
from accord.storage.db import Database

CLAIM = """
import sys
from pathlib import Path
from accord.engine.service import Engine
from accord.engine.testing import LatencyPerformer
from accord.storage.db import Database
print(Engine(Database(sys.argv[1]), LatencyPerformer(), state_dir=Path(sys.argv[2])).executor_id)
"""


def claim_in_another_process(url: str, state: Path) -> str:
    done = subprocess.run(
        [sys.executable, "-c", CLAIM, url, str(state)], capture_output=True, check=True
    )
    return done.stdout.decode().strip()


async def test_a_second_process_gets_its_own_stable_executor_id(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'accord.db'}"
    db = Database(url)
    db.upgrade()
    first = Engine(db, LatencyPerformer(), state_dir=tmp_path)
    await first.start()
    try:
        second = claim_in_another_process(url, tmp_path)
        assert second != first.executor_id
        assert claim_in_another_process(url, tmp_path) == second  # its restart finds it again
    finally:
        await first.stop()
    # Once the first process is gone, its ID is free for the next one to recover with.
    assert claim_in_another_process(url, tmp_path) == first.executor_id
    db.dispose()


def test_an_engine_dropped_without_stopping_frees_its_executor_id(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'accord.db'}")
    first = Engine(db, LatencyPerformer(), state_dir=tmp_path)
    taken = first.executor_id
    assert Engine(db, LatencyPerformer(), state_dir=tmp_path).executor_id != taken
    del first
    gc.collect()
    assert Engine(db, LatencyPerformer(), state_dir=tmp_path).executor_id == taken
    db.dispose()
