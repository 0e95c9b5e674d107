"""``sfnlab serve``: the Step Functions JSON protocol over HTTP, answered by one local account.

The AWS CLI and every SDK can then talk to sfnlab::

    sfnlab serve --port 8083 &
    aws stepfunctions --endpoint-url http://localhost:8083 list-state-machines
    aws stepfunctions --endpoint-url http://localhost:8083 send-task-success --task-token T --task-output '{}'

Requests whose ``X-Amz-Target`` is ``AWSStepFunctions.<Operation>`` go to the account's
:class:`~sfnlab.backend.Backend`; every other request (SQS, SNS, DynamoDB, S3, ...) is passed on to
the local AWS services the state machines use (see :mod:`sfnlab.services`), so one endpoint URL
serves both. One extension: ``X-Amz-Target: SfnLab.AdvanceClock`` with ``{"seconds": N}`` lets
virtual time pass (timeouts and heartbeats fire), answering ``{"now": <epoch seconds>}``.

Many clients at once (a classroom): every connection has its own thread, which reads the whole
request first and then answers it while holding the account's lock, so the account sees one
call at a time and a slow or silent client holds only its own thread (and only until its socket
timeout). Requests AWS would refuse before the service sees them (too large, not JSON, wrong
member types) get AWS's answers, see :mod:`sfnlab.wire`.

There is no authentication. Bound to loopback (the default), the server also refuses requests
a web page could make it run: a ``Host`` that is not a loopback name (DNS rebinding) or an
``Origin`` of another site. Binding to another address exposes the account, and the local AWS
services behind it, to the network: ``sfnlab serve`` warns when it does.
"""
from __future__ import annotations

import http.client
import ipaddress
import json
import socket
import sys
import threading
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from . import wire
from .backend import ApiError

__all__ = ["is_loopback", "make_server", "serve"]

_SFN_PREFIX = "AWSStepFunctions."
_CORAL_SERVICE = "com.amazon.coral.service"
_JSON = "application/x-amz-json-1.0"
_FORWARD_MAX_BYTES = 64 * 1024 * 1024  # other services (S3 uploads) take larger bodies; memory still bounds them
_DRAIN_MAX_BYTES = 8 * 1024 * 1024     # read and drop this much of a refused body so the client sees the answer
_CHUNK = 64 * 1024


def is_loopback(host: str | None) -> bool:
    """Whether ``host`` (a name or address, optionally ``[v6]``) only reaches this machine."""
    name = (host or "").strip().strip("[]").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


class _Refusal(Exception):
    """An answer given instead of handling the request; the connection is closed after it."""

    def __init__(self, status: int, body: bytes, content_type: str = _JSON) -> None:
        super().__init__(status)
        self.status, self.body, self.content_type = status, body, content_type


def _error_body(code: str, message: str | None = None, namespace: str = _CORAL_SERVICE) -> bytes:
    return json.dumps(ApiError(code, message, namespace=namespace).body(), ensure_ascii=False).encode()


def _too_large(limit: int) -> _Refusal:
    text = wire.TOO_LARGE_TEXT if limit == wire.MAX_BODY_BYTES else f"HTTP content length exceeded {limit} bytes."
    return _Refusal(413, text.encode(), "text; charset=utf-8")


class _Server(ThreadingHTTPServer):
    """A thread per connection, at most ``max_connections`` at once.

    Past the cap the server stops accepting until a connection ends: the next ones wait in the
    listen backlog instead of each getting a thread, so many idle or slow clients (each may hold
    a thread up to the socket timeout) cannot exhaust the process.
    """

    daemon_threads = True
    request_queue_size = 128  # a classroom connecting at once must not overflow the listen backlog

    def __init__(self, address: tuple[str, int], handler: Any, max_connections: int) -> None:
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        self._slots = threading.BoundedSemaphore(max_connections)
        self._stopping = False
        super().__init__(address, handler)

    def shutdown(self) -> None:
        self._stopping = True  # an accept waiting for a slot gives up (see process_request)
        super().shutdown()

    def process_request(self, request: Any, client_address: Any) -> None:
        # Taken here, in the accepting thread, so that accepting pauses while every slot is busy.
        while not self._slots.acquire(timeout=0.5):
            if self._stopping:
                self.shutdown_request(request)
                return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._slots.release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()


