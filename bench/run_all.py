"""Run every benchmark and rewrite bench/RESULTS.md: `python -m bench.run_all [--quick|--smoke] [--no-postgres]`.

1. The generator proves itself on a small store (projection rebuild, numbering continues; SQLite and PostgreSQL).
2. The 1,000,000-case stores are generated once -- bench/data/search-1m.db and the PostgreSQL database
   `desk_bench` -- and reused while they are there (`--regenerate` makes them again).
3. Registration on SQLite (bench_register), then search on both engines (bench_search).
4. Their own sections after that: routing (hall_day), the hall (bench_hall), receipts, command start-up
   (bench_cli), the status page, and county sync (bench_sync: push vs a bare COPY, the idle round, memory while
   pushing; PostgreSQL only).
`--quick` measures fewer samples; the stores are the same.
`--smoke` runs every benchmark at a tiny size (seconds, not minutes) in a temporary directory, with databases of
its own, and writes no RESULTS.md (unless `--output` names one): `make test` runs it (tests/test_bench_smoke.py)
so that no benchmark can fall behind the code again. Its figures mean nothing.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import platform
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from bench import bench_register, bench_search, common
from bench.bench_blind_index import sealed_with_bench_keys
from bench.common import BENCH_DIR, Timing, data_dir, pg_available, pg_database_exists, pg_name, pg_url
from bench.generate import CheckReport, GenerationStats, check_store, generate, read_stats, write_stats

CASES = 1_000_000
PG_DATABASE = "desk_bench"  # left in place after the run, like bench/data/search-1m.db, for the next run
PG_CHECK_DATABASE = "desk_bench_check"  # dropped after the check
RESULTS = BENCH_DIR / "RESULTS.md"
SIMULATED_FLUSH_MS = (2.0, 8.0)


@dataclass(frozen=True)
class Plan:
    """How much each benchmark measures: a full run, `--quick` (fewer samples, the same stores) or `--smoke`."""

    flag: str  # as the command line said it, for RESULTS.md
    cases: int  # the stores searched (and read by the status page)
    check_cases: int  # the generator's consistency check
    register_fresh: int
    register_copy: int
    simulated_fresh: int  # registrations with a simulated slower disk, on a new store
    simulated_copy: int  # ... on a copy of the generated store (0: not measured)
    simulated_flush_ms: tuple[float, ...]
    simulated_autocheckpoint: tuple[bool, ...]
    search: int
    hall_day: dict[str, Any]
    hall: dict[str, int]
    receipts: int
    cli: dict[str, int]
    status: dict[str, float]
    sync: dict[str, int]  # bench_sync.run's sizes in a smoke run (else bench_sync's own, full or QUICK)
    sync_profile: bool
    stall_registrations: int
    stall_delay_s: float

    @property
    def smoke(self) -> bool:
        return self.flag == "--smoke"

    @property
    def quick(self) -> bool:
        return self.flag == "--quick"

    def sqlite_store(self) -> Path:
        """The generated store searched (and read by the status page), reused from run to run (not in a smoke)."""
        return data_dir() / ("search-1m.db" if self.cases == CASES else f"search-{self.cases}.db")

    def pg_database(self) -> str:
        return pg_name(PG_DATABASE)


FULL = Plan(
    flag="",
    cases=CASES,
    check_cases=3000,
    register_fresh=2000,
    register_copy=500,
    simulated_fresh=1000,
    simulated_copy=500,
    simulated_flush_ms=SIMULATED_FLUSH_MS,
    simulated_autocheckpoint=(True, False),
    search=300,
    hall_day={"days": 30},
    hall={"waiting": 10_000, "calls": 300},
    receipts=300,
    cli={"pairs": 30},
    status={"seconds": 10},
    sync={},  # bench_sync's own defaults
    sync_profile=True,
    stall_registrations=5,
    stall_delay_s=0.2,
)
QUICK = Plan(
    flag="--quick",
    cases=CASES,
    check_cases=3000,
    register_fresh=500,
    register_copy=200,
    simulated_fresh=500,
    simulated_copy=0,
    simulated_flush_ms=SIMULATED_FLUSH_MS,
    simulated_autocheckpoint=(True, False),
    search=100,
    hall_day={"days": 30},
    hall={"waiting": 1_000, "calls": 300},
    receipts=100,
    cli={"pairs": 20},
    status={"seconds": 5},
    sync={},  # bench_sync.QUICK
    sync_profile=True,
    stall_registrations=2,
    stall_delay_s=0.2,
)
# Every code path of every benchmark, each at the least size that still reaches it.
SMOKE = Plan(
    flag="--smoke",
    cases=1_500,
    check_cases=200,
    register_fresh=10,
    register_copy=5,
    simulated_fresh=5,
    simulated_copy=0,
    simulated_flush_ms=(1.0,),
    simulated_autocheckpoint=(False,),
    search=8,
    hall_day={"days": 1, "visitors_per_day": 45.0, "sweep": (45.0,), "verify_days": 1},
    hall={"waiting": 20, "calls": 5, "display_samples": 3},
    receipts=2,
    cli={"pairs": 1, "warm_up": 0, "import_runs": 1},
    status={"seconds": 0.4, "connections": 2, "warmup": 0.2},
    sync={"small": 30, "events": 200, "big": 0, "idle": 2},
    sync_profile=True,
    stall_registrations=1,
    stall_delay_s=0.02,
)


@dataclass
class Machine:
    cpu: str
    cores: int
    ram_gib: float
    os: str
    python: str
    sqlalchemy: str
    psycopg: str
    sqlite: str
    postgres: str | None
    filesystem: str
    fsync: Timing


@dataclass
class Results:
    started: dt.datetime
    flag: str  # "", "--quick" or "--smoke"
    machine: Machine
    checks: dict[str, CheckReport] = field(default_factory=dict)
    generation: dict[str, tuple[GenerationStats, bool]] = field(
        default_factory=dict
    )  # engine -> (stats, reused)
    register: list[bench_register.RegisterResult] = field(default_factory=list)
    simulated: list[bench_register.RegisterResult] = field(default_factory=list)
    search: list[bench_search.SearchResult] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0


def _first(path: str, key: str, sep: str) -> str:
    """The value of the first `key<sep>value` line of a file such as /proc/cpuinfo or /etc/os-release."""
    try:
        for line in Path(path).read_text(encoding="utf-8").splitlines():
            name, _, value = line.partition(sep)
            if name.strip() == key:
                return value.strip().strip('"')
    except OSError:
        pass
    return "?"


def _filesystem(path: Path) -> str:
    best = ("", "?", "?")
    try:
        for line in Path("/proc/mounts").read_text().splitlines():
            dev, mnt, fstype = line.split()[:3]
            if str(path.resolve()).startswith(mnt) and len(mnt) >= len(best[0]):
                best = (mnt, fstype, dev)
    except OSError:
        pass
    return f"{best[1]} on {best[2]}"


def machine_info(pg: bool) -> Machine:
    import psycopg

    postgres = None
    if pg:
        eng = sa.create_engine(pg_url("postgres"))
        with eng.connect() as c:
            postgres = str(c.exec_driver_sql("SHOW server_version").scalar())
        eng.dispose()
    mem_kib = float(_first("/proc/meminfo", "MemTotal", ":").split()[0] or 0)
    return Machine(
        cpu=_first("/proc/cpuinfo", "model name", ":"),
        cores=len(os.sched_getaffinity(0)),
        ram_gib=mem_kib / 2**20,
        os=f"{_first('/etc/os-release', 'PRETTY_NAME', '=')}, Linux {platform.release()}",
        python=platform.python_version(),
        sqlalchemy=sa.__version__,
        psycopg=psycopg.__version__,
        sqlite=sqlite3.sqlite_version,
        postgres=postgres,
        filesystem=_filesystem(data_dir()),
        fsync=bench_register.fsync_latency(),
    )


def _count_cases(url: str) -> int:
    eng = sa.create_engine(url)
    try:
        with eng.connect() as c:
            return int(c.exec_driver_sql("SELECT count(*) FROM cases").scalar() or 0)
    except sa.exc.DBAPIError:
        return -1
    finally:
        eng.dispose()


def ensure_store(
    engine: str, url: str, stats_file: Path, *, exists: bool, regenerate: bool, cases: int = CASES
) -> tuple[GenerationStats, bool]:
    """The `cases`-case store at `url`, generated unless a complete one is there; (its generator figures, reused)."""
    stats = read_stats(stats_file)
    if (
        not regenerate
        and exists
        and stats is not None
        and stats.cases == cases
        and _count_cases(url) == cases
        and sealed_with_bench_keys(url)  # a store from before issue 13, or sealed with other keys: again
    ):
        print(f"[{engine}] reusing the {cases:,}-case store generated {stats.generated_at}", flush=True)
        return stats, True
    print(f"[{engine}] generating the {cases:,}-case store", flush=True)
    stats = generate(url, cases=cases, replace=True, quiet=common.smoke())
    write_stats(stats, stats_file)
    return stats, False


def run(plan: Plan, postgres: bool, regenerate: bool) -> Results:
    t0 = time.perf_counter()
    data = data_dir()
    data.mkdir(parents=True, exist_ok=True)
    problem = pg_available() if postgres else "skipped (--no-postgres)"
    if problem:
        print(f"PostgreSQL: {problem}", flush=True)
    pg = problem is None
    res = Results(dt.datetime.now(dt.UTC), plan.flag, machine_info(pg))
    if not pg:
        res.notes.append(f"PostgreSQL not measured: {problem}.")

    print(f"[check] generator consistency on {plan.check_cases:,} cases", flush=True)
    small = data / "check.db"
    generate(f"sqlite:///{small}", cases=plan.check_cases, replace=True, quiet=True)
    res.checks["SQLite"] = check_store(f"sqlite:///{small}")
    for suffix in ("", "-wal", "-shm"):
        small.with_name(small.name + suffix).unlink(missing_ok=True)
    if pg:
        check_database = pg_name(PG_CHECK_DATABASE)
        check_url = pg_url(check_database)
        generate(check_url, cases=plan.check_cases, replace=True, quiet=True)
        res.checks["PostgreSQL"] = check_store(check_url)
        eng = sa.create_engine(pg_url("postgres"), isolation_level="AUTOCOMMIT")
        with eng.connect() as c:
            c.exec_driver_sql(f'DROP DATABASE IF EXISTS "{check_database}" WITH (FORCE)')
        eng.dispose()

    store = plan.sqlite_store()
    res.generation["SQLite"] = ensure_store(
        "SQLite",
        f"sqlite:///{store}",
        store.with_suffix(".sqlite.json"),
        exists=store.exists(),
        regenerate=regenerate,
        cases=plan.cases,
    )
    if pg:
        url = pg_url(plan.pg_database())
        res.generation["PostgreSQL"] = ensure_store(
            "PostgreSQL",
            url,
            store.with_suffix(".postgresql.json"),
            exists=pg_database_exists(url),
            regenerate=regenerate,
            cases=plan.cases,
        )

    print("[register] SQLite", flush=True)
    res.register.append(bench_register.run_fresh(n=plan.register_fresh))
    print(bench_register.describe(res.register[-1]), flush=True)
    res.register.append(bench_register.run_on_copy(store, n=plan.register_copy))
    print(bench_register.describe(res.register[-1]), flush=True)
    if bench_register.build_fsync_shim() is None:
        res.notes.append("Slower disks not simulated: no C compiler for bench/fsync_delay.c.")
    else:
        stores: list[Path | None] = [None] + ([store] if plan.simulated_copy else [])
        for copy_of in stores:
            for delay in plan.simulated_flush_ms:
                for auto in plan.simulated_autocheckpoint:
                    r = bench_register.run_simulated_disk(
                        delay,
                        n=plan.simulated_fresh if copy_of is None else plan.simulated_copy,
                        autocheckpoint=auto,
                        copy_of=copy_of,
                    )
                    if r is not None:
                        res.simulated.append(r)
                        print(bench_register.describe(r), flush=True)

    print("[search] SQLite", flush=True)
    res.search.append(bench_search.run(f"sqlite:///{store}", n=plan.search, warmup=min(30, plan.search)))
    print(bench_search.describe(res.search[-1]), flush=True)
    if pg:
        print("[search] PostgreSQL", flush=True)
        res.search.append(
            bench_search.run(pg_url(plan.pg_database()), n=plan.search, warmup=min(30, plan.search))
        )
        print(bench_search.describe(res.search[-1]), flush=True)
    res.seconds = time.perf_counter() - t0
    return res


# --- RESULTS.md --------------------------------------------------------------------------------------------


def _ok(passed: bool) -> str:
    return "PASS" if passed else "**FAIL**"


def _ms(x: float) -> str:
    return f"{x:.2f}"


def render(res: Results) -> str:
    m = res.machine
    out: list[str] = []
    add = out.append
    add("# Benchmark results")
    add("")
    add(
        f"Written by `python -m bench.run_all{' ' + res.flag if res.flag else ''}` on "
        f"{res.started:%Y-%m-%d %H:%M} UTC (run took {res.seconds / 60:.1f} min). Budgets: the performance table of "
        "DESIGN.md. Times are wall-clock latencies of the real code paths, in milliseconds, measured warm "
        "(after a warm-up pass; the stores are in the OS page cache). Each run rewrites this file."
    )
    add("")
    add("## Machine")
    add("")
    add("| | |")
    add("|---|---|")
    add(f"| CPU | {m.cpu} (`model name` of /proc/cpuinfo) |")
    add(f"| cores | {m.cores} |")
    add(f"| RAM | {m.ram_gib:.1f} GiB |")
    add(f"| OS | {m.os} |")
    add(f"| Python | {m.python} (SQLAlchemy {m.sqlalchemy}, psycopg {m.psycopg}) |")
    add(f"| SQLite | {m.sqlite} (the library Python's sqlite3 module loads) |")
    add(f"| PostgreSQL | {m.postgres or 'not measured'} (127.0.0.1:5432, default server settings) |")
    add(
        f"| disk | {m.filesystem}; append 4 KiB + fsync: p50 {_ms(m.fsync.p50)} ms, p99 {_ms(m.fsync.p99)} ms |"
    )
    add("")

    add("## Summary")
    add("")
    add("| work | engine | budget | measured | baseline | ratio | result |")
    add("|---|---|---|---|---|---|---|")
    for r in res.register:
        add(
            f"| register a visitor, {r.label} ({r.cases_before:,} cases), commit durable | SQLite | ≤ 20 ms p99 | "
            f"p99 {_ms(r.register.p99)} ms (p50 {_ms(r.register.p50)}) | bare INSERT+COMMIT p99 "
            f"{_ms(r.bare_commit.p99)} ms | {r.ratio_p99:.1f}× | {_ok(r.passed)} |"
        )
    for r in res.simulated:
        add(
            f"| register a visitor, {r.label} ({r.cases_before:,} cases), WAL autocheckpoint "
            f"{'on in the commit (experiment: the old configuration)' if r.autocheckpoint else 'off, background checkpointer (as shipped)'} | SQLite, simulated disk: flush "
            f"+{r.fsync_delay_ms:g} ms | ≤ 20 ms p99 | p99 {_ms(r.register.p99)} ms (p50 {_ms(r.register.p50)}) | "
            f"bare INSERT+COMMIT p99 {_ms(r.bare_commit.p99)} ms | {r.ratio_p99:.1f}× | {_ok(r.passed)} |"
        )
    for s in res.search:
        engine = "SQLite" if s.dialect == "sqlite" else "PostgreSQL"
        for k in s.kinds:
            add(
                f"| find among {s.cases:,} cases: {bench_search.KINDS[k.kind]} | {engine} | ≤ 50 ms p95 | "
                f"p95 {_ms(k.timing.p95)} ms (p50 {_ms(k.timing.p50)}) | PK get p95 {_ms(s.baseline.p95)} ms | "
                f"{k.timing.p95 / s.baseline.p95:.1f}× | {_ok(k.passed)} |"
            )
    for engine, (g, _) in res.generation.items():
        add(
            f"| generate {g.cases:,} cases ({g.rows:,} rows) | {engine} | minutes | {g.seconds:.0f} s | — | "
            f"{g.rows_per_s:,.0f} rows/s | {_ok(g.seconds < 600)} |"
        )
    add("")

    add("## Generator (`python -m bench.generate`)")
    add("")
    add("| engine | cases | events | parties | rows | time | rows/s | generated |")
    add("|---|---|---|---|---|---|---|---|")
    for engine, (g, reused) in res.generation.items():
        add(
            f"| {engine} | {g.cases:,} | {g.events:,} | {g.parties:,} | {g.rows:,} | {g.seconds:.1f} s | "
            f"{g.rows_per_s:,.0f} | {g.generated_at}{' (reused by this run)' if reused else ' (this run)'} |"
        )
    add("")
    days = next(iter(res.generation.values()))[0] if res.generation else None
    add(
        (f"Cases registered {days.first_day} .. {days.last_day} " if days else "Cases registered ")
        + "(08:30-17:30 China time, fewer on weekends, a rising trend, seasons); `case_events` holds one `registered` "
        "event per case plus the `repeat_visit` events; rows counted are events + cases + parties. The time "
        "includes building the secondary indexes (dropped during the load), and on PostgreSQL `VACUUM ANALYZE`. "
        "The SQLite store is given no `ANALYZE` statistics, like the stores the app grows."
    )
    add("")
    add(
        "Consistency check on a 3,000-case store (`--check`): projections rebuilt from the log equal the generated "
        "rows; a registration through the real `RegistrationService` then takes the next case number and "
        "`hall_seq`; its payload keys and stored time formats are those of the generated rows."
    )
    add("")
    add(
        "| engine | cases | projection rows | rebuild identical | next case number | next hall_seq | "
        "same shapes | result |"
    )
    add("|---|---|---|---|---|---|---|---|")
    for engine, c in res.checks.items():
        add(
            f"| {engine} | {c.cases:,} | {c.projection_rows:,} | {c.rebuild_identical} | {c.next_case_no} | "
            f"{c.next_hall_seq:,} | {c.same_shapes} | {_ok(c.ok)} |"
        )
    add("")

    add("## Registration (`bench/bench_register.py`, SQLite)")
    add("")
    add(
        "`RegistrationService.register` timed from call to return (after the commit) on a file store opened by "
        "`open_store` (WAL, `synchronous=FULL`, `BEGIN IMMEDIATE`, `wal_autocheckpoint=0` with the store's background checkpointer — read back from the connection, not assumed). "
        "Baseline: a single-row `INSERT` + `COMMIT` into a scratch table of the same database on a connection of "
        'the same engine, interleaved with the registrations. "validation" is `RegistrationService.check` alone.'
    )
    add("")
    add(
        "| store | new_case | n | p50 | p95 | p99 | max | bare commit p50 / p99 | ratio p50 / p99 | "
        "validation p50 | budget p99 ≤ 20 ms |"
    )
    add("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in res.register:
        t, b = r.register, r.bare_commit
        add(
            f"| {r.label} ({r.cases_before:,} cases; {r.journal_mode}, synchronous={r.synchronous}) | "
            f"{r.new_case} | {t.n} | {_ms(t.p50)} | {_ms(t.p95)} | {_ms(t.p99)} | {_ms(t.max)} | "
            f"{_ms(b.p50)} / {_ms(b.p99)} | {r.ratio_p50:.1f}× / {r.ratio_p99:.1f}× | {_ms(r.check_only.p50)} | "
            f"{_ok(r.passed)} |"
        )
    add("")
    add(
        "`new_case=False` is the window's default path: it first looks for an open case of the same applicant "
        "and category (a repeat visit). The copy of the 1M store is made for the run and deleted after it."
    )
    add("")
    if res.simulated:
        add("### Slower disks (simulated)")
        add("")
        add(
            f"This machine's disk acknowledges a flush in {_ms(m.fsync.p50)} ms (a virtual disk with a write-back "
            "cache); the PCs of a hall have SSDs or hard disks whose flush takes longer. Here every "
            "`fsync`/`fdatasync` of the process first waits the given time (LD_PRELOAD shim "
            "`bench/fsync_delay.c`: latency only, not bandwidth). As shipped, the store's connections get "
            "`PRAGMA wal_autocheckpoint=0` and a background thread of the store checkpoints the WAL after "
            'commits, so no registration pays for a checkpoint; "on in the commit" is the old configuration, '
            "SQLite's own automatic checkpoint, kept as an experiment for comparison."
        )
        add("")
        add(
            "| store | new_case | added flush latency | WAL autocheckpoint | n | p50 | p95 | p99 | max | "
            "bare commit p50 / p99 | budget p99 ≤ 20 ms |"
        )
        add("|---|---|---|---|---|---|---|---|---|---|---|")
        for r in res.simulated:
            t, b = r.register, r.bare_commit
            add(
                f"| {r.label} ({r.cases_before:,} cases) | {r.new_case} | {r.fsync_delay_ms:g} ms | "
                f"{'on in the commit (experiment: the old configuration)' if r.autocheckpoint else 'off, background checkpointer (as shipped)'} | {t.n} | {_ms(t.p50)} | {_ms(t.p95)} | {_ms(t.p99)} | {_ms(t.max)} | {_ms(b.p50)} / "
                f"{_ms(b.p99)} | {_ok(r.passed)} |"
            )
        add("")

    for s in res.search:
        engine = "SQLite" if s.dialect == "sqlite" else "PostgreSQL"
        add(f"## Search (`bench/bench_search.py`, {engine} {s.server_version})")
        add("")
        add(
            f"{s.cases:,} cases, {s.parties:,} parties. `RegistrationService.search` (a unit of work around "
            "`search_cases`, as the window calls it) with keys of random real cases; kinds measured round-robin. "
            'Baseline: `session.get(CaseRow, id)` in a unit of work. "hits": cases returned (limit 50); '
            '"found": the case the key came from is among them (for prefixes of common names it need not be).'
        )
        add("")
        add(
            "| key | n | p50 | p95 | p99 | max | p95 ÷ baseline p95 | hits | found | examples | "
            "budget p95 ≤ 50 ms |"
        )
        add("|---|---|---|---|---|---|---|---|---|---|---|")
        for k in s.kinds:
            t = k.timing
            add(
                f"| {bench_search.KINDS[k.kind]} | {t.n} | {_ms(t.p50)} | {_ms(t.p95)} | {_ms(t.p99)} | "
                f"{_ms(t.max)} | {t.p95 / s.baseline.p95:.1f}× | {k.mean_hits:.1f} | {k.found_share:.0%} | "
                f"{', '.join(k.examples)} | {_ok(k.passed)} |"
            )
        b = s.baseline
        add(
            f"| {bench_search.BASELINE} | {b.n} | {_ms(b.p50)} | {_ms(b.p95)} | {_ms(b.p99)} | {_ms(b.max)} | "
            "1.0× | | | | |"
        )
        add("")
        add("<details><summary>Query plans (one search of each kind)</summary>")
        add("")
        add("```")
        for kind, plan in s.plans.items():
            add(f"[{kind}]")
            out.extend(line if len(line) <= 200 else line[:197] + "..." for line in plan)
        add("```")
        add("</details>")
        add("")

    if res.notes:
        add("## Notes")
        add("")
        out.extend(f"- {n}" for n in res.notes)
        add("")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.run_all", description=__doc__.splitlines()[0])
    size = p.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="fewer samples (the same stores)")
    size.add_argument(
        "--smoke",
        action="store_true",
        help="every benchmark at a tiny size in a temporary directory, to prove they run (make test); "
        "writes no RESULTS.md unless --output is given",
    )
    p.add_argument("--no-postgres", action="store_true", help="SQLite only")
    p.add_argument("--regenerate", action="store_true", help="generate the 1M-case stores again")
    p.add_argument("--output", type=Path, help="the results file (default bench/RESULTS.md)")
    args = p.parse_args(argv)
    if not args.smoke:
        plan = QUICK if args.quick else FULL
        output = args.output or RESULTS
        run_all(plan, output, postgres=not args.no_postgres, regenerate=args.regenerate)
        print(f"wrote {output}")
        return 0
    # A smoke run keeps nothing: its stores in a temporary directory, its databases named its own (dropped).
    tmp = Path(tempfile.mkdtemp(prefix="bench-smoke-"))
    os.environ["BENCH_SMOKE"] = "1"
    os.environ["BENCH_DATA_DIR"] = str(tmp)
    try:
        output = args.output or tmp / "RESULTS.md"
        run_all(SMOKE, output, postgres=not args.no_postgres, regenerate=True)
        if args.output:
            print(f"wrote {output}")
        print(f"smoke run: every benchmark ran ({time.perf_counter() - _STARTED:.0f} s); nothing kept")
    finally:
        if not args.no_postgres and pg_available() is None:
            _drop_databases([pg_name(PG_DATABASE), pg_name(PG_CHECK_DATABASE)])
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


@contextlib.contextmanager
def _phase(name: str) -> Iterator[None]:
    """Say how long each benchmark took (a smoke run must stay seconds, not minutes)."""
    t0 = time.perf_counter()
    yield
    print(f"[time] {name}: {time.perf_counter() - t0:.1f} s", flush=True)


def run_all(plan: Plan, output: Path, *, postgres: bool, regenerate: bool) -> None:
    """Every benchmark by `plan`, each writing its section of `output`."""
    from bench import bench_cli, bench_hall, bench_receipt, bench_status, hall_day

    with _phase("generator, registration, search"):
        res = run(plan, postgres, regenerate)
        output.write_text(render(res) + "\n", encoding="utf-8")
    with _phase(
        "bench_blind_index"
    ):  # ~10 s: ID and phone through the blind index, on the store searched above
        from bench import bench_blind_index

        bench_blind_index.update_results(
            output, url=f"sqlite:///{plan.sqlite_store()}", cases=plan.cases, n=plan.search
        )
    with _phase("hall_day"):  # the routing simulation (~11 s): its own section, between markers
        hall_day.update_results(output, **plan.hall_day)
    with _phase("bench_hall"):  # ~2 min at 10,000 waiting
        bench_hall.update_results(output, **plan.hall)
    with _phase("bench_receipt"):  # ~10 s: one receipt PDF
        bench_receipt.update_results(output, renders=plan.receipts)
    with _phase("bench_sign_in"):  # ~10 s: the Argon2id verify of a sign-in
        from bench import bench_sign_in

        bench_sign_in.update_results(output, runs=2 if plan.smoke else 30)
    with _phase("bench_cli"):  # ~1 min: desk rooms/call start-up
        bench_cli.update_results(output, **plan.cli)
    with _phase("bench_status"):  # ~20 s: the status page server (a smoke run's on its own small store)
        bench_status.update_results(output, store=plan.sqlite_store() if plan.smoke else None, **plan.status)
    if not postgres or pg_available() is not None:
        return
    from bench import bench_sync, bench_ui_stall

    with _phase("bench_sync"):  # ~6 min (~1 with --quick): pushes of 100,000 and 1,000,000 events
        if plan.smoke:
            bench_sync.update_results(output, sizes=plan.sync, profile=plan.sync_profile)
        else:
            bench_sync.update_results(output, quick=plan.quick)
    with _phase("bench_ui_stall"):  # ~2 min: the windows' longest stall with PostgreSQL 200 ms away
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        result = bench_ui_stall.run(registrations=plan.stall_registrations, delay_s=plan.stall_delay_s)
        print(bench_ui_stall.describe(result))
        bench_ui_stall.write_section(bench_ui_stall.render(result), output)


def _drop_databases(names: list[str]) -> None:
    eng = sa.create_engine(pg_url("postgres"), isolation_level="AUTOCOMMIT")
    try:
        with eng.connect() as c:
            for name in names:
                c.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        eng.dispose()


_STARTED = time.perf_counter()

if __name__ == "__main__":
    raise SystemExit(main())
