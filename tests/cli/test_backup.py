"""`desk backup` and `desk restore`, and the daily automatic backup."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import sqlite3
import stat
import threading
from contextlib import closing
from pathlib import Path

import pytest
import sqlalchemy as sa

from desk.core.clock import FixedClock
from desk.services.registration import RegistrationService
from desk.services.setup import init_hall
from desk.store.backup import daily_backup, daily_backups
from desk.store.models import Hall
from desk.store.session import Store, open_store
from tests.cli.test_commands import desk
from tests.conftest import NOW, add_tester, staff, visit


def url(path: Path) -> str:
    return f"sqlite:///{path}"


def cases_in(path: Path) -> list[str]:
    with closing(sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)) as db:
        return [r[0] for r in db.execute("SELECT case_no FROM cases ORDER BY case_no")]


def integrity(path: Path) -> str:
    with closing(sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)) as db:
        return str(db.execute("PRAGMA integrity_check").fetchone()[0])


def register(db: str, tmp_path: Path, seed: int) -> str:
    p = tmp_path / f"visit-{seed}.json"
    p.write_text(
        json.dumps(visit(narrative=f"第 {seed} 次来访：邻居堆放杂物占用通道。"), ensure_ascii=False),
        encoding="utf-8",
    )
    r = desk("register", "--file", str(p), "--new-case", db=db)
    assert r.returncode == 0, r.stderr
    return r.stdout.strip()


@pytest.fixture
def hall(tmp_path: Path) -> Path:
    path = tmp_path / "data" / "desk.db"
    path.parent.mkdir(parents=True)
    r = desk("init", db=url(path))
    assert r.returncode == 0, r.stderr
    return path


# --- desk backup --------------------------------------------------------------------------------------------


def test_a_backup_taken_while_a_window_writes_is_whole_and_holds_every_committed_case(tmp_path: Path) -> None:
    path = tmp_path / "desk.db"
    store = open_store(url(path))
    init_hall(store)
    add_tester(store)
    service = RegistrationService(store, FixedClock(NOW), principal=staff("测试前台"))
    committed: list[str] = []
    ten_in = threading.Event()
    done = threading.Event()
    failures: list[BaseException] = []

    def window() -> None:  # registers one visitor after another until the backup is done
        try:
            while not done.is_set():
                committed.append(service.register(visit(), new_case=True).case_no)
                if len(committed) == 10:
                    ten_in.set()
        except BaseException as e:  # noqa: BLE001 - reported by the test
            failures.append(e)
            ten_in.set()

    writer = threading.Thread(target=window)
    writer.start()
    try:
        assert ten_in.wait(120)
        before = list(committed)
        out = tmp_path / "backups" / "desk-backup.db"
        out.parent.mkdir()
        r = desk("backup", "--out", str(out), db=url(path))
        during = len(committed)
    finally:
        done.set()
        writer.join()
        store.dispose()
    assert not failures
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == str(out)
    assert "完整性检查通过" in r.stderr
    assert integrity(out) == "ok"
    copied = cases_in(out)
    assert set(before) <= set(copied)  # every case committed before the backup began
    assert copied == sorted(committed[: len(copied)])  # one snapshot: a prefix of the commits, nothing torn
    assert len(copied) <= during
    with closing(sqlite3.connect(f"{out.as_uri()}?mode=ro", uri=True)) as db:
        # the hall's numbering and its events agree: the copy is one moment of the store
        last_seq, events = db.execute(
            "SELECT last_seq, (SELECT max(hall_seq) FROM case_events) FROM halls WHERE is_local"
        ).fetchone()
        assert last_seq == events
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "delete"  # one file, no -wal needed
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert sorted(p.name for p in out.parent.iterdir()) == ["desk-backup.db"]  # no temporary file left


def test_backup_refuses_a_missing_store_a_folder_and_postgresql(tmp_path: Path, hall: Path) -> None:
    r = desk("backup", "--out", str(tmp_path / "b.db"), db=url(tmp_path / "typo.db"))
    assert r.returncode == 1 and "找不到数据库文件" in r.stderr and "Traceback" not in r.stderr
    r = desk("backup", "--out", str(tmp_path), db=url(hall))
    assert r.returncode == 1 and "是文件夹" in r.stderr
    r = desk("backup", "--out", str(hall), db=url(hall))
    assert r.returncode == 1 and "数据库文件本身" in r.stderr
    r = desk("backup", "--out", str(tmp_path / "b.db"), db="postgresql+psycopg://desk@127.0.0.1:5432/hall")
    assert r.returncode == 1 and "pg_dump -Fc" in r.stderr and "pg_restore --clean --if-exists" in r.stderr
    assert not (tmp_path / "b.db").exists()


# --- desk restore -------------------------------------------------------------------------------------------


def test_restore_round_trip_keeps_the_current_store_aside(tmp_path: Path, hall: Path) -> None:
    db = url(hall)
    kept = register(db, tmp_path, 1)
    backup = tmp_path / "backup.db"
    assert desk("backup", "--out", str(backup), db=db).returncode == 0
    lost = register(db, tmp_path, 2)

    refused = desk(
        "restore", str(backup), db=db
    )  # not a terminal, no --yes: says what it would do, does nothing
    assert refused.returncode == 1 and "--yes" in refused.stderr
    assert "当前数据库比备份多" in refused.stdout and "改名保留" in refused.stdout
    assert cases_in(hall) == sorted([kept, lost])

    env = {"DESK_NOW": "2026-12-07T09:30:00+08:00"}
    r = desk("restore", str(backup), "--yes", db=db, env=env)
    assert r.returncode == 0, r.stderr
    aside = hall.with_name("desk.db.before-restore-20261207-093000")
    assert f"原数据库已改名保留：{aside}" in r.stdout
    assert cases_in(hall) == [kept]
    assert cases_in(aside) == sorted([kept, lost])  # nothing lost: the newer store is kept
    assert integrity(hall) == "ok" and stat.S_IMODE(hall.stat().st_mode) == 0o600
    again = desk("cases", "--search", kept, db=db)
    assert again.returncode == 0 and kept in again.stdout
    # a second restore the same second does not overwrite the first one kept aside
    r = desk("restore", str(backup), "--yes", db=db, env=env)
    assert r.returncode == 0 and aside.exists() and aside.with_name(aside.name + "-2").exists()


def test_restore_refuses_while_the_store_is_open_elsewhere(tmp_path: Path, hall: Path) -> None:
    backup = tmp_path / "backup.db"
    assert desk("backup", "--out", str(backup), db=url(hall)).returncode == 0
    window = open_store(url(hall), create=False)
    try:
        RegistrationService(window, FixedClock(NOW), principal=staff("测试前台")).register(visit())
        r = desk("restore", str(backup), "--yes", db=url(hall))
    finally:
        window.dispose()
    assert r.returncode == 1 and "正被其他窗口或命令使用" in r.stderr and "Traceback" not in r.stderr
    assert len(cases_in(hall)) == 1
    assert [p.name for p in hall.parent.iterdir() if "before-restore" in p.name] == []


def test_restore_replaces_a_damaged_store_and_keeps_it(tmp_path: Path, hall: Path) -> None:
    kept = register(url(hall), tmp_path, 1)
    backup = tmp_path / "backup.db"
    assert desk("backup", "--out", str(backup), db=url(hall)).returncode == 0
    with hall.open("r+b") as f:
        f.write(b"\0" * 100)
    assert desk("rooms", db=url(hall)).returncode == 1
    r = desk("restore", str(backup), "--yes", db=url(hall))
    assert r.returncode == 0, r.stderr
    assert "无法读取（已损坏或不是一厅通数据库）" in r.stdout
    assert cases_in(hall) == [kept]
    aside = [p.name for p in hall.parent.iterdir() if ".before-restore-" in p.name]
    kept_aside = min(aside, key=len)  # with its -wal and -shm, if it had them
    assert all(name in (kept_aside, kept_aside + "-wal", kept_aside + "-shm") for name in aside)
    assert (hall.parent / kept_aside).read_bytes()[:100] == b"\0" * 100  # the damaged file itself, as it was


def test_restore_refuses_a_bad_backup_and_another_halls_backup(tmp_path: Path, hall: Path) -> None:
    damaged = tmp_path / "damaged.db"
    assert desk("backup", "--out", str(damaged), db=url(hall)).returncode == 0
    with damaged.open("r+b") as f:
        f.seek(4096)  # page 2 onwards: a b-tree page of some table
        f.write(os.urandom(4096))
    r = desk("restore", str(damaged), "--yes", db=url(hall))
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert "已损坏" in r.stderr or "完整性检查" in r.stderr

    r = desk("restore", str(tmp_path / "nothing.db"), "--yes", db=url(hall))
    assert r.returncode == 1 and "找不到数据库文件" in r.stderr

    other = tmp_path / "other" / "desk.db"
    other.parent.mkdir()
    assert desk("init", "--hall-code", "620702002", "--hall-name", "西街", db=url(other)).returncode == 0
    r = desk("restore", str(other), "--yes", db=url(hall))
    assert r.returncode == 1 and "另一个综治中心" in r.stderr and "--other-hall" in r.stderr
    assert "备份属于综治中心 620702002" in r.stdout
    r = desk("restore", str(other), "--yes", "--other-hall", db=url(hall))
    assert r.returncode == 0, r.stderr


def _set_acked(path: Path, acked: int) -> None:
    """As if the county had acknowledged the hall's events up to `acked` at the last sync."""
    with closing(sqlite3.connect(path)) as db:
        db.execute(
            "INSERT INTO sync_state (peer, pushed_seq, pulled_seq, reference_version, last_error) "
            "VALUES ('county', ?, 0, 0, '') ON CONFLICT (peer) DO UPDATE SET pushed_seq = excluded.pushed_seq",
            (acked,),
        )
        db.commit()


