"""`accord serve`: run the server with uvicorn and print how to sign in."""

import logging
import webbrowser

import uvicorn

from accord.server.app import create_app, prepare_database
from accord.server.auth import issue_login_link
from accord.server.settings import ServerSettings
from accord.storage.repositories.users import ensure_local_user
from accord.telemetry import logs

SHUTDOWN_GRACE_S = 3


def login_link(settings: ServerSettings) -> str | None:
    """A one-time browser login link for the local user, when bound to this machine only
    (any other bind address needs API tokens). Makes the local user on the first run."""
    if not settings.is_local:
        return None
    db = prepare_database(settings)
    try:
        with db.session() as session:
            user = ensure_local_user(session)
            return issue_login_link(session, user_id=user.id, base_url=settings.base_url)
    finally:
        db.dispose()


def run_server(
    host: str = "127.0.0.1",
    port: int = 8765,
    *,
    database_url: str | None = None,
    run_engine: bool = True,
    run_steps: bool = True,
    open_browser: bool = False,
    log_level: str = "info",
) -> None:
    """Serve until interrupted. Prints the login link on a loopback bind; on any other bind
    address says that requests need an API token. `ACCORD_LOG_FORMAT=json`: every log line,
    uvicorn's included, is a JSON object (see `accord.telemetry.logs`)."""
    as_json = logs.json_wanted()
    if as_json:
        logs.configure(logging.getLevelName(log_level.upper()))
    settings = ServerSettings(
        database_url=database_url,
        host=host,
        port=port,
        run_engine=run_engine,
        run_steps=run_steps,
    )
    link = login_link(settings)
    if link is None:
        print(
            f"Accord API on {settings.base_url}/api/v1 - every request needs an API token "
            "(Authorization: Bearer ...).",
            flush=True,
        )
    else:
        print(
            f"Accord is running. Open this one-time login link in your browser:\n  {link}",
            flush=True,
        )
        if open_browser:
            webbrowser.open(link)
    uvicorn.run(
        create_app(settings),
        host=host,
        port=port,
        log_level=log_level,
        log_config=None if as_json else uvicorn.config.LOGGING_CONFIG,
        # Open event streams never end by themselves: give them a moment, then close them.
        timeout_graceful_shutdown=SHUTDOWN_GRACE_S,
    )
