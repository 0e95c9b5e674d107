"""Questions as data: the model, loading and validation of quiz files.

A quiz file (``quizzes/*.json``) holds ``{"title", "questions": [...]}``; each question is checked
against the JSON Schema shipped with the package (``schema.json``) and then against the exam's
format rules that a schema cannot say (one key of four options, "Select N" for multiple response,
unique ids, a domain that matches its task, a proof for every interpreter-backed question).
"""
from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence, cast

__all__ = [
    "Option", "Question", "QuizFormatError", "schema", "load_questions", "load_bank", "default_bank_dir",
    "validate_file_data", "lint_questions", "SINGLE_ANSWER_TYPES", "BEHAVIOUR_TYPES", "DOMAIN_WEIGHTS",
]

SINGLE_ANSWER_TYPES = frozenset({"single", "predict-output", "predict-next-state", "predict-error", "retry-timeline"})
BEHAVIOUR_TYPES = frozenset({"predict-output", "predict-next-state", "predict-error", "retry-timeline"})
DOMAIN_WEIGHTS = {
    "1 Development with AWS Services": 32,
    "2 Security": 26,
    "3 Deployment": 24,
    "4 Troubleshooting and Optimization": 18,
}
_COUNT_WORDS = {2: "TWO", 3: "THREE", 4: "FOUR", 5: "FIVE"}


class QuizFormatError(ValueError):
    """A quiz file breaks the schema or the exam's format rules; ``problems`` lists every one."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(self.problems[:10]) + (" ..." if len(self.problems) > 10 else ""))


@dataclass(frozen=True)
class Option:
    id: str
    text: str
    feedback: str
    value: Any = None
    has_value: bool = False
    input: Any = None
    machine: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class Question:
    """One question. ``answer`` lists option ids (in order, for ``order`` questions); it is
    empty in a learner's copy exported without the key."""

    id: str
    domain: str
    task: str
    topic: str
    type: str
    stem: str
    options: tuple[Option, ...]
    answer: tuple[str, ...]
    explanation: str
    references: Mapping[str, Any]
    difficulty: str
    proof: Mapping[str, Any] | None = None
    source: str | None = None
    note: str | None = None
    tags: tuple[str, ...] = ()
    file: str | None = field(default=None, compare=False)
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def is_multiple(self) -> bool:
        return self.type == "multiple"

    @property
    def is_order(self) -> bool:
        return self.type == "order"

    @property
    def select(self) -> int:
        """How many options a learner picks (for ``order``: all of them, in order)."""
        if self.is_order:
            return len(self.options)
        return len(self.answer) if self.answer else _declared_select(self.stem)

    @property
    def proven(self) -> bool:
        """Whether the keyed answer is re-derived by running the interpreter."""
        return bool(self.proof) and "pending" not in cast(Mapping[str, Any], self.proof)

    @property
    def pending(self) -> bool:
        return bool(self.proof) and "pending" in cast(Mapping[str, Any], self.proof)

    @property
    def has_key(self) -> bool:
        return bool(self.answer)

    @property
    def machine(self) -> Mapping[str, Any] | None:
        if self.proof and self.proof.get("show_machine", True) and "machine" in self.proof:
            return self.proof["machine"]
        return None

    def option(self, option_id: str) -> Option:
        for o in self.options:
            if o.id == option_id:
                return o
        raise KeyError(option_id)

    def without_key(self) -> dict:
        """The question as data for a learner: no answer, no feedback, no explanation, no proof
        values that would give the answer away (the machine and input stay: they are the question)."""
        data = {k: v for k, v in self.raw.items() if k not in ("answer", "explanation", "note")}
        data["options"] = [{k: v for k, v in o.items() if k in ("id", "text", "value", "input", "machine")}
                           | {"feedback": "(hidden)"} for o in self.raw["options"]]
        for o in data["options"]:
            if "text" not in o:
                o["text"] = _value_text(o.get("value"))
            if self.proof and not self.proof.get("per_option"):
                o.pop("value", None)
        if self.proof:
            data["proof"] = {k: v for k, v in self.proof.items() if k in ("machine", "input", "functions", "show_machine",
                                                                          "workflow_type", "pending")}
            if "machine" in data["proof"] and "check" not in data["proof"]:
                data["proof"]["check"] = "status"  # keeps the learner file valid against the schema
        data["answer"] = ["a"]  # placeholder: the schema requires a list; 'key' false marks it void
        data["explanation"] = "(hidden until graded)"
        data.setdefault("tags", [])
        data["tags"] = [t for t in data["tags"] if t != "no-key"] + ["no-key"]
        return data


