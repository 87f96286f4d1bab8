"""A real local HTTP server that speaks the OpenAI and Anthropic wire formats, for tests.

`FakeLLMServer` listens on 127.0.0.1 (a free port) in a daemon thread and answers
`POST /v1/chat/completions` (OpenAI) and `POST /v1/messages` (Anthropic). Each request takes
the next scripted behaviour from a FIFO queue; an empty queue falls back to the default
behaviour (a successful reply). Every request is recorded.

    with FakeLLMServer() as server:
        server.enqueue(error(429, retry_after="3"), reply("# ok", input_tokens=5))
        client = AsyncOpenAI(base_url=server.openai_base_url, api_key="k", max_retries=0)
        ...
        assert server.requests[0].body["model"] == "gpt-test"

Behaviours (build them with these functions, pass them to `enqueue` or `set_default`):

- `reply(content, *, input_tokens, output_tokens, model)` — 200 with a well-formed completion
  in the format of the endpoint (usage included). `content` may be a callable taking the
  `RecordedRequest`, e.g. to echo the path found in the prompt.
- `error(status, message, *, retry_after, headers)` — an error status with the endpoint's JSON
  error body and a `Retry-After` header when `retry_after` is given.
- `garbage(body, *, status, content_type)` — a body that is not a completion (non-JSON by default).
- `delay(seconds, then)` — wait, then behave as `then`; `stop()` cuts the wait short.
- `block(gate, then)` — wait until the `threading.Event` `gate` is set (or the server stops).
- `close_connection()` — close the socket without sending any response.
- `huge(total_bytes, *, declare_length)` — a 200 whose body is `total_bytes` long, written in
  chunks; `bytes_served` counts what the client took before it hung up.

`set_default(behaviour_or_function)` changes what an empty queue does; a function receives
the `RecordedRequest` (with `.body`, `.headers`, `.user_prompt`, `.system_prompt`) and
returns a behaviour, e.g. `set_default(lambda r: reply(f"# {r.user_prompt}"))`.

Inspect `requests` (a snapshot list), `request_count`, `max_in_flight` (the most requests
handled at once) and `bytes_served` (body bytes written by `huge`); wait for traffic without
sleeping with `wait_for_requests(n, timeout=...)` (from async code: `await
asyncio.to_thread(server.wait_for_requests, n)`) and for quiet with `wait_until_idle()`.

Provider tests get a started server from the `llm_server` fixture in
`tests/engine/providers/conftest.py`; elsewhere, `from tests.fakes.llm_server import
FakeLLMServer` and use it as a context manager in a fixture of your own.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

OPENAI_PATH = "/v1/chat/completions"
ANTHROPIC_PATH = "/v1/messages"


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the server saw it; header names are lowercase."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any
    raw_body: bytes

    @property
    def wire(self) -> str:
        """`anthropic` for the messages endpoint, else `openai`."""
        return "anthropic" if self.path.startswith(ANTHROPIC_PATH) else "openai"

    @property
    def user_prompt(self) -> str | None:
        """The text of the last user message, in either wire format."""
        messages = self.body.get("messages") if isinstance(self.body, dict) else None
        users = [m for m in messages or [] if isinstance(m, dict) and m.get("role") == "user"]
        content = users[-1].get("content") if users else None
        return content if isinstance(content, str) else None

    @property
    def system_prompt(self) -> str | None:
        """The system prompt: Anthropic's `system` field or OpenAI's system message."""
        if not isinstance(self.body, dict):
            return None
        if self.wire == "anthropic":
            system = self.body.get("system")
            return system if isinstance(system, str) else None
        for message in self.body.get("messages") or []:
            if isinstance(message, dict) and message.get("role") == "system":
                content = message.get("content")
                return content if isinstance(content, str) else None
        return None


@dataclass(frozen=True)
class Behaviour:
    """What the server does with one request; build it with the functions below."""

    action: str
    status: int = 200
    content: str | Callable[[RecordedRequest], str] = "generated context"
    input_tokens: int = 11
    output_tokens: int = 7
    model: str | None = None
    message: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    content_type: str = "application/json"
    seconds: float = 0.0
    gate: threading.Event | None = None
    then: Behaviour | None = None
    total_bytes: int = 0
    declare_length: bool = True


def reply(
    content: str | Callable[[RecordedRequest], str] = "generated context",
    *,
    input_tokens: int = 11,
    output_tokens: int = 7,
    model: str | None = None,
) -> Behaviour:
    """A 200 with a completion holding `content`; `model` defaults to the one requested."""
    return Behaviour(
        "reply", content=content, input_tokens=input_tokens, output_tokens=output_tokens,
        model=model,
    )


def error(
    status: int,
    message: str = "fake error",
    *,
    retry_after: str | None = None,
    headers: dict[str, str] | None = None,
) -> Behaviour:
    """An error status with a JSON error body in the endpoint's format."""
    all_headers = dict(headers or {})
    if retry_after is not None:
        all_headers["Retry-After"] = retry_after
    return Behaviour("error", status=status, message=message, headers=all_headers)


