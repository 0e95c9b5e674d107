"""Build the teaching notebooks from their readable sources: ``notebooks/src/NN-title.md`` -> ``notebooks/NN-title.ipynb``.

A source is Markdown. Each fenced block opened with ```` ```python ```` becomes a code cell; the
text between blocks becomes a Markdown cell (a line holding only ``+++`` splits it into two).
Cell tags go after the language: ```` ```python tags=check,raises-exception ````.

Each notebook is then executed once, top to bottom, in a fresh kernel of this Python (the virtual
clock and seeded randomness make that deterministic), and the outputs of the cells tagged
``nbval-check-output`` are stored; every other cell is stored without outputs. nbval, run with
``--nbval-lax`` (``tests/test_notebooks.py``), executes every cell and compares exactly those
stored outputs (``text`` of streams, ``ename``/``evalue`` of errors, each MIME type of results).

Mark a cell only when what it shows is deterministic text, the same on every machine: a status,
an output, an error name, a virtual duration, a validation diagnostic, a check report. Every
``check`` cell must be marked (its stored report says "All checks passed", so CI proves the check
accepts its reference solution). The build refuses a marked cell that shows a drawing, a widget,
an HTML view beyond a small text report, output on stderr, or anything machine-specific (a path
of this checkout, the home or temporary folder, a local port, a memory address, today's date,
the Python version); unmark such a cell or change what it prints. A stored error keeps its name
and message, not the traceback (which holds paths). A cell tagged ``raises-exception`` must raise.

The result is deterministic (cell ids derived from the file name and position, execution counts
of the top-to-bottom run, no timing metadata), so building twice gives the same bytes.

Usage::

    python notebooks/tools/build.py            # run and write every notebook (or only: ... 03 09-error)
    python notebooks/tools/build.py --check    # run them again; exit 1 naming each notebook that is out
                                               # of date and each cell whose stored output drifted
    python notebooks/tools/build.py --check --no-execute
                                               # the fast part of --check: cells and tags match the
                                               # sources, outputs stored exactly on the marked cells
"""
from __future__ import annotations

import argparse
import copy
import datetime
import difflib
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import nbformat

HERE = Path(__file__).resolve().parent.parent
ROOT = HERE.parent
SOURCES = HERE / "src"
_FENCE = re.compile(r"^```python(?P<info>[^\n]*)$")

CHECK_OUTPUT = "nbval-check-output"  # nbval compares this cell's outputs (also in --nbval-lax mode)
RAISES = "raises-exception"          # the cell must raise (nbclient and nbval allow it)
CHECK = "check"                      # an exercise check holding its reference solution
TIMEOUT = 120                        # seconds per cell
STORED_MIME = {"text/plain", "text/html"}
_RICH_HTML = re.compile(r"<(?:svg|script|style|img|iframe|canvas|object)\b|\sid\s*=", re.I)


class BuildError(Exception):
    """A notebook that cannot be built; the message names the notebook and the cell."""


def cells_of(text: str) -> list[tuple[str, str, list[str], int]]:
    """(kind, source, tags, first line number) for every cell of a source text."""
    cells: list[tuple[str, str, list[str], int]] = []
    markdown: list[tuple[int, str]] = []

    def flush() -> None:
        body = "\n".join(line for _, line in markdown).strip("\n")
        if body.strip():
            first = next(n for n, line in markdown if line.strip())
            cells.append(("markdown", body, [], first))
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
            start = i + 1
            code: list[str] = []
            i += 1
            while i < len(lines) and lines[i] != "```":
                code.append(lines[i])
                i += 1
            cells.append(("code", "\n".join(code).strip("\n"), tags, start))
        elif line.strip() == "+++":
            flush()
        else:
            markdown.append((i + 1, line))
        i += 1
    flush()
    return cells


