"""The notebooks in a real browser: JupyterLab on a loopback port, driven by headless Chromium.

What nbval cannot see, this test does: the page a learner gets. It starts JupyterLab from this
Python (so the kernel is this environment), opens ``00-start-here.ipynb`` and
``15-exam-practice.ipynb``, runs all cells from the Run menu, and checks

* that the set-up check draws its state machine: an SVG with the nodes ``Hello`` and ``Done``;
* that a quiz question answered by clicking is graded in the page: the right option gives
  "Correct", a wrong one "Not quite", each with the answer key.

Screenshots go to ``$SFNLAB_ARTEFACTS`` (default ``artifacts/browser/``) for CI to keep.

The browser is Chromium driven by Playwright through ``executable_path``; nothing is downloaded.
It is found as ``$SFNLAB_CHROMIUM``, ``chromium``, ``chromium-browser`` or Playwright's own.
Without Playwright or a Chromium the test skips and says which is missing (``.ci/run`` installs
Debian's ``chromium`` where it can). JupyterLab runs with a temporary HOME, Jupyter config, data,
runtime and settings folders and ``SFNLAB_HOME``, on a copy of the notebooks, so nothing leaks.
Waits are generous and nothing is timed: a slow machine is slower, not red.
"""
from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
START_HERE = "00-start-here.ipynb"
QUIZ_NOTEBOOK = "15-exam-practice.ipynb"
ARTEFACTS = Path(os.environ.get("SFNLAB_ARTEFACTS") or ROOT / "artifacts" / "browser")

SERVER_START = 120      # seconds: JupyterLab up and answering
RUN_ALL = 180_000       # milliseconds: every cell of a notebook run, widgets shown
UI = 60_000             # milliseconds: one page change after a click

# JupyterLab settings for a quiet, predictable page: no news/update toast over the notebook.
LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false", "checkForUpdates": False},
}

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e '.[test]')")


def find_chromium() -> str | None:
    """A Chromium to launch: ``$SFNLAB_CHROMIUM``, the system one, or one Playwright installed."""
    chosen = os.environ.get("SFNLAB_CHROMIUM")
    if chosen:
        return chosen if Path(chosen).exists() else None   # asked for this one: no other
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    try:
        with sync_api.sync_playwright() as p:
            own = p.chromium.executable_path
    except Exception:  # no driver or no browser build: not this test's failure
        return None
    return own if own and Path(own).exists() else None


CHROMIUM = find_chromium()
pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason=(f"SFNLAB_CHROMIUM={os.environ['SFNLAB_CHROMIUM']} does not exist" if os.environ.get("SFNLAB_CHROMIUM")
            else "no Chromium found (set SFNLAB_CHROMIUM, or install Debian's chromium: apt-get install chromium)"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def answering(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """JupyterLab serving a copy of the notebooks; yields its base URL and token."""
    tmp = tmp_path_factory.mktemp("lab")
    work = tmp / "notebooks"
    shutil.copytree(NOTEBOOKS, work, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    settings = tmp / "lab-settings"
    for name, values in LAB_SETTINGS.items():
        path = settings / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    home = tmp / "home"
    home.mkdir()
    env = {**os.environ, "HOME": str(home), "SFNLAB_HOME": str(tmp / "sfnlab-home"),
           "JUPYTER_CONFIG_DIR": str(tmp / "jupyter-config"), "JUPYTER_DATA_DIR": str(tmp / "jupyter-data"),
           "JUPYTER_RUNTIME_DIR": str(tmp / "jupyter-runtime"), "JUPYTERLAB_SETTINGS_DIR": str(settings),
           "JUPYTERLAB_WORKSPACES_DIR": str(tmp / "lab-workspaces"), "IPYTHONDIR": str(tmp / "ipython")}
    port, token = free_port(), secrets.token_hex(16)
    log = open(tmp / "jupyterlab.log", "w")
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--allow-root", f"--port={port}",
         "--ServerApp.port_retries=0", "--ServerApp.ip=127.0.0.1", f"--IdentityProvider.token={token}",
         f"--ServerApp.root_dir={work}"],
        cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + SERVER_START
        while not answering(f"{base}/api/status?token={token}"):
            if server.poll() is not None or time.monotonic() > deadline:
                log.flush()
                pytest.fail("JupyterLab did not start:\n" + (tmp / "jupyterlab.log").read_text()[-3000:])
            time.sleep(0.5)
        yield base, token
    finally:
        server.terminate()   # SIGTERM: JupyterLab shuts its kernels down and exits
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        log.close()


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        # --no-sandbox: CI runs as root, where Chromium refuses its sandbox.
        chromium = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser, request):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(UI)
    try:
        yield page
    finally:
        if not page.is_closed():
            screenshot(page, f"{request.node.name}-last")   # what the page showed at the end, pass or fail
        context.close()


def screenshot(target, name: str) -> Path:
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTEFACTS / f"{name}.png"
    target.screenshot(path=str(path))
    return path


def centre(element) -> None:
    """Scroll so the element is in the middle of the screen, for a screenshot around it."""
    element.evaluate("e => e.scrollIntoView({block: 'center'})")


def open_and_run_all(page, lab, notebook: str) -> None:
    """Open a notebook, wait for its kernel, Run > Run All Cells, and wait until every cell ran."""
    base, token = lab
    page.goto(f"{base}/lab/tree/{notebook}?reset&token={token}")   # reset: only this notebook open
    panel = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)")
    # Its kernel has started and is idle (the toolbar's own indicator says "idle" before there is one).
    panel.locator(".jp-KernelName", has_text="Python 3").wait_for(timeout=RUN_ALL)
    page.locator(".jp-StatusBar-TextItem", has_text=re.compile(r"^Python 3.*\| Idle$")).wait_for(timeout=RUN_ALL)
    page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
    page.locator(".lm-Menu-item:not(.lm-mod-disabled)", has_text="Run All Cells").first.click()
    code_cells = panel.locator(".jp-CodeCell")
    count = code_cells.count()
    assert count > 0
    # Done when the last code cell has its execution number and the kernel is idle again.
    try:
        page.wait_for_function(ALL_RAN, arg=[count], timeout=RUN_ALL)
    except sync_api.TimeoutError:
        prompts = code_cells.locator(".jp-InputPrompt").all_text_contents()
        status = panel.locator(".jp-Notebook-ExecutionIndicator").get_attribute("data-status")
        pytest.fail(f"{notebook}: not every cell ran; prompts {prompts}, kernel {status}")


