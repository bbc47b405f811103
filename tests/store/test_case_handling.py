"""The case-handling projections in the store (issue 12): a case's whole life folds the same live, rebuilt and
taken in from elsewhere, on SQLite and PostgreSQL; migration 0007 goes down and up again."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import sqlalchemy as sa

from desk.core.clock import FixedClock
from desk.core.fold import end_of_day
from desk.services.setup import init_hall
from desk.store import county, projections
from desk.store.events import as_event
from desk.store.models import BookingRow, CaseEvent, CaseRow, WarningRow, WhistleRow
from desk.store.repositories import projection_snapshot
from desk.store.session import HEAD_REVISION, Store, create_engine, current_revision, open_store, run_alembic
from tests.case_life import FINAL_DUE_ON, live_a_full_case
from tests.conftest import NOW, add_tester

BEFORE_0007 = "20261207_0006"


def test_a_full_life_folds_live_as_rebuilt(store: Store) -> None:
    life = live_a_full_case(store, FixedClock(NOW))
    with store.unit_of_work() as s:
        live = projection_snapshot(s)
        projections.rebuild(s)
        assert projection_snapshot(s) == live
    with store.read() as s:
        case = s.get(CaseRow, life.case_id)
        assert case is not None
        assert case.state == "in_mediation"  # reopened: the agreement was not performed
        assert (case.outcome, case.closed_at, case.follow_up_due_on, case.paused_at) == (None,) * 4
        assert (case.deadline_rule, case.due_on) == ("people_mediation", FINAL_DUE_ON)
        assert case.deadline_at == end_of_day(FINAL_DUE_ON)
        assert case.risk_level == "general"
        whistles = {w.department: w for w in s.scalars(sa.select(WhistleRow))}
        warnings = list(s.scalars(sa.select(WarningRow)))
        bookings = list(s.scalars(sa.select(BookingRow)))
    assert set(whistles) == {"zjj", "rsj"}
    zjj, rsj = whistles["zjj"], whistles["rsj"]
    assert (zjj.id, zjj.case_id, zjj.signed_by, zjj.arrived_by) == (
        "w1:zjj",
        life.case_id,
        "赵签收",
        "钱报到",
    )
    assert zjj.signed_at is not None and zjj.reported_at is not None
    assert (zjj.result, zjj.rating) == ("已责令清理", "satisfied")
    assert rsj.signed_at is not None and rsj.signed_at > rsj.sign_by  # signed late
    assert (rsj.arrived_at, rsj.reported_at, rsj.result, rsj.rating) == (None,) * 4
    assert [(w.kind, w.ref, w.acknowledged_by) for w in warnings] == [("whistle", "w1:rsj", "主任丙")]
    assert [(b.day, b.time, b.room) for b in bookings] == [(dt.date(2026, 11, 30), "09:30", "R01")]


def test_the_same_life_taken_in_batches_in_any_order_folds_the_same(
    sqlite_store: Store, sqlite_url: str
) -> None:
    live_a_full_case(sqlite_store, FixedClock(NOW))
    with sqlite_store.read() as s:
        events = [as_event(e) for e in s.scalars(sa.select(CaseEvent))]
        expected = projection_snapshot(s)
    rng = random.Random(12)
    for i in range(3):
        other = open_store(f"{sqlite_url}.{i}")
        init_hall(other, hall_code="620702099")
        add_tester(other)
        shuffled = events[:]
        rng.shuffle(shuffled)
        with other.unit_of_work() as s:
            at = 0
            while at < len(shuffled):
                n = rng.randint(1, 9)
                county.take_in(s, shuffled[at : at + n])
                at += n
            assert projection_snapshot(s) == expected
        other.dispose()


def _columns(engine: sa.Engine, table: str) -> set[str]:
    return {c["name"] for c in sa.inspect(engine).get_columns(table)}


def test_migration_0007_goes_down_and_up_and_a_rebuild_restores_the_rows(
    store_url: str, tmp_path: Path
) -> None:
    first = open_store(store_url)
    init_hall(first)
    add_tester(first)
    life = live_a_full_case(first, FixedClock(NOW))
    with first.read() as s:
        before = projection_snapshot(s)
        logged = s.scalar(sa.select(sa.func.count()).select_from(CaseEvent))
    first.dispose()

    engine = create_engine(store_url)
    run_alembic(engine, "downgrade", BEFORE_0007)
    assert current_revision(engine) == BEFORE_0007
    tables = set(sa.inspect(engine).get_table_names())
    assert not {"whistles", "warnings", "bookings"} & tables
    assert not {"risk_level", "due_on", "deadline_rule", "closed_at"} & _columns(engine, "cases")
    with engine.connect() as c:  # the log and the older projections are kept
        assert c.execute(sa.text("SELECT count(*) FROM case_events")).scalar_one() == logged
        assert c.execute(sa.text("SELECT state FROM cases")).scalar_one() == "in_mediation"
    engine.dispose()

    upgraded = open_store(store_url)
    try:
        assert current_revision(upgraded.engine) == HEAD_REVISION
        with upgraded.read() as s:
            case = s.get(CaseRow, life.case_id)
            assert case is not None
            # an existing case: due on the China-time day of its deadline, under "legacy"
            assert (case.due_on, case.deadline_rule) == (FINAL_DUE_ON, "legacy")
            assert s.scalar(sa.select(sa.func.count()).select_from(WhistleRow)) == 0
        with upgraded.unit_of_work() as s:
            projections.rebuild(s)
            assert projection_snapshot(s) == before
    finally:
        upgraded.dispose()
