"""Generate the synchronous client (`sync.py`) from the async one (`aio.py`), so the two
never differ but in `async`: `python -m accord.library.client.unasync` rewrites it."""

import re
from pathlib import Path

HERE = Path(__file__).parent
HEADER = '''"""`Client`: the Accord REST API from synchronous code, one typed method per operation.

Generated from `aio.py` by `python -m accord.library.client.unasync`: edit that file instead.
"""
'''
REPLACEMENTS = (
    (r"\bAsyncClient\b", "Client"),
    (r"\bAsyncIterator\b", "Iterator"),
    (r"\basync def\b", "def"),
    (r"\basync for\b", "for"),
    (r"\basync with\b", "with"),
    (r"\bawait ", ""),
    (r"\b__aenter__\b", "__enter__"),
    (r"\b__aexit__\b", "__exit__"),
    (r"\baclose\b", "close"),
    (r"\baiter_lines\b", "iter_lines"),
    (r"\baread\b", "read"),
    (r"\basyncio\.sleep\b", "time.sleep"),
    (r"^import asyncio$", "import time"),
    (r"from async code", "from synchronous code"),
)


def generate() -> str:
    """The text `sync.py` must have."""
    source = (HERE / "aio.py").read_text(encoding="utf-8")
    body = source.split('"""', 2)[2].lstrip("\n")  # drop the module docstring
    for pattern, replacement in REPLACEMENTS:
        body = re.sub(pattern, replacement, body, flags=re.MULTILINE)
    return HEADER + "\n" + body


if __name__ == "__main__":
    (HERE / "sync.py").write_text(generate(), encoding="utf-8")
