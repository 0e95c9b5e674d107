"""Time sfnlab, moto and the floor on the same Step Functions workloads, in one run.

Usage::

    python bench/run.py [--only B1,B3] [--repeat 3] [--json out.json] [--no-series] [--no-moto-series]

Every measurement (one engine, one workload, all its repeats) runs in a fresh Python process
(``bench/_child.py``), one process at a time, so that the peak RSS it reports belongs to that
engine and workload alone. Besides B1–B6 against moto it runs the floor (``floor.py``), the
scaling series, the load time of a 1,000-state definition and the time of ``import sfnlab``,
then prints the tables and the issue's checks. See ``bench/README.md`` for what is measured and how.
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

from workloads import ALL, SERIES, WORKLOADS  # noqa: E402

ENGINES = ("sfnlab", "moto")
# moto executes in real time in a background thread. Per-workload limits on one moto run: B1-B4
# finish in seconds; B6 really sleeps 2+4+8+16+32 = 62 s between attempts, so it is run once to the
# end; B5 would really sleep 100 h, so it is given 10 s and reported as not finished.
MOTO_LIMITS = {"B1": 120.0, "B2": 120.0, "B3": 120.0, "B4": 120.0, "B5": 10.0, "B6": 90.0}
MOTO_SINGLE_RUN = {"B5", "B6"}  # their wall time is sleeping: one run says all
SFNLAB_LIMIT = 60.0
FLOOR_WORKLOADS = ("B1", "B2", "B3", "B4")  # B5/B6 only wait: there is no loop to compare with
# The scaling series, as (name, [(size, workload key)]): 10x steps. B1 at 1,000 is B1 itself.
SCALING = (("B1: Pass chain (StateMachine.run), states", [(100, "B1m-100"), (1000, "B1m-1000"), (10_000, "B1m-10000")]),
           ("B3: inline Map (EXPRESS, client), items", [(1000, "B3x-1000"), (10_000, "B3x-10000")]))
SERIES_REPEAT = 5
MOTO_SERIES = ("B1m-100", "B1m-1000", "B1m-10000")  # moto has no Express executions to run the B3 series
HEAVY = ("moto", "jupyter", "jupyter_client", "jupyter_server", "jupyterlab", "ipykernel", "IPython", "ipywidgets",
         "nbformat", "nbclient", "graphviz", "matplotlib", "numpy", "pandas", "boto3", "botocore", "jsonpath_ng")
IMPORT_PROBE = (
    "import time; t = time.perf_counter(); import sfnlab; t = time.perf_counter() - t\n"
    "import json, resource, sys\n"
    "heavy = lambda: sorted({m.split('.')[0] for m in sys.modules} & set(json.loads(sys.argv[1])))\n"
    "out = {'import': t, 'rss_kib': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, 'after_import': heavy()}\n"
    "c = sfnlab.client()\n"
    "a = c.create_state_machine(name='p', roleArn='arn:aws:iam::123456789012:role/x', definition=json.dumps("
    "{'StartAt': 'P', 'States': {'P': {'Type': 'Pass', 'End': True}}}))['stateMachineArn']\n"
    "e = c.start_execution(stateMachineArn=a)['executionArn']\n"
    "out['status'] = c.describe_execution(executionArn=e)['status']\n"
    "out['after_client_run'] = heavy()\n"
    "print(json.dumps(out))\n"
)


def run_child(engine: str, workload: str, repeat: int, limit: float, api: str, memory: bool = False) -> dict:
    cmd = [sys.executable, os.path.join(HERE, "_child.py"), engine, workload, "--repeat", str(repeat),
           "--limit", str(limit), "--api", api] + (["--memory"] if memory else [])
    outer = limit * max(repeat, 1) + 180.0  # room for imports, warm-up and reading the history
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=outer, check=False)
    except subprocess.TimeoutExpired:
        return {"engine": engine, "workload": workload, "crashed": f"process killed after {outer:.0f} s"}
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-5:]
        return {"engine": engine, "workload": workload, "crashed": " | ".join(tail) or f"exit {proc.returncode}"}
    return json.loads(lines[-1])


def measure_import(times: int) -> dict:
    """``import sfnlab`` in ``times`` fresh processes: the median time, the RSS, what got imported."""
    runs = []
    for _ in range(times):
        proc = subprocess.run([sys.executable, "-c", IMPORT_PROBE, json.dumps(HEAVY)], capture_output=True,
                              text=True, timeout=120, check=False)
        if proc.returncode != 0:
            return {"crashed": (proc.stderr.strip().splitlines() or ["?"])[-1]}
        runs.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    return {"import": sorted(r["import"] for r in runs)[len(runs) // 2], "imports": [r["import"] for r in runs],
            "rss_kib": max(r["rss_kib"] for r in runs), "after_import": runs[0]["after_import"],
            "after_client_run": runs[0]["after_client_run"], "status": runs[0]["status"]}


def sfnlab_api() -> str:
    """``client`` when ``sfnlab.client()`` works in a fresh process, else ``machine``."""
    probe = (
        "import json, sfnlab; c = sfnlab.client();"
        "a = c.create_state_machine(name='probe', roleArn='arn:aws:iam::123456789012:role/x',"
        " definition=json.dumps({'StartAt': 'P', 'States': {'P': {'Type': 'Pass', 'End': True}}}))['stateMachineArn'];"
        "e = c.start_execution(stateMachineArn=a)['executionArn'];"
        "assert c.describe_execution(executionArn=e)['status'] == 'SUCCEEDED'"
    )
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=False)
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
    return ALL[key]().transitions


def ms(seconds: float | None) -> str:
    return "—" if seconds is None else f"{seconds * 1000:.1f} ms"


def mem(r: dict) -> str:
    b = r.get("mem_peak")
    return "—" if b is None else f"{b / 2**20:.1f} MiB"


def markdown(head: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in rows])


def table(results: dict, baselines: dict, keys: list[str]) -> str:
    head = ["", "states entered", "sfnlab wall", "moto wall", "floor wall", "sfnlab tr/s", "moto tr/s", "floor tr/s",
            "sfnlab/moto", "sfnlab/floor", "sfnlab run memory", "sfnlab peak RSS", "moto peak RSS",
            "RSS sfnlab/moto", "floor peak RSS", "sfnlab stop−start", "moto stop−start"]
    rows = []
    for key in keys:
        s, m, f = results[key]["sfnlab"], results[key]["moto"], results[key].get("floor", {"skipped": True})
        entered = s.get("transitions")
        moto_entered = m.get("transitions") if m.get("finished") else None
        states = f"{r_expected(key):,}" if entered is None else f"{entered:,}"
        if moto_entered is not None and moto_entered != entered:
            states += f" (moto {moto_entered:,})"
        rows.append([
            key, states, wall_text(s), wall_text(m), "—" if f.get("skipped") else wall_text(f), num(tps(s)),
            num(tps(m)), num(tps(f)), ratio(tps(s), tps(m)), ratio(tps(s), tps(f)), mem(s),
            mib(s.get("peak_rss_kib")), mib(m.get("peak_rss_kib")),
            ratio(s.get("peak_rss_kib"), m.get("peak_rss_kib")), mib(f.get("peak_rss_kib")),
            elapsed_text(s), elapsed_text(m),
        ])
    bs, bm = baselines.get("sfnlab", {}), baselines.get("moto", {})
    for label, field in (("baseline: engine imported, client made, nothing run", "peak_rss_kib"),
                         ("baseline + one 2-state warm-up execution", "after_warmup_rss_kib")):
        rows.append([label] + [""] * 10 + [mib(bs.get(field)), mib(bm.get(field)),
                                           ratio(bs.get(field), bm.get(field)), "", "", ""])
    return markdown(head, rows)


def growth(a: float | None, b: float | None) -> str:
    return "—" if a is None or b is None or a == 0 else f"{b / a:.1f}×"


def scaling_table(results: dict) -> tuple[str, list[tuple[str, float | None, float | None]]]:
    """The series table, and (step, time growth, memory growth) for every 10x step."""
    head = ["series", "size", "states entered", "sfnlab wall", "sfnlab tr/s", "µs per state", "time × (10× size)",
            "sfnlab run memory", "memory × (10× size)", "sfnlab peak RSS", "floor tr/s", "sfnlab/floor",
            "moto wall", "moto tr/s", "sfnlab/moto"]
    rows, steps = [], []
    for title, sizes in SCALING:
        previous, previous_size = None, 0
        for size, key in sizes:
            r = results.get(key)
            if r is None:
                continue
            s, m, f = r["sfnlab"], r.get("moto", {"skipped": True}), r.get("floor", {"skipped": True})
            t_growth = m_growth = None
            if previous is not None:
                t_growth = s["wall"] / previous["wall"] if s.get("wall") and previous.get("wall") else None
                m_growth = (s["mem_peak"] / previous["mem_peak"]
                            if s.get("mem_peak") and previous.get("mem_peak") else None)
                steps.append((f"{title.split(':')[0]} {previous_size:,} → {size:,}", t_growth, m_growth))
            per_state = s["wall"] / s["transitions"] * 1e6 if s.get("wall") and s.get("transitions") else None
            rows.append([title, f"{size:,}", f"{s.get('transitions') or r_expected(key):,}", wall_text(s), num(tps(s)),
                         "—" if per_state is None else f"{per_state:.2f}",
                         "—" if t_growth is None else f"{t_growth:.1f}×", mem(s),
                         "—" if m_growth is None else f"{m_growth:.1f}×", mib(s.get("peak_rss_kib")),
                         num(tps(f)), ratio(tps(s), tps(f)),
                         "not run" if m.get("skipped") else wall_text(m), num(tps(m)), ratio(tps(s), tps(m))])
            previous, previous_size = s, size
    return markdown(head, rows), steps


def load_table(load: dict, imported: dict) -> str:
    head = ["measurement", "time", "peak RSS", "notes"]
    rows = []
    if imported.get("crashed"):
        rows.append(["`import sfnlab`", "crashed", "", imported["crashed"]])
    else:
        rows.append(["`import sfnlab` (median of 5 fresh processes)", ms(imported.get("import")),
                     mib(imported.get("rss_kib")),
                     "imports none of: " + ", ".join(h for h in HEAVY if h not in imported["after_import"])
                     if imported.get("after_import") is not None else ""])
        rows.append(["… then `sfnlab.client()` and one Pass execution", "", "",
                     "loaded since: " + (", ".join(imported["after_client_run"]) or "none of the heavy modules")
                     + f" (status {imported.get('status')})"])
    if load.get("crashed"):
        rows.append(["load 1,000-state definition", "crashed", "", load["crashed"]])
    else:
        size = f"{load.get('definition_bytes', 0) / 1024:.0f} KiB of JSON"
        rows.append(["`sfnlab.load()` of B1's 1,000-state definition, first in the process", ms(load.get("load_cold")),
                     mib(load.get("peak_rss_kib")), f"{size}; validated and compiled; no path compiled before"])
        rows.append(["… the same again (median of 5)", ms(load.get("load_warm")), "", "paths already compiled (cache)"])
        rows.append(["`create_state_machine` with it, through the client (median of 5)", ms(load.get("create")), "",
                     "botocore + validation + compile"])
    return markdown(head, rows)


def checks(results: dict, load: dict, imported: dict, steps: list) -> list[tuple[bool | None, str]]:
    """The issue's acceptance checks, each (passed, what was measured)."""
    out: list[tuple[bool | None, str]] = []

    def tr(key: str, engine: str) -> float | None:
        return tps(results.get(key, {}).get(engine, {"skipped": True}))

    for key, least in (("B1", 50), ("B2", 60), ("B3", 50), ("B4", 50)):
        s, m = tr(key, "sfnlab"), tr(key, "moto")
        q = None if s is None or m is None else s / m
        out.append((None if q is None else q >= least, f"{key} at least {least}× moto: {ratio(s, m)}"))
    s, f = tr("B2", "sfnlab"), tr("B2", "floor")
    q = None if s is None or f is None else s / f
    out.append((None if q is None else q >= 1 / 3, f"B2 at least 1/3 of the floor: {ratio(s, f)}"))
    cold = load.get("load_cold")
    out.append((None if cold is None else cold < 0.050, f"loading a 1,000-state definition under 50 ms: {ms(cold)}"))
    t = imported.get("import")
    out.append((None if t is None else t < 0.300, f"`import sfnlab` under 300 ms: {ms(t)}"))
    for label, t_growth, m_growth in steps:
        ok = None if t_growth is None or m_growth is None else t_growth <= 12 and m_growth <= 12
        out.append((ok, f"{label}: time {growth(1, t_growth)}, memory {growth(1, m_growth)} (at most 12×)"))
    return out


