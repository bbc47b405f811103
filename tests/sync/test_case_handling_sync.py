"""A case handled in a hall (issue 12) shows the same state, rows and due date at the county after sync."""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa

from desk.core.clock import FixedClock
from desk.core.fold import end_of_day
from desk.core.lifecycle import FinishChoice
from desk.services.handling import Attendee, CaseHandlingService, Statement
from desk.services.queue import QueueService
from desk.services.registration import RegistrationService
from desk.store.models import CaseRow, WarningRow, WhistleRow
from desk.store.session import Store
from desk.sync.engine import Syncer
from tests.case_life import FINAL_DUE_ON, live_a_full_case
from tests.conftest import staff, visit
from tests.sync.conftest import HALL_A, assert_converged, case_rows


def test_a_handled_case_shows_the_same_at_the_county(
    county: Store,
    county_url: str,
    make_hall: Callable[..., Store],
    make_syncer: Callable[..., Syncer],
    clock: FixedClock,
) -> None:
    hall = make_hall(HALL_A)
    syncer = make_syncer(hall, county_url, batch=7)  # the life arrives over several transactions
    life = live_a_full_case(hall, clock)
    syncer.run_once()
    assert_converged(county, {HALL_A: hall})
    assert case_rows(county, {life.case_id}) == case_rows(hall, {life.case_id})
    with county.read() as s:
        case = s.get(CaseRow, life.case_id)
        assert case is not None
        assert (case.state, case.deadline_rule, case.due_on) == (
            "in_mediation",
            "people_mediation",
            FINAL_DUE_ON,
        )
        assert case.deadline_at == end_of_day(FINAL_DUE_ON)
        assert case.risk_level == "general"
        assert set(s.scalars(sa.select(WhistleRow.id))) == {"w1:zjj", "w1:rsj"}
        assert s.scalar(sa.select(WarningRow.acknowledged_by)) == "主任丙"


def test_a_case_handled_through_the_service_reads_the_same_at_the_county(
    county: Store,
    county_url: str,
    make_hall: Callable[..., Store],
    make_syncer: Callable[..., Syncer],
    clock: FixedClock,
) -> None:
    """Registered, claimed, a session, paused and resumed, resolved and closed in a hall through the services:
    after sync the county's case file has the same state, due date, outcome and timeline."""
    hall = make_hall(HALL_A)
    handling = CaseHandlingService(hall, clock, principal=staff("王调解"))
    reg = RegistrationService(hall, clock, principal=staff("前台甲"))
    desk = QueueService(hall, clock, principal=staff("王调解", "R01-终端1"))
    case_no = reg.register(visit(), new_case=True).case_no
    desk.claim(desk.issue_ticket(case_no).ticket.id)
    handling.record_session(
        case_no,
        attendees=[Attendee("张三", "party"), Attendee("王调解", "mediator")],
        statements=[Statement("张三", "杂物堵路")],
        agreed="对方清理杂物",
        terms=("对方三日内清理杂物",),
    )
    handling.pause(case_no, "等待现场勘查")
    clock.advance(days=2)
    handling.resume(case_no)
    handling.record_outcome(case_no, "resolved")
    handling.finish_reception(case_no, FinishChoice.OUTCOME)
    handling.close(case_no)
    at_hall = handling.view(case_no)

    make_syncer(hall, county_url).run_once()
    assert_converged(county, {HALL_A: hall})
    at_county = CaseHandlingService(county, clock, principal=staff()).view(case_no)
    assert (at_county.state, at_county.deadline.due_on, at_county.deadline.rule) == (
        "closed",
        at_hall.deadline.due_on,
        "people_mediation",
    )
    assert at_county.outcome == at_hall.outcome and at_county.outcome is not None
    assert at_county.outcome.agreement_no == f"{HALL_A}-2026-调0001"
    assert at_county.follow_ups == at_hall.follow_ups
    assert [(t.occurred_at, t.actor, t.kind, t.summary) for t in at_county.timeline] == [
        (t.occurred_at, t.actor, t.kind, t.summary) for t in at_hall.timeline
    ]
