"""What a browser gets outside the API: the one-time login link and the built UI.

The UI is the Vite build in `static/` (made by `./dev setup`). Any GET outside `/api/` that
matches no route is the single-page app's: a built file if there is one at that path, else
`index.html`, so deep links such as `/executions/abc` load the app. Without a build, a short
page says how to make one instead of a bare 404.
"""

from html import escape
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse

from accord.domain.errors import Unauthorized
from accord.server.auth import SESSION_COOKIE, SESSION_TTL_S
from accord.server.deps import DatabaseDep, SettingsDep
from accord.storage.repositories.tokens import TokenRepository

router = APIRouter(include_in_schema=False)

NOT_BUILT_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Accord</title></head>
<body style="font-family: sans-serif; max-width: 40em; margin: 4em auto">
<h1>Accord is running</h1>
<p>The API is at <a href="/api/v1/me">/api/v1</a> (<a href="/docs">docs</a>), but the browser
UI has not been built.</p>
<p>Build it with <code>./dev setup</code>
(or <code>cd ui &amp;&amp; npm ci &amp;&amp; npm run build</code>), then reload this page.</p>
</body></html>
"""


def _page(title: str, text: str, status: int) -> HTMLResponse:
    body = (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)}'
        f'</title></head><body style="font-family: sans-serif; max-width: 40em; '
        f'margin: 4em auto"><h1>{escape(title)}</h1><p>{escape(text)}</p></body></html>'
    )
    return HTMLResponse(body, status_code=status)


@router.get("/login")
def login(
    token: Annotated[str, Query(min_length=1)], db: DatabaseDep, settings: SettingsDep
) -> Response:
    """Redeem a one-time login token for a session cookie, then open the app."""
    try:
        with db.session() as session:
            tokens = TokenRepository(session)
            login_token = tokens.redeem_login(token)
            _, session_secret = tokens.create(
                user_id=login_token.user_id,
                name="browser session",
                kind="session",
                ttl_seconds=SESSION_TTL_S,
            )
    except Unauthorized as exc:
        return _page("This login link cannot be used", exc.message, 401)
    response = RedirectResponse("/", status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        session_secret,
        max_age=SESSION_TTL_S,
        httponly=True,
        samesite="strict",
        secure=not settings.is_local,
        path="/",
    )
    return response


def ui_response(request: Request, static_dir: Path) -> Response | None:
    """The single-page app's answer to an unmatched GET, or None when it is not the app's."""
    path = request.url.path
    if request.method not in ("GET", "HEAD") or path.startswith("/api/") or path == "/api":
        return None
    index = static_dir / "index.html"
    if not index.is_file():
        return HTMLResponse(NOT_BUILT_PAGE)
    root = static_dir.resolve()
    candidate = (root / path.lstrip("/")).resolve()
    if candidate.is_relative_to(root) and candidate.is_file():
        return FileResponse(candidate)
    return FileResponse(index, headers={"Cache-Control": "no-cache"})
