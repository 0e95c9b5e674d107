"""Build the teaching notebooks from their readable sources: ``notebooks/src/NN-title.md`` -> ``notebooks/NN-title.ipynb``.

A source is Markdown. Each fenced block opened with ```` ```python ```` becomes a code cell; the
text between blocks becomes a Markdown cell (a line holding only ``+++`` splits it into two).
Cell tags go after the language: ```` ```python tags=check,raises-exception ````.

The output is deterministic (no outputs, no execution counts, cell ids derived from the file name
and position), so building twice gives the same bytes and ``git diff`` shows only source changes.

Usage::

    python notebooks/tools/build.py          # write every notebook
    python notebooks/tools/build.py --check  # exit 1 and name the notebooks that are out of date
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import nbformat

HERE = Path(__file__).resolve().parent.parent
SOURCES = HERE / "src"
_FENCE = re.compile(r"^```python(?P<info>[^\n]*)$")


def cells_of(text: str) -> list[tuple[str, str, list[str]]]:
    """(kind, source, tags) for every cell of a source text."""
    cells: list[tuple[str, str, list[str]]] = []
    markdown: list[str] = []

    def flush() -> None:
        body = "\n".join(markdown).strip("\n")
        if body.strip():
            cells.append(("markdown", body, []))
        markdown.clear()

    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        m = _FENCE.match(line)
        if m:
            flush()
            tags = []
            info = m.group("info").strip()
            if info.startswith("tags="):
                tags = [t for t in info[5:].split(",") if t]
            code: list[str] = []
            i += 1
            while i < len(lines) and lines[i] != "```":
                code.append(lines[i])
                i += 1
            cells.append(("code", "\n".join(code).strip("\n"), tags))
        elif line.strip() == "+++":
            flush()
        else:
            markdown.append(line)
        i += 1
    flush()
    return cells


def build(source: Path) -> str:
    """The notebook JSON text for one source file."""
    nb = nbformat.v4.new_notebook()
    nb.metadata = {
        "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    }
    for n, (kind, body, tags) in enumerate(cells_of(source.read_text(encoding="utf-8"))):
        cell = nbformat.v4.new_markdown_cell(body) if kind == "markdown" else nbformat.v4.new_code_cell(body)
        cell.id = f"{source.stem[:50]}-{n}"
        if tags:
            cell.metadata["tags"] = tags
        nb.cells.append(cell)
    nbformat.validate(nb)
    return nbformat.writes(nb) + "\n"


def targets() -> list[tuple[Path, Path]]:
    return [(src, HERE / f"{src.stem}.ipynb") for src in sorted(SOURCES.glob("[0-9][0-9]-*.md"))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report notebooks that are out of date")
    args = parser.parse_args(argv)
    stale = []
    for src, out in targets():
        text = build(src)
        if out.exists() and out.read_text(encoding="utf-8") == text:
            continue
        stale.append(out.name)
        if not args.check:
            out.write_text(text, encoding="utf-8")
    known = {out.name for _, out in targets()}
    orphans = sorted(p.name for p in HERE.glob("[0-9][0-9]-*.ipynb") if p.name not in known)
    if args.check:
        for name in stale:
            print(f"out of date: notebooks/{name} (run python notebooks/tools/build.py)")
        for name in orphans:
            print(f"no source for notebooks/{name} (expected notebooks/src/{name[:-6]}.md)")
        return 1 if stale or orphans else 0
    for name in stale:
        print(f"wrote notebooks/{name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