def make_server(host: str = "127.0.0.1", port: int = 8083, client: Any = None, *, timeout: float = 30.0,
                max_connections: int = 100, **client_options: Any):
    """An HTTP server (not yet serving) in front of ``client``'s account, or a new ``sfnlab.client()``.

    Args:
        host: the address to listen on; anything but loopback exposes the account (no auth).
        port: the port; 0 picks a free one.
        client: an ``sfnlab.client()`` whose account answers; by default a new one.
        timeout: seconds a connection may stay silent (and the most a request body may take to
            arrive, times two) before its thread gives up on it.
        max_connections: connections served at once, each by a thread; more wait to be accepted.

    Returns the ``ThreadingHTTPServer``; ``server.server_address`` holds the port actually bound
    and ``server.sfn`` the client.
    """
    if client is None:
        from . import client as make_client

        client = make_client(**client_options)
    backend = client.sfnlab
    lock = threading.Lock()  # the account is not thread-safe: one call at a time
    local_only = is_loopback(host)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self) -> None:
            self.timeout = timeout  # type: ignore[misc]  # the socket timeout StreamRequestHandler applies, per instance
            super().setup()
            # Headers and body leave in two writes: without this, Nagle's algorithm holds the body
            # until the client's delayed ACK (40 ms on Linux) for every answer.
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def log_message(self, *args: Any) -> None:  # quiet: the CLI prints its own line
            pass

        def _answer(self, status: int, body: bytes, content_type: str = _JSON, headers: dict | None = None,
                    *, close: bool = False) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            if close:
                self.send_header("Connection", "close")
                self.close_connection = True
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        # -- reading a request ------------------------------------------------------------------
        def _refuse_foreign_caller(self) -> None:
            """Bound to loopback, answer only loopback names and no other site's web pages."""
            if not local_only:
                return
            host = self.headers.get("Host")
            if host is not None and not is_loopback(urlsplit("//" + host).hostname):
                raise _Refusal(403, _error_body("AccessDeniedException",
                                                f"sfnlab serve answers only loopback names, not Host '{host}'"))
            origin = self.headers.get("Origin")
            if origin is not None and not is_loopback(urlsplit(origin).hostname):
                raise _Refusal(403, _error_body("AccessDeniedException",
                                                f"sfnlab serve answers no web page from Origin '{origin}'"))

        def _read_body(self, limit: int) -> bytes:
            deadline = time.monotonic() + 2 * timeout
            if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
                return self._read_chunked(limit, deadline)
            lengths = set(self.headers.get_all("Content-Length") or [])
            if not lengths:
                return b""  # HTTP/1.1: a request with neither length nor chunks has no body
            text = lengths.pop().strip()
            if lengths or not text.isdigit():
                raise _Refusal(400, b"Bad Request: invalid Content-Length", "text/plain; charset=utf-8")
            length = int(text)
            if length > limit:
                self._drain(length)
                raise _too_large(limit)
            return self._read_exactly(length, deadline)

        def _read_exactly(self, length: int, deadline: float) -> bytes:
            parts, missing = [], length
            while missing:
                if time.monotonic() > deadline:
                    raise _Refusal(408, _error_body("RequestTimeoutException", "the request body arrived too slowly"))
                part = self.rfile.read1(min(missing, _CHUNK))  # one recv: a trickle cannot pass the deadline
                if not part:
                    raise ConnectionAbortedError("the client closed the connection mid-request")
                parts.append(part)
                missing -= len(part)
            return b"".join(parts)

        def _read_chunked(self, limit: int, deadline: float) -> bytes:
            parts: list[bytes] = []
            total = 0
            while True:
                size_line = self.rfile.readline(1024).split(b";", 1)[0].strip()
                try:
                    size = int(size_line, 16)
                except ValueError:
                    raise _Refusal(400, b"Bad Request: invalid chunk size", "text/plain; charset=utf-8") from None
                if size == 0:
                    while self.rfile.readline(1024).strip():  # trailers
                        pass
                    return b"".join(parts)
                total += size
                if total > limit:
                    raise _too_large(limit)
                parts.append(self._read_exactly(size, deadline))
                self.rfile.readline(16)  # the CRLF after each chunk

        def _drain(self, length: int) -> None:
            """Read (and drop) a refused body, so the client reads the refusal instead of a reset."""
            missing = min(length, _DRAIN_MAX_BYTES)
            try:
                while missing > 0:
                    part = self.rfile.read1(min(missing, _CHUNK))
                    if not part:
                        return
                    missing -= len(part)
            except OSError:
                pass

        # -- answering --------------------------------------------------------------------------
        def _handle(self) -> None:
            try:
                target = self.headers.get("X-Amz-Target", "")
                ours = target.startswith(_SFN_PREFIX) or target == "SfnLab.AdvanceClock"
                body = self._read_body(wire.MAX_BODY_BYTES if ours else _FORWARD_MAX_BYTES)
                self._refuse_foreign_caller()  # after the body: a refusal read in full, not reset
                if target.startswith(_SFN_PREFIX):
                    self._step_functions(target[len(_SFN_PREFIX):], body)
                elif ours:
                    self._advance_clock(body)
                else:
                    self._forward(body)
            except _Refusal as refusal:
                self._answer(refusal.status, refusal.body, refusal.content_type, close=True)
            except (ConnectionError, TimeoutError):
                self.close_connection = True  # the client went away or fell silent: nobody to answer

        def _step_functions(self, operation: str, body: bytes) -> None:
            with lock:
                try:
                    params = wire.decode_body(body)
                    model = backend.service_model
                    if operation in model.operation_names:
                        wire.check_request(model.operation_model(operation), params)
                    status, answer = backend.respond(operation, params)
                except ApiError as exc:
                    status, answer = exc.status, exc.body()
                except Exception:  # a bug in sfnlab: say so, and keep serving the others
                    traceback.print_exc(file=sys.stderr)
                    status, answer = 500, ApiError("InternalFailure", None, namespace=_CORAL_SERVICE).body()
                request_id = backend.request_id()
            self._answer(status, json.dumps(answer, ensure_ascii=False).encode(), headers={"x-amzn-RequestId": request_id})

        def _advance_clock(self, body: bytes) -> None:
            try:
                seconds = wire.decode_body(body).get("seconds", 0)
                if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
                    raise ApiError("ValidationException", "seconds must be a number", namespace=None)
                with lock:
                    try:
                        now = backend.advance_clock(float(seconds))
                    except ValueError as exc:
                        raise ApiError("ValidationException", str(exc), namespace=None) from None
            except ApiError as exc:
                self._answer(exc.status, json.dumps(exc.body()).encode())
                return
            self._answer(200, json.dumps({"now": now}).encode())

        def _forward(self, body: bytes) -> None:
            """Pass a request for another AWS service on to the local services."""
            try:
                with lock:  # the first use starts the local services; one thread does it
                    url = urlsplit(backend.services.endpoint_url() or "")
            except Exception as exc:
                self._answer(500, _error_body("InternalFailure", f"the local AWS services did not start: {exc}"))
                return
            if not url.hostname:
                self._answer(400, _error_body("UnknownOperationException"))
                return
            headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")}
            headers["x-moto-account-id"] = backend.account
            conn = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
            try:
                conn.request(self.command, self.path, body=body or None, headers=headers)
                reply = conn.getresponse()
                data = reply.read()
            except OSError as exc:
                self._answer(502, _error_body("ServiceUnavailable", f"the local AWS services did not answer: {exc}"))
                return
            finally:
                conn.close()
            self.send_response(reply.status)
            length = str(len(data))
            for key, value in reply.getheaders():
                lowered = key.lower()
                if lowered == "content-length" and self.command == "HEAD":
                    length = value  # HEAD: the size of the body that was not sent
                elif lowered not in ("content-length", "transfer-encoding", "connection", "server", "date"):
                    self.send_header(key, value)
            self.send_header("Content-Length", length)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        do_POST = do_GET = do_PUT = do_DELETE = do_HEAD = _handle

    if max_connections < 1:
        raise ValueError(f"max_connections must be at least 1, not {max_connections}")
    server = _Server((host, port), Handler, max_connections)
    server.sfn = client  # type: ignore[attr-defined]
    return server


def serve(host: str = "127.0.0.1", port: int = 8083, *, announce: Any = None, **client_options: Any) -> None:
    """Serve until interrupted; ``announce(host, port)`` is called once the socket listens."""
    server = make_server(host, port, **client_options)
    if announce is not None:
        announce(*server.server_address[:2])
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
