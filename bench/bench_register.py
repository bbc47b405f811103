"""Durable registration on SQLite: `RegistrationService.register` end to end, against a bare INSERT + COMMIT.

Budget (DESIGN.md): register a visitor (commit, durable) <= 20 ms p99 on SQLite.
The store is a file opened by `open_store` (WAL, synchronous=FULL, BEGIN IMMEDIATE, wal_autocheckpoint=0 with the
store's background checkpointer -- checked, not assumed).
Each registration is timed from the call to its return, which is after the commit; the baseline is a
single-row INSERT + COMMIT into a scratch table of the same database, on a connection of the same engine (same
pragmas), interleaved with the registrations so both see the same disk.

Two more views, because this machine's virtual disk acknowledges a flush in ~0.1 ms (a write-back cache),
far faster than the disks of the PCs in a hall: `fsync_latency` measures the flush itself, and
`run_simulated_disk` repeats the measurement with every fsync/fdatasync delayed by an LD_PRELOAD shim
(bench/fsync_delay.c, built with gcc on demand) to model slower disks.

`python -m bench.bench_register [--n 2000] [--copy-of DB] [--sqlite-autocheckpoint] [--json FILE]`
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from bench.common import BENCH_DIR, Timing, data_dir, sqlite_url
from desk.core.clock import SystemClock
from desk.core.permissions import operator as staff
from desk.core.synthetic import make_visit
from desk.services.registration import RegistrationService
from desk.services.setup import init_hall
from desk.store.session import Store, open_store

BUDGET_P99_MS = 20.0


@dataclass(frozen=True)
class RegisterResult:
    label: str
    cases_before: int
    new_case: bool
    register: Timing
    bare_commit: Timing
    check_only: Timing  # RegistrationService.check: validation, no database
    journal_mode: str
    synchronous: str
    fsync_delay_ms: float = 0.0  # simulated extra flush latency (0: this machine's disk as it is)
    # True: an experiment with SQLite's automatic WAL checkpoint turned back on (wal_autocheckpoint=1000, the
    # configuration before the background checkpointer): the commit that crosses 1,000 WAL pages checkpoints.
    # False: as shipped (wal_autocheckpoint=0; the store's WalCheckpointer checkpoints on its own thread).
    autocheckpoint: bool = False
    wal_autocheckpoint: int = 0  # read back from the store's connection
    background_checkpoints: int = 0  # complete checkpoints the store's WalCheckpointer ran during the run

    @staticmethod
    def from_dict(d: dict[str, Any]) -> RegisterResult:
        timings = {k: Timing(**d[k]) for k in ("register", "bare_commit", "check_only")}
        return RegisterResult(**{**d, **timings})

    @property
    def ratio_p99(self) -> float:
        return self.register.p99 / self.bare_commit.p99

    @property
    def ratio_p50(self) -> float:
        return self.register.p50 / self.bare_commit.p50

    @property
    def passed(self) -> bool:
        return self.register.p99 <= BUDGET_P99_MS


def _remove_db(path: Path) -> None:
    for p in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        p.unlink(missing_ok=True)


def _pragmas(store: Store) -> tuple[str, str, int]:
    with store.engine.connect() as c:
        journal = str(c.exec_driver_sql("PRAGMA journal_mode").scalar())
        level = int(c.exec_driver_sql("PRAGMA synchronous").scalar() or 0)
        sync = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}[level]
        autocheckpoint = int(c.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() or 0)
    return journal, sync, autocheckpoint


def fsync_latency(directory: Path | None = None, n: int = 300) -> Timing:
    """Latency of appending 4 KiB to a file and flushing it (os.fsync) -- the disk's share of a commit."""
    directory = directory or data_dir()
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "fsync.probe"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    samples = []
    try:
        for _ in range(n):
            os.write(fd, b"x" * 4096)
            t0 = time.perf_counter_ns()
            os.fsync(fd)
            samples.append(time.perf_counter_ns() - t0)
    finally:
        os.close(fd)
        path.unlink(missing_ok=True)
    return Timing.of(samples)


