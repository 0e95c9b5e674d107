"""One measurement in a fresh process: ``python bench/_child.py ENGINE WORKLOAD|baseline|load [options]``.

Prints one JSON object on stdout (the last line) and leaves with ``os._exit`` so that an
execution moto is still running in a background thread cannot keep the process alive.

ENGINE is ``sfnlab`` (the boto3-compatible ``sfnlab.client()``, or ``sfnlab.StateMachine`` with
``--api machine``), ``moto`` (``mock_aws`` with ``execute_state_machine``) or ``floor`` (the
minimal loop of ``floor.py``). WORKLOAD ``baseline`` only imports the engine and makes a client:
the peak RSS then is the engine's baseline; it also reports the peak RSS after one untimed
two-state warm-up execution (which every measurement runs first, so that lazily loaded modules
are not timed). WORKLOAD ``load`` (sfnlab only) times loading B1's 1,000-state definition.
With ``--memory`` one more, untimed, run is traced by ``tracemalloc``: its peak is the memory
the execution needs (what it allocates and keeps, beyond the process it runs in).
"""
from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import statistics
import sys
import time
import tracemalloc
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from workloads import ALL, ROLE_ARN, Workload, always_fails, b1_pass_chain  # noqa: E402

TERMINAL = {"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"}


def peak_rss_kib() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux


def _seconds(value: Any) -> float | None:
    if value is None:
        return None
    return value.timestamp() if hasattr(value, "timestamp") else float(value)


def count_entered(client: Any, execution_arn: str) -> int:
    """The number of *StateEntered events in the execution's whole history (all pages)."""
    entered = 0
    token = None
    while True:
        kwargs: dict[str, Any] = {"executionArn": execution_arn, "maxResults": 1000}
        if token:
            kwargs["nextToken"] = token
        page = client.get_execution_history(**kwargs)
        entered += sum(1 for e in page["events"] if e["type"].endswith("StateEntered"))
        token = page.get("nextToken")
        if not token:
            return entered


