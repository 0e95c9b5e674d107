"""Choosing questions: filters, and exam sets drawn by the DVA-C02 domain weights."""
from __future__ import annotations

import random
from typing import Iterable, Sequence

from .model import DOMAIN_WEIGHTS, Option, Question

__all__ = ["select", "draw_exam", "shuffled", "arranged", "letters", "key_letters"]

_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def arranged(question: Question) -> tuple[Option, ...]:
    """The options in the order a learner sees them, lettered A, B, C... by position.

    Bank files are written key first (most answers are option ``a``), so showing them in file
    order would reward always picking A. The order is shuffled once per question, seeded by its id:
    the same question always looks the same (a learner's recorded answers, kept as option ids,
    stay readable, and an instructor's printout matches the screen).
    """
    options = list(question.options)
    random.Random(f"options of {question.id}").shuffle(options)
    return tuple(options)


def letters(question: Question) -> dict[str, str]:
    """Option id -> the letter it is shown with."""
    return {o.id: _LETTERS[i] for i, o in enumerate(arranged(question))}


def key_letters(question: Question) -> list[str]:
    """The key as shown: letters in order for ``order`` questions, else alphabetically."""
    shown = letters(question)
    keyed = [shown[a] for a in question.answer]
    return keyed if question.is_order else sorted(keyed)


def select(questions: Iterable[Question], *, topics: Sequence[str] | None = None, domains: Sequence[str] | None = None,
           ids: Sequence[str] | None = None, types: Sequence[str] | None = None) -> list[Question]:
    """Questions matching every given filter. A domain may be given as ``"2"`` or its full name;
    ``ids`` keeps the order given."""
    pool = list(questions)
    if ids:
        by_id = {q.id: q for q in pool}
        missing = [i for i in ids if i not in by_id]
        if missing:
            raise KeyError(f"unknown question ids: {', '.join(missing)}")
        pool = [by_id[i] for i in ids]
    if topics:
        pool = [q for q in pool if q.topic in topics]
    if domains:
        wanted = {d.split()[0] for d in domains}
        pool = [q for q in pool if q.domain.split()[0] in wanted]
    if types:
        pool = [q for q in pool if q.type in types]
    return pool


def draw_exam(questions: Sequence[Question], count: int, *, seed: int | None = None,
              weights: dict[str, int] | None = None) -> list[Question]:
    """``count`` questions drawn by domain weight (32/26/24/18 by default), largest remainder
    rounding; a domain short of questions gives its places to the others. Seeded and repeatable."""
    rng = random.Random(seed)
    weights = weights or DOMAIN_WEIGHTS
    pools = {d: [q for q in questions if q.domain == d] for d in weights}
    for pool in pools.values():
        rng.shuffle(pool)
    count = min(count, sum(len(p) for p in pools.values()))
    total_w = sum(w for d, w in weights.items() if pools[d]) or 1
    exact = {d: count * w / total_w if pools[d] else 0 for d, w in weights.items()}
    take = {d: min(int(x), len(pools[d])) for d, x in exact.items()}
    order = sorted(weights, key=lambda d: exact[d] - int(exact[d]), reverse=True)
    while sum(take.values()) < count:
        for d in order + sorted(weights, key=lambda d: -len(pools[d])):
            if sum(take.values()) >= count:
                break
            if take[d] < len(pools[d]):
                take[d] += 1
    chosen = [q for d in weights for q in pools[d][:take[d]]]
    rng.shuffle(chosen)
    return chosen


def shuffled(questions: Sequence[Question], seed: int | None = None) -> list[Question]:
    out = list(questions)
    random.Random(seed).shuffle(out)
    return out
