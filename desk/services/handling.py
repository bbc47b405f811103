"""Handling a case after it is claimed: sessions and bookings, ending a reception, the outcome and its agreement,
transfer out, withdrawal, termination, closure and follow-up, and the deadline's pause, resumption and extension;
the case file (`CaseFile`) that shows all of it, and the overdue and follow-up lists.

Every step is one unit of work: the case's state is checked against the lifecycle table first
(`lifecycle.advance`, which raises `Refused` with the reason), then the input (`ValidationError`, field by field);
only then are its events appended. A refused step writes nothing. Each step returns the case file as it is after
the commit.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from desk.config import Settings
from desk.core import deadlines as dl
from desk.core import events as ev
from desk.core import lifecycle
from desk.core import queue as q
from desk.core.audit import AuditAction
from desk.core.calendar import CalendarGap, WorkCalendar
from desk.core.cases import CHANNEL_LABELS, RISK_LABELS, CaseState, Channel, RiskFlag
from desk.core.clock import CHINA_TZ, Clock, local_date
from desk.core.documents import AgreementData
from desk.core.ids import new_id
from desk.core.lifecycle import FinishChoice, Step
from desk.core.parties import PartyRole
from desk.core.permissions import ANONYMOUS, Action, Principal, Scope
from desk.core.queue import TicketState
from desk.core.risk import LEVEL_LABELS, RiskLevel
from desk.errors import DeskError, FieldProblem, NotFound, Refused, ValidationError
from desk.services import sealing
from desk.services.base import HallUseCases
from desk.services.calendars import raise_calendar_gap, raw_due
from desk.store import repositories as repo
from desk.store.events import append_event, bump_counter
from desk.store.models import (
    BookingRow,
    CaseRow,
    DepartmentRow,
    RoomRow,
    TicketRow,
    WarningRow,
    WhistleRow,
)
from desk.store.queries import tickets as tickets_q

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from desk.security.vault import Vault
    from desk.store.session import Store

__all__ = [
    "OUTCOME_LABELS",
    "SATISFACTION_LABELS",
    "TRANSFER_KINDS",
    "Attendee",
    "Booking",
    "BookingView",
    "CaseFile",
    "ClockState",
    "ClockView",
    "CaseHandlingService",
    "DeadlineView",
    "FinishChoice",
    "FollowUpDue",
    "FollowUpView",
    "Outcome",
    "OutcomeView",
    "OverdueCase",
    "PartyBrief",
    "SessionView",
    "Statement",
    "TimelineEntry",
    "Transfer",
    "TransferView",
    "WarningView",
    "WhistleView",
]

logger = logging.getLogger(__name__)

Attendee = ev.Attendee
Statement = ev.Statement

# --- the vocabularies ----------------------------------------------------------------------------------------

OUTCOME_LABELS = {
    "resolved": "调解成功",
    "partly_resolved": "部分达成",
    "not_resolved": "调解不成",
    "terminated": "终止调解",
}
_OUTCOME_STEPS = {
    "resolved": Step.RECORD_OUTCOME_RESOLVED,
    "partly_resolved": Step.RECORD_OUTCOME_PARTLY,
    "not_resolved": Step.RECORD_OUTCOME_NOT_RESOLVED,
    "terminated": Step.TERMINATE,
}
TRANSFER_KINDS = {
    "litigation": "诉讼",
    "arbitration": "仲裁",
    "admin_review": "行政复议",
    "petition": "信访",
    "department": "相关部门",
    "higher": "上级",
}
FOLLOW_UP_METHODS = {"phone": "电话回访", "visit": "上门回访"}
SATISFACTION_LABELS = {"satisfied": "满意", "basically": "基本满意", "dissatisfied": "不满意"}
ATTENDEE_ROLES = {"party": "当事人", "mediator": "调解员", "department": "部门人员"}
DOCUMENT_LABELS = {"receipt": "受理回执", "registration_sheet": "来访登记表", "agreement": "人民调解协议书"}
JUDICIAL_CONFIRMATION_REMINDER = (
    "提示：双方当事人可以自本协议生效之日起三十日内，共同向有管辖权的人民法院申请司法确认；"
    "经司法确认有效的，一方拒绝履行或者未全部履行的，对方当事人可以向人民法院申请强制执行。"
)
DEFAULT_FOLLOW_UP_AFTER_DAYS = 7
_TIME_RE = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
_TEXT_MAX = 2000


class ClockState(StrEnum):
    """Where one of a whistle's clocks stands."""

    PENDING = "pending"  # not done, time left
    ON_TIME = "on_time"  # done by the clock
    LATE = "late"  # done after it ran out
    OVERDUE = "overdue"  # not done, and the clock has run out

    @property
    def label(self) -> str:
        return CLOCK_STATE_LABELS[self]


CLOCK_STATE_LABELS = {
    ClockState.PENDING: "未到时限",
    ClockState.ON_TIME: "按时完成",
    ClockState.LATE: "超时完成",
    ClockState.OVERDUE: "已超时",
}
CLOCK_LABELS = {"sign": "签收", "arrive": "报到", "report": "反馈"}


def clock_state(due: dt.datetime, done_at: dt.datetime | None, now: dt.datetime) -> ClockState:
    if done_at is not None:
        return ClockState.ON_TIME if done_at <= due else ClockState.LATE
    return ClockState.OVERDUE if now > due else ClockState.PENDING


# --- inputs ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Booking:
    """The next appointment (预约): a day, a time "HH:MM" and a room (None: the case's room)."""

    day: dt.date
    time: str
    room: str | None = None
    note: str = ""


@dataclass(frozen=True)
class Outcome:
    """An outcome as `finish_reception` takes it (the arguments of `record_outcome`)."""

    outcome: str  # resolved | partly_resolved | not_resolved | terminated
    reason: str = ""
    terms: tuple[str, ...] | None = None  # None: the last session's terms (resolved)
    performance: str = ""
    performance_deadline: dt.date | None = None


@dataclass(frozen=True)
class Transfer:
    """A transfer out as `finish_reception` takes it (the arguments of `transfer_out`)."""

    to_kind: str  # litigation | arbitration | admin_review | petition | department | higher
    to_name: str
    reason: str


# --- the case file --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PartyBrief:
    id: str
    role: str  # applicant | respondent | third_party
    role_label: str
    name: str
    # masked (620702********123X, 139****0001, 甘州区梁家墩镇****) unless the full record was asked for
    id_number: str | None = None
    phone: str | None = None
    address: str = ""


@dataclass(frozen=True)
class DeadlineView:
    """The case's time limit now. `remaining_days` counts calendar days from today to the due day (negative:
    overdue), `remaining_working_days` working days (None when the calendar lacks a year: `calendar_gap` says
    which); `progress` is the share of the limit used (0.0 .. 1.0, more when overdue; paused time not counted)."""

    rule: str
    rule_label: str
    basis: str
    start_on: dt.date | None
    due_on: dt.date | None
    due_at: dt.datetime | None  # the end of the due day (China time), as aware UTC
    paused: bool
    paused_at: dt.datetime | None
    remaining_days: int | None
    remaining_working_days: int | None
    progress: float | None
    overdue: bool
    extended: int  # extensions granted so far, in the rule's extension unit
    extension_max: int
    extension_unit_label: str
    calendar_gap: str  # "" or the loud message: holidays of a year not entered


@dataclass(frozen=True)
class SessionView:
    session_id: str
    started_at: dt.datetime
    ended_at: dt.datetime | None
    room: str
    attendees: tuple[ev.Attendee, ...]
    statements: tuple[ev.Statement, ...]
    agreed: str
    terms: tuple[str, ...]
    recorded_at: dt.datetime
    recorded_by: str


@dataclass(frozen=True)
class BookingView:
    booking_id: str
    day: dt.date
    time: str
    room: str
    room_name: str
    note: str


@dataclass(frozen=True)
class OutcomeView:
    outcome: str
    label: str
    reason: str
    agreement_no: str
    terms: tuple[str, ...]
    performance: str
    performance_deadline: dt.date | None
    mediator: str
    recorded_at: dt.datetime
    recorded_by: str


