"""Causal order in the store: a case's events fold in HLC order, so PCs whose clocks disagree by hours never lose
each other's work, on SQLite and PostgreSQL; and the demo day no longer eats the first call before 08:30."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from desk.core.clock import CHINA_TZ, FixedClock
from desk.services.demo import add_demo_day
from desk.services.queue import QueueService
from desk.services.registration import RegistrationService
from desk.store import projections
from desk.store.models import CaseEvent, Hall, TicketRow
from desk.store.repositories import projection_snapshot
from desk.store.session import Store, run_alembic
from tests.conftest import NOW, staff, visit


def _log(store: Store, case_id: str) -> list[tuple[str, int, int, dt.datetime]]:
    with store.read() as s:
        return [
            (r.kind, r.hall_seq, r.hlc, r.occurred_at)
            for r in s.execute(
                sa.select(CaseEvent.kind, CaseEvent.hall_seq, CaseEvent.hlc, CaseEvent.occurred_at)
                .where(CaseEvent.case_id == case_id)
                .order_by(CaseEvent.hlc)
            )
        ]


def _assert_rebuild_equals_live(store: Store) -> None:
    with store.unit_of_work() as s:
        live = projection_snapshot(s)
        projections.rebuild(s)
        assert projection_snapshot(s) == live


def test_demo_before_opening_then_two_calls_call_two_tickets(store: Store) -> None:
    """The issue's reproduction: `desk init --demo` before 08:30 China time stamps the demo's tickets later that
    day; two calls at 07:50 must call two different visitors, and the first call must stay made."""
    early = FixedClock(dt.datetime(2026, 12, 7, 7, 50, tzinfo=CHINA_TZ))
    add_demo_day(store, visitors=40, day=early.now().astimezone(CHINA_TZ).date())
    hall = QueueService(store, early, principal=staff(terminal="R01-终端"))
    first = hall.call_next("R01", take_over=False)
    second = hall.call_next("R01", take_over=False)
    assert first is not None and second is not None
    assert first.label != second.label
    with store.read() as s:
        states = dict(
            s.execute(
                sa.select(TicketRow.id, TicketRow.state).where(TicketRow.id.in_([first.id, second.id]))
            ).all()
        )
    assert states == {first.id: "called", second.id: "called"}
    log = _log(store, first.case_id)
    assert [k for k, *_ in log][-1] == "called"
    assert log[-1][3] < log[-2][3]  # by wall clock the call came before its ticket
    _assert_rebuild_equals_live(store)


def test_pcs_hours_apart_writing_to_one_case_keep_every_step(store: Store) -> None:
    """The desk's PC is right; room 1's terminal runs 3 hours behind, room 6's 5 hours ahead; one visitor is
    ticketed, called, recalled, claimed, transferred, called and claimed again, and finished, alternating PCs."""
    desk_clock = FixedClock(NOW)
    behind = FixedClock(NOW - dt.timedelta(hours=3))
    ahead = FixedClock(NOW + dt.timedelta(hours=5))
    reg = RegistrationService(store, desk_clock, principal=staff())
    desk = QueueService(store, desk_clock, principal=staff(terminal="前台"))
    room1 = QueueService(store, behind, principal=staff("调解员甲", "R01-终端"))
    room6 = QueueService(store, ahead, principal=staff("民警乙", "R06-终端"))
    case_no = reg.register(visit(), new_case=True).case_no
    ticket = desk.issue_ticket(case_no, room_code="R01", override_reason="测试").ticket
    called = room1.call_next("R01", take_over=False)
    assert called is not None and called.id == ticket.id and called.state == "called"
    room1.recall(ticket.id)
    room1.claim(ticket.id)
    moved = room1.transfer(ticket.id, to_room="R06", reason="涉及治安")
    assert moved.state == "waiting"
    room6.call_next("R06", take_over=False)
    room6.claim(moved.id)
    for c in (desk_clock, behind, ahead):
        c.advance(minutes=30)
    room1.finish(moved.id)  # the PC 3 hours behind writes last: its step still counts
    with store.read() as s:
        tickets = dict(
            s.execute(
                sa.select(TicketRow.id, TicketRow.state).where(TicketRow.case_id == ticket.case_id)
            ).all()
        )
        local = s.scalars(sa.select(Hall).where(Hall.is_local)).one()
    assert tickets == {ticket.id: "transferred", moved.id: "done"}
    log = _log(store, ticket.case_id)
    kinds = [k for k, *_ in log]
    assert kinds == [
        "registered",
        "deadline_set",
        "routed",
        "ticket_issued",
        "called",
        "recalled",
        "claimed",
        "transferred",
        "called",
        "claimed",
        "service_finished",
    ]
    assert [seq for _, seq, _, _ in log] == sorted(seq for _, seq, _, _ in log)  # HLC order = hall_seq here
    assert local.last_hlc == log[-1][2]  # the store's clock is its last stamp
    when = {k: at for k, _, _, at in log}
    assert when["service_finished"] < when["claimed"]  # the wall clocks disagree with what happened
    _assert_rebuild_equals_live(store)


def test_the_migration_stamps_existing_events_in_writing_order(store: Store) -> None:
    """Down to the wave-1 schema (no stamps) and up again, on both engines: the events are stamped per hall in
    hall_seq order, even where a clock went back, and the store folds as before."""
    clock = FixedClock(NOW)
    reg = RegistrationService(store, clock, principal=staff())
    hall = QueueService(store, clock, principal=staff())
    for i in range(3):
        case_no = reg.register(visit(narrative=f"第{i}位"), new_case=True).case_no
        t = hall.issue_ticket(case_no).ticket
        clock.advance(hours=-2)  # a clock set back between steps
        hall.claim(t.id)
    with store.read() as s:
        before = projection_snapshot(s)
    run_alembic(store.engine, "downgrade", "20261127_0005")
    run_alembic(store.engine, "upgrade", "head")
    # 0007 gives the cases it finds the registration's own deadline ("legacy"), as the fold of a log without
    # DeadlineSet does; this log has them (written before the downgrade), so it is folded again to compare
    with store.unit_of_work() as s:
        projections.rebuild(s)
    with store.read() as s:
        rows = s.execute(sa.select(CaseEvent.hall_seq, CaseEvent.hlc).order_by(CaseEvent.hall_seq)).all()
        clock_now = s.scalar(sa.select(Hall.last_hlc).where(Hall.is_local))
        assert projection_snapshot(s) == before
    stamps = [h for _, h in rows]
    assert stamps == sorted(set(stamps)) and clock_now == stamps[-1]
    _assert_rebuild_equals_live(store)
