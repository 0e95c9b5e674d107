"""Quizzes in the kernel with ipywidgets: practice mode and timed exam mode.

    >>> import sfnlab.quiz as quiz
    >>> view = quiz.show("quizzes/error-handling.json")          # practice: feedback per question
    >>> view = quiz.show(mode="exam", count=20, minutes=40)       # exam: drawn by domain weight

The view is plain standard widgets (toggle buttons, dropdowns, buttons), so it is operable with
the keyboard (Tab, Space/Enter) and labelled for screen readers; text is large enough for a
projector (``font_size``). The logic lives in :class:`QuizView` and is testable without a browser:
set widget values, call ``.click()`` on buttons.
"""
from __future__ import annotations

import html
import threading
import time
from typing import Any, Callable, Sequence

import ipywidgets as w

from .grading import Grade, grade, score
from .model import Question, load_bank, load_questions
from .render import machine_html, to_html
from .sampling import arranged, draw_exam, key_letters, letters, select, shuffled
from .store import ResultsStore

__all__ = ["QuizView", "show"]

PASS_MARK = 720
_OK, _NO = "✔", "✘"


class QuizView:
    """One quiz on screen. ``mode``: ``"practice"`` (feedback after each question), ``"exam"``
    (timed; feedback and breakdown at the end; all-or-nothing scoring) or ``"assignment"``
    (a classroom set without the key: answers are only recorded and exported)."""

    def __init__(self, questions: Sequence[Question], *, mode: str = "practice", store: ResultsStore | None | bool = None,
                 seconds: float | None = None, clock: Callable[[], float] = time.monotonic, set_id: str | None = None,
                 font_size: str = "1.15em", title: str | None = None, ticker: bool | None = None) -> None:
        if mode not in ("practice", "exam", "assignment"):
            raise ValueError("mode must be 'practice', 'exam' or 'assignment'")
        if not questions:
            raise ValueError("no questions to show")
        if mode != "assignment" and not all(q.has_key for q in questions):
            raise ValueError("these questions have no answer key: use mode='assignment'")
        self.questions = list(questions)
        self.mode = mode
        self.store = ResultsStore() if store is None or store is True else (store or None)
        self.session = self.store.new_session() if self.store else None
        self.clock = clock
        self.seconds = seconds
        self.started = clock()
        self.set_id = set_id
        self.index = 0
        self.answers: dict[str, tuple[str, ...]] = {}
        self.grades: dict[str, Grade] = {}
        self.finished = False
        self._shown_at = clock()
        self._spent: dict[str, float] = {}
        self._displayed = False
        self._build(font_size, title)
        self._render()
        if ticker is None:
            ticker = seconds is not None and _in_kernel()
        if ticker:
            threading.Thread(target=self._tick_loop, daemon=True).start()

    # -- layout ---------------------------------------------------------------------------------
    def _build(self, font_size: str, title: str | None) -> None:
        self.title = w.HTML(f"<h3 style='margin:0.2em 0'>{html.escape(title or self._default_title())}</h3>")
        self.status = w.HTML()
        self.progress = w.IntProgress(value=0, min=0, max=len(self.questions), description="Progress",
                                      layout=w.Layout(width="60%"))
        self.timer = w.HTML()
        self.meta = w.HTML()
        self.stem = w.HTML(layout=w.Layout(width="100%"))
        self.machine = w.HTML(layout=w.Layout(width="100%"))
        self.hint = w.HTML()
        self.options_box = w.VBox(layout=w.Layout(width="100%"))
        self.feedback = w.HTML(layout=w.Layout(width="100%"))
        self.submit_button = w.Button(description="Submit", button_style="primary", icon="check",
                                      tooltip="Check this answer")
        self.prev_button = w.Button(description="Previous", icon="arrow-left", tooltip="Previous question")
        self.next_button = w.Button(description="Next", icon="arrow-right", tooltip="Next question")
        self.finish_button = w.Button(description="Finish", button_style="warning", icon="flag-checkered",
                                      tooltip="End the quiz and see the results")
        self.submit_button.on_click(lambda _: self.submit())
        self.prev_button.on_click(lambda _: self.go(self.index - 1))
        self.next_button.on_click(lambda _: self.go(self.index + 1))
        self.finish_button.on_click(lambda _: self.finish())
        buttons = [self.prev_button, self.next_button, self.finish_button]
        if self.mode == "practice":
            buttons = [self.submit_button, self.next_button, self.finish_button]
        self.buttons = w.HBox(buttons)
        self.box = w.VBox([self.title, w.HBox([self.progress, self.status, self.timer]), self.meta, self.stem,
                           self.machine, self.hint, self.options_box, self.buttons, self.feedback],
                          layout=w.Layout(width="100%", padding="0.5em"))
        self.box.add_class("sfnlab-quiz")
        self._style = f"font-size:{font_size};line-height:1.45"

    def _default_title(self) -> str:
        return {"practice": "Practice", "exam": "Exam simulation", "assignment": "Assignment"}[self.mode] + \
            f" · {len(self.questions)} questions"

    # -- rendering --------------------------------------------------------------------------------
    @property
    def question(self) -> Question:
        return self.questions[self.index]

    def _wrap(self, body: str) -> str:
        return f"<div style='{self._style}'>{body}</div>"

    def _render(self) -> None:
        q = self.question
        locked = self.finished or (self.mode == "practice" and q.id in self.grades)
        self.meta.value = self._wrap(f"<small>{html.escape(q.domain)} · task {html.escape(q.task.split()[0])} · "
                                     f"{html.escape(q.topic)} · {q.difficulty}</small>")
        self.stem.value = self._wrap(f"<b>Question {self.index + 1}.</b> " + to_html(q.stem))
        self.machine.value = self._wrap(machine_html(q.machine)) if q.machine else ""
        chosen = self.answers.get(q.id, ())
        rows = []
        self.toggles: list[w.ToggleButton] = []
        self.dropdowns: list[w.Dropdown] = []
        shown = letters(q)
        if q.is_order:
            self.hint.value = self._wrap("<i>Put the items in order: choose the item for each position.</i>")
            for o in arranged(q):
                rows.append(w.HTML(self._wrap(f"<b>{shown[o.id]}.</b> {to_html(o.text)}")))
            labels = [(shown[o.id], o.id) for o in arranged(q)]
            for pos in range(len(q.options)):
                dd = w.Dropdown(options=[("—", None)] + labels, value=chosen[pos] if pos < len(chosen) else None,
                                description=f"Position {pos + 1}", disabled=locked, layout=w.Layout(width="14em"))
                dd.observe(self._on_change, names="value")
                self.dropdowns.append(dd)
            rows.append(w.HBox(self.dropdowns, layout=w.Layout(flex_flow="row wrap")))
        else:
            need = q.select
            self.hint.value = self._wrap(f"<i>Select {need}.</i>" if q.is_multiple else "<i>Select one.</i>")
            for o in arranged(q):
                tb = w.ToggleButton(value=o.id in chosen, description=shown[o.id], disabled=locked,
                                    tooltip=f"Option {shown[o.id]}: {o.text[:200]}", layout=w.Layout(width="3.2em"))
                tb.option_id = o.id  # type: ignore[attr-defined]
                tb.observe(self._on_change, names="value")
                self.toggles.append(tb)
                rows.append(w.HBox([tb, w.HTML(self._wrap(to_html(o.text)), layout=w.Layout(width="90%"))]))
        self.options_box.children = rows
        self.feedback.value = self._feedback_html(q) if locked else ""
        self._update_controls()

    def _update_controls(self) -> None:
        q = self.question
        chosen = self.current_choice()
        done = self.finished
        if self.mode == "practice":
            self.submit_button.disabled = done or q.id in self.grades or len(chosen) != q.select or \
                (q.is_order and None in chosen)
            self.next_button.disabled = done or q.id not in self.grades
            self.next_button.description = "Next" if self.index + 1 < len(self.questions) else "Results"
        else:
            self.prev_button.disabled = done or self.index == 0
            self.next_button.disabled = done or self.index + 1 >= len(self.questions)
        self.finish_button.disabled = done
        answered = len(self.grades) if self.mode == "practice" else len([a for a in self.answers.values() if a])
        self.progress.value = answered
        if self.mode == "practice":
            s = score([x for x in self.questions if x.id in self.grades], self.grades)
            self.status.value = self._wrap(f"&nbsp;Question {self.index + 1} of {len(self.questions)} · "
                                           f"score {s.correct}/{s.total}")
        else:
            self.status.value = self._wrap(f"&nbsp;Question {self.index + 1} of {len(self.questions)} · "
                                           f"{answered} answered")
        self._update_timer()

    def current_choice(self) -> tuple:
        q = self.question
        if q.is_order:
            return tuple(dd.value for dd in self.dropdowns)
        return tuple(tb.option_id for tb in self.toggles if tb.value)  # type: ignore[attr-defined]

    def _on_change(self, change: dict) -> None:
        if self._check_time():
            return
        q = self.question
        if not q.is_order and not q.is_multiple and change["new"] is True:
            for tb in self.toggles:   # single answer: the toggles behave like radio buttons
                if tb is not change["owner"] and tb.value:
                    tb.value = False
        if self.mode != "practice":
            choice = self.current_choice()
            self.answers[q.id] = choice if not (q.is_order and None in choice) else tuple(c for c in choice if c)
        self._update_controls()

    # -- actions ----------------------------------------------------------------------------------
    def go(self, index: int) -> None:
        if self._check_time():
            return
        self._account_time()
        if self.mode == "practice" and index >= len(self.questions):
            self.finish()
            return
        self.index = max(0, min(index, len(self.questions) - 1))
        self._render()

    def _account_time(self) -> None:
        now = self.clock()
        qid = self.question.id
        self._spent[qid] = self._spent.get(qid, 0.0) + now - self._shown_at
        self._shown_at = now

    def submit(self) -> Grade | None:
        """Practice mode: grade the current choice, show per-option feedback, record the answer."""
        if self.mode != "practice" or self.finished:
            return None
        q = self.question
        choice = self.current_choice()
        if q.id in self.grades or len(choice) != q.select or (q.is_order and None in choice):
            return None
        self._account_time()
        self.answers[q.id] = choice
        g = grade(q, choice)
        self.grades[q.id] = g
        if self.store:
            self.store.record(q, choice, g.correct, mode=self.mode, session=self.session,
                              seconds=self._spent.get(q.id), set_id=self.set_id)
        self._render()
        return g

    def finish(self) -> None:
        """End the quiz: in exam mode grade everything (unanswered = wrong) and show the report."""
        if self.finished:
            return
        self._account_time()
        self.finished = True
        if self.mode in ("exam", "assignment"):
            for q in self.questions:
                chosen = self.answers.get(q.id, ())
                correct = None
                if q.has_key:
                    self.grades[q.id] = grade(q, chosen)
                    correct = self.grades[q.id].correct
                if self.store:
                    self.store.record(q, chosen, correct, mode=self.mode, session=self.session,
                                      seconds=self._spent.get(q.id), set_id=self.set_id)
        self.feedback.value = self.report_html()
        self.options_box.children = ()
        self.stem.value = self.machine.value = self.hint.value = self.meta.value = ""
        self._update_controls()
        self.submit_button.disabled = self.next_button.disabled = self.prev_button.disabled = True

    # -- time -------------------------------------------------------------------------------------
    def remaining(self) -> float | None:
        if self.seconds is None:
            return None
        return max(0.0, self.started + self.seconds - self.clock())

    def _update_timer(self) -> None:
        left = self.remaining()
        if left is None:
            self.timer.value = ""
            return
        m, s = divmod(int(left), 60)
        self.timer.value = self._wrap(f"&nbsp;⏱ <b>{m:02d}:{s:02d}</b> left")

    def _check_time(self) -> bool:
        """Finish the exam when time is up; True if it just ended."""
        left = self.remaining()
        if left is not None and left <= 0 and not self.finished:
            self.finish()
            return True
        return self.finished and left is not None and left <= 0

    def tick(self) -> None:
        self._check_time()
        if not self.finished:
            self._update_timer()

    def _tick_loop(self) -> None:  # pragma: no cover - needs a live kernel
        while not self.finished:
            time.sleep(1)
            self.tick()

    # -- feedback ---------------------------------------------------------------------------------
    def _feedback_html(self, q: Question) -> str:
        g = self.grades.get(q.id)
        if g is None:
            return ""
        verdict = (f"<b style='color:#1b5e20'>{_OK} Correct</b>" if g.correct
                   else f"<b style='color:#b71c1c'>{_NO} Not quite</b>")
        items = []
        shown = letters(q)
        for o in arranged(q):
            keyed = o.id in q.answer
            picked = o.id in g.chosen
            mark = _OK if keyed else _NO
            who = " (your choice)" if picked else ""
            items.append(f"<li><b>{mark} {shown[o.id]}{who}:</b> {to_html(o.feedback)}</li>")
        key = (" → " if q.is_order else ", ").join(key_letters(q))
        refs = q.references
        ref_text = []
        if refs.get("notebook"):
            ref_text.append(f"notebook <code>{html.escape(refs['notebook'])}</code>")
        for r in refs.get("aws", []):
            title = html.escape(r["title"])
            ref_text.append(f"<a href='{html.escape(r['url'])}' target='_blank'>{title}</a>" if r.get("url") else title)
        proven = " · <i>answer proven by running the machine in sfnlab</i>" if q.proven else ""
        return self._wrap(f"<div role='status' style='border-left:4px solid #888;padding-left:0.6em'>{verdict} — "
                          f"answer: <b>{key}</b><ul style='margin:0.3em 0'>{''.join(items)}</ul>"
                          f"<div><b>Why:</b> {to_html(q.explanation)}</div>"
                          f"<div><small>See: {'; '.join(ref_text)}{proven}</small></div></div>")

    def report_html(self) -> str:
        if self.mode == "assignment":
            answered = len([a for a in self.answers.values() if a])
            return self._wrap(f"<h3>Answers recorded</h3><p>{answered} of {len(self.questions)} answered. "
                              "Export them with <code>sfnlab.quiz.export_responses(...)</code> and hand the file in.</p>")
        s = score(self.questions, self.grades)
        line = ""
        if self.mode == "exam":
            passed = s.scaled >= PASS_MARK
            line = (f"<p>Illustrative scaled score: <b>{s.scaled}</b> / 1000 (pass line {PASS_MARK}) — "
                    f"{'above' if passed else 'below'} the line. <small>AWS does not publish its scaling; this figure "
                    "is a linear conversion for practice only.</small></p>")
        rows = "".join(f"<tr><td>{html.escape(t)}</td><td>{c}/{n}</td><td>{100 * c // n}%</td></tr>"
                       for t, (c, n) in sorted(s.by_topic.items()))
        drows = "".join(f"<tr><td>{html.escape(t)}</td><td>{c}/{n}</td><td>{100 * c // n}%</td></tr>"
                        for t, (c, n) in sorted(s.by_domain.items()))
        table = "<table><tr><th align=left>{}</th><th>score</th><th>%</th></tr>{}</table>"
        review = ""
        if self.mode == "exam":
            parts = []
            for i, q in enumerate(self.questions, 1):
                parts.append(f"<details><summary>{_OK if self.grades[q.id].correct else _NO} Question {i}: "
                             f"{html.escape(q.stem[:90])}…</summary>{to_html(q.stem)}{self._feedback_html(q)}</details>")
            review = "<h4>Review</h4>" + "".join(parts)
        return self._wrap(f"<h3>Result: {s.correct} / {s.total} ({s.percent:.0f}%)</h3>{line}"
                          f"<h4>By topic</h4>{table.format('topic', rows)}<h4>By domain</h4>{table.format('domain', drows)}"
                          f"<p><small>Multiple-response questions score only when every choice is right, as on the exam. "
                          f"Unanswered questions count as wrong.</small></p>{review}")

    # -- display ----------------------------------------------------------------------------------
    def display(self) -> None:
        from IPython.display import display

        display(self.box)
        self._displayed = True

    def _ipython_display_(self) -> None:
        if not self._displayed:
            self.display()

    def __repr__(self) -> str:
        return f"<QuizView {self.mode}: {len(self.questions)} questions, question {self.index + 1}>"


