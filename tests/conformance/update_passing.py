"""Grow the conformance ratchet: add every case that passes now to passing.txt.

    python tests/conformance/update_passing.py          # adds newly passing ids, keeps the rest
    python tests/conformance/update_passing.py --check  # only report what would change

A listed case that fails now is reported and kept: the ratchet never shrinks silently.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
CORPUS = HERE.parent.parent.parent / "shared" / "conformance"
PASSING = HERE / "passing.txt"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.json"
        subprocess.run([sys.executable, str(CORPUS / "run.py"), "--json", str(report)], check=True)
        verdicts = json.loads(report.read_text())["verdicts"]
    passing_now = {cid for cid, v in verdicts.items() if v["verdict"] == "pass"}
    listed = {line.strip() for line in PASSING.read_text().splitlines() if line.strip() and not line.startswith("#")} \
        if PASSING.exists() else set()
    regressed = sorted(listed - passing_now)
    added = sorted(passing_now - listed)
    for cid in regressed:
        print(f"REGRESSED {cid}: {verdicts.get(cid, {}).get('problem')}")
    print(f"{len(added)} newly passing, {len(regressed)} regressed, {len(listed | passing_now)} listed")
    if not args.check:
        header = "# Conformance cases that pass; the build fails when one stops passing (tests/test_conformance.py).\n"
        PASSING.write_text(header + "\n".join(sorted(listed | passing_now)) + "\n")
    return 1 if regressed else 0


if __name__ == "__main__":
    sys.exit(main())
