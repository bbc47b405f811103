"""PostgreSQL roles of least privilege for a county store: who may read and write what, granted per database.

Four login roles (cluster-wide in PostgreSQL; the grants are per database, so `create_roles` runs on each store):

- `desk_sync`: what a hall's sync round does at the county (`desk.sync.engine`, `desk.store.county`) and no
  more: INSERT and SELECT on the event log and the audit, the county-side sync tables it writes, the columns of
  the halls registry it moves (acked_seq, last_push_at, last_hlc, rooms_digest), the projections of the cases it
  refolds, the hall's rooms it replaces, the county's sequences.
- `desk_status`: SELECT on the view `case_stages` only (`desk.store.stages`): no table, nothing personal.
- `desk_report`: supervisors' reports: SELECT on the projections and the reference data, but not the personal
  columns (parties' names, sealed fields and blind indexes; cases' narrative), and SELECT on the audit (a
  supervisor searches and exports it); no write of any kind, and not the event log (its payloads carry the
  registration's sealed particulars and narrative, which no report needs).
- `desk_app`: the application's daily work: SELECT/INSERT/UPDATE on the reference and sync tables and the
  users, SELECT/INSERT/UPDATE/DELETE on the projections (they are folded from the log, and a refold replaces a
  case's rows), SELECT and INSERT only on `case_events` and `audit_log`.

No role may UPDATE or DELETE `case_events` or `audit_log`, none may TRUNCATE anything, none owns anything: the
schema (migrations, these grants) stays with the database owner who runs `desk county init`. PUBLIC loses every
right on the store's tables and sequences, CONNECT and TEMPORARY on the database and CREATE in the schema.

Running it again is harmless: missing roles are created (a race with another database's run is tolerated), the
grants of the four roles in this database are revoked and granted afresh (so a right dropped from the table
below disappears), a password is set only when one is given. Passwords never travel in clear: the SCRAM-SHA-256
verifier is computed here and only that is sent (the server's statement log never sees a password either).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

import sqlalchemy as sa

from desk.errors import DeskError

logger = logging.getLogger(__name__)

SYNC, STATUS, REPORT, APP = "desk_sync", "desk_status", "desk_report", "desk_app"
ROLES: dict[str, str] = {
    SYNC: "下级中心同步（上传事件、移动游标）",
    STATUS: "状态查询页（只读办理进度视图，不含个人信息）",
    REPORT: "督导报表（只读，不含个人信息列）",
    APP: "应用日常工作（事件与审计只增不改）",
}

LOG = ("case_events", "audit_log")
PROJECTIONS = ("cases", "parties", "tickets", "whistles", "warnings", "bookings")
REFERENCE = ("halls", "counters", "categories", "rooms", "departments", "mediators")
SYNC_TABLES = ("sync_meta", "sync_state", "case_holders", "county_outbox", "sync_alerts")
ACCESS = ("users",)
SCHEMA = ("alembic_version",)
VIEWS = ("case_stages",)
TABLES = (*LOG, *PROJECTIONS, *REFERENCE, *SYNC_TABLES, *ACCESS, *SCHEMA)
SEQUENCES = ("case_event_seq", "county_outbox_seq_seq")

# what reports may read of the two tables that hold personal data (every other column of theirs is withheld)
REPORT_COLUMNS: dict[str, tuple[str, ...]] = {
    "cases": (
        "id",
        "case_no",
        "hall_code",
        "category_code",
        "channel",
        "headcount",
        "risk_flags",
        "state",
        "repeat_visits",
        "registered_at",
        "updated_at",
        "deadline_at",
        "actor",
        "room_code",
        "risk_level",
        "deadline_rule",
        "due_on",
        "paused_at",
        "outcome",
        "closed_at",
        "follow_up_due_on",
        "grid_code",
        "claimed_by",
    ),
    "parties": ("id", "case_id", "position", "role", "is_organisation", "sex", "age_band", "grid_code"),
}

# A grant: privileges on a table, optionally on some of its columns only.
Grant = tuple[str, str, tuple[str, ...]]  # (privileges, table, columns)


def _grants() -> dict[str, list[Grant]]:
    """The whole table of rights, role by role (sequences apart: `SEQUENCE_GRANTS`)."""
    app: list[Grant] = [("SELECT, INSERT", t, ()) for t in LOG]
    app += [("SELECT, INSERT, UPDATE, DELETE", t, ()) for t in PROJECTIONS]
    app += [("SELECT, INSERT, UPDATE", t, ()) for t in (*REFERENCE, *SYNC_TABLES, *ACCESS)]
    app += [("SELECT", "alembic_version", ()), ("SELECT", "case_stages", ())]

    sync: list[Grant] = [("SELECT, INSERT", t, ()) for t in LOG]
    # a push refolds the cases it touches: their rows are deleted and written again (projections.ingest); the
    # cases are locked first (SELECT ... FOR UPDATE needs UPDATE on the table)
    sync += [("SELECT, INSERT, DELETE", t, ()) for t in PROJECTIONS]
    sync += [("UPDATE", "cases", ())]
    sync += [
        ("SELECT, INSERT", "halls", ()),  # a hall registers itself on its first push
        ("UPDATE", "halls", ("acked_seq", "last_push_at", "last_hlc", "rooms_digest")),
        ("SELECT, INSERT, DELETE", "rooms", ()),  # the county's copy of a hall's rooms (county.offer_rooms)
        ("SELECT", "categories", ()),
        ("SELECT", "departments", ()),
        ("SELECT", "sync_meta", ()),
        ("SELECT, INSERT", "case_holders", ()),
        ("SELECT, INSERT", "county_outbox", ()),
        ("INSERT", "sync_alerts", ()),
        # check_schema reads the revision FOR SHARE so that no migration slips in before the batch commits:
        # a row lock needs UPDATE on some column. The role never writes it.
        ("SELECT", "alembic_version", ()),
        ("UPDATE", "alembic_version", ("version_num",)),
    ]

    report: list[Grant] = [("SELECT", t, REPORT_COLUMNS.get(t, ())) for t in PROJECTIONS]
    report += [("SELECT", t, ()) for t in ("halls", "categories", "rooms", "departments", "mediators")]
    report += [("SELECT", "sync_alerts", ()), ("SELECT", "audit_log", ())]

    status: list[Grant] = [("SELECT", "case_stages", ())]
    return {SYNC: sync, STATUS: status, REPORT: report, APP: app}


GRANTS = _grants()
# nextval needs USAGE; the county's block of seqs is taken with setval, which needs UPDATE
SEQUENCE_GRANTS: dict[str, list[tuple[str, str]]] = {
    SYNC: [("USAGE, UPDATE", "case_event_seq"), ("USAGE", "county_outbox_seq_seq")],
    APP: [("USAGE, UPDATE", "case_event_seq"), ("USAGE", "county_outbox_seq_seq")],
}


@dataclass(frozen=True)
class RoleEntry:
    name: str
    purpose: str
    created: bool  # made by this run (else it was there)
    password_set: bool  # a password was given and set by this run


def _ident(name: str) -> str:
    """A quoted identifier (a database's name may hold anything but NUL)."""
    if not name or "\x00" in name:
        raise DeskError("数据库名称无效")
    return '"' + name.replace('"', '""') + '"'


def scram_sha256(password: str, *, salt: bytes | None = None, iterations: int = 4096) -> str:
    """The SCRAM-SHA-256 verifier PostgreSQL stores for `password` (what `ALTER ROLE ... PASSWORD` takes in
    place of the password itself). The password is NFKC-normalised, as the server's SASLprep would."""
    salt = salt if salt is not None else os.urandom(16)
    normal = unicodedata.normalize("NFKC", password).encode("utf-8")
    salted = hashlib.pbkdf2_hmac("sha256", normal, salt, iterations)
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()

    def b64(b: bytes) -> str:
        return base64.b64encode(b).decode("ascii")

    return f"SCRAM-SHA-256${iterations}:{b64(salt)}${b64(stored_key)}:{b64(server_key)}"


def role_url(url: str | sa.URL, role: str, password: str | None = None) -> str:
    """`url` (the store's) as `role` connects to it: the same host, port and database, its own user name, and
    its password only when one is given."""
    from sqlalchemy.engine import make_url

    u = make_url(url)._replace(username=role, password=password)  # (URL.set would keep the old password)
    return u.render_as_string(hide_password=False)


def create_roles(
    bind: sa.Engine | sa.Connection, *, database: str, passwords: Mapping[str, str] | None = None
) -> list[RoleEntry]:
    """Create the roles where missing and grant them their rights in `database` (the one `bind` is connected
    to), in one transaction; returns the roles as they now are. `passwords`: role name -> password, for the
    roles to log in with a password (none on trust or peer authentication). Raises `DeskError` in Chinese
    when the connecting user may not create roles or grant on the tables (never with a password in it)."""
    passwords = dict(passwords or {})
    unknown = sorted(set(passwords) - set(ROLES))
    if unknown:
        raise DeskError(f"没有名为 {'、'.join(unknown)} 的数据库账号（可用：{'、'.join(ROLES)}）")
    if isinstance(bind, sa.Engine):
        with bind.begin() as conn:
            return create_roles(conn, database=database, passwords=passwords)
    conn = bind
    if conn.dialect.name != "postgresql":
        raise DeskError("数据库账号只能在 PostgreSQL 上建立")
    actual = conn.exec_driver_sql("SELECT current_database()").scalar()
    if actual != database:
        raise DeskError(f"所连接的库是 {actual}，不是 {database}")
    try:
        with conn.begin_nested():
            return _create_roles(conn, database, passwords)
    except sa.exc.DBAPIError as e:
        # The statement may be in the message; it holds no password (only verifiers are sent), but the message
        # is a driver's: log its class and code, say it in Chinese.
        sqlstate = getattr(e.orig, "sqlstate", None) or ""
        logger.warning("creating database roles failed: %s [%s]", type(e.orig).__name__, sqlstate)
        if sqlstate == "42501":
            raise DeskError(
                "当前数据库用户无权建立账号或授权：请用库的所有者（且有 CREATEROLE 权限）或超级用户运行 desk county init"
            ) from None
        raise DeskError(f"建立数据库账号失败（错误代码 {sqlstate or type(e.orig).__name__}）") from None


def _create_roles(conn: sa.Connection, database: str, passwords: Mapping[str, str]) -> list[RoleEntry]:
    existing = set(existing_roles(conn))
    entries = []
    for name, purpose in ROLES.items():
        created = False
        if name not in existing:
            # another database's `create_roles` may be creating it at this moment: either wins
            conn.exec_driver_sql(
                "DO $$ BEGIN "
                f"CREATE ROLE {_ident(name)} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT NOREPLICATION; "
                "EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$"
            )
            created = True
        password = passwords.get(name)
        if password:
            verifier = scram_sha256(password).replace("'", "''")
            conn.exec_driver_sql(f"ALTER ROLE {_ident(name)} WITH LOGIN PASSWORD '{verifier}'")
        entries.append(RoleEntry(name, purpose, created, bool(password)))

    db, roles = _ident(database), ", ".join(_ident(r) for r in ROLES)
    tables: set[str] = set(
        conn.execute(sa.text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")).scalars()
    )
    tables |= set(
        conn.execute(sa.text("SELECT viewname FROM pg_views WHERE schemaname = 'public'")).scalars()
    )
    sequences: set[str] = set(
        conn.execute(sa.text("SELECT sequencename FROM pg_sequences WHERE schemaname = 'public'")).scalars()
    )
    missing = sorted((set(TABLES) | set(VIEWS)) - tables)
    if missing:
        raise DeskError(f"库中缺少表 {'、'.join(missing)}：请先完成 desk county init 的建库升级")

    for sql in (
        f"REVOKE CONNECT, TEMPORARY ON DATABASE {db} FROM PUBLIC",
        "REVOKE CREATE ON SCHEMA public FROM PUBLIC",
        "REVOKE ALL ON ALL TABLES IN SCHEMA public FROM PUBLIC",
        "REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM PUBLIC",
        # afresh: whatever an earlier version granted in this database goes (column rights with the table's)
        f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {roles}",
        f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {roles}",
        f"GRANT CONNECT ON DATABASE {db} TO {roles}",
        f"GRANT USAGE ON SCHEMA public TO {roles}",
    ):
        conn.exec_driver_sql(sql)
    for role, grants in GRANTS.items():
        for privileges, table, columns in grants:
            cols = f" ({', '.join(_ident(c) for c in columns)})" if columns else ""
            if columns:  # column rights: one privilege at a time, each on the listed columns
                for p in privileges.split(", "):
                    conn.exec_driver_sql(f"GRANT {p}{cols} ON {_ident(table)} TO {_ident(role)}")
            else:
                conn.exec_driver_sql(f"GRANT {privileges} ON {_ident(table)} TO {_ident(role)}")
    for role, seq_grants in SEQUENCE_GRANTS.items():
        for privileges, seq in seq_grants:
            if seq in sequences:
                conn.exec_driver_sql(f"GRANT {privileges} ON SEQUENCE {_ident(seq)} TO {_ident(role)}")
    logger.info("database roles granted in %s: %s", database, ", ".join(ROLES))
    return entries


def existing_roles(bind: sa.Engine | sa.Connection) -> list[str]:
    """Which of the four roles exist on the server."""
    sql = sa.text("SELECT rolname FROM pg_roles WHERE rolname = ANY(:names) ORDER BY rolname")
    if isinstance(bind, sa.Engine):
        with bind.connect() as conn:
            return list(conn.execute(sql, {"names": list(ROLES)}).scalars())
    return list(bind.execute(sql, {"names": list(ROLES)}).scalars())
