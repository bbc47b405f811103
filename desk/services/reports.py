"""The supervisor's views (issue 14): the dashboard's figures for a China-time day, each as `desk.core.metrics`
defines it; the lists behind the counts are the services' own (overdue, late whistles, follow-ups due)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from desk.core import metrics
from desk.core.clock import local_date
from desk.core.events import EventKind
from desk.core.permissions import ANONYMOUS, Action, Principal
from desk.errors import ValidationError
from desk.services import sealing
from desk.services.base import HallUseCases
from desk.store import repositories as repo
from desk.store.queries import dashboard as q
from desk.store.queries import trend as trend_q

if TYPE_CHECKING:
    from desk.core.clock import Clock
    from desk.store.repositories import CaseSummary
    from desk.store.session import Store


@dataclass(frozen=True)
class Dashboard:
    """One day's figures at one hall (see `desk.core.metrics.DEFINITIONS` for each)."""

    day: dt.date
    visits_today: int
    waiting_now: dict[str, int]
    wait_mean: float | None
    wait_p90: float | None
    abandoned_today: int
    resolved_today: int
    overdue: int
    warnings_open: dict[str, int]
    whistles_late: int
    follow_ups_due: int

    @property
    def waiting_total(self) -> int:
        return sum(self.waiting_now.values())


@dataclass(frozen=True)
class Trend:
    """矛盾纠纷走势: new cases per period and category (and per hall, for the county's side by side); the
    categories rising by the rule `desk.core.metrics.rising` in the last period against the one before."""

    grain: str
    periods: tuple[dt.date, ...]
    by_category: dict[str, tuple[int, ...]]
    by_hall: dict[str, tuple[int, ...]]
    rising: frozenset[str]
    rule: str = metrics.DEFINITIONS["trend_rising"]


class ReportService(HallUseCases):
    """The dashboard (a supervisor's: Action.REPORTS)."""

    def __init__(self, store: Store, clock: Clock, *, principal: Principal = ANONYMOUS) -> None:
        super().__init__(store, clock, principal=principal)

    def trend(
        self,
        first: dt.date,
        last: dt.date,
        grain: str = "day",
        *,
        halls: tuple[str, ...] = (),
        channels: tuple[str, ...] = (),
        categories: tuple[str, ...] = (),
        grids: tuple[str, ...] = (),
    ) -> Trend:
        """New cases from the period holding `first` (China time) to the one holding `last`, by `grain` (day, week
        from Monday, month); filters by hall, channel, category and township/grid (empty: all)."""
        self.guard(Action.REPORTS)
        if grain not in metrics.GRAINS:
            raise ValidationError.single(
                "grain", f"“{grain}”不是统计周期：应为 day（日）、week（周）或 month（月）"
            )
        if last < first:
            raise ValidationError.single("period", "结束日期早于开始日期")
        starts = metrics.periods(first, last, grain)
        start = metrics.china_day_bounds(starts[0])[0]
        end = metrics.china_day_bounds(metrics.next_period(starts[-1], grain))[0]
        index = {p: i for i, p in enumerate(starts)}
        by_category: dict[str, list[int]] = {}
        by_hall: dict[str, list[int]] = {}
        with self._store.read() as s:
            rows = trend_q.daily_counts(
                s, start, end, halls=halls, channels=channels, categories=categories, grids=grids
            )
        for day, hall, category, n in rows:
            i = index[metrics.period_start(day, grain)]
            by_category.setdefault(category, [0] * len(starts))[i] += n
            by_hall.setdefault(hall, [0] * len(starts))[i] += n
        up = (
            frozenset(c for c, v in by_category.items() if metrics.rising(v[-1], v[-2]))
            if len(starts) >= 2
            else frozenset()
        )
        return Trend(
            grain,
            tuple(starts),
            {c: tuple(v) for c, v in sorted(by_category.items())},
            {h: tuple(v) for h, v in sorted(by_hall.items())},
            up,
        )

    def trend_cases(
        self,
        period: dt.date,
        grain: str,
        *,
        halls: tuple[str, ...] = (),
        channels: tuple[str, ...] = (),
        categories: tuple[str, ...] = (),
        grids: tuple[str, ...] = (),
    ) -> list[CaseSummary]:
        """The cases behind one point of the chart (the period starting `period`), newest first, masked."""
        self.guard(Action.REPORTS)
        start = metrics.china_day_bounds(metrics.period_start(period, grain))[0]
        end = metrics.china_day_bounds(metrics.next_period(metrics.period_start(period, grain), grain))[0]
        with self._store.read() as s:
            ids = trend_q.case_ids(
                s, start, end, halls=halls, channels=channels, categories=categories, grids=grids
            )
            found = repo.summaries(s, ids)
        return sealing.mask_summaries(found, self.vault)

    def dashboard(self, day: dt.date | None = None) -> Dashboard:
        """The figures of `day` (default: today, China time); the lists' counts are taken at this moment."""
        self.guard(Action.REPORTS)
        now = self.now()
        day = day or local_date(now)
        start, end = metrics.china_day_bounds(day)
        hall = self.hall_code
        with self._store.read() as s:
            waits = [metrics.wait_minutes(a, c) for a, c in q.first_calls(s, hall, start, end)]
            visits = q.visits(s, hall, start, end)
            waiting = q.waiting_by_room(s, hall)
            abandoned = q.events_of_kind(s, hall, (EventKind.ABANDONED,), start, end)
            resolved = q.resolved(s, hall, start, end)
            warnings = q.open_warnings_by_level(s, hall)
        from desk.services.alerts import WhistleService
        from desk.services.handling import CaseHandlingService

        handling = CaseHandlingService(self._store, self._clock, principal=self.principal)
        whistles = WhistleService(self._store, self._clock, principal=self.principal)
        return Dashboard(
            day=day,
            visits_today=visits,
            waiting_now=waiting,
            wait_mean=metrics.mean(waits),
            wait_p90=metrics.p90(waits),
            abandoned_today=abandoned,
            resolved_today=resolved,
            overdue=len(handling.overdue(now)),
            warnings_open=warnings,
            whistles_late=sum(
                len(w.overdue) for w in whistles.late(now)
            ),  # a row per late clock, as its list
            follow_ups_due=len(handling.follow_ups_due(day)),
        )
