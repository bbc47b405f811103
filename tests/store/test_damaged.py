"""Damaged, foreign and wrong store files, met by a real `desk` process: one Chinese message saying what to do, a
non-zero exit, no traceback, nothing personal from the store, and nothing changed or created."""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest
import sqlalchemy as sa

from desk.core.clock import FixedClock
from desk.services.registration import RegistrationService
from desk.services.setup import init_hall
from desk.store.session import HEAD_REVISION, open_store
from tests.conftest import NOW, add_tester, staff, valid_id, visit

ID_NUMBER = valid_id("62070219800101123")
PHONE = "13987654321"
NAME = "欧阳秀英"
PERSONAL = (ID_NUMBER, PHONE, NAME, ID_NUMBER[-6:])
NEWER = "20991231_0099"
PARTIES = [
    {
        "role": "applicant",
        "name": NAME,
        "id_number": ID_NUMBER,
        "phone": PHONE,
        "address": "甘州区东街街道1号",
    }
]


def visit_file(path: Path) -> str:
    path.write_text(json.dumps(visit(parties=PARTIES), ensure_ascii=False), encoding="utf-8")
    return str(path)


def desk(*args: str, bound_by_permissions: bool = False) -> subprocess.CompletedProcess[str]:
    """`desk ARGS` in a process of its own. `bound_by_permissions`: file permission bits bind it even when the
    tests run as root (it then runs without the capabilities that let root ignore them)."""
    prefix: list[str] = []
    if bound_by_permissions and os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("running as root without setpriv: permission bits cannot be made to bind")
        prefix = [setpriv, "--bounding-set", "-dac_override,-dac_read_search", "--"]
    return subprocess.run(
        [*prefix, sys.executable, "-m", "desk", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=dict(os.environ),
    )


def assert_refused(r: subprocess.CompletedProcess[str], *phrases: str) -> str:
    """Refused the way a person at the window should see it; returns the message."""
    assert r.returncode != 0, r.stdout
    assert "Traceback" not in r.stderr and "Traceback" not in r.stdout
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr  # one message, no driver noise
    assert lines[0].startswith("错误："), r.stderr
    for phrase in phrases:
        assert phrase in lines[0], (phrase, lines[0])
    for secret in PERSONAL:
        assert secret not in r.stderr and secret not in r.stdout
    return lines[0]


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="session")
def _template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A hall store holding one registration with a known ID number, phone and name; its WAL checkpointed in."""
    path = tmp_path_factory.mktemp("damaged-template") / "desk.db"
    store = open_store(f"sqlite:///{path}")
    init_hall(store)
    add_tester(store)
    RegistrationService(store, FixedClock(NOW), principal=staff("测试前台")).register(visit(parties=PARTIES))
    store.dispose()
    assert not path.with_name("desk.db-wal").exists()
    with closing(sqlite3.connect(path)) as db:  # the personal data is really in the file (the name in clear)
        assert db.execute("SELECT count(*) FROM parties WHERE name = ?", (NAME,)).fetchone()[0] == 1
    return path


@pytest.fixture
def hall_file(_template: Path, tmp_path: Path) -> Path:
    path = tmp_path / "hall" / "desk.db"
    path.parent.mkdir()
    shutil.copyfile(_template, path)
    return path


def url(path: Path) -> str:
    return f"sqlite:///{path}"


def root_page(path: Path, table: str) -> int:
    with closing(sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)) as db:
        return int(db.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", (table,)).fetchone()[0])


def page_size(path: Path) -> int:
    return int.from_bytes(path.read_bytes()[16:18], "big")


# --- damaged files ------------------------------------------------------------------------------------------


def test_the_store_opens_before_it_is_damaged(hall_file: Path) -> None:
    r = desk("rooms", "--db", url(hall_file))
    assert r.returncode == 0 and "R01" in r.stdout, r.stderr


def _truncate_half(path: Path) -> None:
    os.truncate(path, path.stat().st_size // 2)


def _truncate_in_header(path: Path) -> None:
    os.truncate(path, 50)


def _truncate_to_nothing(path: Path) -> None:
    os.truncate(path, 0)


def _garbage_header(path: Path) -> None:
    with path.open("r+b") as f:
        f.write(random.Random(1).randbytes(100))


def _garbage_in_the_middle(path: Path) -> None:
    # The parties table's root page, in the middle of the file: the header and the file's size stay right, so
    # only `quick_check` at start can tell.
    size = page_size(path)
    page = root_page(path, "parties")
    assert 1 < page < path.stat().st_size // size
    with path.open("r+b") as f:
        f.seek((page - 1) * size)
        f.write(random.Random(2).randbytes(size))


@pytest.mark.parametrize(
    ("damage", "phrases"),
    [
        (_truncate_half, ("已损坏", "截断", "desk restore")),
        (_truncate_in_header, ("已损坏", "截断", "desk restore")),
        (_truncate_to_nothing, ("是空的", "desk init", "备份恢复")),
        (_garbage_header, ("不是 SQLite 数据库文件", "检查路径", "desk restore")),
        (_garbage_in_the_middle, ("已损坏", "desk restore")),
    ],
    ids=["truncated", "truncated-in-header", "empty", "garbage-header", "garbage-middle"],
)
def test_a_damaged_store_is_refused_with_what_to_do(
    hall_file: Path, damage: object, phrases: tuple[str]
) -> None:
    damage(hall_file)  # type: ignore[operator]
    before = digest(hall_file)
    message = assert_refused(desk("rooms", "--db", url(hall_file)), str(hall_file), *phrases)
    assert digest(hall_file) == before  # left as it was, for whoever rescues it
    # every command says the same, the one that writes too
    assert assert_refused(desk("call", "--room", "R01", "--db", url(hall_file))) == message


def test_garbage_in_the_middle_is_found_by_quick_check(hall_file: Path) -> None:
    _garbage_in_the_middle(hall_file)
    assert_refused(desk("rooms", "--db", url(hall_file)), "quick_check")


# --- a file that is not a Hall Desk store -------------------------------------------------------------------


def _foreign(path: Path, *, alembic: bool) -> None:
    with closing(sqlite3.connect(path)) as db:
        db.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, customer TEXT, phone TEXT)")
        db.execute("INSERT INTO invoices (customer, phone) VALUES (?, ?)", (NAME, PHONE))
        if alembic:  # another program that also uses Alembic
            db.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)")
            db.execute("INSERT INTO alembic_version VALUES ('3f2a9c1b7e4d')")
        db.commit()


def _journal_mode(path: Path) -> str:
    with closing(sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)) as db:
        return str(db.execute("PRAGMA journal_mode").fetchone()[0])


def _tables(path: Path) -> set[str]:
    with closing(sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)) as db:
        return {r[0] for r in db.execute("SELECT name FROM sqlite_master")}


@pytest.mark.parametrize("alembic", [False, True], ids=["plain", "other-alembic-app"])
def test_a_foreign_sqlite_file_is_refused_and_never_modified(tmp_path: Path, alembic: bool) -> None:
    path = tmp_path / "accounts.db"
    _foreign(path, alembic=alembic)
    before, tables = digest(path), _tables(path)
    assert _journal_mode(path) == "delete"
    visit_json = visit_file(tmp_path.parent / f"{tmp_path.name}-visit.json")
    for command in (
        ["init"],
        ["rooms"],
        ["register", "--file", visit_json],
        ["backup", "--out", str(tmp_path / "b.db")],
    ):
        assert_refused(desk(*command, "--db", url(path)), "不是一厅通的数据库", "desk init", "未作任何改动")
    assert digest(path) == before
    assert _tables(path) == tables
    assert _journal_mode(path) == "delete"  # not switched to WAL
    # no -wal, -shm or backup beside it
    assert sorted(p.name for p in tmp_path.iterdir()) == ["accounts.db"]


def test_a_store_from_a_newer_version_asks_for_an_upgrade_and_is_not_touched(hall_file: Path) -> None:
    with closing(sqlite3.connect(hall_file)) as db:
        db.execute("UPDATE alembic_version SET version_num = ?", (NEWER,))
        db.commit()
    before = digest(hall_file)
    assert_refused(desk("rooms", "--db", url(hall_file)), "更新版本", NEWER, HEAD_REVISION, "升级")
    assert digest(hall_file) == before


# --- a mistyped path ----------------------------------------------------------------------------------------


def test_a_mistyped_path_creates_nothing(tmp_path: Path) -> None:
    visit_json = visit_file(tmp_path.parent / f"{tmp_path.name}-visit.json")
    typo = tmp_path / "desk.bd"
    assert_refused(desk("rooms", "--db", url(typo)), "找不到数据库文件", "检查路径", "desk init")
    missing_dir = tmp_path / "dsek" / "desk.db"
    assert_refused(desk("register", "--file", visit_json, "--db", url(missing_dir)), "不存在", "检查路径")
    assert list(tmp_path.iterdir()) == []
    # desk init is how a new store is made
    assert desk("init", "--db", url(missing_dir)).returncode == 0
    assert desk("rooms", "--db", url(missing_dir)).returncode == 0


def test_the_environment_variable_path_is_checked_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DESK_DB_URL", url(tmp_path / "nowhere" / "desk.db"))
    assert_refused(desk("rooms"), "DESK_DB_URL")
    assert list(tmp_path.iterdir()) == []


# --- read-only files ----------------------------------------------------------------------------------------


@pytest.fixture
def folder(hall_file: Path) -> Iterator[Path]:
    """The store's folder; permissions are given back at the end, so that pytest can remove it.

    As root, permission bits stop nothing: the commands of these tests then run without the capabilities that let
    root ignore them (`setpriv`), so that a read-only file is as read-only to them as to a clerk's account."""
    try:
        yield hall_file.parent
    finally:
        hall_file.parent.chmod(0o755)
        hall_file.chmod(0o644)


