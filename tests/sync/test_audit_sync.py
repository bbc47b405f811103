"""The audit log goes to the county with the events: entries the county lacks arrive, once; an idle round sends
nothing and asks the county nothing about the audit."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
import sqlalchemy as sa

from desk.core.audit import AuditAction
from desk.core.clock import FixedClock
from desk.store import county as county_store
from desk.store.models import AuditRow
from desk.store.queries.audit import record
from desk.store.session import Store
from desk.sync.engine import Syncer
from tests.sync.conftest import HALL_A, HALL_B

pytestmark = pytest.mark.postgres


def write_audit(hall: Store, code: str, clock: FixedClock, n: int, *, login: str = "zhangsan") -> None:
    with hall.unit_of_work() as s:
        for i in range(n):
            record(
                s,
                hall_code=code,
                at=clock.now() + dt.timedelta(seconds=i),
                login=login,
                user_name="张三",
                terminal="前台1",
                action=AuditAction.VIEW_FULL,
                case_no=f"{code}-2026-{i:05d}",
                detail="查看完整身份信息",
            )


def county_entries(county: Store, code: str) -> list[tuple[int, str, str]]:
    with county.read() as s:
        rows = s.execute(
            sa.select(AuditRow.hall_seq, AuditRow.login, AuditRow.case_no)
            .where(AuditRow.hall_code == code)
            .order_by(AuditRow.hall_seq)
        ).all()
    return [(int(q), str(login), str(c)) for q, login, c in rows]


def hall_entries(hall: Store) -> list[tuple[int, str, str]]:
    with hall.read() as s:
        rows = s.execute(
            sa.select(AuditRow.hall_seq, AuditRow.login, AuditRow.case_no).order_by(AuditRow.hall_seq)
        ).all()
    return [(int(q), str(login), str(c)) for q, login, c in rows]


def test_audit_entries_reach_the_county_once(
    county: Store, make_hall: Callable[..., Store], clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    hall = make_hall(HALL_A)
    write_audit(hall, HALL_A, clock, 7)
    syncer = Syncer(hall, "", county_store=county, clock=clock, batch=3)  # three batches: 3, 3, 1
    first = syncer.run_once()
    assert first.audited == 7
    assert county_entries(county, HALL_A) == hall_entries(hall)
    assert len(county_entries(county, HALL_A)) == 7

    # a second round sends nothing, and does not even ask the county (the hall wrote nothing since)
    asked: list[str] = []
    real = county_store.audit_held

    def spy(session: sa.orm.Session, code: str) -> int:
        asked.append(code)
        return real(session, code)

    monkeypatch.setattr(county_store, "audit_held", spy)
    assert syncer.run_once().audited == 0
    assert asked == []
    # new entries: the county is asked, and only they go
    write_audit(hall, HALL_A, clock, 2, login="lisi")
    assert syncer.run_once().audited == 2
    assert asked == [HALL_A]
    monkeypatch.undo()
    assert county_entries(county, HALL_A) == hall_entries(hall)

    # a new Syncer (the app restarted) asks the county and sends nothing it has
    again = Syncer(hall, "", county_store=county, clock=clock)
    assert again.run_once().audited == 0
    assert len(county_entries(county, HALL_A)) == 9


def test_a_resent_batch_is_skipped_and_halls_keep_apart(
    county: Store, make_hall: Callable[..., Store], clock: FixedClock
) -> None:
    a, b = make_hall(HALL_A), make_hall(HALL_B)
    write_audit(a, HALL_A, clock, 3)
    write_audit(b, HALL_B, clock, 2)
    Syncer(a, "", county_store=county, clock=clock).run_once()
    Syncer(b, "", county_store=county, clock=clock).run_once()
    # the acknowledgment was lost: the hall sends the same entries again
    from desk.store.queries.audit import entries_after

    with a.read() as s:
        rows = entries_after(s, HALL_A, 0, 100)
    with county.unit_of_work() as cs:
        county_store.receive_audit(cs, HALL_A, rows)
    assert [q for q, *_ in county_entries(county, HALL_A)] == [1, 2, 3]
    assert [q for q, *_ in county_entries(county, HALL_B)] == [1, 2]
    with pytest.raises(county_store.BatchRefused), county.unit_of_work() as cs:
        county_store.receive_audit(cs, HALL_B, rows)
