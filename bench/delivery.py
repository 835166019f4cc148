"""Benchmarks of delivery against the emulator, printed side by side in one run (``make bench``).

1. 1,000 works over 100 researchers, the emulator at ORCID's limit (24 requests/s, burst 40)
   with 100 ms of latency: once with the default settings (one process), once with three worker
   processes at once. Each prints the wall time over the rate-limit floor ((requests - burst) /
   rate; goal <= 1.2) and the 503s received (goal 0).
2. CPU seconds of the worker per 1,000 works with 1k, 10k and 20k works in the outbox, 10 works
   per researcher (so 100, 1,000 and 2,000 researchers: a bigger repository has more people),
   the emulator unlimited and in its own process (goal: flat).
3. The deposit request with ``publish()`` in the host's transaction over the same request
   without it, in-process and over HTTP (goal <= 1.15): see bench/deposit.py; and the sample
   repository's own deposit request (an admin accepts a thesis: the work and the degree are
   published), with and without an iD to publish to: see bench/deposit_sample.py.

    python bench/delivery.py [--database-url URL] [--cpu-sizes 1000,10000,20000] [--quick]

Not a test: no figure here is asserted anywhere.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import ROOT, UNLIMITED, Emulator, make_app, outcome, populate  # noqa: E402
from deposit import deposit_ratios  # noqa: E402
from deposit_sample import accept_ratio  # noqa: E402

RATE, BURST, LATENCY_MS = 24.0, 40, 100


def worker_main(database_url: str, emulator_url: str) -> None:
    """One worker process with the default settings: says it is ready, reads the common start
    time from stdin, then makes one pass; prints its result as JSON."""
    app, _db, orcid = make_app(database_url, emulator_url)
    with app.app_context():
        deliverer = orcid.deliverer(app)
        print("ready", flush=True)
        start_at = float(sys.stdin.readline())
        time.sleep(max(0.0, start_at - time.time()))
        result = deliverer.run_once()
        ended_at = time.time()
    print(json.dumps({"ended_at": ended_at, "claimed": result.claimed, "synced": result.synced,
                      "requests": result.requests, "errors": result.errors[:3]}), flush=True)


def _fresh_url(tmp: str, name: str, database_url: str | None) -> str:
    if database_url:
        engine = sa.create_engine(database_url)
        with engine.begin() as conn:  # drop what an earlier run left
            for table in ("orcid_outbox_events", "orcid_outbox_items", "orcid_record_sync",
                          "orcid_pending_revocations", "orcid_oauth_states", "orcid_accounts",
                          "orcid_rate_budget"):
                conn.exec_driver_sql(f"DROP TABLE IF EXISTS {table} CASCADE")
        engine.dispose()
        return database_url
    return f"sqlite:///{tmp}/{name}.db"


def limited_run(emulator: Emulator, url: str, processes: int, works: int,
                researchers: int) -> dict[str, float]:
    """``works`` delivered by ``processes`` worker processes (1: in this process) at ORCID's
    limit; wall time over the floor and the 503s."""
    setup = populate(emulator, url, researchers, works)
    emulator.limits(rate=RATE, burst=BURST, latency_ms=LATENCY_MS)  # a full bucket
    emulator.reset_requests()
    if processes == 1:
        app, _db, orcid = make_app(url, emulator.url)
        with app.app_context():
            deliverer = orcid.deliverer(app)
            t0 = time.monotonic()
            deliverer.run_once()
            wall = time.monotonic() - t0
    else:
        procs = [subprocess.Popen([sys.executable, __file__, "--worker", url, emulator.url],
                                  cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  text=True)
                 for _ in range(processes)]
        # every interpreter up and its deliverer built (seconds on a slow machine), then one
        # start time for all
        for p in procs:
            assert p.stdout is not None and p.stdout.readline().strip() == "ready"
        start_at = time.time() + 0.2
        for p in procs:
            assert p.stdin is not None
            p.stdin.write(f"{start_at}\n")
            p.stdin.flush()
        outputs = [p.communicate(timeout=600)[0] for p in procs]
        # from the common start to the end of the last pass (not the interpreters' exit)
        wall = max(json.loads(o.strip().splitlines()[-1])["ended_at"] for o in outputs) - start_at
    log = emulator.requests_log()
    emulator.limits(**UNLIMITED)
    n_requests = log["count"]
    refused = sum(1 for entry in log["log"] if entry["status"] == 503)
    floor = max(1e-9, (n_requests - BURST) / RATE)
    return {"wall": wall, "requests": n_requests, "floor": floor, "ratio": wall / floor,
            "refused": refused, **outcome(emulator, setup)}


def cpu_run(emulator: Emulator, url: str, works: int, researchers: int) -> dict[str, float]:
    """CPU seconds of one default worker pass per 1,000 works (the emulator unlimited)."""
    setup = populate(emulator, url, researchers, works)
    emulator.limits(**UNLIMITED)
    app, _db, orcid = make_app(url, emulator.url, ORCID_RATE_LIMIT=100000.0,
                               ORCID_RATE_BURST=100000)
    with app.app_context():
        deliverer = orcid.deliverer(app)
        cpu0, t0 = time.process_time(), time.monotonic()
        deliverer.run_once()
        cpu, wall = time.process_time() - cpu0, time.monotonic() - t0
    return {"cpu": cpu, "per_1000": cpu * 1000 / works, "wall": wall,
            **outcome(emulator, setup)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--works", type=int, default=1000)
    parser.add_argument("--researchers", type=int, default=100)
    parser.add_argument("--cpu-sizes", default="1000,10000,20000")
    parser.add_argument("--cpu-works-per-researcher", type=int, default=10)
    parser.add_argument("--database-url", default=None,
                        help="SQLAlchemy URL (default: SQLite files in a temporary directory)")
    parser.add_argument("--rate-budget", default=None,
                        help="ORCID_RATE_BUDGET for the runs (default: the default, 'database')")
    parser.add_argument("--skip", default="", help="comma-separated: limited,cpu,deposit")
    parser.add_argument("--worker", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker_main(args.worker[0], args.worker[1])
        return
    skip = set(filter(None, args.skip.split(",")))
    if args.rate_budget:
        os.environ["BENCH_RATE_BUDGET"] = args.rate_budget
    tmp = tempfile.TemporaryDirectory()
    emulator = Emulator()
    try:
        if "limited" not in skip:
            print(f"== {args.works} works over {args.researchers} researchers, emulator at "
                  f"{RATE:g} req/s, burst {BURST}, {LATENCY_MS} ms latency ==", flush=True)
            rows = {}
            for label, processes in (("default settings", 1), ("three worker processes", 3)):
                url = _fresh_url(tmp.name, f"limited{processes}", args.database_url)
                rows[label] = limited_run(emulator, url, processes, args.works,
                                          args.researchers)
            print(f"{'':28}" + "".join(f"{label:>26}" for label in rows))
            for key, fmt in (("synced", "{:.0f}"), ("on_record", "{:.0f}"),
                             ("duplicates", "{:.0f}"), ("requests", "{:.0f}"),
                             ("wall", "{:.2f} s"), ("floor", "{:.2f} s"),
                             ("ratio", "{:.2f}x"), ("refused", "{:.0f}")):
                name = {"ratio": "wall / floor (goal <= 1.2)", "refused": "503s (goal 0)",
                        "on_record": "on the records"}.get(key, key)
                print(f"{name:28}" + "".join(f"{fmt.format(r[key]):>26}"
                                              for r in rows.values()), flush=True)
        if "cpu" not in skip:
            sizes = [int(s) for s in args.cpu_sizes.split(",") if s]
            print("\n== CPU seconds of the worker per 1,000 works (goal: flat) ==", flush=True)
            results = {}
            for n in sizes:
                url = _fresh_url(tmp.name, f"cpu{n}", args.database_url)
                results[n] = cpu_run(emulator, url, n,
                                     max(1, n // args.cpu_works_per_researcher))
            print(f"{'':28}" + "".join(f"{n:>14,}" for n in results))
            for key, fmt in (("per_1000", "{:.2f} s"), ("cpu", "{:.1f} s"),
                             ("wall", "{:.1f} s"), ("synced", "{:.0f}"),
                             ("duplicates", "{:.0f}")):
                name = {"per_1000": "CPU per 1,000 works", "cpu": "CPU total"}.get(key, key)
                print(f"{name:28}" + "".join(f"{fmt.format(r[key]):>14}"
                                              for r in results.values()), flush=True)
        if "deposit" not in skip:
            print("\n== the deposit request: publish() in the host's transaction / without "
                  "(goal <= 1.15) ==", flush=True)
            url = _fresh_url(tmp.name, "deposit", args.database_url)
            for where, ratio, plain, with_publish in deposit_ratios(url, emulator.url):
                print(f"{where:28}{ratio:>8.2f}x   ({with_publish * 1000:.2f} ms vs "
                      f"{plain * 1000:.2f} ms)", flush=True)
            ratio, plain, with_publish = accept_ratio()
            print(f"{'sample: admin accepts':28}{ratio:>8.2f}x   ({with_publish * 1000:.2f} ms "
                  f"vs {plain * 1000:.2f} ms)", flush=True)
    finally:
        emulator.stop()
        tmp.cleanup()


if __name__ == "__main__":
    main()
