"""Widget quizzes driven without a browser: set values, click buttons."""
from __future__ import annotations

import pytest

pytest.importorskip("ipywidgets")

from sfnlab.quiz import ResultsStore, load_bank
from sfnlab.quiz.sampling import arranged, letters
from sfnlab.quiz.widgets import QuizView, show

BANK = {q.id: q for q in load_bank()}


class Clock:
    def __init__(self):
        self.t = 1000.0

    def __call__(self):
        return self.t


def pick(view, *ids):
    for tb in view.toggles:
        if tb.option_id in ids:
            tb.value = True


def test_practice_single_feedback_and_score(tmp_path):
    store = ResultsStore(tmp_path)
    q1, q2 = BANK["choice-boundary-next-state"], BANK["seed-q6-states-all-last"]
    view = QuizView([q1, q2], mode="practice", store=store)
    assert view.submit_button.disabled            # nothing chosen yet
    pick(view, "a")
    pick(view, "b")                                # single answer: choosing b releases a
    assert [tb.option_id for tb in view.toggles if tb.value] == ["b"]
    assert not view.submit_button.disabled
    view.submit_button.click()
    assert "Correct" in view.feedback.value and "Default" in view.feedback.value
    assert all(tb.disabled for tb in view.toggles)
    assert "score 1/1" in view.status.value
    view.next_button.click()
    assert view.index == 1 and view.feedback.value == ""
    pick(view, "b")
    view.submit_button.click()
    assert "Not quite" in view.feedback.value
    assert "score 1/2" in view.status.value
    rows = list(store.rows())
    assert [r["correct"] for r in rows] == [True, False]
    view.next_button.click()                       # past the last question: the results
    assert view.finished and "Result: 1 / 2" in view.feedback.value


def test_practice_multiple_needs_the_right_count(tmp_path):
    q = BANK["catch-retry-state-types"]
    view = QuizView([q], mode="practice", store=ResultsStore(tmp_path))
    assert "Select 3" in view.hint.value
    pick(view, "a", "b")
    assert view.submit_button.disabled
    pick(view, "d")
    view.submit_button.click()
    g = view.grades[q.id]
    assert not g.correct and g.wrong_picks == ("d",) and g.missed == ("c",)   # all-or-nothing


def test_order_question_with_dropdowns(tmp_path):
    q = BANK["dataflow-order"]
    view = QuizView([q], mode="practice", store=False)
    for dd, oid in zip(view.dropdowns, q.answer):
        dd.value = oid
    view.submit_button.click()
    assert view.grades[q.id].correct


def test_exam_mode_feedback_only_at_the_end(tmp_path):
    store = ResultsStore(tmp_path)
    clock = Clock()
    qs = [BANK["seed-q1-map-maxconcurrency"], BANK["seed-q2-human-approval"], BANK["parallel-facts"]]
    view = QuizView(qs, mode="exam", store=store, seconds=600, clock=clock)
    assert "10:00" in view.timer.value
    pick(view, "c")
    assert view.feedback.value == ""               # no feedback during the exam
    view.next_button.click()
    pick(view, "a")                                # wrong
    view.prev_button.click()
    assert [tb.option_id for tb in view.toggles if tb.value] == ["c"]   # kept when navigating
    view.finish_button.click()
    assert view.finished
    report = view.feedback.value
    assert "Result: 1 / 3" in report and "By topic" in report and "map-parallel" in report
    assert "pass line 720" in report
    assert len(list(store.rows())) == 3            # unanswered question recorded as wrong
    assert [r["correct"] for r in store.rows()] == [True, False, False]


def test_exam_time_limit_ends_the_exam(tmp_path):
    clock = Clock()
    view = QuizView([BANK["seed-q1-map-maxconcurrency"]], mode="exam", store=False, seconds=60, clock=clock)
    clock.t += 61
    view.tick()
    assert view.finished and "Result: 0 / 1" in view.feedback.value


def test_show_exam_draws_by_domain_weight(tmp_path):
    view = show(mode="exam", count=40, seed=3, store=ResultsStore(tmp_path), display=False)
    assert len(view.questions) == 40
    domains = {q.domain.split()[0] for q in view.questions}
    assert domains == {"1", "2", "3", "4"}
    assert view.seconds == 80 * 60


def test_assignment_mode_without_key(tmp_path):
    from sfnlab.quiz import build_set, export_set, load_questions

    path = export_set(build_set(load_bank(), name="w1", ids=["seed-q1-map-maxconcurrency"]), tmp_path / "w1.json")
    qs = load_questions(path)
    assert not qs[0].has_key
    with pytest.raises(ValueError):
        QuizView(qs, mode="practice", store=False)
    view = QuizView(qs, mode="assignment", store=ResultsStore(tmp_path), set_id="w1")
    pick(view, "c")
    view.finish_button.click()
    assert "Answers recorded" in view.feedback.value
    assert [r["chosen"] for r in ResultsStore(tmp_path).rows()] == [["c"]]


def test_options_are_shown_shuffled_once_per_question_and_lettered_by_position():
    # The bank is written key first; shown in file order, "always A" would score most questions.
    singles = [q for q in BANK.values() if q.type != "order" and len(q.answer) == 1]
    shown_as_a = sum(letters(q)[q.answer[0]] == "A" for q in singles)
    assert shown_as_a / len(singles) < 0.4
    q = BANK["seed-q2-human-approval"]
    assert arranged(q) == arranged(q) and sorted(o.id for o in arranged(q)) == sorted(o.id for o in q.options)
    view = QuizView([q], mode="practice", store=False)
    assert [tb.description for tb in view.toggles] == ["A", "B", "C", "D"]
    assert [tb.option_id for tb in view.toggles] == [o.id for o in arranged(q)]
    pick(view, q.answer[0])
    view.submit_button.click()
    assert f"answer: <b>{letters(q)[q.answer[0]]}</b>" in view.feedback.value
    assert f"{letters(q)[q.answer[0]]} (your choice)" in view.feedback.value


def test_typed_letters_mean_the_options_shown_with_them():
    from sfnlab.quiz.grading import parse_answer

    q = BANK["dataflow-order"]
    shown = letters(q)
    typed = " ".join(shown[a] for a in q.answer)
    assert parse_answer(q, typed) == q.answer
    assert parse_answer(q, typed.lower()) == q.answer
    with pytest.raises(ValueError):
        parse_answer(q, "Z")