def test_a_read_only_store_file_is_refused_plainly(folder: Path) -> None:
    path = folder / "desk.db"
    path.chmod(0o444)  # the folder stays writable: only the file is read-only
    before = digest(path)
    assert_refused(desk("rooms", "--db", url(path), bound_by_permissions=True), "只读", "权限")
    assert digest(path) == before
    assert sorted(p.name for p in folder.iterdir()) == ["desk.db"]


def test_a_store_in_a_read_only_folder_is_refused_plainly(folder: Path) -> None:
    path = folder / "desk.db"
    folder.chmod(0o555)  # SQLite could not make desk.db-wal and desk.db-shm here
    assert_refused(desk("rooms", "--db", url(path), bound_by_permissions=True), "文件夹", "不可写")
    assert sorted(p.name for p in folder.iterdir()) == ["desk.db"]


def test_a_store_it_may_not_read_is_refused_plainly(folder: Path) -> None:
    path = folder / "desk.db"
    path.chmod(0o200)
    assert_refused(desk("rooms", "--db", url(path), bound_by_permissions=True), "无法读取", "权限")


# --- PostgreSQL ---------------------------------------------------------------------------------------------


@pytest.mark.postgres
def test_an_unreachable_postgresql_server_is_plain_and_hides_the_password(pg_server: str) -> None:
    with closing(__import__("socket").socket()) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed once the block ends: nothing listens there
    r = desk("rooms", "--db", f"postgresql+psycopg://desk:s3cret-pw@127.0.0.1:{port}/hall")
    message = assert_refused(r, "无法连接 PostgreSQL", f"127.0.0.1:{port}", "已启动")
    assert "s3cret-pw" not in r.stderr and "***" in message


