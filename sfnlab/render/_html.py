"""Small HTML helpers shared by the tables: pretty JSON, folding long values, inline styles."""
from __future__ import annotations

import html
import json
from typing import Any, Final

__all__ = ["pretty", "folded", "TABLE", "CELL", "HEAD"]

TABLE: Final = "border-collapse:collapse;font-family:Helvetica,Arial,sans-serif;font-size:13px"
CELL: Final = "border:1px solid #d1d5db;padding:3px 8px;text-align:left;vertical-align:top"
HEAD: Final = CELL + ";background:#f3f4f6"
PRE: Final = "margin:0;font-family:Menlo,Consolas,monospace;font-size:12px;white-space:pre-wrap"
FOLD_LINES: Final = 12  # values longer than this are folded behind a <details>
FOLD_CHARS: Final = 600
MAX_CHARS: Final = 20_000  # beyond this even a folded value is cut


def pretty(value: Any) -> str:
    """A JSON value as indented text."""
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=False, default=str)


def folded(text: str, *, summary: str | None = None) -> str:
    """``text`` in a <pre>; long text folded behind a <details> whose summary is its first line."""
    if len(text) > MAX_CHARS:
        text = text[:MAX_CHARS] + f"\n… ({len(text) - MAX_CHARS} more characters)"
    body = f"<pre style='{PRE}'>{html.escape(text)}</pre>"
    lines = text.count("\n") + 1
    if lines <= FOLD_LINES and len(text) <= FOLD_CHARS:
        return body
    head = summary or " ".join(text[:80].split())
    return (f"<details><summary><code>{html.escape(head)}</code> … "
            f"<span style='color:#6b7280'>({lines} lines)</span></summary>{body}</details>")
