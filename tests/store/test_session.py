"""Units of work and the SQLite WAL: reads never wait for writers, writes begin IMMEDIATE, and no commit runs a
checkpoint -- the store's background checkpointer does, after commits, at dispose() and at process exit."""

from __future__ import annotations

import json
import os
import sqlite3
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa

from desk.services.registration import RegistrationService
from desk.services.setup import init_hall
from desk.store.events import bump_counter
from desk.store.models import CaseRow, Counter
from desk.store.session import Store, create_engine, migrate, open_store
from tests.conftest import add_tester, valid_id, visit

HALL = "620702001"


def wait_until(condition: Callable[[], bool], *, timeout: float = 30.0) -> bool:
    """Poll until `condition()` holds; False after `timeout` seconds (generous: this is no timing test)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


def db_file(store: Store) -> Path:
    assert store.engine.url.database
    return Path(store.engine.url.database)


def wal_size(db: Path) -> int:
    wal = db.with_name(db.name + "-wal")
    return wal.stat().st_size if wal.exists() else 0


def wal_frames(db: Path) -> tuple[int, int]:
    """(frames in the WAL, frames of them already copied into the database), read from the wal-index (-shm)
    without touching the database -- running a checkpoint to find out would checkpoint. Layout:
    https://www.sqlite.org/walformat.html (mxFrame at byte 16 of the header, nBackfill at byte 96)."""
    shm = db.with_name(db.name + "-shm").read_bytes()[:100]
    (mx_frame,) = struct.unpack_from("=I", shm, 16)
    (backfilled,) = struct.unpack_from("=I", shm, 96)
    return mx_frame, backfilled


def checkpointer_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("desk-wal-checkpoint")]


# --- the WAL checkpoint ------------------------------------------------------------------------------------


def test_sqlite_commits_never_checkpoint(sqlite_store: Store) -> None:
    with sqlite_store.engine.connect() as c:
        assert c.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 0
    with sqlite_store.read() as s:
        assert s.execute(sa.text("PRAGMA wal_autocheckpoint")).scalar() == 0
    with sqlite_store.unit_of_work() as s:
        assert s.execute(sa.text("PRAGMA wal_autocheckpoint")).scalar() == 0
        assert s.execute(sa.text("PRAGMA synchronous")).scalar() == 2  # FULL: still durable


def test_commits_are_checkpointed_in_the_background(
    sqlite_service: RegistrationService, sqlite_store: Store
) -> None:
    db = db_file(sqlite_store)
    checkpointer = sqlite_store.wal_checkpointer
    assert checkpointer is not None and checkpointer.alive
    for i in range(5):
        sqlite_service.register(visit(narrative=f"第{i}次登记：邻居在院墙外堆放杂物。"), new_case=True)

    def all_frames_copied() -> bool:
        frames, copied = wal_frames(db)
        return frames > 0 and copied == frames

    assert wait_until(all_frames_copied), wal_frames(db)
    assert checkpointer.checkpoints >= 1
    with sqlite_store.read() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(CaseRow)) == 5


def test_dispose_empties_the_wal_and_stops_the_thread(
    sqlite_service: RegistrationService, sqlite_store: Store
) -> None:
    db = db_file(sqlite_store)
    for _ in range(3):
        sqlite_service.register(visit(), new_case=True)
    assert wal_size(db) > 0
    checkpointer = sqlite_store.wal_checkpointer
    assert checkpointer is not None
    sqlite_store.dispose()
    assert not checkpointer.alive
    assert not [
        t
        for t in checkpointer_threads()
        if t.name.endswith(db.name) and t.is_alive() and t is checkpointer._thread
    ]
    assert wal_size(db) == 0
    # every commit is in the database file itself now
    raw = sqlite3.connect(db)
    try:
        assert raw.execute("SELECT count(*) FROM cases").fetchone() == (3,)
    finally:
        raw.close()
    sqlite_store.dispose()  # twice is harmless


def test_a_wal_over_the_cap_is_truncated_without_dispose(sqlite_url: str) -> None:
    engine = create_engine(sqlite_url)
    migrate(engine)
    store = Store(engine, wal_cap_bytes=1)  # every WAL is "too big"
    try:
        init_hall(store)
        add_tester(store)
        checkpointer = store.wal_checkpointer
        assert checkpointer is not None
        assert wait_until(lambda: checkpointer.truncations >= 1 and wal_size(db_file(store)) == 0)
    finally:
        store.dispose()


def test_a_dropped_store_ends_its_thread(sqlite_url: str) -> None:
    store = open_store(sqlite_url)
    init_hall(store)
    add_tester(store)
    checkpointer = store.wal_checkpointer
    assert checkpointer is not None and checkpointer.alive
    del store  # never disposed
    assert wait_until(lambda: not checkpointer.alive)
    assert wal_size(Path(sqlite_url.removeprefix("sqlite:///"))) == 0


# Runs `desk register` in-process and exits without dispose(). The probe is registered with atexit *before* the
# store module is imported, so it runs *after* the store's exit hook (atexit is last in, first out), while the
# store's connections are still open -- i.e. before SQLite's own checkpoint at the close of the last connection
# could have emptied the WAL.
CLI_EXIT = """
import atexit, os, sys
db, visit_file = sys.argv[1], sys.argv[2]
wal = db + "-wal"
size = lambda: os.path.getsize(wal) if os.path.exists(wal) else 0
atexit.register(lambda: print("at exit", size(), flush=True))
from desk.cli import main
kept = []  # handed back to the caller, which never disposes them
code = main(["register", "--db", "sqlite:///" + db, "--file", visit_file, "--new-case"], opened=kept)
print("before exit", size(), flush=True)
sys.exit(code)
"""


