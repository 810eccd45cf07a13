"""A real HTTP server on 127.0.0.1 that answers model API requests from a script.

The vendor servers (`FakeOpenAIServer`, `FakeAnthropicServer`) say how a reply looks on the
wire; this module does the rest: a free port, a thread, the script, the request log and the
injected faults. The real SDK clients talk to it over HTTP, so their retries, timeouts and
parsing are what gets tested.
"""

import contextlib
import json
import select
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar, Self

from accord.llm.testing.script import Fault, Reply, ScriptEntry


class RecordedRequest:
    """One request the server received: its path, headers and JSON body."""

    def __init__(self, path: str, headers: dict[str, str], body: dict[str, Any]) -> None:
        self.path = path
        self.headers = headers
        self.body = body

    def __repr__(self) -> str:
        return f"RecordedRequest({self.path!r}, model={self.body.get('model')!r})"


class ScriptedModelServer:
    """Base of the fake vendor servers. Use as a context manager, or call `start`/`stop`."""

    api_path: ClassVar[str]
    vendor: ClassVar[str]

    def __init__(
        self,
        script: Iterable[ScriptEntry] = (),
        *,
        responder: Callable[[dict[str, Any]], ScriptEntry] | None = None,
    ) -> None:
        """`script` answers the first requests in order; once it is used up, `responder` (if
        given) answers each further request from its JSON body, e.g. `offline_responder()`."""
        self._script: deque[ScriptEntry] = deque(script)
        self._responder = responder
        self._lock = threading.Lock()
        self.requests: list[RecordedRequest] = []
        self.disconnects = 0
        """Requests whose client closed the connection while the server was still working on
        them (during a `Fault.delay`): what a client that cancels a timed-out request does."""
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- what a vendor server defines -------------------------------------------------

    def reply_body(self, reply: Reply, request: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError

    def reply_events(self, reply: Reply, request: dict[str, Any]) -> Iterator[bytes]:
        """The reply as server-sent events, for a request with `"stream": true`."""
        raise NotImplementedError

    def error_body(self, status: int, message: str) -> dict[str, Any]:
        raise NotImplementedError

    # -- the script ---------------------------------------------------------------------

    def add(self, *entries: ScriptEntry) -> None:
        """Append answers to the script (e.g. between two agent runs)."""
        with self._lock:
            self._script.extend(entries)

    def received(self, count: int, *, within: float = 2.0) -> int:
        """How many requests have arrived, waiting up to `within` seconds for `count` of them:
        a client that timed out may have moved on before the server got to its request."""
        deadline = time.monotonic() + within
        while len(self.requests) < count and time.monotonic() < deadline:
            time.sleep(0.01)
        return len(self.requests)

    @property
    def remaining(self) -> int:
        with self._lock:
            return len(self._script)

    def _next_entry(self) -> ScriptEntry | None:
        with self._lock:
            return self._script.popleft() if self._script else None

    # -- lifecycle ----------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """The URL to give the SDK client (OpenAI: with `/v1`; Anthropic: without)."""
        if self._server is None:
            raise RuntimeError(f"{type(self).__name__} is not started")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}{self.base_path}"

    base_path: ClassVar[str] = ""

    def start(self) -> Self:
        server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        server.daemon_threads = True
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- answering ----------------------------------------------------------------------

    def _answer(self, handler: BaseHTTPRequestHandler, body: dict[str, Any]) -> None:
        entry = self._next_entry()
        if entry is None and self._responder is not None:
            entry = self._responder(body)
        if entry is None:
            self._send_json(
                handler,
                400,
                self.error_body(400, f"{type(self).__name__}: the script has no more answers"),
            )
            return
        if isinstance(entry, Reply):
            self._send_reply(handler, entry, body)
            return
        self._inject(handler, entry, body)

    def _inject(self, handler: BaseHTTPRequestHandler, fault: Fault, body: dict[str, Any]) -> None:
        match fault.kind:
            case "status":
                headers = {}
                if fault.retry_after is not None:
                    headers["retry-after"] = str(max(1, round(fault.retry_after)))
                    headers["retry-after-ms"] = str(int(fault.retry_after * 1000))
                message = fault.message or f"injected HTTP {fault.status}"
                self._send_json(
                    handler, fault.status, self.error_body(fault.status, message), headers
                )
            case "delay":
                if self._client_left_within(handler, fault.delay_seconds):
                    with self._lock:
                        self.disconnects += 1
                    return
                if fault.then is not None:
                    self._send_reply(handler, fault.then, body)
            case "drop" if body.get("stream"):
                events = list(self.reply_events(Reply(text="cut short " * 20), body))
                self._start_events(handler)
                for event in events[: len(events) // 2]:
                    _write_chunk(handler, event)
                _drop(handler)  # before the last chunk: the client sees a broken stream
            case "drop":
                payload = json.dumps(self.reply_body(Reply(text="cut short"), body)).encode()
                handler.send_response(200)
                handler.send_header("content-type", "application/json")
                handler.send_header("content-length", str(len(payload)))
                handler.end_headers()
                handler.wfile.write(payload[: len(payload) // 3])
                handler.wfile.flush()
                _drop(handler)
            case "malformed_json" if body.get("stream"):
                self._start_events(handler)
                _write_chunk(handler, b"event: message_start\ndata: {this is not json\n\n")
                _write_chunk(handler, b"")
            case "malformed_json":
                payload = b'{"id": "broken", "choices": [ this is not json'
                handler.send_response(200)
                handler.send_header("content-type", "application/json")
                handler.send_header("content-length", str(len(payload)))
                handler.end_headers()
                handler.wfile.write(payload)

    @staticmethod
    def _client_left_within(handler: BaseHTTPRequestHandler, seconds: float) -> bool:
        """Work for `seconds`, as a busy server does, watching whether the client closes the
        connection meanwhile (then the socket reads as ended, or fails)."""
        deadline = time.monotonic() + seconds
        connection = handler.connection
        while (left := deadline - time.monotonic()) > 0:
            readable, _, _ = select.select([connection], [], [], min(left, 0.02))
            if readable:
                try:
                    if connection.recv(1, socket.MSG_PEEK) == b"":
                        return True
                except OSError:
                    return True
                time.sleep(min(left, 0.02))  # a pipelined request: not a close
        return False

    @staticmethod
    def _start_events(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("content-type", "text/event-stream")
        handler.send_header("cache-control", "no-cache")
        handler.send_header("transfer-encoding", "chunked")
        handler.end_headers()

    def _send_reply(
        self, handler: BaseHTTPRequestHandler, reply: Reply, body: dict[str, Any]
    ) -> None:
        if body.get("stream"):
            self._start_events(handler)
            for event in self.reply_events(reply, body):
                _write_chunk(handler, event)
            _write_chunk(handler, b"")
            return
        self._send_json(handler, 200, self.reply_body(reply, body))

    @staticmethod
    def _send_json(
        handler: BaseHTTPRequestHandler,
        status: int,
        payload: dict[str, Any],
        headers: dict[str, str] | None = None,
    ) -> None:
        data = json.dumps(payload).encode()
        handler.send_response(status)
        handler.send_header("content-type", "application/json")
        handler.send_header("content-length", str(len(data)))
        for name, value in (headers or {}).items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(data)


def sse(data: dict[str, Any] | str, event: str | None = None) -> bytes:
    """One server-sent event."""
    text = data if isinstance(data, str) else json.dumps(data)
    prefix = f"event: {event}\n" if event else ""
    return f"{prefix}data: {text}\n\n".encode()


def _write_chunk(handler: BaseHTTPRequestHandler, data: bytes) -> None:
    """One chunk of a chunked body; the empty chunk ends the body."""
    handler.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
    handler.wfile.flush()


def _drop(handler: BaseHTTPRequestHandler) -> None:
    """Close the connection abruptly, mid-response."""
    handler.close_connection = True
    with contextlib.suppress(OSError):
        handler.connection.shutdown(socket.SHUT_RDWR)


def _handler_for(server: ScriptedModelServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:  # noqa: N802 (the http.server naming)
            length = int(self.headers.get("content-length") or 0)
            raw = self.rfile.read(length) if length else b"{}"
            try:
                body = json.loads(raw)
            except json.JSONDecodeError:
                body = {}
            server.requests.append(
                RecordedRequest(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
            )
            if not self.path.split("?")[0].endswith(server.api_path):
                message = f"{type(server).__name__} serves {server.api_path}, not {self.path}"
                server._send_json(self, 404, server.error_body(404, message))
                return
            # The client may give up (e.g. time out) before the answer is written.
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                server._answer(self, body)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep test output quiet

    return Handler