def measure(store: Store, *, label: str, n: int, warmup: int, seed: int, new_case: bool) -> RegisterResult:
    svc = RegistrationService(store, SystemClock(), principal=staff("bench"))
    names = {c.code: c.name for c in svc.categories()}
    rng = random.Random(seed)
    visits = [make_visit(rng, categories=names) for _ in range(n + warmup)]
    journal, sync, wal_autocheckpoint = _pragmas(store)
    checkpointer = store.wal_checkpointer
    checkpoints_before = checkpointer.checkpoints if checkpointer else 0
    with store.engine.connect() as c:
        cases_before = int(c.exec_driver_sql("SELECT count(*) FROM cases").scalar() or 0)

    # The baseline's connection comes from the same engine: the store's connect hook set its pragmas.
    raw: Any = store.engine.raw_connection()
    cur = raw.cursor()
    cur.execute("CREATE TABLE IF NOT EXISTS bench_probe (id INTEGER PRIMARY KEY, note TEXT NOT NULL)")

    def bare_commit(i: int) -> int:
        t0 = time.perf_counter_ns()
        cur.execute("BEGIN IMMEDIATE")
        cur.execute("INSERT INTO bench_probe (note) VALUES (?)", (f"probe {i}",))
        cur.execute("COMMIT")
        return time.perf_counter_ns() - t0

    def register(visit: dict[str, Any]) -> int:
        t0 = time.perf_counter_ns()
        svc.register(visit, new_case=new_case)
        return time.perf_counter_ns() - t0

    def check(visit: dict[str, Any]) -> int:
        t0 = time.perf_counter_ns()
        svc.check(visit)
        return time.perf_counter_ns() - t0

    try:
        for i, v in enumerate(visits[:warmup]):  # imports (pypinyin, stdnum tables), caches, first pages
            register(v)
            bare_commit(i)
        reg_ns, bare_ns, check_ns = [], [], []
        for i, v in enumerate(visits[warmup:]):
            check_ns.append(check(v))
            reg_ns.append(register(v))
            bare_ns.append(bare_commit(i))
        cur.execute("DROP TABLE bench_probe")
    finally:
        cur.close()
        raw.close()
    background = (checkpointer.checkpoints - checkpoints_before) if checkpointer else 0
    return RegisterResult(
        label,
        cases_before,
        new_case,
        Timing.of(reg_ns),
        Timing.of(bare_ns),
        Timing.of(check_ns),
        journal,
        sync,
        wal_autocheckpoint=wal_autocheckpoint,
        background_checkpoints=background,
    )


def _sqlite_autocheckpoint(dbapi_conn: Any, _record: Any) -> None:
    # runs after the store's own connect hook (listeners run in order), so it overrides wal_autocheckpoint=0
    dbapi_conn.execute("PRAGMA wal_autocheckpoint=1000")


def _measure_store(
    path: Path,
    *,
    label: str,
    n: int,
    warmup: int,
    seed: int,
    new_case: bool,
    init: bool,
    autocheckpoint: bool,
) -> RegisterResult:
    store = open_store(sqlite_url(path))
    try:
        if autocheckpoint:
            sa.event.listen(store.engine, "connect", _sqlite_autocheckpoint)
            store.engine.dispose()  # connections made from now on get the pragma
        if init:
            init_hall(store)
        result = measure(store, label=label, n=n, warmup=warmup, seed=seed, new_case=new_case)
    finally:
        store.dispose()
        _remove_db(path)
    simulated = "fsync_delay" in os.environ.get("LD_PRELOAD", "")
    delay = float(os.environ.get("FSYNC_DELAY_US", "0")) / 1000 if simulated else 0.0
    return dataclasses.replace(result, fsync_delay_ms=delay, autocheckpoint=autocheckpoint)


def run_fresh(
    *, n: int = 2000, warmup: int = 50, seed: int = 7, path: Path | None = None, autocheckpoint: bool = False
) -> RegisterResult:
    """Registrations into a new store (initialised like `desk init`). `autocheckpoint=True` is an experiment, not
    the product: the store's connections get SQLite's default `wal_autocheckpoint=1000` back, so the commit that
    crosses 1,000 WAL pages runs the checkpoint (as the store did before its background checkpointer)."""
    path = path or data_dir() / "register.db"
    path.parent.mkdir(parents=True, exist_ok=True)
    _remove_db(path)
    return _measure_store(
        path,
        label="empty store",
        n=n,
        warmup=warmup,
        seed=seed,
        new_case=True,
        init=True,
        autocheckpoint=autocheckpoint,
    )


def run_on_copy(
    source: Path,
    *,
    n: int = 500,
    warmup: int = 20,
    seed: int = 8,
    new_case: bool = False,
    path: Path | None = None,
    autocheckpoint: bool = False,
) -> RegisterResult:
    """Registrations into a copy of a big generated store; `new_case=False` is the window's default path,
    which first looks for an open case of the same applicant and category (a repeat visit)."""
    path = path or data_dir() / "register-big.db"
    _remove_db(path)
    src = sqlite3.connect(source)
    try:
        src.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # the copy is then the whole store
    finally:
        src.close()
    shutil.copyfile(source, path)
    return _measure_store(
        path,
        label="copy of the generated store",
        n=n,
        warmup=warmup,
        seed=seed,
        new_case=new_case,
        init=False,
        autocheckpoint=autocheckpoint,
    )


