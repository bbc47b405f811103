"""Hall <-> county sync: one round pushes the hall's unacknowledged events, pulls what the county holds for it,
and refreshes the reference data. Every step is safe to repeat, so a cut connection only means "run it again".

Push: the county says which of our hall_seq it holds everything up to (`acked_seq`); we send the next batch in
hall_seq order; the county takes it in and updates its projections in one transaction (county.receive_push); only
after that commit do we move our `pushed_seq`. If the acknowledgment is lost, the next round asks again and
resends; the county skips what it has.
Audit: after the events, the hall's audit entries the county lacks (by the per-hall `hall_seq`), inserted at the
county with ON CONFLICT DO NOTHING, so a resent batch does no harm.
Pull: the county's outbox for this hall, by its seq; the events and the new cursor are written in one local
transaction, so a cut mid-pull resumes where the last committed batch ended.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from desk.config import with_stored_password
from desk.core.clock import Clock, SystemClock
from desk.core.events import Event
from desk.errors import DeskError
from desk.store import county
from desk.store.checks import URL_HOST, display_url, scrub_password
from desk.store.county import BatchRefused, HallIdentity
from desk.store.events import EVENT_COLUMNS, event_of_raw
from desk.store.models import CaseEvent, CategoryRow, DepartmentRow, Hall, SyncState
from desk.store.queries import audit as audit_q
from desk.store.session import HEAD_REVISION, MIGRATIONS, Store, create_engine

logger = logging.getLogger(__name__)

PEER = "county"
BATCH = 5000
UNPUSHED = sa.text(
    f"SELECT {', '.join(EVENT_COLUMNS)} FROM case_events "
    "WHERE hall_code = :hall AND hall_seq > :after ORDER BY hall_seq LIMIT :n"
)
CONNECT_TIMEOUT_S = 10


class SyncError(DeskError):
    """A round that could not finish; `message` is plain Chinese and never holds a password."""


class SyncRefused(SyncError):
    """The county refused our events (a gap, a reused number, a schema mismatch): retrying will not help."""


def _known_revisions() -> list[str]:
    return sorted(p.name[:13] for p in (MIGRATIONS / "versions").glob("2*_*.py"))


KNOWN_REVISIONS = _known_revisions()


def safe_url(url: str) -> str:
    """The URL as it may be shown or logged: without its password."""
    return display_url(url)


# --- the county's address ----------------------------------------------------------------------------------

COUNTY_URL_EXAMPLE = "postgresql+psycopg://用户:密码@主机:5432/库名"
COUNTY_DRIVERS = ("postgresql", "postgresql+psycopg")
_INT = re.compile(r"^[0-9]{1,6}$")


def _one_of(*values: str) -> Callable[[str], bool]:
    return lambda v: v in values


def _seconds(v: str) -> bool:
    return bool(_INT.match(v)) and 0 < int(v) <= 3600


# libpq's connection parameters that make sense for the county (no `host`/`port`/`dbname`: those are the URL's)
COUNTY_URL_PARAMETERS: dict[str, Callable[[str], bool]] = {
    "sslmode": _one_of("disable", "allow", "prefer", "require", "verify-ca", "verify-full"),
    "sslrootcert": bool,
    "sslcert": bool,
    "sslkey": bool,
    "sslcrl": bool,
    "connect_timeout": _seconds,
    "application_name": lambda v: len(v) <= 63,
    "target_session_attrs": _one_of("any", "read-write", "read-only", "primary", "standby", "prefer-standby"),
    "keepalives": _one_of("0", "1"),
    "keepalives_idle": _seconds,
    "keepalives_interval": _seconds,
    "keepalives_count": lambda v: bool(_INT.match(v)) and 0 < int(v) <= 100,
    "tcp_user_timeout": lambda v: bool(_INT.match(v)) and int(v) <= 3_600_000,
    "gssencmode": _one_of("disable", "prefer", "require"),
    "channel_binding": _one_of("disable", "prefer", "require"),
}


def _shown(text: str, limit: int = 40) -> str:
    """Part of a refused address as it may be echoed: control characters escaped, cut short."""
    out = "".join(ch if ch.isprintable() else f"\\x{ord(ch):02x}" for ch in text)
    return out if len(out) <= limit else out[:limit] + "…"


def parse_county_url(url: str, *, local: bool = False) -> sa.URL:
    """The county's address checked once, for `desk sync`, the windows' sync and every round: a PostgreSQL URL
    (`postgresql+psycopg://用户:密码@主机[:端口]/库名[?sslmode=…]`) with a host, a port in 1–65535, a database
    name and only the libpq parameters in `COUNTY_URL_PARAMETERS`. Anything else is a `SyncError` saying what
    is wrong in Chinese; the message never holds the password (nor any part of the address that may be one).
    Returns the URL with a `connect_timeout` (a dead rural link fails a round in seconds, not minutes).
    `local`: the county's own commands, which may reach their database over a local socket (no host)."""

    def bad(reason: str) -> SyncError:
        return SyncError(f"县级数据库地址无效：{reason}。应形如 {COUNTY_URL_EXAMPLE}")

    given: object = url  # from a settings file edited by hand it may be anything
    if not isinstance(given, str):
        raise bad("应为文本")
    text = given.strip()
    if not text:
        raise bad("地址为空")
    if any(not ch.isprintable() or ch.isspace() for ch in text):
        raise bad("含有空白或控制字符")
    try:
        u = make_url(text)
    except sa.exc.ArgumentError:
        raise bad("无法识别（缺少 postgresql+psycopg:// 开头，或格式不对）") from None
    except ValueError:  # the port is not a number
        raise bad("端口应为 1–65535 的数字") from None
    scheme = u.drivername
    if u.get_backend_name() != "postgresql":
        raise bad(f"须为 PostgreSQL 的地址，不能是 {_shown(scheme)}://")
    if scheme not in COUNTY_DRIVERS:
        raise bad(f"不支持的驱动 {_shown(scheme)}，请用 postgresql+psycopg://")
    if not u.host and not local:
        raise bad("缺少主机名")
    if u.host and not URL_HOST.match(u.host):
        # most often a password holding @ : / or ? written as it is: it must be percent-encoded
        raise bad("主机名含有不允许的字符（密码中的 @ : / ? # 须写成 %40 %3A %2F %3F %23）")
    if u.port is not None and not 0 < u.port <= 65535:
        raise bad(f"端口 {u.port} 超出范围（1–65535）")
    if not u.database:
        raise bad("缺少库名（地址末尾的 /库名）")
    for key, value in u.query.items():
        check = COUNTY_URL_PARAMETERS.get(key)
        if check is None:
            known = "、".join(COUNTY_URL_PARAMETERS)
            raise bad(f"不认识的参数 {_shown(key)}（可用：{known}）")
        if not isinstance(value, str):
            raise bad(f"参数 {_shown(key)} 出现了不止一次")
        if not value or not check(value):
            raise bad(f"参数 {_shown(key)} 的值无效")
    if "connect_timeout" not in u.query:
        u = u.update_query_dict({"connect_timeout": str(CONNECT_TIMEOUT_S)})
    return u