@dataclass(frozen=True)
class TransferView:
    to_kind: str
    to_kind_label: str
    to_name: str
    reason: str
    transferred_at: dt.datetime
    transferred_by: str

    @property
    def where(self) -> str:
        """例：诉讼（甘州区人民法院）."""
        return f"{self.to_kind_label}（{self.to_name}）" if self.to_name else self.to_kind_label


@dataclass(frozen=True)
class ClockView:
    name: str  # sign | arrive | report
    label: str  # 签收 / 报到 / 反馈
    due: dt.datetime
    done_at: dt.datetime | None
    state: ClockState


@dataclass(frozen=True)
class WhistleView:
    whistle_id: str
    department: str
    department_name: str
    matter: str
    complex: bool
    blown_at: dt.datetime
    clocks: tuple[ClockView, ...]  # sign, arrive, report
    signed_by: str | None
    arrived_by: str | None
    result: str | None
    rating: str | None
    rating_label: str


@dataclass(frozen=True)
class WarningView:
    warning_id: str
    kind: str  # risk | deadline | whistle | crisis
    level: str  # general | major | serious
    level_label: str
    message: str
    ref: str
    raised_at: dt.datetime
    acknowledged_at: dt.datetime | None
    acknowledged_by: str | None


@dataclass(frozen=True)
class FollowUpView:
    follow_up_id: str
    due_on: dt.date | None
    done_at: dt.datetime | None
    done_by: str
    method: str
    method_label: str
    agreement_held: bool | None
    satisfaction: str
    satisfaction_label: str
    note: str


@dataclass(frozen=True)
class TimelineEntry:
    occurred_at: dt.datetime
    actor: str
    kind: str
    label: str
    summary: str  # one line, what changed


@dataclass(frozen=True)
class CaseFile:
    """Everything the case view and the handling pane show about one case."""

    case_id: str
    case_no: str
    hall_code: str
    state: str
    state_label: str
    allowed: tuple[Step, ...]  # the steps allowed now (lifecycle.allowed_steps)
    finish_choices: tuple[FinishChoice, ...]  # what 结束接待 may say happened, in this state
    category_code: str
    category: str
    channel: str
    channel_label: str
    headcount: int
    registered_at: dt.datetime
    parties: tuple[PartyBrief, ...]
    room: str | None
    room_name: str | None
    ticket: str | None  # the latest ticket's label
    ticket_id: str | None
    ticket_state: str | None
    serving_ticket_id: str | None  # the ticket being received now (结束接待 ends it)
    deadline: DeadlineView
    risk_level: str | None
    risk_level_label: str
    risk_flags: tuple[str, ...]
    risk_flag_labels: tuple[str, ...]
    sessions: tuple[SessionView, ...]
    bookings: tuple[BookingView, ...]
    outcome: OutcomeView | None
    transfer: TransferView | None
    whistles: tuple[WhistleView, ...]
    warnings: tuple[WarningView, ...]
    follow_ups: tuple[FollowUpView, ...]
    timeline: tuple[TimelineEntry, ...]

    def can(self, step: Step) -> bool:
        return step in self.allowed


@dataclass(frozen=True)
class OverdueCase:
    case_no: str
    state: str
    state_label: str
    category: str
    due_on: dt.date
    days_overdue: int
    room: str | None
    risk_level: str | None


@dataclass(frozen=True)
class FollowUpDue:
    case_no: str
    state: str
    state_label: str
    category: str
    due_on: dt.date
    outcome: str | None
    closed_at: dt.datetime | None
    applicant: str
    phone: str | None


# --- the service ----------------------------------------------------------------------------------------------


