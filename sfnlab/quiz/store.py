"""Results that last: every answer appended to a local JSONL log.

The log lives in ``$SFNLAB_HOME`` (default ``~/.sfnlab``) as ``results.jsonl``. Each answer is one
JSON line written with one ``os.write`` on a file opened with ``O_APPEND``, under an exclusive
``flock`` where the platform has one, then fsync'ed: two kernels appending at once cannot
interleave their lines, and a crash can at worst leave a torn last line, which readers skip and
the next writer terminates first (a process killed mid-write, or a full disk, loses only the
row it was writing). Lines are read as bytes, so a line torn inside a UTF-8 character is skipped
like any other. Everything else (progress, wrong answers, the review queue) is
computed from the log, so there is no second file to get out of step. Exports are written to a
temporary file and moved into place with ``os.replace``.

Why not rewrite the whole log into a temporary file and rename it for every answer: that costs
the size of the log per answer, and two writers renaming at once would each drop the other's
row unless they also locked; appending costs one line and loses at most the line being written.
"""
from __future__ import annotations

import contextlib
import json
import os
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Iterator

try:  # POSIX
    import fcntl
except ImportError:  # pragma: no cover - Windows: O_APPEND single writes only
    fcntl = None  # type: ignore[assignment]

__all__ = ["ResultsStore", "home_dir", "atomic_write_text"]


def home_dir() -> Path:
    return Path(os.environ.get("SFNLAB_HOME") or Path.home() / ".sfnlab")


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` to ``path`` atomically (temporary file in the same folder + os.replace)."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return target


def _last_byte(path: Path, size: int) -> bytes:
    with open(path, "rb") as f:
        f.seek(size - 1)
        return f.read(1)


def _fsync_directory(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # pragma: no cover - Windows cannot open folders; its rename is durable enough
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover - some filesystems refuse fsync on a folder
        pass
    finally:
        os.close(fd)


@dataclass
class ResultsStore:
    """The local answer log of one learner (or one classroom machine)."""

    root: Path | None = None
    learner: str = "me"

    def __post_init__(self) -> None:
        self.root = Path(self.root) if self.root is not None else home_dir()

    @property
    def path(self) -> Path:
        assert self.root is not None
        return self.root / "results.jsonl"

    # -- writing --------------------------------------------------------------------------------
    def record(self, question, chosen: Iterable[str], correct: bool | None, *, mode: str, session: str | None = None,
               seconds: float | None = None, set_id: str | None = None, when: float | None = None) -> dict:
        """Append one answer; returns the stored row."""
        row = {
            "ts": when if when is not None else time.time(),
            "learner": self.learner,
            "question": question.id,
            "topic": question.topic,
            "domain": question.domain,
            "type": question.type,
            "chosen": list(chosen),
            "correct": correct,
            "mode": mode,
            "session": session,
            "seconds": None if seconds is None else round(seconds, 1),
            "set": set_id,
        }
        self.append(row)
        return row

    def append(self, row: dict) -> None:
        """Append one row durably: when this returns, the row survives a crash of any process."""
        line = (json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        created = not self.path.exists()
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            if fcntl is not None:
                fcntl.flock(fd, fcntl.LOCK_EX)  # released by the kernel if this process dies holding it
            size = os.fstat(fd).st_size
            if size and _last_byte(self.path, size) != b"\n":
                line = b"\n" + line  # a writer died mid-line: end its torn line so ours stands alone
            written = 0
            while written < len(line):  # a write may be short (a signal, a full disk): finish it
                written += os.write(fd, line[written:])
            os.fsync(fd)
        finally:
            if fcntl is not None:
                fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)
        if created:
            _fsync_directory(self.path.parent)  # the new file's name must survive a crash too

    # -- reading --------------------------------------------------------------------------------
    def rows(self, *, learner: str | None = None) -> Iterator[dict]:
        """Every stored answer, oldest first (torn or foreign lines are skipped)."""
        try:
            f = open(self.path, "rb")  # bytes: a torn line may end inside a UTF-8 character
        except FileNotFoundError:
            return
        with f:
            for line in f:
                try:
                    row = json.loads(line)
                except ValueError:  # includes UnicodeDecodeError
                    continue
                if isinstance(row, dict) and "question" in row and (learner is None or row.get("learner") == learner):
                    yield row

    def progress(self, *, by: str = "topic") -> dict[str, dict[str, Any]]:
        """Per topic (or ``by="domain"``, ``"day"``): answered, correct, percent, last answer time."""
        out: dict[str, dict[str, Any]] = {}
        for row in self.rows():
            if row.get("correct") is None:
                continue
            key = time.strftime("%Y-%m-%d", time.localtime(row["ts"])) if by == "day" else row.get(by, "?")
            s = out.setdefault(key, {"answered": 0, "correct": 0, "last": 0.0})
            s["answered"] += 1
            s["correct"] += int(bool(row["correct"]))
            s["last"] = max(s["last"], row["ts"])
        for s in out.values():
            s["percent"] = round(100.0 * s["correct"] / s["answered"], 1)
        return dict(sorted(out.items()))

    def wrong_answers(self) -> list[dict]:
        """The latest answer to each question that was last answered wrongly."""
        latest: dict[str, dict] = {}
        for row in self.rows():
            if row.get("correct") is not None:
                latest[row["question"]] = row
        return [r for r in latest.values() if r["correct"] is False]

    def new_session(self) -> str:
        return uuid.uuid4().hex[:12]
