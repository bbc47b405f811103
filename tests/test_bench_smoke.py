"""Every benchmark still runs: `python -m bench.run_all --smoke` (each at a tiny size, in a temporary directory,
with databases of its own) completes and every section of its results has figures. The benchmarks fell behind a
migration once, unnoticed until someone ran them; this keeps them from rotting again. It measures nothing."""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import PG_ADMIN_URL, _pg_available

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "RESULTS.md"
# the section each benchmark writes, and a figure it must carry
SQLITE_SECTIONS = {
    "run_all: generator": r"\| SQLite \| 1,500 \| [\d,]+ \| [\d,]+ \|",
    "run_all: consistency check": r"\| SQLite \| 200 \| [\d,]+ \| True \|",
    "run_all: registration": r"register a visitor, empty store .* p99 \d+\.\d+ ms",
    "run_all: search": r"find among 1,500 cases: .* p95 \d+\.\d+ ms",
    "hall_day": r"<!-- hall_day:start -->(?s:.)*p90(?s:.)*<!-- hall_day:end -->",
    "bench_hall": r"<!-- bench_hall:start -->(?s:.)*\d+\.\d+(?s:.)*<!-- bench_hall:end -->",
    "bench_receipt": r"<!-- bench_receipt:start -->(?s:.)*\d+\.\d+(?s:.)*<!-- bench_receipt:end -->",
    "bench_sign_in": r"<!-- bench_sign_in:start -->(?s:.)*sign_in(?s:.)*\d+\.\d+ ms(?s:.)*<!-- bench_sign_in:end -->",
    "bench_cli": r"<!-- bench_cli:start -->(?s:.)*desk rooms(?s:.)*\d+\.\d+(?s:.)*<!-- bench_cli:end -->",
    "bench_status": r"<!-- bench_status:start -->(?s:.)*1,500(?s:.)*<!-- bench_status:end -->",
    "bench_blind_index": r"<!-- bench_blind_index:start -->(?s:.)*search by ID number.*p95 \d+\.\d+ ms",
}
POSTGRES_SECTIONS = {
    "run_all: search on PostgreSQL": r"find among 1,500 cases: .* \| PostgreSQL \| .* p95 \d+\.\d+ ms",
    "bench_sync": r"<!-- bench_sync:start -->(?s:.)*200 events(?s:.)*<!-- bench_sync:end -->",
    "bench_ui_stall": r"<!-- bench_ui_stall:start -->(?s:.)*\d+\.\d+ ms(?s:.)*<!-- bench_ui_stall:end -->",
}


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else ""


@pytest.mark.slow
def test_every_benchmark_runs_at_a_tiny_size(tmp_path: Path) -> None:
    problem = _pg_available()
    if problem and os.environ.get("CI"):
        pytest.fail(f"PostgreSQL is required in CI and is not reachable: {problem}")
    out = tmp_path / "RESULTS.md"
    before = _digest(RESULTS)
    command = [sys.executable, "-m", "bench.run_all", "--smoke", "--output", str(out)]
    if problem:
        command.append("--no-postgres")  # the SQLite benchmarks still run; sync and the stall need the server
    scratch = tmp_path / "tmp"  # the smoke run's temporary directories go here, and must be gone after
    scratch.mkdir()
    # the server the tests use (DESK_TEST_PG_URL) is the one the benchmarks use
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", TMPDIR=str(scratch), DESK_BENCH_PG_URL=PG_ADMIN_URL)
    env.pop("BENCH_DATA_DIR", None)
    with subprocess.Popen(
        command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    ) as proc:
        stdout, stderr = proc.communicate(timeout=600)
    log = (stdout + stderr)[-6000:]
    assert proc.returncode == 0, log
    assert "smoke run: every benchmark ran" in stdout
    text = out.read_text(encoding="utf-8")
    expected = SQLITE_SECTIONS | ({} if problem else POSTGRES_SECTIONS)
    missing = [name for name, pattern in expected.items() if not re.search(pattern, text)]
    assert not missing, f"sections without figures: {missing}\n{log}"
    assert _digest(RESULTS) == before  # bench/RESULTS.md is the full runs' alone
    assert not list(scratch.iterdir())  # the stores, the shim, the profiles: nothing kept
    if not problem:
        assert not _smoke_databases(proc.pid)


def _smoke_databases(pid: int) -> list[str]:
    import sqlalchemy as sa

    eng = sa.create_engine(PG_ADMIN_URL)
    try:
        with eng.connect() as c:
            return list(
                c.execute(
                    sa.text("SELECT datname FROM pg_database WHERE datname LIKE :p"), {"p": f"%_smoke{pid}"}
                ).scalars()
            )
    finally:
        eng.dispose()
