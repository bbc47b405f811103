"""Exact lookup by ID number and phone through the blind index, over 1,000,000 cases (issue 13).

The store is the generated one (`bench.generate`, the same 1,000,000-case SQLite store `run_all` searches,
`bench/data/search-1m.db`, reused when it was sealed with the benchmarks' keys, else generated again): every
party's ID number, phone and address sealed (AES-GCM), with the real blind indexes (HMAC-SHA256 of the
normalised value under the index key) in `parties.id_index` / `parties.phone_index`, indexed with the case id.

Measured: `RegistrationService.search(text)` for a typed ID number and a typed phone (the search box: the query is
classified, the service computes the index, the store looks it up, the summaries' masked ID numbers are opened
and masked again), and `person_cases(id_number=...)` (the known-person panel), keys from random real cases.
Budget (DESIGN.md, issue 13): <= 50 ms p95 for the search by ID number.

`python -m bench.bench_blind_index [--db URL] [--n 300] [--write-results]`
"""

from __future__ import annotations

import argparse
import datetime as dt
import platform
import time
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from bench import bench_search
from bench.common import BENCH_DIR, Timing, bench_vault, data_dir, smoke, sqlite_path, write_section
from desk.core.clock import SystemClock
from desk.core.permissions import operator
from desk.services.registration import RegistrationService
from desk.store.session import open_store

BUDGET_P95_MS = 50.0
CASES = 1_000_000
KINDS = {
    "id": "search by ID number (blind index)",
    "phone": "search by phone (blind index)",
    "person": "known-person panel: person_cases(id_number=...)",
}
START, END = "<!-- bench_blind_index:start -->", "<!-- bench_blind_index:end -->"


@dataclass(frozen=True)
class BlindResult:
    cases: int
    parties: int
    indexed: int  # parties with an ID or phone index
    built: str  # how the store came to be (reused / generated in N s)
    kinds: dict[str, tuple[Timing, float]]  # kind -> (timing, share of searches that found the sampled case)
    index_us: float  # computing one blind index (HMAC-SHA256), microseconds
    plan: list[str]


def sealed_with_bench_keys(url: str) -> bool:
    """The store's parties carry blind indexes made with the benchmarks' keys (an older or foreign store not)."""
    vault = bench_vault()
    store = open_store(url)
    try:
        with store.engine.connect() as c:
            row = c.execute(
                sa.text("SELECT id_number, id_index FROM parties WHERE id_index IS NOT NULL LIMIT 1")
            ).first()
    except sa.exc.DBAPIError:
        return False
    finally:
        store.dispose()
    if row is None:
        return False
    try:
        return vault.index("id", vault.open(row[0], field="id_number")) == row[1]
    except Exception:  # noqa: BLE001 - another key set: not ours
        return False


def ensure_store(url: str, cases: int) -> str:
    """A `cases`-case store at `url` sealed with the benchmarks' keys; says whether it was reused or built."""
    from bench.generate import generate

    path = sqlite_path(url)
    if path is not None and path.exists() and sealed_with_bench_keys(url):
        store = open_store(url)
        try:
            with store.engine.connect() as c:
                n = int(c.exec_driver_sql("SELECT count(*) FROM cases").scalar() or 0)
        finally:
            store.dispose()
        if n >= cases:
            return f"reused ({n:,} cases)"
    stats = generate(url, cases=cases, replace=True, quiet=smoke())
    return f"generated in {stats.seconds:.0f} s ({stats.rows_per_s:,.0f} rows/s, sealing included)"


def run(url: str, *, n: int = 300, warmup: int = 30, cases: int = CASES) -> BlindResult:
    built = ensure_store(url, cases)
    vault = bench_vault()
    t0 = time.perf_counter_ns()
    for i in range(20_000):
        vault.index("id", f"62070219800101{i:04d}")
    index_us = (time.perf_counter_ns() - t0) / 20_000 / 1000
    store = open_store(url)
    try:
        with store.engine.connect() as c:
            n_cases = int(c.exec_driver_sql("SELECT count(*) FROM cases").scalar() or 0)
            n_parties = int(c.exec_driver_sql("SELECT count(*) FROM parties").scalar() or 0)
            indexed = int(
                c.exec_driver_sql(
                    "SELECT count(*) FROM parties WHERE id_index IS NOT NULL OR phone_index IS NOT NULL"
                ).scalar()
                or 0
            )
        svc = RegistrationService(store, SystemClock(), principal=operator("bench"), vault=vault)
        queries, _ = bench_search.make_queries(store, n + warmup, seed=29)
        finders = {k: bench_search.finder(svc, k) for k in KINDS}
        for i in range(warmup):
            for k in KINDS:
                if i < len(queries[k]):
                    finders[k](queries[k][i][0])
        samples: dict[str, list[int]] = {k: [] for k in KINDS}
        hits: dict[str, list[bool]] = {k: [] for k in KINDS}
        for i in range(warmup, n + warmup):
            for k in KINDS:  # round-robin: the kinds share whatever the machine is doing
                if i >= len(queries[k]):
                    continue
                text, case_id = queries[k][i]
                t = time.perf_counter_ns()
                found = finders[k](text)
                samples[k].append(time.perf_counter_ns() - t)
                hits[k].append(any(c.id == case_id for c in found))
        kinds = {k: (Timing.of(samples[k]), sum(hits[k]) / len(hits[k])) for k in KINDS if samples[k]}
        plan = bench_search.query_plans(store, "id", queries["id"][0][0]) if queries["id"] else []
        return BlindResult(n_cases, n_parties, indexed, built, kinds, index_us, plan)
    finally:
        store.dispose()


