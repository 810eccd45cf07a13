"""`accord serve`: run the server with uvicorn and print how to sign in."""

import logging
import webbrowser
from dataclasses import dataclass

import uvicorn

from accord.server.app import create_app, prepare_database
from accord.server.auth import issue_login_link, new_setup_token
from accord.server.logs import uvicorn_log_config
from accord.server.settings import ServerSettings
from accord.storage.repositories.users import UserRepository, ensure_local_user
from accord.telemetry import logs

SHUTDOWN_GRACE_S = 3


@dataclass(frozen=True)
class WayIn:
    """What `accord serve` prints so that someone can sign in."""

    message: str
    link: str | None = None
    """A link to open in the browser (the local user's login link, or the setup link)."""
    setup_token: str | None = None
    """Set when the server has no users: the secret of the setup link."""


def way_in(settings: ServerSettings) -> WayIn:
    """On a loopback bind, a one-time login link for the local user (made on the first run,
    as administrator). Elsewhere, on a server without users, a one-time setup link that
    makes the first administrator; with users, where to sign in."""
    db = prepare_database(settings)
    try:
        with db.session() as session:
            if settings.is_local:
                user = ensure_local_user(session)
                link = issue_login_link(session, user_id=user.id, base_url=settings.base_url)
                return WayIn(
                    f"Accord is running. Open this one-time login link in your browser:\n  {link}",
                    link,
                )
            if not UserRepository(session).any_exist():
                token = new_setup_token()
                link = f"{settings.base_url}/setup?token={token}"
                return WayIn(
                    "Accord is running and has no users yet. Open this one-time setup link to "
                    f"make the first administrator (replace the host with this server's name if "
                    f"needed):\n  {link}\n(or run `accord users create EMAIL --admin`)",
                    link,
                    token,
                )
    finally:
        db.dispose()
    return WayIn(
        f"Accord is running on {settings.base_url}: sign in at {settings.base_url}/login; "
        "scripts send an API token (Authorization: Bearer ...)."
    )


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
    """Serve until interrupted, after printing how to sign in (`way_in`).
    `ACCORD_LOG_FORMAT=json`: every log line, uvicorn's included, is a JSON object (see
    `accord.telemetry.logs`); the access log hides sign-in secrets either way."""
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
    entry = way_in(settings)
    print(entry.message, flush=True)
    if open_browser and entry.link is not None:
        webbrowser.open(entry.link)
    uvicorn.run(
        create_app(settings, setup_token=entry.setup_token),
        host=host,
        port=port,
        log_level=log_level,
        log_config=uvicorn_log_config(as_json=as_json),
        # Open event streams never end by themselves: give them a moment, then close them.
        timeout_graceful_shutdown=SHUTDOWN_GRACE_S,
    )
