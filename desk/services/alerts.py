"""Whistles (吹哨) and warnings (预警): summoning departments with their three clocks, the record of each
department, and the warnings the supervisor reads -- raised at registration, by the sweep (deadlines at
60/80/90 %/overdue, whistle clocks run out) and again every 10 minutes while a 重大 one is unread.

A warning raised again is the same warning (the same `warning_id`) raised anew: one line on the panel, its
`raised_at` the latest alert, the timeline showing each alert. Reading it (`acknowledge`) stops the alerts.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from desk.config import RESOURCES
from desk.core.calendar import WorkCalendar
from desk.core.clock import Clock
from desk.core.deadlines import DeadlineRules, load_deadline_rules
from desk.core.documents import WhistleNoticeData
from desk.services.base import HallUseCases
from desk.store.session import Store

logger = logging.getLogger(__name__)

REALERT_AFTER = dt.timedelta(minutes=10)  # an unread 重大 warning alerts again this long after its last alert


@functools.cache
def bundled_calendar() -> WorkCalendar:
    """The working-day calendar shipped in resources/calendar (read once a process)."""
    return WorkCalendar.load(RESOURCES / "calendar")


@functools.cache
def bundled_rules() -> DeadlineRules:
    """The deadline rules (and the whistle's clocks) shipped in resources/catalog (read once a process)."""
    return load_deadline_rules(RESOURCES / "catalog" / "deadline_rules.json")


# --- whistles ---------------------------------------------------------------------------------------------------


class WhistleClock(StrEnum):
    """The three clocks of a summoned department."""

    SIGN = "sign"  # 签收
    ARRIVE = "arrive"  # 报到
    REPORT = "report"  # 反馈

    @property
    def label(self) -> str:
        return CLOCK_LABELS[self]


CLOCK_LABELS = {WhistleClock.SIGN: "签收", WhistleClock.ARRIVE: "报到", WhistleClock.REPORT: "反馈"}


class ClockState(StrEnum):
    PENDING = "pending"  # not done, time left
    ON_TIME = "on_time"  # done by its time
    LATE = "late"  # done after its time
    OVERDUE = "overdue"  # not done, its time run out

    @property
    def label(self) -> str:
        return CLOCK_STATE_LABELS[self]


CLOCK_STATE_LABELS = {
    ClockState.PENDING: "未到期",
    ClockState.ON_TIME: "按时",
    ClockState.LATE: "超时完成",
    ClockState.OVERDUE: "已超时",
}

RATINGS = ("satisfied", "basically", "dissatisfied")
RATING_LABELS = {"satisfied": "满意", "basically": "基本满意", "dissatisfied": "不满意"}

# The warning a clock that runs out raises: signing late is a nudge, not arriving or not reporting is graver.
CLOCK_WARNING_LEVELS = {
    WhistleClock.SIGN: "general",
    WhistleClock.ARRIVE: "major",
    WhistleClock.REPORT: "major",
}


@dataclass(frozen=True)
class ClockView:
    """One clock of one summoned department: when it runs out, when it was done, and its state at `now`."""

    clock: WhistleClock
    due_at: dt.datetime
    done_at: dt.datetime | None
    state: ClockState

    @property
    def label(self) -> str:
        return self.clock.label

    @property
    def state_label(self) -> str:
        return self.state.label


@dataclass(frozen=True)
class WhistleView:
    """One department summoned by one whistle (a row of `whistles`), with its clocks read at `now`."""

    id: str  # whistle_id:department
    whistle_id: str
    case_id: str
    case_no: str
    department: str  # its code
    department_name: str
    matter: str
    complex: bool
    blown_at: dt.datetime
    sign: ClockView
    arrive: ClockView
    report: ClockView
    signed_by: str | None
    arrived_by: str | None
    result: str | None
    rating: str | None  # satisfied | basically | dissatisfied

    @property
    def clocks(self) -> tuple[ClockView, ClockView, ClockView]:
        return (self.sign, self.arrive, self.report)

    @property
    def overdue(self) -> tuple[ClockView, ...]:
        """The clocks run out and not done."""
        return tuple(c for c in self.clocks if c.state is ClockState.OVERDUE)

    @property
    def rating_label(self) -> str:
        return RATING_LABELS.get(self.rating or "", "")


@dataclass(frozen=True)
class Whistle:
    """A whistle as blown: the matter, its three clocks, and each department summoned."""

    whistle_id: str
    case_no: str
    matter: str
    complex: bool
    blown_at: dt.datetime
    sign_by: dt.datetime
    arrive_by: dt.datetime
    report_by: dt.datetime
    departments: tuple[WhistleView, ...]
    calendar_gap: str = (
        ""  # the loud message when the calendar lacked a year (report_by counted without holidays)
    )


@dataclass(frozen=True)
class ClockRate:
    """How a department kept one clock: `on_time` and `late` count the whistles whose clock is done or run out
    (late includes run out and not done); `pending` those still running."""

    clock: WhistleClock
    on_time: int
    late: int
    pending: int

    @property
    def label(self) -> str:
        return self.clock.label

    @property
    def rate(self) -> float | None:
        """on time / (on time + late); None when no clock has come due."""
        counted = self.on_time + self.late
        return None if counted == 0 else self.on_time / counted


@dataclass(frozen=True)
class RatingCount:
    rating: str
    count: int

    @property
    def label(self) -> str:
        return RATING_LABELS[self.rating]


@dataclass(frozen=True)
class DepartmentRecord:
    """A department's record: the whistles it was summoned by (newest first), its on-time rate per clock and the
    center's ratings of its responses."""

    code: str
    name: str
    phone: str
    active: bool
    whistles: tuple[WhistleView, ...]
    rates: tuple[ClockRate, ClockRate, ClockRate]  # sign, arrive, report
    ratings: tuple[RatingCount, ...]  # satisfied, basically, dissatisfied (zeros included)

    @property
    def on_time_rate(self) -> float | None:
        """All clocks together: on time / (on time + late); None when none has come due."""
        on_time = sum(r.on_time for r in self.rates)
        counted = on_time + sum(r.late for r in self.rates)
        return None if counted == 0 else on_time / counted


# --- warnings ---------------------------------------------------------------------------------------------------

WARNING_KINDS = ("risk", "deadline", "whistle", "crisis")
WARNING_KIND_LABELS = {"risk": "风险", "deadline": "期限", "whistle": "吹哨", "crisis": "心理危机"}
WARNING_LEVELS = ("general", "major", "serious")
WARNING_LEVEL_LABELS = {"general": "一般", "major": "较大", "serious": "重大"}


@dataclass(frozen=True)
class WarningView:
    """A warning (a row of `warnings`): `raised_at` is its latest alert (a 重大 one alerts again while unread)."""

    id: str
    case_id: str
    case_no: str
    kind: str  # risk | deadline | whistle | crisis
    level: str  # general | major | serious
    message: str  # names no person
    ref: str
    raised_at: dt.datetime
    acknowledged_at: dt.datetime | None
    acknowledged_by: str | None

    @property
    def is_open(self) -> bool:
        return self.acknowledged_at is None

    @property
    def serious(self) -> bool:
        return self.level == "serious"

    @property
    def kind_label(self) -> str:
        return WARNING_KIND_LABELS.get(self.kind, self.kind)

    @property
    def level_label(self) -> str:
        return WARNING_LEVEL_LABELS.get(self.level, self.level)


@dataclass(frozen=True)
class SweepReport:
    """What one sweep raised: new warnings, and 重大 ones alerted again."""

    raised: tuple[WarningView, ...] = ()
    realerted: tuple[WarningView, ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.raised or self.realerted)


@dataclass(frozen=True)
class RiskView:
    """A case's risk as last assessed."""

    case_no: str
    level: str | None  # general | major | serious; None: no flag
    flags: tuple[str, ...]
    warning_id: str | None  # the warning raised by this assessment, if any


# --- the services -----------------------------------------------------------------------------------------------


class WhistleService(HallUseCases):
    """吹哨: blow, each department's sign-off, arrival, report and rating, the notice, a department's record."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        *,
        actor: str,
        calendar: WorkCalendar | None = None,
        rules: DeadlineRules | None = None,
    ) -> None:
        super().__init__(store, clock)
        self.actor = actor
        self._calendar = calendar or bundled_calendar()
        self._rules = rules or bundled_rules()

    def departments(self) -> list[tuple[str, str]]:
        """The active departments of the synced catalog as (code, name), in the catalog's order."""
        raise NotImplementedError

    def blow(self, case_no: str, departments: Sequence[str], matter: str, complex: bool = False) -> Whistle:
        raise NotImplementedError

    def sign(self, whistle_id: str, department: str, by: str) -> WhistleView:
        raise NotImplementedError

    def arrive(
        self, whistle_id: str, department: str, by: str, arrived_at: dt.datetime | None = None
    ) -> WhistleView:
        raise NotImplementedError

    def report(self, whistle_id: str, department: str, result: str) -> WhistleView:
        raise NotImplementedError

    def rate(self, whistle_id: str, department: str, rating: str) -> WhistleView:
        raise NotImplementedError

    def whistle(self, whistle_id: str) -> Whistle:
        raise NotImplementedError

    def case_whistles(self, case_no: str) -> list[WhistleView]:
        raise NotImplementedError

    def whistle_notice_data(
        self, whistle_id: str, department: str | None = None
    ) -> tuple[WhistleNoticeData, ...]:
        raise NotImplementedError

    def department_record(self, code: str) -> DepartmentRecord:
        raise NotImplementedError

    def late(self, now: dt.datetime | None = None) -> list[WhistleView]:
        raise NotImplementedError


class WarningService(HallUseCases):
    """预警: the open warnings, reading one, the sweep that raises what time has brought, and risk flags added to a
    case after its registration."""

    def __init__(self, store: Store, clock: Clock, *, actor: str) -> None:
        super().__init__(store, clock)
        self.actor = actor

    def open_warnings(self) -> list[WarningView]:
        raise NotImplementedError

    def acknowledged(self, limit: int = 50) -> list[WarningView]:
        raise NotImplementedError

    def case_warnings(self, case_no: str) -> list[WarningView]:
        raise NotImplementedError

    def acknowledge(self, warning_id: str) -> WarningView:
        raise NotImplementedError

    def needs_attention(self, since: dt.datetime) -> list[WarningView]:
        raise NotImplementedError

    def change_mark(self) -> int:
        raise NotImplementedError

    def sweep(self, now: dt.datetime | None = None) -> SweepReport:
        raise NotImplementedError

    def flag_risk(self, case_no: str, flags: Iterable[str]) -> RiskView:
        raise NotImplementedError
