"""Live events as Server-Sent Events: one stream per execution and one per user.

Frames are `id: <event id>`, `event: <kind>`, `data: <ExecutionEvent JSON>`, and between them
`event: text.delta`, `data: <TextDelta JSON>` (no `id`: what an agent is writing, never
stored; see `accord.storage.live_text`); a `: ping` comment when a stream is idle, so
proxies keep it open. Browsers resume with the `Last-Event-ID` header by themselves; see
`accord.server.event_feed` for why resuming never skips an event. An open stream holds no
database connection: the server's `EventHub` tails the log for all streams and hands each its
events.

Whatever a stream has waiting goes out in one write. (FastAPI's own event streams pass each
frame through several tasks, a turn of the event loop each: while executions keep the loop
busy, a stream fell seconds behind its events.)
"""

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Request
from fastapi.responses import StreamingResponse
from fastapi.sse import KEEPALIVE_COMMENT, format_sse_event

from accord.domain.execution import TEXT_DELTA_KIND, ExecutionEvent, TextDelta
from accord.server.access import Access, ReadAccess
from accord.server.deps import DatabaseDep
from accord.server.event_feed import EventHub
from accord.server.schemas import ERROR_RESPONSES
from accord.storage.repositories.executions import ExecutionRepository

router = APIRouter(tags=["events"], responses=ERROR_RESPONSES)

LastEventId = Annotated[
    int | None,
    Header(alias="Last-Event-ID", ge=0, le=2**63 - 1, description="Resume after this event ID."),
]


def visible_execution_id(execution_id: str, access: ReadAccess, db: DatabaseDep) -> str:
    """The execution's ID if the caller may watch it; checked as a dependency, before the
    stream starts, so a wrong ID is a plain 404 and not a broken stream."""
    with db.read_session() as session:
        return ExecutionRepository(session).get(execution_id, user_id=access.owner_id).id


class EventStream(StreamingResponse):
    """Server-Sent Events, written by `_event_stream` (FastAPI's `EventSourceResponse` would
    take the route for one of its own streams)."""

    media_type = "text/event-stream"


def _frame(item: ExecutionEvent | TextDelta) -> bytes:
    if isinstance(item, TextDelta):
        # No `id`: a delta is not in the log, so a resuming browser's Last-Event-ID stays
        # the last event's.
        return format_sse_event(data_str=item.model_dump_json(), event=TEXT_DELTA_KIND)
    return format_sse_event(
        data_str=item.model_dump_json(by_alias=True), event=item.kind, id=str(item.id)
    )


def _event_stream(
    hub: EventHub, access: Access, *, execution_id: str | None, after: int | None
) -> EventStream:
    """The stream ends when the credential that opened it stops letting its user in
    (revoked, signed out, expired, user disabled), or when they leave the shared project
    they watch it through: `EventHub` checks twice a second."""
    membership = (
        None if access.shared_project_id is None else (access.shared_project_id, access.user.id)
    )

    async def writes() -> AsyncIterator[bytes]:
        async for batch in hub.stream(
            user_id=access.owner_id,
            execution_id=execution_id,
            after=after,
            credential_id=access.token_id,
            membership=membership,
        ):
            yield b"".join(map(_frame, batch)) if batch else KEEPALIVE_COMMENT

    return EventStream(
        writes(),
        # Neither browsers nor proxies (nginx) may hold frames back.
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


def get_event_hub(request: Request) -> EventHub:
    hub: EventHub = request.app.state.event_hub
    return hub


EventHubDep = Annotated[EventHub, Depends(get_event_hub)]


# `response_class` documents the media type; `accord.server.openapi` describes the frames.
@router.get("/executions/{execution_id}/events", response_class=EventStream)
async def execution_events(
    execution_id: Annotated[str, Depends(visible_execution_id)],
    access: ReadAccess,
    hub: EventHubDep,
    last_event_id: LastEventId = None,
) -> EventStream:
    """The execution's events: from its first one, or after `Last-Event-ID`."""
    return _event_stream(hub, access, execution_id=execution_id, after=last_event_id)


@router.get("/events", response_class=EventStream)
async def user_events(
    access: ReadAccess, hub: EventHubDep, last_event_id: LastEventId = None
) -> EventStream:
    """Every event of the user's executions from now on, or after `Last-Event-ID`."""
    return _event_stream(hub, access, execution_id=None, after=last_event_id)
