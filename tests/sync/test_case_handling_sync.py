"""A case handled in a hall (issue 12) shows the same state, rows and due date at the county after sync."""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa

from desk.core.clock import FixedClock
from desk.core.fold import end_of_day
from desk.store.models import CaseRow, WarningRow, WhistleRow
from desk.store.session import Store
from desk.sync.engine import Syncer
from tests.case_life import FINAL_DUE_ON, live_a_full_case
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
