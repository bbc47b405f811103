"""Who is signed in: accounts, sign-in with lockout, unlocking the idle screen, the mediator's switch at a room
terminal, and the admin's user management.

A sign-in refused says the same for an unknown login and a wrong password ("用户名或密码不正确"), and an unknown
login costs one Argon2 verify like a known one. Five failures in a row lock the account for 15 minutes; while it
is locked even the right password is refused; a success resets the count. Every attempt is audited with the login
typed (when it could be a login), never the secret.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from desk.core.audit import AuditAction
from desk.core.clock import CHINA_TZ
from desk.core.permissions import ANONYMOUS, Action, Principal, Role, parse_roles
from desk.core.text import clean, collapse_spaces
from desk.errors import DeskError, FieldProblem, NotFound, ValidationError
from desk.security.passwords import (
    check_password,
    check_pin,
    decoy_hash,
    hash_secret,
    looks_like_pin,
    needs_rehash,
    verify_secret,
)
from desk.services.base import HallUseCases
from desk.store.queries import users as users_q
from desk.store.queries.audit import record
from desk.store.queries.users import UserRecord

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from desk.core.clock import Clock
    from desk.security.vault import Vault
    from desk.store.session import Store

__all__ = ["AuthService", "SignInRefused", "UserView"]

logger = logging.getLogger(__name__)

MAX_FAILURES = 5
LOCK_MINUTES = 15
LOGIN_RE = re.compile(r"^[a-z0-9._-]{2,32}$")
NAME_MAX = 40
REFUSED = "用户名或密码不正确"
UNKNOWN_LOGIN = "?"  # what the audit records for a "login" that cannot be one (a password typed in its field)


class SignInRefused(DeskError):
    """A sign-in, unlock or switch refused: wrong login or secret, or the account locked. `locked_until` is set
    when the account is locked."""

    def __init__(self, message: str = REFUSED, *, locked_until: dt.datetime | None = None) -> None:
        super().__init__(message)
        self.locked_until = locked_until


@dataclass(frozen=True)
class UserView:
    """An account as the windows see it (no hashes). `locked_until` is None unless the lock still holds."""

    id: str
    login: str
    name: str
    roles: frozenset[Role]
    rooms: tuple[str, ...]
    active: bool
    locked_until: dt.datetime | None
    has_pin: bool

    @property
    def roles_label(self) -> str:
        return "、".join(r.label for r in Role if r in self.roles)


def _locked_message(until: dt.datetime) -> str:
    return f"账户已锁定，请于 {until.astimezone(CHINA_TZ):%H:%M} 后再试"


def normalise_login(login: str) -> str:
    return login.strip().lower()


def check_login(login: str) -> str:
    """The login as stored (lower case), or a `ValidationError`: 2-32 of a-z, 0-9, dot, underscore, hyphen."""
    value = normalise_login(login)
    if not LOGIN_RE.match(value):
        raise ValidationError.single("login", "用户名应为2至32个字符，只能用小写字母、数字和 . _ -")
    return value


def check_name(name: str) -> str:
    value = collapse_spaces(clean(name, what="姓名", field_name="name"))
    if not 1 <= len(value) <= NAME_MAX:
        raise ValidationError.single("name", f"姓名应为1至{NAME_MAX}个字")
    return value


def _roles_of(record: UserRecord) -> frozenset[Role]:
    out = set()
    for code in record.roles:
        try:
            out.add(Role(code))
        except ValueError:  # a role a newer version wrote: not granted here
            logger.warning("user %s has an unknown role %r", record.login, code)
    return frozenset(out)


class AuthService(HallUseCases):
    """Sign-in and accounts over one hall's store. `terminal` names this PC in the principals it signs in."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        *,
        principal: Principal = ANONYMOUS,
        terminal: str = "",
        vault: Vault | None = None,
    ) -> None:
        super().__init__(store, clock, principal=principal, vault=vault)
        self._terminal = terminal

    @property
    def terminal(self) -> str:
        return self._terminal

    # --- views ------------------------------------------------------------------------------------------

    def _view(self, r: UserRecord) -> UserView:
        locked = r.locked_until if r.locked_until is not None and r.locked_until > self.now() else None
        return UserView(
            id=r.id,
            login=r.login,
            name=r.name,
            roles=_roles_of(r),
            rooms=r.rooms,
            active=r.active,
            locked_until=locked,
            has_pin=bool(r.pin_hash),
        )

    def _principal_of(self, r: UserRecord) -> Principal:
        return Principal(
            user_id=r.id,
            login=r.login,
            name=r.name,
            roles=_roles_of(r),
            terminal=self._terminal,
            rooms=frozenset(r.rooms),
        )

    def _audit_as(
        self, s: Session, action: AuditAction, *, login: str, name: str = "", detail: str = ""
    ) -> None:
        """An audit entry naming `login` at this terminal (the sign-in's own rows: nobody is signed in yet)."""
        record(
            s,
            hall_code=self.hall_code_in(s),
            at=self.now(),
            login=login,
            user_name=name,
            terminal=self._terminal,
            action=action,
            detail=detail,
        )

    # --- first start ------------------------------------------------------------------------------------

    def has_users(self) -> bool:
        with self._store.read() as s:
            return users_q.has_users(s)

    def create_first_admin(
        self, login: str, name: str, password: str, *, roles: frozenset[Role] = frozenset({Role.ADMIN})
    ) -> UserView:
        """The first account, an admin (with `roles` besides, in a centre where one person does everything);
        refused once any account exists (then an admin adds users)."""
        clean_login, clean_name = self._check_identity(login, name)
        check_password(password, clean_login)
        hashed = hash_secret(password)
        with self._store.unit_of_work() as s:
            if users_q.has_users(s):
                raise DeskError("已有用户，不能再创建首个管理员；请由管理员添加用户")
            made = users_q.insert(
                s,
                login=clean_login,
                name=clean_name,
                roles=sorted(r.value for r in roles | {Role.ADMIN}),
                rooms=[],
                password_hash=hashed,
                pin_hash=None,
                now=self.now(),
            )
            self._audit_as(
                s, AuditAction.USERS, login=made.login, name=made.name, detail=f"创建首个管理员 {made.login}"
            )
        logger.info("first admin created")
        return self._view(made)

    # --- signing in -------------------------------------------------------------------------------------

    def sign_in(self, login: str, password: str) -> Principal:
        """The principal of `login` at this terminal, if `password` is theirs; else `SignInRefused`."""
        return self._authenticate(login, password, action=AuditAction.SIGN_IN, pin_allowed=False)

    def switch_on_duty(self, login: str, secret: str) -> Principal:
        """The mediator taking over this room terminal, by password or (if they have one) PIN."""
        detail = f"接替 {self.principal.login}" if self.principal.login else "上岗"
        return self._authenticate(
            login, secret, action=AuditAction.SWITCH, pin_allowed=True, success_detail=detail
        )

    def unlock(self, principal: Principal, secret: str) -> Principal:
        """Unlock the idle-locked screen: only `principal` themself, by password or PIN. The principal returned
        carries the account's roles and rooms as they are now."""
        if not principal.user_id:
            raise SignInRefused("请先登录")
        with self._store.read() as s:
            found = users_q.by_id(s, principal.user_id)
        if found is None:
            raise SignInRefused("该账户已不存在，请重新登录")
        return self._authenticate(found.login, secret, action=AuditAction.UNLOCK, pin_allowed=True)

    def _authenticate(
        self,
        login: str,
        secret: str,
        *,
        action: AuditAction,
        pin_allowed: bool,
        success_detail: str = "",
    ) -> Principal:
        typed = normalise_login(login)
        shown_login = typed if LOGIN_RE.match(typed) else UNKNOWN_LOGIN
        with self._store.read() as s:
            found = users_q.by_login(s, typed) if shown_login != UNKNOWN_LOGIN else None
        now = self.now()
        use_pin = pin_allowed and found is not None and bool(found.pin_hash) and looks_like_pin(secret)
        if found is None:
            verify_secret(decoy_hash(), secret)  # as slow as a known login
            self._refuse(shown_login, "", "未知用户名", action)
        assert found is not None
        if found.locked_until is not None and found.locked_until > now:
            with self._store.unit_of_work() as s:
                self._audit_as(
                    s, AuditAction.SIGN_IN_FAILED, login=found.login, name=found.name, detail="账户锁定期间"
                )
            raise SignInRefused(_locked_message(found.locked_until), locked_until=found.locked_until)
        hashed = found.pin_hash if use_pin else found.password_hash
        ok = verify_secret(hashed or "", secret)
        if ok and not found.active:
            self._refuse(found.login, found.name, "账户已停用", action)
        if not ok:
            self._fail(found, "PIN 码不正确" if use_pin else "密码不正确", action)
        with self._store.unit_of_work() as s:
            fresh = users_q.by_login(s, found.login, for_update=True)
            if fresh is None:
                raise SignInRefused()
            changes: dict[str, object] = {}
            if fresh.failed_count or fresh.locked_until is not None:
                changes.update(failed_count=0, locked_until=None)
            if not use_pin and needs_rehash(fresh.password_hash):
                changes["password_hash"] = hash_secret(secret)
            if changes:
                users_q.update(s, fresh.login, now, **changes)
            self._audit_as(s, action, login=fresh.login, name=fresh.name, detail=success_detail)
        logger.info("%s: %s", action.value, found.login)
        return self._principal_of(fresh)

    def _refuse(self, login: str, name: str, why: str, action: AuditAction) -> None:
        with self._store.unit_of_work() as s:
            self._audit_as(
                s, AuditAction.SIGN_IN_FAILED, login=login, name=name, detail=f"{action.label}：{why}"
            )
        raise SignInRefused()

    def _fail(self, found: UserRecord, why: str, action: AuditAction) -> None:
        """Count a failure of a known account; the fifth in a row locks it (and says until when)."""
        now = self.now()
        with self._store.unit_of_work() as s:
            fresh = users_q.by_login(s, found.login, for_update=True)
            if fresh is None:
                raise SignInRefused()
            count = fresh.failed_count + 1
            self._audit_as(
                s,
                AuditAction.SIGN_IN_FAILED,
                login=fresh.login,
                name=fresh.name,
                detail=f"{action.label}：{why}（连续第{count}次）",
            )
            if count < MAX_FAILURES:
                users_q.update(s, fresh.login, now, failed_count=count)
                locked = None
            else:
                locked = now + dt.timedelta(minutes=LOCK_MINUTES)
                users_q.update(s, fresh.login, now, failed_count=0, locked_until=locked)
                self._audit_as(
                    s,
                    AuditAction.LOCKED_OUT,
                    login=fresh.login,
                    name=fresh.name,
                    detail=f"连续{MAX_FAILURES}次失败，锁定{LOCK_MINUTES}分钟",
                )
        if locked is not None:
            logger.warning("account %s locked after %d failures", found.login, MAX_FAILURES)
            raise SignInRefused(_locked_message(locked), locked_until=locked)
        raise SignInRefused()

    def on_duty_candidates(self, room_code: str) -> list[UserView]:
        """Who may take over the terminal of `room_code`: active mediators serving that room, by name."""
        with self._store.read() as s:
            found = users_q.all_users(s)
        return sorted(
            (
                self._view(r)
                for r in found
                if r.active and Role.MEDIATOR.value in r.roles and room_code in r.rooms
            ),
            key=lambda v: (v.name, v.login),
        )

    def change_own_password(self, old: str, new: str) -> None:
        """The signed-in person's new password; `old` is checked (a wrong one counts as a failed sign-in)."""
        p = self.principal
        if not p.user_id:
            raise SignInRefused("请先登录")
        with self._store.read() as s:
            found = users_q.by_id(s, p.user_id)
        if found is None:
            raise SignInRefused("该账户已不存在，请重新登录")
        check_password(new, found.login)
        if new == old:
            raise ValidationError.single("password", "新密码不能与原密码相同")
        if found.locked_until is not None and found.locked_until > self.now():
            raise SignInRefused(_locked_message(found.locked_until), locked_until=found.locked_until)
        if not verify_secret(found.password_hash, old):
            self._fail(found, "原密码不正确", AuditAction.USERS)
        hashed = hash_secret(new)
        with self._store.unit_of_work() as s:
            users_q.update(s, found.login, self.now(), password_hash=hashed, failed_count=0)
            self.audit(s, AuditAction.USERS, detail=f"修改本人密码 {found.login}")

    # --- the admin's user management -----------------------------------------------------------------------

    def users(self) -> list[UserView]:
        self.guard(Action.USERS)
        with self._store.read() as s:
            return [self._view(r) for r in users_q.all_users(s)]

    def user(self, login: str) -> UserView:
        self.guard(Action.USERS)
        with self._store.read() as s:
            found = users_q.by_login(s, normalise_login(login))
        if found is None:
            raise NotFound(f"没有用户 {normalise_login(login)[:32]}")
        return self._view(found)

    def add_user(
        self,
        login: str,
        name: str,
        roles: Iterable[str],
        rooms: Iterable[str] = (),
        password: str = "",
        pin: str | None = None,
    ) -> UserView:
        self.guard(Action.USERS)
        problems: list[FieldProblem] = []
        clean_login = clean_name = ""
        role_set: frozenset[Role] = frozenset()
        try:
            clean_login = check_login(login)
        except ValidationError as e:
            problems += e.problems
        try:
            clean_name = check_name(name)
        except ValidationError as e:
            problems += e.problems
        try:
            role_set = self._check_roles(roles)
        except ValidationError as e:
            problems += e.problems
        try:
            check_password(password, clean_login or normalise_login(login))
        except ValidationError as e:
            problems += e.problems
        if pin is not None:
            try:
                check_pin(pin)
            except ValidationError as e:
                problems += e.problems
        with self._store.read() as s:
            room_list, room_problems = self._check_rooms(s, rooms)
            if clean_login and users_q.by_login(s, clean_login) is not None:
                problems.append(FieldProblem("login", f"用户名 {clean_login} 已被使用"))
        problems += room_problems
        if problems:
            raise ValidationError(problems)
        hashed = hash_secret(password)
        pin_hashed = hash_secret(pin) if pin is not None else None
        with self._store.unit_of_work() as s:
            if users_q.by_login(s, clean_login) is not None:
                raise ValidationError.single("login", f"用户名 {clean_login} 已被使用")
            made = users_q.insert(
                s,
                login=clean_login,
                name=clean_name,
                roles=[r.value for r in role_set],
                rooms=room_list,
                password_hash=hashed,
                pin_hash=pin_hashed,
                now=self.now(),
            )
            self.audit(
                s, AuditAction.USERS, detail=f"新增用户 {clean_login}（{_describe(role_set, room_list)}）"
            )
        logger.info("user added")
        return self._view(made)

    def update_user(
        self,
        login: str,
        *,
        name: str | None = None,
        roles: Iterable[str] | None = None,
        rooms: Iterable[str] | None = None,
        active: bool | None = None,
    ) -> UserView:
        """Change an account's name, roles, rooms or whether it may sign in. No change may leave the hall without
        an active admin (so the last admin can neither drop their role nor disable themself)."""
        self.guard(Action.USERS)
        changes: dict[str, object] = {}
        problems: list[FieldProblem] = []
        if name is not None:
            try:
                changes["name"] = check_name(name)
            except ValidationError as e:
                problems += e.problems
        role_set: frozenset[Role] | None = None
        if roles is not None:
            try:
                role_set = self._check_roles(roles)
                changes["roles"] = [r.value for r in role_set]
            except ValidationError as e:
                problems += e.problems
        if active is not None:
            changes["active"] = bool(active)
        with self._store.unit_of_work() as s:
            target = self._existing(s, login)
            if rooms is not None:
                room_list, room_problems = self._check_rooms(s, rooms)
                problems += room_problems
                changes["rooms"] = room_list
            if problems:
                raise ValidationError(problems)
            admins = set(users_q.active_admins(s))
            still_admin = (Role.ADMIN in role_set if role_set is not None else "admin" in target.roles) and (
                active if active is not None else target.active
            )
            if target.login in admins and not still_admin and admins == {target.login}:
                raise DeskError(
                    "不能取消最后一名在用系统管理员的管理员角色或停用其账户：请先为另一人授予系统管理员角色"
                )
            edited = users_q.update(s, target.login, self.now(), **changes)
            assert edited is not None
            self.audit(s, AuditAction.USERS, detail=_change_detail(target, edited))
        return self._view(edited)

    def set_password(self, login: str, password: str) -> None:
        """The admin sets a new password (a forgotten one); the account's failure count and lock are cleared."""
        self.guard(Action.USERS)
        with self._store.read() as s:
            target = self._existing(s, login)
        check_password(password, target.login)
        hashed = hash_secret(password)
        with self._store.unit_of_work() as s:
            users_q.update(
                s, target.login, self.now(), password_hash=hashed, failed_count=0, locked_until=None
            )
            self.audit(s, AuditAction.USERS, detail=f"重设密码 {target.login}")

    def set_pin(self, login: str, pin: str | None) -> None:
        """Give `login` a PIN for the room terminal's switch and the lock screen, or take it away (None)."""
        self.guard(Action.USERS)
        if pin is not None:
            check_pin(pin)
        hashed = hash_secret(pin) if pin is not None else None
        with self._store.unit_of_work() as s:
            target = self._existing(s, login)
            users_q.update(s, target.login, self.now(), pin_hash=hashed)
            what = "设置 PIN 码" if pin is not None else "取消 PIN 码"
            self.audit(s, AuditAction.USERS, detail=f"{what} {target.login}")

    def unlock_account(self, login: str) -> UserView:
        """Lift a lockout (and the failure count) before its 15 minutes are over."""
        self.guard(Action.USERS)
        with self._store.unit_of_work() as s:
            target = self._existing(s, login)
            edited = users_q.update(s, target.login, self.now(), failed_count=0, locked_until=None)
            assert edited is not None
            self.audit(s, AuditAction.USERS, detail=f"解除账户锁定 {target.login}")
        return self._view(edited)

    # --- checks ---------------------------------------------------------------------------------------------

    @staticmethod
    def _check_identity(login: str, name: str) -> tuple[str, str]:
        problems: list[FieldProblem] = []
        clean_login = clean_name = ""
        try:
            clean_login = check_login(login)
        except ValidationError as e:
            problems += e.problems
        try:
            clean_name = check_name(name)
        except ValidationError as e:
            problems += e.problems
        if problems:
            raise ValidationError(problems)
        return clean_login, clean_name

    @staticmethod
    def _check_roles(roles: Iterable[str]) -> frozenset[Role]:
        try:
            found = parse_roles(roles)
        except ValidationError:
            raise
        except DeskError as e:
            raise ValidationError.single("roles", e.message) from None
        if not found:
            raise ValidationError.single("roles", "请至少选择一个角色")
        return found

    def _check_rooms(self, s: Session, rooms: Iterable[str]) -> tuple[list[str], list[FieldProblem]]:
        known = {c.upper(): c for c in users_q.room_codes(s, self.hall_code_in(s))}
        out: list[str] = []
        unknown: list[str] = []
        for raw in rooms:
            for part in str(raw).replace("，", ",").split(","):
                code = part.strip()
                if not code:
                    continue
                stored = known.get(code.upper())
                if stored is None:
                    unknown.append(code[:12])
                elif stored not in out:
                    out.append(stored)
        if unknown:
            return out, [FieldProblem("rooms", f"没有这些功能室：{'、'.join(unknown)}")]
        return out, []

    def _existing(self, s: Session, login: str) -> UserRecord:
        found = users_q.by_login(s, normalise_login(login))
        if found is None:
            raise NotFound(f"没有用户 {normalise_login(login)[:32]}")
        return found


def _describe(roles: frozenset[Role], rooms: Iterable[str]) -> str:
    text = "角色：" + "、".join(r.label for r in Role if r in roles)
    rooms = list(rooms)
    if rooms:
        text += "；功能室：" + "、".join(rooms)
    return text


def _change_detail(before: UserRecord, after: UserRecord) -> str:
    parts: list[str] = []
    if before.name != after.name:
        parts.append("姓名")
    if set(before.roles) != set(after.roles):
        labels = "、".join(r.label for r in Role if r.value in after.roles)
        parts.append(f"角色改为{labels}")
    if before.rooms != after.rooms:
        parts.append("功能室改为" + ("、".join(after.rooms) or "无"))
    if before.active != after.active:
        parts.append("启用" if after.active else "停用")
    return f"修改用户 {after.login}：" + ("，".join(parts) or "无变化")
