"""What a server instance needs to know: where the data is, where it listens, what it runs."""

import os
from dataclasses import dataclass, field
from pathlib import Path

from accord.domain.errors import AccordError
from accord.server.oidc import OidcSettings

STATIC_DIR = Path(__file__).parent / "static"
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


def _hours(variable: str, default: float) -> int:
    """A duration setting in hours (fractions allowed), as seconds."""
    text = os.environ.get(variable)
    if text is None:
        return int(default * 3600)
    try:
        hours = float(text)
    except ValueError:
        hours = -1.0
    if not 0 < hours < 10 * 365 * 24:
        raise AccordError(f"{variable}={text!r}: give a positive number of hours, such as 8 or 0.5")
    return int(hours * 3600)


def _oidc_from_env() -> "OidcSettings | None":
    """OpenID Connect sign-in when `ACCORD_OIDC_ISSUER` is set (with its client ID and
    secret); None otherwise."""
    issuer = os.environ.get("ACCORD_OIDC_ISSUER")
    if not issuer:
        return None
    missing = [
        name
        for name in ("ACCORD_OIDC_CLIENT_ID", "ACCORD_OIDC_CLIENT_SECRET")
        if not os.environ.get(name)
    ]
    if missing:
        raise AccordError(
            f"ACCORD_OIDC_ISSUER is set but {' and '.join(missing)} not: set them to the "
            "client this server is registered as at the provider"
        )
    return OidcSettings(
        issuer=issuer,
        client_id=os.environ["ACCORD_OIDC_CLIENT_ID"],
        client_secret=os.environ["ACCORD_OIDC_CLIENT_SECRET"],
        new_users=os.environ.get("ACCORD_OIDC_NEW_USERS", "").lower() in ("1", "true", "yes"),
    )


@dataclass(frozen=True)
class ServerSettings:
    database_url: str | None = None
    """None: the default (`ACCORD_DATABASE_URL`, else SQLite in the user's data directory)."""
    host: str = "127.0.0.1"
    port: int = 8765
    static_dir: Path = field(default=STATIC_DIR)
    run_engine: bool = True
    """Run an engine in this process, to start and control executions (off in tests of the
    API alone, where starting one answers 503)."""
    run_steps: bool = True
    """Run step attempts in this process. On Postgres they come from the shared queue, and
    turning this off (`accord serve --api-only`) leaves them to `accord worker` processes;
    on SQLite this process runs them all."""
    state_dir: Path | None = None
    """Where the engine keeps its executor ID and (on SQLite) DBOS's system database; None:
    the user's data directory."""
    event_poll_seconds: float = 0.15
    """How often the server looks for new rows in `execution_events` (events appended by this
    process wake it at once; this bounds the delay for other processes' events)."""
    max_body_bytes: int = field(
        default_factory=lambda: int(os.environ.get("ACCORD_MAX_BODY_BYTES", "1000000"))
    )
    """Request bodies over this many bytes get 413 (a hook checks its own limit)."""
    session_lifetime_seconds: int = field(
        default_factory=lambda: _hours("ACCORD_SESSION_LIFETIME_HOURS", 7 * 24)
    )
    """How long a browser session lasts after sign-in, however active
    (`ACCORD_SESSION_LIFETIME_HOURS`, default 7 days)."""
    session_idle_seconds: int = field(
        default_factory=lambda: _hours("ACCORD_SESSION_IDLE_HOURS", 12)
    )
    """A browser session unused this long has ended (`ACCORD_SESSION_IDLE_HOURS`, default
    12 hours). Use is recorded about once a minute, so this is exact to a minute."""
    oidc: OidcSettings | None = field(default_factory=_oidc_from_env)
    """Sign-in through an OpenID Connect provider (`accord.server.oidc`), if configured."""
    event_gap_grace_seconds: float = 2.0
    """How long a stream waits for a missing event ID to commit before taking it as a rolled
    back insert (see `accord.storage.repositories.events`)."""

    @property
    def is_local(self) -> bool:
        """Bound to this machine only: single-user local use with a first user made for you."""
        return self.host in LOOPBACK_HOSTS

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"
