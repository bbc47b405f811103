"""The trend chart's counts (ReportService.trend) against cases counted by hand: the China-time month and week a
case falls in (07:00 on the 1st of December China time is still November in UTC), repeat visits not counted again,
the filters, the halls side by side, and the 30% rising rule."""

from __future__ import annotations

import datetime as dt

import pytest

from desk.core import metrics
from desk.core.clock import CHINA_TZ, FixedClock
from desk.errors import ValidationError
from desk.services import build_services
from desk.store.session import Store
from tests.conftest import staff, visit

NOV, DEC = dt.date(2026, 11, 1), dt.date(2026, 12, 1)


def at(y: int, m: int, d: int, hh: int, mm: int = 0) -> dt.datetime:
    return dt.datetime(y, m, d, hh, mm, tzinfo=CHINA_TZ).astimezone(dt.UTC)


def someone(n: int, category: str, channel: str = "walk_in") -> dict[str, object]:
    name = "赵钱孙李周吴郑王冯陈"[n] + "某"
    address = (
        "甘州区东街街道1号" if n % 2 == 0 else "甘州区西街街道8号"
    )  # GZ01 for the even, GZ03 for the odd
    party = {"role": "applicant", "name": name, "phone": f"1391111{n:04d}", "address": address}
    return visit(category=category, channel=channel, parties=[party])


def test_period_rules_by_hand() -> None:
    assert metrics.period_start(dt.date(2026, 12, 3), "week") == dt.date(2026, 11, 30)  # a Monday
    assert metrics.period_start(dt.date(2026, 12, 3), "month") == DEC
    assert metrics.periods(dt.date(2026, 11, 28), dt.date(2026, 12, 2), "week") == [
        dt.date(2026, 11, 23),
        dt.date(2026, 11, 30),
    ]
    assert metrics.next_period(dt.date(2026, 12, 1), "month") == dt.date(2027, 1, 1)
    assert metrics.rising(13, 10) and not metrics.rising(12, 10) and not metrics.rising(5, 0)
    assert "30%" in metrics.DEFINITIONS["trend_rising"]


def test_months_weeks_and_the_rising_rule_counted_by_hand(store: Store) -> None:
    clock = FixedClock(at(2026, 11, 10, 9))
    desk = build_services(store, clock, principal=staff("前台", "前台1"))

    def register(when: dt.datetime, n: int, category: str, channel: str = "walk_in") -> None:
        clock.set(when)
        desk.registration.register(someone(n, category, channel), new_case=True)

    register(at(2026, 11, 10, 9), 0, "婚姻家庭纠纷")
    register(at(2026, 11, 20, 9), 1, "婚姻家庭纠纷", "hotline_12345")
    register(at(2026, 11, 30, 23, 30), 2, "邻里纠纷")  # November, China time
    register(at(2026, 12, 1, 7), 3, "邻里纠纷")  # 23:00 on Nov 30 in UTC: December, China time
    register(at(2026, 12, 2, 10), 4, "邻里纠纷")
    register(at(2026, 12, 3, 10), 5, "婚姻家庭纠纷")
    clock.set(at(2026, 12, 3, 11))
    desk.registration.register(
        someone(5, "婚姻家庭纠纷")
    )  # the same person again: a repeat visit, no new case

    reports = build_services(store, clock, principal=staff("主任")).reports
    months = reports.trend(NOV, dt.date(2026, 12, 31), "month")
    assert months.periods == (NOV, DEC)
    assert months.by_category == {"marriage_family": (2, 1), "neighbour": (1, 2)}
    assert months.by_hall == {"620702001": (3, 3)}
    assert months.rising == {"neighbour"} and "30%" in months.rule  # 1 -> 2; marriage 2 -> 1 falls

    weeks = reports.trend(dt.date(2026, 11, 23), dt.date(2026, 12, 6), "week")
    assert weeks.periods == (dt.date(2026, 11, 23), dt.date(2026, 11, 30))
    assert weeks.by_category == {"neighbour": (0, 3), "marriage_family": (0, 1)}
    assert weeks.rising == frozenset()  # nothing the week before: no rate to rise by

    days = reports.trend(dt.date(2026, 11, 30), dt.date(2026, 12, 1), "day")
    assert days.by_category == {"neighbour": (1, 1)}

    hotline = reports.trend(NOV, dt.date(2026, 12, 31), "month", channels=("hotline_12345",))
    assert hotline.by_category == {"marriage_family": (1, 0)}
    neighbours = reports.trend(NOV, dt.date(2026, 12, 31), "month", categories=("neighbour",))
    assert neighbours.by_category == {"neighbour": (1, 2)}
    east = reports.trend(NOV, dt.date(2026, 12, 31), "month", grids=("GZ01",))
    west = reports.trend(NOV, dt.date(2026, 12, 31), "month", grids=("GZ03",))
    assert east.by_category == {"marriage_family": (1, 0), "neighbour": (1, 1)}  # people 0, 2, 4
    assert west.by_category == {"marriage_family": (1, 1), "neighbour": (0, 1)}  # people 1, 3, 5

    # a point of the chart opens its cases: December's neighbour disputes, newest first
    behind = reports.trend_cases(dt.date(2026, 12, 15), "month", categories=("neighbour",))
    assert [c.applicant_name for c in behind] == ["周某", "李某"]
    assert [c.registered_at for c in behind] == [at(2026, 12, 2, 10), at(2026, 12, 1, 7)]

    with pytest.raises(ValidationError, match="不是统计周期"):
        reports.trend(NOV, DEC, "year")
    with pytest.raises(ValidationError, match="结束日期早于开始日期"):
        reports.trend(DEC, NOV, "month")
