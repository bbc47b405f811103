"""Whistles and warnings (desk/services/alerts.py): the three clocks across weekends and National Day, their
escalation into warnings, a department's record, reading warnings, the sweep, and the crisis path from the desk
to the supervisor's list in one step."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from desk.core import events as ev
from desk.core.clock import CHINA_TZ, FixedClock
from desk.core.permissions import actor_name
from desk.errors import Conflict, NotFound, Refused, ValidationError
from desk.services.alerts import ClockState, WarningService, WhistleClock, WhistleService
from desk.services.county import seed_departments
from desk.services.queue import QueueService
from desk.services.registration import RegistrationService
from desk.store import repositories as repo
from desk.store.events import append_event
from desk.store.models import CaseEvent
from desk.store.queries.hall import change_mark, local_hall_code
from desk.store.session import Store
from tests.conftest import staff, visit


def china(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=CHINA_TZ)  # type: ignore[misc]


def end_of(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(23, 59, 59), CHINA_TZ)


@pytest.fixture
def whistles(store: Store, clock: FixedClock) -> WhistleService:
    seed_departments(store)
    return WhistleService(store, clock, principal=staff("王主任"))


@pytest.fixture
def warnings(store: Store, clock: FixedClock) -> WarningService:
    return WarningService(store, clock, principal=staff("值班长"))


def events_count(store: Store) -> int:
    with store.read() as s:
        return int(s.scalar(sa.select(sa.func.count()).select_from(CaseEvent)) or 0)


def kinds(store: Store, case_no: str) -> list[str]:
    with store.read() as s:
        detail = repo.case_detail(s, case_no=case_no)
        assert detail is not None
        return [e.kind for e in detail.events]


# --- the clocks -------------------------------------------------------------------------------------------------


def test_clocks_over_a_weekend(
    service: RegistrationService, whistles: WhistleService, clock: FixedClock
) -> None:
    case_no = service.register(visit()).case_no  # Friday 2026-11-27 10:00
    w = whistles.blow(case_no, ["housing", "police"], "院墙外违章搭建，需现场认定")
    assert w.sign_by == china(2026, 11, 27, 11, 0)
    assert w.arrive_by == china(2026, 11, 28, 10, 0)  # plain hours, Saturday included
    assert w.report_by == end_of(dt.date(2026, 12, 2))  # Mon, Tue, Wed
    assert [d.department for d in w.departments] == ["housing", "police"]
    assert w.departments[0].department_name == "区住建局"
    assert all(c.state is ClockState.PENDING for d in w.departments for c in d.clocks)
    clock.advance(days=7)
    hard = whistles.blow(case_no, ["housing"], "复杂事项", complex=True)  # Friday 12-04
    assert hard.report_by == end_of(dt.date(2026, 12, 11))  # five working days
    assert "whistle_blown" in kinds(whistles._store, case_no)


def test_report_clock_across_national_day(
    service: RegistrationService, whistles: WhistleService, clock: FixedClock
) -> None:
    clock.set(china(2026, 9, 30, 10, 0))  # Wednesday before the 7 days off; Saturday 10-10 is a make-up day
    case_no = service.register(visit()).case_no
    assert whistles.blow(case_no, ["court"], "诉前调解").report_by == end_of(dt.date(2026, 10, 10))
    complex_ = whistles.blow(case_no, ["court"], "诉前调解（复杂）", complex=True)
    assert complex_.report_by == end_of(dt.date(2026, 10, 13))


def test_sign_late_arrive_and_report_escalate_into_warnings(
    store: Store,
    service: RegistrationService,
    whistles: WhistleService,
    warnings: WarningService,
    clock: FixedClock,
) -> None:
    case_no = service.register(visit()).case_no
    w = whistles.blow(case_no, ["housing"], "现场认定")
    assert warnings.sweep().empty  # nothing has run out yet
    clock.advance(hours=2)
    assert [x.department for x in whistles.late()] == ["housing"]
    report = warnings.sweep()
    assert [(x.kind, x.level, x.ref) for x in report.raised] == [
        ("whistle", "general", f"sign:{w.whistle_id}:housing")
    ]
    assert "区住建局未在时限内签收" in report.raised[0].message and case_no in report.raised[0].message
    assert warnings.sweep().empty  # once per clock

    signed = whistles.sign(w.whistle_id, "housing", "李科长")
    assert signed.sign.state is ClockState.LATE and signed.signed_by == "李科长"
    with pytest.raises(Refused, match="已于 .* 签收"):
        whistles.sign(w.whistle_id, "housing", "李科长")

    clock.advance(hours=23)  # arrival was due 24 hours after the whistle
    raised = warnings.sweep().raised
    assert [(x.level, x.ref) for x in raised] == [("major", f"arrive:{w.whistle_id}:housing")]
    arrived = whistles.arrive(
        w.whistle_id, "housing", "张工", arrived_at=clock.now() - dt.timedelta(minutes=5)
    )
    assert arrived.arrive.state is ClockState.LATE and arrived.arrived_by == "张工"

    clock.set(china(2026, 12, 3, 9, 0))  # the report was due by the end of Wednesday 12-02
    raised = warnings.sweep().raised
    assert [(x.level, x.ref) for x in raised] == [("major", f"report:{w.whistle_id}:housing")]
    with pytest.raises(Refused, match="尚未反馈，不能评价"):
        whistles.rate(w.whistle_id, "housing", "满意")
    reported = whistles.report(w.whistle_id, "housing", "已现场认定为违章建筑，限期拆除")
    assert reported.report.state is ClockState.LATE
    assert whistles.late() == []
    with pytest.raises(ValidationError) as e:
        whistles.rate(w.whistle_id, "housing", "很好")
    assert e.value.problems[0].field == "rating"
    rated = whistles.rate(w.whistle_id, "housing", "基本满意")
    assert rated.rating == "basically" and rated.rating_label == "基本满意"
    assert warnings.sweep().empty


def test_answers_are_checked_and_refusals_write_nothing(
    store: Store, service: RegistrationService, whistles: WhistleService
) -> None:
    case_no = service.register(visit()).case_no
    w = whistles.blow(case_no, ["housing"], "现场认定")
    before = events_count(store)
    with pytest.raises(Refused, match="尚未签收"):
        whistles.arrive(w.whistle_id, "housing", "张工")
    with pytest.raises(ValidationError) as e:
        whistles.sign(w.whistle_id, "police", "某人")
    assert e.value.problems[0].field == "department"
    with pytest.raises(ValidationError) as e:
        whistles.sign(w.whistle_id, "housing", "  ")
    assert e.value.problems[0].field == "by"
    with pytest.raises(NotFound):
        whistles.sign("no-such-whistle", "housing", "某人")
    whistles.sign(w.whistle_id, "housing", "李科长")
    with pytest.raises(ValidationError) as e:
        whistles.arrive(w.whistle_id, "housing", "张工", arrived_at=whistles.now() + dt.timedelta(hours=1))
    assert e.value.problems[0].field == "arrived_at"
    with pytest.raises(Refused, match="尚未反馈"):
        whistles.rate(w.whistle_id, "housing", "满意")
    assert events_count(store) == before + 1  # the signature only


def test_blow_is_checked(store: Store, service: RegistrationService, whistles: WhistleService) -> None:
    case_no = service.register(visit()).case_no
    before = events_count(store)
    with pytest.raises(ValidationError) as e:
        whistles.blow(case_no, ["housing", "nowhere", "housing"], "  ")
    fields = {p.field: p.message for p in e.value.problems}
    assert "不在部门目录中" in fields["departments[1]"] and "重复" in fields["departments[2]"]
    assert "吹哨事项不能为空" in fields["matter"]
    with pytest.raises(ValidationError):
        whistles.blow(case_no, [], "事项")
    with pytest.raises(NotFound):
        whistles.blow("620702001-2026-999999", ["housing"], "事项")
    assert events_count(store) == before


def test_a_hall_without_the_catalog_says_to_sync(
    store: Store, clock: FixedClock, service: RegistrationService
) -> None:
    case_no = service.register(visit()).case_no
    with pytest.raises(ValidationError, match="desk sync"):
        WhistleService(store, clock, principal=staff("王主任")).blow(case_no, ["housing"], "事项")


def test_whistle_notice_has_the_clocks(
    service: RegistrationService, whistles: WhistleService, tmp_path: object
) -> None:
    case_no = service.register(visit()).case_no
    w = whistles.blow(case_no, ["police", "housing"], "现场认定", complex=True)
    notices = whistles.whistle_notice_data(w.whistle_id)
    assert [n.department for n in notices] == ["区住建局", "城关派出所"]
    n = notices[0]
    assert (n.sign_by, n.arrive_by, n.report_by) == (w.sign_by, w.arrive_by, w.report_by)
    assert n.case_no == case_no and n.category == "邻里纠纷" and n.issued_by == "王主任"
    assert n.report_working_days == 5 and n.notes == ("复杂事项",)
    (one,) = whistles.whistle_notice_data(w.whistle_id, "police")
    assert one.department == "城关派出所"

    from desk.printing.sheets import render_whistle_notice

    assert render_whistle_notice(n).startswith(b"%PDF")


def test_department_record(service: RegistrationService, whistles: WhistleService, clock: FixedClock) -> None:
    case_no = service.register(visit()).case_no
    quick = whistles.blow(case_no, ["housing"], "第一次")
    clock.advance(minutes=30)
    whistles.sign(quick.whistle_id, "housing", "李科长")
    clock.advance(hours=2)
    whistles.arrive(quick.whistle_id, "housing", "张工")
    whistles.report(quick.whistle_id, "housing", "已处理")
    whistles.rate(quick.whistle_id, "housing", "satisfied")
    slow = whistles.blow(case_no, ["housing"], "第二次")
    clock.advance(hours=3)
    whistles.sign(slow.whistle_id, "housing", "李科长")  # late
    record = whistles.department_record("housing")
    assert (record.code, record.name) == ("housing", "区住建局")
    assert [w.matter for w in record.whistles] == ["第二次", "第一次"]
    sign, arrive, report = record.rates
    assert (sign.clock, sign.on_time, sign.late, sign.pending, sign.rate) == (WhistleClock.SIGN, 1, 1, 0, 0.5)
    assert (arrive.on_time, arrive.late, arrive.pending) == (1, 0, 1)
    assert (report.on_time, report.pending, report.rate) == (1, 1, 1.0)
    assert record.on_time_rate == 3 / 4
    assert {r.label: r.count for r in record.ratings} == {"满意": 1, "基本满意": 0, "不满意": 0}
    assert whistles.department_record("court").whistles == ()
    with pytest.raises(NotFound):
        whistles.department_record("nowhere")


# --- warnings ---------------------------------------------------------------------------------------------------


def crisis_case(service: RegistrationService) -> str:
    return service.register(visit(narrative="工资拖欠半年，我真的不想活了。")).case_no


def test_crisis_at_the_desk_reaches_the_supervisor_in_one_step(
    store: Store, service: RegistrationService, warnings: WarningService, clock: FixedClock
) -> None:
    with store.read() as s:
        mark = change_mark(s, local_hall_code(s) or "")
    case_no = crisis_case(service)
    detail = service.case(case_no)
    assert "psychological_crisis" in detail.risk_flags
    assert kinds(store, case_no) == [
        "registered",
        "deadline_set",
        "risk_flagged",
        "risk_assessed",
        "warning_raised",
    ]
    assessed = next(e.body for e in detail.events if isinstance(e.body, ev.RiskAssessed))
    assert assessed.level == "serious" and "心理危机" in assessed.rule
    (w,) = warnings.open_warnings()
    assert (w.case_no, w.kind, w.level, w.level_label) == (case_no, "crisis", "serious", "重大")
    assert case_no in w.message and "心理危机" in w.message
    assert "不想活" not in w.message and "张三" not in w.message  # nothing the person said, nor who
    assert warnings.needs_attention(clock.now() - dt.timedelta(seconds=1)) == [w]
    assert warnings.change_mark() > mark
    assert QueueService(store, clock, principal=staff()).propose(case_no).room_code == "R03"  # 心理咨询室


def test_a_quiet_visit_writes_no_risk_events(store: Store, service: RegistrationService) -> None:
    case_no = service.register(visit()).case_no
    assert kinds(store, case_no) == ["registered", "deadline_set"]


def test_third_visit_in_90_days_is_a_repeat_visit(
    store: Store, service: RegistrationService, clock: FixedClock
) -> None:
    party = {"role": "applicant", "name": "王五", "phone": "13800001111"}
    for category in ("邻里纠纷", "婚姻家庭纠纷"):
        service.register(visit(category=category, parties=[party]), new_case=True)
        clock.advance(days=2)  # staying in 2026: a deadline in 2027 would add the calendar's warning
    third = service.register(visit(category="劳动争议纠纷", parties=[party]), new_case=True).case_no
    assert "repeat_visit" in service.case(third).risk_flags
    assert kinds(store, third) == [
        "registered",
        "deadline_set",
        "risk_flagged",
        "risk_assessed",
    ]  # 一般: no warning


def test_acknowledge_and_the_second_reader(
    service: RegistrationService, warnings: WarningService, store: Store, clock: FixedClock
) -> None:
    crisis_case(service)
    (w,) = warnings.open_warnings()
    clock.advance(minutes=2)
    mark = warnings.change_mark()
    read = warnings.acknowledge(w.id)
    assert warnings.change_mark() > mark  # every window sees the warning read
    assert (actor_name(read.acknowledged_by or ""), read.acknowledged_at) == ("值班长", clock.now())
    assert warnings.open_warnings() == [] and warnings.acknowledged() == [read]
    other = WarningService(store, clock, principal=staff("另一位"))
    with pytest.raises(Conflict, match="已由 值班长（tester） 于 2026-11-27 10:02 确认已阅"):
        other.acknowledge(w.id)
    with pytest.raises(NotFound):
        other.acknowledge("no-such-warning")


def test_unread_serious_warning_alerts_again_every_10_minutes(
    store: Store, service: RegistrationService, warnings: WarningService, clock: FixedClock
) -> None:
    case_no = crisis_case(service)
    (w,) = warnings.open_warnings()
    clock.advance(minutes=9, seconds=59)
    assert warnings.sweep().empty
    clock.advance(seconds=1)
    since = clock.now() - dt.timedelta(seconds=1)
    report = warnings.sweep()
    assert [x.id for x in report.realerted] == [w.id] and report.raised == ()
    assert report.realerted[0].raised_at == clock.now()
    assert warnings.needs_attention(since) == list(report.realerted)
    assert warnings.sweep().empty  # idempotent at the same moment
    assert kinds(store, case_no).count("warning_raised") == 2
    assert len(warnings.open_warnings()) == 1  # the same warning, alerted again
    warnings.acknowledge(w.id)
    clock.advance(minutes=30)
    assert warnings.sweep().empty


def test_flags_added_later_warn(
    store: Store, service: RegistrationService, warnings: WarningService, clock: FixedClock
) -> None:
    case_no = service.register(visit()).case_no
    risk = warnings.flag_risk(case_no, ["民转刑苗头"])
    assert (risk.level, risk.flags) == ("serious", ("civil_to_criminal",))
    (w,) = warnings.open_warnings()
    assert (w.id, w.kind, w.level) == (risk.warning_id, "risk", "serious") and "民转刑苗头" in w.message
    assert warnings.flag_risk(case_no, ["civil_to_criminal"]).warning_id is None  # already flagged
    with pytest.raises(ValidationError):
        warnings.flag_risk(case_no, ["unknown"])
    assert kinds(store, case_no) == [
        "registered",
        "deadline_set",
        "risk_flagged",
        "risk_assessed",
        "warning_raised",
    ]


# --- the deadline's stages --------------------------------------------------------------------------------------


def set_deadline(store: Store, case_no: str, start_on: dt.date, due_on: dt.date, at: dt.datetime) -> None:
    """A one-month limit as the registration writes it (helper S1's DeadlineSet)."""
    with store.unit_of_work() as s:
        detail = repo.case_detail(s, case_no=case_no)
        assert detail is not None
        append_event(
            s,
            hall_code=detail.hall_code,
            case_id=detail.id,
            body=ev.DeadlineSet("mediation", start_on, due_on, "months", 1),
            occurred_at=at,
            actor="测试",
        )


def test_sweep_raises_each_deadline_stage_once(
    store: Store, service: RegistrationService, warnings: WarningService, clock: FixedClock
) -> None:
    case_no = service.register(visit()).case_no
    set_deadline(store, case_no, dt.date(2026, 11, 27), dt.date(2026, 12, 27), clock.now())
    # the period runs from the end of 11-27 to the end of 12-27: 30 days
    clock.set(china(2026, 12, 15, 12, 0))  # 17.5 days: 58 %
    assert warnings.sweep().empty
    clock.set(china(2026, 12, 16, 12, 0))  # 62 %
    (w60,) = warnings.sweep().raised
    assert (w60.kind, w60.level, w60.ref) == ("deadline", "general", "pct60:2026-12-27")
    assert w60.message == f"案件 {case_no}：办理期限已用去60%（办理期限至 2026年12月27日）"
    assert warnings.sweep().empty
    clock.set(china(2026, 12, 21, 12, 0))  # 78 %
    assert warnings.sweep().empty
    clock.set(china(2026, 12, 27, 22, 0))  # 99.7 %: 80 % and 90 % passed since; the latest stage is raised
    (w90,) = warnings.sweep().raised
    assert (w90.level, w90.ref) == ("major", "pct90:2026-12-27")
    clock.set(china(2026, 12, 28, 0, 0))
    report = warnings.sweep()
    assert [(x.level, x.ref) for x in report.raised] == [("serious", "overdue:2026-12-27")]
    assert warnings.sweep().empty
    clock.advance(minutes=10)  # overdue is 重大: it alerts again while unread
    assert [x.ref for x in warnings.sweep().realerted] == ["overdue:2026-12-27"]


def test_a_paused_limit_raises_nothing_and_its_pause_is_not_counted(
    store: Store, service: RegistrationService, warnings: WarningService, clock: FixedClock
) -> None:
    case_no = service.register(visit()).case_no
    set_deadline(store, case_no, dt.date(2026, 11, 27), dt.date(2026, 12, 27), clock.now())
    with store.unit_of_work() as s:
        detail = repo.case_detail(s, case_no=case_no)
        assert detail is not None
        paused_at = china(2026, 12, 1, 12, 0)
        append_event(
            s, hall_code=detail.hall_code, case_id=detail.id, body=ev.DeadlinePaused("等待鉴定"),
            occurred_at=paused_at, actor="测试",
        )  # fmt: skip
    clock.set(china(2026, 12, 20, 12, 0))
    assert warnings.sweep().empty  # paused: the clock stands
    with store.unit_of_work() as s:
        append_event(
            s, hall_code=detail.hall_code, case_id=detail.id, body=ev.DeadlineResumed(dt.date(2027, 1, 15)),
            occurred_at=china(2026, 12, 20, 12, 0), actor="测试",
        )  # fmt: skip
    # 19 days paused: on 12-31 14.5 of the 30 running days are used (48 %), though 33.5 have passed since the start
    clock.set(china(2026, 12, 31, 12, 0))
    assert warnings.sweep().empty
