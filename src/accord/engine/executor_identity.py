"""A stable executor ID per data directory and process slot, so a restart recovers its own
attempts and two processes on one database never share one."""

import fcntl
import uuid
from pathlib import Path
from typing import TextIO


class ExecutorIdentity:
    """The executor ID files of one database's state: `<name>.executor_id`, `.2`, ..."""

    def __init__(self, state_dir: Path, state_name: str) -> None:
        self._state_dir = state_dir
        self._state_name = state_name
        self._id_lock: TextIO | None = None

    def claim(self) -> str:
        """A stable executor ID per data directory, so a restart recovers its own attempts.

        Each ID is held under an exclusive lock on its file while this engine lives, so two
        processes on one database (`accord serve` beside `accord run`) never share an ID and
        never resume each other's attempts: the second takes the next free slot
        (`<name>.executor_id.2`, ...), which its own restart finds again."""
        slot = 0
        while True:
            slot += 1
            suffix = "" if slot == 1 else f".{slot}"
            path = self._state_dir / f"{self._state_name}.executor_id{suffix}"
            file = path.open("a+")  # a file object: an engine dropped unstopped frees it too
            try:
                fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                file.close()
                continue
            file.seek(0)
            stored = file.read().strip()
            if not stored:
                stored = f"accord-{uuid.uuid4().hex[:12]}"
                file.write(stored)
                file.flush()
            self._id_lock = file
            return stored

    def release(self) -> None:
        if self._id_lock is not None:
            self._id_lock.close()  # closing the file releases its lock
            self._id_lock = None
