"""What the county refuses, and how it says so: a gap in a hall's numbers, a hall restored from an old backup, a
county schema newer than the software; and a county URL's password, which no message or log ever shows."""

from __future__ import annotations

import logging
import socket
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from desk.core.clock import FixedClock
from desk.core.events import Event
from desk.store import county as county_store
from desk.store.county import BatchRefused, HallIdentity
from desk.store.events import as_event
from desk.store.models import CaseEvent, CaseRow, Hall, OutboxRow, SyncAlert, SyncState
from desk.store.session import HEAD_REVISION, Store, open_store
from desk.sync.engine import KNOWN_REVISIONS, Syncer, SyncError, SyncRefused, sync_status
from tests.sync.conftest import HALL_A, HALL_B, assert_converged, assert_plain_chinese, busy_day, event_ids

pytestmark = pytest.mark.postgres


def _alerts(county: Store, hall_code: str) -> list[tuple[str, str]]:
    with county.read() as s:
        return [
            (a.kind, a.detail)
            for a in s.scalars(sa.select(SyncAlert).where(SyncAlert.hall_code == hall_code))
        ]


def _county_counts(county: Store, hall_code: str) -> tuple[int, int, int]:
    """The hall's events at the county, every projected case, every outbox row."""
    with county.read() as s:
        return (
            int(s.scalar(sa.select(sa.func.count()).where(CaseEvent.hall_code == hall_code)) or 0),
            int(s.scalar(sa.select(sa.func.count()).select_from(CaseRow)) or 0),
            int(s.scalar(sa.select(sa.func.count()).select_from(OutboxRow)) or 0),
        )


def _acked(county: Store, hall_code: str) -> int | None:
    with county.read() as s:
        return s.scalar(sa.select(Hall.acked_seq).where(Hall.code == hall_code))


def _events(store: Store, hall_code: str) -> list[Event]:
    with store.read() as s:
        return [
            as_event(e)
            for e in s.scalars(
                sa.select(CaseEvent).where(CaseEvent.hall_code == hall_code).order_by(CaseEvent.hall_seq)
            )
        ]


# --- a gap ----------------------------------------------------------------------------------------------


def test_a_gap_in_the_halls_numbers_is_refused_alerted_and_nothing_is_written(
    county: Store,
    county_url: str,
    make_hall: Callable[..., Store],
    clock: FixedClock,
    make_syncer: Callable[..., Syncer],
) -> None:
    hall = make_hall(HALL_A)
    busy_day(hall, clock, visitors=4)
    with hall.unit_of_work() as s:  # an event lost from the hall's log (a damaged store)
        s.execute(sa.delete(CaseEvent).where(CaseEvent.hall_code == HALL_A, CaseEvent.hall_seq == 3))
    syncer = make_syncer(hall, county_url)
    with pytest.raises(SyncRefused) as refused:
        syncer.run_once()
    assert_plain_chinese(refused.value)
    assert "不连续" in refused.value.message and "整批未写入" in refused.value.message
    assert _county_counts(county, HALL_A) == (0, 0, 0)
    assert _acked(county, HALL_A) == 0
    assert [k for k, _ in _alerts(county, HALL_A)] == ["gap"]
    assert sync_status(hall).last_error == refused.value.message
    # refused again, alerted again: nothing moves until someone looks
    with pytest.raises(SyncRefused):
        syncer.run_once()
    assert _county_counts(county, HALL_A) == (0, 0, 0)
    assert len(_alerts(county, HALL_A)) == 2


def test_a_batch_starting_past_the_acknowledged_number_is_refused(
    county: Store, make_hall: Callable[..., Store], clock: FixedClock
) -> None:
    hall = make_hall(HALL_A)
    busy_day(hall, clock, visitors=3)
    events = _events(hall, HALL_A)
    ident = HallIdentity(HALL_A, "测试")
    with county.unit_of_work() as cs:
        assert county_store.receive_push(cs, ident, events[:4], clock.now()) == 4
    with pytest.raises(BatchRefused) as refused, county.unit_of_work() as cs:
        county_store.receive_push(cs, ident, events[5:], clock.now())  # number 5 never came
    assert refused.value.kind == "gap"
    assert "县级库已有至第 4 号" in refused.value.message and "第 6 号开始" in refused.value.message
    assert _county_counts(county, HALL_A)[0] == 4
    assert _acked(county, HALL_A) == 4


