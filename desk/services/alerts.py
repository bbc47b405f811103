"""Whistles (吹哨) and warnings (预警): summoning departments with their three clocks, the record of each
department, and the warnings the supervisor reads -- raised at registration, by the sweep (deadlines at
60/80/90 %/overdue, whistle clocks run out) and again every 10 minutes while a 重大 one is unread.

A warning raised again is the same warning (the same `warning_id`) raised anew: one line on the panel, its
`raised_at` the latest alert, the timeline showing each alert. Reading it (`acknowledge`) stops the alerts.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Session

from desk.core import events as ev
from desk.core.audit import AuditAction
from desk.core.calendar import CalendarGap, WorkCalendar
from desk.core.cases import RISK_LABELS, CaseState, RiskFlag
from desk.core.clock import CHINA_TZ, Clock, local_date
from desk.core.deadlines import (
    ALERT_THRESHOLDS,
    DeadlineAlert,
    DeadlineRules,
    end_of_day,
    progress,
    thresholds_crossed,
    whistle_clocks,
)
from desk.core.documents import WhistleNoticeData
from desk.core.ids import new_id
from desk.core.lifecycle import Step, advance
from desk.core.permissions import ANONYMOUS, Action, Principal, actor_name
from desk.core.risk import LEVEL_RULE, RiskLevel, risk_level
from desk.errors import Conflict, FieldProblem, NotFound, Refused, ValidationError
from desk.services.base import HallUseCases
from desk.store import repositories as repo
from desk.store.events import append_event
from desk.store.models import Hall
from desk.store.queries import alerts as q
from desk.store.queries import hall as hall_q
from desk.store.queries.alerts import Department
from desk.store.session import Store

__all__ = [
    "ClockRate",
    "ClockState",
    "ClockView",
    "Department",
    "DepartmentRecord",
    "RatingCount",
    "RiskView",
    "SweepReport",
    "WarningService",
    "WarningView",
    "Whistle",
    "WhistleClock",
    "WhistleService",
    "WhistleView",
]

logger = logging.getLogger(__name__)

REALERT_AFTER = dt.timedelta(minutes=10)  # an unread 重大 warning alerts again this long after its last alert
# flags grave on their own (重大 by themselves): adding one raises a warning even on a case already 重大
GRAVE_FLAGS = (RiskFlag.CIVIL_TO_CRIMINAL, RiskFlag.EXTREME_BEHAVIOUR, RiskFlag.PSYCHOLOGICAL_CRISIS)


def bundled_calendar() -> WorkCalendar:
    """The working-day calendar shipped in resources/calendar (read once a process)."""
    from desk.services.calendars import load_calendar

    return load_calendar()


def bundled_rules() -> DeadlineRules:
    """The deadline rules (and the whistle's clocks) shipped in resources/catalog (read once a process)."""
    from desk.services.calendars import load_rules

    return load_rules()


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


# --- reading rows as views --------------------------------------------------------------------------------------

OPEN_STATES = tuple(s.value for s in CaseState if s.is_open)
NAME_MAX = 60  # whistles.signed_by / arrived_by, warnings.acknowledged_by
MATTER_MAX = 1000
RESULT_MAX = 2000
REF_MAX = 80  # warnings.ref
_LEVEL_RANK = {"serious": 2, "major": 1, "general": 0}
# the words people type for a rating, and the stored value
_RATING_INPUT = {**{r: r for r in RATINGS}, **{label: r for r, label in RATING_LABELS.items()}}


def _when(moment: dt.datetime) -> str:
    """China time to the minute, as messages say it."""
    return moment.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M")


def _day(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _clock_view(
    clock: WhistleClock, due: dt.datetime, done: dt.datetime | None, now: dt.datetime
) -> ClockView:
    if done is not None:
        state = ClockState.ON_TIME if done <= due else ClockState.LATE
    else:
        state = ClockState.OVERDUE if now > due else ClockState.PENDING
    return ClockView(clock, due, done, state)


def _whistle_view(r: q.WhistleRecord, names: dict[str, str], now: dt.datetime) -> WhistleView:
    return WhistleView(
        id=r.id,
        whistle_id=r.whistle_id,
        case_id=r.case_id,
        case_no=r.case_no,
        department=r.department,
        department_name=names.get(r.department, r.department),
        matter=r.matter,
        complex=r.complex,
        blown_at=r.blown_at,
        sign=_clock_view(WhistleClock.SIGN, r.sign_by, r.signed_at, now),
        arrive=_clock_view(WhistleClock.ARRIVE, r.arrive_by, r.arrived_at, now),
        report=_clock_view(WhistleClock.REPORT, r.report_by, r.reported_at, now),
        signed_by=r.signed_by,
        arrived_by=r.arrived_by,
        result=r.result,
        rating=r.rating,
    )


def _warning_view(r: q.WarningRecord) -> WarningView:
    return WarningView(
        id=r.id,
        case_id=r.case_id,
        case_no=r.case_no,
        kind=r.kind,
        level=r.level,
        message=r.message,
        ref=r.ref,
        raised_at=r.raised_at,
        acknowledged_at=r.acknowledged_at,
        acknowledged_by=r.acknowledged_by,
    )


def gravest_first(warnings: Iterable[WarningView]) -> list[WarningView]:
    """重大 before 较大 before 一般; within a level the latest alert first."""
    return sorted(warnings, key=lambda w: (-_LEVEL_RANK.get(w.level, 0), -w.raised_at.timestamp(), w.id))


def _names(records: Iterable[q.Department]) -> dict[str, str]:
    return {d.code: d.name for d in records}


def whistle_ref(clock: WhistleClock, row_id: str) -> str:
    """The `ref` of the warning a run-out clock raises: the clock and the whistle's row (hashed when a long
    department code would not fit the column)."""
    ref = f"{clock.value}:{row_id}"
    if len(ref) > REF_MAX:
        whistle_id, _, department = row_id.partition(":")
        ref = f"{clock.value}:{whistle_id}:{hashlib.sha1(department.encode()).hexdigest()[:12]}"
    return ref


def deadline_ref(alert: DeadlineAlert, due_on: dt.date) -> str:
    """The `ref` of a deadline warning: the stage and the due day it was reached for (a new due day, after an
    extension or a resumption, is counted afresh)."""
    return f"{alert.value}:{due_on.isoformat()}"


def _report_by_without_holidays(blown_at: dt.datetime, complex: bool, rules: DeadlineRules) -> dt.datetime:
    """The report clock counted in weekdays only: what the whistle gets when the calendar lacks a year."""
    w = rules.whistle
    day = local_date(blown_at)
    left = w.report_working_days_complex if complex else w.report_working_days
    while left:
        day += dt.timedelta(days=1)
        if day.weekday() < 5:
            left -= 1
    return end_of_day(day)


def _text(value: str, field: str, what: str, limit: int, problems: list[FieldProblem]) -> str:
    value = (value or "").strip()
    if not value:
        problems.append(FieldProblem(field, f"{what}不能为空"))
    elif len(value) > limit:
        problems.append(FieldProblem(field, f"{what}不能超过 {limit} 个字（现为 {len(value)} 个字）"))
    return value


def _raise(problems: list[FieldProblem]) -> None:
    if problems:
        raise ValidationError(problems)


# --- risk: the assessment and its immediate warning ---------------------------------------------------------------


def record_assessment(
    session: Session,
    *,
    hall_code: str,
    case_id: str,
    added: Collection[str],
    occurred_at: dt.datetime,
    actor: str,
) -> RiskView:
    """Assess the case's risk from its flags (after `added` were set on it) and, when the level or the flags
    changed, write `RiskAssessed`; a 重大 level reached, or a grave flag added (民转刑, extreme behaviour,
    psychological crisis), also raises an immediate 重大 warning (kind crisis when the person is in crisis).
    The warning names the case and the flags, never the person or what they said."""
    case = q.case_by_id(session, case_id)
    if case is None:
        raise NotFound(f"案件 {case_id} 不存在")
    level = risk_level(case.risk_flags, headcount=case.headcount)
    value = None if level is None else level.value
    flags = tuple(sorted(case.risk_flags))
    if value == case.risk_level and not added:
        return RiskView(case.case_no, value, flags, None)
    append_event(
        session,
        hall_code=hall_code,
        case_id=case_id,
        body=ev.RiskAssessed(value, flags, LEVEL_RULE),
        occurred_at=occurred_at,
        actor=actor,
    )
    warning_id = None
    grave_added = {str(f) for f in added} & {f.value for f in GRAVE_FLAGS}
    if level is RiskLevel.SERIOUS and (case.risk_level != value or grave_added):
        crisis = RiskFlag.PSYCHOLOGICAL_CRISIS.value in flags
        labels = "、".join(RISK_LABELS[f] for f in RiskFlag if f.value in flags)
        others = "、".join(
            RISK_LABELS[f] for f in RiskFlag if f.value in flags and f is not RiskFlag.PSYCHOLOGICAL_CRISIS
        )
        message = (
            f"案件 {case.case_no}：心理危机{f'（另有{others}）' if others else ''}，风险等级重大，"
            "请立即安排心理疏导并关注"
            if crisis
            else f"案件 {case.case_no}：风险等级重大（{labels}），请立即关注"
        )
        warning_id = new_id()
        append_event(
            session,
            hall_code=hall_code,
            case_id=case_id,
            body=ev.WarningRaised(
                warning_id, "crisis" if crisis else "risk", "serious", message, f"risk:{value}"
            ),
            occurred_at=occurred_at,
            actor=actor,
        )
        logger.info("serious risk warning raised on %s", case.case_no)
    return RiskView(case.case_no, value, flags, warning_id)


def parse_flags(flags: Iterable[str], field: str = "flags") -> set[str]:
    """Risk flags by value (group_visit, ...) or by their Chinese labels (集体访, ...)."""
    by_label = {label: f.value for f, label in RISK_LABELS.items()}
    known = {f.value for f in RiskFlag}
    out: set[str] = set()
    problems = []
    for i, raw in enumerate(flags):
        text = str(raw).strip()
        value = text if text in known else by_label.get(text)
        if value is None:
            choices = "、".join(f"{f.value}（{f.label}）" for f in RiskFlag)
            problems.append(FieldProblem(f"{field}[{i}]", f"风险标记“{text}”无效，应为 {choices} 之一"))
        else:
            out.add(value)
    _raise(problems)
    if not out:
        raise ValidationError.single(field, "请至少选择一个风险标记")
    return out


# --- the services -----------------------------------------------------------------------------------------------


class WhistleService(HallUseCases):
    """吹哨: blow, each department's sign-off, arrival, report and rating, the notice, a department's record."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        *,
        principal: Principal = ANONYMOUS,
        calendar: WorkCalendar | None = None,
        rules: DeadlineRules | None = None,
    ) -> None:
        super().__init__(store, clock, principal=principal)
        self._calendar = calendar or bundled_calendar()
        self._rules = rules or bundled_rules()

    def departments(self) -> list[Department]:
        """The active departments of the synced catalog, in the catalog's order."""
        with self._store.read() as s:
            return [d for d in q.departments(s) if d.active]

    def blow(self, case_no: str, departments: Sequence[str], matter: str, complex: bool = False) -> Whistle:
        """Summon departments (codes of the catalog) about a matter; the three clocks run from now. A calendar
        without the year the report clock ends in does not stop the whistle: the report clock is counted in
        weekdays and a 重大 warning says so."""
        now = self.now()
        hall = self.hall_code
        with self._store.unit_of_work() as s:
            case = q.case_by_no(s, case_no)
            if case is None:
                raise NotFound(f"案件 {case_no} 不存在")
            self.guard_case(s, Action.WHISTLE, case.id)
            advance(case.state, Step.WHISTLE)
            problems: list[FieldProblem] = []
            codes = [str(c).strip() for c in departments if str(c).strip()]
            catalog = {d.code: d for d in q.departments(s)}
            if not codes:
                problems.append(FieldProblem("departments", "请至少选择一个被吹哨的部门"))
            elif not catalog:
                problems.append(
                    FieldProblem(
                        "departments", "部门目录为空：本中心尚未从县级同步部门目录，请先运行 desk sync"
                    )
                )
            for i, code in enumerate(codes):
                d = catalog.get(code)
                if catalog and d is None:
                    problems.append(
                        FieldProblem(
                            f"departments[{i}]", f"部门代码“{code}”不在部门目录中（desk department 可列出）"
                        )
                    )
                elif d is not None and not d.active:
                    problems.append(FieldProblem(f"departments[{i}]", f"部门“{d.name}”已停用，不能吹哨"))
                elif code in codes[:i]:
                    problems.append(FieldProblem(f"departments[{i}]", f"部门“{catalog[code].name}”重复选择"))
            matter = _text(matter, "matter", "吹哨事项", MATTER_MAX, problems)
            _raise(problems)
            gap = ""
            try:
                sign_by, arrive_by, report_by = whistle_clocks(now, complex, self._calendar, self._rules)
            except CalendarGap as e:
                sign_by = now + dt.timedelta(hours=self._rules.whistle.sign_hours)
                arrive_by = now + dt.timedelta(hours=self._rules.whistle.arrive_hours)
                report_by = _report_by_without_holidays(now, complex, self._rules)
                gap = f"反馈时限按周末计算、未计节假日。{e.message}"
            whistle_id = new_id()
            append_event(
                s,
                hall_code=hall,
                case_id=case.id,
                body=ev.WhistleBlown(
                    whistle_id, tuple(codes), matter, complex, sign_by, arrive_by, report_by
                ),
                occurred_at=now,
                actor=self.actor,
            )
            if gap:
                append_event(
                    s,
                    hall_code=hall,
                    case_id=case.id,
                    body=ev.WarningRaised(
                        new_id(),
                        "whistle",
                        "serious",
                        f"案件 {case_no} 的吹哨：{gap}",
                        f"calendar:{whistle_id}",
                    ),
                    occurred_at=now,
                    actor=self.actor,
                )
            self.audit(s, AuditAction.CHANGE, case_id=case.id, case_no=case_no, detail="吹哨", at=now)
            rows = q.whistle(s, whistle_id)
            names = _names(catalog.values())
        logger.info("whistle blown on %s to %d departments", case_no, len(codes))
        order = {c: i for i, c in enumerate(codes)}
        views = sorted((_whistle_view(r, names, now) for r in rows), key=lambda v: order[v.department])
        return Whistle(
            whistle_id, case_no, matter, complex, now, sign_by, arrive_by, report_by, tuple(views), gap
        )

    def _answer(
        self,
        whistle_id: str,
        department: str,
        refusal: Callable[[q.WhistleRecord, str], str | None],
        body: Callable[[q.WhistleRecord], ev.EventBody],
        problems: list[FieldProblem],
    ) -> WhistleView:
        """One department's answer to a whistle: found, refused with the reason, or written."""
        now = self.now()
        hall = self.hall_code
        with self._store.unit_of_work() as s:
            rows = q.whistle(s, whistle_id)
            if not rows:
                raise NotFound(f"吹哨 {whistle_id} 不存在")
            names = _names(q.departments(s))
            row = next((r for r in rows if r.department == department), None)
            if row is None:
                summoned = "、".join(names.get(r.department, r.department) for r in rows)
                raise ValidationError.single(
                    "department", f"部门“{department}”不在此次吹哨的部门中（{summoned}）"
                )
            self.guard_case(s, Action.WHISTLE, row.case_id)
            reason = refusal(row, names.get(department, department))
            if reason:
                raise Refused(reason)
            _raise(problems)
            answer = body(row)
            append_event(
                s, hall_code=hall, case_id=row.case_id, body=answer, occurred_at=now, actor=self.actor
            )
            self.audit(s, AuditAction.CHANGE, case_id=row.case_id, detail=ev.label_of(answer), at=now)
            (after,) = [r for r in q.whistle(s, whistle_id) if r.department == department]
        return _whistle_view(after, names, now)

    def sign(self, whistle_id: str, department: str, by: str) -> WhistleView:
        """签收: the department signed for the whistle (who)."""
        problems: list[FieldProblem] = []
        by = _text(by, "by", "签收人", NAME_MAX, problems)

        def refusal(r: q.WhistleRecord, name: str) -> str | None:
            if r.signed_at is not None:
                return f"{name}已于 {_when(r.signed_at)} 签收，不能重复签收"
            return None

        return self._answer(
            whistle_id, department, refusal, lambda r: ev.WhistleSigned(whistle_id, department, by), problems
        )

    def arrive(
        self, whistle_id: str, department: str, by: str, arrived_at: dt.datetime | None = None
    ) -> WhistleView:
        """报到: the department made contact or arrived -- who, and when (default: now)."""
        now = self.now()
        problems: list[FieldProblem] = []
        by = _text(by, "by", "报到人", NAME_MAX, problems)
        when = now if arrived_at is None else arrived_at
        if when.tzinfo is None:
            problems.append(FieldProblem("arrived_at", "报到时间须带时区（中国时间为 +08:00）"))
            when = now
        elif when > now:
            problems.append(FieldProblem("arrived_at", f"报到时间 {_when(when)} 晚于现在"))

        def refusal(r: q.WhistleRecord, name: str) -> str | None:
            if r.signed_at is None:
                return f"{name}尚未签收，请先记录签收再记录报到"
            if r.arrived_at is not None:
                return f"{name}已于 {_when(r.arrived_at)} 报到（{r.arrived_by}），不能重复报到"
            if when < r.blown_at:
                problems.append(
                    FieldProblem("arrived_at", f"报到时间 {_when(when)} 早于吹哨时间 {_when(r.blown_at)}")
                )
            return None

        return self._answer(
            whistle_id,
            department,
            refusal,
            lambda r: ev.WhistleArrived(whistle_id, department, by, when.astimezone(dt.UTC)),
            problems,
        )

    def report(self, whistle_id: str, department: str, result: str) -> WhistleView:
        """反馈: the department's result."""
        problems: list[FieldProblem] = []
        result = _text(result, "result", "反馈结果", RESULT_MAX, problems)

        def refusal(r: q.WhistleRecord, name: str) -> str | None:
            if r.signed_at is None:
                return f"{name}尚未签收，不能记录反馈"
            if r.reported_at is not None:
                return f"{name}已于 {_when(r.reported_at)} 反馈，不能重复反馈"
            return None

        return self._answer(
            whistle_id,
            department,
            refusal,
            lambda r: ev.WhistleReported(whistle_id, department, result),
            problems,
        )

    def rate(self, whistle_id: str, department: str, rating: str) -> WhistleView:
        """评价: the center's rating of the department's response (satisfied | basically | dissatisfied, or
        满意 | 基本满意 | 不满意)."""
        problems: list[FieldProblem] = []
        value = _RATING_INPUT.get(str(rating).strip())
        if value is None:
            problems.append(FieldProblem("rating", f"评价“{rating}”无效，应为满意、基本满意或不满意"))

        def refusal(r: q.WhistleRecord, name: str) -> str | None:
            if r.reported_at is None:
                return f"{name}尚未反馈，不能评价"
            if r.rating is not None:
                return f"已评价{name}的反馈（{RATING_LABELS.get(r.rating, r.rating)}），不能重复评价"
            return None

        return self._answer(
            whistle_id,
            department,
            refusal,
            lambda r: ev.WhistleRated(whistle_id, department, value or ""),
            problems,
        )

    def whistle(self, whistle_id: str) -> Whistle:
        """A whistle with each department's clocks read now."""
        self.guard(Action.VIEW_CASE)
        now = self.now()
        with self._store.read() as s:
            rows = q.whistle(s, whistle_id)
            names = _names(q.departments(s))
        if not rows:
            raise NotFound(f"吹哨 {whistle_id} 不存在")
        r = rows[0]
        views = tuple(_whistle_view(x, names, now) for x in sorted(rows, key=lambda x: x.department))
        return Whistle(
            whistle_id, r.case_no, r.matter, r.complex, r.blown_at, r.sign_by, r.arrive_by, r.report_by, views
        )

    def case_whistles(self, case_no: str) -> list[WhistleView]:
        """The case's whistles, one row per department, the latest whistle first."""
        self.guard(Action.VIEW_CASE)
        now = self.now()
        with self._store.read() as s:
            case = q.case_by_no(s, case_no)
            if case is None:
                raise NotFound(f"案件 {case_no} 不存在")
            rows = q.case_whistles(s, case.id)
            names = _names(q.departments(s))
        return [_whistle_view(r, names, now) for r in rows]

    def whistle_notice_data(
        self, whistle_id: str, department: str | None = None
    ) -> tuple[WhistleNoticeData, ...]:
        """The whistle notice (吹哨通知单) for each department summoned (or the one named), its three clocks
        filled in."""
        self.guard(Action.PRINT)
        with self._store.read() as s:
            rows = q.whistle(s, whistle_id)
            if not rows:
                raise NotFound(f"吹哨 {whistle_id} 不存在")
            if department is not None:
                rows = [r for r in rows if r.department == department]
                if not rows:
                    raise ValidationError.single("department", f"部门“{department}”不在此次吹哨的部门中")
            names = _names(q.departments(s))
            hall = repo.local_hall(s)
            case = q.case_by_id(s, rows[0].case_id)
            categories = {c.code: c.name for c in repo.load_categories(s)}
            blown = next(
                (
                    e
                    for e in q.case_events(s, rows[0].case_id, (ev.EventKind.WHISTLE_BLOWN.value,))
                    if isinstance(e.body, ev.WhistleBlown) and e.body.whistle_id == whistle_id
                ),
                None,
            )
        category = "" if case is None else categories.get(case.category_code, case.category_code)
        rules = self._rules.whistle
        days = rules.report_working_days_complex if rows[0].complex else rules.report_working_days
        notes = ("复杂事项",) if rows[0].complex else ()
        return tuple(
            WhistleNoticeData(
                center_name=hall.name if hall else "",
                case_no=r.case_no,
                category=category,
                department=names.get(r.department, r.department),
                matter=r.matter,
                report_by=r.report_by,
                issued_at=r.blown_at,
                issued_by=actor_name(blown.actor) if blown else "",
                contact=hall.phone if hall else "",
                notes=notes,
                sign_by=r.sign_by,
                arrive_by=r.arrive_by,
                sign_hours=rules.sign_hours,
                arrive_hours=rules.arrive_hours,
                report_working_days=days,
            )
            for r in sorted(rows, key=lambda x: x.department)
        )

    def department_record(self, code: str) -> DepartmentRecord:
        """A department's whistles (newest first), how it kept each clock, and how the center rated it."""
        self.guard(Action.REPORTS)
        now = self.now()
        with self._store.read() as s:
            d = q.department(s, code)
            if d is None:
                raise NotFound(f"部门代码“{code}”不在部门目录中（desk department 可列出）")
            rows = q.department_whistles(s, code)
        views = tuple(_whistle_view(r, {d.code: d.name}, now) for r in rows)
        rates = []
        for clock in WhistleClock:
            states = [next(c for c in v.clocks if c.clock is clock).state for v in views]
            rates.append(
                ClockRate(
                    clock,
                    on_time=states.count(ClockState.ON_TIME),
                    late=states.count(ClockState.LATE) + states.count(ClockState.OVERDUE),
                    pending=states.count(ClockState.PENDING),
                )
            )
        ratings = tuple(RatingCount(r, sum(1 for v in views if v.rating == r)) for r in RATINGS)
        return DepartmentRecord(
            d.code, d.name, d.phone, d.active, views, (rates[0], rates[1], rates[2]), ratings
        )

    def late(self, now: dt.datetime | None = None) -> list[WhistleView]:
        """The hall's whistles not yet reported with a clock run out (签收, 报到 or 反馈), the latest first."""
        self.guard(Action.REPORTS)
        now = now or self.now()
        with self._store.read() as s:
            rows = q.late_whistles(s, self.hall_code, now)
            names = _names(q.departments(s))
        return [_whistle_view(r, names, now) for r in rows]


class WarningService(HallUseCases):
    """预警: the open warnings, reading one, the sweep that raises what time has brought, and risk flags added to a
    case after its registration."""

    def __init__(self, store: Store, clock: Clock, *, principal: Principal = ANONYMOUS) -> None:
        super().__init__(store, clock, principal=principal)

    def open_warnings(self) -> list[WarningView]:
        """Every unread warning of the hall, the gravest first."""
        self.guard(Action.WARNINGS)
        with self._store.read() as s:
            return gravest_first(_warning_view(r) for r in q.open_warnings(s, self.hall_code))

    def acknowledged(self, limit: int = 50) -> list[WarningView]:
        """The warnings read lately (who read each, and when), the latest first."""
        self.guard(Action.WARNINGS)
        with self._store.read() as s:
            return [_warning_view(r) for r in q.acknowledged_warnings(s, self.hall_code, limit)]

    def case_warnings(self, case_no: str) -> list[WarningView]:
        """A case's warnings, read or not, the latest alert first."""
        self.guard(Action.VIEW_CASE)
        with self._store.read() as s:
            case = q.case_by_no(s, case_no)
            if case is None:
                raise NotFound(f"案件 {case_no} 不存在")
            return [_warning_view(r) for r in q.case_warnings(s, case.id)]

    def acknowledge(self, warning_id: str) -> WarningView:
        """Read a warning: who (the service's actor) and when (now) are recorded, and its alerts stop. A warning
        already read is a `Conflict` naming who read it and when."""
        self.guard(Action.WARNINGS)
        now = self.now()
        hall = self.hall_code
        with self._store.unit_of_work() as s:
            w = q.warning(s, warning_id)
            if w is None:
                raise NotFound(f"预警 {warning_id} 不存在")
            if w.acknowledged_at is not None:
                raise Conflict(f"此预警已由 {w.acknowledged_by} 于 {_when(w.acknowledged_at)} 确认已阅")
            append_event(
                s,
                hall_code=hall,
                case_id=w.case_id,
                body=ev.WarningAcknowledged(warning_id, self.actor),
                occurred_at=now,
                actor=self.actor,
            )
            self.audit(s, AuditAction.CHANGE, case_id=w.case_id, detail="确认预警", at=now)
            after = q.warning(s, warning_id)
        assert after is not None
        logger.info("warning %s acknowledged", warning_id)
        return _warning_view(after)

    def needs_attention(self, since: dt.datetime) -> list[WarningView]:
        """The unread warnings alerted after `since` (raised, or a 重大 one alerted again), the gravest first:
        what a window shows at once when the change mark moved."""
        self.guard(Action.ALERT_BANNER)
        with self._store.read() as s:
            return gravest_first(_warning_view(r) for r in q.raised_since(s, self.hall_code, since))

    def change_mark(self) -> int:
        """The hall's change mark (every event moves it: a warning raised, alerted again or read)."""
        self.guard(Action.ALERT_BANNER)
        with self._store.read() as s:
            return hall_q.change_mark(s, self.hall_code)

    def sweep(self, now: dt.datetime | None = None) -> SweepReport:
        """Raise what time has brought, once: a deadline's 60/80/90 % and overdue (the latest stage reached
        since the last one raised for the case's due day), each whistle clock run out, and an unread 重大
        warning whose last alert is 10 minutes old (alerted again). Sweeping again at the same moment raises
        nothing; sweeps by several windows at once do not raise twice (they take the hall's row lock)."""
        self.guard(Action.WARNINGS)
        now = now or self.now()
        hall = self.hall_code
        raised: list[str] = []
        realerted: list[str] = []
        with self._store.unit_of_work() as s:
            s.execute(sa.select(Hall.code).where(Hall.code == hall).with_for_update())

            def warn(case_id: str, body: ev.WarningRaised) -> None:
                append_event(s, hall_code=hall, case_id=case_id, body=body, occurred_at=now, actor=self.actor)

            for w in q.due_realerts(s, hall, now - REALERT_AFTER):
                warn(w.case_id, ev.WarningRaised(w.id, w.kind, w.level, w.message, w.ref))
                realerted.append(w.id)

            cases = q.running_deadlines(s, hall, OPEN_STATES)
            refs = q.refs(s, [x.id for x in cases], "deadline")
            for case in cases:
                alert = _deadline_alert(s, case, refs.get(case.id, set()), now)
                if alert is None or case.due_on is None:
                    continue
                message = f"案件 {case.case_no}：{alert.label}（办理期限至 {_day(case.due_on)}）"
                warning_id = new_id()
                warn(
                    case.id,
                    ev.WarningRaised(
                        warning_id, "deadline", alert.warning_level, message, deadline_ref(alert, case.due_on)
                    ),
                )
                raised.append(warning_id)

            late = q.late_whistles(s, hall, now)
            names = _names(q.departments(s))
            whistle_refs = q.refs(s, sorted({r.case_id for r in late}), "whistle")
            for r in reversed(late):  # the oldest first
                view = _whistle_view(r, names, now)
                seen = whistle_refs.setdefault(r.case_id, set())
                for c in view.overdue:
                    ref = whistle_ref(c.clock, r.id)
                    if ref in seen:
                        continue
                    seen.add(ref)
                    message = f"案件 {r.case_no}：{view.department_name}未在时限内{c.label}（时限 {_when(c.due_at)}）"
                    warning_id = new_id()
                    warn(
                        r.case_id,
                        ev.WarningRaised(warning_id, "whistle", CLOCK_WARNING_LEVELS[c.clock], message, ref),
                    )
                    raised.append(warning_id)

            def views(ids: list[str]) -> tuple[WarningView, ...]:
                found = (q.warning(s, i) for i in ids)
                return tuple(_warning_view(w) for w in found if w is not None)

            report = SweepReport(views(raised), views(realerted))
        if not report.empty:
            logger.info("sweep raised %d warnings, alerted %d again", len(raised), len(realerted))
        return report

    def flag_risk(self, case_no: str, flags: Iterable[str]) -> RiskView:
        """Add risk flags to an open case (民转刑 and extreme behaviour are set by hand; by value or Chinese
        label) and assess it again: a 重大 level or a grave flag raises an immediate warning. Flags the case
        has already change nothing."""
        self.guard(Action.HANDLE)
        wanted = parse_flags(flags)
        now = self.now()
        hall = self.hall_code
        with self._store.unit_of_work() as s:
            case = q.case_by_no(s, case_no)
            if case is None:
                raise NotFound(f"案件 {case_no} 不存在")
            self.guard_case(s, Action.HANDLE, case.id)
            state = CaseState(case.state)
            if not state.is_open:
                raise Refused(f"案件{state.label}，不能再标记风险")
            added = wanted - set(case.risk_flags)
            if not added:
                return RiskView(case.case_no, case.risk_level, tuple(sorted(case.risk_flags)), None)
            append_event(
                s,
                hall_code=hall,
                case_id=case.id,
                body=ev.RiskFlagged(tuple(sorted(added))),
                occurred_at=now,
                actor=self.actor,
            )
            self.audit(
                s, AuditAction.CHANGE, case_id=case.id, case_no=case.case_no, detail="标记风险", at=now
            )
            return record_assessment(
                s, hall_code=hall, case_id=case.id, added=added, occurred_at=now, actor=self.actor
            )


def _deadline_alert(s: Session, case: q.CaseRef, refs: set[str], now: dt.datetime) -> DeadlineAlert | None:
    """The latest stage the case's running deadline reached since the last one raised for its due day."""
    if case.due_on is None:
        return None
    suffix = f":{case.due_on.isoformat()}"
    known = {a.value: a for a in DeadlineAlert}
    # the stage last raised (overdue: nothing more to raise; it reads as past every threshold)
    reached = {**ALERT_THRESHOLDS, DeadlineAlert.OVERDUE: float("inf")}
    prev = max(
        (
            reached[known[r[: -len(suffix)]]]
            for r in refs
            if r.endswith(suffix) and r[: -len(suffix)] in known
        ),
        default=0.0,
    )
    due = end_of_day(case.due_on)
    # From the registration and without the pauses, the share used is at least the true one: most cases stop here.
    if not thresholds_crossed(prev, progress(case.registered_at, due, now)):
        return None
    start = case.registered_at
    spans: list[tuple[dt.datetime, dt.datetime | None]] = []
    paused_at: dt.datetime | None = None
    for e in q.case_events(s, case.id, DEADLINE_KINDS):
        body = e.body
        if isinstance(body, ev.DeadlineSet):
            start, spans, paused_at = end_of_day(body.start_on), [], None
        elif isinstance(body, ev.DeadlinePaused):
            paused_at = e.occurred_at
        elif isinstance(body, ev.DeadlineResumed) and paused_at is not None:
            spans.append((paused_at, e.occurred_at))
            paused_at = None
    crossed = thresholds_crossed(prev, progress(start, due, now, spans))
    return crossed[-1] if crossed else None


DEADLINE_KINDS = (
    ev.EventKind.DEADLINE_SET.value,
    ev.EventKind.DEADLINE_PAUSED.value,
    ev.EventKind.DEADLINE_RESUMED.value,
)
