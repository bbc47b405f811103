"""Sync fixtures: a county store on a fresh PostgreSQL database, halls on SQLite (or PostgreSQL), and the checks
every sync test ends with (same events everywhere, once; projections equal a rebuild)."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from desk.core.clock import FixedClock
from desk.core.synthetic import make_visit
from desk.services.county import init_county
from desk.services.hall import HallService
from desk.services.registration import RegistrationService
from desk.services.setup import init_hall
from desk.store import projections
from desk.store.models import CaseEvent, CaseHolder
from desk.store.repositories import projection_snapshot
from desk.store.session import Store, open_store
from tests.conftest import NOW, create_pg_database, drop_pg_database

COUNTY_CODE = "620702"
HALL_A, HALL_B = "620702001", "620702002"


@pytest.fixture
def county_url(pg_server: str) -> Iterator[str]:
    """A fresh PostgreSQL database made into the county store; dropped afterwards."""
    name, url = create_pg_database(pg_server)
    try:
        store = open_store(url)
        init_county(store, code=COUNTY_CODE, name="甘州区综治中心")
        store.dispose()
        yield url
    finally:
        drop_pg_database(pg_server, name)


@pytest.fixture
def county(county_url: str) -> Iterator[Store]:
    store = open_store(county_url)
    yield store
    store.dispose()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def make_hall(tmp_path: Path) -> Iterator[Callable[[str], Store]]:
    """Open (and initialise) a hall store on SQLite by hall code."""
    opened: list[Store] = []

    def make(code: str, url: str | None = None) -> Store:
        store = open_store(url or f"sqlite:///{tmp_path / f'hall-{code}.db'}")
        init_hall(store, hall_code=code, hall_name=f"测试综治中心{code[-3:]}")
        opened.append(store)
        return store

    yield make
    for s in opened:
        s.dispose()


def busy_day(store: Store, clock: FixedClock, *, visitors: int, seed: int = 1) -> list[str]:
    """Register visitors through the real services, give them tickets, call and claim some, finish a few."""
    rng = random.Random(seed)
    reg = RegistrationService(store, clock)
    hall = HallService(store, clock)
    names = {c.code: c.name for c in reg.categories()}
    case_nos = []
    for i in range(visitors):
        clock.advance(minutes=1)
        r = reg.register(make_visit(rng, categories=names), new_case=True)
        case_nos.append(r.case_no)
        if hall.propose(r.case_no).room_code is None:
            continue
        t = hall.issue_ticket(r.case_no).ticket
        if i % 3 == 0:
            hall.claim(t.id)
            if i % 2 == 0:
                hall.finish(t.id)
    return case_nos


def event_ids(store: Store, case_ids: set[str] | None = None) -> list[str]:
    """Sorted ids of the store's events (of these cases only, if given); duplicates would show twice."""
    with store.read() as s:
        q = sa.select(CaseEvent.id, CaseEvent.case_id)
        return sorted(i for i, c in s.execute(q).all() if case_ids is None or c in case_ids)


def held_cases(county: Store, hall_code: str) -> set[str]:
    with county.read() as s:
        return set(s.scalars(sa.select(CaseHolder.case_id).where(CaseHolder.hall_code == hall_code)))


def assert_projections_equal_rebuild(store: Store) -> None:
    with store.unit_of_work() as s:
        before = projection_snapshot(s)
        projections.rebuild(s)
        after = projection_snapshot(s)
    assert before == after


def assert_converged(county: Store, halls: dict[str, Store]) -> None:
    """The county holds every hall's events once; each hall holds exactly the county's events of its cases;
    every store's projections equal a rebuild from its log."""
    all_county = event_ids(county)
    assert len(all_county) == len(set(all_county)), "duplicate events at the county"
    for code, hall in halls.items():
        mine = event_ids(hall)
        assert len(mine) == len(set(mine)), f"duplicate events in hall {code}"
        held = held_cases(county, code)
        with hall.read() as s:
            hall_cases = set(s.scalars(sa.select(CaseEvent.case_id)))
        assert hall_cases == held, f"hall {code} holds other cases than the county says"
        assert mine == event_ids(county, held), f"hall {code} and the county differ"
    for store in (county, *halls.values()):
        assert_projections_equal_rebuild(store)
