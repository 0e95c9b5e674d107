"""sfnlab: learn AWS Step Functions offline, on a faithful local ASL interpreter.

Run a state machine the pythonic way::

    >>> import sfnlab
    >>> sm = sfnlab.StateMachine({
    ...     "StartAt": "Check",
    ...     "States": {
    ...         "Check": {"Type": "Choice", "Default": "Small",
    ...                   "Choices": [{"Variable": "$.total", "NumericGreaterThan": 100, "Next": "Big"}]},
    ...         "Big": {"Type": "Pass", "Result": "free shipping", "End": True},
    ...         "Small": {"Type": "Pass", "Result": "standard shipping", "End": True}}})
    >>> sm.run({"total": 120}).output
    'free shipping'

or through the boto3-compatible client (``sfnlab.client()``), which answers the same calls as
``boto3.client("stepfunctions")`` on a private, in-process account with a virtual clock.
"""
from __future__ import annotations

from .clock import VirtualClock
from .definition import load
from .engine import Execution, Runtime
from .errors import DefinitionError, Diagnostic, SfnlabError, StatesError
from .machine import StateMachine, validate

__all__ = [
    "client",
    "aws_client",
    "load",
    "validate",
    "StateMachine",
    "Execution",
    "Runtime",
    "VirtualClock",
    "DefinitionError",
    "Diagnostic",
    "StatesError",
    "SfnlabError",
]

__version__ = "0.1.0"


def aws_client(service: str, client=None):
    """A boto3 client for another AWS service (SQS, DynamoDB, S3, ...) of sfnlab's local account.

    Integrations in state machines reach the same in-process services, so a notebook can create a
    queue or a table, run an execution, and look at the effects. See :mod:`sfnlab.services`.
    """
    from .services import aws_client as make_aws_client

    return make_aws_client(service, client=client)


def client(functions=None, **options):
    """A boto3-compatible Step Functions client answered in-process (see :mod:`sfnlab.api`).

    Each call makes a fresh, empty local account: its own state machines, executions and clock.
    """
    from .api import client as make_client

    return make_client(functions, **options)
