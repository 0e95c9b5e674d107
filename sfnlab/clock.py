"""The virtual clock and a deterministic discrete-event scheduler.

Nothing in sfnlab sleeps. Time is a number of seconds since the Unix epoch that only moves when
the scheduler jumps to the next timer, so a year-long Wait costs one heap operation.

Concurrency (Map iterations, Parallel branches, several executions of one client) is cooperative:
each line of control is a Python generator that yields a command when it must wait:

* ``Sleep(seconds)``: resume me that much later in virtual time;
* ``Join(tasks)``: resume me when all these tasks have finished (their results are sent back);
* ``Suspend(key)``: park me until someone calls :meth:`Scheduler.resume` with that key (a task
  token waiting for ``SendTaskSuccess``), optionally with a timeout.

Time moves only to reach *active* work (Waits, Retry back-offs). Timers that merely guard
something (execution timeouts, task-token timeouts and heartbeats) are *passive*: they fire when
the clock passes them on its way to active work, or when it is advanced on purpose. So an
execution that waits for SendTaskSuccess stays RUNNING, at the same virtual time, until the
token comes back or the learner advances the clock.

Work that does not wait never yields, so a chain of 10,000 Pass states is a plain loop.
Ties are broken by a sequence number: the same definition and input always run the same way.
"""
from __future__ import annotations

import gc
import heapq
import threading
from collections import deque
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import lru_cache
from typing import Any, Callable, Generator, Iterator, cast

__all__ = ["VirtualClock", "Scheduler", "Task", "Sleep", "Join", "Suspend", "Resumed", "iso"]


# A run keeps many small objects alive (its history and state visits). Each batch of them makes
# CPython's garbage collector walk every object of the process once more (a full collection),
# which in a process holding botocore's models costs more than running the states. While a
# scheduler runs, only the young generations are collected, so cycles made during the run are
# still freed; the full collection happens as usual once the run is over.
_gc_lock = threading.Lock()
_gc_runs = 0  # schedulers running now, in any thread
_gc_saved: tuple[int, int, int] | None = None  # the thresholds to restore
_NO_FULL = 1 << 30


@contextmanager
def _no_full_collections() -> Iterator[None]:
    global _gc_runs, _gc_saved
    with _gc_lock:
        if _gc_runs == 0:
            saved = gc.get_threshold()
            # Nothing to do when collection is off or the user has tuned the last generation away.
            _gc_saved = saved if saved[0] > 0 and saved[2] < _NO_FULL else None
            if _gc_saved is not None:
                gc.set_threshold(saved[0], saved[1], _NO_FULL)
        _gc_runs += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_runs -= 1
            if _gc_runs == 0 and _gc_saved is not None:
                current = gc.get_threshold()
                if current[2] == _NO_FULL:  # unless someone set other thresholds meanwhile
                    gc.set_threshold(current[0], current[1], _gc_saved[2])
                _gc_saved = None


@lru_cache(maxsize=256)
def iso(seconds: float) -> str:
    """AWS's context-object time format: ``2024-01-01T00:00:00.000Z``."""
    dt = datetime.fromtimestamp(seconds, tz=timezone.utc)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


class VirtualClock:
    """Seconds since the epoch, moved only by the scheduler (or :meth:`advance`)."""

    def __init__(self, start: float | datetime | None = None) -> None:
        if isinstance(start, datetime):
            start = (start if start.tzinfo else start.replace(tzinfo=timezone.utc)).timestamp()
        if start is None:
            # The one place sfnlab reads the wall clock: the default starting point of a client.
            start = float(int(datetime.now(timezone.utc).timestamp() * 1000)) / 1000
        self.now: float = float(start)

    def __repr__(self) -> str:
        return f"VirtualClock({iso(self.now)})"


@dataclass(frozen=True)
class Sleep:
    seconds: float
    # A passive timer (an execution's TimeoutSeconds watchdog) never makes time pass by itself:
    # it fires only when the clock gets there to reach other work, or is advanced.
    passive: bool = False


@dataclass(frozen=True)
class Join:
    tasks: tuple
    fail_fast: bool = False  # resume as soon as one task ends with an exception


