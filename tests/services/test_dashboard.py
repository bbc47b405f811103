"""The dashboard's figures (desk/core/metrics.py, desk/services/reports.py) against a day counted by hand: China-time
days (a visit at 07:30 China time is the day's, though UTC still says yesterday), a transfer between rooms counted
once with its first arrival, an abandoned visitor, a resolution, a paused deadline, and the percentile rule."""

from __future__ import annotations

import datetime as dt

import pytest

from desk.core import metrics
from desk.core.clock import CHINA_TZ, FixedClock
from desk.core.permissions import Forbidden, Principal, Role
from desk.services import build_services
from desk.services.county import seed_departments
from desk.services.reports import ReportService
from desk.store.session import Store
from tests.conftest import staff, visit

DAY = dt.date(2026, 11, 27)


def at(day: dt.date, hh: int, mm: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hh, mm), tzinfo=CHINA_TZ).astimezone(dt.UTC)


def person(n: int) -> dict[str, object]:
    return visit(parties=[{"role": "applicant", "name": "赵钱孙李周"[n] + "某", "phone": f"1391234{n:04d}"}])


def test_the_definitions_are_written_out_for_every_figure() -> None:
    import dataclasses

    from desk.services.reports import Dashboard

    figures = {f.name for f in dataclasses.fields(Dashboard)} - {"day"}
    assert figures == {
        "visits_today", "waiting_now", "wait_mean", "wait_p90", "abandoned_today", "resolved_today",
        "overdue", "warnings_open", "whistles_late", "follow_ups_due",
    }  # fmt: skip
    assert figures <= set(metrics.DEFINITIONS)  # every figure the dashboard shows is defined in words
    assert {"trend_cases", "trend_rising"} <= set(metrics.DEFINITIONS)
    assert all(len(text) > 10 for text in metrics.DEFINITIONS.values())


def test_percentile_and_day_bounds_by_hand() -> None:
    assert metrics.p90([]) is None and metrics.mean([]) is None
    assert metrics.p90([10.0]) == 10.0
    assert metrics.p90([float(x) for x in range(1, 11)]) == 9.0  # ⌈0.9×10⌉ = 9th
    assert metrics.p90([float(x) for x in range(1, 12)]) == 10.0  # ⌈0.9×11⌉ = 10th
    start, end = metrics.china_day_bounds(DAY)
    assert start == dt.datetime(2026, 11, 26, 16, 0, tzinfo=dt.UTC) and end - start == dt.timedelta(days=1)
    assert metrics.wait_minutes(at(DAY, 9, 0), at(DAY, 8, 59)) == 0.0  # a clock set back is no wait


def test_a_day_counted_by_hand(store: Store) -> None:
    clock = FixedClock(at(DAY - dt.timedelta(days=1), 23, 50))
    desk = build_services(store, clock, principal=staff("前台", "前台1"))
    room = build_services(store, clock, principal=staff("调解员", "R01终端"))
    desk.registration.register(person(0), new_case=True)  # 23:50 the day before: not today's
    clock.set(at(DAY, 7, 30))  # 23:30 UTC of the day before, China time the day's first visit
    a = desk.registration.register(person(1), new_case=True).case_no
    clock.set(at(DAY, 8, 0))
    desk.registration.register(person(1))  # the same person, same dispute: a repeat visit
    ta = desk.queue.issue_ticket(a, room_code="R01").ticket
    clock.set(at(DAY, 8, 5))
    b = desk.registration.register(person(2), new_case=True).case_no
    tb = desk.queue.issue_ticket(b, room_code="R01").ticket
    clock.set(at(DAY, 8, 6))
    c = desk.registration.register(person(3), new_case=True).case_no
    tc = desk.queue.issue_ticket(c, room_code="R01").ticket
    clock.set(at(DAY, 8, 7))
    d = desk.registration.register(person(4), new_case=True).case_no
    desk.queue.issue_ticket(d, room_code="R01")  # still waiting at the end
    clock.set(at(DAY, 8, 10))
    called = room.queue.call_ticket(ta.id, reason="按顺序")  # A: waited 10 minutes
    room.queue.claim(called.id)
    clock.set(at(DAY, 8, 20))
    moved = room.queue.transfer(tb.id, to_room="R02", reason="涉及家庭")  # B keeps its 08:05 arrival
    clock.set(at(DAY, 8, 35))
    room.queue.call_ticket(moved.id, reason="转室到达")  # B: waited 30 minutes, counted once
    clock.set(at(DAY, 8, 40))
    room.queue.abandon(tc.id)  # C left without being served
    clock.set(at(DAY, 9, 0))
    room.handling.record_outcome(a, "resolved", terms=["双方同意清理杂物"])
    room.handling.pause(b, "等待鉴定")  # a paused deadline is never overdue
    seed_departments(store)
    desk.whistles.blow(d, ["police"], "现场核实")  # its three clocks run from 09:00

    board = ReportService(store, clock, principal=staff("主任")).dashboard()
    assert board.day == DAY
    assert board.visits_today == 5  # A, A's repeat visit, B, C, D
    assert board.waiting_now == {"R01": 1} and board.waiting_total == 1
    assert (board.wait_mean, board.wait_p90) == (20.0, 30.0)
    assert board.abandoned_today == 1 and board.resolved_today == 1
    assert board.overdue == 0 and board.whistles_late == 0 and board.follow_ups_due == 0
    yesterday = ReportService(store, clock, principal=staff("主任")).dashboard(DAY - dt.timedelta(days=1))
    assert yesterday.visits_today == 1 and yesterday.wait_mean is None and yesterday.abandoned_today == 0

    # a month later every open case but the paused one is past its deadline
    clock.set(at(DAY + dt.timedelta(days=60), 9, 0))
    later = ReportService(store, clock, principal=staff("主任")).dashboard()
    assert later.overdue == 4  # the case of the day before, A (resolved, not yet closed), C, D -- not B
    assert later.whistles_late == 3  # one department, its sign, arrive and report clocks all run out
    assert later.visits_today == 0 and later.waiting_now == {"R01": 1}


def test_the_dashboard_is_a_supervisors(sqlite_store: Store, clock: FixedClock) -> None:
    clerk = Principal("u", "clerk", "前台", frozenset({Role.DESK}), "前台1")
    with pytest.raises(Forbidden, match="无权查看统计与督办清单"):
        ReportService(sqlite_store, clock, principal=clerk).dashboard()
