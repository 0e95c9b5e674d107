"""The package type-checks: mypy over sfnlab, with the [tool.mypy] configuration of pyproject.toml.

A ratchet: mypy once reported 184 errors here; it now reports none, and this keeps it so.
The cache stays in the project's .mypy_cache (git-ignored), so a run after the first takes
about a second instead of several.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_mypy_reports_no_errors() -> None:
    pytest.importorskip("mypy", reason="mypy is not installed (pip install -e '.[test]')")
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", str(ROOT / "pyproject.toml"), "--no-color-output",
         "--no-error-summary"],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )
    report = (done.stdout + done.stderr).strip()
    assert done.returncode == 0, f"mypy found errors (exit {done.returncode}):\n{report}"
