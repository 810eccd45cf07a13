"""`/mcp` on `accord serve`: the MCP tools of `accord.server.mcp_tools` over streamable HTTP,
behind the API's own bearer tokens.

The endpoint is a route of the app (so it sits beside `/api/v1`, before the browser's
catch-all) that checks the token, notes its user in the request's ASGI scope, and hands the
request to the MCP SDK's streamable-HTTP app, built when the app starts (it needs the
database and the engine). Stateless mode: every request stands alone, so any number of
`accord serve` processes behind one address answer the same client, and each request is
checked against its token (one revoked mid-conversation stops at the next call).
"""

from contextlib import AbstractAsyncContextManager

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from starlette.types import ASGIApp, Receive, Scope, Send

from accord.domain.access import Scope as TokenScope
from accord.domain.errors import Unauthorized
from accord.engine.service import Engine
from accord.server.deps import caller_of_token
from accord.server.errors import error_response
from accord.server.mcp_tools import AccordTools, build_mcp_server
from accord.server.settings import ServerSettings
from accord.storage.db import Database

MCP_PATH = "/mcp"
USER_STATE = "accord_user_id"
"""Where the endpoint leaves the authenticated user's ID (the request's `state`)."""


def _user_of_request(ctx: Context) -> str:
    request = ctx.request_context.request
    user_id = getattr(getattr(request, "state", None), USER_STATE, None)
    if not isinstance(user_id, str):  # never reached through McpEndpoint, which checks first
        raise ToolError("not signed in: send Authorization: Bearer <API token>")
    return user_id


class McpHttp:
    """The SDK's streamable-HTTP app for one server process; `run()` must wrap its life."""

    def __init__(self, db: Database, engine: Engine | None, settings: ServerSettings) -> None:
        self.server: MCPServer = build_mcp_server(AccordTools(db, engine), who=_user_of_request)
        self.app: ASGIApp = self.server.streamable_http_app(
            streamable_http_path=MCP_PATH,
            stateless_http=True,
            json_response=True,
            host=settings.host,
        )

    def run(self) -> AbstractAsyncContextManager[None]:
        return self.server.session_manager.run()


class McpEndpoint:
    """The ASGI endpoint at `/mcp`: no valid token, no MCP (a 401 in the API's error shape)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        app = scope["app"]
        secret = _bearer(scope)
        try:
            if secret is None:
                raise Unauthorized(
                    "Send `Authorization: Bearer <token>`: an API token (`POST /api/v1/tokens`, "
                    "or the browser's Tokens page) of the user the MCP client acts for."
                )
            caller = caller_of_token(app.state.db, secret)
        except Unauthorized as exc:
            response = error_response(
                401, exc.code, exc.message, headers={"WWW-Authenticate": "Bearer"}
            )
            await response(scope, receive, send)
            return
        if caller.credential.token.scope is not TokenScope.ADMIN:
            # MCP tools change definitions and start runs alike: only a full token may use them.
            response = error_response(
                403,
                "forbidden",
                f"this token's scope is {caller.credential.token.scope.value}; MCP clients "
                "need a token of scope admin (everything its user may do)",
            )
            await response(scope, receive, send)
            return
        scope.setdefault("state", {})[USER_STATE] = caller.user.id
        mcp: McpHttp = app.state.mcp
        await mcp.app(scope, receive, send)


def _bearer(scope: Scope) -> str | None:
    for name, value in scope.get("headers", []):
        if name == b"authorization":
            scheme, _, credentials = bytes(value).decode("latin-1").partition(" ")
            if scheme.lower() == "bearer" and credentials.strip():
                return credentials.strip()
    return None
