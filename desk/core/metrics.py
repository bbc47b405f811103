"""The supervisor's figures, each defined once, with its definition in words beside it (issue 14).

Days are China-time days (00:00–24:00 +08:00), never UTC days: a visit at 07:30 on the 1st, China time, is the
1st's, though it is 23:30 on the 30th in UTC. A wait is minutes from the visitor's arrival (a transfer keeps the
first arrival) to their first call; a visitor moved between rooms is counted once, by the ticket that was called.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence

from desk.core.clock import CHINA_TZ

DEFINITIONS: dict[str, str] = {
    "visits_today": "今日来访：当日（北京时间）登记受理的新案件数加重复访次数，每次来访计一次",
    "waiting_now": "正在等候：此刻状态为“等候中”的排队号，按功能室分列（暂离、已叫号者不计）",
    "wait_mean": "今日平均等候：当日首次被叫号的排队号，自到达（转室者自最初到达）至首次叫号的分钟数的平均",
    "wait_p90": "今日等候 90 分位：同上分钟数按从小到大排列，第 ⌈0.9×n⌉ 个（最近秩法）",
    "abandoned_today": "今日离开：当日被记为“离开”（未接待即离去）的排队号数",
    "resolved_today": "今日化解：当日记录调解结果为“已化解”的案件数",
    "overdue": "逾期案件：未办结、期限未中止、办理期限的到期日已过的案件数",
    "warnings_open": "未阅预警：尚未确认已阅的预警，按等级（重大、较大、一般）分列",
    "whistles_late": "吹哨超时：被吹哨部门的签收、到场或反馈时限已过而未完成的项数",
    "follow_ups_due": "今日待回访：回访到期日在今日或之前、尚未回访的案件数",
}
"""Every figure's definition in words, as the dashboard's tooltips and the reports' notes print it."""


def china_day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The UTC instants [start, end) of a China-time day."""
    start = dt.datetime.combine(day, dt.time(0), tzinfo=CHINA_TZ).astimezone(dt.UTC)
    return start, start + dt.timedelta(days=1)


def wait_minutes(arrival: dt.datetime, first_call: dt.datetime) -> float:
    """Minutes from arrival to first call (never negative: a PC clock set back is not a wait)."""
    return max(0.0, (first_call - arrival).total_seconds() / 60)


def mean(values: Sequence[float]) -> float | None:
    """The arithmetic mean; None for no values (shown as “—”, never 0)."""
    return sum(values) / len(values) if values else None


def p90(values: Sequence[float]) -> float | None:
    """The 90th percentile by the nearest-rank method: the ⌈0.9·n⌉-th smallest value; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(1, math.ceil(0.9 * len(ordered))) - 1]


# --- the dispute trend (矛盾纠纷走势) ---------------------------------------------------------------------------

GRAINS = ("day", "week", "month")
RISING = 0.30

DEFINITIONS |= {
    "trend_cases": "案件数：按登记日（北京时间）计入日、周（周一至周日）或月的新登记案件数；重复访不另计",
    "trend_rising": "上升：本期案件数比上期多 30% 及以上（上期至少 1 件）的纠纷类别，图中以红色标出",
}


def period_start(day: dt.date, grain: str) -> dt.date:
    """The first day of the day's period: the day itself, its week's Monday, or its month's first."""
    if grain == "day":
        return day
    if grain == "week":
        return day - dt.timedelta(days=day.weekday())
    if grain == "month":
        return day.replace(day=1)
    raise ValueError(f"unknown grain {grain!r}")


def next_period(start: dt.date, grain: str) -> dt.date:
    if grain == "day":
        return start + dt.timedelta(days=1)
    if grain == "week":
        return start + dt.timedelta(days=7)
    return (start.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def periods(first: dt.date, last: dt.date, grain: str) -> list[dt.date]:
    """The starts of every period from the one holding `first` to the one holding `last`."""
    out, p = [], period_start(first, grain)
    while p <= last:
        out.append(p)
        p = next_period(p, grain)
    return out


def rising(current: int, previous: int) -> bool:
    """`trend_rising`: at least 30% more than the previous period, which had at least one case."""
    return previous >= 1 and (current - previous) >= RISING * previous
