"""PostgreSQL roles of least privilege (desk.store.roles): the status role reads the stages view and nothing
else, no role rewrites the event log or the audit, the sync role does a real push and pull, reports read no
personal column. Roles are cluster-wide: these tests share them with every other database of the server, and
`create_roles` is run again on each test's own database (it must be idempotent)."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from desk.core.clock import FixedClock
from desk.services.county import CountyService
from desk.services.registration import RegistrationService
from desk.services.setup import init_hall
from desk.services.status import StatusService
from desk.store.base import Base
from desk.store.roles import (
    APP,
    GRANTS,
    LOG,
    REPORT,
    ROLES,
    STATUS,
    SYNC,
    TABLES,
    VIEWS,
    create_roles,
    existing_roles,
    role_url,
    scram_sha256,
)
from desk.store.session import Store, open_store
from desk.sync.engine import Syncer
from tests.conftest import NOW, staff, valid_id, visit

pytestmark = pytest.mark.postgres

ID = valid_id("62070219850101123")
HALL_A, HALL_B = "620702001", "620702002"


@pytest.fixture
def county_db(county_url: str) -> Iterator[str]:
    """A county store (a copy of the session's) with the roles granted in it again."""
    engine = sa.create_engine(county_url)
    try:
        database = engine.url.database or ""
        create_roles(engine, database=database)
    finally:
        engine.dispose()
    yield county_url


def _engine(url: str, role: str) -> sa.Engine:
    return sa.create_engine(role_url(url, role))


def _denied(url: str, role: str, sql: str) -> bool:
    """Whether `role` is refused `sql` for want of a privilege (42501); any other outcome is False."""
    engine = _engine(url, role)
    try:
        with engine.begin() as c:
            c.exec_driver_sql(sql)
        return False
    except sa.exc.ProgrammingError as e:
        return getattr(e.orig, "sqlstate", None) == "42501"
    finally:
        engine.dispose()


def _hall(tmp_path: Path, code: str) -> Store:
    store = open_store(f"sqlite:///{tmp_path / f'hall-{code}.db'}")
    init_hall(store, hall_code=code, hall_name=f"测试综治中心{code[-3:]}")
    return store


def _events(hall: Store) -> int:
    with hall.read() as s:
        return int(s.scalar(sa.text("SELECT count(*) FROM case_events")) or 0)


def _sync(hall: Store, county_url: str, role: str = SYNC) -> tuple[int, int]:
    syncer = Syncer(hall, role_url(county_url, role), clock=FixedClock(NOW))
    try:
        r = syncer.run_once()
    finally:
        syncer.close()
    return r.pushed, r.pulled


def test_every_table_has_its_place_in_the_grants() -> None:
    # a new table must be given its rights on purpose: it is in no role's grants until listed here
    assert set(Base.metadata.tables) | {"alembic_version"} == set(TABLES)
    for role, grants in GRANTS.items():
        for privileges, table, _ in grants:
            assert table in TABLES or table in VIEWS, (role, table)
            assert (
                "TRUNCATE" not in privileges
                and "REFERENCES" not in privileges
                and "TRIGGER" not in privileges
            )
            if table in LOG:
                assert set(privileges.split(", ")) <= {"SELECT", "INSERT"}, (role, table)
    assert GRANTS[STATUS] == [("SELECT", "case_stages", ())]


def test_no_role_may_change_or_delete_the_log_or_the_audit(county_db: str) -> None:
    engine = sa.create_engine(county_db)
    try:
        with engine.connect() as c:
            for role in ROLES:
                for table in ("case_events", "audit_log"):
                    for privilege in ("UPDATE", "DELETE", "TRUNCATE"):
                        assert not c.execute(
                            sa.text("SELECT has_table_privilege(:r, :t, :p)"),
                            {"r": role, "t": table, "p": privilege},
                        ).scalar(), (role, table, privilege)
                    assert not c.execute(
                        sa.text("SELECT has_any_column_privilege(:r, :t, 'UPDATE')"), {"r": role, "t": table}
                    ).scalar()
                # and nothing is theirs: the schema stays with the owner
                assert not c.execute(
                    sa.text(
                        "SELECT count(*) FROM pg_class WHERE relowner = (SELECT oid FROM pg_roles WHERE rolname = :r)"
                    ),
                    {"r": role},
                ).scalar()
            assert not c.execute(
                sa.text("SELECT has_table_privilege('public', 'parties', 'SELECT')")
            ).scalar()
    finally:
        engine.dispose()


def test_the_status_role_reads_the_stages_and_nothing_personal(
    county_db: str, tmp_path: Path, clock: FixedClock
) -> None:
    hall = _hall(tmp_path, HALL_A)
    try:
        reg = RegistrationService(hall, clock, principal=staff("测试前台")).register(visit())
        with hall.read() as s:
            token = s.scalar(sa.text("SELECT status_token FROM cases WHERE case_no = :n"), {"n": reg.case_no})
        assert _sync(hall, county_db) == (_events(hall), 0)
    finally:
        hall.dispose()

    for table in (
        "parties",
        "case_events",
        "cases",
        "tickets",
        "rooms",
        "audit_log",
        "users",
        "alembic_version",
    ):
        assert _denied(county_db, STATUS, f"SELECT * FROM {table} LIMIT 1"), table
    for sql in (
        "INSERT INTO case_events (id) VALUES ('x')",
        "DELETE FROM case_events",
        "UPDATE cases SET state = ''",
    ):
        assert _denied(county_db, STATUS, sql), sql

    # the view answers, and has nothing personal in it
    engine = _engine(county_db, STATUS)
    try:
        with engine.connect() as c:
            row = (
                c.execute(sa.text("SELECT * FROM case_stages WHERE status_token = :t"), {"t": token})
                .mappings()
                .one()
            )
        assert row["case_no"] == reg.case_no and row["state"] == "registered"
        flat = repr(dict(row))
        for secret in ("张三", ID, "13912345678", "东街街道", "堆放杂物"):
            assert secret not in flat
    finally:
        engine.dispose()

    # the status page through it: the service, and the app opened on the role's URL
    from desk.status.app import create_app, open_status_store
    from tests.status.asgi import get

    store = open_status_store(role_url(county_db, STATUS))
    try:
        s = StatusService(store, clock).status(token)
        assert s is not None and s.stage == "已受理" and s.case_no_tail == reg.case_no[-6:]
        app = create_app(store, clock=clock)
        r = get(app, f"/s/{token}")
        assert r.status == 200 and "已受理" in r.text
        assert get(app, "/s/" + "A" * 22).status == 404
    finally:
        store.dispose()


def test_a_status_role_without_the_grant_is_told_at_start(county_db: str) -> None:
    from desk.errors import StoreError
    from desk.status.app import open_status_store

    # desk_report has no right on the view: the server refuses to start, in Chinese, without a password
    with pytest.raises(StoreError, match="无权读取办理进度视图"):
        open_status_store(role_url(county_db, REPORT))


def test_the_app_role_appends_but_never_rewrites(county_db: str) -> None:
    at = "2026-11-27 02:00:00"
    ev = (
        "INSERT INTO case_events (id, hall_code, hall_seq, case_id, kind, payload, occurred_at, actor, "
        f"schema_version, hlc) VALUES ('{uuid.uuid4()}', 'H', 1, 'c', 'note', '{{}}', '{at}', 'a', 1, 1)"
    )
    au = (
        "INSERT INTO audit_log (id, hall_code, hall_seq, at, login, user_name, terminal, action, detail) "
        f"VALUES ('{uuid.uuid4()}', 'H', 1, '{at}', 'u', '用户', 't', 'view_full', '')"
    )
    engine = _engine(county_db, APP)
    try:
        with engine.begin() as c:
            c.exec_driver_sql(ev)
            c.exec_driver_sql(au)
            assert c.exec_driver_sql("SELECT count(*) FROM case_events").scalar() == 1
            assert c.exec_driver_sql("SELECT count(*) FROM audit_log").scalar() == 1
    finally:
        engine.dispose()
    for table in ("case_events", "audit_log"):
        assert _denied(county_db, APP, f"DELETE FROM {table}")
        assert _denied(county_db, APP, f"UPDATE {table} SET hall_code = 'X'")
        assert _denied(county_db, APP, f"TRUNCATE {table}")
        assert _denied(county_db, SYNC, f"DELETE FROM {table}")
        assert _denied(county_db, SYNC, f"UPDATE {table} SET hall_code = 'X'")
    assert _denied(county_db, APP, "UPDATE alembic_version SET version_num = 'x'")
    assert _denied(county_db, APP, "CREATE TABLE mine (x int)")


def test_reports_read_no_personal_column(county_db: str) -> None:
    engine = _engine(county_db, REPORT)
    try:
        with engine.connect() as c:
            c.exec_driver_sql("SELECT sex, age_band, grid_code, role FROM parties").all()
            c.exec_driver_sql("SELECT case_no, state, category_code, risk_level, grid_code FROM cases").all()
            c.exec_driver_sql("SELECT login, action, case_no, at FROM audit_log").all()
    finally:
        engine.dispose()
    for column in ("name", "id_number", "phone", "address", "id_index", "phone_index"):
        assert _denied(county_db, REPORT, f"SELECT {column} FROM parties"), column
    assert _denied(county_db, REPORT, "SELECT narrative FROM cases")
    assert _denied(county_db, REPORT, "SELECT * FROM case_events")
    assert _denied(county_db, REPORT, "SELECT * FROM users")
    assert _denied(county_db, REPORT, "UPDATE cases SET state = 'x'")
    assert _denied(county_db, REPORT, "DELETE FROM audit_log")


def test_the_sync_role_pushes_and_pulls(county_db: str, tmp_path: Path, clock: FixedClock) -> None:
    a, b = _hall(tmp_path, HALL_A), _hall(tmp_path, HALL_B)
    county = open_store(county_db)
    try:
        reg = RegistrationService(a, clock, principal=staff("测试前台"))
        first = reg.register(visit())
        reg.register(visit(parties=[{"role": "applicant", "name": "李四", "phone": "13800000001"}]))
        assert _sync(a, county_db) == (_events(a), 0)
        assert _sync(b, county_db) == (0, 0)  # hall B registers itself
        assert _sync(a, county_db) == (0, 0)  # an idle round
        # the county diverts A's case to B: B pulls it, with its whole history, through the sync role
        CountyService(county, clock, principal=staff("县级")).divert(
            first.case_no, to_hall=HALL_B, reason="属地"
        )
        pushed, pulled = _sync(b, county_db)
        assert pushed == 0 and pulled >= 2
        with b.read() as s:
            assert (
                s.scalar(sa.text("SELECT state FROM cases WHERE case_no = :n"), {"n": first.case_no})
                == "diverted"
            )
        with county.read() as s:
            assert s.scalar(sa.text("SELECT count(*) FROM case_events")) == _events(a) + 1
            acked = dict(s.execute(sa.text("SELECT code, acked_seq FROM halls WHERE NOT is_local")).all())
        assert acked == {HALL_A: _events(a), HALL_B: 0}
        # and A pulls the diversion of its case back through the same role
        assert _sync(a, county_db) == (0, 1)
    finally:
        county.dispose()
        a.dispose()
        b.dispose()


def test_create_roles_is_idempotent_and_sets_only_verifiers(county_db: str) -> None:
    engine = sa.create_engine(county_db)
    database = engine.url.database or ""
    try:
        again = create_roles(engine, database=database)
        assert [r.name for r in again] == list(ROLES) and not any(r.created for r in again)
        assert set(existing_roles(engine)) == set(ROLES)
        with pytest.raises(Exception, match="没有名为 desk_admin 的数据库账号"):
            create_roles(engine, database=database, passwords={"desk_admin": "x"})
        with pytest.raises(Exception, match="所连接的库是"):
            create_roles(engine, database="some_other_db")
    finally:
        engine.dispose()


def test_the_verifier_is_the_one_postgresql_makes(pg_server: str) -> None:
    role = f"desk_test_{uuid.uuid4().hex[:8]}"
    engine = sa.create_engine(pg_server, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as c:
            c.exec_driver_sql("SET password_encryption = 'scram-sha-256'")
            c.exec_driver_sql(f"CREATE ROLE {role} PASSWORD '口令 pass''word'")
            stored = c.execute(
                sa.text("SELECT rolpassword FROM pg_authid WHERE rolname = :r"), {"r": role}
            ).scalar()
    finally:
        with engine.connect() as c:
            c.exec_driver_sql(f"DROP ROLE IF EXISTS {role}")
        engine.dispose()
    assert isinstance(stored, str) and stored.startswith("SCRAM-SHA-256$4096:")
    salt = base64.b64decode(stored.split("$")[1].split(":")[1])
    assert scram_sha256("口令 pass'word", salt=salt) == stored


def test_county_init_prints_the_roles_and_never_a_password(
    county_db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from desk import cli

    secret = f"pw-{uuid.uuid4().hex}"
    passwords = tmp_path / "roles.json"
    passwords.write_text(f'{{"{STATUS}": "{secret}"}}', encoding="utf-8")
    assert cli.main(["county", "init", "--db", county_db, "--role-password-file", str(passwords)]) == 0
    out, err = capsys.readouterr()
    for role in ROLES:
        assert f"数据库账号 {role}" in out
    assert "已设密码" in out and "不能删除或修改事件与审计记录" in out
    assert secret not in out + err
    engine = sa.create_engine(county_db)
    try:
        with engine.connect() as c:
            stored = c.execute(
                sa.text("SELECT rolpassword FROM pg_authid WHERE rolname = :r"), {"r": STATUS}
            ).scalar()
            assert str(stored).startswith("SCRAM-SHA-256$")
            c.exec_driver_sql(f"ALTER ROLE {STATUS} PASSWORD NULL")  # shared by the cluster: as it was
            c.commit()
    finally:
        engine.dispose()
    passwords.write_text('{"desk_sync": ""}', encoding="utf-8")
    assert cli.main(["county", "init", "--db", county_db, "--role-password-file", str(passwords)]) == 1
    assert "密码不能为空" in capsys.readouterr().err
