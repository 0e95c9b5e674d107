"""Service integrations other than Lambda (``arn:aws:states:::<service>:<api>``).

Not modelled yet: they fail the way AWS fails a resource it cannot reach.
"""
from __future__ import annotations

from typing import Any, Generator

from .errors import StatesError


def run(execution, state, value, scope, frame, resource: dict, timeout, heartbeat) -> Generator:
    raise StatesError("States.Runtime", f"An error occurred while scheduling the state '{state.name}'. "
                                        f"The resource provided {state.resource} is not supported by sfnlab yet.")
    yield  # pragma: no cover