class ClientEngine:
    """A boto3 ``stepfunctions`` client: sfnlab's in-process one, or boto3's under moto."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.mock = None
        if name == "sfnlab":
            import sfnlab

            self._sfnlab = sfnlab
        else:
            os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
            os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
            os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
            import boto3
            from moto import mock_aws

            self._boto3 = boto3
            self.mock = mock_aws(config={"stepfunctions": {"execute_state_machine": True}})
            self.mock.start()
        self.client = self.fresh_client()
        self._machines = 0
        self.trace = False  # trace memory (tracemalloc) from start_execution to the end

    def fresh_client(self) -> Any:
        if self.name == "sfnlab":
            return self._sfnlab.client(functions={"AlwaysFails": always_fails})
        return self._boto3.client("stepfunctions", region_name="us-east-1")

    def run(self, wl: Workload, limit: float, poll_max: float) -> dict:
        """Create the machine (untimed), then time start_execution until a terminal status is seen."""
        # A fresh account per run, so nothing of an earlier repeat is kept (or grows) across runs.
        if self.name == "moto":
            self.mock.stop()  # drops every backend's data
            self.mock.start()
        self.client = self.fresh_client()
        self._machines += 1
        sfn = self.client
        arn = sfn.create_state_machine(
            name=f"bench-{wl.key}-{self._machines}", roleArn=ROLE_ARN, definition=json.dumps(wl.definition),
            type=wl.machine_type,
        )["stateMachineArn"]
        payload = json.dumps(wl.input)
        if wl.machine_type == "EXPRESS":
            return self._run_sync(sfn, arn, payload)

        if self.trace:
            tracemalloc.start()
        gc.collect()  # every run starts with the garbage of the ones before it collected (untimed)
        t0 = time.perf_counter()
        execution_arn = sfn.start_execution(stateMachineArn=arn, input=payload)["executionArn"]
        desc = sfn.describe_execution(executionArn=execution_arn)
        poll = 0.002
        while desc["status"] not in TERMINAL:
            if time.perf_counter() - t0 > limit:
                wall = time.perf_counter() - t0
                try:  # how far it got: states entered so far
                    entered = count_entered(sfn, execution_arn)
                except Exception:  # noqa: BLE001 - only informative
                    entered = None
                return {"finished": False, "status": desc["status"], "wall": wall, "entered_so_far": entered}
            time.sleep(poll)
            poll = min(poll * 1.5, poll_max)
            desc = sfn.describe_execution(executionArn=execution_arn)
        wall = time.perf_counter() - t0
        peak = _stop_trace() if self.trace else None

        start, stop = _seconds(desc.get("startDate")), _seconds(desc.get("stopDate"))
        output = json.loads(desc["output"]) if desc.get("output") is not None else None
        return {
            "finished": True,
            "status": desc["status"],
            "wall": wall,
            "transitions": count_entered(sfn, execution_arn),
            "transitions_source": "history",
            "elapsed": None if start is None or stop is None else round(stop - start, 6),
            "error": desc.get("error"),
            "cause": (desc.get("cause") or "")[:300] or None,
            "output": output,
            "mem_peak": peak,
        }

    def _run_sync(self, sfn: Any, arn: str, payload: str) -> dict:
        """An EXPRESS machine: one StartSyncExecution is timed (sfnlab only: states entered are
        counted in the engine's history, since AWS keeps no readable history of Express executions)."""
        if self.trace:
            tracemalloc.start()
        gc.collect()  # every run starts with the garbage of the ones before it collected (untimed)
        t0 = time.perf_counter()
        out = sfn.start_sync_execution(stateMachineArn=arn, input=payload)
        wall = time.perf_counter() - t0
        peak = _stop_trace() if self.trace else None
        events = sfn.sfnlab.execution(out["executionArn"]).events
        start, stop = _seconds(out.get("startDate")), _seconds(out.get("stopDate"))
        return {
            "finished": True,
            "status": out["status"],
            "wall": wall,
            "transitions": sum(1 for e in events if e["type"].endswith("StateEntered")),
            "transitions_source": "engine history (EXPRESS)",
            "elapsed": None if start is None or stop is None else round(stop - start, 6),
            "error": out.get("error"),
            "cause": (out.get("cause") or "")[:300] or None,
            "output": json.loads(out["output"]) if out.get("output") is not None else None,
            "mem_peak": peak,
        }


def _stop_trace() -> int:
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


class MachineEngine:
    """sfnlab's pythonic API: ``StateMachine(definition).run(input)`` (used while the client is absent)."""

    name = "sfnlab"
    mock = None

    def __init__(self, name: str) -> None:
        import sfnlab

        self._sfnlab = sfnlab
        self.trace = False

    def run(self, wl: Workload, limit: float, poll_max: float) -> dict:
        sm = self._sfnlab.StateMachine(wl.definition, functions={"AlwaysFails": always_fails}, type=wl.machine_type)
        if self.trace:
            tracemalloc.start()
        gc.collect()  # every run starts with the garbage of the ones before it collected (untimed)
        t0 = time.perf_counter()
        ex = sm.run(wl.input)
        wall = time.perf_counter() - t0
        peak = _stop_trace() if self.trace else None
        types = [getattr(e, "type", None) or e["type"] for e in ex.events]
        return {
            "finished": True,
            "status": ex.status,
            "wall": wall,
            "transitions": sum(1 for t in types if t.endswith("StateEntered")),
            "transitions_source": "history",
            "elapsed": None if ex.stop_time is None or ex.start_time is None else round(ex.stop_time - ex.start_time, 6),
            "error": getattr(ex, "error", None),
            "cause": None,
            "output": ex.output,
            "mem_peak": peak,
        }


class FloorEngine:
    """The floor (``floor.py``): compiled untimed, as a definition is at create_state_machine."""

    name = "floor"
    mock = None

    def __init__(self, name: str) -> None:
        import floor

        self._floor = floor
        self.trace = False

    def run(self, wl: Workload, limit: float, poll_max: float) -> dict:
        run = self._floor.compile_floor(wl.definition)
        value = json.loads(json.dumps(wl.input))  # a fresh input, parsed from text as the engines get it
        if self.trace:
            tracemalloc.start()
        gc.collect()  # every run starts with the garbage of the ones before it collected (untimed)
        t0 = time.perf_counter()
        output, events = run(value)
        wall = time.perf_counter() - t0
        peak = _stop_trace() if self.trace else None
        return {
            "finished": True,
            "status": "SUCCEEDED",
            "wall": wall,
            "transitions": sum(1 for e in events if e["type"].endswith("StateEntered")),
            "transitions_source": "floor history",
            "events": len(events),
            "elapsed": None,
            "error": None,
            "cause": None,
            "output": output,
            "mem_peak": peak,
        }


def measure_load(repeat: int) -> dict:
    """sfnlab: time loading B1's 1,000-state definition (JSON text): the first load in this
    process (cold: no path compiled yet) and the median of ``repeat`` more; the same through
    the client's CreateStateMachine."""
    import sfnlab

    text = json.dumps(b1_pass_chain(1000).definition)
    t0 = time.perf_counter()
    sfnlab.load(text)
    cold = time.perf_counter() - t0
    warm = []
    for _ in range(max(repeat, 1)):
        gc.collect()  # every run starts with the garbage of the ones before it collected (untimed)
        t0 = time.perf_counter()
        sfnlab.load(text)
        warm.append(time.perf_counter() - t0)
    sfn = sfnlab.client()
    creates = []
    for i in range(max(repeat, 1)):
        gc.collect()  # every run starts with the garbage of the ones before it collected (untimed)
        t0 = time.perf_counter()
        sfn.create_state_machine(name=f"load-{i}", roleArn=ROLE_ARN, definition=text)
        creates.append(time.perf_counter() - t0)
    return {"engine": "sfnlab", "workload": "load", "states": 1000, "definition_bytes": len(text),
            "load_cold": cold, "load_warm": statistics.median(warm), "create": statistics.median(creates),
            "peak_rss_kib": peak_rss_kib()}


def problems(wl: Workload, result: dict, engine: str) -> list[str]:
    """How a finished run differs from a correct one (empty when it is correct).

    sfnlab's clock is virtual, so its stopDate - startDate must be exactly the time the
    definition waits; moto really sleeps, so its elapsed time can only be checked as a minimum.
    """
    out = []
    if result["status"] != wl.status:
        out.append(f"status {result['status']} (expected {wl.status}; error={result.get('error')})")
    if result.get("transitions") != wl.transitions:
        out.append(f"{result.get('transitions')} states entered (expected {wl.transitions})")
    elapsed = result.get("elapsed")
    if wl.virtual_seconds is not None and engine == "sfnlab" and elapsed != wl.virtual_seconds:
        out.append(f"stopDate - startDate = {elapsed} s (expected exactly {wl.virtual_seconds:g})")
    if wl.virtual_seconds is not None and engine == "moto" and (elapsed is None or elapsed < wl.virtual_seconds):
        out.append(f"stopDate - startDate = {result.get('elapsed')} s (expected at least {wl.virtual_seconds:g})")
    if wl.check and result["status"] == "SUCCEEDED":
        problem = wl.check(result.get("output"))
        if problem:
            out.append(problem)
    return out


WARMUP = {"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"}, "B": {"Type": "Succeed"}}}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("engine", choices=["sfnlab", "moto", "floor"])
    ap.add_argument("workload", choices=[*ALL, "baseline", "load"])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--limit", type=float, default=60.0, help="give up on one run after this many seconds")
    ap.add_argument("--poll-max", type=float, default=0.05, help="longest sleep between describe_execution polls")
    ap.add_argument("--api", choices=["client", "machine"], default="client")
    ap.add_argument("--memory", action="store_true", help="one more, untimed, run traced by tracemalloc")
    args = ap.parse_args()

    if args.workload == "load":
        emit(measure_load(args.repeat))
    out: dict[str, Any] = {"engine": args.engine, "workload": args.workload}
    use_machine = args.api == "machine" and args.engine == "sfnlab"  # moto is always the boto3 client
    if args.workload in ALL and ALL[args.workload]().api == "machine" and args.engine == "sfnlab":
        use_machine = True  # a definition CreateStateMachine would refuse (over 1 MiB): see workloads.SERIES
        args.api = "machine"
    if args.engine == "floor":
        engine: Any = FloorEngine(args.engine)
    else:
        engine = (MachineEngine if use_machine else ClientEngine)(args.engine)
    out["api"] = {"sfnlab": args.api, "moto": "boto3+moto", "floor": "floor.py"}[args.engine]
    if args.workload == "baseline":
        out["peak_rss_kib"] = peak_rss_kib()
    # One tiny untimed run, so lazily imported modules are loaded before anything is timed.
    warm = engine.run(
        Workload("warmup", "warm-up", WARMUP, {}, transitions=2), limit=max(args.limit, 30.0), poll_max=args.poll_max
    )
    if args.workload == "baseline":
        out["after_warmup_rss_kib"] = peak_rss_kib()
        out["warmup_status"] = warm["status"]
        emit(out)
    wl = ALL[args.workload]()
    runs = []
    for _ in range(args.repeat):
        result = engine.run(wl, args.limit, args.poll_max)
        runs.append(result)
        if not result["finished"]:
            break  # a run that hit the limit is not repeated
    first = runs[0]
    if args.memory and first["finished"]:
        engine.trace = True
        out["mem_peak"] = engine.run(wl, args.limit, args.poll_max).get("mem_peak")
        engine.trace = False
    out.update(
        finished=all(r["finished"] for r in runs),
        limit=args.limit,
        walls=[r["wall"] for r in runs],
        wall=statistics.median(r["wall"] for r in runs) if all(r["finished"] for r in runs) else None,
        status=runs[-1]["status"],
        transitions=first.get("transitions"),
        transitions_expected=wl.transitions,
        elapsed=first.get("elapsed"),
        entered_so_far=runs[-1].get("entered_so_far"),
        error=first.get("error"),
        cause=first.get("cause"),
        problems=sorted({p for r in runs if r["finished"] for p in problems(wl, r, args.engine)}),
        peak_rss_kib=peak_rss_kib(),
    )
    emit(out)


def emit(out: dict) -> None:
    sys.stdout.write(json.dumps(out) + "\n")
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