def _last_seq(path: Path) -> int:
    store = open_store(url(path), create=False)
    try:
        with store.read() as s:
            return int(s.scalar(sa.select(Hall.last_seq).where(Hall.is_local)) or 0)
    finally:
        store.dispose()


def test_restore_says_when_the_backup_is_older_than_what_the_county_acknowledged(
    tmp_path: Path, hall: Path
) -> None:
    register(url(hall), tmp_path, 1)
    backup = tmp_path / "backup.db"
    assert desk("backup", "--out", str(backup), db=url(hall)).returncode == 0
    old = _last_seq(hall)
    register(url(hall), tmp_path, 2)
    acked = _last_seq(hall)
    _set_acked(hall, acked)
    r = desk("restore", str(backup), db=url(hall))
    assert r.returncode == 1  # not confirmed: only told
    assert f"县级库已收到本中心至第 {acked} 号事件，备份只到第 {old} 号" in r.stdout
    assert f"第 {old + 1}–{acked} 号事件只在县级库里" in r.stdout
    assert "停止" in r.stdout and "县级管理员" in r.stdout

    _set_acked(hall, old)
    r = desk("restore", str(backup), db=url(hall))
    assert f"县级库：已确认收到本中心至第 {old} 号事件，与备份一致" in r.stdout