def scrub(text: str, url: str) -> str:
    """Remove the URL's password from a message, wherever a driver may have echoed it."""
    return scrub_password(text, url)


@dataclass(frozen=True)
class SyncStatus:
    """What the status bar shows."""

    last_success_at: dt.datetime | None
    last_attempt_at: dt.datetime | None
    last_error: str
    waiting: int  # our events the county has not acknowledged
    pushed_seq: int
    pulled_seq: int


@dataclass(frozen=True)
class RoundReport:
    pushed: int
    pulled: int
    acked_seq: int
    reference_updated: bool
    seconds: float
    audited: int = 0
    """Audit entries sent to the county in this round."""


def sync_status(local: Store) -> SyncStatus:
    with local.read() as s:
        hall = s.scalars(sa.select(Hall).where(Hall.is_local)).first()
        state = s.get(SyncState, PEER)
    last_seq = int(hall.last_seq) if hall else 0
    if state is None:
        return SyncStatus(None, None, "", last_seq, 0, 0)
    return SyncStatus(
        state.last_success_at,
        state.last_attempt_at,
        state.last_error,
        max(0, last_seq - int(state.pushed_seq)),
        int(state.pushed_seq),
        int(state.pulled_seq),
    )


def _is_connect_failure(orig: BaseException) -> bool:
    """A connection that could not be made or was lost (not a refused statement)."""
    text = str(orig)
    return type(orig).__name__ in ("OperationalError", "ConnectionTimeout") and (
        "connect" in text or "server closed" in text or "terminat" in text or "timeout" in text
    )


