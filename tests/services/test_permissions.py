"""Every role against every service action: the services refuse (`Forbidden`) exactly what the one table in
desk/core/permissions.py does not allow, whatever the windows show. A refusal writes nothing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
import sqlalchemy as sa

from desk.core.clock import FixedClock
from desk.core.permissions import RULES, Action, Forbidden, Principal, Role
from desk.errors import DeskError
from desk.services import Services, build_services
from desk.services.county import seed_departments
from desk.store.models import AuditRow, CaseEvent
from desk.store.session import Store
from tests.conftest import staff, visit

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@dataclass
class World:
    case_no: str
    other_case_no: str
    ticket_id: str
    whistle_id: str
    warning_id: str


Call = Callable[[Services, World], Any]

# (name, the action the table names for it, the call)
CALLS: list[tuple[str, Action, Call]] = [
    ("registration.register", Action.REGISTER, lambda s, w: s.registration.register(visit(), new_case=True)),
    ("registration.search", Action.SEARCH, lambda s, w: s.registration.search("张三")),
    (
        "registration.person_cases",
        Action.SEARCH,
        lambda s, w: s.registration.person_cases(phone="13912345678"),
    ),
    ("registration.case", Action.VIEW_CASE, lambda s, w: s.registration.case(w.case_no)),
    ("queue.loads", Action.ROUTE, lambda s, w: s.queue.loads()),
    ("queue.propose", Action.ROUTE, lambda s, w: s.queue.propose(w.other_case_no)),
    ("queue.issue_ticket", Action.ROUTE, lambda s, w: s.queue.issue_ticket(w.other_case_no, room_code="R01")),
    ("queue.booked_today", Action.ROUTE, lambda s, w: s.queue.booked_today()),
    ("queue.diverted_cases", Action.ROUTE, lambda s, w: s.queue.diverted_cases()),
    ("queue.call_next", Action.CALL, lambda s, w: s.queue.call_next("R09")),
    ("queue.recall", Action.CALL, lambda s, w: s.queue.recall(w.ticket_id)),
    ("queue.call_ticket", Action.CALL, lambda s, w: s.queue.call_ticket(w.ticket_id, reason="急事")),
    ("queue.claim", Action.CLAIM, lambda s, w: s.queue.claim(w.ticket_id)),
    ("queue.park", Action.CLAIM, lambda s, w: s.queue.park(w.ticket_id)),
    ("queue.finish", Action.CLAIM, lambda s, w: s.queue.finish(w.ticket_id)),
    ("handling.view", Action.VIEW_CASE, lambda s, w: s.handling.view(w.case_no)),
    ("handling.overdue", Action.REPORTS, lambda s, w: s.handling.overdue()),
    ("handling.follow_ups_due", Action.REPORTS, lambda s, w: s.handling.follow_ups_due()),
    ("handling.agreement_data", Action.PRINT, lambda s, w: s.handling.agreement_data(w.case_no)),
    ("handling.pause", Action.HANDLE, lambda s, w: s.handling.pause(w.case_no, "等待鉴定")),
    ("handling.withdraw", Action.HANDLE, lambda s, w: s.handling.withdraw("620702001-2026-999999", "撤回")),
    ("handling.extend", Action.EXTEND, lambda s, w: s.handling.extend(w.case_no, 5, "王主任", "案情复杂")),
    ("whistles.blow", Action.WHISTLE, lambda s, w: s.whistles.blow(w.case_no, ["police"], "现场认定")),
    ("whistles.sign", Action.WHISTLE, lambda s, w: s.whistles.sign(w.whistle_id, "police", "李警官")),
    ("whistles.whistle", Action.VIEW_CASE, lambda s, w: s.whistles.whistle(w.whistle_id)),
    ("whistles.notice", Action.PRINT, lambda s, w: s.whistles.whistle_notice_data(w.whistle_id)),
    ("whistles.department_record", Action.REPORTS, lambda s, w: s.whistles.department_record("police")),
    ("whistles.late", Action.REPORTS, lambda s, w: s.whistles.late()),
    ("warnings.open", Action.WARNINGS, lambda s, w: s.warnings.open_warnings()),
    ("warnings.acknowledge", Action.WARNINGS, lambda s, w: s.warnings.acknowledge(w.warning_id)),
    ("warnings.sweep", Action.WARNINGS, lambda s, w: s.warnings.sweep()),
    ("warnings.case", Action.VIEW_CASE, lambda s, w: s.warnings.case_warnings(w.case_no)),
    (
        "warnings.needs_attention",
        Action.ALERT_BANNER,
        lambda s, w: s.warnings.needs_attention(dt.datetime(2026, 1, 1, tzinfo=dt.UTC)),
    ),
    (
        "warnings.flag_risk",
        Action.HANDLE,
        lambda s, w: s.warnings.flag_risk(w.case_no, ["extreme_behaviour"]),
    ),
    ("rooms.set_room_open", Action.ROOMS, lambda s, w: s.rooms.set_room_open("R02", True)),
    ("rooms.save_mediator", Action.ROOMS, lambda s, w: s.rooms.save_mediator(None, name="新调解员")),
    ("documents.sheet_data", Action.PRINT, lambda s, w: s.documents.sheet_data(w.case_no)),
    (
        "documents.record_printed",
        Action.PRINT,
        lambda s, w: s.documents.record_printed(w.case_no, document="receipt", reprint=False),
    ),
]


@pytest.fixture
def world(sqlite_store: Store, clock: FixedClock) -> World:
    seed_departments(sqlite_store)
    s = build_services(sqlite_store, clock, principal=staff("主任", "T0"))
    case_no = s.registration.register(visit()).case_no
    other = s.registration.register(visit(category="婚姻家庭纠纷"), new_case=True).case_no
    ticket = s.queue.issue_ticket(case_no, room_code="R01").ticket
    whistle = s.whistles.blow(case_no, ["police", "housing"], "现场认定")
    s.warnings.flag_risk(case_no, ["extreme_behaviour"])
    (warning, *_) = s.warnings.open_warnings()
    return World(case_no, other, ticket.id, whistle.whistle_id, warning.id)


def one_role(role: Role, rooms: tuple[str, ...] = ("R01",)) -> Principal:
    return Principal(
        f"u-{role.value}", role.value, f"{role.label}甲", frozenset({role}), "T1", frozenset(rooms)
    )


def attempt(services: Services, w: World, call: Call) -> bool:
    """Whether the gate let the call through (it may still fail for another reason: a refused step, ...)."""
    try:
        call(services, w)
    except Forbidden:
        return False
    except DeskError:
        return True
    return True


@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
def test_every_role_against_every_service_action(
    role: Role, world: World, sqlite_store: Store, clock: FixedClock
) -> None:
    services = build_services(sqlite_store, clock, principal=one_role(role))
    wrong = []
    for name, action, call in CALLS:
        expected = role in RULES[action]
        if attempt(services, world, call) is not expected:
            wrong.append(f"{name}: {'refused' if expected else 'allowed'}")
    assert wrong == [], f"{role.value}: " + "; ".join(wrong)


def test_every_action_of_the_table_is_tried() -> None:
    tried = {action for _, action, _ in CALLS}
    untried = set(Action) - tried
    # reached through other services and commands (tests/services/test_auth.py, test_audit.py, tests/cli)
    assert untried <= {
        Action.AUDIT,
        Action.EXPORT,
        Action.USERS,
        Action.SETTINGS,
        Action.KEYS,
        Action.SYNC,
        Action.DIVERT,
        Action.VIEW_FULL,
    }


def test_a_mediator_of_another_room_cannot_handle_the_case(
    world: World, sqlite_store: Store, clock: FixedClock
) -> None:
    elsewhere = build_services(sqlite_store, clock, principal=one_role(Role.MEDIATOR, rooms=("R02",)))
    with pytest.raises(Forbidden, match="不在您所在的功能室，也不是您认领的"):
        elsewhere.handling.pause(world.case_no, "等待鉴定")
    with pytest.raises(Forbidden):
        elsewhere.whistles.blow(world.case_no, ["police"], "再次吹哨")
    # claiming the visitor brings the case into their reach
    elsewhere.queue.claim(world.ticket_id)
    assert elsewhere.handling.pause(world.case_no, "等待鉴定").state


def test_a_refusal_writes_nothing(world: World, sqlite_store: Store, clock: FixedClock) -> None:
    def counts() -> tuple[int, int]:
        with sqlite_store.read() as s:
            return (
                s.scalar(sa.select(sa.func.count()).select_from(CaseEvent)) or 0,
                s.scalar(sa.select(sa.func.count()).select_from(AuditRow)) or 0,
            )

    before = counts()
    desk = build_services(sqlite_store, clock, principal=one_role(Role.DESK))
    with pytest.raises(Forbidden, match="无权办理案件"):
        desk.handling.withdraw(world.case_no, "撤回")
    with pytest.raises(Forbidden, match="需要督办主管"):
        desk.warnings.acknowledge(world.warning_id)
    assert counts() == before


def test_each_change_is_audited_with_who_where_and_which_case(
    world: World, sqlite_store: Store, clock: FixedClock
) -> None:
    with sqlite_store.read() as s:
        rows = s.scalars(sa.select(AuditRow).order_by(AuditRow.hall_seq)).all()
    assert [r.hall_seq for r in rows] == list(range(1, len(rows) + 1))
    first = rows[0]
    assert (first.login, first.user_name, first.terminal, first.action, first.detail) == (
        "tester",
        "主任",
        "T0",
        "change",
        "登记受理",
    )
    assert any(r.case_no == world.case_no and r.detail.startswith("分流取号") for r in rows)
    assert {r.detail for r in rows} >= {"吹哨", "标记风险"}