def test_a_cli_process_that_never_disposes_leaves_the_wal_checkpointed(
    sqlite_url: str, tmp_path: Path
) -> None:
    store = open_store(sqlite_url)
    init_hall(store)
    add_tester(store)
    store.dispose()
    db = Path(sqlite_url.removeprefix("sqlite:///"))
    visit_file = tmp_path / "visit.json"
    visit_file.write_text(json.dumps(visit(), ensure_ascii=False), encoding="utf-8")
    r = subprocess.run(
        [sys.executable, "-c", CLI_EXIT, str(db), str(visit_file)],
        capture_output=True,
        text=True,
        timeout=120,
        env=dict(os.environ),
    )
    assert r.returncode == 0, r.stderr
    lines = dict(
        line.rsplit(" ", 1) for line in r.stdout.splitlines() if line.startswith(("before", "at exit"))
    )
    assert int(lines["before exit"]) > 0  # the registration is in the WAL...
    assert int(lines["at exit"]) == 0  # ...and the exit hook moved it into the database and emptied the WAL
    raw = sqlite3.connect(db)
    try:
        assert raw.execute("SELECT count(*) FROM cases").fetchone() == (1,)
    finally:
        raw.close()


# --- reads and writes --------------------------------------------------------------------------------------


def test_a_read_does_not_wait_for_an_open_write(store: Store, service: RegistrationService) -> None:
    """A writer holds its transaction open (on SQLite: the write lock) while the service searches."""
    earlier = service.register(visit())
    holding, release, committed = threading.Event(), threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def writer() -> None:
        try:
            with store.unit_of_work() as s:
                bump_counter(s, HALL, "test:open-write")
                holding.set()
                release.wait(60)
            committed.set()
        except BaseException as e:  # noqa: BLE001 - reported by the main thread
            errors.append(e)
            holding.set()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        assert holding.wait(60) and not errors
        # all of these would wait for the writer's commit (SQLite: BEGIN IMMEDIATE, then "database is locked")
        found = service.search(earlier.case_no)
        assert [c.case_no for c in found] == [earlier.case_no]
        assert service.case(earlier.case_no).case_no == earlier.case_no
        assert [c.case_no for c in service.person_cases(id_number=valid_id("62070219850101123"))] == [
            earlier.case_no
        ]
        with store.read() as s:  # a snapshot: the open write is not visible
            assert s.scalar(sa.select(Counter.value).where(Counter.name == "test:open-write")) is None
        assert (
            not committed.is_set() and thread.is_alive()
        )  # the writer was holding its transaction throughout
    finally:
        release.set()
        thread.join(60)
    assert committed.is_set() and not errors
    with store.read() as s:
        assert s.scalar(sa.select(Counter.value).where(Counter.name == "test:open-write")) == 1


def test_a_read_refuses_to_write(store: Store) -> None:
    with pytest.raises(sa.exc.DBAPIError), store.read() as s:
        bump_counter(s, HALL, "test:read-only")
    with store.unit_of_work() as s:  # the same pooled connection writes again in a unit of work
        assert bump_counter(s, HALL, "test:read-only") == 1
    with store.read() as s:
        assert s.scalar(sa.select(Counter.value).where(Counter.name == "test:read-only")) == 1


def test_a_unit_of_work_holds_the_write_lock_from_its_start(sqlite_store: Store) -> None:
    other = sqlite3.connect(db_file(sqlite_store), timeout=0, isolation_level=None)
    try:
        with sqlite_store.unit_of_work() as s:
            s.execute(sa.text("SELECT count(*) FROM cases"))  # only a read so far, yet the write lock is held
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
        with sqlite_store.read() as s:
            s.execute(sa.text("SELECT count(*) FROM cases"))
            other.execute("BEGIN IMMEDIATE")  # a read takes no write lock
            other.execute("ROLLBACK")
    finally:
        other.close()


def test_writers_that_read_then_write_queue_instead_of_failing(sqlite_store: Store) -> None:
    """Read-modify-write from several threads: with deferred BEGINs the lock upgrade would fail with
    SQLITE_BUSY; IMMEDIATE transactions queue, and no increment is lost."""
    with sqlite_store.unit_of_work() as s:
        s.add(Counter(hall_code=HALL, name="test:rmw", value=0))
    threads, per_thread = 4, 25
    start = threading.Barrier(threads)
    errors: list[BaseException] = []

    def work() -> None:
        try:
            start.wait(60)
            for _ in range(per_thread):
                with sqlite_store.unit_of_work() as s:
                    where = (Counter.hall_code == HALL) & (Counter.name == "test:rmw")
                    value = s.scalar(sa.select(Counter.value).where(where))
                    s.execute(sa.update(Counter).where(where).values(value=(value or 0) + 1))
        except BaseException as e:  # noqa: BLE001 - reported by the main thread
            errors.append(e)

    workers = [threading.Thread(target=work) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(120)
    assert not errors
    with sqlite_store.read() as s:
        assert s.scalar(sa.select(Counter.value).where(Counter.name == "test:rmw")) == threads * per_thread
