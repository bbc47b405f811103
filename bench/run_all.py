"""Run every benchmark and rewrite bench/RESULTS.md: `python -m bench.run_all [--quick] [--no-postgres]`.

1. The generator proves itself on a small store (projection rebuild, numbering continues; SQLite and PostgreSQL).
2. The 1,000,000-case stores are generated once -- bench/data/search-1m.db and the PostgreSQL database
   `desk_bench` -- and reused while they are there (`--regenerate` makes them again).
3. Registration on SQLite (bench_register), then search on both engines (bench_search).
4. Their own sections after that: routing (hall_day), the hall (bench_hall), receipts, command start-up
   (bench_cli), the status page, and county sync (bench_sync: push vs a bare COPY, the idle round, memory while
   pushing; PostgreSQL only).
`--quick` measures fewer samples; the stores are the same.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa

from bench import bench_register, bench_search
from bench.common import BENCH_DIR, DATA_DIR, Timing, pg_available, pg_database_exists, pg_url
from bench.generate import CheckReport, GenerationStats, check_store, generate, read_stats, write_stats

CASES = 1_000_000
PG_DATABASE = "desk_bench"  # left in place after the run, like bench/data/search-1m.db, for the next run
PG_CHECK_DATABASE = "desk_bench_check"  # dropped after the check
SQLITE_STORE = DATA_DIR / "search-1m.db"
RESULTS = BENCH_DIR / "RESULTS.md"
SIMULATED_FLUSH_MS = (2.0, 8.0)


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
    quick: bool
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
        filesystem=_filesystem(DATA_DIR),
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
    engine: str, url: str, stats_file: Path, *, exists: bool, regenerate: bool
) -> tuple[GenerationStats, bool]:
    """The 1M-case store at `url`, generated unless a complete one is there; (its generator figures, reused)."""
    stats = read_stats(stats_file)
    if (
        not regenerate
        and exists
        and stats is not None
        and stats.cases == CASES
        and _count_cases(url) == CASES
    ):
        print(f"[{engine}] reusing the {CASES:,}-case store generated {stats.generated_at}", flush=True)
        return stats, True
    print(f"[{engine}] generating the {CASES:,}-case store", flush=True)
    stats = generate(url, cases=CASES, replace=True)
    write_stats(stats, stats_file)
    return stats, False


def run(quick: bool, postgres: bool, regenerate: bool) -> Results:
    t0 = time.perf_counter()
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    problem = pg_available() if postgres else "skipped (--no-postgres)"
    if problem:
        print(f"PostgreSQL: {problem}", flush=True)
    pg = problem is None
    res = Results(dt.datetime.now(dt.UTC), quick, machine_info(pg))
    if not pg:
        res.notes.append(f"PostgreSQL not measured: {problem}.")

    print("[check] generator consistency on 3,000 cases", flush=True)
    small = DATA_DIR / "check.db"
    generate(f"sqlite:///{small}", cases=3000, replace=True, quiet=True)
    res.checks["SQLite"] = check_store(f"sqlite:///{small}")
    for suffix in ("", "-wal", "-shm"):
        small.with_name(small.name + suffix).unlink(missing_ok=True)
    if pg:
        check_url = pg_url(PG_CHECK_DATABASE)
        generate(check_url, cases=3000, replace=True, quiet=True)
        res.checks["PostgreSQL"] = check_store(check_url)
        eng = sa.create_engine(pg_url("postgres"), isolation_level="AUTOCOMMIT")
        with eng.connect() as c:
            c.exec_driver_sql(f'DROP DATABASE IF EXISTS "{PG_CHECK_DATABASE}" WITH (FORCE)')
        eng.dispose()

    res.generation["SQLite"] = ensure_store(
        "SQLite",
        f"sqlite:///{SQLITE_STORE}",
        DATA_DIR / "search-1m.sqlite.json",
        exists=SQLITE_STORE.exists(),
        regenerate=regenerate,
    )
    if pg:
        url = pg_url(PG_DATABASE)
        res.generation["PostgreSQL"] = ensure_store(
            "PostgreSQL",
            url,
            DATA_DIR / "search-1m.postgresql.json",
            exists=pg_database_exists(url),
            regenerate=regenerate,
        )

    print("[register] SQLite", flush=True)
    res.register.append(bench_register.run_fresh(n=500 if quick else 2000))
    print(bench_register.describe(res.register[-1]), flush=True)
    res.register.append(bench_register.run_on_copy(SQLITE_STORE, n=200 if quick else 500))
    print(bench_register.describe(res.register[-1]), flush=True)
    if bench_register.build_fsync_shim() is None:
        res.notes.append("Slower disks not simulated: no C compiler for bench/fsync_delay.c.")
    else:
        stores: list[Path | None] = [None] if quick else [None, SQLITE_STORE]
        for copy_of in stores:
            for delay in SIMULATED_FLUSH_MS:
                for auto in (True, False):
                    r = bench_register.run_simulated_disk(
                        delay,
                        n=(500 if quick else 1000) if copy_of is None else 500,
                        autocheckpoint=auto,
                        copy_of=copy_of,
                    )
                    if r is not None:
                        res.simulated.append(r)
                        print(bench_register.describe(r), flush=True)

    n = 100 if quick else 300
    print("[search] SQLite", flush=True)
    res.search.append(bench_search.run(f"sqlite:///{SQLITE_STORE}", n=n))
    print(bench_search.describe(res.search[-1]), flush=True)
    if pg:
        print("[search] PostgreSQL", flush=True)
        res.search.append(bench_search.run(pg_url(PG_DATABASE), n=n))
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
        f"Written by `python -m bench.run_all{' --quick' if res.quick else ''}` on "
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
    p.add_argument("--quick", action="store_true", help="fewer samples (the same stores)")
    p.add_argument("--no-postgres", action="store_true", help="SQLite only")
    p.add_argument("--regenerate", action="store_true", help="generate the 1M-case stores again")
    p.add_argument("--output", type=Path, default=RESULTS)
    args = p.parse_args(argv)
    res = run(args.quick, not args.no_postgres, args.regenerate)
    args.output.write_text(render(res) + "\n", encoding="utf-8")
    from bench import hall_day

    hall_day.update_results(args.output)  # the routing simulation (~11 s): its own section, between markers
    from bench import bench_hall

    bench_hall.update_results(args.output, waiting=1_000 if args.quick else 10_000)  # ~2 min at 10,000
    from bench import bench_receipt

    bench_receipt.update_results(args.output, renders=100 if args.quick else 300)  # ~10 s: one receipt PDF
    from bench import bench_cli

    bench_cli.update_results(args.output, pairs=20 if args.quick else 30)  # ~1 min: desk rooms/call start-up
    from bench import bench_status

    bench_status.update_results(args.output, seconds=5 if args.quick else 10)  # ~20 s: the status page server
    if not args.no_postgres:
        from bench import bench_sync

        # ~6 min (~1 with --quick): pushes of 100,000 and 1,000,000 events to fresh county databases
        bench_sync.update_results(args.output, quick=args.quick)
        from bench import bench_ui_stall

        # ~2 min: the windows' longest stall with PostgreSQL 200 ms away (Qt offscreen)
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        result = bench_ui_stall.run(registrations=2 if args.quick else 5, delay_s=0.2)
        print(bench_ui_stall.describe(result))
        bench_ui_stall.write_section(bench_ui_stall.render(result), args.output)
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
