"""Small stand-ins for `AuthService` and `AuditService` with the same methods, for the sign-in windows' tests (and
their screenshots): accounts in a dict, the five-failures lockout, a gate to hold a check while a test looks at
the busy indicator. The real services are tested in tests/services/."""

from __future__ import annotations

import csv
import datetime as dt
import threading
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from desk.core.audit import AuditAction
from desk.core.clock import CHINA_TZ
from desk.core.permissions import Principal, Role
from desk.errors import DeskError, FieldProblem, ValidationError

NOW = dt.datetime(2026, 11, 27, 2, 0, tzinfo=dt.UTC)  # 10:00 China time
LOCK_AFTER_FAILURES = 5
LOCK_MINUTES = 15


class SignInRefused(DeskError):
    """As the real service's: a refused sign-in, unlock or switch, in Chinese."""


@dataclass(frozen=True)
class FakeUser:
    id: str
    login: str
    name: str
    roles: frozenset[Role]
    rooms: tuple[str, ...] = ()
    active: bool = True
    locked_until: dt.datetime | None = None
    has_pin: bool = False


@dataclass
class _Account:
    user: FakeUser
    password: str
    pin: str | None = None
    failures: int = 0


@dataclass(frozen=True)
class FakeEntry:
    at: dt.datetime
    login: str
    user_name: str
    terminal: str
    action: AuditAction
    case_no: str | None
    detail: str = ""


@dataclass
class FakeAuth:
    """Accounts by login. `gate`, when set, holds every check until it is opened (the busy indicator's test)."""

    terminal: str = "前台1"
    now: dt.datetime = NOW
    accounts: dict[str, _Account] = field(default_factory=dict)
    calls: list[tuple[str, tuple[Any, ...]]] = field(default_factory=list)
    gate: threading.Event | None = None

    def add(
        self, login: str, name: str, roles: set[Role], password: str, *, pin: str | None = None, rooms=()
    ):
        user = FakeUser(f"u-{login}", login, name, frozenset(roles), tuple(rooms), has_pin=pin is not None)
        self.accounts[login] = _Account(user, password, pin)
        return user

    def _wait(self) -> None:
        if self.gate is not None:
            assert self.gate.wait(5), "the test never opened the gate"

    def _principal(self, user: FakeUser, terminal: str | None = None) -> Principal:
        return Principal(
            user.id, user.login, user.name, user.roles, terminal or self.terminal, frozenset(user.rooms)
        )

    def _check(self, login: str, secret: str, what: str, *, pin: bool = True) -> FakeUser:
        account = self.accounts.get(login)
        if account is None or not account.user.active:
            raise SignInRefused("用户名或密码不正确")
        until = account.user.locked_until
        if until is not None and until > self.now:
            raise SignInRefused(f"账户已锁定，请于 {until.astimezone(CHINA_TZ):%H:%M} 后再试")
        if secret == account.password or (pin and account.pin is not None and secret == account.pin):
            account.failures = 0
            return account.user
        account.failures += 1
        if account.failures >= LOCK_AFTER_FAILURES:
            account.failures = 0
            until = self.now + dt.timedelta(minutes=LOCK_MINUTES)
            account.user = replace(account.user, locked_until=until)
            raise SignInRefused(f"账户已锁定，请于 {until.astimezone(CHINA_TZ):%H:%M} 后再试")
        raise SignInRefused(what)

    # --- AuthService's methods ---------------------------------------------------------------------

    def has_users(self) -> bool:
        return bool(self.accounts)

    def sign_in(self, login: str, password: str) -> Principal:
        self.calls.append(("sign_in", (login,)))
        self._wait()
        # a PIN is for the lock and the switch only
        return self._principal(self._check(login, password, "用户名或密码不正确", pin=False))

    def unlock(self, principal: Principal, secret: str) -> Principal:
        self.calls.append(("unlock", (principal.login,)))
        self._wait()
        return self._principal(self._check(principal.login, secret, "密码或 PIN 不正确"), principal.terminal)

    def switch_on_duty(self, login: str, secret: str) -> Principal:
        self.calls.append(("switch_on_duty", (login,)))
        self._wait()
        return self._principal(self._check(login, secret, "PIN 或密码不正确"))

    def on_duty_candidates(self, room_code: str) -> list[FakeUser]:
        self._wait()
        return [
            a.user
            for a in self.accounts.values()
            if a.user.active and Role.MEDIATOR in a.user.roles and room_code in a.user.rooms
        ]

    def users(self) -> list[FakeUser]:
        return sorted((a.user for a in self.accounts.values()), key=lambda u: u.login)

    def add_user(self, login, name, roles, rooms, password, pin=None):  # noqa: ANN001 - the service's shape
        self.calls.append(("add_user", (login, name, frozenset(roles), tuple(rooms), pin)))
        if login in self.accounts:
            raise ValidationError(FieldProblem("login", f"用户名“{login}”已被使用"))
        if len(password) < 8:
            raise ValidationError(FieldProblem("password", "密码至少 8 位"))
        return self.add(login, name, set(roles), password, pin=pin, rooms=rooms)

    def update_user(self, login, *, name=None, roles=None, rooms=None, active=None):  # noqa: ANN001
        self.calls.append(("update_user", (login, name, roles, rooms, active)))
        account = self.accounts[login]
        changes: dict[str, Any] = {}
        if name is not None:
            changes["name"] = name
        if roles is not None:
            changes["roles"] = frozenset(roles)
        if rooms is not None:
            changes["rooms"] = tuple(rooms)
        if active is not None:
            changes["active"] = active
        account.user = replace(account.user, **changes)
        return account.user

    def set_password(self, login: str, password: str) -> None:
        self.calls.append(("set_password", (login,)))
        self.accounts[login].password = password

    def set_pin(self, login: str, pin: str | None) -> None:
        self.calls.append(("set_pin", (login, pin is None)))
        account = self.accounts[login]
        account.pin = pin
        account.user = replace(account.user, has_pin=pin is not None)

    def unlock_account(self, login: str) -> None:
        self.calls.append(("unlock_account", (login,)))
        account = self.accounts[login]
        account.failures = 0
        account.user = replace(account.user, locked_until=None)


