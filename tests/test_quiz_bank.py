"""The question bank: schema, exam format rules, coverage, and every behavioural key proven by
running its machine through sfnlab."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from sfnlab.quiz import check_question, load_bank, load_questions, validate_file_data
from sfnlab.quiz.model import BEHAVIOUR_TYPES, default_bank_dir

BANK_DIR = default_bank_dir()
FILES = sorted(BANK_DIR.glob("*.json"))
ALL = load_questions(BANK_DIR)
BANK = [q for q in ALL if not q.pending]
PROVEN = [q for q in BANK if q.proven]


def test_bank_folder_has_files():
    assert FILES, f"no quiz files in {BANK_DIR}"


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_file_matches_schema(path: Path):
    assert validate_file_data(json.loads(path.read_text()), path.name) == []


def test_format_rules_and_unique_ids():
    # load_questions raises QuizFormatError listing every problem; reaching here means none.
    assert len({q.id for q in ALL}) == len(ALL)


def test_bank_size_and_mix():
    assert len(BANK) >= 150
    assert sum(q.type == "multiple" for q in BANK) >= 0.25 * len(BANK)
    assert len(PROVEN) >= 0.40 * len(BANK)


def test_every_behaviour_question_is_proven_or_pending():
    for q in ALL:
        if q.type in BEHAVIOUR_TYPES:
            assert q.proven or q.pending, q.id


def test_pending_questions_stay_out_of_quizzes():
    assert all(not q.pending for q in load_bank())


def test_seed_practice_questions_are_included():
    sources = {q.source for q in BANK if q.source}
    assert {f"seed:Q{i}" for i in range(1, 7)} <= sources


def test_every_topic_of_the_issue_is_covered():
    topics = {q.topic for q in BANK}
    for topic in ["state-types", "choice", "wait", "standard-vs-express", "integration-patterns",
                  "service-integrations", "retry-catch", "error-names", "io-processing", "context-object",
                  "map-parallel", "distributed-map", "intrinsics", "limits", "history", "iam-security",
                  "observability", "idempotency", "deployment-testing", "lambda-async", "messaging", "backoff-jitter"]:
        assert topic in topics, topic
    assert {q.domain.split()[0] for q in BANK} == {"1", "2", "3", "4"}


@pytest.mark.parametrize("question", PROVEN, ids=lambda q: q.id)
def test_key_agrees_with_the_engine(question):
    correct, observed = check_question(question)
    assert correct == set(question.answer), (
        f"{question.id}: the engine makes {sorted(correct)} correct, the key says {list(question.answer)}; "
        f"observed {observed}")


def test_a_wrong_key_is_caught():
    q = next(q for q in PROVEN if q.type == "predict-output")
    wrong = next(o.id for o in q.options if o.id not in q.answer)
    data = dict(q.raw, answer=[wrong])
    broken = load_questions([data])[0]
    correct, _ = check_question(broken)
    assert correct != set(broken.answer)


def test_schema_rejects_bad_question():
    bad = {"title": "x", "questions": [{"id": "Bad Id", "domain": "9 Nope", "type": "single"}]}
    problems = validate_file_data(bad)
    assert problems and any("Bad Id" in p or "id" in p for p in problems)


def test_lint_rejects_wrong_option_count():
    from sfnlab.quiz import QuizFormatError

    q = dict(BANK[0].raw)
    q["options"] = q["options"][:3]
    q["answer"] = [q["options"][0]["id"]]
    q.pop("proof", None)
    q["type"] = "single"
    with pytest.raises(QuizFormatError):
        load_questions([q])


def test_a_missing_bank_says_where_it_comes_from(monkeypatch, tmp_path):
    # A wheel install has no quizzes/ beside the package: the error tells the learner what to do.
    monkeypatch.setenv("SFNLAB_QUIZZES", str(tmp_path / "nowhere"))
    with pytest.raises(FileNotFoundError, match="quizzes/ folder of sfnlab's source checkout.*SFNLAB_QUIZZES"):
        load_bank()
    monkeypatch.setenv("SFNLAB_QUIZZES", str(Path(__file__).resolve().parents[1] / "quizzes"))
    assert load_bank()
