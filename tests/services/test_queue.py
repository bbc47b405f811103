"""The queue service: routing, tickets and the queue's steps on SQLite and PostgreSQL; every step is a case event."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
import sqlalchemy as sa

from desk.core.clock import FixedClock
from desk.core.permissions import actor_name
from desk.errors import Conflict, NotFound, ValidationError
from desk.services.queue import QueueService
from desk.services.registration import RegistrationService
from desk.services.rooms import RoomsService
from desk.store import projections
from desk.store import repositories as repo
from desk.store.models import CaseEvent
from desk.store.session import Store, open_store
from tests.conftest import staff, valid_id
from tests.services.conftest import kinds, walk_in

ELDER = valid_id("62070219500101123")  # 76 years old on 2026-11-27


def test_ticket_issued_in_proposed_room_with_wait_estimate(
    service: RegistrationService, queue: QueueService, store: Store
) -> None:
    first = queue.issue_ticket(walk_in(service, 1))
    assert (first.ticket.label, first.room.code, first.ahead, first.overridden) == ("A001", "R01", 0, False)
    assert "专门调解室" in first.proposal.reason
    # R01 has two resident mediators: the second visitor is received at once too, in the dedicated room
    second = queue.issue_ticket(walk_in(service, 2))
    assert second.ticket.label == "A002" and second.estimated_wait_minutes == 0
    # now a third would wait 12.5 min in R01 (25-minute sessions, two at a time); the police-docking room is free
    third_case = walk_in(service, 3)
    assert queue.propose(third_case).room_code == "R06"
    third = queue.issue_ticket(third_case, room_code="R01", override_reason="当事人要求")
    assert third.proposal.room_code == "R06"
    assert third.overridden and third.ticket.label == "A003"
    assert third.ahead == 2 and third.estimated_wait_minutes == 12
    assert kinds(store, third.ticket.case_no) == ["registered", "deadline_set", "routed", "ticket_issued"]
    with store.read() as s:
        routed = s.scalars(
            sa.select(CaseEvent).where(CaseEvent.case_id == third.ticket.case_id, CaseEvent.kind == "routed")
        ).one()
    assert routed.payload["overridden"] is True and routed.payload["proposed"] == "R06"
    assert routed.payload["override_reason"] == "当事人要求" and routed.payload["room"] == "R01"
    with pytest.raises(Conflict, match="已有排队号"):
        queue.issue_ticket(third.ticket.case_no)


def test_closed_room_and_unknown_room_refused(
    service: RegistrationService, queue: QueueService, rooms: RoomsService
) -> None:
    rooms.set_room_open("R01", False)
    case_no = walk_in(service, 1)
    assert queue.propose(case_no).room_code == "R06"
    with pytest.raises(ValidationError, match="现未开放"):
        queue.issue_ticket(case_no, room_code="R01")
    with pytest.raises(NotFound):
        queue.issue_ticket(case_no, room_code="R99")


def test_numbers_restart_each_day(
    service: RegistrationService, queue: QueueService, clock: FixedClock
) -> None:
    assert queue.issue_ticket(walk_in(service, 1), room_code="R01").ticket.label == "A001"
    assert queue.issue_ticket(walk_in(service, 2), room_code="R01").ticket.label == "A002"
    clock.advance(days=1)
    assert queue.issue_ticket(walk_in(service, 3), room_code="R01").ticket.label == "A001"


def test_call_next_follows_the_priority_rule(
    service: RegistrationService, queue: QueueService, clock: FixedClock
) -> None:
    a = queue.issue_ticket(walk_in(service, 1), room_code="R01")
    clock.advance(minutes=20)
    b = queue.issue_ticket(walk_in(service, 2), room_code="R01")
    clock.advance(minutes=10)
    elder = queue.issue_ticket(walk_in(service, 3, id_number=ELDER), room_code="R01")
    assert elder.ticket.priority_reasons == ("elderly",)
    assert elder.ahead == 1  # ahead of B (10 min earlier), behind A (30 min earlier)
    called = [queue.call_next("R01") for _ in range(4)]
    assert [t.label if t else None for t in called] == [
        a.ticket.label,
        elder.ticket.label,
        b.ticket.label,
        None,
    ]
    assert (
        called[0] is not None
        and called[0].terminal == "R01-终端1"
        and actor_name(called[0].called_by or "") == "刘秀英"
    )


def test_out_of_order_call_needs_a_reason(service: RegistrationService, queue: QueueService) -> None:
    queue.issue_ticket(walk_in(service, 1), room_code="R01")
    later = queue.issue_ticket(walk_in(service, 2), room_code="R01")
    with pytest.raises(ValidationError, match="须说明理由"):
        queue.call_ticket(later.ticket.id, reason=" ")
    assert queue.call_ticket(later.ticket.id, reason="律师已到场").state == "called"


def test_recall_no_show_and_return(
    service: RegistrationService, queue: QueueService, store: Store, clock: FixedClock
) -> None:
    t = queue.issue_ticket(walk_in(service, 1), room_code="R01").ticket
    queue.call_next("R01")
    with pytest.raises(ValidationError, match="须重呼2次"):
        queue.no_show(t.id)
    assert queue.recall(t.id).recalls == 1
    assert queue.recall(t.id).recalls == 2
    assert queue.no_show(t.id).state == "no_show"
    other = queue.issue_ticket(walk_in(service, 2), room_code="R01").ticket
    clock.advance(minutes=1)
    back = queue.requeue(t.id)
    assert back.state == "waiting" and back.recalls == 0
    assert [x.label for x in queue.queue("R01") if x.state == "waiting"] == [other.label, t.label]  # behind
    assert kinds(store, t.case_no)[-5:] == ["called", "recalled", "recalled", "no_show", "requeued"]


def test_park_keeps_the_place(service: RegistrationService, queue: QueueService) -> None:
    first = queue.issue_ticket(walk_in(service, 1), room_code="R01").ticket
    second = queue.issue_ticket(walk_in(service, 2), room_code="R01").ticket
    queue.park(first.id)
    assert queue.call_next("R01").id == second.id  # type: ignore[union-attr]
    queue.unpark(first.id)
    assert queue.call_next("R01").id == first.id  # type: ignore[union-attr]


def test_transfer_keeps_the_original_arrival(
    service: RegistrationService, queue: QueueService, clock: FixedClock
) -> None:
    early = queue.issue_ticket(walk_in(service, 1), room_code="R01").ticket
    clock.advance(minutes=10)
    waiting_in_f = queue.issue_ticket(walk_in(service, 2), room_code="R06").ticket
    moved = queue.transfer(early.id, to_room="R06", reason="涉及治安，转警调对接")
    assert moved.label == "F002" and moved.arrival_at == early.arrival_at
    assert [t.label for t in queue.queue("R06")] == ["F002", waiting_in_f.label]
    assert queue.queue("R01") == []
    with pytest.raises(Conflict):
        queue.claim(early.id)


def test_abandoned_is_counted_not_lost(service: RegistrationService, queue: QueueService) -> None:
    t = queue.issue_ticket(walk_in(service, 1), room_code="R01").ticket
    assert queue.abandon(t.id).state == "abandoned"
    from desk.core.queue import TicketState

    assert [x.label for x in queue.queue("R01", include=[TicketState.ABANDONED])] == [t.label]


def test_claim_finish_and_mean_handling_time(
    service: RegistrationService, queue: QueueService, clock: FixedClock
) -> None:
    t = queue.issue_ticket(walk_in(service, 1), room_code="R01").ticket
    queue.call_next("R01")
    assert queue.claim(t.id).state == "serving"
    assert service.case(t.case_no).state == "in_mediation"
    clock.advance(minutes=12)
    assert queue.finish(t.id).state == "done"
    load = next(x for x in queue.loads() if x.code == "R01")
    assert load.mean_handling_minutes == 12.0


def test_claim_by_scan_of_the_receipt(
    service: RegistrationService, queue: QueueService, store: Store
) -> None:
    t = queue.issue_ticket(walk_in(service, 1), room_code="R01").ticket
    token = service.case(t.case_no).status_token
    assert queue.claim_by_scan(f"https://zz.example.gov.cn/s/{token}\n").id == t.id
    with pytest.raises(NotFound, match="未找到可接待的排队号"):
        queue.claim_by_scan(token)  # already claimed
    u = queue.issue_ticket(walk_in(service, 2), room_code="R01").ticket
    assert queue.claim_by_scan(u.label.lower()).id == u.id


def test_two_terminals_claim_at_once_exactly_one_wins(
    store_url: str, store: Store, service: RegistrationService, queue: QueueService, clock: FixedClock
) -> None:
    t = queue.issue_ticket(walk_in(service, 1), room_code="R01").ticket
    results: list[str] = []
    barrier = threading.Barrier(2)

    def terminal(name: str) -> None:
        st = open_store(store_url)
        h = QueueService(st, clock, principal=staff(name, name))
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
    service: RegistrationService, queue: QueueService, store: Store, clock: FixedClock
) -> None:
    tickets = [queue.issue_ticket(walk_in(service, i)).ticket for i in range(6)]
    queue.call_next(tickets[0].room_code)
    queue.recall(tickets[0].id)
    queue.claim(tickets[1].id)
    clock.advance(minutes=5)
    queue.finish(tickets[1].id)
    queue.park(tickets[2].id)
    queue.transfer(tickets[3].id, to_room="R02", reason="需要律师")
    queue.abandon(tickets[4].id)
    with store.read() as s:
        live = repo.projection_snapshot(s)
    with store.unit_of_work() as s:
        projections.rebuild(s)
    with store.read() as s:
        assert repo.projection_snapshot(s) == live


def test_every_step_moves_the_fixed_clock_forward_safely(queue: QueueService, clock: FixedClock) -> None:
    assert queue.now() == clock.now() and queue.now().tzinfo is dt.UTC


def test_free_room_takes_over_the_longest_waiting_visitor(
    service: RegistrationService, queue: QueueService, clock: FixedClock, store: Store
) -> None:
    early = queue.issue_ticket(walk_in(service, 1), room_code="R01").ticket
    clock.advance(minutes=5)
    queue.issue_ticket(walk_in(service, 2), room_code="R01")
    crisis = queue.issue_ticket(
        walk_in(service, 3, risk_flags=["psychological_crisis"]), room_code="R01"
    ).ticket
    taken = queue.call_next("R06")  # nobody waits at the police-docking room, which also handles 邻里纠纷
    assert taken is not None and taken.label == "F001" and taken.case_no == early.case_no
    assert taken.arrival_at == early.arrival_at
    assert kinds(store, early.case_no)[-2:] == ["transferred", "called"]
    assert queue.call_next("R06") is not None  # the second ordinary visitor
    assert queue.call_next("R06") is None  # never the person in crisis
    assert [t.label for t in queue.queue("R01")] == [crisis.label]
    assert queue.call_next("R03") is None  # the counselling room takes over nobody
    assert queue.call_next("R06", take_over=False) is None


def test_no_show_threshold_is_the_halls_setting(
    service: RegistrationService, store: Store, clock: FixedClock
) -> None:
    strict = QueueService(store, clock, no_show_after_recalls=0, principal=staff())
    t = strict.issue_ticket(walk_in(service, 1), room_code="R01").ticket
    strict.call_next("R01")
    assert strict.no_show(t.id).state == "no_show"


def test_active_ticket_is_the_one_still_in_a_queue(service: RegistrationService, queue: QueueService) -> None:
    case_no = walk_in(service, 1)
    assert queue.active_ticket(case_no) is None
    t = queue.issue_ticket(case_no).ticket
    assert queue.active_ticket(case_no) == t
    queue.claim(t.id)
    assert queue.active_ticket(case_no) is None
