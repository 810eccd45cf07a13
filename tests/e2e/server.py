"""A real `accord serve` in a subprocess (its own data directory, no provider keys), signed in
through the one-time login link it prints. Shared by the browser tests, `bench/ui.py` and
`bench/screenshots.py`."""

import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
STATIC_INDEX = ROOT / "src" / "accord" / "server" / "static" / "index.html"
CHROMIUM = os.environ.get("ACCORD_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LOGIN_LINK = re.compile(r"(http://\S+/login\?token=\S+)")
SCRUBBED_ENV = ("OPENAI_API_KEY", "OPENAI_BASE_URL", "ANTHROPIC_API_KEY", "ACCORD_DATABASE_URL")


class ServerError(RuntimeError):
    """The server did not come up; the message carries its output."""


@dataclass
class Server:
    base_url: str
    login_link: str
    process: subprocess.Popen[str]
    output: list[str]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextmanager
def running_server(data_dir: Path, log: Path | None = None) -> Iterator[Server]:
    """`accord serve` on a free port with `data_dir` as ACCORD_DATA_DIR, until the block ends."""
    if not STATIC_INDEX.is_file():
        raise ServerError(
            "the UI is not built: run ./dev setup (or cd ui && npm ci && npm run build)"
        )
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in SCRUBBED_ENV}
    env["ACCORD_DATA_DIR"] = str(data_dir)
    accord = shutil.which("accord", path=str(Path(sys.executable).parent)) or "accord"
    process = subprocess.Popen(
        [accord, "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output: list[str] = []
    found = threading.Event()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            output.append(line)
            if LOGIN_LINK.search(line):
                found.set()

    threading.Thread(target=read, daemon=True).start()
    try:
        if not found.wait(90):
            raise ServerError("accord serve printed no login link:\n" + "".join(output))
        link = next(m.group(1) for line in output if (m := LOGIN_LINK.search(line)))
        _wait_until_listening(port, process, output)
        yield Server(f"http://127.0.0.1:{port}", link, process, output)
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if log is not None:
            log.parent.mkdir(parents=True, exist_ok=True)
            log.write_text("".join(output))


def _wait_until_listening(port: int, process: subprocess.Popen[str], output: list[str]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServerError("accord serve exited:\n" + "".join(output))
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise ServerError("accord serve did not start listening:\n" + "".join(output))
