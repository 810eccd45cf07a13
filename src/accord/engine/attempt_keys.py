"""Attempt keys: an attempt's DBOS workflow ID, and the key as DBOS hands it back (workflow
inputs after a replay, workflow IDs)."""

from typing import Any

AttemptKey = tuple[str, str, int]
"""(execution ID, step ID, attempt): also the DBOS workflow ID, joined by ':'."""


def attempt_workflow_id(key: AttemptKey) -> str:
    return f"{key[0]}:{key[1]}:{key[2]}"


def attempt_key(raw: Any) -> AttemptKey:
    """An attempt key as DBOS hands it back (a JSON list after a replay)."""
    return (str(raw[0]), str(raw[1]), int(raw[2]))


def attempt_key_of(workflow_id: str) -> AttemptKey:
    """The attempt of a DBOS workflow ID (`attempt_workflow_id`; a step ID may hold ':')."""
    execution_id, rest = workflow_id.split(":", 1)
    step_id, attempt = rest.rsplit(":", 1)
    return (execution_id, step_id, int(attempt))
