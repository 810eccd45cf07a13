"""What a browser gets outside the API: the one-time login link and the built UI.

The UI is the Vite build in `static/` (made by `./dev setup`). Any GET outside `/api/` that
matches no route is the single-page app's: a built file if there is one at that path, else
`index.html`, so deep links such as `/executions/abc` load the app. Without a build, a short
page says how to make one instead of a bare 404.
"""

from html import escape
from pathlib import Path
from typing import Annotated

from anyio import to_thread
from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse

from accord.domain.errors import Unauthorized
from accord.server.auth import start_session
from accord.server.deps import DatabaseDep, SettingsDep
from accord.server.oidc import FLOW_COOKIE, FLOW_TTL_S, Flow, OidcClient
from accord.storage.repositories.tokens import TokenRepository
from accord.storage.repositories.users import UserRepository

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
    request: Request,
    db: DatabaseDep,
    settings: SettingsDep,
    token: Annotated[str | None, Query()] = None,
) -> Response:
    """Redeem a one-time login token for a session cookie, then open the app; without one,
    the app's sign-in form."""
    if not token:
        return ui_response(request, settings.static_dir) or _page("Sign in", "", 200)
    response = RedirectResponse("/", status_code=303)
    try:
        with db.session() as session:
            login_token = TokenRepository(session).redeem_login(token)
            start_session(
                session, request, response, user_id=login_token.user_id, settings=settings
            )
    except Unauthorized as exc:
        return _page("This login link cannot be used", exc.message, 401)
    return response


SETUP_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Set up Accord</title></head>
<body style="font-family: sans-serif; max-width: 30em; margin: 4em auto">
<h1>Set up Accord</h1>
<p>This server has no users yet. Make its first administrator: they can then add the others
(Settings, or <code>accord users create</code>).</p>
<form id="setup" style="display: grid; gap: .6em">
<label>Email <input name="email" type="email" required autocomplete="username"></label>
<label>Name <input name="displayName" required></label>
<label>Password (10 characters or more)
<input name="password" type="password" required minlength="10" autocomplete="new-password">
</label>
<button type="submit">Create administrator and sign in</button>
<p id="problem" role="alert" style="color: #b00020"></p>
</form>
<script>
const token = new URLSearchParams(location.search).get("token") || "";
history.replaceState(null, "", "/setup");  // the secret leaves the address bar and history
document.getElementById("setup").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  const response = await fetch("/api/v1/setup", {
    method: "POST",
    headers: {"Content-Type": "application/json"},
    body: JSON.stringify({setupToken: token, email: form.get("email"),
      displayName: form.get("displayName"), password: form.get("password")}),
  });
  if (response.ok) { location.assign("/"); return; }
  const body = await response.json().catch(() => ({}));
  document.getElementById("problem").textContent =
    (body.error && body.error.message) || ("The server answered " + response.status);
});
</script>
</body></html>
"""


@router.get("/auth/oidc/login")
async def oidc_login(request: Request, settings: SettingsDep) -> Response:
    """Leave for the OpenID Connect provider's sign-in page."""
    if settings.oidc is None:
        return _page("Not available", "This server has no OpenID Connect sign-in.", 404)
    client: OidcClient = request.app.state.oidc
    url, flow = await client.start(str(request.url_for("oidc_callback")))
    response = RedirectResponse(url, status_code=303)
    # Lax, not Strict: the provider's redirect back is a cross-site navigation.
    response.set_cookie(
        FLOW_COOKIE,
        flow.cookie(),
        max_age=FLOW_TTL_S,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/auth/oidc",
    )
    return response


@router.get("/auth/oidc/callback", name="oidc_callback")
async def oidc_callback(
    request: Request,
    db: DatabaseDep,
    settings: SettingsDep,
    code: str = "",
    state: str = "",
    error: str = "",
) -> Response:
    """Back from the provider: check what it says, then sign in as the user with that email."""
    if settings.oidc is None:
        return _page("Not available", "This server has no OpenID Connect sign-in.", 404)
    if error or not code:
        return _page("Sign-in did not finish", f"The identity provider said: {error}", 401)
    client: OidcClient = request.app.state.oidc
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(FLOW_COOKIE, path="/auth/oidc")
    try:
        flow = Flow.from_cookie(request.cookies.get(FLOW_COOKIE))
        identity = await client.finish(
            str(request.url_for("oidc_callback")), flow, code=code, state=state
        )

        def sign_in() -> None:
            with db.session() as session:
                users = UserRepository(session)
                user = users.find_by_email(identity.email)
                if user is None and settings.oidc is not None and settings.oidc.new_users:
                    user = users.create(email=identity.email, display_name=identity.name)
                if user is None:
                    raise Unauthorized(
                        f"{identity.email} has no account here: ask an administrator to add "
                        "you (`accord users create EMAIL --no-password`, or Settings)"
                    )
                if user.disabled:
                    raise Unauthorized(f"{identity.email} is disabled; ask an administrator")
                start_session(session, request, response, user_id=user.id, settings=settings)

        await to_thread.run_sync(sign_in)
    except Unauthorized as exc:
        return _page("Sign-in refused", exc.message, 401)
    return response


@router.get("/setup")
def setup_page() -> HTMLResponse:
    """The form that makes the first administrator (`POST /api/v1/setup`) with the token
    from the setup link `accord serve` printed."""
    return HTMLResponse(SETUP_PAGE, headers={"Cache-Control": "no-store"})


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
