"""Pages of list endpoints: `limit` and `cursor` in, a bounded JSON array and a `Link` out.

Every list answers at most `limit` items (100 unless asked, 500 at most). When more follow,
the response carries `Link: <url>; rel="next"` (RFC 8288) with the same query and the next
`cursor`, and `X-Next-Cursor` with the cursor alone; the body stays a plain array, so a
client that reads one page reads what it always did. `X-Total-Count` says how many there are.

A cursor is opaque to clients: today it encodes a position in the list's fixed order, so an
item added while a client pages may shift what the next page starts with (by one), never
make the client loop.
"""

import base64
import binascii
from typing import Annotated, TypeVar

from fastapi import Depends, Query, Request, Response

from accord.domain.errors import InvalidInput

DEFAULT_LIMIT = 100
MAX_LIMIT = 500

T = TypeVar("T")


class Page:
    """A FastAPI dependency (`PageDep`): the page a list request asked for."""

    def __init__(
        self,
        request: Request,
        response: Response,
        limit: Annotated[
            int,
            Query(
                ge=1,
                le=MAX_LIMIT,
                description=f"At most this many items ({DEFAULT_LIMIT} unless given).",
            ),
        ] = DEFAULT_LIMIT,
        cursor: Annotated[
            str | None,
            Query(
                max_length=64,
                description="Where to go on from: the `cursor` of the previous page's "
                '`Link: <...>; rel="next"` (or `X-Next-Cursor`) header.',
            ),
        ] = None,
    ) -> None:
        self.request = request
        self.response = response
        self.limit = limit
        self.start = _decode(cursor) if cursor else 0

    def of(self, items: list[T]) -> list[T]:
        """This page of `items` (the whole list, in its order), with the headers that lead
        to the next one."""
        end = self.start + self.limit
        self.response.headers["X-Total-Count"] = str(len(items))
        if end < len(items):
            cursor = _encode(end)
            # Relative (RFC 8288 resolves it against the request's URL): right behind a proxy
            # that changes the scheme or host, too.
            url = self.request.url.include_query_params(cursor=cursor, limit=self.limit)
            self.response.headers["Link"] = f'<{url.path}?{url.query}>; rel="next"'
            self.response.headers["X-Next-Cursor"] = cursor
        return items[self.start : end]


def _encode(position: int) -> str:
    return base64.urlsafe_b64encode(f"p{position}".encode()).decode().rstrip("=")


def _decode(cursor: str) -> int:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        if text.startswith("p") and text[1:].isdigit():
            return int(text[1:])
    except (binascii.Error, UnicodeDecodeError, ValueError):
        pass
    raise InvalidInput.of(
        "cursor",
        "is not a cursor this server gave",
        'pass the cursor from the previous page\'s Link rel="next" header, or none to start',
    )


PageDep = Annotated[Page, Depends()]
