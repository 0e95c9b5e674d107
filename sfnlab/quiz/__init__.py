"""DVA-C02 practice quizzes: questions as data, proven answers, widgets, results, classroom.

    >>> import sfnlab.quiz as quiz
    >>> bank = quiz.load_bank()                         # every question in quizzes/, validated
    >>> view = quiz.show(topic="retry-catch")           # practice in the notebook
    >>> view = quiz.show(mode="exam", count=30)         # a timed exam drawn by domain weight

Behavioural answers are proven: a question's ``proof`` (machine, input, functions as data) is run
through sfnlab by :func:`check_question`, and the test suite checks the key against it.
"""
from __future__ import annotations

from .classroom import build_set, export_key, export_responses, export_set, grade_responses, load_key, write_gradebook
from .grading import Grade, Score, grade, parse_answer, score
from .model import (DOMAIN_WEIGHTS, Option, Question, QuizFormatError, default_bank_dir, lint_questions, load_bank,
                    load_questions, schema, validate_file_data)
from .proof import check_question, make_functions, run_proof
from .review import ReviewQueue
from .sampling import draw_exam, select
from .store import ResultsStore, home_dir

__all__ = [
    "Question", "Option", "QuizFormatError", "DOMAIN_WEIGHTS", "schema", "load_questions", "load_bank",
    "default_bank_dir", "validate_file_data", "lint_questions", "check_question", "make_functions", "run_proof",
    "Grade", "Score", "grade", "parse_answer", "score", "select", "draw_exam", "ResultsStore", "home_dir",
    "ReviewQueue", "build_set", "export_set", "export_key", "export_responses", "load_key", "grade_responses",
    "write_gradebook", "show", "QuizView",
]


def show(*args, **kwargs):
    """Show a quiz with ipywidgets (see :func:`sfnlab.quiz.widgets.show`)."""
    from .widgets import show as _show

    return _show(*args, **kwargs)


def __getattr__(name):
    if name == "QuizView":
        from .widgets import QuizView

        return QuizView
    raise AttributeError(name)