def hall_auth(**kwargs: Any) -> FakeAuth:
    """The accounts of a small hall: an admin, a clerk, a supervisor and three mediators of room R01."""
    auth = FakeAuth(**kwargs)
    auth.add("admin", "王建华", {Role.ADMIN}, "admin-pass-1")
    auth.add("zhangsan", "张三", {Role.DESK}, "desk-pass-1")
    auth.add("zhaomin", "赵敏", {Role.SUPERVISOR}, "super-pass-1")
    auth.add("liuxy", "刘秀英", {Role.MEDIATOR}, "liu-pass-1", pin="1234", rooms=("R01",))
    auth.add("majg", "马建国", {Role.MEDIATOR}, "ma-pass-1", pin="5678", rooms=("R01", "R02"))
    auth.add("zhaxi", "扎西·次仁", {Role.MEDIATOR}, "zhaxi-pass-1", rooms=("R01",))
    return auth


@dataclass
class FakeAudit:
    """Entries in a list; `search` filters as the service does; `export_csv` writes what it finds."""

    entries: list[FakeEntry] = field(default_factory=list)
    searches: list[dict[str, Any]] = field(default_factory=list)
    exports: list[tuple[Path, dict[str, Any]]] = field(default_factory=list)

    def _find(self, login=None, case_no=None, since=None, until=None, action=None):  # noqa: ANN001
        found = [
            e
            for e in self.entries
            if (login is None or e.login == login)
            and (case_no is None or e.case_no == case_no)
            and (since is None or e.at.astimezone(CHINA_TZ).date() >= since)
            and (until is None or e.at.astimezone(CHINA_TZ).date() <= until)
            and (action is None or e.action == action)
        ]
        return sorted(found, key=lambda e: e.at, reverse=True)

    def search(self, *, login=None, case_no=None, since=None, until=None, action=None, limit=500):  # noqa: ANN001
        self.searches.append(
            {
                "login": login,
                "case_no": case_no,
                "since": since,
                "until": until,
                "action": action,
                "limit": limit,
            }
        )
        return self._find(login, case_no, since, until, action)[:limit]

    def export_csv(self, path, **filters):  # noqa: ANN001
        self.exports.append((Path(path), filters))
        rows = self._find(**filters)
        with open(path, "w", newline="", encoding="utf-8-sig") as f:
            out = csv.writer(f)
            out.writerow(["时间", "用户名", "姓名", "终端", "操作", "案件编号", "说明"])
            for e in rows:
                out.writerow(
                    [e.at.isoformat(), e.login, e.user_name, e.terminal, e.action.label, e.case_no, e.detail]
                )
        return len(rows)


def sample_audit() -> FakeAudit:
    """A morning of the hall's audit: sign-ins, a refused one, views of full records, a print, a change."""
    day = dt.datetime(2026, 11, 27, tzinfo=CHINA_TZ)
    rows = [
        (8, 2, "zhangsan", "张三", "前台1", AuditAction.SIGN_IN, None, ""),
        (8, 5, "liuxy", "刘秀英", "调解一室", AuditAction.SIGN_IN_FAILED, None, "密码不正确"),
        (8, 6, "liuxy", "刘秀英", "调解一室", AuditAction.SIGN_IN, None, ""),
        (8, 31, "zhangsan", "张三", "前台1", AuditAction.CHANGE, "620702001-2026-000481", "登记来访"),
        (8, 32, "zhangsan", "张三", "前台1", AuditAction.PRINT, "620702001-2026-000481", "回执（80 mm）"),
        (
            9,
            10,
            "liuxy",
            "刘秀英",
            "调解一室",
            AuditAction.VIEW_FULL,
            "620702001-2026-000481",
            "查看身份证号",
        ),
        (9, 44, "liuxy", "刘秀英", "调解一室", AuditAction.CHANGE, "620702001-2026-000481", "记录调解"),
        (9, 50, "zhaomin", "赵敏", "督办室", AuditAction.EXPORT, None, "督办清单 12 条"),
        (9, 52, "zhangsan", "张三", "前台1", AuditAction.REPRINT, "620702001-2026-000470", "回执补打"),
    ]
    entries = [
        FakeEntry(day.replace(hour=h, minute=m).astimezone(dt.UTC), login, name, term, action, case, detail)
        for h, m, login, name, term, action, case, detail in rows
    ]
    return FakeAudit(entries)
