"""Sign-in and accounts: the first admin, sign-in and lockout, unlocking the idle screen, the mediator's switch
at a room terminal, and the admin's user management with its audit rows (never a secret in them)."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
import sqlalchemy as sa

from desk.core.clock import FixedClock
from desk.core.permissions import ANONYMOUS, Forbidden, Principal, Role
from desk.errors import DeskError, NotFound, ValidationError
from desk.security.passwords import (
    check_password,
    check_pin,
    hash_secret,
    needs_rehash,
    verify_secret,
)
from desk.services.auth import REFUSED, AuthService, SignInRefused, UserView
from desk.store.models import AuditRow, UserRow
from desk.store.queries import users as users_q
from desk.store.session import Store

PASSWORD = "qiao-men-2026"
ADMIN_PASSWORD = "guan-li-yuan-9"
PIN = "4826"
# Hashed once for the module: each Argon2id hash costs ~30-50 ms.
PASSWORD_HASH = hash_secret(PASSWORD)
ADMIN_HASH = hash_secret(ADMIN_PASSWORD)
PIN_HASH = hash_secret(PIN)
TERMINAL = "R01-终端1"


@pytest.fixture(autouse=True)
def _no_test_user(request: pytest.FixtureRequest) -> None:
    """These tests start from a store with no account (the first admin is theirs to make): the test user the
    store fixtures add is taken out again."""
    for name in ("store", "sqlite_store"):
        if name in request.fixturenames:
            store: Store = request.getfixturevalue(name)
            with store.unit_of_work() as s:
                s.execute(sa.delete(UserRow).where(UserRow.login == "tester"))


def seed_user(
    store: Store,
    clock: FixedClock,
    login: str,
    *,
    name: str = "张三",
    roles: tuple[str, ...] = ("mediator",),
    rooms: tuple[str, ...] = ("R01",),
    password_hash: str = PASSWORD_HASH,
    pin_hash: str | None = None,
) -> users_q.UserRecord:
    with store.unit_of_work() as s:
        return users_q.insert(
            s,
            login=login,
            name=name,
            roles=roles,
            rooms=rooms,
            password_hash=password_hash,
            pin_hash=pin_hash,
            now=clock.now(),
        )


def as_principal(r: users_q.UserRecord, terminal: str = "") -> Principal:
    return Principal(r.id, r.login, r.name, frozenset(Role(x) for x in r.roles), terminal, frozenset(r.rooms))


def audit_rows(store: Store) -> list[tuple[str, str, str, str]]:
    """(action, login, terminal, detail) of every entry, in order."""
    with store.read() as s:
        rows = s.execute(
            sa.select(AuditRow.action, AuditRow.login, AuditRow.terminal, AuditRow.detail).order_by(
                AuditRow.hall_seq
            )
        ).all()
    return [tuple(r) for r in rows]  # type: ignore[misc]


def secrets_absent(store: Store, *secrets: str) -> None:
    """No audit row, in any column, holds one of `secrets`."""
    with store.read() as s:
        texts = [" ".join(str(v) for v in r) for r in s.execute(sa.select(AuditRow.__table__)).all()]
    assert texts
    for secret in secrets:
        assert not any(secret in t for t in texts)


@pytest.fixture
def auth(sqlite_store: Store, clock: FixedClock) -> AuthService:
    return AuthService(sqlite_store, clock, terminal=TERMINAL)


@pytest.fixture
def admin(sqlite_store: Store, clock: FixedClock) -> AuthService:
    r = seed_user(
        sqlite_store, clock, "admin", name="管理员", roles=("admin",), rooms=(), password_hash=ADMIN_HASH
    )
    return AuthService(sqlite_store, clock, principal=as_principal(r, "前台1"), terminal="前台1")


# --- passwords -------------------------------------------------------------------------------------------


def test_argon2id_with_the_owasp_parameters() -> None:
    assert PASSWORD_HASH.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert verify_secret(PASSWORD_HASH, PASSWORD)
    assert not verify_secret(PASSWORD_HASH, PASSWORD + "x")
    assert not verify_secret("not a hash", PASSWORD)
    assert not verify_secret("", PASSWORD)
    assert not needs_rehash(PASSWORD_HASH)
    weaker = "$argon2id$v=19$m=8192,t=1,p=1$c2FsdHNhbHRzYWx0$" + "A" * 43
    assert needs_rehash(weaker)


@pytest.mark.parametrize(
    ("password", "login", "message"),
    [
        ("short1", "", "至少8个字符"),
        ("12345678", "", "全是数字"),
        ("zhangsan", "zhangsan", "与用户名相同"),
        ("ZhangSan", "zhangsan", "与用户名相同"),
        ("        ", "", "空格"),
        ("x" * 129, "", "最多128"),
    ],
)
def test_password_rules(password: str, login: str, message: str) -> None:
    with pytest.raises(DeskError, match=message):
        check_password(password, login)


def test_good_password_and_pin_rules() -> None:
    check_password("qiao-men-2026", "zhangsan")
    check_pin("0000")
    check_pin("12345678")
    for bad in ("123", "123456789", "12a4", "１２３４", ""):
        with pytest.raises(DeskError, match="PIN 码应为4至8位数字"):
            check_pin(bad)


# --- first admin -----------------------------------------------------------------------------------------


def test_first_admin_only_once(auth: AuthService) -> None:
    assert not auth.has_users()
    v = auth.create_first_admin(" Admin ", "王 管理", ADMIN_PASSWORD)
    assert isinstance(v, UserView)
    assert (v.login, v.name, v.roles, v.active, v.has_pin) == (
        "admin",
        "王 管理",
        frozenset({Role.ADMIN}),
        True,
        False,
    )
    assert auth.has_users()
    with pytest.raises(DeskError, match="已有用户"):
        auth.create_first_admin("second", "李四", ADMIN_PASSWORD)
    p = auth.sign_in("ADMIN", ADMIN_PASSWORD)
    assert p.holds(Role.ADMIN) and p.terminal == TERMINAL
    assert [a for a, *_ in audit_rows(auth._store)] == ["users", "sign_in"]


def test_first_admin_checks_its_fields(auth: AuthService) -> None:
    with pytest.raises(ValidationError) as e:
        auth.create_first_admin("张三", "", ADMIN_PASSWORD)
    assert {p.field for p in e.value.problems} == {"login", "name"}
    with pytest.raises(ValidationError, match="全是数字"):
        auth.create_first_admin("admin", "管理员", "12345678")
    assert not auth.has_users()


# --- sign-in and lockout ----------------------------------------------------------------------------------


def test_sign_in_gives_the_principal(sqlite_store: Store, clock: FixedClock, auth: AuthService) -> None:
    r = seed_user(sqlite_store, clock, "zhangsan", roles=("mediator", "desk"), rooms=("R01", "R02"))
    p = auth.sign_in("ZhangSan ", PASSWORD)
    assert p == Principal(
        r.id, "zhangsan", "张三", frozenset({Role.MEDIATOR, Role.DESK}), TERMINAL, frozenset({"R01", "R02"})
    )
    assert p.actor == "张三（zhangsan）@R01-终端1"
    assert audit_rows(sqlite_store) == [("sign_in", "zhangsan", TERMINAL, "")]


def test_unknown_login_and_wrong_password_are_refused_alike(
    sqlite_store: Store, clock: FixedClock, auth: AuthService
) -> None:
    seed_user(sqlite_store, clock, "zhangsan")
    with pytest.raises(SignInRefused) as unknown:
        auth.sign_in("nobody", PASSWORD)
    with pytest.raises(SignInRefused) as wrong:
        auth.sign_in("zhangsan", "wrong-password")
    assert unknown.value.message == wrong.value.message == REFUSED == "用户名或密码不正确"
    # a "login" that cannot be one (a password typed in the wrong field) is not recorded
    with pytest.raises(SignInRefused):
        auth.sign_in("Secret Pass!", PASSWORD)
    rows = audit_rows(sqlite_store)
    assert [(a, login) for a, login, *_ in rows] == [
        ("sign_in_failed", "nobody"),
        ("sign_in_failed", "zhangsan"),
        ("sign_in_failed", "?"),
    ]
    secrets_absent(sqlite_store, PASSWORD, "wrong-password", "Secret Pass!")


def test_five_failures_lock_for_fifteen_minutes(
    sqlite_store: Store, clock: FixedClock, auth: AuthService
) -> None:
    seed_user(sqlite_store, clock, "zhangsan")
    for _ in range(4):
        with pytest.raises(SignInRefused, match=REFUSED):
            auth.sign_in("zhangsan", "wrong-password")
    # 10:00 China time + 15 minutes
    with pytest.raises(SignInRefused, match="账户已锁定，请于 10:15 后再试") as locked:
        auth.sign_in("zhangsan", "wrong-password")
    assert locked.value.locked_until == clock.now() + dt.timedelta(minutes=15)
    # refused while locked, even with the right password
    clock.advance(minutes=14)
    with pytest.raises(SignInRefused, match="10:15"):
        auth.sign_in("zhangsan", PASSWORD)
    clock.advance(minutes=1)
    assert auth.sign_in("zhangsan", PASSWORD).login == "zhangsan"
    actions = [a for a, *_ in audit_rows(sqlite_store)]
    assert actions == ["sign_in_failed"] * 5 + ["locked_out", "sign_in_failed", "sign_in"]


def test_success_resets_the_count(sqlite_store: Store, clock: FixedClock, auth: AuthService) -> None:
    seed_user(sqlite_store, clock, "zhangsan")
    for _ in range(4):
        with pytest.raises(SignInRefused):
            auth.sign_in("zhangsan", "wrong-password")
    auth.sign_in("zhangsan", PASSWORD)
    for _ in range(4):
        with pytest.raises(SignInRefused, match=REFUSED):
            auth.sign_in("zhangsan", "wrong-password")
    with sqlite_store.read() as s:
        r = users_q.by_login(s, "zhangsan")
    assert r is not None and r.failed_count == 4 and r.locked_until is None


def test_a_disabled_account_is_refused_like_a_wrong_password(
    sqlite_store: Store, clock: FixedClock, auth: AuthService, admin: AuthService
) -> None:
    seed_user(sqlite_store, clock, "zhangsan")
    admin.update_user("zhangsan", active=False)
    with pytest.raises(SignInRefused, match=REFUSED):
        auth.sign_in("zhangsan", PASSWORD)
    assert audit_rows(sqlite_store)[-1][3].endswith("账户已停用")


def test_an_old_hash_is_replaced_on_sign_in(
    sqlite_store: Store, clock: FixedClock, auth: AuthService
) -> None:
    from argon2 import PasswordHasher

    old = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORD)
    seed_user(sqlite_store, clock, "zhangsan", password_hash=old)
    auth.sign_in("zhangsan", PASSWORD)
    with sqlite_store.read() as s:
        r = users_q.by_login(s, "zhangsan")
    assert r is not None and r.password_hash.startswith("$argon2id$v=19$m=19456,t=2,p=1$")


# --- the lock screen and the switch -----------------------------------------------------------------------


def test_unlock_with_the_same_users_password_or_pin(
    sqlite_store: Store, clock: FixedClock, auth: AuthService
) -> None:
    r = seed_user(sqlite_store, clock, "zhangsan", pin_hash=PIN_HASH)
    seed_user(sqlite_store, clock, "lisi", name="李四")
    me = auth.sign_in("zhangsan", PASSWORD)
    assert auth.unlock(me, PASSWORD) == me
    assert auth.unlock(me, PIN).login == "zhangsan"
    # another user's password does not unlock my screen
    with pytest.raises(SignInRefused, match=REFUSED):
        auth.unlock(me, "lisi-password")
    with pytest.raises(SignInRefused, match="请先登录"):
        auth.unlock(ANONYMOUS, PASSWORD)
    # the roles as they are now
    with sqlite_store.unit_of_work() as s:
        users_q.update(s, "zhangsan", clock.now(), roles=["mediator", "supervisor"])
    assert auth.unlock(as_principal(r), PASSWORD).roles == {Role.MEDIATOR, Role.SUPERVISOR}
    actions = [a for a, *_ in audit_rows(sqlite_store)]
    assert actions == ["sign_in", "unlock", "unlock", "sign_in_failed", "unlock"]


def test_unlock_failures_count_and_lock(sqlite_store: Store, clock: FixedClock, auth: AuthService) -> None:
    r = seed_user(sqlite_store, clock, "zhangsan")
    for _ in range(4):
        with pytest.raises(SignInRefused, match=REFUSED):
            auth.unlock(as_principal(r), "wrong-password")
    with pytest.raises(SignInRefused, match="账户已锁定"):
        auth.unlock(as_principal(r), "wrong-password")
    with pytest.raises(SignInRefused, match="账户已锁定"):
        auth.unlock(as_principal(r), PASSWORD)


def test_switch_on_duty_by_pin_or_password(sqlite_store: Store, clock: FixedClock) -> None:
    zhang = seed_user(sqlite_store, clock, "zhangsan", pin_hash=PIN_HASH)
    seed_user(sqlite_store, clock, "lisi", name="李四")  # no PIN
    terminal = AuthService(sqlite_store, clock, principal=as_principal(zhang, TERMINAL), terminal=TERMINAL)
    assert terminal.switch_on_duty("lisi", PASSWORD).login == "lisi"
    # a PIN only for who has one
    with pytest.raises(SignInRefused, match=REFUSED):
        terminal.switch_on_duty("lisi", PIN)
    assert terminal.switch_on_duty("zhangsan", PIN).login == "zhangsan"
    # the PIN does not sign in at the sign-in dialog
    with pytest.raises(SignInRefused):
        terminal.sign_in("zhangsan", PIN)
    rows = audit_rows(sqlite_store)
    assert rows[0] == ("switch", "lisi", TERMINAL, "接替 zhangsan")
    assert [a for a, *_ in rows] == ["switch", "sign_in_failed", "switch", "sign_in_failed"]
    secrets_absent(sqlite_store, PIN, PASSWORD)


def test_on_duty_candidates(
    sqlite_store: Store, clock: FixedClock, auth: AuthService, admin: AuthService
) -> None:
    seed_user(sqlite_store, clock, "zhangsan", name="张三", rooms=("R01",))
    seed_user(sqlite_store, clock, "lisi", name="李四", rooms=("R01", "R02"))
    seed_user(sqlite_store, clock, "wangwu", name="王五", rooms=("R02",))
    seed_user(sqlite_store, clock, "desk1", name="赵六", roles=("desk",), rooms=("R01",))
    seed_user(sqlite_store, clock, "gone", name="钱七", rooms=("R01",))
    admin.update_user("gone", active=False)
    assert [v.login for v in auth.on_duty_candidates("R01")] == ["zhangsan", "lisi"]  # by name
    assert [v.login for v in auth.on_duty_candidates("R02")] == ["lisi", "wangwu"]
    assert auth.on_duty_candidates("R09") == []


# --- the admin's user management ---------------------------------------------------------------------------


def test_admin_adds_and_edits_users(
    sqlite_store: Store, clock: FixedClock, admin: AuthService, auth: AuthService
) -> None:
    v = admin.add_user("ZhangSan", "张三", ["mediator", "督办主管"], ["r01", "R02"], PASSWORD, pin=PIN)
    assert v.login == "zhangsan" and v.roles == {Role.MEDIATOR, Role.SUPERVISOR}
    assert v.rooms == ("R01", "R02") and v.has_pin and v.locked_until is None
    assert [u.login for u in admin.users()] == ["admin", "zhangsan"]
    with pytest.raises(ValidationError, match="已被使用"):
        admin.add_user("zhangsan", "张三", ["desk"], [], PASSWORD)
    e = admin.update_user("zhangsan", name="张 三", roles=["desk"], rooms=[], active=True)
    assert (e.name, e.roles, e.rooms) == ("张 三", frozenset({Role.DESK}), ())
    admin.set_password("zhangsan", "new-password-1")
    assert auth.sign_in("zhangsan", "new-password-1").roles == {Role.DESK}
    admin.set_pin("zhangsan", None)
    assert not admin.user("zhangsan").has_pin
    details = [d for a, _, _, d in audit_rows(sqlite_store) if a == "users"]
    assert details[0] == "新增用户 zhangsan（角色：调解员、督办主管；功能室：R01、R02）"
    assert details[1].startswith("修改用户 zhangsan：姓名，角色改为前台登记员，功能室改为无")
    assert details[2:] == ["重设密码 zhangsan", "取消 PIN 码 zhangsan"]
    assert {login for a, login, _, _ in audit_rows(sqlite_store) if a == "users"} == {"admin"}
    secrets_absent(sqlite_store, PASSWORD, PIN, "new-password-1")


def test_add_user_reports_every_problem(admin: AuthService) -> None:
    with pytest.raises(ValidationError) as e:
        admin.add_user("x", "", ["boss"], ["R99"], "12345678", pin="12")
    fields = sorted(p.field for p in e.value.problems)
    assert fields == ["login", "name", "password", "pin", "roles", "rooms"]
    with pytest.raises(ValidationError, match="至少选择一个角色"):
        admin.add_user("zhangsan", "张三", [], [], PASSWORD)


def test_the_last_active_admin_stays(sqlite_store: Store, clock: FixedClock, admin: AuthService) -> None:
    with pytest.raises(DeskError, match="最后一名在用系统管理员"):
        admin.update_user("admin", roles=["supervisor"])
    with pytest.raises(DeskError, match="最后一名在用系统管理员"):
        admin.update_user("admin", active=False)
    admin.add_user("second", "第二管理员", ["admin"], [], PASSWORD)
    assert admin.update_user("admin", roles=["admin", "supervisor"]).roles == {Role.ADMIN, Role.SUPERVISOR}
    admin.update_user("second", active=False)
    with pytest.raises(DeskError, match="最后一名"):
        admin.update_user("admin", roles=["desk"])


def test_unlock_account(
    sqlite_store: Store, clock: FixedClock, admin: AuthService, auth: AuthService
) -> None:
    seed_user(sqlite_store, clock, "zhangsan")
    for _ in range(5):
        with pytest.raises(SignInRefused):
            auth.sign_in("zhangsan", "wrong-password")
    assert admin.user("zhangsan").locked_until is not None
    assert admin.unlock_account("zhangsan").locked_until is None
    assert auth.sign_in("zhangsan", PASSWORD).login == "zhangsan"
    with pytest.raises(NotFound, match="没有用户 nobody"):
        admin.unlock_account("nobody")


def test_change_own_password(sqlite_store: Store, clock: FixedClock) -> None:
    r = seed_user(sqlite_store, clock, "zhangsan")
    me = AuthService(sqlite_store, clock, principal=as_principal(r, TERMINAL), terminal=TERMINAL)
    with pytest.raises(SignInRefused, match=REFUSED):
        me.change_own_password("wrong-password", "brand-new-pw")
    with pytest.raises(ValidationError, match="与用户名相同"):
        me.change_own_password(PASSWORD, "zhangsan")
    me.change_own_password(PASSWORD, "brand-new-pw")
    assert me.sign_in("zhangsan", "brand-new-pw").login == "zhangsan"
    with pytest.raises(SignInRefused, match="请先登录"):
        AuthService(sqlite_store, clock).change_own_password(PASSWORD, "brand-new-pw")
    assert ("users", "zhangsan", TERMINAL, "修改本人密码 zhangsan") in audit_rows(sqlite_store)


@pytest.mark.parametrize("role", [r for r in Role if r is not Role.ADMIN])
def test_user_management_needs_an_admin(sqlite_store: Store, clock: FixedClock, role: Role) -> None:
    p = Principal("u1", "someone", "某人", frozenset({role}), "", frozenset())
    svc = AuthService(sqlite_store, clock, principal=p)
    for call in (
        svc.users,
        lambda: svc.add_user("zhangsan", "张三", ["desk"], [], PASSWORD),
        lambda: svc.update_user("admin", active=False),
        lambda: svc.set_password("admin", PASSWORD),
        lambda: svc.set_pin("admin", PIN),
        lambda: svc.unlock_account("admin"),
    ):
        with pytest.raises(Forbidden, match="需要系统管理员角色"):
            call()


def test_user_view_is_frozen_and_has_no_hashes() -> None:
    fields = {f.name for f in dataclasses.fields(UserView)}
    assert fields == {"id", "login", "name", "roles", "rooms", "active", "locked_until", "has_pin"}
    assert dataclasses.is_dataclass(UserView) and UserView.__dataclass_params__.frozen  # type: ignore[attr-defined]


@pytest.mark.postgres
def test_sign_in_and_lockout_on_postgresql(store: Store, clock: FixedClock) -> None:
    if store.dialect != "postgresql":
        pytest.skip("the SQLite case is the tests above")
    seed_user(store, clock, "zhangsan")
    auth = AuthService(store, clock, terminal=TERMINAL)
    for _ in range(4):
        with pytest.raises(SignInRefused, match=REFUSED):
            auth.sign_in("zhangsan", "wrong-password")
    with pytest.raises(SignInRefused, match="账户已锁定"):
        auth.sign_in("zhangsan", "wrong-password")
    clock.advance(minutes=15)
    assert auth.sign_in("zhangsan", PASSWORD).login == "zhangsan"
    with store.read() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(UserRow)) == 1
