"""Shared helpers of the benchmarks: where the stores live, PostgreSQL databases, percentiles."""

from __future__ import annotations

import math
import os
import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.engine import URL, make_url

if TYPE_CHECKING:
    from desk.security.vault import Vault

BENCH_DIR = Path(__file__).resolve().parent
DEFAULT_DATA_DIR = BENCH_DIR / "data"  # git-ignored
# The server of the project's machines (TOOLCHAIN.md); the benchmark databases are created on it.
PG_ADMIN_URL = os.environ.get("DESK_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def smoke() -> bool:
    """A smoke run (`python -m bench.run_all --smoke`, `make test`): every benchmark at a tiny size, to prove it
    still runs; its figures mean nothing and no RESULTS.md is written."""
    return os.environ.get("BENCH_SMOKE") == "1"


def data_dir() -> Path:
    """Where the benchmarks keep their stores: bench/data/, or `BENCH_DATA_DIR` (a smoke run's temporary
    directory, so it never touches the stores a full run reuses). Read at each use, not at import."""
    return Path(os.environ.get("BENCH_DATA_DIR") or DEFAULT_DATA_DIR)


def pg_name(name: str) -> str:
    """The name of a benchmark database: in a smoke run its own (with the process id), so that a smoke run
    beside a full one never drops or fills the full run's databases."""
    return f"{name}_smoke{os.getpid()}" if smoke() else name


def bench_vault() -> Vault:
    """The benchmarks' data keys: a key file beside their stores (`data_dir()/keyset.json`, made once), unless
    `DESK_KEY_FILE` names one already. `DESK_KEY_FILE` is set to it, so the services the benchmarks run seal
    and open with the keys the generator sealed its stores with."""
    import json

    from desk.security.keys import DESK_KEY_FILE, current_vault
    from desk.security.vault import KeySet

    if not os.environ.get(DESK_KEY_FILE):
        path = data_dir() / "keyset.json"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump({"keyset": KeySet.generate().to_json()}, f)
        os.environ[DESK_KEY_FILE] = str(path)
    return current_vault()


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def sqlite_path(url: str | URL) -> Path | None:
    """The file of a file-backed SQLite URL, else None."""
    u = make_url(url)
    if u.get_backend_name() != "sqlite" or not u.database or u.database == ":memory:":
        return None
    return Path(u.database)


def is_postgres(url: str | URL) -> bool:
    return make_url(url).get_backend_name() == "postgresql"


def pg_url(database: str, admin_url: str = PG_ADMIN_URL) -> str:
    return make_url(admin_url).set(database=database).render_as_string(hide_password=False)


def psycopg_conninfo(url: str | URL) -> str:
    """A SQLAlchemy PostgreSQL URL as a libpq connection string for psycopg.connect()."""
    u = make_url(url).set(drivername="postgresql")
    return u.render_as_string(hide_password=False)


def pg_available(admin_url: str = PG_ADMIN_URL) -> str | None:
    """None when the server answers, else the first line of the error."""
    try:
        eng = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with eng.connect() as c:
            c.exec_driver_sql("SELECT 1")
        eng.dispose()
        return None
    except Exception as e:  # noqa: BLE001 - any failure means "no server"
        return str(e).splitlines()[0]


def _admin_engine(url: str | URL) -> sa.Engine:
    admin = make_url(url).set(database="postgres")
    if admin.drivername == "postgresql":
        admin = admin.set(drivername="postgresql+psycopg")
    return sa.create_engine(admin, isolation_level="AUTOCOMMIT")


def pg_database_exists(url: str | URL) -> bool:
    name = make_url(url).database
    eng = _admin_engine(url)
    try:
        with eng.connect() as c:
            return bool(
                c.execute(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).scalar()
            )
    finally:
        eng.dispose()


def pg_create_database(url: str | URL, *, replace: bool = False) -> None:
    """Create the database of `url` (dropping it first when `replace`); an existing one is left alone."""
    name = make_url(url).database
    if not name or not name.replace("_", "").isalnum():
        raise ValueError(f"refusing to create the database {name!r}: use letters, digits and _")
    eng = _admin_engine(url)
    try:
        with eng.connect() as c:
            if replace:
                c.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            exists = c.execute(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).scalar()
            if not exists:
                c.exec_driver_sql(f"CREATE DATABASE \"{name}\" TEMPLATE template0 ENCODING 'UTF8'")
    finally:
        eng.dispose()


@dataclass(frozen=True)
class Timing:
    """Latencies of one measured operation, in milliseconds."""

    n: int
    p50: float
    p95: float
    p99: float
    max: float
    mean: float

    @staticmethod
    def of(samples_ns: list[int]) -> Timing:
        ms = sorted(s / 1e6 for s in samples_ns)
        return Timing(
            len(ms), percentile(ms, 50), percentile(ms, 95), percentile(ms, 99), ms[-1], statistics.fmean(ms)
        )


def percentile(sorted_values: list[float], p: float) -> float:
    """Nearest-rank percentile of already sorted values (the value below which p% of samples fall)."""
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(p / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


def write_section(section: str, path: Path, *, start: str, end: str) -> None:
    """Put a benchmark's section into RESULTS.md between its markers, replacing an earlier one; else append it.

    Each benchmark owns its section, so running one rewrites only its own figures."""
    import re

    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmark results\n"
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.S)
    if pattern.search(text):
        text = pattern.sub(lambda _: section, text, count=1)
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    path.write_text(text, encoding="utf-8")
