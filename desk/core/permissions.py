"""Who may do what: the roles, the actions of the services, and the one table that joins them.

Every service checks its caller here before it reads or writes (`check`); the windows hide what a role cannot do,
but the services are where the rule holds. A person may hold several roles. A mediator's rights over a case are
scoped: they reach the cases their rooms hold and the cases they claimed (`Scope`); a supervisor's are not.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from desk.errors import DeskError


class Role(StrEnum):
    DESK = "desk"
    MEDIATOR = "mediator"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"
    CALLER = "caller"
    """A terminal account (the hall's hardware call buttons): it may call the next visitor and nothing else."""

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]


ROLE_LABELS: dict[Role, str] = {
    Role.DESK: "前台登记员",
    Role.MEDIATOR: "调解员",
    Role.SUPERVISOR: "督办主管",
    Role.ADMIN: "系统管理员",
    Role.CALLER: "叫号终端",
}


class Action(StrEnum):
    """What a service does on someone's behalf. The label says it in the words of a refusal."""

    REGISTER = "register"
    ROUTE = "route"
    SEARCH = "search"
    VIEW_CASE = "view_case"
    VIEW_FULL = "view_full"
    PRINT = "print"
    CALL = "call"
    CLAIM = "claim"
    HANDLE = "handle"
    EXTEND = "extend"
    WHISTLE = "whistle"
    WARNINGS = "warnings"
    ALERT_BANNER = "alert_banner"
    REPORTS = "reports"
    AUDIT = "audit"
    EXPORT = "export"
    DIVERT = "divert"
    ROOMS = "rooms"
    USERS = "users"
    SETTINGS = "settings"
    KEYS = "keys"
    SYNC = "sync"

    @property
    def label(self) -> str:
        return ACTION_LABELS[self]


ACTION_LABELS: dict[Action, str] = {
    Action.REGISTER: "登记来访",
    Action.ROUTE: "分流取号",
    Action.SEARCH: "查询案件",
    Action.VIEW_CASE: "查看案件",
    Action.VIEW_FULL: "查看完整身份信息",
    Action.PRINT: "打印文书",
    Action.CALL: "叫号",
    Action.CLAIM: "接待来访",
    Action.HANDLE: "办理案件",
    Action.EXTEND: "批准延期",
    Action.WHISTLE: "吹哨报到",
    Action.WARNINGS: "处理预警",
    Action.ALERT_BANNER: "接收重大预警提示",
    Action.REPORTS: "查看统计与督办清单",
    Action.AUDIT: "查阅审计日志",
    Action.EXPORT: "导出数据",
    Action.DIVERT: "上级分流",
    Action.ROOMS: "管理功能室与调解员",
    Action.USERS: "管理用户",
    Action.SETTINGS: "修改设置",
    Action.KEYS: "管理密钥",
    Action.SYNC: "与县级同步",
}

D, M, S, A, C = Role.DESK, Role.MEDIATOR, Role.SUPERVISOR, Role.ADMIN, Role.CALLER

RULES: dict[Action, frozenset[Role]] = {
    Action.REGISTER: frozenset({D}),
    Action.ROUTE: frozenset({D, M}),
    Action.SEARCH: frozenset({D, M, S}),
    Action.VIEW_CASE: frozenset({D, M, S}),
    Action.VIEW_FULL: frozenset({M, S}),
    Action.PRINT: frozenset({D, M, S}),
    Action.CALL: frozenset({M, C}),
    Action.CLAIM: frozenset({M}),
    Action.HANDLE: frozenset({M, S}),
    Action.EXTEND: frozenset({S}),
    Action.WHISTLE: frozenset({M, S}),
    Action.WARNINGS: frozenset({S}),
    Action.ALERT_BANNER: frozenset({D, M, S}),
    Action.REPORTS: frozenset({S}),
    Action.AUDIT: frozenset({S}),
    Action.EXPORT: frozenset({S}),
    Action.DIVERT: frozenset({S}),
    Action.ROOMS: frozenset({A}),
    Action.USERS: frozenset({A}),
    Action.SETTINGS: frozenset({A}),
    Action.KEYS: frozenset({A}),
    Action.SYNC: frozenset({D, M, S, A}),
}
"""The one table: which roles may take each action. `tests/core/test_permissions.py` writes it out again by hand,
and `tests/services/test_permissions.py` tries every role against every service action."""