def _in_kernel() -> bool:
    try:
        from IPython import get_ipython

        ip = get_ipython()
        return ip is not None and getattr(ip, "kernel", None) is not None
    except Exception:  # pragma: no cover
        return False


def show(questions: Any = None, mode: str = "practice", *, topic: str | Sequence[str] | None = None,
         domain: str | Sequence[str] | None = None, ids: Sequence[str] | None = None, count: int | None = None,
         minutes: float | None = None, seed: int | None = None, store: ResultsStore | None | bool = None,
         shuffle: bool | None = None, display: bool = True, **options: Any) -> QuizView:
    """Show a quiz in the notebook and return its :class:`QuizView`.

    Args:
        questions: a quiz file or folder, a list of questions, or None for the whole bank.
        mode: "practice", "exam" or "assignment" (a classroom set without the key).
        topic, domain, ids: filters (see :func:`sfnlab.quiz.select`).
        count: how many questions (exam: drawn by domain weight; default 65, or all if fewer).
        minutes: exam time limit (default: 2 minutes per question, as 130 min / 65 questions).
        seed: makes the draw and the order repeatable.
        store: a :class:`ResultsStore` (default: ``$SFNLAB_HOME``), or False to keep nothing.
        display: show it now (in Jupyter); the returned view will not display a second time.
    """
    if questions is None:
        pool = load_bank()
    elif isinstance(questions, (list, tuple)) and questions and isinstance(questions[0], Question):
        pool = list(questions)
    else:
        pool = [q for q in load_questions(questions) if not q.pending]
    topics = [topic] if isinstance(topic, str) else topic
    domains = [domain] if isinstance(domain, str) else domain
    pool = select(pool, topics=topics, domains=domains, ids=ids)
    seconds = None
    if mode == "exam":
        pool = draw_exam(pool, count or 65, seed=seed)
        seconds = (minutes if minutes is not None else 2 * len(pool)) * 60
    else:
        if shuffle or (shuffle is None and seed is not None):
            pool = shuffled(pool, seed)
        if count:
            pool = pool[:count]
        if minutes is not None:
            seconds = minutes * 60
    view = QuizView(pool, mode=mode, store=store, seconds=seconds, **options)
    if display and _in_kernel():
        view.display()
    return view
