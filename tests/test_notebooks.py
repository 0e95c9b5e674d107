"""Run every teaching notebook top to bottom with nbval, as CI promises, and check what it shows.

* The notebooks are generated from ``notebooks/src/*.md`` by ``notebooks/tools/build.py``, which
  also runs each one once and stores the outputs of the cells tagged ``nbval-check-output``
  (deterministic text only). The generated files must be up to date: cells and tags match the
  sources, and outputs are stored exactly on the marked cells (``build.py --check --no-execute``;
  the re-execution half of ``build.py --check`` is what nbval does below).
* Each notebook runs under ``pytest --nbval-lax`` in a fresh kernel of this Python, two notebooks
  at a time: every cell is executed, and the marked cells' outputs must equal the stored ones
  exactly (nbval compares stream text, error name and message, and each MIME type of a result).
  A cell may raise only when it is tagged ``raises-exception`` (a deliberate mistake the text then
  explains); each such cell is marked, so it must raise the very error that is stored.
* Every exercise check cell (tag ``check``) holds the reference solution and is marked, and its
  stored report says "All checks passed": with the strict comparison, CI proves each check
  accepts the solution it teaches.
* Each notebook has goals, a summary, exam tips, at least two checked exercises, and imports sfnlab.

Everything is deterministic (virtual clock from ``sfnlab.exercises.START``, seeded randomness)
and offline; the only socket is sfnlab's local moto server on 127.0.0.1 for notebooks 10-12.
"""
from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from xml.etree import ElementTree

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
PASS_MARK = "All checks passed"
CHECK_OUTPUT = "nbval-check-output"
PATHS = sorted(NOTEBOOKS.glob("[0-9][0-9]-*.ipynb"))


def nbval(paths: list[Path]) -> dict[Path, str | None]:
    """``pytest --nbval-lax`` on these notebooks in one subprocess (one pytest start-up for several
    notebooks; each still gets its own kernel). For each notebook: None if every cell passed, else
    nbval's report of the failing cells."""
    rel = [str(p.relative_to(ROOT)) for p in paths]
    with tempfile.TemporaryDirectory(prefix="sfnlab-nbval-") as tmp:  # also SFNLAB_HOME: quiz answers go nowhere real
        xml = Path(tmp) / "nbval.xml"
        done = subprocess.run(
            [sys.executable, "-m", "pytest", "--nbval-lax", "--nbval-current-env", "--nbval-cell-timeout=120",
             "-p", "no:cacheprovider", "-p", "no:hypothesispytest", "--color=no", "-q", f"--junitxml={xml}", *rel],
            cwd=ROOT, env={**os.environ, "SFNLAB_HOME": tmp}, capture_output=True, text=True, timeout=900)
        cases = list(ElementTree.parse(xml).getroot().iter("testcase")) if xml.exists() else []
    ran: dict[str, int] = {r: 0 for r in rel}
    failures: dict[str, list[str]] = {r: [] for r in rel}
    for case in cases:
        notebook = next((r for r in rel if case.get("classname") == r.replace("/", ".")), None)
        if notebook is None:
            continue
        ran[notebook] += 1
        for bad in case:
            if bad.tag in ("failure", "error"):
                name = case.get("name")
                failures[notebook].append(f"--- {notebook}::{name}{_cell_id(ROOT / notebook, name)}\n"
                                          + (bad.text or bad.get("message") or ""))
    whole = f"exit {done.returncode}\n{done.stdout}{done.stderr}"
    results = {}
    for path, r in zip(paths, rel):
        if failures[r]:
            results[path] = "\n".join(failures[r])
        elif not ran[r] or done.returncode not in (0, 1) or (done.returncode and not any(failures.values())):
            results[path] = whole  # not collected, or pytest itself failed
        else:
            results[path] = None
    return results


def _cell_id(path: Path, name: str | None) -> str:
    """nbval numbers code cells only ("Cell 4"); name the cell by its id, as build.py does."""
    m = re.fullmatch(r"Cell (\d+)", name or "")
    code = [c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]
    return f" (cell id {code[int(m.group(1))].id})" if m and int(m.group(1)) < len(code) else ""


@pytest.fixture(scope="session")
def nbval_runs(request) -> dict[Path, str | None]:
    """Run nbval on the notebooks this session selected, in two subprocesses (CI has 2 cores)."""
    wanted = sorted({item.callspec.params["path"] for item in request.session.items
                     if getattr(item, "originalname", "") == "test_notebook_runs_under_nbval"})
    shards = [shard for shard in (wanted[0::2], wanted[1::2]) if shard]
    results: dict[Path, str | None] = {}
    with ThreadPoolExecutor(max_workers=2) as pool:
        for part in pool.map(nbval, shards):
            results.update(part)
    return results


def _stored_text(cell) -> str:
    parts = []
    for out in cell.get("outputs", []):
        if out.get("output_type") == "stream":
            parts.append(out.get("text", ""))
        elif out.get("output_type") == "error":
            parts.append(f"{out.get('ename')}: {out.get('evalue')}")
        else:
            parts.append(out.get("data", {}).get("text/plain", ""))
    return "".join(parts)


def test_the_notebooks_are_built_from_their_sources():
    done = subprocess.run([sys.executable, str(NOTEBOOKS / "tools" / "build.py"), "--check", "--no-execute"],
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
    checks = [c for c in nb.cells if c.cell_type == "code" and "check" in c.metadata.get("tags", [])]
    if path.name[:2] not in ("00", "15"):
        assert len(checks) >= 2, f"{len(checks)} checked exercises"
    for cell in checks:
        assert CHECK_OUTPUT in cell.metadata["tags"], f"{cell.id}: a check cell must be tagged {CHECK_OUTPUT}"
        assert PASS_MARK in _stored_text(cell), \
            f"{cell.id}: the reference solution does not pass its check:\n{cell.source}\n{_stored_text(cell)[:1500]}"
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        if "raises-exception" in cell.metadata.get("tags", []):
            assert CHECK_OUTPUT in cell.metadata["tags"] and any(o.output_type == "error" for o in cell.outputs), \
                f"{cell.id}: a raises-exception cell must be tagged {CHECK_OUTPUT} with its error stored"
        source = "\n".join(line for line in cell.source.splitlines() if not line.lstrip().startswith(("%", "!")))
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                assert node.end_lineno - node.lineno <= 6, \
                    f"{node.name}: a helper longer than a few lines belongs in the package (sfnlab/exercises.py)"


@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.stem)
def test_notebook_runs_under_nbval(path: Path, nbval_runs: dict):
    report = nbval_runs[path]
    if report is not None:
        pytest.fail(f"pytest --nbval-lax {path.relative_to(ROOT)} failed; if a stored output changed on purpose, "
                    "rebuild with .venv/bin/python notebooks/tools/build.py\n"
                    + re.sub(r"\x1b\[[0-9;]*m", "", report)[-6000:], pytrace=False)