def describe(r: BlindResult) -> str:
    lines = [
        f"blind index over {r.cases:,} cases, {r.parties:,} parties ({r.indexed:,} indexed); store {r.built}",
        f"  one blind index (HMAC-SHA256): {r.index_us:.2f} us",
    ]
    for k, (t, share) in r.kinds.items():
        verdict = "PASS" if t.p95 <= BUDGET_P95_MS else "FAIL"
        lines.append(
            f"  {KINDS[k]:<48} p50={t.p50:6.2f} p95={t.p95:6.2f} p99={t.p99:6.2f} ms  "
            f"{t.p95 / BUDGET_P95_MS:6.1%} of budget  found {share:4.0%}  [{verdict}]"
        )
    return "\n".join(lines)


def section(r: BlindResult, *, seconds: float) -> str:
    now = dt.datetime.now(dt.UTC)
    rows = [
        f"| {KINDS[k]} | ≤ {BUDGET_P95_MS:.0f} ms p95 | p95 {t.p95:.2f} ms (p50 {t.p50:.2f}, p99 {t.p99:.2f}; "
        f"n={t.n}) | {t.p95 / BUDGET_P95_MS:.1%} | {share:.0%} | {'PASS' if t.p95 <= BUDGET_P95_MS else '**FAIL**'} |"
        for k, (t, share) in r.kinds.items()
    ]
    plan = "\n".join(f"    {line}" for line in r.plan)
    return "\n".join(
        [
            START,
            "## Search through the blind index (`bench/bench_blind_index.py`, issue 13)",
            "",
            f"Written by `python -m bench.bench_blind_index --write-results` on {now:%Y-%m-%d %H:%M} UTC "
            f"({platform.node() or 'this machine'}, {platform.machine()}, Python {platform.python_version()}, "
            f"SQLite {_sqlite_version()}; the machine of the table above; run took "
            f"{seconds / 60:.1f} min). The store: {r.cases:,} cases, {r.parties:,} parties, {r.indexed:,} of them "
            f"with a blind index, generated by `bench.generate` with every ID number, phone, address and narrative "
            f"sealed (AES-256-GCM) and the real indexes (HMAC-SHA256 under the index key, 32 hex characters) in "
            f"`parties.id_index` / `parties.phone_index` (index on (index, case_id)); {r.built}. Each search goes "
            f"through `RegistrationService` as the window calls it: the typed text classified, its index computed "
            f"({r.index_us:.1f} µs), the lookup, and the summaries' sealed ID numbers opened and masked. Keys from "
            f"random real cases, opened with the benchmarks' key file; warm (a warm-up pass first).",
            "",
            "| work | budget | measured | share of budget | found the sampled case | result |",
            "|---|---|---|---|---|---|",
            *rows,
            "",
            "Query plan of the search by ID number (SQLite):",
            "",
            plan,
            END,
        ]
    )


def _sqlite_version() -> str:
    import sqlite3

    return sqlite3.sqlite_version


def update_results(output: Path, *, url: str, cases: int = CASES, n: int = 300) -> BlindResult:
    """Measure on the store at `url` (made if it is missing or not sealed with the benchmarks' keys) and write
    this benchmark's section of `output` (run_all)."""
    started = time.perf_counter()
    r = run(url, n=n, warmup=min(30, n), cases=cases)
    write_section(section(r, seconds=time.perf_counter() - started), output, start=START, end=END)
    return r


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.bench_blind_index", description=__doc__.splitlines()[0])
    p.add_argument("--db", metavar="URL", help="a SQLite store (default: bench/data/search-1m.db)")
    p.add_argument("--cases", type=int, default=CASES)
    p.add_argument("--n", type=int, default=300)
    p.add_argument("--write-results", action="store_true", help="write the section of bench/RESULTS.md")
    p.add_argument("--output", type=Path, default=BENCH_DIR / "RESULTS.md")
    args = p.parse_args(argv)
    default = data_dir() / ("search-1m.db" if args.cases == CASES else f"search-{args.cases}.db")
    url = args.db or f"sqlite:///{default}"
    data_dir().mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    r = run(url, n=args.n, cases=args.cases)
    print(describe(r))
    if args.write_results:
        write_section(section(r, seconds=time.perf_counter() - started), args.output, start=START, end=END)
        print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
