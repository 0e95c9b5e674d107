"""Run every teaching notebook top to bottom, as a learner would, and check what it shows.

* The notebooks are generated from ``notebooks/src/*.md``; the generated files must be up to date.
* Each notebook runs in a fresh kernel (nbclient), two at a time. A cell may raise only when it is
  tagged ``raises-exception`` (a deliberate mistake the text then explains).
* Every exercise check cell (tag ``check``) holds the reference solution, so its report must
  say "All checks passed": CI proves each check accepts the solution it teaches.
* Each notebook has goals, a summary, exam tips, at least two checked exercises, and imports sfnlab.

Everything is deterministic (virtual clock from ``sfnlab.exercises.START``, seeded randomness)
and offline; the only socket is sfnlab's local moto server on 127.0.0.1 for notebooks 10-12.
"""
from __future__ import annotations

import ast
import re
import subprocess
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
PASS_MARK = "All checks passed"
PATHS = sorted(NOTEBOOKS.glob("[0-9][0-9]-*.ipynb"))


def execute(path: Path) -> dict:
    """Run one notebook in a fresh kernel; return its executed cells (or the error)."""
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    import os
    import tempfile

    os.environ["SFNLAB_HOME"] = tempfile.mkdtemp(prefix="sfnlab-home-")  # quiz answers go nowhere real
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOKS)}})
    try:
        client.execute()
    except CellExecutionError as exc:
        return {"error": str(exc)[:4000]}
    return {"cells": [dict(c) for c in nb.cells]}


@pytest.fixture(scope="session")
def executed() -> dict[str, dict]:
    with ProcessPoolExecutor(max_workers=2) as pool:
        return dict(zip((p.name for p in PATHS), pool.map(execute, PATHS)))


def _text(cell: dict) -> str:
    parts = []
    for out in cell.get("outputs", []):
        if out.get("output_type") == "stream":
            parts.append(out.get("text", ""))
        elif out.get("output_type") == "error":
            parts.append(f"{out.get('ename')}: {out.get('evalue')}")
        else:
            data = out.get("data", {})
            parts.append(data.get("text/plain", "") + data.get("text/html", ""))
    return "".join(parts)


def test_the_notebooks_are_built_from_their_sources():
    done = subprocess.run([sys.executable, str(NOTEBOOKS / "tools" / "build.py"), "--check"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_curriculum_is_complete():
    numbers = [p.name[:2] for p in PATHS]
    assert numbers == [f"{n:02d}" for n in range(len(PATHS))], numbers
    assert len(PATHS) >= 16


@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.stem)
def test_notebook_structure(path: Path):
    nb = nbformat.read(path, as_version=4)
    markdown = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert re.search(r"^## Goals", markdown, re.M), "no '## Goals' section"
    assert re.search(r"^## Summary", markdown, re.M), "no '## Summary' section"
    assert re.search(r"^## (DVA-C02 )?[Ee]xam tips", markdown, re.M), "no exam tips section"
    assert "import sfnlab" in code
    if path.name[:2] not in ("00", "15"):
        checks = [c for c in nb.cells if c.cell_type == "code" and "check" in c.metadata.get("tags", [])]
        assert len(checks) >= 2, f"{len(checks)} checked exercises"
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        source = "\n".join(line for line in cell.source.splitlines() if not line.lstrip().startswith(("%", "!")))
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                assert node.end_lineno - node.lineno <= 6, \
                    f"{node.name}: a helper longer than a few lines belongs in the package (sfnlab/exercises.py)"


@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.stem)
def test_notebook_runs_top_to_bottom(path: Path, executed: dict):
    result = executed[path.name]
    assert "error" not in result, result.get("error")
    for cell in result["cells"]:
        if cell["cell_type"] != "code":
            continue
        tags = cell.get("metadata", {}).get("tags", [])
        text = _text(cell)
        if "raises-exception" not in tags:
            assert not any(o.get("output_type") == "error" for o in cell.get("outputs", [])), cell["source"]
        if "check" in tags:
            assert PASS_MARK in text, f"the reference solution does not pass its check:\n{cell['source']}\n{text[:1500]}"
