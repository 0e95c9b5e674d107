"""The README's two commands, read from README.md and run as written: CI's fresh-install check.

README.md promises, under "## Two commands", two ```bash blocks: the first installs everything
into a new ``.venv`` and starts JupyterLab on ``notebooks/``; the second runs the tests. CI runs
exactly those lines (parsed here, never copied into a script), so the README cannot drift:

1. the first command in its own process group, until the JupyterLab it starts answers on its
   URL and serves ``notebooks/00-start-here.ipynb``; then JupyterLab is stopped with SIGTERM
   (its clean shutdown) and must exit;
2. the second command, whose exit status is this script's.

    python3 .ci/readme_commands.py            # the check (from the checkout's root)
    python3 .ci/readme_commands.py --print    # only show the two commands

Only the standard library: this runs before any environment exists.
"""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SECTION = "## Two commands"
NOTEBOOK = "00-start-here.ipynb"
INSTALL_AND_START = 1800   # seconds for the first command to install and bring JupyterLab up
STOP = 60                  # seconds for JupyterLab to shut down after SIGTERM

_BLOCK = re.compile(r"^```bash[ \t]*\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)


class ReadmeError(ValueError):
    """README.md does not hold the two commands the way this check (and a reader) expects."""


def readme_commands(text: str) -> list[str]:
    """The commands of the ```bash blocks under "## Two commands", in order; exactly two, one line each."""
    start = text.find("\n" + SECTION + "\n")
    if start < 0:
        raise ReadmeError(f"README.md has no '{SECTION}' section")
    body = text[start + len(SECTION) + 2:]
    following = re.search(r"^## ", body, re.MULTILINE)
    body = body[:following.start()] if following else body
    commands = [block.strip() for block in _BLOCK.findall(body)]
    if len(commands) != 2:
        raise ReadmeError(f"'{SECTION}' has {len(commands)} ```bash blocks, not 2")
    for command in commands:
        if not command or "\n" in command:
            raise ReadmeError(f"each of the two commands must be one line: {command!r}")
    return commands


def _get(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as e:
        return e.code
    except (urllib.error.URLError, OSError):
        return None


def _servers(runtime: Path) -> list[dict]:
    """The servers JupyterLab announced in its runtime folder (what ``jupyter server list`` reads)."""
    found = []
    for path in runtime.glob("jpserver-*.json"):
        try:
            found.append(json.loads(path.read_text()))
        except (OSError, ValueError):   # being written
            pass
    return found


def start_and_stop_jupyterlab(command: str) -> None:
    """Run the first command until its JupyterLab serves the notebooks, then stop it cleanly."""
    with tempfile.TemporaryDirectory(prefix="sfnlab-ci-jupyter-") as runtime:
        # Its own runtime folder, so the server found is this one; and nobody to open a browser for.
        env = {**os.environ, "JUPYTER_RUNTIME_DIR": runtime, "BROWSER": "true"}
        shell = subprocess.Popen(["bash", "-c", command], cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
                                 start_new_session=True)
        server = None
        try:
            deadline = time.monotonic() + INSTALL_AND_START
            while server is None:
                if shell.poll() is not None:
                    sys.exit(f"fresh install: the first command exited ({shell.returncode}) before JupyterLab answered")
                if time.monotonic() > deadline:
                    sys.exit(f"fresh install: no JupyterLab answering after {INSTALL_AND_START} s")
                for info in _servers(Path(runtime)):
                    token = info.get("token", "")
                    if _get(f"{info['url']}api/status?token={token}") == 200:
                        server = info
                time.sleep(1)
            contents = f"{server['url']}api/contents/{NOTEBOOK}?content=0&token={server.get('token', '')}"
            if _get(contents) != 200:
                sys.exit(f"fresh install: JupyterLab answers at {server['url']} but does not serve {NOTEBOOK}")
            print(f"fresh install: JupyterLab answered at {server['url']} serving {server.get('root_dir')}; stopping it",
                  flush=True)
            os.kill(server["pid"], signal.SIGTERM)
            try:
                shell.wait(timeout=STOP)
            except subprocess.TimeoutExpired:
                sys.exit(f"fresh install: JupyterLab did not stop within {STOP} s of SIGTERM")
            if shell.returncode != 0:
                sys.exit(f"fresh install: JupyterLab did not stop cleanly: exit status {shell.returncode}")
            print("fresh install: JupyterLab stopped cleanly", flush=True)
        finally:
            if shell.poll() is None:
                os.killpg(shell.pid, signal.SIGKILL)
                shell.wait()


def main(argv: list[str]) -> int:
    install, test = readme_commands((ROOT / "README.md").read_text(encoding="utf-8"))
    if "--print" in argv:
        print(install)
        print(test)
        return 0
    if (ROOT / ".venv").exists():
        print("fresh install: note: .venv exists already, so this is not a fresh environment", flush=True)
    print(f"fresh install: README command 1: {install}", flush=True)
    start_and_stop_jupyterlab(install)
    print(f"fresh install: README command 2: {test}", flush=True)
    return subprocess.run(["bash", "-c", test], cwd=ROOT, stdin=subprocess.DEVNULL).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
