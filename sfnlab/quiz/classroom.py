"""Classroom use: build a set, hand it out without the key, collect responses, grade to CSV.

For example::

    s = build_set(load_bank(), topics=["retry-catch"], count=10, seed=1, name="week-3")
    export_set(s, "week-3.json")             # for learners: no answers, feedback or explanations
    export_key(s, "week-3.key.json")          # for the instructor
    # learners: sfnlab.quiz.show("week-3.json", mode="assignment"), then export_responses(...)
    # instructor: sfnlab quiz grade responses/*.json --key week-3.key.json -o gradebook.csv
"""
from __future__ import annotations

import csv
import io
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Mapping, Sequence

from .grading import grade
from .model import Question, load_questions
from .sampling import select, shuffled
from .store import ResultsStore, atomic_write_text

__all__ = ["QuestionSet", "build_set", "export_set", "export_key", "export_responses", "load_key",
           "grade_responses", "write_gradebook"]

SET_FORMAT = "sfnlab-quiz-set/1"
KEY_FORMAT = "sfnlab-quiz-key/1"
RESPONSES_FORMAT = "sfnlab-quiz-responses/1"


@dataclass
class QuestionSet:
    name: str
    questions: list[Question]


def build_set(questions: Iterable[Question], *, name: str, topics: Sequence[str] | None = None,
              domains: Sequence[str] | None = None, ids: Sequence[str] | None = None, count: int | None = None,
              seed: int | None = None) -> QuestionSet:
    pool = [q for q in select(questions, topics=topics, domains=domains, ids=ids) if not q.pending]
    if seed is not None and not ids:
        pool = shuffled(pool, seed)
    if count:
        pool = pool[:count]
    if not pool:
        raise ValueError("no question matches the filters")
    return QuestionSet(name, pool)


def export_set(qset: QuestionSet, path: str | Path) -> Path:
    """The learner's file: a valid quiz file whose questions carry no key, feedback or explanation."""
    data = {"title": f"{qset.name} (learner copy)", "description": f"{SET_FORMAT} {qset.name}",
            "questions": [q.without_key() for q in qset.questions]}
    return atomic_write_text(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def export_key(qset: QuestionSet, path: str | Path) -> Path:
    data = {"format": KEY_FORMAT, "set": qset.name,
            "answers": {q.id: {"type": q.type, "answer": list(q.answer), "topic": q.topic, "domain": q.domain}
                        for q in qset.questions}}
    return atomic_write_text(path, json.dumps(data, indent=2) + "\n")


def load_key(path: str | Path) -> dict[str, dict]:
    """An answer key: a key file, or any quiz file or folder that carries answers."""
    p = Path(path)
    if p.is_file():
        data = json.loads(p.read_text(encoding="utf-8"))
        if isinstance(data, dict) and data.get("format") == KEY_FORMAT:
            return data["answers"]
    return {q.id: {"type": q.type, "answer": list(q.answer), "topic": q.topic, "domain": q.domain}
            for q in load_questions(p) if q.has_key}


def export_responses(path: str | Path, *, learner: str, set_name: str | None = None, store: ResultsStore | None = None,
                     questions: Sequence[Question] | None = None, answers: Mapping[str, Sequence[str]] | None = None) -> Path:
    """A learner's responses file, from explicit ``answers`` or from the latest answers in the store
    (restricted to ``questions`` or to ``set_name`` when given)."""
    if answers is None:
        store = store or ResultsStore()
        wanted = {q.id for q in questions} if questions else None
        latest: dict[str, list[str]] = {}
        for row in store.rows():
            if (wanted is None or row["question"] in wanted) and (set_name is None or row.get("set") in (set_name, None)):
                latest[row["question"]] = row["chosen"]
        answers = latest
    data = {"format": RESPONSES_FORMAT, "learner": learner, "set": set_name, "exported": time.time(),
            "answers": {k: list(v) for k, v in answers.items()}}
    return atomic_write_text(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")


@dataclass
class _Graded:
    learner: str
    file: str
    marks: dict[str, int]


def grade_responses(response_files: Sequence[str | Path], key: Mapping[str, dict]) -> list[_Graded]:
    """Grade every responses file against the key (all-or-nothing; unanswered = 0)."""
    from .model import Option, Question as Q

    out = []
    for f in response_files:
        data = json.loads(Path(f).read_text(encoding="utf-8"))
        if data.get("format") != RESPONSES_FORMAT:
            raise ValueError(f"{f}: not an sfnlab responses file")
        marks = {}
        for qid, k in key.items():
            stub = Q(id=qid, domain=k.get("domain", ""), task="", topic=k.get("topic", ""), type=k["type"], stem="",
                     options=tuple(Option(id=a, text=a, feedback="") for a in k["answer"]), answer=tuple(k["answer"]),
                     explanation="", references={}, difficulty="easy")
            marks[qid] = int(grade(stub, data["answers"].get(qid, ())).correct)
        out.append(_Graded(data.get("learner") or Path(f).stem, str(f), marks))
    return out


def write_gradebook(graded: Sequence[_Graded], key: Mapping[str, dict], path: str | Path | None = None) -> str:
    """The gradebook as CSV (learner, file, score, total, percent, one 0/1 column per question)."""
    ids = list(key)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["learner", "file", "score", "total", "percent", *ids])
    for g in graded:
        total = len(ids)
        got = sum(g.marks.get(i, 0) for i in ids)
        writer.writerow([g.learner, g.file, got, total, f"{100.0 * got / total:.1f}" if total else "0.0",
                         *[g.marks.get(i, 0) for i in ids]])
    text = buf.getvalue()
    if path is not None:
        atomic_write_text(path, text)
    return text