def garbage(
    body: bytes = b"<html>upstream exploded</html>",
    *,
    status: int = 200,
    content_type: str = "text/html",
) -> Behaviour:
    """`body` sent as is with `status`."""
    return Behaviour("raw", status=status, body=body, content_type=content_type)


def delay(seconds: float, then: Behaviour | None = None) -> Behaviour:
    """Wait `seconds` (cut short by `stop()`), then behave as `then` (a reply by default)."""
    return Behaviour("delay", seconds=seconds, then=then or reply())


def block(gate: threading.Event, then: Behaviour | None = None) -> Behaviour:
    """Wait until `gate` is set (or the server stops), then behave as `then`."""
    return Behaviour("block", gate=gate, then=then or reply())


def close_connection() -> Behaviour:
    """Close the connection without writing a single byte of response."""
    return Behaviour("close")


def huge(total_bytes: int, *, declare_length: bool = True) -> Behaviour:
    """A 200 JSON-looking body of `total_bytes`; without `declare_length` it has no
    Content-Length and ends when the connection closes."""
    return Behaviour("huge", total_bytes=total_bytes, declare_length=declare_length)


HUGE_CHUNK_BYTES = 64 * 1024

DefaultBehaviour = Behaviour | Callable[[RecordedRequest], Behaviour]


class FakeLLMServer:
    """The server; use as a context manager or call `start()` and `stop()`."""

    def __init__(self) -> None:
        self._lock = threading.Condition()
        self._script: deque[Behaviour] = deque()
        self._default: DefaultBehaviour = reply()
        self._requests: list[RecordedRequest] = []
        self._in_flight = 0
        self.max_in_flight = 0
        self._bytes_served = 0
        self.stopping = threading.Event()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # lifecycle

    def start(self) -> FakeLLMServer:
        handler = type("BoundHandler", (_Handler,), {"fake": self})
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.02},
            name="fake-llm-server",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeLLMServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    # addresses

    @property
    def port(self) -> int:
        assert self._httpd is not None, "start the server first"
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        """`http://127.0.0.1:<port>`: the Anthropic SDK's `base_url` (it adds `/v1/messages`)."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def openai_base_url(self) -> str:
        """`<url>/v1`: the OpenAI SDK's `base_url` (it adds `/chat/completions`)."""
        return self.url + "/v1"

    @property
    def anthropic_base_url(self) -> str:
        return self.url

    # scripting

    def enqueue(self, *behaviours: Behaviour) -> None:
        """Append behaviours for the next requests, in order."""
        with self._lock:
            self._script.extend(behaviours)

    def set_default(self, behaviour: DefaultBehaviour) -> None:
        """What to do once the scripted queue is empty."""
        with self._lock:
            self._default = behaviour

    # inspection

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    @property
    def request_count(self) -> int:
        with self._lock:
            return len(self._requests)

    def wait_for_requests(self, count: int, *, timeout: float = 5.0) -> list[RecordedRequest]:
        """Block until at least `count` requests arrived; raise `TimeoutError` otherwise."""
        with self._lock:
            if not self._lock.wait_for(lambda: len(self._requests) >= count, timeout=timeout):
                raise TimeoutError(f"expected {count} requests, got {len(self._requests)}")
            return list(self._requests)

    @property
    def bytes_served(self) -> int:
        """Body bytes of `huge` responses written so far."""
        with self._lock:
            return self._bytes_served

    def wait_until_idle(self, *, timeout: float = 10.0) -> None:
        """Block until no request is being handled; raise `TimeoutError` otherwise."""
        with self._lock:
            if not self._lock.wait_for(lambda: self._in_flight == 0, timeout=timeout):
                raise TimeoutError(f"{self._in_flight} requests still in flight")

    # used by the handler

    def _served(self, count: int) -> None:
        with self._lock:
            self._bytes_served += count

    def _receive(self, request: RecordedRequest) -> Behaviour:
        with self._lock:
            self._requests.append(request)
            self._in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self._in_flight)
            self._lock.notify_all()
            if self._script:
                return self._script.popleft()
            default = self._default
        return default if isinstance(default, Behaviour) else default(request)

    def _finish(self) -> None:
        with self._lock:
            self._in_flight -= 1
            self._lock.notify_all()