def machine() -> str:
    model = ""
    try:
        with open("/proc/cpuinfo") as fh:
            model = next((line.split(":", 1)[1].strip() for line in fh if line.startswith("model name")), "")
    except OSError:
        pass
    return f"{platform.machine()} {model}".strip()


def loadavg() -> str:
    try:
        return " ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        return "?"


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
    ap.add_argument("--no-series", action="store_true", help="skip the scaling series, load and import times")
    ap.add_argument("--no-moto-series", action="store_true", help="run the scaling series without moto")
    ap.add_argument("--engines", default="sfnlab,moto,floor", help=argparse.SUPPRESS)
    args = ap.parse_args()

    keys = [k.strip().upper() for k in args.only.split(",")] if args.only else list(WORKLOADS)
    unknown = [k for k in keys if k not in WORKLOADS]
    if unknown:
        ap.error(f"unknown workload(s) {', '.join(unknown)}; known: {', '.join(WORKLOADS)}")
    engines = [e for e in args.engines.split(",") if e in (*ENGINES, "floor")]
    api = sfnlab_api() if args.sfnlab_api == "auto" else args.sfnlab_api

    started = time.perf_counter()
    load_before = loadavg()
    print(f"sfnlab measured through: {'sfnlab.client() (boto3-compatible)' if api == 'client' else 'sfnlab.StateMachine(...).run(...)'}",
          file=sys.stderr)
    baselines = {}
    for engine in engines:
        if engine in ENGINES:
            print(f"  {engine}: baseline ...", file=sys.stderr, flush=True)
            baselines[engine] = run_child(engine, "baseline", 0, 60.0, api)

    def measure(key: str, engine: str, moto_repeat: int | None = None, repeat: int | None = None) -> dict:
        if engine == "moto":
            limit = args.moto_limit if args.moto_limit is not None else MOTO_LIMITS.get(key, 120.0)
            repeat = moto_repeat or (1 if key in MOTO_SINGLE_RUN else args.repeat)
        else:
            limit, repeat = SFNLAB_LIMIT, repeat or args.repeat
        print(f"  {engine}: {key} x{repeat} (limit {limit:g} s per run) ...", file=sys.stderr, flush=True)
        return run_child(engine, key, repeat, limit, api, memory=engine != "moto")

    results: dict[str, dict[str, Any]] = {}
    for key in keys:
        results[key] = {"sfnlab": {"skipped": True}, "moto": {"skipped": True}, "floor": {"skipped": True}}
        for engine in engines:  # one process at a time, never two
            if engine == "floor" and key not in FLOOR_WORKLOADS:
                continue
            results[key][engine] = measure(key, engine)

    load: dict = {}
    imported: dict = {}
    if not args.no_series:
        for key in SERIES:
            results[key] = {"sfnlab": {"skipped": True}, "moto": {"skipped": True}, "floor": {"skipped": True}}
            for engine in engines:
                if engine == "moto" and (args.no_moto_series or key not in MOTO_SERIES):
                    continue
                # Growth is a ratio of two medians: at least 5 runs each, as the machine may be shared.
                results[key][engine] = measure(key, engine, moto_repeat=1, repeat=max(args.repeat, SERIES_REPEAT))
        print("  sfnlab: load a 1,000-state definition ...", file=sys.stderr, flush=True)
        load = run_child("sfnlab", "load", 5, 60.0, api)
        print("  sfnlab: import time (5 fresh processes) ...", file=sys.stderr, flush=True)
        imported = measure_import(5)

    total = time.perf_counter() - started
    print()
    print(f"sfnlab vs moto vs floor — {dt.date.today().isoformat()}, {machine()}, {os.cpu_count()} CPUs, "
          f"Python {platform.python_version()}, sfnlab via {'sfnlab.client()' if api == 'client' else 'StateMachine.run()'}, "
          f"median of {args.repeat} (moto B5/B6 and moto series: 1 run); load average {load_before} before, "
          f"{loadavg()} after")
    print()
    print(table(results, baselines, keys))
    print()
    for key in keys:
        print(f"{key}: {WORKLOADS[key]().title}")
    steps: list = []
    if not args.no_series:
        text, steps = scaling_table(results)
        print("\nScaling series (sfnlab and floor: median of "
              f"{max(args.repeat, SERIES_REPEAT)}; moto: 1 run; run memory: tracemalloc peak of one more run)\n")
        print(text)
        print("\nLoad and import\n")
        print(load_table(load, imported))
    notes = []
    for key, by_engine in results.items():
        for engine, r in by_engine.items():
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
    print("\nChecks (issue 8)\n")
    for ok, text in checks(results, load, imported, steps):
        print(f"- {'PASS' if ok else 'FAIL' if ok is not None else 'n/a '} {text}")
    print(f"\n(total run time {total:.0f} s)")

    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"date": dt.datetime.now().isoformat(timespec="seconds"), "cpus": os.cpu_count(),
                       "machine": machine(), "platform": platform.platform(), "versions": versions(),
                       "sfnlab_api": api, "repeat": args.repeat, "total_seconds": round(total, 1),
                       "loadavg": [load_before, loadavg()], "baselines": baselines, "results": results,
                       "load": load, "import": imported}, fh, indent=2, default=str)


if __name__ == "__main__":
    main()