def _connect_reason(text: str, sqlstate: str) -> str:
    """Why a connection failed, in Chinese, from the driver's (lower-cased) words."""
    if sqlstate.startswith("57P") or "shutting down" in text or "terminating connection" in text:
        return "县级数据库正在重启或关闭"
    if "refused" in text:
        return "对方拒绝连接（数据库服务未启动，或主机、端口不对）"
    if "timeout" in text or "timed out" in text:
        return "连接超时（网络不通或对方无响应）"
    if "translate host name" in text or "resolve" in text or "name or service not known" in text:
        return "找不到主机（请核对主机名）"
    if "ssl" in text:
        return "加密连接（SSL）未能建立"
    if "closed" in text or "lost" in text or "eof" in text or "consuming input" in text or "reset" in text:
        return "连接中断"
    return "连接失败"


def open_county(url: str) -> Store:
    """Connect to the county store (no migrations: the county is upgraded by `desk county init`). A URL
    without a password gets the one kept in the key store (`desk settings set county_db_url` put it there)."""
    u = parse_county_url(url)
    return Store(create_engine(with_stored_password(u.render_as_string(hide_password=False))))


def check_schema(session: sa.orm.Session) -> None:
    """Refuse a county whose schema differs from ours, before anything is written (the row lock keeps a
    migration from slipping in before our commit)."""
    try:
        rev = session.execute(sa.text("SELECT version_num FROM alembic_version FOR SHARE")).scalar()
    except sa.exc.ProgrammingError:
        raise SyncRefused("县级数据库尚未建立：请先在县级运行 desk county init") from None
    if rev == HEAD_REVISION:
        if county.get_meta(session, county.ROLE) != "county":
            raise SyncRefused("所连接的数据库不是县级库（未用 desk county init 建立）")
        return
    if rev in KNOWN_REVISIONS:
        raise SyncRefused(
            f"县级数据库结构版本较旧（{rev}），请先在县级运行 desk county init 升级；本批未写入"
        )
    raise SyncRefused(
        f"县级数据库结构版本（{rev}）比本机软件新（{HEAD_REVISION}），请先升级本机软件；本批未写入"
    )


