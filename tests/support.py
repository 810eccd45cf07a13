"""Helpers for tests that drive real processes: a free port, polling with a deadline, an API
client once a server answers (stopping them: `accord.engine.testing.stop_all`)."""

import socket
import time
from collections.abc import Callable
from typing import TypeVar

import httpx

T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(what: str, check: Callable[[], T | None], timeout: float, every: float = 0.1) -> T:
    """`check()`'s first truthy answer, polled every `every` seconds; AssertionError naming
    `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def api_when_serving(port: int, token: str, timeout: float) -> httpx.Client:
    """An API client as the token's user, once the server on `port` answers it."""
    api = httpx.Client(
        base_url=f"http://127.0.0.1:{port}/api/v1",
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )

    def serving() -> bool:
        try:
            return api.get("/me").status_code == 200
        except httpx.TransportError:
            return False

    wait_for("the server", serving, timeout=timeout)
    return api
