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

Requests are answered one at a time (the account is not thread-safe).
"""
from __future__ import annotations

import http.client
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

__all__ = ["make_server", "serve"]

_SFN_PREFIX = "AWSStepFunctions."


def make_server(host: str = "127.0.0.1", port: int = 8083, client: Any = None, **client_options: Any):
    """An HTTP server (not yet serving) in front of ``client``'s account, or a new ``sfnlab.client()``.

    Returns the ``ThreadingHTTPServer``; ``server.server_address`` holds the port actually bound
    (pass ``port=0`` for a free one) and ``server.sfn`` the client.
    """
    if client is None:
        from . import client as make_client

        client = make_client(**client_options)
    backend = client.sfnlab
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:  # quiet: the CLI prints its own line
            pass

        def _answer(self, status: int, body: bytes, content_type: str = "application/x-amz-json-1.0",
                    headers: dict | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(body)

        def _body(self) -> bytes:
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length else b""

        def _handle(self) -> None:
            target = self.headers.get("X-Amz-Target", "")
            body = self._body()
            if target.startswith(_SFN_PREFIX):
                params = json.loads(body or b"{}")
                with lock:
                    status, answer = backend.respond(target[len(_SFN_PREFIX):], params)
                    request_id = backend.request_id()
                self._answer(status, json.dumps(answer, ensure_ascii=False).encode(),
                             headers={"x-amzn-RequestId": request_id})
            elif target == "SfnLab.AdvanceClock":
                seconds = float(json.loads(body or b"{}").get("seconds", 0))
                with lock:
                    now = backend.advance_clock(seconds)
                self._answer(200, json.dumps({"now": now}).encode())
            else:
                self._forward(body)

        def _forward(self, body: bytes) -> None:
            """Pass a request for another AWS service on to the local services."""
            url = urlsplit(backend.services.endpoint_url() or "")
            if not url.hostname:
                self._answer(400, b'{"__type":"UnknownOperationException"}')
                return
            conn = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
            headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")}
            headers["x-moto-account-id"] = backend.account
            conn.request(self.command, self.path, body=body or None, headers=headers)
            reply = conn.getresponse()
            data = reply.read()
            self.send_response(reply.status)
            for key, value in reply.getheaders():
                if key.lower() not in ("content-length", "transfer-encoding", "connection", "server", "date"):
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            conn.close()

        do_POST = do_GET = do_PUT = do_DELETE = do_HEAD = _handle

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
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
