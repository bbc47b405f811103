"""Sync fixtures: a county store on a fresh PostgreSQL database, halls on SQLite (or PostgreSQL), and the checks
every sync test ends with (same events everywhere, once; projections equal a rebuild)."""

from __future__ import annotations

import contextlib
import random
import re
import shutil
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from desk.core.clock import FixedClock
from desk.core.synthetic import make_visit
from desk.services.queue import QueueService
from desk.services.registration import RegistrationService
from desk.services.setup import init_hall
from desk.store import projections
from desk.store.models import (
    BookingRow,
    CaseEvent,
    CaseHolder,
    CaseRow,
    PartyRow,
    TicketRow,
    WarningRow,
    WhistleRow,
)
from desk.store.repositories import projection_snapshot
from desk.store.session import Store, open_store
from desk.sync.engine import RoundReport, Syncer, SyncError
from tests.conftest import NOW, add_tester, create_pg_database, drop_pg_database, staff
from tests.sync.proxy import PgProxy

COUNTY_CODE = "620702"
HALL_A, HALL_B = "620702001", "620702002"


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture(scope="session")
def _hall_templates() -> dict[str, Path]:
    """Hall code -> an initialised SQLite hall store to copy (see make_hall)."""
    return {}


@pytest.fixture
def make_hall(
    tmp_path: Path, _hall_templates: dict[str, Path], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[..., Store]]:
    """Open (and initialise) a hall store by hall code: on SQLite (a copy of one initialised once per session
    and code), or at `url`."""
    opened: list[Store] = []

    def make(code: str, url: str | None = None) -> Store:
        if url is None:
            template = _hall_templates.get(code)
            if template is None:
                made = tmp_path_factory.mktemp("hall-template")
                fresh = open_store(f"sqlite:///{made / 'fresh.db'}")
                init_hall(fresh, hall_code=code, hall_name=f"测试综治中心{code[-3:]}")
                add_tester(fresh)
                fresh.dispose()
                template = _hall_templates[code] = made / f"hall-{code}.db"
                with contextlib.closing(sqlite3.connect(made / "fresh.db")) as db:
                    db.execute("VACUUM INTO ?", (str(template),))
            path = tmp_path / f"hall-{code}.db"
            shutil.copyfile(template, path)
            store = open_store(f"sqlite:///{path}")
        else:
            store = open_store(url)
            init_hall(store, hall_code=code, hall_name=f"测试综治中心{code[-3:]}")
            add_tester(store)
        opened.append(store)
        return store

    yield make
    for s in opened:
        s.dispose()


BusyHall = Callable[..., tuple[Store, list[str]]]


@pytest.fixture(scope="session")
def _busy_templates() -> dict[tuple[str, int, int], tuple[Path, list[str]]]:
    """(hall code, visitors, seed) -> a hall store after that busy day, and its case numbers (see busy_hall)."""
    return {}


@pytest.fixture
def busy_hall(
    make_hall: Callable[..., Store],
    clock: FixedClock,
    tmp_path: Path,
    tmp_path_factory: pytest.TempPathFactory,
    _busy_templates: dict[tuple[str, int, int], tuple[Path, list[str]]],
) -> BusyHall:
    """A SQLite hall after `busy_day(visitors, seed)` from NOW, and its case numbers: a copy of one made once per
    session (a busy day runs the real services, ~70 ms a visitor); the test's clock moves on past its events."""

    def make(code: str, *, visitors: int, seed: int = 1) -> tuple[Store, list[str]]:
        key = (code, visitors, seed)
        if key not in _busy_templates:
            store = make_hall(code)
            cases = busy_day(store, FixedClock(NOW), visitors=visitors, seed=seed)
            path = tmp_path_factory.mktemp("busy-hall") / f"hall-{code}.db"
            db_file = store.engine.url.database
            assert db_file
            with contextlib.closing(sqlite3.connect(db_file)) as db:
                db.execute("VACUUM INTO ?", (str(path),))
            store.dispose()
            _busy_templates[key] = (path, cases)
        template, cases = _busy_templates[key]
        path = tmp_path / f"busy-{code}.db"
        shutil.copyfile(template, path)
        clock.advance(minutes=visitors)
        return make_hall(code, f"sqlite:///{path}"), list(cases)

    return make


