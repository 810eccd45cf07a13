"""Inbound webhooks: `POST /api/v1/hooks/{id}` starts the hook's workflow with the request's
JSON as inputs.

The hook's own secret authenticates the request, not an API token: an HMAC-SHA256 of the
body in `X-Hub-Signature-256` (GitHub's convention, so a GitHub webhook works as it is) or
the secret as a bearer token, as the hook's `auth` says. A delivery ID (`X-GitHub-Delivery`,
`X-Delivery-Id` or `Idempotency-Key`) seen before starts nothing again and answers with the
execution it started. The body is refused past the hook's size limit before it is read
whole, and each hook takes at most `perMinute` requests a minute in each process.
"""

import hashlib
import hmac
import json
import time
from collections import deque
from typing import Any

from anyio import to_thread
from fastapi import APIRouter, Request, status

from accord.domain.base import CamelModel
from accord.domain.enums import TriggerReason
from accord.domain.errors import AccordError, InvalidInput, Unauthorized
from accord.domain.triggers import Hook, HookAuth, select
from accord.server.access import PERMISSION_KEY, PUBLIC
from accord.server.deps import EngineDep
from accord.server.schemas import ERROR_RESPONSES
from accord.storage.db import Database
from accord.storage.repositories.triggers import TriggerRepository

router = APIRouter(tags=["hooks"], responses=ERROR_RESPONSES)

DELIVERY_HEADERS = ("x-github-delivery", "x-delivery-id", "idempotency-key")


class HookAccepted(CamelModel):
    execution_id: str
    delivery_id: str
    duplicate: bool = False


class PayloadTooLarge(AccordError):
    code = "payload_too_large"


class TooManyRequests(AccordError):
    code = "rate_limited"


class WorkflowBusy(AccordError):
    """The workflow cannot start now (another run, or a definition that no longer runs)."""

    code = "conflict"


_recent: dict[str, deque[float]] = {}


def _rate_limit(hook: Hook) -> None:
    now = time.monotonic()
    window = _recent.setdefault(hook.id, deque())
    while window and window[0] < now - 60:
        window.popleft()
    if len(window) >= hook.per_minute:
        raise TooManyRequests(
            f"hook {hook.name!r} takes {hook.per_minute} requests a minute: try again shortly"
        )
    window.append(now)


async def _body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"the body is {declared} bytes; this hook takes at most {limit}")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise PayloadTooLarge(f"the body is over {limit} bytes, this hook's limit")
    return bytes(body)


def _check_auth(hook: Hook, secret: str, request: Request, body: bytes) -> None:
    if hook.auth is HookAuth.HMAC:
        given = request.headers.get("x-hub-signature-256", "")
        expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(given.encode(), expected.encode()):
            raise Unauthorized(
                "missing or wrong X-Hub-Signature-256: sign the body with the hook's secret "
                "(sha256=<hex HMAC-SHA256>)"
            )
    else:
        given = request.headers.get("authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {secret}".encode()):
            raise Unauthorized("missing or wrong bearer token: send the hook's secret")


def _inputs(hook: Hook, body: bytes) -> dict[str, Any]:
    if not body.strip():
        document: Any = {}
    else:
        try:
            document = json.loads(body)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise InvalidInput.of("body", f"not JSON: {exc}", "send a JSON document") from None
    if hook.inputs:
        return {name: select(document, path) for name, path in hook.inputs.items()}
    return document if isinstance(document, dict) else {"payload": document}


# The app-wide limit would refuse a large hook body first; the hook checks its own limit.
# Public to the API's permissions: the hook's own secret or signature authenticates it.
@router.post(
    "/hooks/{hook_id}",
    status_code=status.HTTP_202_ACCEPTED,
    max_body_size=10_000_000,
    openapi_extra={PERMISSION_KEY: PUBLIC},
)
async def receive(hook_id: str, request: Request, engine: EngineDep) -> HookAccepted:
    """Start the hook's workflow (trigger reason `event`) with the request's JSON as inputs,
    or with the values the hook's `inputs` selectors pick from it."""
    db: Database = request.app.state.db

    def load() -> tuple[Hook, str, str]:
        with db.read_session() as s:
            return TriggerRepository(s).hook_for_delivery(hook_id)

    hook, user_id, secret = await to_thread.run_sync(load)
    body = await _body(request, hook.max_body_bytes)
    _check_auth(hook, secret, request, body)
    _rate_limit(hook)
    inputs = _inputs(hook, body)
    delivery_id = next(
        (request.headers[h] for h in DELIVERY_HEADERS if request.headers.get(h)),
        hashlib.sha256(body).hexdigest(),
    )

    def claim() -> str | None:
        with db.session() as s:
            return TriggerRepository(s).record_delivery(hook.id, delivery_id)

    seen = await to_thread.run_sync(claim)
    if seen is not None:
        return HookAccepted(execution_id=seen, delivery_id=delivery_id, duplicate=True)
    outcome = await engine.start_triggered(
        {
            "key": f"hook:{hook.id}:{delivery_id}",
            "workflowId": hook.workflow_id,
            "userId": user_id,
            "reason": TriggerReason.EVENT.value,
            "triggeredBy": f"hook:{hook.id}",
            "inputs": inputs,
        }
    )
    execution_id = outcome.get("executionId")

    def settle() -> None:
        with db.session() as s:
            repo = TriggerRepository(s)
            if execution_id:
                repo.delivery_started(hook.id, delivery_id, execution_id)
            else:  # nothing started: the same delivery may come again
                repo.forget_delivery(hook.id, delivery_id)

    await to_thread.run_sync(settle)
    if outcome.get("busy"):
        raise WorkflowBusy(
            "the workflow is running another execution; the delivery was not taken, send it "
            "again later"
        )
    if not execution_id:
        raise WorkflowBusy(f"the workflow cannot start: {outcome.get('error')}")
    return HookAccepted(execution_id=execution_id, delivery_id=delivery_id)