class _Handler(BaseHTTPRequestHandler):
    fake: FakeLLMServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output quiet."""

    def do_GET(self) -> None:
        self._send_json(404, {"error": {"message": f"no route for GET {self.path}"}})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw_body = self.rfile.read(length) if length else b""
        request = RecordedRequest(
            method="POST",
            path=self.path,
            headers={name.lower(): value for name, value in self.headers.items()},
            body=_decode_json(raw_body),
            raw_body=raw_body,
        )
        behaviour = self.fake._receive(request)
        try:
            self._perform(behaviour, request)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (its timeout), which is what the test wanted
        finally:
            self.fake._finish()

    def _perform(self, behaviour: Behaviour, request: RecordedRequest) -> None:
        if behaviour.action in ("delay", "block"):
            self._wait(behaviour)
            assert behaviour.then is not None
            self._perform(behaviour.then, request)
        elif behaviour.action == "close":
            self.close_connection = True
        elif behaviour.action == "huge":
            self._send_huge(behaviour)
        elif behaviour.action == "raw":
            self._send_bytes(behaviour.status, behaviour.body, behaviour.content_type, {})
        elif behaviour.action == "error":
            body = _error_body(request.wire, behaviour.status, behaviour.message)
            self._send_json(behaviour.status, body, behaviour.headers)
        elif request.path not in (OPENAI_PATH, ANTHROPIC_PATH):
            self._send_json(404, _error_body(request.wire, 404, f"no route {request.path}"))
        else:
            self._send_json(200, _success_body(behaviour, request))

    def _send_huge(self, behaviour: Behaviour) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        if behaviour.declare_length:
            self.send_header("Content-Length", str(behaviour.total_bytes))
        else:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        chunk = b'{"pad": "' + b"x" * (HUGE_CHUNK_BYTES - 9)
        remaining = behaviour.total_bytes
        while remaining > 0 and not self.fake.stopping.is_set():
            piece = chunk[:remaining]
            self.wfile.write(piece)
            self.wfile.flush()
            self.fake._served(len(piece))
            remaining -= len(piece)

    def _wait(self, behaviour: Behaviour) -> None:
        if behaviour.gate is not None:
            while not behaviour.gate.wait(0.05) and not self.fake.stopping.is_set():
                pass
        else:
            self.fake.stopping.wait(behaviour.seconds)

    def _send_json(
        self, status: int, body: object, headers: dict[str, str] | None = None
    ) -> None:
        payload = json.dumps(body).encode()
        self._send_bytes(status, payload, "application/json", headers or {})

    def _send_bytes(
        self, status: int, payload: bytes, content_type: str, headers: dict[str, str]
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)
        self.wfile.flush()


def _decode_json(raw_body: bytes) -> Any:
    try:
        return json.loads(raw_body) if raw_body else None
    except ValueError:
        return None


def _success_body(behaviour: Behaviour, request: RecordedRequest) -> dict[str, Any]:
    content = behaviour.content(request) if callable(behaviour.content) else behaviour.content
    requested = request.body.get("model") if isinstance(request.body, dict) else None
    model = behaviour.model or requested or "fake-model"
    if request.wire == "anthropic":
        return {
            "id": "msg_fake",
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": [{"type": "text", "text": content}],
            "stop_reason": "end_turn",
            "stop_sequence": None,
            "usage": {
                "input_tokens": behaviour.input_tokens,
                "output_tokens": behaviour.output_tokens,
            },
        }
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": 1_700_000_000,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": "stop",
            }
        ],
        "usage": {
            "prompt_tokens": behaviour.input_tokens,
            "completion_tokens": behaviour.output_tokens,
            "total_tokens": behaviour.input_tokens + behaviour.output_tokens,
        },
    }


def _error_body(wire: str, status: int, message: str) -> dict[str, Any]:
    if wire == "anthropic":
        kinds = {400: "invalid_request_error", 401: "authentication_error", 404: "not_found_error",
                 429: "rate_limit_error", 529: "overloaded_error"}
        return {"type": "error", "error": {"type": kinds.get(status, "api_error"),
                                           "message": message}}
    return {"error": {"message": message, "type": "fake_error", "param": None,
                      "code": str(status)}}
