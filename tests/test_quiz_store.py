"""Results store, review queue, classroom export and grading, terminal quiz."""
from __future__ import annotations

import csv
import io
import json
import multiprocessing
import os
from datetime import datetime, timedelta, timezone

from sfnlab import cli
from sfnlab.quiz import (ResultsStore, ReviewQueue, build_set, export_key, export_responses, export_set, load_bank,
                         load_questions)
from sfnlab.quiz.store import atomic_write_text

BANK = {q.id: q for q in load_bank()}


def _writer(root, n, tag):
    store = ResultsStore(root, learner=tag)
    q = BANK["seed-q1-map-maxconcurrency"]
    for i in range(n):
        store.record(q, ["c"], True, mode="practice", seconds=float(i))


def test_two_processes_append_without_losing_or_mixing_lines(tmp_path):
    procs = [multiprocessing.Process(target=_writer, args=(tmp_path, 200, t)) for t in ("k1", "k2")]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    lines = (tmp_path / "results.jsonl").read_text().splitlines()
    assert len(lines) == 400 and all(json.loads(line)["question"] for line in lines)


def test_torn_last_line_is_skipped_and_repaired(tmp_path):
    store = ResultsStore(tmp_path)
    q = BANK["seed-q1-map-maxconcurrency"]
    store.record(q, ["c"], True, mode="practice")
    with open(store.path, "ab") as f:
        f.write(b'{"question": "half-writ')        # a crash in the middle of a write
    store.record(q, ["a"], False, mode="practice")
    rows = list(store.rows())
    assert [r["chosen"] for r in rows] == [["c"], ["a"]]


def test_progress_and_wrong_answers(tmp_path):
    store = ResultsStore(tmp_path)
    a, b = BANK["seed-q1-map-maxconcurrency"], BANK["seed-q2-human-approval"]
    store.record(a, ["a"], False, mode="practice", when=1_700_000_000)
    store.record(a, ["c"], True, mode="practice", when=1_700_000_100)
    store.record(b, ["a"], False, mode="practice", when=1_700_000_200)
    progress = store.progress()
    assert progress["map-parallel"]["answered"] == 2 and progress["map-parallel"]["percent"] == 50.0
    assert [r["question"] for r in store.wrong_answers()] == [b.id]


def test_atomic_write_replaces(tmp_path):
    target = tmp_path / "out.csv"
    atomic_write_text(target, "one")
    atomic_write_text(target, "two")
    assert target.read_text() == "two" and [p.name for p in tmp_path.iterdir()] == ["out.csv"]


def test_review_queue_uses_fsrs(tmp_path):
    store = ResultsStore(tmp_path)
    a, b = BANK["seed-q1-map-maxconcurrency"], BANK["seed-q2-human-approval"]
    t0 = 1_700_000_000
    store.record(a, ["a"], False, mode="practice", when=t0)
    store.record(b, ["c"], True, mode="practice", when=t0)
    queue = ReviewQueue(store)
    start = datetime.fromtimestamp(t0, tz=timezone.utc)
    assert queue.next_due(a.id) < queue.next_due(b.id)          # a wrong answer comes back sooner
    assert queue.due(now=start + timedelta(minutes=5)) == [a.id]
    assert set(queue.due(now=start + timedelta(days=30))) == {a.id, b.id}
    assert [q.id for q in queue.due(list(BANK.values()), now=start + timedelta(minutes=5))] == [a.id]


def test_classroom_build_export_and_grade(tmp_path, capsys):
    qset = build_set(load_bank(), name="week-3", ids=["seed-q1-map-maxconcurrency", "catch-retry-state-types",
                                                      "dataflow-order"])
    learner_file = export_set(qset, tmp_path / "week-3.json")
    key_file = export_key(qset, tmp_path / "week-3.key.json")
    text = learner_file.read_text()
    assert '"answer": [\n        "a"' in text or '"no-key"' in text
    for q in qset.questions:                   # no feedback or explanation leaks into the learner copy
        assert q.explanation not in text
        assert q.options[0].feedback not in text
    learner_qs = load_questions(learner_file)
    assert all(not q.has_key for q in learner_qs)
    export_responses(tmp_path / "ada.json", learner="ada", set_name="week-3",
                     answers={"seed-q1-map-maxconcurrency": ["c"], "catch-retry-state-types": ["a", "b", "c"],
                              "dataflow-order": ["a", "b", "c", "d", "e"]})
    export_responses(tmp_path / "bob.json", learner="bob", set_name="week-3",
                     answers={"seed-q1-map-maxconcurrency": ["b"], "catch-retry-state-types": ["a", "b"]})
    out = tmp_path / "gradebook.csv"
    rc = cli.main(["quiz", "grade", str(tmp_path / "ada.json"), str(tmp_path / "bob.json"),
                   "--key", str(key_file), "-o", str(out)])
    assert rc == 0
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert [(r["learner"], r["score"], r["total"]) for r in rows] == [("ada", "3", "3"), ("bob", "0", "3")]
    # the bank itself also works as a key
    rc = cli.main(["quiz", "grade", str(tmp_path / "ada.json"), "--key", str(load_bank()[0].file and
                                                                               __import__("sfnlab.quiz.model", fromlist=["x"]).default_bank_dir())])
    assert rc == 0 and "ada" in capsys.readouterr().out


def test_cli_build_writes_set_and_key(tmp_path):
    rc = cli.main(["quiz", "build", "--name", "w", "--topic", "choice", "--count", "3", "--seed", "1",
                   "-o", str(tmp_path / "w.json"), "--key-output", str(tmp_path / "k.json")])
    assert rc == 0
    assert len(json.loads((tmp_path / "k.json").read_text())["answers"]) == 3


def test_terminal_quiz_reads_piped_stdin(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("SFNLAB_HOME", str(tmp_path))
    q = BANK["choice-boundary-next-state"]
    monkeypatch.setattr("sys.stdin", io.StringIO("x\nB\n"))
    rc = cli.main(["quiz", "--ids", q.id, "--count", "1"])
    out = capsys.readouterr().out
    assert rc == 0 and "not an option: X" in out and "Correct!" in out and "Score: 1/1" in out
    assert [r["correct"] for r in ResultsStore(tmp_path).rows()] == [True]


def test_terminal_exam_mode(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO("a\n" * 5))
    rc = cli.main(["quiz", "--exam", "--count", "5", "--seed", "2", "--no-store"])
    out = capsys.readouterr().out
    assert rc == 0 and "===== Review =====" in out and "Illustrative scaled score" in out


def test_cli_stats_and_validate(capsys):
    assert cli.main(["quiz", "stats"]) == 0
    out = capsys.readouterr().out
    assert "proven by the interpreter" in out and "by topic" in out
    assert cli.main(["quiz", "validate"]) == 0
