"""The permissions table, written out again by hand: a change to desk/core/permissions.py must be made here too."""

from __future__ import annotations

import pytest

from desk.core.permissions import (
    ANONYMOUS,
    RULES,
    Action,
    Forbidden,
    Principal,
    Role,
    Scope,
    actor_label,
    actor_name,
    allowed,
    check,
    parse_roles,
)
from desk.errors import DeskError

D, M, S, A, C = "desk", "mediator", "supervisor", "admin", "caller"

BY_HAND: dict[str, set[str]] = {
    "register": {D},
    "route": {D, M},
    "search": {D, M, S},
    "view_case": {D, M, S},
    "view_full": {M, S},
    "print": {D, M, S},
    "call": {M, C},
    "claim": {M},
    "handle": {M, S},
    "extend": {S},
    "whistle": {M, S},
    "warnings": {S},
    "alert_banner": {D, M, S},
    "reports": {S},
    "audit": {S},
    "export": {S},
    "divert": {S},
    "rooms": {A},
    "users": {A},
    "settings": {A},
    "keys": {A},
    "sync": {D, M, S, A},
}


def person(*roles: str, rooms: tuple[str, ...] = (), login: str = "p") -> Principal:
    return Principal("u", login, "某人", frozenset(Role(r) for r in roles), "T1", frozenset(rooms))


def test_the_table_is_as_written_by_hand() -> None:
    assert {a.value: {r.value for r in roles} for a, roles in RULES.items()} == BY_HAND
    assert set(RULES) == set(Action)


@pytest.mark.parametrize("action", list(Action))
@pytest.mark.parametrize("role", list(Role))
def test_every_role_against_every_action(role: Role, action: Action) -> None:
    who = person(role.value)
    assert allowed(who, action) is (role.value in BY_HAND[action.value])
    if role.value in BY_HAND[action.value]:
        check(who, action)
    else:
        with pytest.raises(Forbidden, match="无权"):
            check(who, action)


def test_nobody_signed_in_may_do_nothing() -> None:
    for action in Action:
        with pytest.raises(Forbidden, match="请先登录"):
            check(ANONYMOUS, action)


def test_a_mediator_reaches_the_cases_of_their_rooms_and_those_they_claimed() -> None:
    mediator = person("mediator", rooms=("R01",), login="wang")
    assert allowed(mediator, Action.HANDLE, Scope("R01", None))
    assert allowed(mediator, Action.HANDLE, Scope("R02", "wang"))
    assert not allowed(mediator, Action.HANDLE, Scope("R02", "li"))
    assert not allowed(mediator, Action.VIEW_FULL, Scope(None, None))
    with pytest.raises(Forbidden, match="不在您所在的功能室"):
        check(mediator, Action.WHISTLE, Scope("R02", "li"))
    # a supervisor's right is not scoped; neither is a mediator who is also a supervisor
    assert allowed(person("supervisor"), Action.HANDLE, Scope("R02", "li"))
    assert allowed(person("mediator", "supervisor"), Action.HANDLE, Scope("R09", None))


def test_several_roles_add_up() -> None:
    both = person("desk", "mediator")
    assert allowed(both, Action.REGISTER) and allowed(both, Action.CLAIM)
    assert not allowed(both, Action.AUDIT)


def test_roles_parse_from_codes_and_labels() -> None:
    assert parse_roles(["desk,调解员", " Supervisor "]) == {Role.DESK, Role.MEDIATOR, Role.SUPERVISOR}
    with pytest.raises(DeskError, match="没有“boss”这个角色"):
        parse_roles(["boss"])


def test_the_actor_label_names_the_person_the_login_and_the_terminal() -> None:
    label = actor_label("张三", "zhangsan", "调解一室")
    assert label == "张三（zhangsan）@调解一室" and actor_name(label) == "张三"
    assert actor_name("前台") == "前台"
    assert len(actor_label("名" * 40, "x" * 32, "终" * 60)) == 120