class Syncer:
    """Sync one hall's store with the county store."""

    def __init__(
        self,
        local: Store,
        county_url: str,
        *,
        clock: Clock | None = None,
        batch: int = BATCH,
        county_store: Store | None = None,
    ) -> None:
        self.local = local
        self.county_url = county_url
        self.clock = clock or SystemClock()
        self.batch = batch
        self._county = county_store
        self._pushed: int | None = None
        self._audit_held: int | None = None  # the county's newest audit entry of this hall, as last seen

    @property
    def county(self) -> Store:
        if self._county is None:
            self._county = open_county(self.county_url)
        return self._county

    def close(self) -> None:
        if self._county is not None:
            self._county.dispose()
            self._county = None

    def status(self) -> SyncStatus:
        return sync_status(self.local)

    # --- one round ---------------------------------------------------------------------------------------

    def run_once(self) -> RoundReport:
        """Push, pull and refresh the reference data; records the outcome in sync_state. Raises SyncError."""
        started = time.perf_counter()
        now = self.clock.now()
        try:
            hall = self._hall()
            pushed, acked = self._push(hall)
            audited = self._push_audit(hall)
            pulled = self._pull(hall)
            ref = self._reference()
        except BatchRefused as e:
            self._record(now, error=e.message)
            raise SyncRefused(e.message) from e
        except SyncError as e:
            self._record(now, error=e.message)
            raise
        except (sa.exc.DBAPIError, OSError) as e:
            message = self._explain(e)
            self._record(now, error=message)
            self._drop_connections()
            raise SyncError(message) from None
        self._record(now, success=True)
        report = RoundReport(pushed, pulled, acked, ref, time.perf_counter() - started, audited)
        if pushed or pulled or ref or audited:
            logger.info(
                "sync with %s: pushed %d, pulled %d%s%s",
                safe_url(self.county_url),
                pushed,
                pulled,
                f", {audited} audit entries" if audited else "",
                ", reference data updated" if ref else "",
            )
        return report

    def run_every(
        self,
        seconds: float,
        *,
        stop: Callable[[], bool] = lambda: False,
        on_round: Callable[[RoundReport | SyncError], None] | None = None,
    ) -> None:
        """Rounds every `seconds` until `stop()`; a failed round is reported and retried at the next tick."""
        while not stop():
            try:
                result: RoundReport | SyncError = self.run_once()
            except SyncError as e:
                # a caller with on_round reports it itself: then the log only records it
                logger.log(
                    logging.WARNING if on_round is None else logging.INFO, "sync failed: %s", e.message
                )
                result = e
            if on_round is not None:
                on_round(result)
            deadline = time.monotonic() + seconds
            while not stop() and time.monotonic() < deadline:
                time.sleep(min(0.2, max(0.0, deadline - time.monotonic())))

    def _hall(self) -> HallIdentity:
        with self.local.read() as s:
            row = s.scalars(sa.select(Hall).where(Hall.is_local)).first()
            if row is None:
                raise SyncError("本机数据库尚未初始化：请先运行 desk init")
            if county.get_meta(s, county.ROLE) == "county":
                raise SyncError("这是县级库，不能作为下级同步")
            return HallIdentity(row.code, row.name, row.phone)

    def _explain(self, e: BaseException) -> str:
        """A failed round in Chinese: what happened and what follows. The driver's English (psycopg's
        "canceling statement due to user request", "COPY from stdin failed: ...") goes to the log only."""
        where = safe_url(self.county_url)
        orig = getattr(e, "orig", None) or e
        text = str(orig).strip()
        sqlstate = getattr(orig, "sqlstate", None) or ""
        # The driver's first line is logged where it cannot quote a row (a data error may quote a value).
        words = text.splitlines()[0] if text and sqlstate[:2] in ("", "08", "28", "3D", "53", "57") else ""
        logger.info(
            "county error %s%s%s",
            type(orig).__name__,
            f" [{sqlstate}]" if sqlstate else "",
            f": {scrub(words, with_stored_password(self.county_url))}" if words else "",
        )
        lowered = text.lower()
        if sqlstate == "57014":  # query_canceled: pg_cancel_backend, statement_timeout, a COPY aborted
            return (
                f"县级数据库中止了本批写入（{where}）：语句被县级管理员取消或执行超时；本批未写入，"
                "本机继续工作，稍后自动重试"
            )
        if (
            sqlstate in ("28P01", "28000")
            or "password authentication failed" in lowered
            or "pg_hba" in lowered
        ):
            return f"无法登录县级数据库（{where}）：用户名或密码不对，或县级未允许本机连接；请联系县级管理员"
        if sqlstate == "3D000" or ("database" in lowered and "does not exist" in lowered):
            return f"县级数据库中没有这个库（{where}）：请核对地址末尾的库名"
        if sqlstate == "42501":
            return f"县级数据库账号权限不足（{where}）：请联系县级管理员；本机继续工作"
        if sqlstate.startswith("53"):
            return f"县级数据库资源不足（{where}，如磁盘已满）：本轮未完成；请联系县级管理员，本机继续工作"
        if sqlstate in ("40001", "40P01"):
            return f"县级数据库繁忙（{where}）：本轮与其他写入冲突，未完成；稍后自动重试"
        if (
            isinstance(e, OSError)
            or getattr(e, "connection_invalidated", False)
            or sqlstate.startswith(("08", "57P"))
            or _is_connect_failure(orig)
        ):
            return f"无法连接县级数据库（{where}）：{_connect_reason(lowered, sqlstate)}；本机继续工作，稍后自动重试"
        code = sqlstate or type(orig).__name__
        return f"与县级数据库同步出错，本轮未完成（{where}，错误代码 {code}）；稍后自动重试"

    def _drop_connections(self) -> None:
        if self._county is not None:
            self._county.engine.dispose()

    def _record(self, now: dt.datetime, *, success: bool = False, error: str = "") -> None:
        with self.local.unit_of_work() as s:
            state = self._state(s)
            state.last_attempt_at = now
            if success:
                state.last_success_at = now
                state.last_error = ""
            else:
                state.last_error = error[:500]

    @staticmethod
    def _state(s: sa.orm.Session) -> SyncState:
        # locked: terminals of a hall on PostgreSQL each sync in the background and must take turns
        state = s.get(SyncState, PEER, with_for_update=True)
        if state is None:
            state = SyncState(peer=PEER, pushed_seq=0, pulled_seq=0, reference_version=0, last_error="")
            s.add(state)
            s.flush()
        return state

    # --- push ----------------------------------------------------------------------------------------------

    def _push(self, hall: HallIdentity) -> tuple[int, int]:
        with self.local.read() as s:
            digest, rooms = county.hall_rooms(s, hall.code)
        with self.county.unit_of_work() as cs:
            check_schema(cs)
            acked = county.receive_push(cs, hall, [], self.clock.now())
            theirs = county.event_id_at(cs, hall.code, acked)
            if county.offer_rooms(cs, hall.code, digest, rooms):
                logger.info("rooms of hall %s sent to the county", hall.code)
        with self.local.read() as s:
            last_seq = int(s.scalar(sa.select(Hall.last_seq).where(Hall.code == hall.code)) or 0)
            mine = s.scalar(
                sa.select(CaseEvent.id).where(CaseEvent.hall_code == hall.code, CaseEvent.hall_seq == acked)
            )
        detail = ""
        if acked > last_seq:
            detail = (
                f"县级库已收到本中心至第 {acked} 号事件，本机只到第 {last_seq} 号：本机数据库可能从旧备份恢复。"
                "同步已停止，请联系县级管理员"
            )
        elif acked and mine != theirs:
            # Restored from a backup and written to since: the numbers after the backup were used again for
            # other events. Only what follows `acked` would be sent, so the county would never notice.
            detail = (
                f"本机第 {acked} 号事件与县级库已收到的不是同一事件：本机数据库可能从旧备份恢复后又登记了新事件。"
                "同步已停止，请联系县级管理员"
            )
        if detail:
            county.alert(self.county, hall.code, "reused", detail, self.clock.now())
            raise SyncRefused(detail)
        self._set_pushed(acked)
        sent = 0
        if acked >= last_seq:
            return sent, acked
        # The next batch is read from the hall's store while the county takes in this one.
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="sync-read") as reader:
            ahead = reader.submit(self._unpushed, hall.code, acked)
            while True:
                events = ahead.result()
                if not events:
                    break
                if events[0].hall_seq != acked + 1:  # the county acknowledged other than expected: read again
                    events = self._unpushed(hall.code, acked)
                    if not events:
                        break
                if len(events) == self.batch:
                    ahead = reader.submit(self._unpushed, hall.code, events[-1].hall_seq)
                try:
                    with self.county.unit_of_work() as cs:
                        check_schema(cs)
                        acked = county.receive_push(cs, hall, events, self.clock.now())
                except BatchRefused as e:
                    county.alert(self.county, hall.code, e.kind, e.message, self.clock.now())
                    raise
                self._set_pushed(acked)
                sent += len(events)
                if len(events) < self.batch:
                    break
        return sent, acked

    def _push_audit(self, hall: HallIdentity) -> int:
        """After the events, the audit entries the county lacks: those numbered after the newest it holds, in
        batches. An idle round reads only the hall's newest number: the county is asked again only when the
        hall has written entries since the county last said what it holds (and by each new Syncer)."""
        with self.local.read() as s:
            newest = audit_q.last_hall_seq(s, hall.code)
        if self._audit_held is not None and newest <= self._audit_held:
            return 0
        with self.county.read() as cs:
            held = county.audit_held(cs, hall.code)
        sent = 0
        while held < newest:
            with self.local.read() as s:
                rows = audit_q.entries_after(s, hall.code, held, self.batch)
            if not rows:
                break
            with self.county.unit_of_work() as cs:
                county.receive_audit(cs, hall.code, rows)
            held = int(rows[-1]["hall_seq"])
            sent += len(rows)
        self._audit_held = held
        return sent

    def _unpushed(self, hall_code: str, after: int) -> list[Event]:
        # read raw (no type processing): the payload's JSON text goes on to the county as it is
        with self.local.read() as s:
            rows = s.connection().execute(UNPUSHED, {"hall": hall_code, "after": after, "n": self.batch})
            return [event_of_raw(r) for r in rows]

    def _set_pushed(self, acked: int) -> None:
        if acked == self._pushed:  # what this Syncer last wrote: no write transaction for an idle round
            return
        with self.local.unit_of_work() as s:
            state = self._state(s)
            if state.pushed_seq != acked:
                state.pushed_seq = acked
        self._pushed = acked

    # --- pull ----------------------------------------------------------------------------------------------

    def _pull(self, hall: HallIdentity) -> int:
        taken = 0
        while True:
            with self.local.read() as s:
                state = s.get(SyncState, PEER)
                cursor = int(state.pulled_seq) if state else 0
            with self.county.read() as cs:
                batch = county.outbox_since(cs, hall.code, cursor, self.batch)
            if not batch:
                return taken
            with self.local.unit_of_work() as s:
                state = self._state(s)
                if state.pulled_seq != cursor:  # another process of this hall pulled meanwhile
                    continue
                taken += county.take_in(s, [e for _, e in batch])
                state.pulled_seq = batch[-1][0]
            if len(batch) < self.batch:
                return taken

    # --- reference data ------------------------------------------------------------------------------------

    def _reference(self) -> bool:
        with self.county.read() as cs:
            version = int(county.get_meta(cs, county.REFERENCE_VERSION) or 0)
            with self.local.read() as s:
                state = s.get(SyncState, PEER)
                have = int(state.reference_version) if state else 0
            if version <= have:
                return False
            categories = [
                (c.code, c.name, c.deadline_class, list(c.aliases), c.position, c.active)
                for c in cs.scalars(sa.select(CategoryRow))
            ]
            departments = [
                (d.code, d.name, d.phone, d.position, d.active) for d in cs.scalars(sa.select(DepartmentRow))
            ]
        with self.local.unit_of_work() as s:
            cats = {c.code: c for c in s.scalars(sa.select(CategoryRow))}
            for code, name, cls, aliases, position, active in categories:
                row = cats.get(code)
                if row is None:
                    s.add(
                        CategoryRow(
                            code=code,
                            name=name,
                            deadline_class=cls,
                            aliases=aliases,
                            position=position,
                            active=active,
                        )
                    )
                else:
                    row.name, row.deadline_class, row.aliases, row.position, row.active = (
                        name,
                        cls,
                        aliases,
                        position,
                        active,
                    )
            deps = {d.code: d for d in s.scalars(sa.select(DepartmentRow))}
            for code, name, phone, position, active in departments:
                drow = deps.get(code)
                if drow is None:
                    s.add(DepartmentRow(code=code, name=name, phone=phone, position=position, active=active))
                else:
                    drow.name, drow.phone, drow.position, drow.active = name, phone, position, active
            self._state(s).reference_version = version
        return True