def _declared_select(stem: str) -> int:
    m = re.search(r"Select (TWO|THREE|FOUR|FIVE)", stem)
    return {v: k for k, v in _COUNT_WORDS.items()}[m.group(1)] if m else 1


def _value_text(value: Any) -> str:
    if value is None:
        return "null"
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))


@lru_cache(maxsize=1)
def schema() -> dict:
    """The JSON Schema of a quiz file (package data, loaded with importlib.resources)."""
    return json.loads(resources.files("sfnlab.quiz").joinpath("schema.json").read_text(encoding="utf-8"))


def _validator():
    import jsonschema

    cls = jsonschema.validators.validator_for(schema())
    return cls(schema())


def validate_file_data(data: Any, name: str = "<data>") -> list[str]:
    """Schema problems of one quiz file's data, as readable strings (empty when valid)."""
    problems = []
    for error in sorted(_validator().iter_errors(data), key=lambda e: list(e.absolute_path)):
        where = "/".join(str(p) for p in error.absolute_path)
        problems.append(f"{name}: /{where}: {error.message[:300]}")
    return problems


def _question_from(data: Mapping[str, Any], file: str | None) -> Question:
    options = tuple(
        Option(id=o["id"], text=o.get("text") if "text" in o else _value_text(o.get("value")),
               feedback=o["feedback"], value=o.get("value"), has_value="value" in o, input=o.get("input"),
               machine=o.get("machine"))
        for o in data["options"]
    )
    no_key = "no-key" in data.get("tags", ())
    return Question(
        id=data["id"], domain=data["domain"], task=data["task"], topic=data["topic"], type=data["type"],
        stem=data["stem"], options=options, answer=() if no_key else tuple(data["answer"]),
        explanation="" if no_key else data["explanation"], references=data["references"],
        difficulty=data["difficulty"], proof=data.get("proof"), source=data.get("source"), note=data.get("note"),
        tags=tuple(data.get("tags", ())), file=file, raw=data,
    )


