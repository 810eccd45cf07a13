"""`accord serve`: the HTTP API, the live event streams and the browser monitor."""

from typing import Annotated

import typer

from accord.cli.context import require_postgres

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765


def serve(
    host: Annotated[
        str,
        typer.Option(help="Bind address; off 127.0.0.1 users sign in with a password or a token."),
    ] = DEFAULT_HOST,
    port: Annotated[int, typer.Option()] = DEFAULT_PORT,
    open_browser: Annotated[
        bool, typer.Option("--open", help="Open the login link in your browser.")
    ] = False,
    api_only: Annotated[
        bool,
        typer.Option(
            "--api-only",
            help="Leave step attempts to `accord worker` processes (Postgres only).",
        ),
    ] = False,
) -> None:
    """Serve the API and the browser monitor (prints a one-time login link on 127.0.0.1)."""
    from accord.server.serve import run_server  # the web stack loads only when serving

    if api_only:
        require_postgres("accord serve --api-only")
    run_server(host=host, port=port, open_browser=open_browser, run_steps=not api_only)
