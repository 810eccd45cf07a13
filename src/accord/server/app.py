"""The FastAPI application: `create_app(settings)`.

The lifespan opens the database and migrates it, installs the system templates, makes the
local user on a loopback bind, starts the event hub that feeds the live streams, and runs the
engine in this process until shutdown (on Postgres, its step attempts go through the
shared queue that `accord worker` processes also serve), and serves the MCP endpoint
(`/mcp`) beside the API. Routes validate input,
call the library and let `accord.server.errors` turn failures into the one error shape.
"""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from anyio import to_thread
from fastapi import APIRouter, Depends, FastAPI
from starlette.routing import Route

from accord.domain.errors import AccordError
from accord.domain.ports import StepPerformer
from accord.engine.queue import AttemptQueue
from accord.engine.service import Engine
from accord.server import browser, probes
from accord.server.access import declare_permissions
from accord.server.errors import install_error_handlers
from accord.server.event_feed import EventHub
from accord.server.mcp_endpoint import MCP_PATH, McpEndpoint, McpHttp
from accord.server.oidc import OidcClient
from accord.server.routes import (
    agents,
    approvals,
    events,
    executions,
    files,
    hooks,
    knowledge,
    mcp_servers,
    me,
    metrics,
    projects,
    providers,
    questions,
    reports,
    sessions,
    templates,
    tokens,
    triggers,
    users,
    workflows,
)
from accord.server.settings import ServerSettings
from accord.server.sign_in_limit import SignInLimit
from accord.server.strict import strict_body
from accord.storage.db import Database
from accord.storage.live_text import live_text
from accord.storage.permissions import exposed_data, exposure_warning
from accord.storage.repositories.users import ensure_local_user
from accord.team import AgentTeam, install_system_templates

API_PREFIX = "/api/v1"


def prepare_database(settings: ServerSettings) -> Database:
    """Open the database, migrate it, install the system templates and, on a loopback bind,
    make sure the local user exists (all idempotent)."""
    db = Database(settings.database_url)
    found = exposed_data(db.url)
    if found:
        logging.getLogger(__name__).warning(exposure_warning(found))
    db.upgrade()
    with db.session() as session:
        install_system_templates(session)
        if settings.is_local:
            ensure_local_user(session)
    return db


def create_app(
    settings: ServerSettings | None = None,
    *,
    performer: StepPerformer | None = None,
    setup_token: str | None = None,
) -> FastAPI:
    """`performer` does the steps of executions this process runs (default: the agent team,
    on each agent's provider or the offline model; tests pass the engine's
    `LatencyPerformer`). `setup_token` lets whoever holds it make the first administrator
    while the server has no users (`POST /api/v1/setup`)."""
    settings = settings or ServerSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        db = await to_thread.run_sync(prepare_database, settings)
        app.state.db = db
        app.state.engine = None
        hub = EventHub(
            db,
            poll_seconds=settings.event_poll_seconds,
            grace_seconds=settings.event_gap_grace_seconds,
            live=live_text(db),
        )
        app.state.event_hub = hub
        await hub.start()
        app.state.metrics_registry = probes.database_registry(db)
        try:
            if settings.run_engine:
                # On Postgres, attempts go through the shared queue, so workers can help.
                queue = (
                    None if db.is_sqlite else AttemptQueue.from_env(run_steps=settings.run_steps)
                )
                if db.is_sqlite and not settings.run_steps:
                    raise AccordError(
                        "--api-only needs Postgres, where accord worker processes run the "
                        "steps: set ACCORD_DATABASE_URL to a postgresql:// URL"
                    )
                engine = Engine(
                    db,
                    performer or AgentTeam(db),
                    state_dir=settings.state_dir,
                    queue=queue,
                    role="serve",
                )
                await engine.start()
                app.state.engine = engine
            app.state.mcp = McpHttp(db, app.state.engine, settings)
            async with app.state.mcp.run():
                yield
        finally:
            if app.state.engine is not None:
                await app.state.engine.stop()
            await hub.stop()
            db.dispose()

    app = FastAPI(
        title="Accord",
        summary="Teams of LLM agents running durable workflows.",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.setup_token = setup_token
    app.state.sign_in_limit = SignInLimit()
    app.state.oidc = None if settings.oidc is None else OidcClient(settings.oidc)
    app.state.wants_engine = settings.run_engine  # /readyz: an engine must be running
    install_error_handlers(
        app, not_found_page=lambda request: browser.ui_response(request, settings.static_dir)
    )

    # Bodies over the limit get 413 before they are read whole (a hook sets its own limit).
    api = APIRouter(
        prefix=API_PREFIX,
        dependencies=[Depends(strict_body)],
        max_body_size=settings.max_body_bytes,
    )
    for module in (
        me,
        sessions,
        users,
        tokens,
        providers,
        agents,
        projects,
        templates,
        workflows,
        executions,
        files,
        mcp_servers,
        reports,
        metrics,
        knowledge,
        questions,
        approvals,
        events,
        triggers,
        hooks,
    ):
        declare_permissions(module.router)
        api.include_router(module.router)
    app.include_router(api)
    app.router.routes.append(Route(MCP_PATH, McpEndpoint(), include_in_schema=False))
    app.router.routes.extend(probes.ROUTES)
    app.include_router(browser.router)
    return app