@pytest.mark.postgres
def test_a_missing_postgresql_database_is_named(pg_server: str) -> None:
    missing = sa.engine.make_url(pg_server).set(database="desk_no_such_db", password="s3cret-pw")
    r = desk("rooms", "--db", missing.render_as_string(hide_password=False))
    assert_refused(r, "没有名为 desk_no_such_db 的数据库", "createdb", "desk init")
    assert "s3cret-pw" not in r.stderr


@pytest.mark.postgres
def test_an_empty_postgresql_database_needs_desk_init(pg_database: str) -> None:
    from tests.conftest import _reset_pg

    _reset_pg(pg_database)
    assert_refused(desk("rooms", "--db", pg_database), "尚未初始化", "desk init")
    engine = sa.create_engine(pg_database)
    try:
        assert sa.inspect(engine).get_table_names() == []  # nothing was created
    finally:
        engine.dispose()
    assert desk("init", "--db", pg_database).returncode == 0


@pytest.mark.postgres
def test_a_foreign_postgresql_database_is_refused_and_gets_no_tables(pg_database: str) -> None:
    from tests.conftest import _reset_pg

    _reset_pg(pg_database)
    engine = sa.create_engine(pg_database)
    try:
        with engine.begin() as c:
            c.exec_driver_sql("CREATE TABLE invoices (id serial PRIMARY KEY, customer text)")
        assert_refused(desk("init", "--db", pg_database), "不是一厅通的数据库", "未作任何改动")
        assert sa.inspect(engine).get_table_names() == ["invoices"]
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_a_postgresql_store_from_a_newer_version_asks_for_an_upgrade(pg_database: str) -> None:
    from tests.conftest import _reset_pg

    _reset_pg(pg_database)
    assert desk("init", "--db", pg_database).returncode == 0
    engine = sa.create_engine(pg_database)
    try:
        with engine.begin() as c:
            c.execute(sa.text("UPDATE alembic_version SET version_num = :v"), {"v": NEWER})
        assert_refused(desk("rooms", "--db", pg_database), "更新版本", NEWER, "升级")
        with engine.connect() as c:
            assert c.execute(sa.text("SELECT version_num FROM alembic_version")).scalar() == NEWER
    finally:
        engine.dispose()
