"""Distributed Map: ItemReader (S3), ItemBatcher, ResultWriter (S3).

AWS guide, "Using Map state in Distributed mode". The engine calls these hooks from its Map
state; iterations themselves run in the engine like inline ones.
"""
from __future__ import annotations

from typing import Any, Generator

from .errors import StatesError


def read_items(execution, state, value: Any, raw: Any, scope, frame) -> Generator:
    """The items an ItemReader reads (a list)."""
    raise StatesError("States.ItemReaderFailed", "ItemReader is not supported by sfnlab yet.")
    yield  # pragma: no cover


def batch_items(execution, state, items: list, value: Any, raw: Any, scope) -> list:
    """Group items as an ItemBatcher does: each batch is ``{"Items": [...], "BatchInput": ...}``."""
    batcher = state.item_batcher or {}
    size = batcher.get("MaxItemsPerBatch")
    if not isinstance(size, int) or size <= 0:
        size = len(items) or 1
    batches = []
    for start in range(0, len(items), size):
        batch: dict[str, Any] = {"Items": items[start:start + size]}
        if "BatchInput" in batcher:
            batch["BatchInput"] = batcher["BatchInput"]
        batches.append(batch)
    return batches


def write_results(execution, state, results: list, value: Any, raw: Any, scope, frame) -> Generator:
    """What a ResultWriter leaves as the Map result."""
    raise StatesError("States.ResultWriterFailed", "ResultWriter is not supported by sfnlab yet.")
    yield  # pragma: no cover
