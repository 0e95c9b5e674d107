"""The AWS services a state machine talks to: boto3 clients, by default against a local moto server.

Service integrations (DynamoDB, SNS, SQS, EventBridge, S3, ``aws-sdk:*``) are called through real
boto3 clients. Unless told otherwise, those clients reach a moto server that sfnlab starts on a free
``127.0.0.1`` port the first time an integration or :func:`aws_client` needs it (never at import).
A separate server process-wide, rather than ``moto.mock_aws``, because ``mock_aws`` patches
botocore globally and would intercept sfnlab's own in-process Step Functions client.

The learner gets the same clients to set things up and inspect the effects::

    sfn = sfnlab.client()
    sqs = sfn.sfnlab.aws_client("sqs")           # or sfnlab.aws_client("sqs", client=sfn)
    url = sqs.create_queue(QueueName="approvals")["QueueUrl"]

Configuration (``sfnlab.client(aws_endpoint=...)``):

* ``None`` (default): the local moto server;
* ``"aws"``: real AWS, with boto3's usual credential chain;
* any URL: another endpoint (LocalStack, a moto server you run yourself, ...).

Moto keeps its resources per account id: each request carries the client's account in the
``x-moto-account-id`` header, so queue URLs and topic ARNs show the account of the client's ARNs.
Resources are shared by all clients of one process that use the same account id.
"""
from __future__ import annotations

import os
import threading
import time
from typing import Any

__all__ = ["Services", "LocalAws", "aws_client"]

_DUMMY_KEY = "testing"


class LocalAws:
    """The process-wide moto server (started lazily, stopped at interpreter exit)."""

    _lock = threading.Lock()
    _server: Any = None
    _pid: int | None = None  # the process the server thread runs in (a forked worker has no server thread)
    url: str | None = None
    startup_seconds: float | None = None

    @classmethod
    def endpoint(cls) -> str:
        """The server's URL, starting it on the first call."""
        if cls.url is None:
            with cls._lock:
                if cls.url is None:
                    started = time.perf_counter()
                    try:
                        from moto.server import ThreadedMotoServer
                    except ImportError as exc:  # pragma: no cover - depends on the install
                        raise RuntimeError("sfnlab's local AWS services need moto's server: "
                                           "pip install 'moto[server]'") from exc
                    import logging

                    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per request
                    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
                    server.start()
                    host, port = server.get_host_and_port()
                    cls._server, cls._pid = server, os.getpid()
                    cls.url = f"http://{host}:{port}"
                    cls.startup_seconds = time.perf_counter() - started
        return cls.url

    @classmethod
    def in_this_process(cls) -> bool:
        """Whether the server is running, as a thread of this process (its stored resources are at hand)."""
        return cls.url is not None and cls._pid == os.getpid()

    @classmethod
    def stop(cls) -> None:
        with cls._lock:
            if cls._server is not None:
                cls._server.stop()
            cls._server, cls._pid, cls.url = None, None, None


class Services:
    """boto3 clients for one local account.

    Args:
        region: the region of every client.
        account: the account id (moto keeps resources apart per account id).
        endpoint: None for the local moto server, ``"aws"`` for real AWS, or an endpoint URL.
    """

    def __init__(self, region: str = "us-east-1", account: str = "123456789012", endpoint: str | None = None) -> None:
        self.region = region
        self.account = account
        self.endpoint = endpoint
        self._clients: dict[tuple[str, bool], Any] = {}  # by (service, validate)
        self._session: Any = None
        self._lock = threading.Lock()

    @property
    def local(self) -> bool:
        """Whether the clients reach sfnlab's own moto server."""
        return self.endpoint is None

    def endpoint_url(self) -> str | None:
        if self.endpoint is None:
            return LocalAws.endpoint()
        if self.endpoint == "aws":
            return None
        return self.endpoint

    def client(self, service: str, *, validate: bool = True) -> Any:
        """A boto3 client of ``service`` (cached).

        Integrations use ``validate=False``: the service, not botocore, then answers a bad request
        (AWS's integrations report the service's own error, e.g. SQS's ``MissingParameter``).
        """
        with self._lock:
            found = self._clients.get((service, validate))
            if found is not None:
                return found
            import boto3
            from botocore.config import Config

            if self._session is None:
                if self.endpoint == "aws":
                    self._session = boto3.session.Session(region_name=self.region)
                else:
                    self._session = boto3.session.Session(
                        aws_access_key_id=_DUMMY_KEY, aws_secret_access_key=_DUMMY_KEY, region_name=self.region)
            # Step Functions' SDK asks for no response checksums (GetObject answers carry no ChecksumCRC32).
            extra = {"response_checksum_validation": "when_required"} if service == "s3" and not validate else {}
            config = Config(retries={"max_attempts": 1, "mode": "standard"}, parameter_validation=validate,
                            s3={"addressing_style": "path"} if service == "s3" else None, **extra)
            made = self._session.client(service, endpoint_url=self.endpoint_url(), config=config)
            if self.endpoint != "aws":
                def tag_account(request: Any, **_: Any) -> None:
                    request.headers["x-moto-account-id"] = self.account

                made.meta.events.register("before-sign", tag_account)
            self._clients[(service, validate)] = made
            return made


def aws_client(service: str, client: Any = None, **options: Any) -> Any:
    """A boto3 client of ``service`` that sees what state machines of ``client`` see.

    Args:
        service: a boto3 service name ("sqs", "dynamodb", "s3", ...).
        client: an ``sfnlab.client()``; without it, a client of the default local account.
        options: passed to :class:`Services` when no client is given (region, account, endpoint).
    """
    if client is not None:
        return client.sfnlab.aws_client(service)
    return Services(**options).client(service)