@dataclass(frozen=True)
class Suspend:
    key: Any
    timeout: float | None = None  # seconds; on expiry the generator receives Resumed(timed_out=True)
    heartbeat: float | None = None


@dataclass
class Resumed:
    """What a suspended generator receives back."""

    value: Any = None
    error: tuple[str | None, str | None] | None = None  # (error, cause) from SendTaskFailure; either may be None
    timed_out: str | None = None  # "timeout" | "heartbeat"


@dataclass(eq=False)
class Task:
    """One line of control: a generator, its result once finished, and who waits for it."""

    gen: Generator[Any, Any, Any]
    name: str = ""
    done: bool = False
    result: Any = None
    exception: BaseException | None = None
    waiters: list = field(default_factory=list)
    cancelled: bool = False
    # Called once, when the task first stops running (it waits or it ends): see spawn_next.
    on_pause: Callable[[], None] | None = None


@dataclass(eq=False)
class _Join:
    parent: Task
    tasks: tuple
    remaining: int
    fail_fast: bool = False
    resolved: bool = False


class Scheduler:
    """Runs generators on a :class:`VirtualClock`, in a deterministic order."""

    def __init__(self, clock: VirtualClock) -> None:
        self.clock = clock
        self._timers: list = []  # heap of active timers: (time, seq, task, value)
        self._passive: list = []  # heap of passive timers: watchdogs, token timeouts, heartbeats
        self._ready: deque = deque()  # FIFO of (task, value) to resume at the current time
        self._seq = 0
        self._suspended: dict[Any, tuple[Task, Suspend, int]] = {}

    # -- creating and resuming work ------------------------------------------------------------
    def spawn(self, gen: Generator[Any, Any, Any], name: str = "") -> Task:
        task = Task(gen, name)
        self._ready.append((task, None))
        return task

    def spawn_next(self, sibling: Task, gen: Generator[Any, Any, Any], name: str = "") -> Task:
        """Start ``gen`` to run right after ``sibling``'s current step, joined by whoever joins ``sibling``.

        For work started lazily (a Map's workers, each from its predecessor's ``on_pause``): the
        new task gets the place in the ready queue, and in the joins, that it would have had if
        it had been spawned together with ``sibling``.
        """
        task = Task(gen, name)
        self._ready.appendleft((task, None))
        for join in sibling.waiters:
            if not join.resolved:
                join.remaining += 1
                join.tasks += (task,)
                task.waiters.append(join)
        return task

    def resume(self, key: Any, value: Resumed) -> bool:
        """Wake the task suspended on ``key``; False when nothing waits on it."""
        entry = self._suspended.pop(key, None)
        if entry is None:
            return False
        self._ready.append((entry[0], value))
        return True

    def heartbeat(self, key: Any) -> bool:
        """Restart the heartbeat timer of the task suspended on ``key``."""
        entry = self._suspended.get(key)
        if entry is None:
            return False
        task, command, generation = entry
        self._suspended[key] = (task, command, generation + 1)
        if command.heartbeat is not None:
            self._push(self.clock.now + command.heartbeat, task, ("heartbeat", key, generation + 1), passive=True)
        return True

    def is_suspended(self, key: Any) -> bool:
        return key in self._suspended

    def cancel(self, task: Task) -> None:
        """Stop a task: it will not be resumed again, and its generator is closed."""
        task.cancelled = True
        for key in [k for k, (t, _, _) in self._suspended.items() if t is task]:
            del self._suspended[key]
        try:
            task.gen.close()
        except Exception:  # noqa: BLE001 - a generator's cleanup must not break the scheduler
            pass

    # -- running -------------------------------------------------------------------------------
    def _push(self, when: float, task: Task, value: Any, passive: bool = False) -> None:
        self._seq += 1
        heapq.heappush(self._passive if passive else self._timers, (when, self._seq, task, value))

    @staticmethod
    def _prune(heap: list) -> None:
        # Timers of tasks that were cancelled or finished must not move the clock.
        while heap and (heap[0][2].cancelled or heap[0][2].done):
            heapq.heappop(heap)

    def run(self, until: Callable[[], bool] | None = None, *, deadline: float | None = None) -> None:
        """Run until ``until()`` is true or nothing can progress without the outside world.

        Without a ``deadline``, the clock moves only to reach active timers (Sleeps); passive
        timers due on the way fire in order. With a ``deadline`` (see :meth:`advance`), every
        timer up to it fires.
        """
        with _no_full_collections():
            self._run(until, deadline)

    def _run(self, until: Callable[[], bool] | None, deadline: float | None) -> None:
        while True:
            while self._ready:
                task, value = self._ready.popleft()
                if not task.cancelled and not task.done:
                    self._step(task, value)
                if until is not None and until():
                    return
            self._prune(self._timers)
            self._prune(self._passive)
            if deadline is None:
                if not self._timers:
                    return
                horizon = self._timers[0][0]
            else:
                horizon = deadline
            candidates = [heap for heap in (self._timers, self._passive) if heap and heap[0][0] <= horizon]
            if not candidates:
                return
            heap = min(candidates, key=lambda h: h[0][:2])
            when, _, task, value = heapq.heappop(heap)
            if isinstance(value, tuple) and value and value[0] in ("timeout", "heartbeat"):
                kind, key, generation = value
                entry = self._suspended.get(key)
                if entry is None or entry[0] is not task or (kind == "heartbeat" and entry[2] != generation):
                    continue
                del self._suspended[key]
                value = Resumed(timed_out=kind)
            if when > self.clock.now:
                self.clock.now = when
            self._ready.append((task, value))

    def pending_timers(self) -> int:
        """How many timers are still set (for tests and displays)."""
        return sum(1 for t in self._timers + self._passive if not (t[2].cancelled or t[2].done))

    def advance(self, seconds: float) -> None:
        """Move the clock forward, firing every timer that falls due on the way."""
        target = self.clock.now + seconds
        self.run(deadline=target)
        self.clock.now = max(self.clock.now, target)

    def _step(self, task: Task, value: Any) -> None:
        try:
            if isinstance(value, BaseException):
                command = task.gen.throw(value)
            else:
                command = task.gen.send(value)
        except StopIteration as stop:
            if task.on_pause is not None:
                self._paused(task)
            self._finish(task, stop.value, None)
            return
        except BaseException as exc:  # noqa: BLE001 - handed to whoever joins this task
            if task.on_pause is not None:
                self._paused(task)
            self._finish(task, None, exc)
            return
        if task.on_pause is not None:
            self._paused(task)
        self._handle(task, command)

    @staticmethod
    def _paused(task: Task) -> None:
        callback, task.on_pause = cast(Callable[[], None], task.on_pause), None  # called when it is set
        callback()

    def _handle(self, task: Task, command: Any) -> None:
        if isinstance(command, Sleep):
            self._push(self.clock.now + max(0.0, command.seconds), task, None, passive=command.passive)
        elif isinstance(command, Join):
            pending = [t for t in command.tasks if not t.done]
            join = _Join(task, command.tasks, len(pending), command.fail_fast)
            failed = command.fail_fast and any(t.exception is not None for t in command.tasks if t.done)
            if not pending or failed:
                join.resolved = True
                self._ready.append((task, list(command.tasks)))
                return
            for t in pending:
                t.waiters.append(join)
        elif isinstance(command, Suspend):
            self._suspended[command.key] = (task, command, 0)
            if command.timeout is not None:
                self._push(self.clock.now + command.timeout, task, ("timeout", command.key, 0), passive=True)
            if command.heartbeat is not None:
                self._push(self.clock.now + command.heartbeat, task, ("heartbeat", command.key, 0), passive=True)
        else:
            raise TypeError(f"a scheduled generator yielded {command!r}")

    def _finish(self, task: Task, result: Any, exc: BaseException | None) -> None:
        task.done = True
        task.result = result
        task.exception = exc
        for join in task.waiters:
            join.remaining -= 1
            if join.resolved:
                continue
            if join.remaining == 0 or (join.fail_fast and exc is not None):
                join.resolved = True
                if not join.parent.cancelled:
                    self._ready.append((join.parent, list(join.tasks)))
        task.waiters.clear()