class CaseHandlingService(HallUseCases):
    """The handling use cases over one hall's store. `actor` is who is signed in (the mediator); the calendar and
    the rules count the deadlines; `settings.follow_up_after_days` schedules the follow-up after closure."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        *,
        principal: Principal = ANONYMOUS,
        vault: Vault | None = None,
        calendar: WorkCalendar | None = None,
        rules: dl.DeadlineRules | None = None,
        settings: Settings | None = None,
    ) -> None:
        super().__init__(store, clock, principal=principal, vault=vault)
        self._calendar = calendar
        self._rules = rules
        self._settings = settings or Settings()

    @property
    def calendar(self) -> WorkCalendar:
        if self._calendar is None:
            from desk.services.calendars import load_calendar

            self._calendar = load_calendar()
        return self._calendar

    @property
    def rules(self) -> dl.DeadlineRules:
        if self._rules is None:
            from desk.services.calendars import load_rules

            self._rules = load_rules()
        return self._rules

    @property
    def follow_up_after_days(self) -> int:
        days = getattr(self._settings, "follow_up_after_days", DEFAULT_FOLLOW_UP_AFTER_DAYS)
        if not isinstance(days, int) or isinstance(days, bool) or not 0 <= days <= 366:
            logger.warning("follow_up_after_days %r is not a number of days; using %d", days, 7)
            return DEFAULT_FOLLOW_UP_AFTER_DAYS
        return days

    # --- reading ------------------------------------------------------------------------------------------

    def view(self, case_no: str, *, reveal: bool = False) -> CaseFile:
        """The case file: state, allowed steps, room, ticket, deadline, risk, sessions, outcome, transfer,
        whistles, warnings, follow-ups and the timeline (every event, in causal order). The parties' ID
        numbers, phones and addresses are masked; `reveal` gives them in full (the full record: a mediator of the
        case's room or who claimed it, or a supervisor; each such look is audited)."""
        self.guard(Action.VIEW_FULL if reveal else Action.VIEW_CASE)
        now = self._clock.now()
        if reveal:
            with self._store.read() as s:
                found = s.execute(
                    sa.select(CaseRow.id, CaseRow.case_no).where(CaseRow.case_no == case_no.strip())
                ).first()
            if found is None:
                raise NotFound(f"案件 {case_no.strip()} 不存在")
            self.record_full_view(found[0], found[1])
        with self._store.read() as s:
            return self._view(s, case_no, now, reveal=reveal)

    def overdue(self, now: dt.datetime | None = None) -> list[OverdueCase]:
        """Open cases whose due day has passed (a paused clock is not overdue), the longest overdue first."""
        self.guard(Action.REPORTS)
        now = now or self._clock.now()
        today = local_date(now)
        open_states = [st.value for st in CaseState if st.is_open]
        with self._store.read() as s:
            rows = s.scalars(
                sa.select(CaseRow)
                .where(
                    CaseRow.state.in_(open_states),
                    CaseRow.due_on < today,
                    CaseRow.paused_at.is_(None),
                )
                .order_by(CaseRow.due_on, CaseRow.case_no)
            ).all()
            names = _category_names(s)
            return [
                OverdueCase(
                    case_no=c.case_no,
                    state=c.state,
                    state_label=_state_label(c.state),
                    category=names.get(c.category_code, c.category_code),
                    due_on=c.due_on,
                    days_overdue=(today - c.due_on).days,
                    room=c.room_code,
                    risk_level=c.risk_level,
                )
                for c in rows
                if c.due_on is not None
            ]

    def follow_ups_due(self, day: dt.date | None = None) -> list[FollowUpDue]:
        """The follow-ups due on `day` (default today) or before and not yet made, the oldest first."""
        self.guard(Action.REPORTS)
        day = day or local_date(self._clock.now())
        with self._store.read() as s:
            rows = s.scalars(
                sa.select(CaseRow)
                .where(CaseRow.follow_up_due_on <= day)
                .order_by(CaseRow.follow_up_due_on, CaseRow.case_no)
            ).all()
            names = _category_names(s)
            out = []
            for c in rows:
                if c.follow_up_due_on is None:
                    continue
                applicant = repo.case_detail(s, case_id=c.id)
                first = _applicant(sealing.open_parties(applicant.parties, self.vault)) if applicant else None
                out.append(
                    FollowUpDue(
                        case_no=c.case_no,
                        state=c.state,
                        state_label=_state_label(c.state),
                        category=names.get(c.category_code, c.category_code),
                        due_on=c.follow_up_due_on,
                        outcome=c.outcome,
                        closed_at=c.closed_at,
                        applicant=first.name if first else "",
                        phone=first.phone if first else None,
                    )
                )
            return out

    def agreement_data(self, case_no: str) -> AgreementData:
        """The people's mediation agreement (人民调解协议书) of the case's outcome: the parties, the facts, the
        numbered terms, how and by when they are performed, the mediator, the agreement's own number and the
        reminder of judicial confirmation (司法确认) within 30 days. A case with no agreement yet gets the blank
        form (terms to fill in by hand), with the reminder."""
        self.guard(Action.PRINT)
        from desk.services.documents import DocumentService

        sheet = DocumentService(
            self._store, self._clock, self._settings, principal=self.principal, vault=self.vault
        ).sheet_data(case_no)
        with self._store.read() as s:
            case, events = self._load(s, case_no)
            outcome = _latest_outcome(case, events)
        if outcome is None or outcome.outcome not in ("resolved", "partly_resolved"):
            return AgreementData(sheet=sheet, facts=sheet.narrative, reminder=JUDICIAL_CONFIRMATION_REMINDER)
        return AgreementData(
            sheet=sheet,
            facts=sheet.narrative,
            terms=outcome.terms,
            performance=outcome.performance,
            performance_deadline=outcome.performance_deadline,
            mediators=tuple(m for m in outcome.mediator.split("、") if m),
            signed_on=local_date(outcome.recorded_at),
            document_no=outcome.agreement_no,
            reminder=JUDICIAL_CONFIRMATION_REMINDER,
        )

    # --- sessions and receptions --------------------------------------------------------------------------

    def record_session(
        self,
        case_no: str,
        *,
        attendees: Sequence[ev.Attendee],
        statements: Sequence[ev.Statement],
        agreed: str,
        terms: Sequence[str] = (),
        started_at: dt.datetime | None = None,
        ended_at: dt.datetime | None = None,
        room: str | None = None,
        book: Booking | None = None,
    ) -> CaseFile:
        """调解笔录: who attended, what each side said, what was agreed (and its terms); `book` also books the
        next appointment (预约)."""
        now = self._clock.now()
        with self._store.unit_of_work() as s:
            case, events = self._lock(s, case_no)
            lifecycle.advance(case.state, Step.RECORD_SESSION)
            if book is not None:
                lifecycle.advance(case.state, Step.BOOK)
            detail = repo.case_detail(s, case_id=case.id)
            parties = {p.id: p.name for p in detail.parties} if detail is not None else {}
            problems: list[FieldProblem] = []
            session = _check_session(
                problems,
                parties=parties,
                attendees=attendees,
                statements=statements,
                agreed=agreed,
                terms=terms,
                started_at=started_at or now,
                ended_at=ended_at,
                room=(room or case.room_code or "").strip(),
                now=now,
            )
            booking = None if book is None else self._check_booking(s, problems, case, book, now, "book.")
            if problems:
                raise ValidationError(problems)
            self._append(s, case, sealing.seal_session(session, self.vault), now)
            if booking is not None:
                self._append(s, case, booking, now)
        logger.info("session recorded on %s", case_no)
        return self.view(case_no)

    def book(self, case_no: str, booking: Booking) -> CaseFile:
        """预约: the next appointment, on its own (a session may book it too)."""
        now = self._clock.now()
        with self._store.unit_of_work() as s:
            case, _ = self._lock(s, case_no)
            lifecycle.advance(case.state, Step.BOOK)
            problems: list[FieldProblem] = []
            body = self._check_booking(s, problems, case, booking, now, "")
            if problems or body is None:
                raise ValidationError(problems)
            self._append(s, case, body, now)
        return self.view(case_no)

    def finish_reception(
        self,
        case_no: str,
        choice: FinishChoice,
        *,
        booking: Booking | None = None,
        outcome: Outcome | None = None,
        transfer: Transfer | None = None,
    ) -> CaseFile:
        """结束接待: end the ticket being received and record what happened -- another session booked
        (`booking`), an outcome (`outcome`; may be left out when one was recorded in this reception) or a
        transfer out (`transfer`; likewise). It never closes the case."""
        now = self._clock.now()
        with self._store.unit_of_work() as s:
            case, events = self._lock(s, case_no)
            state = lifecycle.advance(case.state, Step.FINISH_RECEPTION)
            ticket = self._serving_ticket(s, case)
            if choice is FinishChoice.BOOKED and booking is None:
                # the session of this reception may have booked it already: then that appointment stands
                ahead = s.scalar(
                    sa.select(sa.func.count())
                    .select_from(BookingRow)
                    .where(BookingRow.case_id == case.id, BookingRow.day >= local_date(now))
                )
                if not ahead:
                    raise ValidationError.single("booking", "请填写下次调解的日期、时间和功能室")
            elif choice is FinishChoice.BOOKED:
                assert booking is not None
                lifecycle.advance(state, Step.BOOK)
                problems: list[FieldProblem] = []
                body = self._check_booking(s, problems, case, booking, now, "booking.")
                if problems or body is None:
                    raise ValidationError(problems)
                self._append(s, case, body, now)
            elif choice is FinishChoice.OUTCOME:
                if outcome is not None:
                    self._outcome(s, case, events, outcome, now)
                elif case.outcome is None:  # not recorded earlier in this reception either
                    raise ValidationError.single(
                        "outcome", "请选择调解结果（调解成功、部分达成、调解不成或终止）"
                    )
            elif choice is FinishChoice.TRANSFER:
                if transfer is not None:
                    self._transfer(s, case, transfer, now)
                elif state is not CaseState.TRANSFERRED:
                    raise ValidationError.single("transfer", "请填写转办去向和理由")
            self._finish_ticket(s, case, ticket, now)
        logger.info("reception finished on %s (%s)", case_no, choice.value)
        return self.view(case_no)

    # --- outcome, transfer, withdrawal, termination -------------------------------------------------------

    def record_outcome(
        self,
        case_no: str,
        outcome: str,
        *,
        reason: str = "",
        terms: Sequence[str] | None = None,
        performance: str = "",
        performance_deadline: dt.date | None = None,
    ) -> CaseFile:
        """调解结果. Resolved: the agreement's terms (by default the last session's), its own number
        (`{hall}-{year}-调{seq:04d}`) and the mediator; partly resolved, not resolved, terminated: the reason."""
        now = self._clock.now()
        entry = Outcome(
            outcome, reason, None if terms is None else tuple(terms), performance, performance_deadline
        )
        with self._store.unit_of_work() as s:
            case, events = self._lock(s, case_no)
            self._outcome(s, case, events, entry, now)
        logger.info("outcome %s recorded on %s", outcome, case_no)
        return self.view(case_no)

    def terminate(self, case_no: str, reason: str) -> CaseFile:
        """终止调解, with the reason (the outcome `terminated`)."""
        return self.record_outcome(case_no, "terminated", reason=reason)

    def transfer_out(self, case_no: str, to_kind: str, to_name: str, reason: str) -> CaseFile:
        """转办: the case leaves the hall for litigation, arbitration, administrative review, the petition
        channel, another department or a higher level (`to_name` says which), with the reason."""
        now = self._clock.now()
        with self._store.unit_of_work() as s:
            case, _ = self._lock(s, case_no)
            self._transfer(s, case, Transfer(to_kind, to_name, reason), now)
        logger.info("case %s transferred out (%s)", case_no, to_kind)
        return self.view(case_no)

    def withdraw(self, case_no: str, reason: str) -> CaseFile:
        """撤回: the applicant withdrew; the reason is recorded."""
        return self._simple(
            case_no, Step.WITHDRAW, ev.Withdrawn(_required(reason, "reason", "撤回须说明理由"))
        )

    # --- closure and follow-up ----------------------------------------------------------------------------

    def close(self, case_no: str, summary: str = "") -> CaseFile:
        """办结; the follow-up is scheduled `follow_up_after_days` days after the day of closure."""
        now = self._clock.now()
        summary = _optional(summary, "summary")
        with self._store.unit_of_work() as s:
            case, _ = self._lock(s, case_no)
            lifecycle.advance(case.state, Step.CLOSE)
            self._append(s, case, ev.CaseClosed(summary), now)
            due = local_date(now) + dt.timedelta(days=self.follow_up_after_days)
            self._append(s, case, ev.FollowUpScheduled(new_id(), due), now)
        logger.info("case %s closed", case_no)
        return self.view(case_no)

    def follow_up(
        self,
        case_no: str,
        *,
        method: str,
        agreement_held: bool | None,
        satisfaction: str,
        note: str = "",
    ) -> CaseFile:
        """回访: how (phone | visit), whether the agreement held (None: there was none) and the satisfaction
        (satisfied | basically | dissatisfied). An agreement not held reopens the case in the same step."""
        now = self._clock.now()
        problems: list[FieldProblem] = []
        if method not in FOLLOW_UP_METHODS:
            problems.append(FieldProblem("method", "回访方式应为 phone（电话）或 visit（上门）"))
        if satisfaction not in SATISFACTION_LABELS:
            problems.append(
                FieldProblem(
                    "satisfaction",
                    "满意度应为 satisfied（满意）、basically（基本满意）或 dissatisfied（不满意）",
                )
            )
        note = _optional(note, "note", problems)
        with self._store.unit_of_work() as s:
            case, events = self._lock(s, case_no)
            state = lifecycle.advance(case.state, Step.FOLLOW_UP)
            if agreement_held is False:
                lifecycle.advance(state, Step.REOPEN)
            if problems:
                raise ValidationError(problems)
            scheduled = _pending_follow_up(events)
            self._append(
                s,
                case,
                ev.FollowedUp(scheduled or new_id(), method, agreement_held, satisfaction, note),
                now,
            )
            if agreement_held is False:
                self._append(
                    s, case, ev.CaseReopened("回访发现协议未履行" + (f"：{note}" if note else "")), now
                )
        logger.info("case %s followed up (reopened=%s)", case_no, agreement_held is False)
        return self.view(case_no)

    def reopen(self, case_no: str, reason: str) -> CaseFile:
        """重新调解: the agreement of a closed case was not performed."""
        return self._simple(
            case_no, Step.REOPEN, ev.CaseReopened(_required(reason, "reason", "重新调解须说明理由"))
        )

    # --- the deadline -------------------------------------------------------------------------------------

    def pause(self, case_no: str, reason: str) -> CaseFile:
        """期限中止 (e.g. waiting for an appraisal): the clock stops until `resume`."""
        reason = _required(reason, "reason", "中止期限须说明理由（如等待鉴定）")
        now = self._clock.now()
        with self._store.unit_of_work() as s:
            case, _ = self._lock(s, case_no)
            lifecycle.advance(case.state, Step.PAUSE)
            if case.paused_at is not None:
                raise Refused("期限已中止，不能重复中止；恢复后才能再次中止")
            if case.due_on is None:
                raise Refused("案件没有办理期限，不能中止")
            self._append(s, case, ev.DeadlinePaused(reason), now)
        return self.view(case_no)

    def resume(self, case_no: str) -> CaseFile:
        """期限恢复: the time that was left at the pause runs again from today (deadlines.resume)."""
        now = self._clock.now()
        with self._store.unit_of_work() as s:
            case, events = self._lock(s, case_no)
            lifecycle.advance(case.state, Step.RESUME)
            if case.paused_at is None or case.due_on is None:
                raise Refused("期限未中止，无需恢复")
            rule = self._rule(case, events)
            paused_on, today = local_date(case.paused_at), local_date(now)
            try:
                due = dl.resume(case.due_on, paused_on, today, rule, self.calendar)
            except CalendarGap as gap:
                due = case.due_on + (today - paused_on) if paused_on <= case.due_on else case.due_on
                self._gap_warning(s, case, gap, now)
            self._append(s, case, ev.DeadlineResumed(due), now)
        return self.view(case_no)

    def extend(self, case_no: str, amount: int, approved_by: str, reason: str) -> CaseFile:
        """期限延长 on approval, within the rule's maximum (deadlines.check_extension); the unit is the rule's
        extension unit."""
        now = self._clock.now()
        problems: list[FieldProblem] = []
        approved_by = _required(approved_by, "approved_by", "延长期限须写明批准人", problems)
        reason = _required(reason, "reason", "延长期限须说明理由", problems)
        with self._store.unit_of_work() as s:
            case, events = self._lock(s, case_no, Action.EXTEND)
            lifecycle.advance(case.state, Step.EXTEND)
            if case.due_on is None:
                raise Refused("案件没有办理期限，不能延长")
            rule = self._rule(case, events)
            try:
                dl.check_extension(rule, amount, already=_extended(events))
            except DeskError as e:
                problems.append(FieldProblem("days", e.message))
            if problems:
                raise ValidationError(problems)
            unit = rule.extends_in
            try:
                due = dl.extend(case.due_on, amount, unit, self.calendar)
            except CalendarGap as gap:
                due = raw_due(case.due_on, amount, unit)
                self._gap_warning(s, case, gap, now)
            self._append(s, case, ev.DeadlineExtended(amount, unit.value, due, approved_by, reason), now)
        return self.view(case_no)

    # --- helpers: the steps -------------------------------------------------------------------------------

    def _simple(self, case_no: str, step: Step, body: ev.EventBody) -> CaseFile:
        now = self._clock.now()
        with self._store.unit_of_work() as s:
            case, _ = self._lock(s, case_no)
            lifecycle.advance(case.state, step)
            self._append(s, case, body, now)
        logger.info("%s on %s", step.value, case_no)
        return self.view(case_no)

    def _outcome(
        self, s: Session, case: CaseRow, events: Sequence[ev.Event], entry: Outcome, now: dt.datetime
    ) -> None:
        step = _OUTCOME_STEPS.get(entry.outcome)
        if step is None:
            raise ValidationError.single(
                "outcome",
                "调解结果应为 resolved（调解成功）、partly_resolved（部分达成）、not_resolved（调解不成）或 terminated（终止）",
            )
        lifecycle.advance(case.state, step)
        problems: list[FieldProblem] = []
        reason = _optional(entry.reason, "reason", problems)
        performance = _optional(entry.performance, "performance", problems)
        sessions = [e.body for e in events if isinstance(e.body, ev.SessionRecorded)]
        last = sessions[-1] if sessions else None
        terms = entry.terms
        if terms is None:
            terms = last.terms if last is not None and entry.outcome == "resolved" else ()
        terms = tuple(t.strip() for t in terms if t.strip())
        if any(len(t) > _TEXT_MAX for t in terms):
            problems.append(FieldProblem("terms", f"协议条款每条不超过 {_TEXT_MAX} 字"))
        if entry.outcome == "resolved" and not terms:
            problems.append(
                FieldProblem("terms", "调解成功须写明协议条款（可在调解笔录中写明，或在此逐条填写）")
            )
        if entry.outcome != "resolved" and not reason:
            problems.append(FieldProblem("reason", f"{OUTCOME_LABELS[entry.outcome]}须说明理由"))
        deadline = entry.performance_deadline
        if deadline is not None and deadline < local_date(now):
            problems.append(FieldProblem("performance_deadline", "履行期限不能早于今天"))
        if problems:
            raise ValidationError(problems)
        agreement_no = ""
        if terms and entry.outcome in ("resolved", "partly_resolved"):
            year = now.astimezone(CHINA_TZ).year
            seq = bump_counter(s, self.hall_code, f"agreement:{year}")
            agreement_no = f"{self.hall_code}-{year}-调{seq:04d}"
        mediators = [a.name for a in (last.attendees if last else ()) if a.role == "mediator"]
        body = ev.OutcomeRecorded(
            outcome=entry.outcome,
            reason=reason,
            agreement_no=agreement_no,
            terms=terms,
            performance=performance,
            performance_deadline=deadline if terms else None,
            mediator="、".join(dict.fromkeys(mediators)) or self.actor,
        )
        self._append(s, case, body, now)

    def _transfer(self, s: Session, case: CaseRow, t: Transfer, now: dt.datetime) -> None:
        lifecycle.advance(case.state, Step.TRANSFER_OUT)
        problems: list[FieldProblem] = []
        if t.to_kind not in TRANSFER_KINDS:
            problems.append(
                FieldProblem(
                    "to_kind",
                    "转办去向应为 litigation（诉讼）、arbitration（仲裁）、admin_review（行政复议）、"
                    "petition（信访）、department（相关部门）或 higher（上级）",
                )
            )
        to_name = _required(
            t.to_name, "to_name", "请写明转办的承办单位（如 甘州区人民法院）", problems, limit=100
        )
        reason = _required(t.reason, "reason", "转办须说明理由", problems)
        if problems:
            raise ValidationError(problems)
        self._append(s, case, ev.TransferredOut(t.to_kind, to_name, reason), now)

    def _check_booking(
        self,
        s: Session,
        problems: list[FieldProblem],
        case: CaseRow,
        b: Booking,
        now: dt.datetime,
        prefix: str,
    ) -> ev.AppointmentBooked | None:
        before = len(problems)
        if b.day < local_date(now):
            problems.append(FieldProblem(prefix + "day", "预约日期不能早于今天"))
        if not _TIME_RE.match(b.time.strip()):
            problems.append(FieldProblem(prefix + "time", f"预约时间“{b.time[:10]}”应为 时:分，如 09:30"))
        elif b.day == local_date(now) and b.time.strip() <= now.astimezone(CHINA_TZ).strftime("%H:%M"):
            problems.append(FieldProblem(prefix + "time", "预约时间已过，请选择稍后的时间"))
        room = (b.room or case.room_code or "").strip().upper()
        if not room:
            problems.append(FieldProblem(prefix + "room", "请选择预约的功能室"))
        elif (
            s.scalar(sa.select(RoomRow.code).where(RoomRow.hall_code == case.hall_code, RoomRow.code == room))
            is None
        ):
            problems.append(FieldProblem(prefix + "room", f"功能室 {room} 不存在（desk rooms 可列出）"))
        note = _optional(b.note, prefix + "note", problems, limit=200)
        if len(problems) > before:
            return None
        return ev.AppointmentBooked(new_id(), b.day, b.time.strip(), room, note)

    def _serving_ticket(self, s: Session, case: CaseRow) -> TicketRow:
        ticket = s.scalars(
            sa.select(TicketRow)
            .where(TicketRow.case_id == case.id, TicketRow.state == TicketState.SERVING.value)
            .order_by(TicketRow.updated_at.desc())
        ).first()
        if ticket is None:
            raise Refused("案件没有正在接待的排队号，无需结束接待")
        return ticket

    def _finish_ticket(self, s: Session, case: CaseRow, ticket: TicketRow, now: dt.datetime) -> None:
        """The queue's ServiceFinished path (QueueService.finish), in this unit of work."""
        if not tickets_q.move_ticket(
            s, ticket.id, allowed=q.TRANSITIONS["finish"], to=TicketState.DONE, now=now
        ):
            from desk.errors import Conflict

            raise Conflict(f"{ticket.label} 刚被其他终端处理，请刷新")
        self._append(s, case, ev.ServiceFinished(ticket.id), now)

    def _gap_warning(self, s: Session, case: CaseRow, gap: CalendarGap, now: dt.datetime) -> None:
        raise_calendar_gap(
            s, case.hall_code if case.hall_code else self.hall_code, case.id, gap, now, self.actor
        )

    def _rule(self, case: CaseRow, events: Sequence[ev.Event]) -> dl.DeadlineRule:
        return rule_of(case.deadline_rule, _latest(events, ev.DeadlineSet), self.rules)

    def _append(self, s: Session, case: CaseRow, body: ev.EventBody, now: dt.datetime) -> None:
        append_event(
            s, hall_code=self.hall_code, case_id=case.id, body=body, occurred_at=now, actor=self.actor
        )
        self.audit(
            s, AuditAction.CHANGE, case_id=case.id, case_no=case.case_no, detail=ev.label_of(body), at=now
        )
        s.flush()
        s.refresh(case)

    # --- helpers: reading ---------------------------------------------------------------------------------

    def _load(self, s: Session, case_no: str) -> tuple[CaseRow, list[ev.Event]]:
        case = s.scalars(sa.select(CaseRow).where(CaseRow.case_no == case_no.strip())).first()
        if case is None:
            raise NotFound(f"案件 {case_no.strip()} 不存在")
        return case, _events(s, case.id)

    def _lock(
        self, s: Session, case_no: str, action: Action = Action.HANDLE
    ) -> tuple[CaseRow, list[ev.Event]]:
        """The case for a step: its row locked until the commit (PostgreSQL; SQLite's write lock is held
        already), so two terminals cannot both take a step the first one makes impossible. The signed-in
        person must hold `action` over it (a mediator: a case of their rooms, or one they claimed)."""
        self.guard(action)
        case = s.scalars(
            sa.select(CaseRow).where(CaseRow.case_no == case_no.strip()).with_for_update()
        ).first()
        if case is None:
            raise NotFound(f"案件 {case_no.strip()} 不存在")
        if case.hall_code != self.hall_code:
            raise Refused(f"案件 {case.case_no} 由其他综治中心（{case.hall_code}）办理，不能在本中心办理")
        self.guard(action, Scope(case.room_code, case.claimed_by))
        return case, _events(s, case.id)

    def _view(self, s: Session, case_no: str, now: dt.datetime, *, reveal: bool = False) -> CaseFile:
        detail = repo.case_detail(s, case_no=case_no.strip())
        if detail is None:
            raise NotFound(f"案件 {case_no.strip()} 不存在")
        case = s.get(CaseRow, detail.id)
        assert case is not None
        # sessions' statements and agreements are sealed in the log; the particulars masked unless `reveal`
        events = sealing.open_events(_events(s, case.id), self.vault)
        people = sealing.open_parties(detail.parties, self.vault, reveal=reveal, today=local_date(now))
        names = _category_names(s)
        rooms = {
            r.code: r.name for r in s.scalars(sa.select(RoomRow).where(RoomRow.hall_code == case.hall_code))
        }
        departments = {d.code: d.name for d in s.scalars(sa.select(DepartmentRow))}
        tickets = s.scalars(
            sa.select(TicketRow)
            .where(TicketRow.case_id == case.id)
            .order_by(TicketRow.updated_at.desc(), TicketRow.number.desc())
        ).all()
        latest = tickets[0] if tickets else None
        serving = next((t for t in tickets if t.state == TicketState.SERVING.value), None)
        whistles = s.scalars(
            sa.select(WhistleRow)
            .where(WhistleRow.case_id == case.id)
            .order_by(WhistleRow.blown_at, WhistleRow.department)
        ).all()
        warnings = s.scalars(
            sa.select(WarningRow).where(WarningRow.case_id == case.id).order_by(WarningRow.raised_at)
        ).all()
        bookings = s.scalars(
            sa.select(BookingRow)
            .where(BookingRow.case_id == case.id)
            .order_by(BookingRow.day, BookingRow.time)
        ).all()
        outcome = _latest_outcome(case, events)
        transfer = _latest_transfer(case, events)
        flags = tuple(case.risk_flags)
        return CaseFile(
            case_id=case.id,
            case_no=case.case_no,
            hall_code=case.hall_code,
            state=case.state,
            state_label=_state_label(case.state),
            allowed=lifecycle.allowed_steps(case.state),
            finish_choices=lifecycle.finish_choices(case.state) if serving is not None else (),
            category_code=case.category_code,
            category=names.get(case.category_code, case.category_code),
            channel=case.channel,
            channel_label=_channel_label(case.channel),
            headcount=case.headcount,
            registered_at=case.registered_at,
            parties=tuple(
                PartyBrief(p.id, p.role, _role_label(p.role), p.name, p.id_number, p.phone, p.address)
                for p in people
            ),
            room=case.room_code,
            room_name=rooms.get(case.room_code) if case.room_code else None,
            ticket=latest.label if latest else None,
            ticket_id=latest.id if latest else None,
            ticket_state=latest.state if latest else None,
            serving_ticket_id=serving.id if serving else None,
            deadline=self._deadline(case, events, now),
            risk_level=case.risk_level,
            risk_level_label=_level_label(case.risk_level),
            risk_flags=flags,
            risk_flag_labels=tuple(_flag_label(f) for f in flags),
            sessions=tuple(
                SessionView(
                    b.session_id,
                    b.started_at,
                    b.ended_at,
                    b.room,
                    b.attendees,
                    b.statements,
                    b.agreed,
                    b.terms,
                    e.occurred_at,
                    e.actor,
                )
                for e in events
                if isinstance((b := e.body), ev.SessionRecorded)
            ),
            bookings=tuple(
                BookingView(b.id, b.day, b.time, b.room, rooms.get(b.room, b.room), b.note) for b in bookings
            ),
            outcome=outcome,
            transfer=transfer,
            whistles=tuple(_whistle_view(w, departments, now) for w in whistles),
            warnings=tuple(_warning_view(w) for w in warnings),
            follow_ups=_follow_ups(events),
            timeline=tuple(_timeline(events, names, rooms, departments, self.rules)),
        )

    def _deadline(self, case: CaseRow, events: Sequence[ev.Event], now: dt.datetime) -> DeadlineView:
        last_set = _latest(events, ev.DeadlineSet)
        rule = rule_of(case.deadline_rule, last_set, self.rules)
        due_on = case.due_on
        today = local_date(now)
        # the raw count's note; the calendar's own message while the year is still missing
        gap = last_set.body.note if last_set is not None and isinstance(last_set.body, ev.DeadlineSet) else ""

        remaining_working: int | None = None
        if due_on is not None:
            try:
                if due_on >= today:
                    remaining_working = self.calendar.working_days_between(today, due_on)
                else:
                    remaining_working = -self.calendar.working_days_between(due_on, today)
            except CalendarGap as e:
                gap = e.message
        start = last_set.occurred_at if last_set is not None else case.registered_at
        progress = None
        if due_on is not None:
            progress = dl.progress(start, dl.end_of_day(due_on), now, _paused_spans(events, last_set))
        return DeadlineView(
            rule=case.deadline_rule,
            rule_label=rule.label,
            basis=rule.basis,
            start_on=last_set.body.start_on
            if last_set is not None and isinstance(last_set.body, ev.DeadlineSet)
            else local_date(case.registered_at),
            due_on=due_on,
            due_at=dl.end_of_day(due_on) if due_on is not None else None,
            paused=case.paused_at is not None,
            paused_at=case.paused_at,
            remaining_days=(due_on - today).days if due_on is not None else None,
            remaining_working_days=remaining_working,
            progress=progress,
            overdue=due_on is not None
            and due_on < today
            and case.paused_at is None
            and CaseState(case.state).is_open
            if case.state in CaseState._value2member_map_
            else False,
            extended=_extended(events),
            extension_max=rule.extension_max,
            extension_unit_label=rule.extends_in.label,
            calendar_gap=gap,
        )


def rule_of(code: str, last_set: ev.Event | None, rules: dl.DeadlineRules) -> dl.DeadlineRule:
    """The rule a case is counted by: the configured rule of that code, else (a work order's own limit, a rule
    since removed, a case from before the rules) one made from the case's `DeadlineSet`."""
    base = code.removesuffix(".order")
    found = rules.rules.get(base)
    body = last_set.body if last_set is not None and isinstance(last_set.body, ev.DeadlineSet) else None
    if found is not None and (body is None or code == base):
        return found
    if body is not None:
        unit = dl.DeadlineUnit(body.unit)
        if found is not None:
            return dataclasses.replace(found, code=code, amount=body.amount, unit=unit)
        return dl.DeadlineRule(code=code, label=code, amount=body.amount, unit=unit)
    return dl.DeadlineRule(code="legacy", label="登记时的期限", amount=30, unit=dl.DeadlineUnit.DAYS)


# --- helpers ----------------------------------------------------------------------------------------------------


def _events(s: Session, case_id: str) -> list[ev.Event]:
    from desk.store.events import as_event
    from desk.store.models import CaseEvent
    from desk.store.projections import event_order

    rows = s.scalars(sa.select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(*event_order(s)))
    return [as_event(r) for r in rows]


def _latest(events: Sequence[ev.Event], kind: type) -> ev.Event | None:
    return next((e for e in reversed(events) if isinstance(e.body, kind)), None)


def _after(events: Sequence[ev.Event], mark: ev.Event | None) -> Iterable[ev.Event]:
    if mark is None:
        return events
    return [e for e in events if e.order() > mark.order()]


def _extended(events: Sequence[ev.Event]) -> int:
    """Extensions granted since the rule was last set."""
    return sum(
        e.body.days
        for e in _after(events, _latest(events, ev.DeadlineSet))
        if isinstance(e.body, ev.DeadlineExtended)
    )


def _paused_spans(events: Sequence[ev.Event], last_set: ev.Event | None) -> list[dl.PausedSpan]:
    spans: list[dl.PausedSpan] = []
    start: dt.datetime | None = None
    for e in _after(events, last_set):
        if isinstance(e.body, ev.DeadlinePaused) and start is None:
            start = e.occurred_at
        elif isinstance(e.body, ev.DeadlineResumed) and start is not None:
            spans.append((start, e.occurred_at))
            start = None
    if start is not None:
        spans.append((start, None))
    return spans


def _pending_follow_up(events: Sequence[ev.Event]) -> str | None:
    done = {e.body.follow_up_id for e in events if isinstance(e.body, ev.FollowedUp)}
    for e in reversed(events):
        if isinstance(e.body, ev.FollowUpScheduled) and e.body.follow_up_id not in done:
            return e.body.follow_up_id
    return None


def _follow_ups(events: Sequence[ev.Event]) -> tuple[FollowUpView, ...]:
    scheduled: dict[str, dt.date] = {}
    out: dict[str, FollowUpView] = {}
    for e in events:
        b = e.body
        if isinstance(b, ev.FollowUpScheduled):
            scheduled[b.follow_up_id] = b.due_on
            out[b.follow_up_id] = FollowUpView(b.follow_up_id, b.due_on, None, "", "", "", None, "", "", "")
        elif isinstance(b, ev.FollowedUp):
            out[b.follow_up_id] = FollowUpView(
                b.follow_up_id,
                scheduled.get(b.follow_up_id),
                e.occurred_at,
                e.actor,
                b.method,
                FOLLOW_UP_METHODS.get(b.method, b.method),
                b.agreement_held,
                b.satisfaction,
                SATISFACTION_LABELS.get(b.satisfaction, b.satisfaction),
                b.note,
            )
    return tuple(out.values())


def _latest_outcome(case: CaseRow, events: Sequence[ev.Event]) -> OutcomeView | None:
    if case.outcome is None:
        return None
    e = _latest(events, ev.OutcomeRecorded)
    if e is None or not isinstance(b := e.body, ev.OutcomeRecorded):
        return None
    return OutcomeView(
        b.outcome,
        OUTCOME_LABELS.get(b.outcome, b.outcome),
        b.reason,
        b.agreement_no,
        b.terms,
        b.performance,
        b.performance_deadline,
        b.mediator,
        e.occurred_at,
        e.actor,
    )


def _latest_transfer(case: CaseRow, events: Sequence[ev.Event]) -> TransferView | None:
    if case.state != CaseState.TRANSFERRED.value:
        return None
    e = _latest(events, ev.TransferredOut)
    if e is None or not isinstance(b := e.body, ev.TransferredOut):
        return None
    return TransferView(
        b.to_kind, TRANSFER_KINDS.get(b.to_kind, b.to_kind), b.to_name, b.reason, e.occurred_at, e.actor
    )


def _whistle_view(w: WhistleRow, departments: dict[str, str], now: dt.datetime) -> WhistleView:
    clocks = (
        ClockView(
            "sign", CLOCK_LABELS["sign"], w.sign_by, w.signed_at, clock_state(w.sign_by, w.signed_at, now)
        ),
        ClockView(
            "arrive",
            CLOCK_LABELS["arrive"],
            w.arrive_by,
            w.arrived_at,
            clock_state(w.arrive_by, w.arrived_at, now),
        ),
        ClockView(
            "report",
            CLOCK_LABELS["report"],
            w.report_by,
            w.reported_at,
            clock_state(w.report_by, w.reported_at, now),
        ),
    )
    return WhistleView(
        w.whistle_id,
        w.department,
        departments.get(w.department, w.department),
        w.matter,
        w.complex,
        w.blown_at,
        clocks,
        w.signed_by,
        w.arrived_by,
        w.result,
        w.rating,
        SATISFACTION_LABELS.get(w.rating or "", ""),
    )


def _warning_view(w: WarningRow) -> WarningView:
    return WarningView(
        w.id,
        w.kind,
        w.level,
        _level_label(w.level),
        w.message,
        w.ref,
        w.raised_at,
        w.acknowledged_at,
        w.acknowledged_by,
    )


def _category_names(s: Session) -> dict[str, str]:
    return {c.code: c.name for c in repo.load_categories(s)}


def _applicant(parties: Sequence[repo.PartyView]) -> repo.PartyView | None:
    return next((p for p in parties if p.role == PartyRole.APPLICANT.value), parties[0] if parties else None)


def _state_label(state: str) -> str:
    try:
        return CaseState(state).label
    except ValueError:
        return state


def _channel_label(channel: str) -> str:
    try:
        return CHANNEL_LABELS[Channel(channel)]
    except ValueError:
        return channel


def _role_label(role: str) -> str:
    try:
        return PartyRole(role).label
    except ValueError:
        return role


def _level_label(level: str | None) -> str:
    if level is None:
        return ""
    try:
        return LEVEL_LABELS[RiskLevel(level)]
    except ValueError:
        return level


def _flag_label(flag: str) -> str:
    try:
        return RISK_LABELS[RiskFlag(flag)]
    except ValueError:
        return flag


def _required(
    value: str,
    field: str,
    message: str,
    problems: list[FieldProblem] | None = None,
    *,
    limit: int = _TEXT_MAX,
) -> str:
    text = (value or "").strip()
    problem = None
    if not text:
        problem = FieldProblem(field, message)
    elif len(text) > limit:
        problem = FieldProblem(field, f"{field} 不超过 {limit} 字")
    if problem is not None:
        if problems is None:
            raise ValidationError(problem)
        problems.append(problem)
    return text


def _optional(
    value: str, field: str, problems: list[FieldProblem] | None = None, *, limit: int = _TEXT_MAX
) -> str:
    text = (value or "").strip()
    if len(text) > limit:
        problem = FieldProblem(field, f"{field} 不超过 {limit} 字")
        if problems is None:
            raise ValidationError(problem)
        problems.append(problem)
    return text


def _check_session(
    problems: list[FieldProblem],
    *,
    parties: dict[str, str],  # id -> name
    attendees: Sequence[ev.Attendee],
    statements: Sequence[ev.Statement],
    agreed: str,
    terms: Sequence[str],
    started_at: dt.datetime,
    ended_at: dt.datetime | None,
    room: str,
    now: dt.datetime,
) -> ev.SessionRecorded:
    if not attendees:
        problems.append(FieldProblem("attendees", "请填写参加调解的人员（当事人、调解员、部门人员）"))
    clean_attendees = []
    for i, a in enumerate(attendees):
        at = f"attendees[{i}]."
        name = (a.name or "").strip()
        if not name:
            problems.append(FieldProblem(at + "name", f"第 {i + 1} 位参加人员缺少姓名"))
        if a.role not in ATTENDEE_ROLES:
            problems.append(
                FieldProblem(
                    at + "role",
                    f"第 {i + 1} 位参加人员的身份应为 party（当事人）、mediator（调解员）或 department（部门人员）",
                )
            )
        party_id = a.party_id
        if a.role == "party" and party_id is None:  # named only: the case's party of that name, if one
            same = [pid for pid, pname in parties.items() if pname == name]
            party_id = same[0] if len(same) == 1 else None
        if a.role == "party" and party_id is not None and party_id not in parties:
            problems.append(FieldProblem(at + "party_id", f"第 {i + 1} 位参加人员不是本案当事人"))
        if a.role == "department" and not (a.department or "").strip():
            problems.append(
                FieldProblem(at + "department", f"第 {i + 1} 位参加人员是部门人员，请写明所在部门")
            )
        clean_attendees.append(ev.Attendee(name, a.role, party_id, (a.department or "").strip() or None))
    clean_statements = []
    for i, st in enumerate(statements):
        at = f"statements[{i}]."
        speaker, text = (st.speaker or "").strip(), (st.text or "").strip()
        if not speaker:
            problems.append(FieldProblem(at + "speaker", f"第 {i + 1} 条陈述缺少陈述人"))
        if not text:
            problems.append(FieldProblem(at + "text", f"第 {i + 1} 条陈述没有内容"))
        elif len(text) > _TEXT_MAX * 5:
            problems.append(FieldProblem(at + "text", f"第 {i + 1} 条陈述过长（不超过 {_TEXT_MAX * 5} 字）"))
        clean_statements.append(ev.Statement(speaker, text))
    agreed = _optional(agreed, "agreed", problems, limit=_TEXT_MAX * 5)
    clean_terms = tuple(t.strip() for t in terms if t.strip())
    if any(len(t) > _TEXT_MAX for t in clean_terms):
        problems.append(FieldProblem("terms", f"协议条款每条不超过 {_TEXT_MAX} 字"))
    if started_at.tzinfo is None or (ended_at is not None and ended_at.tzinfo is None):
        problems.append(FieldProblem("started_at", "调解时间须带时区"))
    elif started_at > now + dt.timedelta(minutes=5):
        problems.append(FieldProblem("started_at", "调解开始时间不能晚于现在"))
    elif ended_at is not None and ended_at < started_at:
        problems.append(FieldProblem("ended_at", "调解结束时间不能早于开始时间"))
    return ev.SessionRecorded(
        session_id=new_id(),
        started_at=started_at.astimezone(dt.UTC) if started_at.tzinfo else started_at,
        ended_at=ended_at.astimezone(dt.UTC) if ended_at is not None and ended_at.tzinfo else ended_at,
        room=room,
        attendees=tuple(clean_attendees),
        statements=tuple(clean_statements),
        agreed=agreed,
        terms=clean_terms,
    )


# --- the timeline ------------------------------------------------------------------------------------------------


def _timeline(
    events: Sequence[ev.Event],
    categories: dict[str, str],
    rooms: dict[str, str],
    departments: dict[str, str],
    rules: dl.DeadlineRules,
) -> Iterable[TimelineEntry]:
    tickets: dict[str, str] = {}
    rule_labels = {code: r.label for code, r in rules.rules.items()}
    for e in events:
        b = e.body
        if isinstance(b, ev.TicketIssued | ev.Transferred):
            tickets[b.ticket_id] = b.label
        yield TimelineEntry(
            e.occurred_at,
            e.actor,
            e.kind,
            ev.label_of(b),
            _summary(b, categories, rooms, departments, tickets, rule_labels),
        )


def _day(d: dt.date | None) -> str:
    return "" if d is None else f"{d.year}年{d.month}月{d.day}日"


def _clip(text: str, n: int = 40) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"


def _summary(  # noqa: C901, PLR0911, PLR0912 - one line per kind of event
    b: ev.EventBody,
    categories: dict[str, str],
    rooms: dict[str, str],
    departments: dict[str, str],
    tickets: dict[str, str],
    rule_labels: dict[str, str],
) -> str:
    def room(code: str) -> str:
        return f"{code} {rooms[code]}" if code in rooms else code

    def dept(code: str) -> str:
        return departments.get(code, code)

    def ticket(tid: str) -> str:
        return tickets.get(tid, "排队号")

    if isinstance(b, ev.Registered):
        v = b.visit
        return f"{categories.get(v.category, v.category)}，{_channel_label(v.channel)}，{v.headcount}人"
    if isinstance(b, ev.RepeatVisit):
        return "同一事项再次来访" + (
            f"（{'、'.join(_flag_label(f) for f in b.risk_flags)}）" if b.risk_flags else ""
        )
    if isinstance(b, ev.RiskFlagged):
        return "标记：" + "、".join(_flag_label(f) for f in b.flags)
    if isinstance(b, ev.RiskAssessed):
        return f"风险等级：{_level_label(b.level) or '未定级'}" + (f"（{_clip(b.rule)}）" if b.rule else "")
    if isinstance(b, ev.Diverted):
        return f"分流至综治中心 {b.to_hall}" + (f"：{_clip(b.reason)}" if b.reason else "")
    if isinstance(b, ev.Routed):
        text = f"分派至 {room(b.room)}"
        return text + (f"（改派：{_clip(b.override_reason)}）" if b.overridden else "")
    if isinstance(b, ev.Transferred):
        return f"转至 {room(b.room)}，新号 {b.label}" + (f"：{_clip(b.reason)}" if b.reason else "")
    if isinstance(b, ev.TicketIssued):
        return f"排队号 {b.label}（{room(b.room)}）"
    if isinstance(b, ev.Called):
        return f"叫号 {ticket(b.ticket_id)}" + (
            f"（不按顺序：{_clip(b.out_of_order_reason)}）" if b.out_of_order_reason else ""
        )
    if isinstance(b, ev.Recalled):
        return f"重呼 {ticket(b.ticket_id)}（第 {b.recall} 次）"
    if isinstance(b, ev.Claimed):
        return f"接待 {ticket(b.ticket_id)}" + (f"（{b.terminal}）" if b.terminal else "")
    if isinstance(b, ev.Parked | ev.Unparked | ev.NoShow | ev.Abandoned | ev.ServiceFinished | ev.Requeued):
        return ticket(b.ticket_id)
    if isinstance(b, ev.DocumentPrinted):
        return DOCUMENT_LABELS.get(b.document, b.document) + ("（补打）" if b.reprint else "")
    if isinstance(b, ev.SessionRecorded):
        text = f"{len(b.attendees)}人参加，{len(b.statements)}条陈述"
        if b.agreed:
            text += f"；达成：{_clip(b.agreed)}"
        return text + (f"；协议条款 {len(b.terms)} 条" if b.terms else "")
    if isinstance(b, ev.AppointmentBooked):
        return f"预约 {_day(b.day)} {b.time}，{room(b.room)}"
    if isinstance(b, ev.OutcomeRecorded):
        text = OUTCOME_LABELS.get(b.outcome, b.outcome)
        if b.agreement_no:
            text += f"，协议书 {b.agreement_no}（{len(b.terms)} 条）"
        return text + (f"：{_clip(b.reason)}" if b.reason else "")
    if isinstance(b, ev.TransferredOut):
        return f"转办至{TRANSFER_KINDS.get(b.to_kind, b.to_kind)}（{b.to_name}）：{_clip(b.reason)}"
    if isinstance(b, ev.Withdrawn):
        return f"撤回：{_clip(b.reason)}"
    if isinstance(b, ev.CaseClosed):
        return "案件办结" + (f"：{_clip(b.summary)}" if b.summary else "")
    if isinstance(b, ev.FollowUpScheduled):
        return f"回访安排在 {_day(b.due_on)}"
    if isinstance(b, ev.FollowedUp):
        held = {True: "，协议已履行", False: "，协议未履行", None: ""}[b.agreement_held]
        return (
            f"{FOLLOW_UP_METHODS.get(b.method, b.method)}{held}，"
            f"{SATISFACTION_LABELS.get(b.satisfaction, b.satisfaction)}"
        )
    if isinstance(b, ev.CaseReopened):
        return f"重新调解：{_clip(b.reason)}"
    if isinstance(b, ev.DeadlineSet):
        unit = (
            dl.UNIT_LABELS.get(dl.DeadlineUnit(b.unit), b.unit)
            if b.unit in dl.DeadlineUnit._value2member_map_
            else b.unit
        )
        label = rule_labels.get(b.rule.removesuffix(".order"), b.rule)
        text = f"{label} {b.amount}{unit}，{_day(b.start_on)}起算，{_day(b.due_on)}到期"
        return text + (f"（{b.note}）" if b.note else "")
    if isinstance(b, ev.DeadlinePaused):
        return f"期限中止：{_clip(b.reason)}"
    if isinstance(b, ev.DeadlineResumed):
        return f"期限恢复，{_day(b.due_on)}到期"
    if isinstance(b, ev.DeadlineExtended):
        unit = (
            dl.UNIT_LABELS.get(dl.DeadlineUnit(b.unit), b.unit)
            if b.unit in dl.DeadlineUnit._value2member_map_
            else b.unit
        )
        return f"延长 {b.days}{unit}至 {_day(b.due_on)}（{b.approved_by}批准：{_clip(b.reason)}）"
    if isinstance(b, ev.WhistleBlown):
        return f"{'、'.join(dept(d) for d in b.departments)}：{_clip(b.matter)}" + (
            "（复杂事项）" if b.complex else ""
        )
    if isinstance(b, ev.WhistleSigned):
        return f"{dept(b.department)}签收" + (f"（{b.by}）" if b.by else "")
    if isinstance(b, ev.WhistleArrived):
        return f"{dept(b.department)}报到（{b.by}，{b.arrived_at.astimezone(CHINA_TZ):%m-%d %H:%M}）"
    if isinstance(b, ev.WhistleReported):
        return f"{dept(b.department)}反馈：{_clip(b.result)}"
    if isinstance(b, ev.WhistleRated):
        return f"{dept(b.department)}：{SATISFACTION_LABELS.get(b.rating, b.rating)}"
    if isinstance(b, ev.WarningRaised):
        return f"{_level_label(b.level)}预警：{_clip(b.message, 60)}"
    if isinstance(b, ev.WarningAcknowledged):
        return f"{b.by} 已阅"
    return f"较新版本写入的记录（{b.kind}）"


# --- a session as JSON (`desk case session --file`) ----------------------------------------------------------

SESSION_KEYS = frozenset(
    {"attendees", "statements", "agreed", "terms", "started_at", "ended_at", "room", "book"}
)


def session_from_json(data: object) -> dict[str, Any]:
    """The keyword arguments of `record_session` from a session file's JSON; every problem names its key."""
    if not isinstance(data, dict):
        raise ValidationError.single("session", "调解笔录文件应为一个 JSON 对象（{…}）")
    problems: list[FieldProblem] = []
    unknown = sorted(set(data) - SESSION_KEYS)
    if unknown:
        problems.append(FieldProblem(unknown[0], f"未知的键“{unknown[0][:40]}”"))

    def items(key: str) -> list[Any]:
        value = data.get(key, [])
        if not isinstance(value, list):
            problems.append(FieldProblem(key, f"{key} 应为列表"))
            return []
        return value

    def text(value: Any, key: str) -> str:
        if value is None:
            return ""
        if not isinstance(value, str):
            problems.append(FieldProblem(key, f"{key} 应为文字"))
            return ""
        return value

    def moment(key: str) -> dt.datetime | None:
        raw = data.get(key)
        if raw in (None, ""):
            return None
        try:
            t = dt.datetime.fromisoformat(str(raw))
        except ValueError:
            problems.append(FieldProblem(key, f"{key} 应为时间，如 2026-12-07T09:30:00+08:00"))
            return None
        return t if t.tzinfo is not None else t.replace(tzinfo=CHINA_TZ)

    attendees = []
    for i, a in enumerate(items("attendees")):
        if not isinstance(a, dict):
            problems.append(FieldProblem(f"attendees[{i}]", "每位参加人员应为对象（name、role）"))
            continue
        attendees.append(
            ev.Attendee(
                text(a.get("name"), f"attendees[{i}].name"),
                text(a.get("role"), f"attendees[{i}].role"),
                text(a.get("party_id"), f"attendees[{i}].party_id") or None,
                text(a.get("department"), f"attendees[{i}].department") or None,
            )
        )
    statements = []
    for i, st in enumerate(items("statements")):
        if not isinstance(st, dict):
            problems.append(FieldProblem(f"statements[{i}]", "每条陈述应为对象（speaker、text）"))
            continue
        statements.append(
            ev.Statement(
                text(st.get("speaker"), f"statements[{i}].speaker"),
                text(st.get("text"), f"statements[{i}].text"),
            )
        )
    terms = [text(t, f"terms[{i}]") for i, t in enumerate(items("terms"))]
    book = None
    raw_book = data.get("book")
    if raw_book is not None:
        if not isinstance(raw_book, dict):
            problems.append(FieldProblem("book", "book 应为对象（day、time、room）"))
        else:
            try:
                day = dt.date.fromisoformat(str(raw_book.get("day", "")))
            except ValueError:
                problems.append(FieldProblem("book.day", "预约日期应如 2026-12-08"))
            else:
                room = text(raw_book.get("room"), "book.room") or None
                book = Booking(
                    day,
                    text(raw_book.get("time"), "book.time"),
                    room,
                    text(raw_book.get("note"), "book.note"),
                )
    out: dict[str, Any] = {
        "attendees": attendees,
        "statements": statements,
        "agreed": text(data.get("agreed"), "agreed"),
        "terms": terms,
        "started_at": moment("started_at"),
        "ended_at": moment("ended_at"),
        "room": text(data.get("room"), "room") or None,
        "book": book,
    }
    if problems:
        raise ValidationError(problems)
    return out
