"""The review queue: spaced repetition with FSRS (the maintained ``fsrs`` library).

Each question is an FSRS card. The card states are not stored: they are rebuilt by replaying the
answers of the results log in time order (wrong → Again, right but slow → Hard, right → Good), so
the log stays the single source of truth. Fuzzing is off, so the schedule is reproducible.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Iterable, Sequence, overload

from fsrs import Card, Rating, Scheduler

from .model import Question
from .store import ResultsStore

__all__ = ["ReviewQueue", "rating_for"]

SLOW_SECONDS = 120.0


def rating_for(row: dict) -> Rating:
    if not row.get("correct"):
        return Rating.Again
    if row.get("seconds") is not None and row["seconds"] > SLOW_SECONDS:
        return Rating.Hard
    return Rating.Good


class ReviewQueue:
    """FSRS cards of every question answered at least once.

    Args:
        store: the results log to replay.
        scheduler: an ``fsrs.Scheduler`` (default: FSRS defaults, fuzzing off).
    """

    def __init__(self, store: ResultsStore, scheduler: Scheduler | None = None) -> None:
        self.store = store
        self.scheduler = scheduler or Scheduler(enable_fuzzing=False)
        self.cards: dict[str, Card] = {}
        self._replay(store.rows())

    def _replay(self, rows: Iterable[dict]) -> None:
        for row in sorted((r for r in rows if r.get("correct") is not None), key=lambda r: r["ts"]):
            card = self.cards.get(row["question"]) or Card()
            when = datetime.fromtimestamp(row["ts"], tz=timezone.utc)
            card, _ = self.scheduler.review_card(card, rating_for(row), review_datetime=when)
            self.cards[row["question"]] = card

    @overload
    def due(self, questions: Sequence[Question], *, now: datetime | None = None) -> list[Question]: ...
    @overload
    def due(self, questions: None = None, *, now: datetime | None = None) -> list[str]: ...

    def due(self, questions: Sequence[Question] | None = None, *, now: datetime | None = None) -> list[Question] | list[str]:
        """Questions due for review at ``now`` (most overdue first). With ``questions``, returns
        those objects; otherwise the ids."""
        now = now or datetime.now(timezone.utc)
        ids = [qid for qid, card in sorted(self.cards.items(), key=lambda kv: kv[1].due) if card.due <= now]
        if questions is None:
            return ids
        by_id = {q.id: q for q in questions}
        return [by_id[i] for i in ids if i in by_id]

    def next_due(self, question_id: str) -> datetime | None:
        card = self.cards.get(question_id)
        return card.due if card else None
