"""The hall service: routing, tickets and the queue on SQLite and PostgreSQL; every step is a case event."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
import sqlalchemy as sa

from desk.core.clock import FixedClock
from desk.errors import NotFound, ValidationError
from desk.services.hall import Conflict, HallService
from desk.services.registration import RegistrationService
from desk.store import projections
from desk.store import repositories as repo
from desk.store.models import CaseEvent
from desk.store.session import Store, open_store
from tests.conftest import valid_id, visit

ELDER = valid_id("62070219500101123")  # 76 years old on 2026-11-27


@pytest.fixture
def hall(store: Store, clock: FixedClock) -> HallService:
    return HallService(store, clock, actor="刘秀英", terminal="R01-终端1")


def walk_in(
    service: RegistrationService, n: int, *, id_number: str | None = None, **overrides: object
) -> str:
    party: dict[str, object] = {"role": "applicant", "name": "来访人", "phone": f"1390000{n:04d}"}
    if id_number:
        party["id_number"] = id_number
    return service.register(visit(parties=[party], **overrides), new_case=True).case_no


def kinds(store: Store, case_no: str) -> list[str]:
    with store.read() as s:
        detail = repo.case_detail(s, case_no=case_no)
        assert detail is not None
        return [e.kind for e in detail.events]


def test_ticket_issued_in_proposed_room_with_wait_estimate(
    service: RegistrationService, hall: HallService, store: Store
) -> None:
    first = hall.issue_ticket(walk_in(service, 1))
    assert (first.ticket.label, first.room.code, first.ahead, first.overridden) == ("A001", "R01", 0, False)
    assert "专门调解室" in first.proposal.reason
    # R01 has two resident mediators: the second visitor is received at once too, in the dedicated room
    second = hall.issue_ticket(walk_in(service, 2))
    assert second.ticket.label == "A002" and second.estimated_wait_minutes == 0
    # now a third would wait 12.5 min in R01 (25-minute sessions, two at a time); the police-docking room is free
    third_case = walk_in(service, 3)
    assert hall.propose(third_case).room_code == "R06"
    third = hall.issue_ticket(third_case, room_code="R01", override_reason="当事人要求")
    assert third.proposal.room_code == "R06"
    assert third.overridden and third.ticket.label == "A003"
    assert third.ahead == 2 and third.estimated_wait_minutes == 12
    assert kinds(store, third.ticket.case_no) == ["registered", "routed", "ticket_issued"]
    with store.read() as s:
        routed = s.scalars(
            sa.select(CaseEvent).where(CaseEvent.case_id == third.ticket.case_id, CaseEvent.kind == "routed")
        ).one()
    assert routed.payload["overridden"] is True and routed.payload["proposed"] == "R06"
    assert routed.payload["override_reason"] == "当事人要求" and routed.payload["room"] == "R01"
    with pytest.raises(Conflict, match="已有排队号"):
        hall.issue_ticket(third.ticket.case_no)


def test_closed_room_and_unknown_room_refused(service: RegistrationService, hall: HallService) -> None:
    hall.set_room_open("R01", False)
    case_no = walk_in(service, 1)
    assert hall.propose(case_no).room_code == "R06"
    with pytest.raises(ValidationError, match="现未开放"):
        hall.issue_ticket(case_no, room_code="R01")
    with pytest.raises(NotFound):
        hall.issue_ticket(case_no, room_code="R99")


def test_numbers_restart_each_day(service: RegistrationService, hall: HallService, clock: FixedClock) -> None:
    assert hall.issue_ticket(walk_in(service, 1), room_code="R01").ticket.label == "A001"
    assert hall.issue_ticket(walk_in(service, 2), room_code="R01").ticket.label == "A002"
    clock.advance(days=1)
    assert hall.issue_ticket(walk_in(service, 3), room_code="R01").ticket.label == "A001"


def test_call_next_follows_the_priority_rule(
    service: RegistrationService, hall: HallService, clock: FixedClock
) -> None:
    a = hall.issue_ticket(walk_in(service, 1), room_code="R01")
    clock.advance(minutes=20)
    b = hall.issue_ticket(walk_in(service, 2), room_code="R01")
    clock.advance(minutes=10)
    elder = hall.issue_ticket(walk_in(service, 3, id_number=ELDER), room_code="R01")
    assert elder.ticket.priority_reasons == ("elderly",)
    assert elder.ahead == 1  # ahead of B (10 min earlier), behind A (30 min earlier)
    called = [hall.call_next("R01") for _ in range(4)]
    assert [t.label if t else None for t in called] == [
        a.ticket.label,
        elder.ticket.label,
        b.ticket.label,
        None,
    ]
    assert called[0] is not None and called[0].terminal == "R01-终端1" and called[0].called_by == "刘秀英"


def test_out_of_order_call_needs_a_reason(service: RegistrationService, hall: HallService) -> None:
    hall.issue_ticket(walk_in(service, 1), room_code="R01")
    later = hall.issue_ticket(walk_in(service, 2), room_code="R01")
    with pytest.raises(ValidationError, match="须说明理由"):
        hall.call_ticket(later.ticket.id, reason=" ")
    assert hall.call_ticket(later.ticket.id, reason="律师已到场").state == "called"


def test_recall_no_show_and_return(
    service: RegistrationService, hall: HallService, store: Store, clock: FixedClock
) -> None:
    t = hall.issue_ticket(walk_in(service, 1), room_code="R01").ticket
    hall.call_next("R01")
    with pytest.raises(ValidationError, match="须重呼2次"):
        hall.no_show(t.id)
    assert hall.recall(t.id).recalls == 1
    assert hall.recall(t.id).recalls == 2
    assert hall.no_show(t.id).state == "no_show"
    other = hall.issue_ticket(walk_in(service, 2), room_code="R01").ticket
    clock.advance(minutes=1)
    back = hall.requeue(t.id)
    assert back.state == "waiting" and back.recalls == 0
    assert [x.label for x in hall.queue("R01") if x.state == "waiting"] == [other.label, t.label]  # behind
    assert kinds(store, t.case_no)[-5:] == ["called", "recalled", "recalled", "no_show", "requeued"]


def test_park_keeps_the_place(service: RegistrationService, hall: HallService) -> None:
    first = hall.issue_ticket(walk_in(service, 1), room_code="R01").ticket
    second = hall.issue_ticket(walk_in(service, 2), room_code="R01").ticket
    hall.park(first.id)
    assert hall.call_next("R01").id == second.id  # type: ignore[union-attr]
    hall.unpark(first.id)
    assert hall.call_next("R01").id == first.id  # type: ignore[union-attr]


def test_transfer_keeps_the_original_arrival(
    service: RegistrationService, hall: HallService, clock: FixedClock
) -> None:
    early = hall.issue_ticket(walk_in(service, 1), room_code="R01").ticket
    clock.advance(minutes=10)
    waiting_in_f = hall.issue_ticket(walk_in(service, 2), room_code="R06").ticket
    moved = hall.transfer(early.id, to_room="R06", reason="涉及治安，转警调对接")
    assert moved.label == "F002" and moved.arrival_at == early.arrival_at
    assert [t.label for t in hall.queue("R06")] == ["F002", waiting_in_f.label]
    assert hall.queue("R01") == []
    with pytest.raises(Conflict):
        hall.claim(early.id)


def test_abandoned_is_counted_not_lost(service: RegistrationService, hall: HallService) -> None:
    t = hall.issue_ticket(walk_in(service, 1), room_code="R01").ticket
    assert hall.abandon(t.id).state == "abandoned"
    from desk.core.queue import TicketState

    assert [x.label for x in hall.queue("R01", include=[TicketState.ABANDONED])] == [t.label]


def test_claim_finish_and_mean_handling_time(
    service: RegistrationService, hall: HallService, clock: FixedClock
) -> None:
    t = hall.issue_ticket(walk_in(service, 1), room_code="R01").ticket
    hall.call_next("R01")
    assert hall.claim(t.id).state == "serving"
    assert service.case(t.case_no).state == "in_mediation"
    clock.advance(minutes=12)
    assert hall.finish(t.id).state == "done"
    load = next(x for x in hall.loads() if x.code == "R01")
    assert load.mean_handling_minutes == 12.0


def test_claim_by_scan_of_the_receipt(service: RegistrationService, hall: HallService, store: Store) -> None:
    t = hall.issue_ticket(walk_in(service, 1), room_code="R01").ticket
    token = service.case(t.case_no).status_token
    assert hall.claim_by_scan(f"https://zz.example.gov.cn/s/{token}\n").id == t.id
    with pytest.raises(NotFound, match="未找到可接待的排队号"):
        hall.claim_by_scan(token)  # already claimed
    u = hall.issue_ticket(walk_in(service, 2), room_code="R01").ticket
    assert hall.claim_by_scan(u.label.lower()).id == u.id


def test_two_terminals_claim_at_once_exactly_one_wins(
    store_url: str, store: Store, service: RegistrationService, hall: HallService, clock: FixedClock
) -> None:
    t = hall.issue_ticket(walk_in(service, 1), room_code="R01").ticket
    results: list[str] = []
    barrier = threading.Barrier(2)

    def terminal(name: str) -> None:
        st = open_store(store_url)
        h = HallService(st, clock, actor=name, terminal=name)
        barrier.wait()
        try:
            h.claim(t.id)
            results.append("won")
        except Conflict as e:
            results.append(e.message)
        finally:
            st.dispose()

    threads = [threading.Thread(target=terminal, args=(f"T{i}",)) for i in range(2)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert sorted(results)[0] != "won" and sorted(results).count("won") == 1
    assert "接待中" in [r for r in results if r != "won"][0]


def test_queue_steps_rebuild_from_the_log(
    service: RegistrationService, hall: HallService, store: Store, clock: FixedClock
) -> None:
    tickets = [hall.issue_ticket(walk_in(service, i)).ticket for i in range(6)]
    hall.call_next(tickets[0].room_code)
    hall.recall(tickets[0].id)
    hall.claim(tickets[1].id)
    clock.advance(minutes=5)
    hall.finish(tickets[1].id)
    hall.park(tickets[2].id)
    hall.transfer(tickets[3].id, to_room="R02", reason="需要律师")
    hall.abandon(tickets[4].id)
    with store.read() as s:
        live = repo.projection_snapshot(s)
    with store.unit_of_work() as s:
        projections.rebuild(s)
    with store.read() as s:
        assert repo.projection_snapshot(s) == live


def test_recent_calls_and_change_mark(service: RegistrationService, hall: HallService) -> None:
    mark = hall.change_mark()
    t = hall.issue_ticket(walk_in(service, 1), room_code="R03").ticket
    hall.call_next("R03")
    assert hall.change_mark() > mark
    call = hall.recent_calls()[0]
    assert (call.ticket, call.room_name, call.room_number, call.location) == (
        t.label,
        "心理咨询室",
        3,
        "二楼左侧",
    )
    assert call.text == f"请 {t.label} 号到 3号心理咨询室"


def test_rooms_edit_validation_and_mediators(hall: HallService) -> None:
    r1 = hall.room("R01")
    assert r1.waiting == 0 and len(r1.staff) == 2 and r1.departments == ()
    assert [m.name for m, mode in hall.room_mediators("R01")] == ["刘秀英", "马建国"]
    with pytest.raises(ValidationError) as e:
        hall.update_room(
            "R01",
            name="",
            kind="人民调解室",
            prefix="F",
            capacity=0,
            location="一楼",
            categories=["neighbour"],
        )
    assert {p.field for p in e.value.problems} == {"name", "prefix", "capacity"}
    assert "已由“警调对接室”使用" in e.value.message
    edited = hall.update_room(
        "R01",
        name="第一人民调解室",
        kind="人民调解室",
        prefix="a",
        capacity=8,
        location="一楼东侧",
        categories=["neighbour", "neighbour", "contract"],
        staff=[{"mediator_id": hall.mediators()[0].id, "mode": "on_call"}],
    )
    assert (edited.name, edited.prefix, edited.categories) == (
        "第一人民调解室",
        "A",
        ("neighbour", "contract"),
    )


def test_every_step_moves_the_fixed_clock_forward_safely(hall: HallService, clock: FixedClock) -> None:
    assert hall.now() == clock.now() and hall.now().tzinfo is dt.UTC


def test_free_room_takes_over_the_longest_waiting_visitor(
    service: RegistrationService, hall: HallService, clock: FixedClock, store: Store
) -> None:
    early = hall.issue_ticket(walk_in(service, 1), room_code="R01").ticket
    clock.advance(minutes=5)
    hall.issue_ticket(walk_in(service, 2), room_code="R01")
    crisis = hall.issue_ticket(
        walk_in(service, 3, risk_flags=["psychological_crisis"]), room_code="R01"
    ).ticket
    taken = hall.call_next("R06")  # nobody waits at the police-docking room, which also handles 邻里纠纷
    assert taken is not None and taken.label == "F001" and taken.case_no == early.case_no
    assert taken.arrival_at == early.arrival_at
    assert kinds(store, early.case_no)[-2:] == ["transferred", "called"]
    assert hall.call_next("R06") is not None  # the second ordinary visitor
    assert hall.call_next("R06") is None  # never the person in crisis
    assert [t.label for t in hall.queue("R01")] == [crisis.label]
    assert hall.call_next("R03") is None  # the counselling room takes over nobody
    assert hall.call_next("R06", take_over=False) is None


def test_room_edits_move_the_change_mark_and_active_ticket(
    service: RegistrationService, hall: HallService
) -> None:
    mark = hall.change_mark()
    hall.set_room_open("R02", False)
    assert hall.change_mark() > mark
    case_no = walk_in(service, 1)
    assert hall.active_ticket(case_no) is None
    t = hall.issue_ticket(case_no).ticket
    assert hall.active_ticket(case_no) == t
    hall.claim(t.id)
    assert hall.active_ticket(case_no) is None


def test_room_staff_and_departments_are_checked(hall: HallService) -> None:
    mid = hall.mediators()[0].id
    with pytest.raises(ValidationError) as e:
        hall.update_room(
            "R01",
            name="人民调解室",
            kind="人民调解室",
            prefix="A",
            capacity=6,
            location="",
            categories=["neighbour"],
            staff=[
                {"mediator_id": mid, "mode": "resident"},
                {"mediator_id": mid, "mode": "on_call"},
                {"mediator_id": "nobody", "mode": "resident"},
            ],
            departments=[{"name": "区司法局", "mode": "weekly"}],
        )
    fields = [p.field for p in e.value.problems]
    assert fields.count("staff") == 2 and "departments" in fields


def test_mediator_roster(hall: HallService) -> None:
    added = hall.save_mediator(
        None, name="扎西·次仁", grade="二级调解员", specialties=["grassland"], phone="139 0936 1234"
    )
    assert (added.name, added.phone, added.specialties) == ("扎西·次仁", "13909361234", ("grassland",))
    assert added.id in {m.id for m in hall.mediators()}
    fixed = hall.save_mediator(
        added.id, name="扎西•次仁", grade="一级调解员", specialties=["grassland", "irrigation"]
    )
    assert (fixed.grade, fixed.phone) == ("一级调解员", "")
    with pytest.raises(ValidationError) as e:
        hall.save_mediator(None, name="张3", phone="123", specialties=["astrology"], grade="级" * 21)
    assert {p.field for p in e.value.problems} == {"name", "phone", "grade", "specialties"}
    liu = next(m for m in hall.mediators() if m.name == "刘秀英")
    mark = hall.change_mark()
    hall.retire_mediator(liu.id)
    assert hall.change_mark() > mark
    assert liu.id not in {m.id for m in hall.mediators()}
    assert [m.name for m, _mode in hall.room_mediators("R01")] == ["马建国"]


def test_no_show_threshold_is_the_halls_setting(
    service: RegistrationService, store: Store, clock: FixedClock
) -> None:
    strict = HallService(store, clock, no_show_after_recalls=0)
    t = strict.issue_ticket(walk_in(service, 1), room_code="R01").ticket
    strict.call_next("R01")
    assert strict.no_show(t.id).state == "no_show"
