"""The boto3-compatible client: a real botocore ``stepfunctions`` client answered in-process.

``sfnlab.client()`` builds an ordinary botocore client and registers one handler on its
``before-send`` event. Botocore serialises and validates the call as usual, then asks the
``before-send`` handlers for a response before it would open a connection; ours decodes the
JSON 1.0 request (the operation is in the ``X-Amz-Target`` header), lets the account's
:class:`~sfnlab.backend.Backend` answer it, and hands back an ``AWSResponse``. So parameter
validation, paginators, waiters, ``datetime`` parsing and ``client.exceptions.InvalidDefinition``
are botocore's own, and nothing ever touches the network.

The botocore session is built once per process and shields clients from the environment:
no profile, config or credentials file, ``AWS_*`` variable or ``~/.aws/models`` is read, requests
are not signed (so no credentials are needed or looked up).

Example:
    >>> import sfnlab
    >>> sfn = sfnlab.client()
    >>> arn = sfn.create_state_machine(
    ...     name="hello", roleArn="arn:aws:iam::123456789012:role/x",
    ...     definition='{"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}',
    ... )["stateMachineArn"]
    >>> arn
    'arn:aws:states:us-east-1:123456789012:stateMachine:hello'
"""
from __future__ import annotations

import json
import os
import threading
from datetime import datetime
from typing import Any, Callable, Iterator, Mapping

import botocore.session
from botocore import UNSIGNED
from botocore.awsrequest import AWSResponse
from botocore.config import Config
from botocore.configprovider import BOTOCORE_DEFAUT_SESSION_VARIABLES, ConfigValueStore, ConstantProvider
from botocore.loaders import Loader

from .backend import Backend
from .clock import VirtualClock
from .engine import Runtime

__all__ = ["client", "service_model"]

_SERVICE_NAME = "stepfunctions"
_CONTENT_TYPE = "application/x-amz-json-1.0"

# Values that replace what a user's environment or ~/.aws files could say.
_ISOLATED: dict[str, Any] = {
    "profile": None,
    "region": None,
    "data_path": None,
    "config_file": os.devnull,
    "credentials_file": os.devnull,
    "ca_bundle": None,
    "api_versions": {},
    "endpoint_url": None,
    "ignore_configured_endpoint_urls": True,
    "defaults_mode": "legacy",  # "auto" would ask the instance metadata service for a region
    "csm_enabled": False,
}
# Unsigned: no credentials are needed, so none are looked up. Retries keep botocore's defaults:
# the backend never answers with a status or code that botocore would retry.
_CONFIG = Config(signature_version=UNSIGNED)

_lock = threading.Lock()
_session: botocore.session.Session | None = None


def _isolated_session() -> botocore.session.Session:
    """A botocore session that reads nothing from the environment or the user's AWS files."""
    session = botocore.session.Session()
    mapping: dict[str, Any] = {
        name: ConstantProvider(_ISOLATED.get(name, spec[2]))
        for name, spec in BOTOCORE_DEFAUT_SESSION_VARIABLES.items()
    }
    mapping.update({name: ConstantProvider(value) for name, value in _ISOLATED.items() if name not in mapping})
    mapping["s3"] = ConstantProvider({})
    mapping["proxies_config"] = ConstantProvider({})
    session.register_component("config_store", ConfigValueStore(mapping=mapping))
    # Only botocore's own models: AWS_DATA_PATH and ~/.aws/models must not replace them.
    session.register_component(
        "data_loader", Loader(extra_search_paths=[Loader.BUILTIN_DATA_PATH], include_default_search_paths=False)
    )
    return session


def _shared_session() -> botocore.session.Session:
    global _session
    if _session is None:
        with _lock:
            if _session is None:
                _session = _isolated_session()
    return _session


def service_model() -> Any:
    """Botocore's ``ServiceModel`` of Step Functions (loaded once per process)."""
    return _shared_session().get_service_model(_SERVICE_NAME)


class _Body:
    """The raw body of an in-process response (``AWSResponse.content`` reads ``raw.stream()``)."""

    def __init__(self, data: bytes) -> None:
        self._data = data

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._data