def lint_questions(questions: Iterable[Question]) -> list[str]:
    """The exam's format rules, beyond the schema."""
    problems: list[str] = []
    seen: dict[str, str | None] = {}
    for q in questions:
        where = f"{q.file or '<data>'}: {q.id}"
        if q.id in seen:
            problems.append(f"{where}: duplicate id (also in {seen[q.id]})")
        seen[q.id] = q.file
        if not q.task.startswith(q.domain.split()[0] + "."):
            problems.append(f"{where}: task {q.task!r} is not in domain {q.domain!r}")
        ids = [o.id for o in q.options]
        if ids != [chr(ord("a") + i) for i in range(len(ids))]:
            problems.append(f"{where}: option ids must be a, b, c, ... in order")
        texts = [o.text for o in q.options]
        if len(set(texts)) != len(texts):
            problems.append(f"{where}: two options have the same text")
        if "no-key" in q.tags:
            continue
        unknown = [a for a in q.answer if a not in ids]
        if unknown:
            problems.append(f"{where}: answer names unknown options {unknown}")
        if len(set(q.answer)) != len(q.answer):
            problems.append(f"{where}: answer repeats an option")
        if q.type in SINGLE_ANSWER_TYPES:
            if len(q.options) != 4 or len(q.answer) != 1:
                problems.append(f"{where}: a {q.type} question has exactly 1 correct option of 4")
        elif q.type == "multiple":
            if len(q.options) < 5 or len(q.answer) < 2 or len(q.answer) >= len(q.options):
                problems.append(f"{where}: a multiple-response question has 2 or more correct of 5 or more options")
            word = _COUNT_WORDS.get(len(q.answer))
            if word and f"Select {word}" not in q.stem:
                problems.append(f"{where}: the stem must say 'Select {word}.'")
        elif q.type == "order":
            if sorted(q.answer) != sorted(ids):
                problems.append(f"{where}: an order answer lists every option once")
        if q.type in BEHAVIOUR_TYPES and not q.proof:
            problems.append(f"{where}: a {q.type} question needs a proof (machine, input, check)")
        if q.proven:
            proof = cast(Mapping[str, Any], q.proof)  # a proven question has one
            per_option = proof.get("per_option")
            if per_option:
                missing = [o.id for o in q.options if (o.input if per_option == "input" else o.machine) is None
                           and not (per_option == "input" and "input" in proof)]
                if missing:
                    problems.append(f"{where}: options {missing} have no {per_option} for the proof")
                if "expect" not in proof:
                    problems.append(f"{where}: a per-option proof needs 'expect'")
            elif q.type != "order":
                missing = [o.id for o in q.options if not o.has_value]
                if missing:
                    problems.append(f"{where}: options {missing} need a 'value' to compare with the engine")
    return problems


def _read(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise QuizFormatError([f"{path.name}: not valid JSON: {exc}"]) from None


def load_questions(source: Any, *, validate: bool = True) -> list[Question]:
    """Questions from a quiz file, a directory of them, a list of question dicts, a file's data
    dict, or already loaded :class:`Question` objects.

    Raises:
        QuizFormatError: a file breaks the schema or the format rules (every problem is listed).
    """
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if path.is_dir():
            questions: list[Question] = []
            for child in sorted(path.glob("*.json")):
                questions.extend(load_questions(child, validate=False))
            if validate:
                problems = lint_questions(questions)
                if problems:
                    raise QuizFormatError(problems)
            return questions
        data = _read(path)
        name = path.name
    elif isinstance(source, Mapping):
        data, name = source, "<data>"
    else:
        items = list(source)
        if all(isinstance(q, Question) for q in items):
            return items
        data, name = {"title": "questions", "questions": items}, "<data>"
    if validate or isinstance(source, (str, os.PathLike)):
        problems = validate_file_data(data, name)
        if problems:
            raise QuizFormatError(problems)
    questions = [_question_from(q, name) for q in data["questions"]]
    if validate:
        problems = lint_questions(questions)
        if problems:
            raise QuizFormatError(problems)
    return questions


def default_bank_dir() -> Path:
    """``$SFNLAB_QUIZZES``, else the ``quizzes/`` folder of the source checkout."""
    env = os.environ.get("SFNLAB_QUIZZES")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2] / "quizzes"


def load_bank(path: Any = None, *, include_pending: bool = False) -> list[Question]:
    """The whole question bank (validated). Questions whose proof is pending are left out unless
    ``include_pending``: an unproven behavioural claim is never put in front of a learner.

    Raises:
        FileNotFoundError: no bank at ``path`` or, by default, at :func:`default_bank_dir` (the
            message says where the bank comes from and how to point sfnlab at it).
    """
    if path is None:
        path = default_bank_dir()
        if not path.is_dir():
            # A wheel install has the package without the checkout's quizzes/ folder beside it.
            raise FileNotFoundError(
                f"sfnlab's question bank was not found at {path}: it is the quizzes/ folder of sfnlab's "
                "source checkout (the README installs sfnlab from one). Set SFNLAB_QUIZZES to that "
                "folder, or pass the bank's path.")
    questions = load_questions(path)
    return [q for q in questions if include_pending or not q.pending]