@pytest.mark.postgres
def test_what_restore_says_about_the_county_is_what_the_sync_then_does(
    tmp_path: Path, hall: Path, county_url: str
) -> None:
    db = url(hall)
    register(db, tmp_path, 1)
    backup = tmp_path / "backup.db"
    assert desk("backup", "--out", str(backup), db=db).returncode == 0
    register(db, tmp_path, 2)
    synced = desk("sync", "--county", county_url, db=db)
    assert synced.returncode == 0, synced.stderr
    r = desk("restore", str(backup), "--yes", db=db)
    assert r.returncode == 0, r.stderr
    assert "备份比县级库已确认收到的旧" in r.stdout
    after = desk("sync", "--county", county_url, db=db)
    assert after.returncode == 1
    assert "旧备份" in after.stderr and "同步已停止" in after.stderr  # as restore said it would


# --- the daily backup ---------------------------------------------------------------------------------------


def test_the_daily_backup_is_made_once_a_day_and_keeps_the_newest_n(tmp_path: Path) -> None:
    path = tmp_path / "desk.db"
    store: Store = open_store(url(path))
    init_hall(store)
    add_tester(store)
    store.dispose()
    backups = tmp_path / "backups"
    backups.mkdir()
    (backups / "notes.txt").write_text("not ours", encoding="utf-8")
    (backups / "other-20261101.db").write_bytes(b"another store's backup")
    day = dt.date(2026, 11, 20)
    for n in range(5):
        made = daily_backup(path, backups, keep=3, today=day + dt.timedelta(days=n))
        assert made == backups / f"desk-{day + dt.timedelta(days=n):%Y%m%d}.db"
    assert daily_backup(path, backups, keep=3, today=day + dt.timedelta(days=4)) is None  # today's is there
    assert [p.name for p in daily_backups(backups, path)] == [
        "desk-20261122.db",
        "desk-20261123.db",
        "desk-20261124.db",
    ]
    assert sorted(p.name for p in backups.iterdir()) == [
        "desk-20261122.db",
        "desk-20261123.db",
        "desk-20261124.db",
        "notes.txt",
        "other-20261101.db",
    ]
    for p in daily_backups(backups, path):
        assert integrity(p) == "ok" and stat.S_IMODE(p.stat().st_mode) == 0o600
    assert daily_backup(path, backups, keep=0, today=day + dt.timedelta(days=9)) is None  # 0: turned off
    shutil.rmtree(backups)
