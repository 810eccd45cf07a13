"""Live events as Server-Sent Events: one stream per execution and one per user.

Frames are `id: <event id>`, `event: <kind>`, `data: <ExecutionEvent JSON>`, and between them
`event: text.delta`, `data: <TextDelta JSON>` (no `id`: what an agent is writing, never
stored; see `accord.storage.live_text`); FastAPI adds a
`: ping` comment when a stream is idle, so proxies keep it open. Browsers resume with the
`Last-Event-ID` header by themselves; see `accord.server.event_feed` for why resuming never
skips an event. An open stream holds no database connection: the server's `EventHub` tails
the log for all streams and hands each its events.
"""

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Request
from fastapi.sse import EventSourceResponse, ServerSentEvent

from accord.domain.execution import TEXT_DELTA_KIND, TextDelta
from accord.server.deps import CurrentUser, DatabaseDep
from accord.server.event_feed import EventHub
from accord.server.schemas import ERROR_RESPONSES
from accord.storage.repositories.executions import ExecutionRepository

router = APIRouter(tags=["events"], responses=ERROR_RESPONSES)

LastEventId = Annotated[
    int | None,
    Header(alias="Last-Event-ID", ge=0, le=2**63 - 1, description="Resume after this event ID."),
]


def owned_execution_id(execution_id: str, user: CurrentUser, db: DatabaseDep) -> str:
    """The execution's ID if it is the user's; checked as a dependency, before the stream
    starts, so a wrong ID is a plain 404 and not a broken stream."""
    with db.read_session() as session:
        return ExecutionRepository(session).get(execution_id, user_id=user.id).id


async def _frames(
    hub: EventHub, *, user_id: str, execution_id: str | None, after: int | None
) -> AsyncIterator[ServerSentEvent]:
    async for event in hub.stream(user_id=user_id, execution_id=execution_id, after=after):
        if isinstance(event, TextDelta):
            # No `id`: a delta is not in the log, so a resuming browser's Last-Event-ID stays
            # the last event's.
            yield ServerSentEvent(event=TEXT_DELTA_KIND, raw_data=event.model_dump_json())
        else:
            yield ServerSentEvent(
                id=str(event.id), event=event.kind, raw_data=event.model_dump_json(by_alias=True)
            )


def get_event_hub(request: Request) -> EventHub:
    hub: EventHub = request.app.state.event_hub
    return hub


EventHubDep = Annotated[EventHub, Depends(get_event_hub)]


@router.get("/executions/{execution_id}/events", response_class=EventSourceResponse)
async def execution_events(
    execution_id: Annotated[str, Depends(owned_execution_id)],
    user: CurrentUser,
    hub: EventHubDep,
    last_event_id: LastEventId = None,
) -> AsyncIterator[ServerSentEvent]:
    """The execution's events: from its first one, or after `Last-Event-ID`."""
    async for frame in _frames(
        hub, user_id=user.id, execution_id=execution_id, after=last_event_id
    ):
        yield frame


@router.get("/events", response_class=EventSourceResponse)
async def user_events(
    user: CurrentUser, hub: EventHubDep, last_event_id: LastEventId = None
) -> AsyncIterator[ServerSentEvent]:
    """Every event of the user's executions from now on, or after `Last-Event-ID`."""
    async for frame in _frames(hub, user_id=user.id, execution_id=None, after=last_event_id):
        yield frame
