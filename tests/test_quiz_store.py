"""Results store, review queue, classroom export and grading, terminal quiz."""
from __future__ import annotations

import csv
import hashlib
import io
import json
import multiprocessing
import random
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone

import pytest

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


# -- real processes: two kernels at once, a kernel killed mid-write ------------------------------
# Each child is a fresh `python -c` process using the public API. Rows carry their own number and
# a padding whose digest they also carry, so a row cut short or mixed with another shows.

WRITER = """
import hashlib, sys
from sfnlab.quiz import ResultsStore, load_bank
root, learner, count, size = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
q = next(q for q in load_bank() if q.id == "seed-q1-map-maxconcurrency")
store = ResultsStore(root, learner=learner)
i = 0
while count < 0 or i < count:  # a negative count: until killed
    pad = (learner + "-é-" + str(i)) * (size // 8 + 1)
    store.record(q, [str(i), hashlib.sha256(pad.encode()).hexdigest(), pad], True, mode="practice")
    i += 1
"""


def _start_writer(root, learner, count, size):
    return subprocess.Popen([sys.executable, "-c", WRITER, str(root), learner, str(count), str(size)])


def _check_rows(store, learners):
    """Every row intact, and each learner's rows numbered 0, 1, 2, ... in order: {learner: count}."""
    seen = {learner: 0 for learner in learners}
    for row in store.rows():
        number, digest, pad = row["chosen"]
        assert hashlib.sha256(pad.encode()).hexdigest() == digest
        assert int(number) == seen[row["learner"]]
        seen[row["learner"]] += 1
    return seen


def _complete_lines(path):
    return path.read_bytes().count(b"\n") if path.exists() else 0


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX processes and signals")
def test_two_kernels_answering_at_once_lose_and_mix_nothing(tmp_path):
    writers = [_start_writer(tmp_path, learner, 150, 20_000) for learner in ("kernel-a", "kernel-b")]
    assert [w.wait(timeout=300) for w in writers] == [0, 0]
    assert _check_rows(ResultsStore(tmp_path), ["kernel-a", "kernel-b"]) == {"kernel-a": 150, "kernel-b": 150}
    assert _complete_lines(tmp_path / "results.jsonl") == 300  # no line broken, none glued to another


KILLED_IN_WRITE = """
import os, signal, sys
import sfnlab.quiz.store as store_module
from sfnlab.quiz import ResultsStore, load_bank
q = next(q for q in load_bank() if q.id == "seed-q1-map-maxconcurrency")
store = ResultsStore(sys.argv[1], learner="doomed")
store.record(q, ["before"], True, mode="practice")
real_write = os.write
def write_half_then_die(fd, data):
    cut = bytes(data).index("é".encode()) + 1  # inside a two-byte character
    real_write(fd, data[:cut])
    os.kill(os.getpid(), signal.SIGKILL)
store_module.os.write = write_half_then_die
store.record(q, ["é" * 1000], True, mode="practice")
"""


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX processes and signals")
def test_a_kernel_killed_mid_write_loses_only_that_answer(tmp_path):
    store = ResultsStore(tmp_path, learner="me")
    q = BANK["seed-q1-map-maxconcurrency"]
    store.record(q, ["a"], False, mode="practice")
    doomed = subprocess.run([sys.executable, "-c", KILLED_IN_WRITE, str(tmp_path)], timeout=120, check=False)
    assert doomed.returncode == -signal.SIGKILL
    data = store.path.read_bytes()
    assert not data.endswith(b"\n") and data.endswith(b"\xc3")  # torn inside a UTF-8 character
    assert [r["chosen"] for r in store.rows()] == [["a"], ["before"]]
    store.record(q, ["c"], True, mode="practice")               # the store still takes answers
    survivor = _start_writer(tmp_path, "after", 3, 100)       # and so does another process
    assert survivor.wait(timeout=120) == 0
    assert [r["chosen"][0] for r in store.rows()] == ["a", "before", "c", "0", "1", "2"]


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX processes and signals")
def test_writers_killed_at_random_moments_never_corrupt_earlier_answers(tmp_path):
    store = ResultsStore(tmp_path)
    path = store.path
    rng = random.Random(7)
    kept = 0
    for round_number in range(4):
        learner = f"round-{round_number}"
        writer = _start_writer(tmp_path, learner, -1, 1_000_000)  # ~1 MB rows: kills land mid-write too
        target = _complete_lines(path) + rng.randint(1, 3)
        deadline = time.monotonic() + 120
        while _complete_lines(path) < target and time.monotonic() < deadline and writer.poll() is None:
            time.sleep(0.001)
        time.sleep(rng.uniform(0, 0.02))
        writer.kill()
        writer.wait(timeout=60)
        counts = _check_rows(store, [f"round-{n}" for n in range(round_number + 1)])
        assert counts[learner] >= 1
        assert sum(counts.values()) >= kept  # nothing written before is lost
        kept = sum(counts.values())
    store.record(BANK["seed-q1-map-maxconcurrency"], ["0", "x", "y"], True, mode="practice")
    assert list(store.rows())[-1]["chosen"] == ["0", "x", "y"]


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
