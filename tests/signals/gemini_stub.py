"""A local stand-in for the Gemini REST API (`POST /v1beta/models/{model}:generateContent`).

Serves a script of replies in order (the last one repeats), records every request, binds
127.0.0.1 on an ephemeral port in a daemon thread, and stops on leaving the `with` block or,
at the latest, after `lifetime_s`.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

PATH = re.compile(r"^/v1beta/models/[A-Za-z0-9._-]+:generateContent$")
NOT_FOUND = {"error": {"code": 404, "message": "unknown path", "status": "NOT_FOUND"}}
NO_KEY = {"error": {"code": 403, "message": "missing API key", "status": "PERMISSION_DENIED"}}


@dataclass(frozen=True)
class StubReply:
    status: int = 200
    body: Any = None
    delay_s: float = 0.0
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: str

    def json(self) -> Any:
        return json.loads(self.body)


def answer(
    text: str,
    *,
    finish_reason: str = "STOP",
    prompt_tokens: int = 900,
    output_tokens: int = 300,
    thoughts_tokens: int = 0,
) -> StubReply:
    """A generateContent answer whose single candidate says `text`."""
    usage = {
        "promptTokenCount": prompt_tokens,
        "candidatesTokenCount": output_tokens,
        "totalTokenCount": prompt_tokens + output_tokens + thoughts_tokens,
    }
    if thoughts_tokens:
        usage["thoughtsTokenCount"] = thoughts_tokens
    body = {
        "candidates": [
            {
                "content": {"role": "model", "parts": [{"text": text}]},
                "finishReason": finish_reason,
                "index": 0,
            }
        ],
        "usageMetadata": usage,
        "modelVersion": "stub",
    }
    return StubReply(200, body)


def error(status: int, name: str, message: str = "stub error", **headers: str) -> StubReply:
    """A Google API error body, e.g. `error(429, "RESOURCE_EXHAUSTED")`."""
    body = {"error": {"code": status, "message": message, "status": name}}
    return StubReply(status, body, headers={k.replace("_", "-"): v for k, v in headers.items()})


class GeminiStub:
    """`with GeminiStub([...]) as stub:` then point the SDK at `stub.base_url`."""

    def __init__(self, replies: list[StubReply], *, lifetime_s: float = 30.0) -> None:
        if not replies:
            raise ValueError("the stub needs at least one reply")
        self._replies = list(replies)
        self._lock = threading.Lock()
        self._released = threading.Event()
        self._lifetime_s = lifetime_s
        self.requests: list[RecordedRequest] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._timer = threading.Timer(lifetime_s, self.stop)
        self._timer.daemon = True

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/"

    @property
    def hits(self) -> int:
        with self._lock:
            return len(self.requests)

    def _next(self, request: RecordedRequest) -> StubReply:
        with self._lock:
            self.requests.append(request)
            return self._replies.pop(0) if len(self._replies) > 1 else self._replies[0]

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length).decode()
                headers = {k.lower(): v for k, v in self.headers.items()}
                reply = stub._next(RecordedRequest("POST", self.path, headers, body))
                if not PATH.match(self.path):
                    reply = StubReply(404, NOT_FOUND)
                elif not headers.get("x-goog-api-key"):
                    reply = StubReply(403, NO_KEY)
                if reply.delay_s and stub._released.wait(reply.delay_s):
                    return
                payload = reply.body if isinstance(reply.body, str) else json.dumps(reply.body)
                data = payload.encode()
                try:
                    self.send_response(reply.status)
                    self.send_header("content-type", "application/json; charset=UTF-8")
                    self.send_header("content-length", str(len(data)))
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout test)

            def log_message(self, format: str, *args: Any) -> None:
                return

        return Handler

    def start(self) -> GeminiStub:
        self._thread.start()
        self._timer.start()
        return self

    def stop(self) -> None:
        self._released.set()
        self._timer.cancel()
        if self._thread.is_alive():
            self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> GeminiStub:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
        self._thread.join(timeout=5)