ALL_RAN = """([count]) => {
    const panel = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');
    const prompts = [...panel.querySelectorAll('.jp-CodeCell .jp-InputPrompt')].map(p => p.textContent);
    const idle = panel.querySelector(".jp-Notebook-ExecutionIndicator[data-status='idle']");
    return prompts.length === count && prompts.every(t => /\\[\\d+\\]/.test(t)) && idle !== null;
}"""


def option_buttons(quiz) -> dict[str, object]:
    """The option toggles of the question on screen, by their option text (from the tooltip)."""
    buttons = quiz.locator("button.widget-toggle-button")
    found = {}
    for i in range(buttons.count()):
        button = buttons.nth(i)
        title = button.get_attribute("title") or ""
        label, _, text = title.partition(": ")
        assert label.startswith("Option "), title
        found[text] = button
    return found


def question_on_screen(buttons: dict[str, object]):
    """The bank question whose options are those on screen (the test knows the key; the page must grade)."""
    import sfnlab.quiz as quiz

    texts = set(buttons)
    matches = [q for q in quiz.load_bank() if {o.text[:200] for o in q.options} == texts]
    assert len(matches) == 1, f"{len(matches)} bank questions have the options {sorted(texts)}"
    return matches[0]


def answer(quiz, *, right: bool) -> tuple[list[str], list[str]]:
    """Click options (the key, or a wrong choice of as many) and Submit.

    Returns the letters on screen of the keyed options and of the options clicked."""
    buttons = option_buttons(quiz)
    question = question_on_screen(buttons)
    if question.is_order:
        pytest.fail(f"question {question.id} asks for an order; pick a notebook quiz that opens on a choice")
    key = [o.text[:200] for o in question.options if o.id in question.answer]
    others = [o.text[:200] for o in question.options if o.id not in question.answer]
    choice = key if right else (others + key)[:question.select]
    assert right or set(choice) != set(key), f"question {question.id} has no wrong answer to give"
    for text in choice:
        buttons[text].click()
        sync_api.expect(buttons[text]).to_have_class(re.compile(r"\bmod-active\b"))
    submit = quiz.get_by_role("button", name="Submit")
    sync_api.expect(submit).to_be_enabled()
    submit.click()
    letter = {text: button.inner_text().strip() for text, button in buttons.items()}
    return [letter[t] for t in key], [letter[t] for t in choice]


def expect_feedback(quiz, verdict: str, key: list[str], chosen: list[str]) -> None:
    """The verdict, every keyed option marked right, and the learner's choices marked as theirs."""
    feedback = quiz.locator("[role=status]")
    sync_api.expect(feedback).to_contain_text(verdict, timeout=UI)
    sync_api.expect(feedback).to_contain_text("answer: ")
    for letter in key:
        sync_api.expect(feedback).to_contain_text(re.compile(rf"✔ {letter}( \(your choice\))?:"))
    for letter in chosen:
        sync_api.expect(feedback).to_contain_text(re.compile(rf"[✔✘] {letter} \(your choice\):"))


def grade_a_click(page, quiz, *, right: bool, shot: str) -> None:
    """Answer the one quiz ``quiz`` finds, rightly or not, and check its verdict, marks and score."""
    sync_api.expect(quiz).to_have_count(1)
    quiz.scroll_into_view_if_needed()
    key, chosen = answer(quiz, right=right)
    expect_feedback(quiz, "✔ Correct" if right else "✘ Not quite", key, chosen)
    sync_api.expect(quiz).to_contain_text("score 1/1" if right else "score 0/1")
    centre(quiz.get_by_role("button", name="Submit"))
    screenshot(page, shot)


def test_start_here_draws_the_machine_and_grades_a_click(page, lab):
    open_and_run_all(page, lab, START_HERE)
    drawing = page.locator(".jp-OutputArea-output svg").filter(has=page.locator("g.node"))
    sync_api.expect(drawing.first).to_be_visible(timeout=UI)
    nodes = drawing.first.locator("g.node > title")
    assert {"Hello", "Done"} <= set(nodes.all_text_contents())   # the two states (besides start and end marks)
    assert drawing.first.locator("g.edge").count() >= 1
    sync_api.expect(page.locator(".jp-OutputArea-output", has_text="SUCCEEDED").first).to_be_visible()
    centre(drawing.first)
    screenshot(page, "00-start-here-drawing")

    grade_a_click(page, page.locator(".sfnlab-quiz"), right=True, shot="00-start-here-quiz-correct")


def test_quiz_notebook_grades_a_wrong_click(page, lab):
    open_and_run_all(page, lab, QUIZ_NOTEBOOK)
    grade_a_click(page, page.locator(".sfnlab-quiz", has_text="Practice"), right=False,
                  shot="15-exam-practice-quiz-wrong")