def skeleton(source: Path) -> nbformat.NotebookNode:
    """The notebook of one source file, without outputs."""
    nb = nbformat.v4.new_notebook()
    nb.metadata = {
        "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    }
    for n, (kind, body, tags, _) in enumerate(cells_of(source.read_text(encoding="utf-8"))):
        cell = nbformat.v4.new_markdown_cell(body) if kind == "markdown" else nbformat.v4.new_code_cell(body)
        cell.id = f"{source.stem[:50]}-{n}"
        if tags:
            cell.metadata["tags"] = tags
        nb.cells.append(cell)
    return nb


def where(source: Path, n: int) -> str:
    """How a report names cell ``n`` of a notebook: its id and the source line of the block."""
    line = cells_of(source.read_text(encoding="utf-8"))[n][3]
    return f"notebooks/{source.stem}.ipynb cell {source.stem[:50]}-{n} (notebooks/src/{source.name}:{line})"


def _this_python_kernel():
    """A kernel manager class for this very Python (like nbval's --nbval-current-env), whatever
    kernelspecs the machine has."""
    import ipykernel.kernelspec
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import AsyncKernelManager
    from traitlets import default

    class ThisPython(KernelSpecManager):
        def get_kernel_spec(self, kernel_name):
            return self.kernel_spec_class(resource_dir=ipykernel.kernelspec.RESOURCES,
                                          **ipykernel.kernelspec.get_kernel_dict())

    class ThisPythonKernel(AsyncKernelManager):
        @default("kernel_spec_manager")
        def _default_spec_manager(self):
            return ThisPython(data_dir=self.data_dir)

    return ThisPythonKernel


def execute(source: Path) -> nbformat.NotebookNode:
    """Run the notebook of ``source`` top to bottom in a fresh kernel, from ``notebooks/``."""
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    nb = skeleton(source)
    old_home = os.environ.get("SFNLAB_HOME")
    with tempfile.TemporaryDirectory(prefix="sfnlab-home-") as home:
        os.environ["SFNLAB_HOME"] = home  # quiz answers go nowhere real
        try:
            NotebookClient(nb, kernel_manager_class=_this_python_kernel(), kernel_name="python3",
                           timeout=TIMEOUT, record_timing=False,
                           resources={"metadata": {"path": str(HERE)}}).execute(stderr=subprocess.DEVNULL)
        except CellExecutionError as exc:
            failed = next((n for n, c in enumerate(nb.cells) if c.cell_type == "code"
                           and any(o.output_type == "error" for o in c.get("outputs", []))
                           and RAISES not in c.metadata.get("tags", [])), None)
            at = where(source, failed) if failed is not None else f"notebooks/{source.stem}.ipynb"
            raise BuildError(f"{at}: the cell raised (tag it {RAISES} if that is the point)\n"
                             + re.sub(r"\x1b\[[0-9;]*m", "", str(exc))[-3000:]) from None
        finally:
            if old_home is None:
                os.environ.pop("SFNLAB_HOME", None)
            else:
                os.environ["SFNLAB_HOME"] = old_home
    return nb


def _machine_specific(text: str, fresh: bool = True) -> str | None:
    """What in ``text`` would differ on another machine or another day, if anything. ``fresh``:
    the text was produced just now, on this machine (so today's date and this Python's version
    in it come from the environment, not from the notebook)."""
    places = [(str(ROOT), "a path of this checkout"), (sys.prefix, "the Python installation"),
              (tempfile.gettempdir(), "the temporary folder")]
    if len(str(Path.home())) > 1:
        places.append((str(Path.home()), "the home folder"))
    for place, what in places:
        if place and place in text:
            return f"{what} ({place})"
    patterns = [
        (r"\b(?:127\.0\.0\.1|localhost|0\.0\.0\.0|\[::1?\]):\d+", "a local port"),
        (r"\bat 0x[0-9a-fA-F]{6,}", "a memory address"),
    ]
    if fresh:
        patterns += [
            (re.escape(datetime.date.today().isoformat()), "today's date (the wall clock)"),
            (r"(?<![\d.])" + re.escape(platform.python_version()) + r"(?![\d.])", "the Python version"),
        ]
    for pattern, what in patterns:
        m = re.search(pattern, text)
        if m:
            return f"{what} ({m.group(0)})"
    return None


def stored_outputs(cell: nbformat.NotebookNode, fresh: bool = True) -> tuple[list, list[str]]:
    """The outputs to store for an executed marked cell, and what makes them unfit to store.

    Streams are merged by name, as nbval does before comparing; results keep only their data (no
    metadata); errors keep name and message (the traceback holds paths, and nbval skips it).
    """
    outputs, problems, streams = [], [], {}
    for out in cell.get("outputs", []):
        kind = out.output_type
        if kind == "stream":
            if out.name != "stdout":
                problems.append(f"it writes to {out.name} (warnings differ between machines): {out.text[:200]!r}")
            if out.name in streams:
                streams[out.name].text += out.text
            else:
                streams[out.name] = nbformat.v4.new_output("stream", name=out.name, text=out.text)
                outputs.append(streams[out.name])
        elif kind in ("execute_result", "display_data"):
            data = dict(out.get("data", {}))
            rich = sorted(set(data) - STORED_MIME)
            if rich:
                problems.append(f"it shows {', '.join(rich)} (a drawing, widget or other rich view)")
            if _RICH_HTML.search(data.get("text/html", "")):
                problems.append("its text/html is a rich view (drawing, script, style or element ids)")
            extra = {"execution_count": out.execution_count} if kind == "execute_result" else {}
            outputs.append(nbformat.v4.new_output(kind, data=data, **extra))
        elif kind == "error":
            outputs.append(nbformat.v4.new_output("error", ename=out.ename, evalue=out.evalue,
                                                  traceback=[f"{out.ename}: {out.evalue}"]))
        else:
            problems.append(f"it produces a {kind} output")
    if not outputs:
        problems.append("it shows nothing (only mark cells whose output the learner should see)")
    for out in outputs:
        texts = [out.get("text", ""), out.get("ename", ""), out.get("evalue", "")]
        texts += [v if isinstance(v, str) else json.dumps(v) for v in out.get("data", {}).values()]
        text = "\n".join(texts)
        if "\r" in text or "\b" in text:
            problems.append("it shows carriage returns or backspaces (progress output)")
        found = _machine_specific(text, fresh)
        if found:
            problems.append(f"it shows {found}")
    return outputs, problems


def finish(source: Path, executed: nbformat.NotebookNode) -> str:
    """The notebook text for ``source`` with the outputs of its marked cells from ``executed``."""
    nb = skeleton(source)
    problems = []
    for n, (cell, ran) in enumerate(zip(nb.cells, executed.cells)):
        if cell.cell_type != "code":
            continue
        tags = cell.metadata.get("tags", [])
        raised = any(o.output_type == "error" for o in ran.get("outputs", []))
        if RAISES in tags and not raised:
            problems.append(f"{where(source, n)}: tagged {RAISES} but it did not raise")
        if CHECK in tags and CHECK_OUTPUT not in tags:
            problems.append(f"{where(source, n)}: a {CHECK} cell must also be tagged {CHECK_OUTPUT}, "
                            "so that CI compares its report")
        if CHECK_OUTPUT not in tags:
            continue
        outputs, unfit = stored_outputs(ran)
        problems += [f"{where(source, n)}: tagged {CHECK_OUTPUT} but {why}" for why in unfit]
        cell.outputs = outputs
        cell.execution_count = ran.execution_count
    if problems:
        raise BuildError("\n".join(problems))
    nbformat.validate(nb)
    return nbformat.writes(nb) + "\n"


def build(source: Path) -> str:
    """The notebook JSON text for one source file: executed once, marked outputs stored."""
    return finish(source, execute(source))


def _build_or_error(source: Path) -> tuple[str | None, str | None]:
    try:
        return build(source), None
    except BuildError as exc:
        return None, str(exc)


def static_problems(source: Path, path: Path) -> list[str]:
    """Without running anything: does the committed notebook match its source, outputs aside,
    with outputs stored exactly on the marked cells (and fit to be stored)?"""
    committed = nbformat.read(path, as_version=4)
    bare = copy.deepcopy(committed)
    for cell in bare.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    if nbformat.writes(bare) != nbformat.writes(skeleton(source)):
        return [_out_of_date(source, bare, skeleton(source))]
    problems = []
    for n, cell in enumerate(committed.cells):
        if cell.cell_type != "code":
            continue
        marked = CHECK_OUTPUT in cell.metadata.get("tags", [])
        if marked and (not cell.outputs or cell.execution_count is None):
            problems.append(f"{where(source, n)}: tagged {CHECK_OUTPUT} but no output is stored")
        elif not marked and (cell.outputs or cell.execution_count is not None):
            problems.append(f"{where(source, n)}: an output is stored but the cell is not tagged {CHECK_OUTPUT}")
        elif marked:
            outputs, unfit = stored_outputs(cell, fresh=False)
            problems += [f"{where(source, n)}: the stored output is unfit: {why}" for why in unfit]
            if outputs != cell.outputs:
                problems.append(f"{where(source, n)}: the stored output is not in the form the build writes")
    return problems


def drift(source: Path, committed_text: str, fresh_text: str) -> list[str]:
    """Name every cell whose stored output differs from a fresh run, with a short diff."""
    committed, fresh = nbformat.reads(committed_text, as_version=4), nbformat.reads(fresh_text, as_version=4)
    if len(committed.cells) != len(fresh.cells) or any(
            (a.cell_type, a.source, a.metadata) != (b.cell_type, b.source, b.metadata)
            for a, b in zip(committed.cells, fresh.cells)):
        return [_out_of_date(source, committed, fresh)]
    reports = []
    for n, (old, new) in enumerate(zip(committed.cells, fresh.cells)):
        if old.cell_type != "code" or (old.outputs, old.execution_count) == (new.outputs, new.execution_count):
            continue
        lines = difflib.unified_diff(_shown(old).splitlines(), _shown(new).splitlines(),
                                     "stored", "re-executed", lineterm="", n=1)
        reports.append(f"output drifted: {where(source, n)}\n    " + "\n    ".join(list(lines)[:40]))
    return reports or [f"out of date: notebooks/{source.stem}.ipynb (notebook metadata or format)"]


def _out_of_date(source: Path, committed: nbformat.NotebookNode, fresh: nbformat.NotebookNode) -> str:
    """Name the first cell where the committed notebook and its source disagree."""
    head = f"out of date: notebooks/{source.stem}.ipynb does not match notebooks/src/{source.name}"
    for n, (a, b) in enumerate(zip(committed.cells, fresh.cells)):
        if (a.cell_type, a.source, a.metadata, a.get("id")) != (b.cell_type, b.source, b.metadata, b.get("id")):
            return f"{head}, from {where(source, n)} on"
    if len(committed.cells) != len(fresh.cells):
        return f"{head} ({len(committed.cells)} cells in the notebook, {len(fresh.cells)} in the source)"
    return f"{head} (notebook metadata or format)"


def _shown(cell: nbformat.NotebookNode) -> str:
    parts = [f"[execution_count {cell.execution_count}]"]
    for out in cell.get("outputs", []):
        if out.output_type == "stream":
            parts.append(f"<{out.name}>\n{out.text}")
        elif out.output_type == "error":
            parts.append(f"<error>\n{out.ename}: {out.evalue}")
        else:
            parts += [f"<{mime}>\n{value}" for mime, value in out.get("data", {}).items()]
    return "\n".join(parts)


def targets(names: list[str] | None = None) -> list[tuple[Path, Path]]:
    chosen = [(src, HERE / f"{src.stem}.ipynb") for src in sorted(SOURCES.glob("[0-9][0-9]-*.md"))]
    if names:
        chosen = [(src, out) for src, out in chosen if any(src.stem.startswith(n) for n in names)]
    return chosen


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="only the notebooks whose name starts so (e.g. 03 09-error)")
    parser.add_argument("--check", action="store_true", help="only report notebooks that are out of date")
    parser.add_argument("--no-execute", action="store_true",
                        help="with --check: compare cells, tags and where outputs are stored, without running")
    parser.add_argument("-j", "--jobs", type=int, default=min(2, os.cpu_count() or 1),
                        help="notebooks run at the same time (default: 2)")
    args = parser.parse_args(argv)
    if args.no_execute and not args.check:
        parser.error("--no-execute only goes with --check")
    chosen = targets(args.names)
    if args.names and not chosen:
        parser.error(f"no source matches {args.names}")
    known = {out.name for _, out in targets()}
    orphans = [] if args.names else sorted(
        p.name for p in HERE.glob("[0-9][0-9]-*.ipynb") if p.name not in known)
    reports: list[str] = []
    if args.no_execute:
        for src, out in chosen:
            reports += static_problems(src, out) if out.exists() else [f"missing: notebooks/{out.name}"]
    else:
        with ProcessPoolExecutor(max_workers=max(1, args.jobs)) as pool:
            results = list(pool.map(_build_or_error, [src for src, _ in chosen]))
        for (src, out), (text, error) in zip(chosen, results):
            if error:
                reports.append(error)
                continue
            old = out.read_text(encoding="utf-8") if out.exists() else None
            if old == text:
                continue
            if args.check:
                reports += drift(src, old, text) if old is not None else [f"missing: notebooks/{out.name}"]
            else:
                out.write_text(text, encoding="utf-8")
                print(f"wrote notebooks/{out.name}")
    reports += [f"no source for notebooks/{name} (expected notebooks/src/{name[:-6]}.md)" for name in orphans]
    for report in reports:
        print(report)
    if reports and args.check:
        print("(run .venv/bin/python notebooks/tools/build.py to rebuild, after checking that each change is intended)")
    return 1 if reports else 0


if __name__ == "__main__":
    sys.exit(main())
