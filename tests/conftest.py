"""Test fixtures: a fresh store per test (SQLite, and PostgreSQL on 127.0.0.1:5432), fixed clocks, no user dirs."""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ["QT_QPA_PLATFORM"] = "offscreen"

import sqlalchemy as sa  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from desk.core.clock import FixedClock  # noqa: E402
from desk.core.permissions import Principal, Role  # noqa: E402
from desk.services.county import init_county  # noqa: E402
from desk.services.registration import RegistrationService  # noqa: E402
from desk.services.setup import init_hall  # noqa: E402
from desk.store.session import Store, open_store  # noqa: E402

PG_ADMIN_URL = os.environ.get("DESK_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
# 2026-11-27 10:00 China time
NOW = dt.datetime(2026, 11, 27, 2, 0, tzinfo=dt.UTC)


TESTER = "tester"
TESTER_PASSWORD = "test-password-1"
ALL_ROLES = frozenset({Role.DESK, Role.MEDIATOR, Role.SUPERVISOR, Role.ADMIN})


def staff(name: str = "测试员", terminal: str = "", *, login: str = TESTER) -> Principal:
    """The tests' signed-in person: every role but the call button's, as `name` at `terminal`."""
    return Principal(f"u-{login}", login, name, ALL_ROLES, terminal)


@pytest.fixture(scope="session")
def _tester_secrets(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """The test user's password file (0600) and its Argon2id hash (hashed once: it takes ~50 ms)."""
    from desk.security.passwords import hash_secret

    d = tmp_path_factory.mktemp("secrets")
    pw = d / "password"
    fd = os.open(pw, os.O_WRONLY | os.O_CREAT, 0o600)
    os.write(fd, TESTER_PASSWORD.encode() + b"\n")
    os.close(fd)
    digest = hash_secret(TESTER_PASSWORD)
    return str(pw), digest


@pytest.fixture(autouse=True)
def _private_dirs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, _tester_secrets: tuple[str, str], _session_keys: Path
) -> None:
    """Nothing a test does reaches the user's data, config or log directories, or the system keyring; commands
    sign in as the test user."""
    monkeypatch.setenv("DESK_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("DESK_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("DESK_LOG_DIR", str(tmp_path / "log"))
    monkeypatch.delenv("DESK_DB_URL", raising=False)
    monkeypatch.delenv("DESK_COUNTY_URL", raising=False)
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    monkeypatch.setenv("DESK_KEY_FILE", str(_session_keys))
    monkeypatch.setenv("DESK_USER", TESTER)
    monkeypatch.setenv("DESK_PASSWORD_FILE", _tester_secrets[0])
    monkeypatch.setenv("DESK_ADMIN_ROLES", ",".join(sorted(r.value for r in ALL_ROLES)))


_HASH: list[str] = []


def add_tester(
    store: Store, digest: str | None = None, *, login: str = TESTER, roles: frozenset[Role] = ALL_ROLES
) -> None:
    """The test user (every role but the call button's) in `store`, with the session's password hash (or one
    made now, once per process)."""
    from desk.store.models import UserRow

    if digest is None:
        if not _HASH:
            from desk.security.passwords import hash_secret

            _HASH.append(hash_secret(TESTER_PASSWORD))
        digest = _HASH[0]

    with store.unit_of_work() as s:
        if s.scalar(sa.select(UserRow.id).where(UserRow.login == login)) is None:
            s.add(
                UserRow(
                    id=f"u-{login}",
                    login=login,
                    name="测试员",
                    roles=sorted(r.value for r in roles),
                    rooms=[],
                    password_hash=digest,
                    created_at=NOW,
                    updated_at=NOW,
                )
            )


@pytest.fixture
def tester_hash(_tester_secrets: tuple[str, str]) -> str:
    return _tester_secrets[1]


def _pg_available() -> str | None:
    import sqlalchemy as sa

    try:
        eng = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with eng.connect() as c:
            c.exec_driver_sql("SELECT 1")
        eng.dispose()
        return None
    except Exception as e:  # noqa: BLE001 - any failure means "no server"
        return str(e).splitlines()[0]


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """The admin URL of the PostgreSQL server; skipped locally when it is down, a failure in CI."""
    problem = _pg_available()
    if problem:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is required in CI and is not reachable: {problem}")
        pytest.skip(f"PostgreSQL not reachable: {problem}")
    yield PG_ADMIN_URL


def create_pg_database(admin_url: str) -> tuple[str, str]:
    import sqlalchemy as sa
    from sqlalchemy.engine import make_url

    name = f"desk_test_{uuid.uuid4().hex[:12]}"
    eng = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with eng.connect() as c:
        c.exec_driver_sql(f'CREATE DATABASE "{name}"')
    eng.dispose()
    return name, make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def drop_pg_database(admin_url: str, name: str) -> None:
    import sqlalchemy as sa

    eng = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with eng.connect() as c:
        c.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    eng.dispose()


@pytest.fixture(scope="session")
def pg_database(pg_server: str) -> Iterator[str]:
    """One fresh PostgreSQL database for the test session, dropped at the end."""
    name, url = create_pg_database(pg_server)
    try:
        yield url
    finally:
        drop_pg_database(pg_server, name)


def _reset_pg(url: str) -> None:
    import sqlalchemy as sa

    eng = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with eng.connect() as c:
        c.exec_driver_sql("DROP SCHEMA public CASCADE")
        c.exec_driver_sql("CREATE SCHEMA public")
    eng.dispose()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'desk.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty store URL on each engine."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'desk.db'}"
    else:
        url = request.getfixturevalue("pg_database")
        _reset_pg(url)
        yield url


@pytest.fixture
def store(store_url: str, tester_hash: str) -> Iterator[Store]:
    """An initialised hall store (categories and rooms seeded, the test user added) on each engine."""
    s = open_store(store_url)
    init_hall(s)
    add_tester(s, tester_hash)
    yield s
    s.dispose()


@pytest.fixture
def sqlite_store(sqlite_url: str, tester_hash: str) -> Iterator[Store]:
    s = open_store(sqlite_url)
    init_hall(s)
    add_tester(s, tester_hash)
    yield s
    s.dispose()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def service(store: Store, clock: FixedClock) -> RegistrationService:
    return RegistrationService(store, clock, principal=staff("测试前台"))


@pytest.fixture
def sqlite_service(sqlite_store: Store, clock: FixedClock) -> RegistrationService:
    return RegistrationService(sqlite_store, clock, principal=staff("测试前台"))


def valid_id(body17: str) -> str:
    from desk.core.synthetic import id_check_char

    return body17 + id_check_char(body17)


def visit(**overrides: object) -> dict[str, object]:
    """A valid walk-in visit in `desk register` JSON shape; override any field."""
    data: dict[str, object] = {
        "category": "邻里纠纷",
        "channel": "walk_in",
        "headcount": 1,
        "narrative": "邻居在院墙外堆放杂物占用通道，多次沟通未果。",
        "parties": [
            {
                "role": "applicant",
                "name": "张三",
                "id_number": valid_id("62070219850101123"),
                "phone": "13912345678",
                "address": "甘州区东街街道1号",
            },
        ],
    }
    data.update(overrides)
    return data


# --- the county store (PostgreSQL) ---------------------------------------------------------------------


def _admin(admin_url: str, sql: str) -> None:
    eng = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with eng.connect() as c:
            c.exec_driver_sql(sql)
    finally:
        eng.dispose()


@pytest.fixture(scope="session")
def county_template(pg_server: str, _tester_secrets: tuple[str, str]) -> Iterator[str]:
    """An initialised county database, made once per session; each test's county is a copy of it (a copy
    takes a third of the time of migrating a fresh database)."""
    name, url = create_pg_database(pg_server)
    try:
        store = open_store(url)
        init_county(store, code="620702", name="甘州区综治中心")
        add_tester(store, _tester_secrets[1])
        store.dispose()
        yield name
    finally:
        drop_pg_database(pg_server, name)


@pytest.fixture
def county_url(pg_server: str, county_template: str) -> Iterator[str]:
    """A fresh PostgreSQL database made into the county store; dropped afterwards."""
    name = f"desk_test_{uuid.uuid4().hex[:12]}"
    _admin(pg_server, f'CREATE DATABASE "{name}" TEMPLATE "{county_template}"')
    try:
        yield make_url(pg_server).set(database=name).render_as_string(hide_password=False)
    finally:
        drop_pg_database(pg_server, name)


@pytest.fixture
def county(county_url: str) -> Iterator[Store]:
    store = open_store(county_url)
    yield store
    store.dispose()


@pytest.fixture(scope="session", autouse=True)
def _session_keys(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One data key set for the whole test session (session fixtures register visits too), outside every test's
    data directory, as `desk init` makes; `_private_dirs` points each test at it again."""
    import json

    from desk.security.vault import KeySet

    path = tmp_path_factory.mktemp("keys") / "keyset.json"
    path.write_text(json.dumps({"keyset": KeySet.generate().to_json()}), encoding="utf-8")
    path.chmod(0o600)
    saved = {k: os.environ.get(k) for k in ("DESK_KEY_FILE", "PYTHON_KEYRING_BACKEND")}
    os.environ["DESK_KEY_FILE"] = str(path)
    os.environ["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
    yield path
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v
