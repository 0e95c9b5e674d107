"""Grading: all-or-nothing per question, as on the exam (an unanswered question is wrong)."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterable, Sequence

from .model import Question
from .sampling import letters as shown_letters

__all__ = ["Grade", "grade", "parse_answer", "Score", "score"]


@dataclass(frozen=True)
class Grade:
    question_id: str
    chosen: tuple[str, ...]
    correct: bool
    right_picks: tuple[str, ...] = ()   # chosen and keyed (for feedback only, never partial credit)
    wrong_picks: tuple[str, ...] = ()
    missed: tuple[str, ...] = ()


def grade(question: Question, chosen: Iterable[str] | None) -> Grade:
    """Grade one answer. ``order`` questions compare the sequence; the others compare the set."""
    picks = tuple(chosen or ())
    key = question.answer
    if question.is_order:
        ok = picks == key
    else:
        ok = bool(picks) and set(picks) == set(key) and len(set(picks)) == len(picks)
    return Grade(question.id, picks, ok,
                 right_picks=tuple(p for p in picks if p in key),
                 wrong_picks=tuple(p for p in picks if p not in key),
                 missed=tuple(k for k in key if k not in picks))


def parse_answer(question: Question, text: str) -> tuple[str, ...]:
    """Letters typed by a learner (``B``, ``a, c``, ``AC`` or ``b d a c e`` for order), as the
    option ids they stand for in the order shown (see :func:`sfnlab.quiz.sampling.letters`).

    Raises:
        ValueError: letters that are not options, repeats, or the wrong count.
    """
    by_letter = {letter: option_id for option_id, letter in shown_letters(question).items()}
    typed = tuple(ch.upper() for ch in re.findall(r"[A-Za-z]", text or ""))
    bad = [x for x in typed if x not in by_letter]
    if bad:
        raise ValueError(f"not an option: {', '.join(bad)}")
    letters = tuple(by_letter[x] for x in typed)
    if len(set(letters)) != len(letters):
        raise ValueError("each option may be given once")
    need = question.select
    if question.type in ("multiple", "order") and len(letters) != need:
        raise ValueError(f"give {need} letters" + (" in order" if question.is_order else ""))
    if question.type not in ("multiple", "order") and len(letters) != 1:
        raise ValueError("give one letter")
    return letters


@dataclass
class Score:
    correct: int = 0
    total: int = 0
    by_topic: dict[str, list[int]] = field(default_factory=dict)   # topic -> [correct, total]
    by_domain: dict[str, list[int]] = field(default_factory=dict)

    @property
    def percent(self) -> float:
        return 100.0 * self.correct / self.total if self.total else 0.0

    @property
    def scaled(self) -> int:
        """An *illustrative* 100–1000 figure (linear; AWS's scaling is not published)."""
        return round(100 + 900 * self.correct / self.total) if self.total else 100


def score(questions: Sequence[Question], grades: dict[str, Grade]) -> Score:
    """Totals and per-topic/per-domain breakdown; a question without a grade counts as wrong."""
    s = Score()
    for q in questions:
        ok = int(grades[q.id].correct) if q.id in grades else 0
        s.correct += ok
        s.total += 1
        for table, key in ((s.by_topic, q.topic), (s.by_domain, q.domain)):
            row = table.setdefault(key, [0, 0])
            row[0] += ok
            row[1] += 1
    return s
