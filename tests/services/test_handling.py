"""CaseHandlingService: each step on both engines, refusals that write nothing, the deadline at registration (across
Spring Festival, and past the calendar's last year), pause/resume/extend, follow-up reopening, the lists."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from desk.core.clock import CHINA_TZ, FixedClock
from desk.core.lifecycle import FinishChoice, Step
from desk.core.permissions import actor_name
from desk.errors import Refused, ValidationError
from desk.services.handling import (
    Attendee,
    Booking,
    CaseHandlingService,
    Outcome,
    Statement,
    Transfer,
)
from desk.services.queue import QueueService
from desk.services.registration import RegistrationService
from desk.services.status import StatusService
from desk.store.models import CaseEvent, WarningRow
from desk.store.session import Store
from tests.conftest import staff, visit

TWO_PARTIES = [
    {"role": "applicant", "name": "张三", "phone": "13912345678"},
    {"role": "respondent", "name": "李四", "phone": "13912345679"},
]


def china(y: int, m: int, d: int, h: int = 10) -> dt.datetime:
    return dt.datetime(y, m, d, h, tzinfo=CHINA_TZ)


@pytest.fixture
def handling(store: Store, clock: FixedClock) -> CaseHandlingService:
    return CaseHandlingService(store, clock, principal=staff("王调解", "R01-终端1"))


@pytest.fixture
def desk(store: Store, clock: FixedClock) -> QueueService:
    return QueueService(store, clock, principal=staff("王调解", "R01-终端1"))


def register(service: RegistrationService, **overrides: object) -> str:
    return service.register(visit(parties=TWO_PARTIES, **overrides), new_case=True).case_no


def claim(desk: QueueService, case_no: str) -> None:
    issued = desk.issue_ticket(case_no)
    desk.claim(issued.ticket.id)


def events(store: Store) -> int:
    with store.read() as s:
        return int(s.scalar(sa.select(sa.func.count()).select_from(CaseEvent)) or 0)


def session(handling: CaseHandlingService, case_no: str, *terms: str, book: Booking | None = None) -> None:
    handling.record_session(
        case_no,
        attendees=[Attendee("张三", "party"), Attendee("李四", "party"), Attendee("王调解", "mediator")],
        statements=[Statement("张三", "院墙外杂物堵住通道"), Statement("李四", "愿意清理")],
        agreed="李四清理杂物" if terms else "",
        terms=terms,
        book=book,
    )


# --- the deadline at registration ----------------------------------------------------------------------------


def test_the_deadline_is_set_at_registration_by_its_rule_across_spring_festival(
    service: RegistrationService, handling: CaseHandlingService, clock: FixedClock
) -> None:
    clock.set(china(2026, 1, 23))
    case_no = register(service)
    d = handling.view(case_no).deadline
    # one month from Jan 23 ends on Feb 23, a day of the Spring Festival holiday: the next working day
    assert (d.rule, d.rule_label, d.start_on, d.due_on) == (
        "people_mediation",
        "人民调解",
        dt.date(2026, 1, 23),
        dt.date(2026, 2, 24),
    )
    assert d.due_at == dt.datetime(2026, 2, 24, 23, 59, 59, tzinfo=CHINA_TZ)
    assert d.remaining_days == 32 and d.progress == 0.0 and not d.overdue and not d.calendar_gap
    # working days left: Jan 26-30, Feb 2-6, 9-14 (14th a make-up Saturday), then the 24th
    assert d.remaining_working_days == 17
    assert (
        handling.view(case_no).timeline[1].summary == "人民调解 1个月，2026年1月23日起算，2026年2月24日到期"
    )


def test_a_calendar_without_next_year_never_blocks_a_registration_and_warns_loudly(
    service: RegistrationService, handling: CaseHandlingService, clock: FixedClock, store: Store
) -> None:
    clock.set(china(2026, 12, 10))
    case_no = register(service)
    file = handling.view(case_no)
    # the raw count: Jan 10, 2027 is a Sunday, not moved (the 2027 holidays are not known)
    assert file.deadline.due_on == dt.date(2027, 1, 10)
    assert (
        "2027 年的节假日安排尚未录入" in file.deadline.calendar_gap
        and "2027.json" in file.deadline.calendar_gap
    )
    assert "到期日按自然日粗算" in file.timeline[1].summary
    assert [(w.kind, w.level) for w in file.warnings] == [("deadline", "serious")]
    assert "2027.json" in file.warnings[0].message
    assert [t.kind for t in file.timeline] == ["registered", "deadline_set", "warning_raised"]
    with store.read() as s:
        assert s.scalar(sa.select(WarningRow.ref)) == "calendar:2027"
    # one reminder for the administrator, not one per visitor: the next cases that week raise none...
    clock.advance(hours=3)
    later = service.register(
        visit(parties=[{"role": "applicant", "name": "李四", "phone": "13700001111"}])
    ).case_no
    assert handling.view(later).deadline.calendar_gap and handling.view(later).warnings == ()
    # ...and a week later, the year still missing, it is said again
    clock.advance(days=7)
    again = service.register(
        visit(parties=[{"role": "applicant", "name": "王五", "phone": "13600002222"}])
    ).case_no
    assert [w.kind for w in handling.view(again).warnings] == ["deadline"]


# --- a whole case ----------------------------------------------------------------------------------------------


def test_a_case_from_claim_to_follow_up(
    service: RegistrationService,
    handling: CaseHandlingService,
    desk: QueueService,
    clock: FixedClock,
) -> None:
    case_no = register(service)
    claim(desk, case_no)
    file = handling.view(case_no)
    assert file.state == "in_mediation" and file.serving_ticket_id is not None
    assert Step.RECORD_SESSION in file.allowed and Step.CLOSE not in file.allowed
    assert set(file.finish_choices) == set(FinishChoice)

    session(handling, case_no)
    nxt = Booking(dt.date(2026, 11, 30), "09:30")
    file = handling.finish_reception(case_no, FinishChoice.BOOKED, booking=nxt)
    assert file.state == "in_mediation" and file.ticket_state == "done" and file.serving_ticket_id is None
    assert [(b.day, b.time, b.room) for b in file.bookings] == [(dt.date(2026, 11, 30), "09:30", "R01")]
    assert file.sessions[0].attendees[0].party_id == file.parties[0].id  # named: matched to the party

    clock.set(china(2026, 11, 30, 9))
    claim(desk, case_no)
    session(handling, case_no, "李四于2026年12月5日前清理院墙外杂物", "双方互不追究")
    file = handling.record_outcome(
        case_no, "resolved", performance="李四自行清理", performance_deadline=dt.date(2026, 12, 5)
    )
    o = file.outcome
    assert o is not None and file.state == "resolved"
    assert (o.agreement_no, o.terms, o.mediator) == (
        "620702001-2026-调0001",
        ("李四于2026年12月5日前清理院墙外杂物", "双方互不追究"),
        "王调解",
    )
    agreement = handling.agreement_data(case_no)
    assert agreement.document_no == o.agreement_no and agreement.terms == o.terms
    assert agreement.performance_deadline == dt.date(2026, 12, 5) and agreement.mediators == ("王调解",)
    assert [p.name for p in agreement.sheet.parties] == ["张三", "李四"]
    assert "三十日内" in agreement.reminder and "司法确认" in agreement.reminder

    file = handling.finish_reception(case_no, FinishChoice.OUTCOME)  # the outcome is recorded already
    assert file.state == "resolved" and file.ticket_state == "done"
    file = handling.close(case_no, "协议已签订")
    assert file.state == "closed" and Step.FOLLOW_UP in file.allowed
    assert [(u.due_on, u.done_at) for u in file.follow_ups] == [(dt.date(2026, 12, 7), None)]
    assert [c.case_no for c in handling.follow_ups_due(dt.date(2026, 12, 6))] == []
    due = handling.follow_ups_due(dt.date(2026, 12, 7))
    assert [(c.case_no, c.applicant, c.outcome) for c in due] == [(case_no, "张三", "resolved")]

    clock.set(china(2026, 12, 7))
    file = handling.follow_up(
        case_no, method="phone", agreement_held=False, satisfaction="dissatisfied", note="杂物未清理"
    )
    assert file.state == "in_mediation" and file.outcome is None  # the agreement was not performed
    assert handling.follow_ups_due(dt.date(2026, 12, 7)) == []
    assert file.follow_ups[0].method_label == "电话回访" and file.follow_ups[0].agreement_held is False
    kinds = [t.kind for t in file.timeline]
    assert kinds == [
        "registered",
        "deadline_set",
        "routed",
        "ticket_issued",
        "claimed",
        "session_recorded",
        "appointment_booked",
        "service_finished",
        "routed",
        "ticket_issued",
        "claimed",
        "session_recorded",
        "outcome_recorded",
        "service_finished",
        "case_closed",
        "follow_up_scheduled",
        "followed_up",
        "case_reopened",
    ]
    assert all(
        actor_name(t.actor) == "王调解" or t.kind in ("registered", "deadline_set") for t in file.timeline
    )
    assert file.timeline[-2].summary == "电话回访，协议未履行，不满意"


def test_a_follow_up_that_finds_the_agreement_held_ends_the_case(
    service: RegistrationService, handling: CaseHandlingService, desk: QueueService
) -> None:
    case_no = register(service)
    claim(desk, case_no)
    handling.record_outcome(case_no, "resolved", terms=["李四清理杂物"])
    handling.close(case_no)
    file = handling.follow_up(case_no, method="visit", agreement_held=True, satisfaction="satisfied")
    assert file.state == "followed_up" and file.follow_ups[0].done_at is not None
    assert Step.REOPEN in file.allowed


def test_outcomes_other_than_resolved_need_a_reason_and_give_no_agreement(
    service: RegistrationService, handling: CaseHandlingService, desk: QueueService, store: Store
) -> None:
    case_no = register(service)
    claim(desk, case_no)
    before = events(store)
    with pytest.raises(ValidationError) as e:
        handling.record_outcome(case_no, "not_resolved")
    assert [p.field for p in e.value.problems] == ["reason"]
    assert events(store) == before
    file = handling.finish_reception(
        case_no, FinishChoice.OUTCOME, outcome=Outcome("not_resolved", reason="双方分歧过大")
    )
    assert file.state == "not_resolved" and file.ticket_state == "done"
    assert file.outcome is not None and (file.outcome.agreement_no, file.outcome.reason) == (
        "",
        "双方分歧过大",
    )
    assert handling.agreement_data(case_no).terms == ()  # the blank form, with the reminder
    file = handling.transfer_out(case_no, "litigation", "甘州区人民法院", "当事人选择诉讼")
    assert file.state == "transferred" and file.transfer is not None
    assert file.transfer.where == "诉讼（甘州区人民法院）"
    status = StatusService(store, FixedClock(handling.now())).status(_token(store, case_no))
    assert status is not None and status.stage == "已转办" and "诉讼（甘州区人民法院）" in status.detail


def _token(store: Store, case_no: str) -> str:
    from desk.store.models import CaseRow

    with store.read() as s:
        return str(s.scalar(sa.select(CaseRow.status_token).where(CaseRow.case_no == case_no)))


def test_finish_reception_can_record_the_transfer(
    service: RegistrationService, handling: CaseHandlingService, desk: QueueService
) -> None:
    case_no = register(service)
    claim(desk, case_no)
    file = handling.finish_reception(
        case_no, FinishChoice.TRANSFER, transfer=Transfer("petition", "区信访局", "属信访事项")
    )
    assert (
        file.state == "transferred"
        and file.ticket_state == "done"
        and file.allowed
        == (
            Step.FINISH_RECEPTION,
            Step.FOLLOW_UP,
        )
    )


def test_withdrawal_and_termination(
    service: RegistrationService, handling: CaseHandlingService, desk: QueueService
) -> None:
    first = register(service)
    assert handling.withdraw(first, "申请人已与对方和解").state == "withdrawn"
    second = register(service)
    claim(desk, second)
    file = handling.terminate(second, "一方拒绝继续调解")
    assert file.state == "terminated" and file.outcome is not None
    assert (file.outcome.outcome, file.outcome.reason) == ("terminated", "一方拒绝继续调解")


# --- refusals write nothing ------------------------------------------------------------------------------------


def test_refused_steps_say_why_and_write_nothing(
    service: RegistrationService, handling: CaseHandlingService, desk: QueueService, store: Store
) -> None:
    case_no = register(service)
    before = events(store)
    refusals = [
        (lambda: handling.close(case_no), "案件尚无人认领，不能办结"),
        (
            lambda: handling.follow_up(
                case_no, method="phone", agreement_held=True, satisfaction="satisfied"
            ),
            "案件尚未办结，不能回访",
        ),
        (lambda: session(handling, case_no), "案件尚未接待，不能记录调解笔录"),
        (lambda: handling.resume(case_no), "期限未中止，无需恢复"),
    ]
    for step, reason in refusals:
        with pytest.raises(Refused) as e:
            step()
        assert e.value.message == reason
    assert events(store) == before

    claim(desk, case_no)
    before = events(store)
    with pytest.raises(ValidationError) as v:  # resolved without terms: none in a session either
        handling.record_outcome(case_no, "resolved")
    assert [p.field for p in v.value.problems] == ["terms"]
    with pytest.raises(ValidationError) as v:
        handling.transfer_out(case_no, "moon", "", "")
    assert [p.field for p in v.value.problems] == ["to_kind", "to_name", "reason"]
    with pytest.raises(ValidationError) as v:
        handling.record_session(
            case_no,
            attendees=[Attendee("", "judge")],
            statements=[Statement("张三", "")],
            agreed="",
            book=Booking(dt.date(2026, 11, 1), "25:00", "R99"),
        )
    assert [p.field for p in v.value.problems] == [
        "attendees[0].name",
        "attendees[0].role",
        "statements[0].text",
        "book.day",
        "book.time",
        "book.room",
    ]
    with pytest.raises(ValidationError):
        handling.finish_reception(case_no, FinishChoice.BOOKED)  # no booking given
    with pytest.raises(ValidationError) as v:
        handling.extend(case_no, 2, "主任甲", "等待鉴定")  # people's mediation: at most one month
    assert v.value.problems[0].field == "days" and "最多可延长 1个月" in v.value.problems[0].message
    assert events(store) == before

    handling.record_outcome(case_no, "resolved", terms=["李四清理杂物"])
    handling.close(case_no)
    before = events(store)
    with pytest.raises(Refused, match="案件已办结，不能再记录调解笔录"):
        session(handling, case_no)
    with pytest.raises(Refused, match="案件已办结，不能重复办结"):
        handling.close(case_no)
    assert events(store) == before
    # the reception in which it was closed still ends, saying the outcome recorded; then there is none
    assert handling.finish_reception(case_no, FinishChoice.OUTCOME).ticket_state == "done"
    before = events(store)
    with pytest.raises(Refused, match="案件没有正在接待的排队号"):
        handling.finish_reception(case_no, FinishChoice.OUTCOME)
    assert events(store) == before


# --- the deadline's clock ----------------------------------------------------------------------------------------


def test_pause_resume_and_extend(
    service: RegistrationService, handling: CaseHandlingService, clock: FixedClock, store: Store
) -> None:
    clock.set(china(2026, 3, 2))
    case_no = register(service)
    assert handling.view(case_no).deadline.due_on == dt.date(2026, 4, 2)
    clock.set(china(2026, 3, 10))
    file = handling.pause(case_no, "等待伤情鉴定")
    assert file.deadline.paused and file.deadline.due_on == dt.date(2026, 4, 2)
    with pytest.raises(Refused, match="期限已中止"):
        handling.pause(case_no, "再次中止")
    clock.set(china(2026, 4, 3))
    assert handling.overdue() == []  # a paused clock is not overdue
    clock.set(china(2026, 3, 20))
    file = handling.resume(case_no)
    # the 23 days left at the pause run again from Mar 20: Apr 12, a Sunday, so Monday Apr 13
    assert not file.deadline.paused and file.deadline.due_on == dt.date(2026, 4, 13)
    file = handling.extend(case_no, 1, "主任甲", "双方同意延长调解")
    assert file.deadline.due_on == dt.date(2026, 5, 13) and file.deadline.extended == 1
    before = events(store)
    with pytest.raises(ValidationError, match="本次最多 0个月"):
        handling.extend(case_no, 1, "主任甲", "再延长")
    assert events(store) == before
    summaries = [t.summary for t in file.timeline if t.kind.startswith("deadline_")]
    assert summaries[1:] == [
        "期限中止：等待伤情鉴定",
        "期限恢复，2026年4月13日到期",
        "延长 1个月至 2026年5月13日（主任甲批准：双方同意延长调解）",
    ]


def test_the_overdue_list(
    service: RegistrationService, handling: CaseHandlingService, desk: QueueService, clock: FixedClock
) -> None:
    clock.set(china(2026, 3, 2))
    late = register(service)
    closed = register(service)
    claim(desk, closed)
    handling.record_outcome(closed, "resolved", terms=["李四清理杂物"])
    handling.close(closed)
    assert handling.overdue(china(2026, 4, 2, 23)) == []  # the due day itself is not overdue
    found = handling.overdue(china(2026, 4, 4))
    assert [(c.case_no, c.due_on, c.days_overdue, c.state_label) for c in found] == [
        (late, dt.date(2026, 4, 2), 2, "已受理")
    ]
    clock.set(china(2026, 4, 4))
    d = handling.view(late).deadline
    assert d.overdue and d.remaining_days == -2 and d.progress is not None and d.progress > 1.0


def test_a_booked_visitor_is_in_the_rooms_queue_on_the_day_and_checks_in_there(
    service: RegistrationService, handling: CaseHandlingService, desk: QueueService, clock: FixedClock
) -> None:
    case_no = register(service)
    claim(desk, case_no)
    session(handling, case_no)
    handling.finish_reception(
        case_no, FinishChoice.BOOKED, booking=Booking(dt.date(2026, 11, 30), "09:30", "R02")
    )
    assert desk.booked_today("R02") == []  # not today
    with pytest.raises(ValidationError, match="不是今天"):
        desk.check_in_booking(handling.view(case_no).bookings[0].booking_id)

    clock.set(china(2026, 11, 30, 8))
    (booked,) = desk.booked_today("R02")
    assert (booked.case_no, booked.time, booked.room_code) == (case_no, "09:30", "R02")
    assert desk.booked_today("R01") == [] and desk.booked_today() == [booked]
    issued = desk.check_in_booking(booked.booking_id)
    assert issued.ticket.room_code == "R02" and issued.ticket.case_no == case_no
    assert desk.booked_today("R02") == []  # arrived: in the queue with a ticket now
    file = handling.view(case_no)
    assert file.ticket_state == "waiting" and file.room == "R02"


def test_finishing_a_reception_keeps_the_appointment_its_session_booked(
    service: RegistrationService, handling: CaseHandlingService, desk: QueueService
) -> None:
    case_no = register(service)
    claim(desk, case_no)
    with pytest.raises(ValidationError, match="请填写下次调解的日期"):
        handling.finish_reception(case_no, FinishChoice.BOOKED)  # nothing booked: say when
    session(handling, case_no, book=Booking(dt.date(2026, 11, 30), "09:30"))
    file = handling.finish_reception(case_no, FinishChoice.BOOKED)  # the session's appointment stands
    assert file.ticket_state == "done" and [(b.day, b.time) for b in file.bookings] == [
        (dt.date(2026, 11, 30), "09:30")
    ]