def _header(headers: Mapping[str, Any], name: str) -> str:
    value = headers.get(name, "")
    return value.decode() if isinstance(value, bytes) else str(value)


def _request_body(request: Any) -> dict:
    body = request.body
    if hasattr(body, "read"):
        body = body.read()
    if isinstance(body, bytes):
        body = body.decode("utf-8")
    return json.loads(body) if body else {}


class _Responder:
    """The ``before-send`` handler: answers each request from the account's backend."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend

    def __call__(self, request: Any, **_: Any) -> AWSResponse:
        target = _header(request.headers, "X-Amz-Target")
        operation = target.rpartition(".")[2]
        status, body = self.backend.respond(operation, _request_body(request))
        try:
            data = json.dumps(body, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate in the data: escaped, it is still JSON
            data = json.dumps(body).encode("ascii")
        headers = {
            "x-amzn-RequestId": self.backend.request_id(),
            "Content-Type": _CONTENT_TYPE,
            "Content-Length": str(len(data)),
        }
        return AWSResponse(request.url, status, headers, _Body(data))


DEFAULT_ACCOUNT = "123456789012"


def client(
    functions: Mapping[str, Callable] | None = None,
    *,
    region: str = "us-east-1",
    account: str | None = None,
    start_time: float | datetime | None = None,
    seed: int | None = 0,
    aws_endpoint: str | None = None,
    mock_config: Any = None,
    distributed_map_processes: int = 0,
) -> Any:
    """A boto3-compatible ``stepfunctions`` client backed by a fresh, empty local account.

    Each call makes a new account: its own state machines, executions, virtual clock and random
    source. Keep one client to share state. The account is reachable as ``client.sfnlab`` (a
    :class:`~sfnlab.backend.Backend`; ``client.sfnlab.advance_clock(60)`` lets a minute pass).

    Args:
        functions: Lambda functions by name, each a Python callable ``handler(event, context)``.
        region: the region in every ARN.
        account: the account id in every ARN. When not given, the account takes the id of the
            first IAM role it is handed (an execution role always belongs to the caller's
            account, since iam:PassRole does not cross accounts), or 123456789012 until then.
        start_time: where the virtual clock starts (epoch seconds or a datetime); now by default.
        seed: seed of the account's random source (execution names, ``States.UUID``, jitter).
        aws_endpoint: where service integrations go: None for sfnlab's local moto server
            (started on first use), ``"aws"`` for real AWS, or an endpoint URL (see
            :mod:`sfnlab.services`). ``client.sfnlab.aws_client("sqs")`` gives a boto3 client of it.
        mock_config: a Step Functions Local mock configuration (a dict, JSON text or a file
            path); start an execution with ``stateMachineArn="<arn>#<TestCase>"`` to use one of
            its test cases (see :mod:`sfnlab.mocks`).
        distributed_map_processes: run the child executions of a Distributed Map in this many
            worker processes (forked; 0, the default: in this process), when its children can
            run apart with the same results and histories (see :func:`sfnlab.distributed.poolable`).

    Returns:
        A botocore ``SFN`` client whose requests are answered in-process.
    """
    runtime = Runtime(
        functions=dict(functions or {}),
        clock=VirtualClock(start_time),
        region=region,
        account=account or DEFAULT_ACCOUNT,
        seed=seed,
    )
    from .services import Services

    runtime.services = Services(region, runtime.account, aws_endpoint)
    runtime.distributed_map_processes = distributed_map_processes  # type: ignore[attr-defined]
    backend = Backend(runtime, service_model(), account_from_role=account is None)
    if mock_config is not None:
        from .mocks import load_mock_config

        backend.mock_config = load_mock_config(mock_config)
    sfn = _shared_session().create_client(_SERVICE_NAME, region_name=region, config=_CONFIG)
    sfn.meta.events.register(f"before-send.{sfn.meta.service_model.service_id.hyphenize()}", _Responder(backend))
    sfn.sfnlab = backend
    return sfn