SCOPED: dict[Action, frozenset[Role]] = {
    Action.VIEW_FULL: frozenset({M}),
    Action.HANDLE: frozenset({M}),
    Action.WHISTLE: frozenset({M}),
}
"""Actions whose right, when it comes from these roles, reaches only the cases in scope (see `Scope`)."""


@dataclass(frozen=True)
class Scope:
    """Where a case is, for a scoped right: the room that holds it and the login of who claimed it."""

    room_code: str | None = None
    claimed_by: str | None = None


@dataclass(frozen=True)
class Principal:
    """Who is signed in, at which terminal. `rooms` are the rooms a mediator serves."""

    user_id: str
    login: str
    name: str
    roles: frozenset[Role] = frozenset()
    terminal: str = ""
    rooms: frozenset[str] = field(default_factory=frozenset)

    @property
    def actor(self) -> str:
        """How the events and the audit name this person: name, login and terminal (``张三（zhangsan）@调解一室``)."""
        return actor_label(self.name, self.login, self.terminal)

    def holds(self, role: Role) -> bool:
        return role in self.roles

    def may(self, action: Action, scope: Scope | None = None) -> bool:
        return allowed(self, action, scope)

    def at(self, terminal: str) -> Principal:
        """The same person at another terminal."""
        return Principal(self.user_id, self.login, self.name, self.roles, terminal, self.rooms)


ANONYMOUS = Principal("", "", "未登录")
"""Nobody signed in: every action of the table is refused."""


def actor_label(name: str, login: str, terminal: str = "") -> str:
    """``张三（zhangsan）@调解一室``; the parts that are empty are left out. At most 120 characters."""
    text = f"{name}（{login}）" if login else name
    if terminal:
        text = f"{text}@{terminal}"
    return text[:120]


def in_scope(principal: Principal, scope: Scope) -> bool:
    return (scope.room_code is not None and scope.room_code in principal.rooms) or (
        bool(principal.login) and scope.claimed_by == principal.login
    )


def allowed(principal: Principal, action: Action, scope: Scope | None = None) -> bool:
    """Whether `principal` may take `action` (on the case at `scope`, for a scoped right).

    With no scope given a scoped right counts as held: lists and searches then show only what is in scope."""
    granting = RULES[action] & principal.roles
    if not granting:
        return False
    unscoped = granting - SCOPED.get(action, frozenset())
    if unscoped or scope is None:
        return True
    return in_scope(principal, scope)


class Forbidden(DeskError):
    """The signed-in person may not do this. The message names the action and the roles that may."""

    def __init__(self, action: Action, principal: Principal, scoped: bool = False) -> None:
        self.action = action
        if not principal.login:
            message = f"请先登录，再{action.label}"
        elif scoped:
            message = f"无权{action.label}：此案件不在您所在的功能室，也不是您认领的"
        else:
            may = "、".join(r.label for r in Role if r in RULES[action])
            message = f"无权{action.label}：需要{may}角色"
        super().__init__(message)


def check(principal: Principal, action: Action, scope: Scope | None = None) -> None:
    """Raise `Forbidden` unless `principal` may take `action` (on the case at `scope`)."""
    if allowed(principal, action, scope):
        return
    scoped = bool(RULES[action] & principal.roles)
    raise Forbidden(action, principal, scoped=scoped)


def parse_roles(values: Iterable[str]) -> frozenset[Role]:
    """Roles from their codes (``desk,mediator``) or their Chinese labels; an unknown one is a `DeskError`."""
    by_label = {r.label: r for r in Role}
    out: set[Role] = set()
    for raw in values:
        for part in str(raw).replace("，", ",").split(","):
            text = part.strip()
            if not text:
                continue
            if text in by_label:
                out.add(by_label[text])
                continue
            try:
                out.add(Role(text.lower()))
            except ValueError:
                known = "、".join(f"{r.value}（{r.label}）" for r in Role)
                raise DeskError(f"没有“{text}”这个角色；可选：{known}") from None
    return frozenset(out)


def operator(name: str = "系统", terminal: str = "") -> Principal:
    """Every role but the call button's, as login "system": for the demo day `desk init --demo` adds, the
    benchmarks and the screenshot tools. Never given to a window or a command someone signs in to."""
    return Principal("system", "system", name, frozenset(Role) - {Role.CALLER}, terminal)


def actor_name(actor: str) -> str:
    """The person's name out of an actor label (``张三（zhangsan）@调解一室`` -> ``张三``), for paper and screens
    that name who did something; older events' plain names come back as they are."""
    return actor.split("（", 1)[0].split("@", 1)[0]