# --- a hall restored from an old backup -------------------------------------------------------------------


def _backup(store: Store, to: Path) -> None:
    """A consistent copy of a SQLite hall store, as a backup tool would make it."""
    path = store.engine.url.database
    assert path
    src = sqlite3.connect(path)
    try:
        src.execute("VACUUM INTO ?", (str(to),))
    finally:
        src.close()


@pytest.fixture
def restored(tmp_path: Path) -> Iterator[Callable[[Path], Store]]:
    opened: list[Store] = []

    def open_backup(path: Path) -> Store:
        store = open_store(f"sqlite:///{path}")
        opened.append(store)
        return store

    yield open_backup
    for s in opened:
        s.dispose()


def test_a_hall_restored_from_a_backup_older_than_the_county_knows_is_refused(
    county: Store,
    county_url: str,
    make_hall: Callable[..., Store],
    clock: FixedClock,
    make_syncer: Callable[..., Syncer],
    restored: Callable[[Path], Store],
    tmp_path: Path,
) -> None:
    hall = make_hall(HALL_A)
    busy_day(hall, clock, visitors=3, seed=1)
    _backup(hall, tmp_path / "backup.db")
    busy_day(hall, clock, visitors=3, seed=2)
    make_syncer(hall, county_url).run_once()
    before = _county_counts(county, HALL_A)
    acked = _acked(county, HALL_A)

    old = restored(tmp_path / "backup.db")
    with pytest.raises(SyncRefused) as refused:
        make_syncer(old, county_url).run_once()
    assert_plain_chinese(refused.value)
    assert "旧备份" in refused.value.message and "县级管理员" in refused.value.message
    assert f"至第 {acked} 号" in refused.value.message
    assert _county_counts(county, HALL_A) == before
    assert [k for k, _ in _alerts(county, HALL_A)] == ["reused"]
    assert sync_status(old).last_error == refused.value.message


def test_a_restored_hall_that_reused_its_numbers_for_new_events_is_refused(
    county: Store,
    county_url: str,
    make_hall: Callable[..., Store],
    clock: FixedClock,
    make_syncer: Callable[..., Syncer],
    restored: Callable[[Path], Store],
    tmp_path: Path,
) -> None:
    """Restored from a backup and then used for a morning: its numbers have caught up with (and passed) what
    the county holds, but numbers after the backup now name other events. Pushing only what follows the
    county's number would silently lose the county's copy of the old ones and the hall's new ones."""
    hall = make_hall(HALL_A)
    busy_day(hall, clock, visitors=2, seed=1)
    _backup(hall, tmp_path / "backup.db")
    busy_day(hall, clock, visitors=3, seed=2)
    make_syncer(hall, county_url).run_once()
    before = _county_counts(county, HALL_A)
    county_ids = event_ids(county)

    old = restored(tmp_path / "backup.db")
    busy_day(old, clock, visitors=6, seed=3)  # new events under the numbers the county already has, and more
    with old.read() as s:
        assert (s.scalar(sa.select(Hall.last_seq).where(Hall.code == HALL_A)) or 0) > (
            _acked(county, HALL_A) or 0
        )
    with pytest.raises(SyncRefused) as refused:
        make_syncer(old, county_url).run_once()
    assert_plain_chinese(refused.value)
    assert "旧备份" in refused.value.message and "不是同一事件" in refused.value.message
    assert _county_counts(county, HALL_A) == before
    assert event_ids(county) == county_ids
    assert [k for k, _ in _alerts(county, HALL_A)] == ["reused"]


