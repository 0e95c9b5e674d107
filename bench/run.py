"""Time sfnlab and moto on the same Step Functions workloads, in one run.

Usage::

    python bench/run.py [--only B1,B3] [--repeat 3] [--json out.json]

Every measurement (one engine, one workload, all its repeats) runs in a fresh Python process
(``bench/_child.py``), one process at a time, so that the peak RSS it reports belongs to that
engine and workload alone. See ``bench/README.md`` for what is measured and how.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import time
from importlib import metadata
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from workloads import WORKLOADS  # noqa: E402

ENGINES = ("sfnlab", "moto")
# moto executes in real time in a background thread. Per-workload limits on one moto run: B1-B4
# finish in seconds; B6 really sleeps 2+4+8+16+32 = 62 s between attempts, so it is run once to the
# end; B5 would really sleep 100 h, so it is given 10 s and reported as not finished.
MOTO_LIMITS = {"B1": 120.0, "B2": 120.0, "B3": 120.0, "B4": 120.0, "B5": 10.0, "B6": 90.0}
MOTO_SINGLE_RUN = {"B5", "B6"}  # their wall time is sleeping: one run says all
SFNLAB_LIMIT = 60.0


def run_child(engine: str, workload: str, repeat: int, limit: float, api: str) -> dict:
    cmd = [sys.executable, os.path.join(HERE, "_child.py"), engine, workload, "--repeat", str(repeat),
           "--limit", str(limit), "--api", api]
    outer = limit * max(repeat, 1) + 180.0  # room for imports, warm-up and reading the history
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=outer)
    except subprocess.TimeoutExpired:
        return {"engine": engine, "workload": workload, "crashed": f"process killed after {outer:.0f} s"}
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-5:]
        return {"engine": engine, "workload": workload, "crashed": " | ".join(tail) or f"exit {proc.returncode}"}
    return json.loads(lines[-1])


def sfnlab_api() -> str:
    """``client`` when ``sfnlab.client()`` works in a fresh process, else ``machine``."""
    probe = (
        "import json, sfnlab; c = sfnlab.client();"
        "a = c.create_state_machine(name='probe', roleArn='arn:aws:iam::123456789012:role/x',"
        " definition=json.dumps({'StartAt': 'P', 'States': {'P': {'Type': 'Pass', 'End': True}}}))['stateMachineArn'];"
        "e = c.start_execution(stateMachineArn=a)['executionArn'];"
        "assert c.describe_execution(executionArn=e)['status'] == 'SUCCEEDED'"
    )
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    if proc.returncode == 0:
        return "client"
    reason = (proc.stderr.strip().splitlines() or ["?"])[-1]
    print(f"sfnlab.client() does not work ({reason}): measuring sfnlab.StateMachine(...).run() instead",
          file=sys.stderr)
    return "machine"


# ---------------------------------------------------------------- formatting


def mib(kib: int | None) -> str:
    return "—" if kib is None else f"{kib / 1024:.1f} MiB"


def wall_text(r: dict) -> str:
    if r.get("skipped"):
        return "not run"
    if r.get("crashed"):
        return "crashed"
    if not r.get("finished"):
        return f"> {r['limit']:g} s (did not finish)"
    w = r["wall"]
    return f"{w * 1000:.1f} ms" if w < 1 else f"{w:.2f} s"


def tps(r: dict) -> float | None:
    if r.get("crashed") or r.get("skipped") or not r.get("finished") or not r.get("wall") or not r.get("transitions"):
        return None
    return r["transitions"] / r["wall"]


def num(x: float | None) -> str:
    if x is None:
        return "—"
    if x >= 100:
        return f"{x:,.0f}"
    if x >= 1:
        return f"{x:.1f}"
    return f"{x:.3f}"


def ratio(a: float | None, b: float | None) -> str:
    if a is None or b is None or b == 0:
        return "—"
    q = a / b
    return f"{q:,.0f}×" if q >= 100 else f"{q:.1f}×" if q >= 10 else f"{q:.2f}×"


def elapsed_text(r: dict) -> str:
    if r.get("crashed") or r.get("skipped"):
        return "—"
    if not r.get("finished"):
        so_far = r.get("entered_so_far")
        return "—" if so_far is None else f"({so_far} of {r.get('transitions_expected')} states entered)"
    e = r.get("elapsed")
    return "—" if e is None else f"{e:,.3f} s".replace(".000 s", " s")


def r_expected(key: str) -> int:
    return WORKLOADS[key]().transitions


def table(results: dict, baselines: dict, keys: list[str]) -> str:
    head = ["", "states entered", "sfnlab wall", "moto wall", "sfnlab tr/s", "moto tr/s", "tr/s sfnlab/moto",
            "sfnlab peak RSS", "moto peak RSS", "RSS sfnlab/moto", "sfnlab stop−start", "moto stop−start"]
    rows = []
    for key in keys:
        s, m = results[key]["sfnlab"], results[key]["moto"]
        entered = s.get("transitions")
        moto_entered = m.get("transitions") if m.get("finished") else None
        states = f"{r_expected(key):,}" if entered is None else f"{entered:,}"
        if moto_entered is not None and moto_entered != entered:
            states += f" (moto {moto_entered:,})"
        rows.append([
            key, states, wall_text(s), wall_text(m), num(tps(s)), num(tps(m)), ratio(tps(s), tps(m)),
            mib(s.get("peak_rss_kib")), mib(m.get("peak_rss_kib")),
            ratio(s.get("peak_rss_kib"), m.get("peak_rss_kib")), elapsed_text(s), elapsed_text(m),
        ])
    bs, bm = baselines.get("sfnlab", {}), baselines.get("moto", {})
    for label, field in (("baseline: engine imported, client made, nothing run", "peak_rss_kib"),
                         ("baseline + one 2-state warm-up execution", "after_warmup_rss_kib")):
        rows.append([label, "", "", "", "", "", "", mib(bs.get(field)), mib(bm.get(field)),
                     ratio(bs.get(field), bm.get(field)), "", ""])
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def versions() -> dict:
    out = {"python": platform.python_version()}
    for dist in ("sfnlab", "moto", "boto3", "botocore"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = None
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", help="comma-separated workloads, e.g. B1,B3 (default: all)")
    ap.add_argument("--repeat", type=int, default=3, help="timed runs per measurement; the median is reported")
    ap.add_argument("--json", help="also write every measurement to this JSON file")
    ap.add_argument("--moto-limit", type=float,
                    help="limit in seconds on one moto run, for every workload (default: B1-B4 120, B5 10, B6 90)")
    ap.add_argument("--sfnlab-api", choices=["auto", "client", "machine"], default="auto",
                    help="sfnlab.client() (boto3-compatible) or sfnlab.StateMachine().run(); auto: the client if it works")
    ap.add_argument("--engines", default="sfnlab,moto", help=argparse.SUPPRESS)
    args = ap.parse_args()

    keys = [k.strip().upper() for k in args.only.split(",")] if args.only else list(WORKLOADS)
    unknown = [k for k in keys if k not in WORKLOADS]
    if unknown:
        ap.error(f"unknown workload(s) {', '.join(unknown)}; known: {', '.join(WORKLOADS)}")
    engines = [e for e in args.engines.split(",") if e in ENGINES]
    api = sfnlab_api() if args.sfnlab_api == "auto" else args.sfnlab_api

    started = time.perf_counter()
    print(f"sfnlab measured through: {'sfnlab.client() (boto3-compatible)' if api == 'client' else 'sfnlab.StateMachine(...).run(...)'}",
          file=sys.stderr)
    baselines = {}
    for engine in engines:
        print(f"  {engine}: baseline ...", file=sys.stderr, flush=True)
        baselines[engine] = run_child(engine, "baseline", 0, 60.0, api)
    results: dict[str, dict[str, Any]] = {}
    for key in keys:
        results[key] = {"sfnlab": {"skipped": True}, "moto": {"skipped": True}}
        for engine in engines:  # one process at a time, never two
            if engine == "moto":
                limit = args.moto_limit if args.moto_limit is not None else MOTO_LIMITS[key]
                repeat = 1 if key in MOTO_SINGLE_RUN else args.repeat
            else:
                limit, repeat = SFNLAB_LIMIT, args.repeat
            print(f"  {engine}: {key} x{repeat} (limit {limit:g} s per run) ...", file=sys.stderr, flush=True)
            results[key][engine] = run_child(engine, key, repeat, limit, api)

    total = time.perf_counter() - started
    print()
    print(f"sfnlab vs moto — {dt.date.today().isoformat()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
          f"sfnlab via {'sfnlab.client()' if api == 'client' else 'StateMachine.run()'}, "
          f"median of {args.repeat} (moto B5/B6: 1 run)")
    print()
    print(table(results, baselines, keys))
    print()
    for key in keys:
        print(f"{key}: {WORKLOADS[key]().title}")
    notes = []
    for key in keys:
        for engine in engines:
            r = results[key][engine]
            if r.get("skipped"):
                continue
            if r.get("crashed"):
                notes.append(f"{key} {engine}: CRASHED: {r['crashed']}")
                continue
            for p in r.get("problems", []):
                notes.append(f"{key} {engine}: WRONG RESULT: {p}")
            if not r.get("finished"):
                notes.append(f"{key} {engine}: did not finish within {r['limit']:g} s (status {r.get('status')}, "
                             f"{r.get('entered_so_far')} of {r.get('transitions_expected')} states entered)")
            elif r.get("status") == "FAILED":
                notes.append(f"{key} {engine}: FAILED as designed: {r.get('error')}: {(r.get('cause') or '')[:100]}")
    if notes:
        print()
        for n in notes:
            print(f"- {n}")
    print(f"\n(total run time {total:.0f} s)")

    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"date": dt.datetime.now().isoformat(timespec="seconds"), "cpus": os.cpu_count(),
                       "platform": platform.platform(), "versions": versions(), "sfnlab_api": api,
                       "repeat": args.repeat, "total_seconds": round(total, 1), "baselines": baselines,
                       "results": results}, fh, indent=2, default=str)


if __name__ == "__main__":
    main()
