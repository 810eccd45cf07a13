"""Log lines for people (the default) or for machines (`ACCORD_LOG_FORMAT=json`).

In JSON, each line is one object: `time`, `level`, `logger`, `message`, and, on lines logged
while a step attempt runs, `executionId`, `stepId`, `attempt` (and `agentId` once assigned),
plus `traceId`/`spanId` when traces are exported, so a log line leads to its trace.
"""

import json
import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from accord.domain.errors import AccordError
from accord.telemetry import tracing

FORMAT_ENV = "ACCORD_LOG_FORMAT"
HUMAN_FORMAT = "%(asctime)s %(levelname)s %(message)s"

_attempt_fields: ContextVar[dict[str, Any] | None] = ContextVar("accord_log_fields", default=None)


def json_wanted() -> bool:
    value = os.environ.get(FORMAT_ENV, "text").strip().lower()
    if value not in ("json", "text"):
        raise AccordError(f"{FORMAT_ENV}={value!r} is not a log format: set it to json or text")
    return value == "json"


@contextmanager
def attempt_fields(execution_id: str, step_id: str, attempt: int) -> Iterator[dict[str, Any]]:
    """Name this attempt on every line logged inside (the dict may gain fields, e.g. the
    agent once assigned)."""
    fields: dict[str, Any] = {"executionId": execution_id, "stepId": step_id, "attempt": attempt}
    token = _attempt_fields.set(fields)
    try:
        yield fields
    finally:
        _attempt_fields.reset(token)


def current_fields() -> dict[str, Any] | None:
    return _attempt_fields.get()


class JsonFormatter(logging.Formatter):
    """One JSON object per record (a traceback, if any, in `exception`)."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        fields = _attempt_fields.get()
        if fields:
            line.update(fields)
        ids = tracing.current_trace_ids()
        if ids is not None:
            line["traceId"], line["spanId"] = ids
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


def configure(level: int = logging.INFO) -> bool:
    """Send this process's logs to stderr in the format `ACCORD_LOG_FORMAT` asks for (text,
    the default, or json). True for JSON: uvicorn must then leave its loggers to the root."""
    as_json = json_wanted()
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if as_json else logging.Formatter(HUMAN_FORMAT))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    if as_json:
        # Libraries that bring their own handlers (uvicorn, DBOS) log through ours instead.
        for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "dbos"):
            other = logging.getLogger(name)
            other.handlers.clear()
            other.propagate = True
        # DBOS adds its console handler to a logger that has none when it starts.
        logging.getLogger("dbos").addHandler(logging.NullHandler())
    return as_json