def test_a_resent_batch_with_other_events_under_known_numbers_is_refused(
    county: Store,
    make_hall: Callable[..., Store],
    clock: FixedClock,
    tmp_path: Path,
    restored: Callable[[Path], Store],
) -> None:
    hall = make_hall(HALL_A)
    busy_day(hall, clock, visitors=1, seed=1)
    _backup(hall, tmp_path / "backup.db")
    busy_day(hall, clock, visitors=2, seed=2)
    ident = HallIdentity(HALL_A, "测试")
    with county.unit_of_work() as cs:
        acked = county_store.receive_push(cs, ident, _events(hall, HALL_A), clock.now())
    old = restored(tmp_path / "backup.db")
    busy_day(old, clock, visitors=3, seed=3)
    other = _events(old, HALL_A)
    first_new = next(e.hall_seq for a, e in zip(_events(hall, HALL_A), other, strict=False) if a.id != e.id)
    with pytest.raises(BatchRefused) as refused, county.unit_of_work() as cs:
        county_store.receive_push(cs, ident, other, clock.now())
    assert refused.value.kind == "reused"
    assert f"第 {first_new} 号事件" in refused.value.message and "旧备份" in refused.value.message
    assert _acked(county, HALL_A) == acked
    assert _county_counts(county, HALL_A)[0] == acked


# --- the county's schema ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("revision", "says"),
    [
        ("20991231_0099", "比本机软件新"),
        (KNOWN_REVISIONS[-2], "较旧"),
    ],
)
def test_a_county_on_another_schema_refuses_before_anything_is_written(
    county: Store,
    county_url: str,
    make_hall: Callable[..., Store],
    clock: FixedClock,
    make_syncer: Callable[..., Syncer],
    revision: str,
    says: str,
) -> None:
    hall = make_hall(HALL_A)
    busy_day(hall, clock, visitors=3)
    with county.unit_of_work() as s:
        s.execute(sa.text("UPDATE alembic_version SET version_num = :v"), {"v": revision})
    with pytest.raises(SyncRefused) as refused:
        make_syncer(hall, county_url).run_once()
    assert_plain_chinese(refused.value)
    assert revision in refused.value.message and says in refused.value.message
    assert "升级" in refused.value.message and "本批未写入" in refused.value.message
    with county.read() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(CaseEvent)) == 0
        assert s.get(Hall, HALL_A) is None  # not even registered
        assert s.scalar(sa.select(sa.func.count()).select_from(SyncAlert)) == 0
    with hall.read() as s:
        state = s.get(SyncState, "county")
        assert state is not None and state.pushed_seq == 0 and state.last_success_at is None
    # once the software matches again, the same hall goes through
    with county.unit_of_work() as s:
        s.execute(sa.text("UPDATE alembic_version SET version_num = :v"), {"v": HEAD_REVISION})
    make_syncer(hall, county_url).run_once()
    assert_converged(county, {HALL_A: hall})


# --- the password -----------------------------------------------------------------------------------------


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize("password", ["Zh1mA-kaI-men", "p@ss:w/rd%20?x"])
def test_the_county_password_never_shows(
    make_hall: Callable[..., Store], clock: FixedClock, caplog: pytest.LogCaptureFixture, password: str
) -> None:
    from urllib.parse import quote

    hall = make_hall(HALL_B)
    busy_day(hall, clock, visitors=1)
    url = f"postgresql+psycopg://desk:{quote(password, safe='')}@127.0.0.1:{_closed_port()}/county"
    caplog.set_level(logging.DEBUG)
    syncer = Syncer(hall, url, clock=clock)
    try:
        with pytest.raises(SyncError) as failed:
            syncer.run_once()
        rounds: list[object] = []
        syncer.run_every(0, stop=lambda: bool(rounds), on_round=rounds.append)  # logs the failure itself
    finally:
        syncer.close()
    e = failed.value
    assert_plain_chinese(e, secret=password)
    assert "无法连接县级数据库" in e.message and "稍后自动重试" in e.message
    assert "127.0.0.1" in e.message  # where it tried, so someone can check the address
    texts = [e.message, str(e), repr(e), sync_status(hall).last_error]
    assert isinstance(rounds[0], SyncError)
    texts += [rounds[0].message, str(rounds[0])]
    for r in caplog.records:
        texts += [r.getMessage(), str(r.args), r.exc_text or ""]
    assert any("sync failed" in t for t in texts)  # the log did record the failure
    for text in texts:
        assert password not in text and quote(password, safe="") not in text


def test_a_malformed_county_url_is_a_plain_failure_recorded_for_the_status_bar(
    make_hall: Callable[..., Store],
) -> None:
    hall = make_hall(HALL_A)
    syncer = Syncer(hall, "这不是地址")
    with pytest.raises(SyncError, match="县级数据库地址无效"):
        syncer.run_once()
    assert "县级数据库地址无效" in sync_status(hall).last_error