@pytest.fixture
def pg_hall_url(pg_server: str) -> Iterator[str]:
    """A second fresh PostgreSQL database, for a hall on PostgreSQL; dropped afterwards."""
    name, url = create_pg_database(pg_server)
    try:
        yield url
    finally:
        drop_pg_database(pg_server, name)


@pytest.fixture
def proxy() -> Iterator[PgProxy]:
    """A cutting proxy in front of the PostgreSQL server (see proxy.py)."""
    with PgProxy() as p:
        yield p


@pytest.fixture
def make_syncer(clock: FixedClock) -> Iterator[Callable[..., Syncer]]:
    """Syncer(hall, url, clock=the test clock, ...), closed (its county connections too) at the end."""
    made: list[Syncer] = []

    def make(hall: Store, url: str, **kw: Any) -> Syncer:
        kw.setdefault("clock", clock)
        syncer = Syncer(hall, url, **kw)
        made.append(syncer)
        return syncer

    yield make
    for s in made:
        s.close()


CHINESE = re.compile(r"[\u4e00-\u9fff]")


def assert_plain_chinese(e: SyncError, *, secret: str | None = None) -> None:
    """A failure told to people: a Chinese sentence (the driver's words may follow), never a password."""
    assert isinstance(e, SyncError)
    assert CHINESE.match(e.message), e.message
    assert "Traceback" not in e.message
    if secret:
        assert secret not in e.message and secret not in str(e)


def sync_until_ok(
    syncer: Syncer, *, attempts: int = 20, before_each: Callable[[], None] | None = None
) -> tuple[RoundReport, list[SyncError]]:
    """Run rounds until one succeeds; every failure on the way must be a SyncError with a plain Chinese
    message (anything else propagates and fails the test)."""
    errors: list[SyncError] = []
    for _ in range(attempts):
        if before_each is not None:
            before_each()
        try:
            return syncer.run_once(), errors
        except SyncError as e:
            assert_plain_chinese(e)
            errors.append(e)
    raise AssertionError(f"no round succeeded in {attempts} attempts: {[e.message for e in errors[-3:]]}")


def busy_day(store: Store, clock: FixedClock, *, visitors: int, seed: int = 1) -> list[str]:
    """Register visitors through the real services, give them tickets, call and claim some, finish a few."""
    rng = random.Random(seed)
    reg = RegistrationService(store, clock, principal=staff())
    hall = QueueService(store, clock, principal=staff())
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


def _plain(v: Any) -> Any:
    return sorted(v) if isinstance(v, list) else v


def case_rows(store: Store, case_ids: set[str]) -> list[tuple[Any, ...]]:
    """The projected rows (cases and their parties, tickets, whistles, warnings, bookings) of these cases, as
    plain sorted tuples."""
    rows: list[tuple[Any, ...]] = []
    with store.read() as s:
        for name, table, key in (
            ("cases", CaseRow.__table__, CaseRow.id),
            ("parties", PartyRow.__table__, PartyRow.case_id),
            ("tickets", TicketRow.__table__, TicketRow.case_id),
            ("whistles", WhistleRow.__table__, WhistleRow.case_id),
            ("warnings", WarningRow.__table__, WarningRow.case_id),
            ("bookings", BookingRow.__table__, BookingRow.case_id),
        ):
            for r in s.execute(sa.select(table).where(key.in_(sorted(case_ids)))):
                rows.append((name, *(_plain(v) for v in r)))
    return sorted(rows, key=repr)


def assert_converged(county: Store, halls: dict[str, Store]) -> None:
    """The county holds every hall's events once; each hall holds exactly the county's events of its cases;
    every store's projections equal a rebuild from its log, and a hall's rows of a case equal the county's."""
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
        assert case_rows(hall, held) == case_rows(county, held), f"hall {code} folds its cases differently"
    for store in (county, *halls.values()):
        assert_projections_equal_rebuild(store)
