"""The README's "Two commands" are what CI runs: .ci/readme_commands.py reads them from README.md,
and .ci/run runs that script instead of its own copy, so the README cannot drift from CI."""
from __future__ import annotations

import importlib.util
import re
import shlex
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("readme_commands", ROOT / ".ci" / "readme_commands.py")
readme_commands = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(readme_commands)


def test_the_readme_has_the_two_commands_ci_runs():
    install, test = readme_commands.readme_commands((ROOT / "README.md").read_text(encoding="utf-8"))
    steps = [shlex.split(step) for step in install.split("&&")]
    assert steps[0] == ["python3", "-m", "venv", ".venv"]
    assert steps[1][:3] == [".venv/bin/pip", "install", "-e"] and steps[1][3].startswith(".[test")
    assert steps[-1][:3] == [".venv/bin/jupyter", "lab", "notebooks/"]
    assert shlex.split(test)[:3] == [".venv/bin/python", "-m", "pytest"]


def test_ci_runs_the_readme_commands_and_no_copy_of_them():
    run = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    code = [line for line in run.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    assert any(re.search(r"\bpython3 \.ci/readme_commands\.py\s*$", line) for line in code)
    for copied in ("pip install", "pytest", "jupyter", "venv"):
        assert not any(copied in line for line in code), f".ci/run runs '{copied}' itself"


README = """# x

## Two commands

Text.

```bash
a && b
```

and

```bash
c
```

## Next

```bash
not a command of the section
```
"""


def test_the_commands_are_the_bash_blocks_of_the_section_only():
    assert readme_commands.readme_commands(README) == ["a && b", "c"]


@pytest.mark.parametrize("text, problem", [
    (README.replace("## Two commands", "## Commands"), "no '## Two commands' section"),
    (README.replace("```bash\nc\n```", "```\nc\n```"), "has 1 ```bash blocks, not 2"),
    (README.replace("```bash\nc\n```", "```bash\nc\n```\n\n```bash\nd\n```"), "has 3 ```bash blocks, not 2"),
    (README.replace("a && b", "a &&\nb"), "must be one line"),
])
def test_a_readme_that_breaks_the_promise_is_an_error(text, problem):
    with pytest.raises(readme_commands.ReadmeError, match=re.escape(problem)):
        readme_commands.readme_commands(text)
