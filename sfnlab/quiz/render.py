"""Question text to HTML (widgets) and to plain text (terminal). A tiny subset of Markdown:
`code`, **bold**, blank-line paragraphs; everything else is escaped."""
from __future__ import annotations

import html
import json
import re
import textwrap
from typing import Any

__all__ = ["to_html", "to_text", "machine_html", "machine_text"]

_CODE = re.compile(r"`([^`]+)`")
_BOLD = re.compile(r"\*\*([^*]+)\*\*")


def to_html(text: str) -> str:
    parts = []
    for para in re.split(r"\n\s*\n", text.strip()):
        escaped = html.escape(para)
        escaped = _CODE.sub(lambda m: f"<code>{m.group(1)}</code>", escaped)
        escaped = _BOLD.sub(lambda m: f"<b>{m.group(1)}</b>", escaped)
        parts.append(f"<p style='margin:0.3em 0'>{escaped}</p>")
    return "".join(parts)


def to_text(text: str, width: int = 88) -> str:
    plain = _BOLD.sub(r"\1", text)
    return "\n\n".join(textwrap.fill(p, width) for p in re.split(r"\n\s*\n", plain.strip()))


def machine_text(machine: Any) -> str:
    return json.dumps(machine, indent=2, ensure_ascii=False)


def machine_html(machine: Any) -> str:
    return ("<details open><summary>State machine (ASL)</summary><pre style='font-size:0.85em;line-height:1.25;"
            "max-height:24em;overflow:auto'>" + html.escape(machine_text(machine)) + "</pre></details>")
