"""One fold, three ways in: live appends, bulk ingest of events from elsewhere, and the rebuild agree."""

from __future__ import annotations

import random

import sqlalchemy as sa

from desk.core.clock import FixedClock
from desk.core.fold import fold
from desk.services.queue import QueueService
from desk.services.registration import RegistrationService
from desk.services.setup import init_hall
from desk.store import county, projections
from desk.store.events import as_event
from desk.store.models import CaseEvent, CaseRow, TicketRow
from desk.store.repositories import projection_snapshot
from desk.store.session import Store, open_store
from tests.conftest import NOW, add_tester, staff, visit


def _snapshot_after_rebuild(store: Store) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    with store.unit_of_work() as s:
        before = projection_snapshot(s)
        projections.rebuild(s)
        return before, projection_snapshot(s)


def test_a_clock_set_back_mid_case_folds_causally_like_the_rebuild(store: Store) -> None:
    clock = FixedClock(NOW)
    reg = RegistrationService(store, clock, principal=staff())
    hall = QueueService(store, clock, principal=staff())
    case_no = reg.register(visit(), new_case=True).case_no
    ticket = hall.issue_ticket(case_no).ticket
    clock.advance(minutes=10)
    hall.claim(ticket.id)
    clock.advance(hours=-3)  # the PC's clock is corrected backwards: its wall time is before the claim's
    hall.finish(ticket.id)
    before, after = _snapshot_after_rebuild(store)
    assert before == after
    with store.read() as s:
        # the finish was written after the claim, so it folds after it whatever the clock said (the old
        # wall-clock order folded it first and the ticket stayed "serving" for ever)
        assert s.scalar(sa.select(TicketRow.state).where(TicketRow.id == ticket.id)) == "done"
        stamps = s.execute(
            sa.select(CaseEvent.hall_seq, CaseEvent.hlc, CaseEvent.occurred_at).order_by(CaseEvent.hall_seq)
        ).all()
    assert [h for _, h, _ in stamps] == sorted(h for _, h, _ in stamps)  # HLC order agrees with hall_seq
    assert stamps[-1][2] < stamps[-2][2]  # while the wall clock went back


def test_ingest_in_any_batches_and_order_equals_the_fold_of_all(store: Store, sqlite_url: str) -> None:
    clock = FixedClock(NOW)
    reg = RegistrationService(store, clock, principal=staff())
    hall = QueueService(store, clock, principal=staff())
    for i in range(6):
        clock.advance(minutes=3)
        case_no = reg.register(visit(narrative=f"第{i}次来访：邻里噪声扰民"), new_case=True).case_no
        t = hall.issue_ticket(case_no).ticket
        if i % 2:
            hall.claim(t.id)
            hall.finish(t.id)
    with store.read() as s:
        events = [as_event(e) for e in s.scalars(sa.select(CaseEvent))]
        expected = projection_snapshot(s)
    rng = random.Random(7)
    for _ in range(3):
        other = open_store(f"{sqlite_url}.{rng.random():.6f}")
        init_hall(other, hall_code="620702099")
        add_tester(other)
        shuffled = events[:]
        rng.shuffle(shuffled)
        with other.unit_of_work() as s:
            i = 0
            while i < len(shuffled):
                n = rng.randint(1, 7)
                county.take_in(s, shuffled[i : i + n])
                i += n
            county.take_in(s, shuffled)  # a repeat changes nothing
            assert projection_snapshot(s) == expected
        other.dispose()


def test_fold_ignores_the_order_it_is_given(sqlite_url: str) -> None:
    clock = FixedClock(NOW)
    store = open_store(sqlite_url)
    init_hall(store)
    add_tester(store)
    reg = RegistrationService(store, clock, principal=staff())
    hall = QueueService(store, clock, principal=staff())
    case_no = reg.register(visit(), new_case=True).case_no
    hall.issue_ticket(case_no)
    with store.read() as s:
        events = [as_event(e) for e in s.scalars(sa.select(CaseEvent))]
        state = s.scalar(sa.select(CaseRow.state))
    assert fold(events).case == fold(list(reversed(events))).case
    assert fold(events).case is not None and fold(events).case["state"] == state == "waiting"
    store.dispose()
