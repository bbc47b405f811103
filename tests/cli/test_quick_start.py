"""What a quick command imports: `desk rooms --json` and `desk call` (hardware call buttons, schedulers) load
neither Qt, nor pinyin, stdnum, ReportLab, Alembic or the PostgreSQL dialect on a SQLite store. No timings here:
bench/bench_cli.py measures the time."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from desk.services.setup import init_hall
from desk.store.session import open_store
from tests.conftest import add_tester

# never needed by `desk rooms` / `desk call` on SQLite (Alembic: the store is already at the head revision)
NOT_IMPORTED = (
    "PySide6",
    "pypinyin",
    "stdnum",
    "reportlab",
    "qrcode",
    "alembic",
    "psycopg",
    "starlette",
    "uvicorn",
    "sqlalchemy.dialects.postgresql",
    "desk.services.registration",
    "desk.services.documents",
    "desk.sync",
    "cryptography",  # the vault: a call or a room list opens no sealed field
    "keyring",  # its start alone costs a quarter second; the keys are not needed here
)


def imported_modules(*args: str) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    """Run `python -X importtime -m desk ARGS`; the process and the modules it imported."""
    r = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "desk", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=dict(os.environ),
    )
    modules = {
        line.rsplit("|", 1)[1].strip()
        for line in r.stderr.splitlines()
        if line.startswith("import time:") and "imported package" not in line
    }
    return r, modules


def loaded(modules: set[str], package: str) -> list[str]:
    return sorted(m for m in modules if m == package or m.startswith(package + "."))


@pytest.fixture
def hall_db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'hall.db'}"
    store = open_store(url)
    init_hall(store)
    add_tester(store)
    store.dispose()
    return url


@pytest.mark.parametrize("command", [["rooms", "--json"], ["call", "--room", "R01"]])
def test_a_quick_command_on_sqlite_imports_only_what_it_uses(hall_db: str, command: list[str]) -> None:
    r, modules = imported_modules(*command, "--db", hall_db)
    assert r.returncode in (0, 3), r.stderr[-2000:]  # 3: nobody waiting
    assert "sqlalchemy.orm" in modules and "desk.services.rooms" in modules  # the measurement saw the imports
    for package in NOT_IMPORTED:
        assert not loaded(modules, package), f"{' '.join(command)} imported {package}"


def test_the_output_of_a_quick_command_is_complete_and_the_store_closed(hall_db: str) -> None:
    # `run` ends a short command's process without tearing down the interpreter: output flushed, store closed
    r = subprocess.run(
        [sys.executable, "-m", "desk", "rooms", "--json", "--db", hall_db],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 0 and r.stdout.rstrip().endswith("]") and r.stdout.count('"id"') == 9
    db = Path(hall_db.removeprefix("sqlite:///"))
    assert not db.with_name(db.name + "-wal").exists()  # the last connection closed cleanly


def test_the_gui_and_help_still_take_the_ordinary_way(hall_db: str) -> None:
    r = subprocess.run([sys.executable, "-m", "desk", "--help"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0
    for name in ("init", "register", "cases", "rooms", "call", "receipt", "status-server", "sync", "county"):
        assert name in r.stdout
    r = subprocess.run(
        [sys.executable, "-m", "desk", "--db", hall_db, "rooms", "--bogus"], capture_output=True, text=True
    )
    assert r.returncode == 2 and "--bogus" in r.stderr


@pytest.mark.parametrize(
    ("argv", "command"),
    [
        (["rooms", "--json"], "rooms"),
        (["--db", "sqlite:///x.db", "call", "--room", "R01"], "call"),
        (["--db=sqlite:///x.db", "rooms"], "rooms"),
        (["--term", "rooms", "call", "--room", "R01"], "call"),  # an abbreviated option takes its value
        (["county", "halls"], "county"),
        (["--role", "room", "--room", "R01"], None),  # the GUI
        (["-h"], None),
        (["nonsense"], None),
        ([], None),
    ],
)
def test_the_command_is_found_before_parsing(argv: list[str], command: str | None) -> None:
    from desk.cli import _command_in

    assert _command_in(argv) == command
