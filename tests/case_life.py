"""A case's whole life in a store, for the store and sync tests: registered through the services, then handled by
appending the handling events (issue 12) as the handling services will write them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa

from desk.core import events as ev
from desk.core.clock import FixedClock
from desk.services.queue import QueueService
from desk.services.registration import RegistrationService
from desk.store.events import append_event
from desk.store.models import Hall
from desk.store.session import Store
from tests.conftest import staff, visit

H = dt.timedelta(hours=1)
# the due day the life ends with (set, paused, resumed, extended)
FINAL_DUE_ON = dt.date(2027, 1, 20)


@dataclass(frozen=True)
class Life:
    case_id: str
    case_no: str
    hall_code: str


def live_a_full_case(store: Store, clock: FixedClock) -> Life:
    """registered -> ticket -> claim -> 2 sessions (and a booking) -> whistle to two departments, one signs,
    arrives, reports and is rated, the other only signs and is warned about -> deadline set, paused, resumed,
    extended -> outcome resolved -> closed -> follow-up scheduled -> followed up -> reopened."""
    reg = RegistrationService(store, clock, principal=staff("前台甲"))
    queue = QueueService(store, clock, principal=staff("调解员乙", "R01-终端"))
    registered = reg.register(visit(), new_case=True)
    with store.read() as s:
        hall_code = str(s.scalar(sa.select(Hall.code).where(Hall.is_local)))
    life = Life(registered.case_id, registered.case_no, hall_code)

    def append(body: ev.EventBody, *, minutes: int = 5, actor: str = "调解员乙") -> None:
        clock.advance(minutes=minutes)
        with store.unit_of_work() as s:
            append_event(
                s, hall_code=hall_code, case_id=life.case_id, body=body, occurred_at=clock.now(), actor=actor
            )

    today = dt.date(2026, 11, 27)
    append(ev.DeadlineSet("people_mediation", today, dt.date(2026, 12, 27), "month", 1), minutes=0)
    append(ev.RiskAssessed("general", ("group_visit",), "集体访：一般"), minutes=0)
    ticket = queue.issue_ticket(life.case_no).ticket
    clock.advance(minutes=10)
    queue.claim(ticket.id)
    now = clock.now()
    attendees = (ev.Attendee("张三", "party", party_id="p"), ev.Attendee("调解员乙", "mediator"))
    append(
        ev.SessionRecorded(
            "s1", now, now + H, "R01", attendees, (ev.Statement("张三", "要求清理杂物"),), "下次再谈"
        ),
        minutes=60,
    )
    append(ev.AppointmentBooked("b1", today + dt.timedelta(days=3), "09:30", "R01", "第二次调解"))
    queue.finish(ticket.id)
    clock.advance(hours=72)
    append(
        ev.SessionRecorded(
            "s2",
            clock.now(),
            clock.now() + H,
            "R01",
            (*attendees, ev.Attendee("王科员", "department", department="zjj")),
            (ev.Statement("李四", "同意清理"),),
            "三日内清理",
            ("李四于三日内清理杂物",),
        ),
        minutes=60,
    )
    now = clock.now()
    append(ev.WhistleBlown("w1", ("zjj", "rsj"), "占道堆物", False, now + H, now + 24 * H, now + 72 * H))
    append(ev.WhistleSigned("w1", "zjj", "赵签收"), minutes=20)
    append(ev.WhistleArrived("w1", "zjj", "钱报到", clock.now() + 2 * H), minutes=10)
    append(ev.WhistleSigned("w1", "rsj", "孙签收"), minutes=90)  # after its hour
    append(ev.WarningRaised("wn1", "whistle", "general", "部门签收超时", "w1:rsj"), minutes=0, actor="系统")
    append(ev.WarningAcknowledged("wn1", "主任丙"), minutes=15, actor="主任丙")
    append(ev.WhistleReported("w1", "zjj", "已责令清理"), minutes=600)
    append(ev.WhistleRated("w1", "zjj", "satisfied"))
    append(ev.DeadlinePaused("等待鉴定"))
    append(ev.DeadlineResumed(dt.date(2027, 1, 5)), minutes=24 * 60)
    append(ev.DeadlineExtended(15, "day", FINAL_DUE_ON, "主任丙", "案情复杂"))
    append(
        ev.OutcomeRecorded(
            "resolved",
            agreement_no="甘调〔2026〕1号",
            terms=("李四于三日内清理杂物",),
            performance="自行清理",
            performance_deadline=today + dt.timedelta(days=10),
            mediator="调解员乙",
        )
    )
    append(ev.CaseClosed("已达成协议"))
    append(ev.FollowUpScheduled("f1", today + dt.timedelta(days=14)))
    append(ev.FollowedUp("f1", "phone", False, "dissatisfied", "未履行"), minutes=7 * 24 * 60)
    append(ev.CaseReopened("协议未履行"))
    return life