def build_fsync_shim() -> Path | None:
    """Compile bench/fsync_delay.c into bench/data/ (once); None when there is no C compiler."""
    out = data_dir() / "fsync_delay.so"
    src = BENCH_DIR / "fsync_delay.c"
    if out.exists() and out.stat().st_mtime >= src.stat().st_mtime:
        return out
    cc = shutil.which("gcc") or shutil.which("cc")
    if cc is None:
        return None
    out.parent.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        [cc, "-shared", "-fPIC", "-O2", "-o", str(out), str(src), "-ldl"], capture_output=True
    )
    return out if done.returncode == 0 else None


def run_simulated_disk(
    delay_ms: float, *, n: int = 500, autocheckpoint: bool = False, copy_of: Path | None = None
) -> RegisterResult | None:
    """`run_fresh` (or `run_on_copy(copy_of)`) in a child process whose fsync/fdatasync each wait `delay_ms`
    first; None without a C compiler for the shim."""
    shim = build_fsync_shim()
    if shim is None:
        return None
    name = f"register-sim-{delay_ms:g}ms"
    out = data_dir() / f"{name}.json"
    env = {**os.environ, "LD_PRELOAD": str(shim), "FSYNC_DELAY_US": str(int(delay_ms * 1000))}
    cmd = [
        sys.executable,
        "-m",
        "bench.bench_register",
        "--n",
        str(n),
        "--json",
        str(out),
        "--db-file",
        str(data_dir() / f"{name}.db"),
    ]
    if copy_of is not None:
        cmd += ["--copy-of", str(copy_of)]
    if autocheckpoint:
        cmd.append("--sqlite-autocheckpoint")
    subprocess.run(cmd, check=True, env=env, cwd=BENCH_DIR.parent, stdout=subprocess.DEVNULL)
    try:
        return RegisterResult.from_dict(json.loads(out.read_text(encoding="utf-8")))
    finally:
        out.unlink(missing_ok=True)


def describe(r: RegisterResult) -> str:
    t, b = r.register, r.bare_commit
    disk = f"; fsync +{r.fsync_delay_ms:g} ms simulated" if r.fsync_delay_ms else ""
    disk += (
        f"; wal_autocheckpoint={r.wal_autocheckpoint} (experiment: checkpoints in commits)"
        if r.autocheckpoint
        else f"; wal_autocheckpoint={r.wal_autocheckpoint}, {r.background_checkpoints} background checkpoints"
    )
    return (
        f"register ({r.label}, {r.cases_before:,} cases, new_case={r.new_case}; {r.journal_mode}, "
        f"synchronous={r.synchronous}{disk}): n={t.n} p50={t.p50:.2f} p95={t.p95:.2f} p99={t.p99:.2f} "
        f"max={t.max:.2f} ms  [{'PASS' if r.passed else 'FAIL'} <= {BUDGET_P99_MS:g} ms p99]\n"
        f"  bare INSERT+COMMIT: p50={b.p50:.2f} p95={b.p95:.2f} p99={b.p99:.2f} ms;  ratio p50 "
        f"{r.ratio_p50:.1f}x, p99 {r.ratio_p99:.1f}x;  validation alone p50={r.check_only.p50:.2f} ms"
    )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.bench_register", description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=2000)
    p.add_argument(
        "--copy-of",
        type=Path,
        metavar="DB",
        help="register into a copy of this generated store (default path, new_case=False) "
        "instead of an empty one",
    )
    p.add_argument("--db-file", type=Path, metavar="FILE", help="the scratch store (default in bench/data/)")
    p.add_argument(
        "--sqlite-autocheckpoint",
        action="store_true",
        help="experiment: turn SQLite's automatic WAL checkpoint (in commits) back on, as before the "
        "store's background checkpointer",
    )
    p.add_argument("--json", type=Path, metavar="FILE", help="also write the result as JSON")
    args = p.parse_args(argv)
    auto = args.sqlite_autocheckpoint
    if args.copy_of:
        result = run_on_copy(args.copy_of, n=args.n, path=args.db_file, autocheckpoint=auto)
    else:
        result = run_fresh(n=args.n, path=args.db_file, autocheckpoint=auto)
    print(describe(result))
    if args.json:
        args.json.write_text(json.dumps(asdict(result), indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
