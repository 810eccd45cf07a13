"""`/healthz` and `/readyz` as a load balancer asks them, on the small server a worker runs:
ready only when the database answers at the latest migration and the engine runs, and a
precise reason when not."""

import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from support import free_port

from accord.domain.errors import AccordError
from accord.server.probes import ProbeServer
from accord.storage.db import Database


def probes(db: Database) -> Iterator[str]:
    server = ProbeServer(db, None, host="127.0.0.1", port=0)  # no engine running
    server.start()
    try:
        yield f"http://127.0.0.1:{server.port}"
    finally:
        server.stop()
        db.dispose()


@pytest.fixture
def unmigrated(tmp_path: Path) -> Iterator[str]:
    yield from probes(Database(f"sqlite:///{tmp_path / 'new.db'}"))


@pytest.fixture
def unreachable() -> Iterator[str]:
    # Nothing listens on this port: a database server that is down.
    url = f"postgresql+psycopg://accord@127.0.0.1:{free_port()}/accord?connect_timeout=2"
    yield from probes(Database(url))


def test_a_database_behind_on_migrations_is_not_ready_and_says_how_to_fix_it(
    unmigrated: str,
) -> None:
    assert httpx.get(f"{unmigrated}/healthz").json() == {"status": "ok"}
    response = httpx.get(f"{unmigrated}/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "not ready"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["migrations"].startswith("at none, not at the latest")
    assert body["checks"]["migrations"].endswith("run accord db upgrade")
    assert body["checks"]["engine"] == "not running"


def test_an_unreachable_database_is_not_ready_while_the_process_stays_alive(
    unreachable: str,
) -> None:
    assert httpx.get(f"{unreachable}/healthz").status_code == 200
    response = httpx.get(f"{unreachable}/readyz", timeout=15)
    assert response.status_code == 503
    assert response.json()["checks"]["database"].startswith("unreachable: OperationalError")
    # The metrics still answer: a scraper sees the process even when its database does not.
    metrics = httpx.get(f"{unreachable}/metrics")
    assert metrics.status_code == 200 and "accord_step_attempts_total" in metrics.text


def test_a_port_in_use_is_refused_with_what_to_do(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'any.db'}")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        server = ProbeServer(db, None, host="127.0.0.1", port=port)
        with pytest.raises(AccordError, match=f"127.0.0.1:{port}.*--metrics-port"):
            server.start()
    db.dispose()
