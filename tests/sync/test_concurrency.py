"""Pull cursors under concurrent pushes: outbox rows become visible in `seq` order, so a hall pulling with
`seq > cursor` never skips a row that commits later. Shown under load (several halls pushing at once, the county
diverting, a hall pulling all the while) and, deterministically, by taking the county's sequence lock away:
without it, a row committed late is skipped for good."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable

import pytest
import sqlalchemy as sa

from desk.core.clock import FixedClock
from desk.core.events import Diverted, Event, RiskFlagged
from desk.services.county import CountyService
from desk.services.queue import QueueService
from desk.store import county as county_store
from desk.store.county import HallIdentity
from desk.store.events import append_event, as_event
from desk.store.models import CaseEvent, CaseHolder, CaseRow, Hall, OutboxRow, TicketRow
from desk.store.session import Store
from desk.sync.engine import Syncer
from tests.conftest import staff, visit
from tests.sync.conftest import COUNTY_CODE, HALL_A, HALL_B, BusyHall, assert_converged, event_ids

pytestmark = pytest.mark.postgres

WATCHER = "620702099"  # a hall that holds every case, so every event is queued for it
HALL_C = "620702003"


def _hold_every_case(county: Store, halls: list[Store]) -> None:
    """Make WATCHER a registered hall holding every case of these halls before any is pushed."""
    case_ids: set[str] = set()
    for h in halls:
        with h.read() as s:
            case_ids |= set(s.scalars(sa.select(CaseRow.id)))
    with county.unit_of_work() as s:
        s.add(Hall(code=WATCHER, name="全县观察", phone="", last_seq=0, is_local=False, acked_seq=0))
        s.add_all(CaseHolder(case_id=c, hall_code=WATCHER) for c in sorted(case_ids))


def _outbox(county: Store) -> list[tuple[int, str]]:
    with county.read() as s:
        return [
            (int(q), e)
            for q, e in s.execute(
                sa.select(OutboxRow.seq, OutboxRow.event_id)
                .where(OutboxRow.hall_code == WATCHER)
                .order_by(OutboxRow.seq)
            )
        ]


class Puller:
    """Pulls WATCHER's outbox by cursor, the way a hall does, and remembers everything it got."""

    def __init__(self, county: Store, limit: int = 5) -> None:
        self.county = county
        self.limit = limit
        self.cursor = 0
        self.got: list[tuple[int, str]] = []
        self.polls = 0

    def pull(self) -> int:
        """Pull until the outbox has nothing past the cursor; how many rows came."""
        n = 0
        while True:
            with self.county.read() as s:
                rows = county_store.outbox_since(s, WATCHER, self.cursor, self.limit)
            self.polls += 1
            if not rows:
                return n
            self.got += [(q, e.id) for q, e in rows]
            self.cursor = rows[-1][0]
            n += len(rows)


def test_a_pull_during_concurrent_pushes_and_diversions_skips_nothing(
    county: Store, county_url: str, busy_hall: BusyHall, clock: FixedClock, make_syncer: Callable[..., Syncer]
) -> None:
    halls = {
        code: busy_hall(code, visitors=v, seed=seed)[0]
        for code, v, seed in ((HALL_A, 12, 1), (HALL_B, 4, 2), (HALL_C, 4, 3))
    }
    _hold_every_case(county, list(halls.values()))
    syncers = [make_syncer(h, county_url, batch=3) for h in halls.values()]  # many small transactions
    puller = Puller(county)
    errors: list[BaseException] = []
    pushing = threading.Barrier(len(syncers) + 2)

    def guarded(fn: Callable[[], object]) -> Callable[[], None]:
        def run() -> None:
            try:
                pushing.wait()
                fn()
            except BaseException as e:  # noqa: BLE001 - reported by the test below
                errors.append(e)

        return run

    def divert() -> None:
        svc = CountyService(county, FixedClock(clock.now()), principal=staff())
        for i in range(4):
            svc.divert_visit(visit(narrative=f"县级交办第{i}件：邻里纠纷"), to_hall=WATCHER)

    workers = [threading.Thread(target=guarded(s.run_once)) for s in syncers]
    workers.append(threading.Thread(target=guarded(divert)))
    for w in workers:
        w.start()
    pushing.wait()
    while any(w.is_alive() for w in workers):
        puller.pull()
    for w in workers:
        w.join()
    assert not errors, errors
    puller.pull()
    everything = _outbox(county)
    assert puller.got == everything, "the cursor skipped rows that became visible later"
    assert [q for q, _ in puller.got] == sorted({q for q, _ in puller.got})
    assert sorted(e for _, e in everything) == event_ids(county)  # WATCHER was sent every event, once
    assert puller.polls > len(syncers)  # it pulled while the pushes ran
    assert_converged(county, halls)


def _events(store: Store) -> list[Event]:
    with store.read() as s:
        return [as_event(e) for e in s.scalars(sa.select(CaseEvent).order_by(CaseEvent.hall_seq))]


def _advisory_lock_waiters(county: Store) -> int:
    with county.read() as s:
        return int(
            s.scalar(
                sa.text(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND objid = :k"
                ),
                {"k": county_store.SEQ_LOCK},
            )
            or 0
        )


def _two_pushes(county: Store, busy_hall: BusyHall) -> tuple[list[Event], list[Event]]:
    a, _ = busy_hall(HALL_A, visitors=12, seed=1)
    b, _ = busy_hall(HALL_B, visitors=4, seed=2)
    _hold_every_case(county, [a, b])
    return _events(a), _events(b)


def test_without_the_seq_lock_a_cursor_skips_the_row_that_commits_late(
    county: Store, busy_hall: BusyHall, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Proof that the lock is needed: A's push takes its seqs first and commits last; B's commits between.
    A pull in between sees B's rows and moves its cursor past A's, which then never come."""
    events_a, events_b = _two_pushes(county, busy_hall)
    monkeypatch.setattr(county_store, "take_seq_lock", lambda session: None)
    puller = Puller(county)
    with contextlib.ExitStack() as slow:
        s1 = slow.enter_context(county.unit_of_work())
        county_store.receive_push(
            s1, HallIdentity(HALL_A, "甲"), events_a, clock.now()
        )  # seqs taken, not committed
        with county.unit_of_work() as s2:  # not held up: there is no lock
            county_store.receive_push(s2, HallIdentity(HALL_B, "乙"), events_b, clock.now())
        puller.pull()
        assert {e for _, e in puller.got} == {e.id for e in events_b}
    puller.pull()  # A has committed now, below the cursor
    missed = set(_outbox(county)) - set(puller.got)
    assert {e for _, e in missed} == {e.id for e in events_a}
    assert max(q for q, _ in missed) < puller.cursor


def test_with_the_seq_lock_the_second_push_waits_and_nothing_is_skipped(
    county: Store, busy_hall: BusyHall, clock: FixedClock
) -> None:
    events_a, events_b = _two_pushes(county, busy_hall)
    puller = Puller(county)
    failures: list[BaseException] = []

    def push_b() -> None:
        try:
            with county.unit_of_work() as s2:
                county_store.receive_push(s2, HallIdentity(HALL_B, "乙"), events_b, clock.now())
        except BaseException as e:  # noqa: BLE001
            failures.append(e)

    with contextlib.ExitStack() as slow:
        s1 = slow.enter_context(county.unit_of_work())
        county_store.receive_push(s1, HallIdentity(HALL_A, "甲"), events_a, clock.now())
        second = threading.Thread(target=push_b)
        second.start()
        deadline = time.monotonic() + 20
        while _advisory_lock_waiters(county) == 0:
            assert second.is_alive() and time.monotonic() < deadline, "B's push did not wait for the lock"
            time.sleep(0.02)
        puller.pull()
        assert puller.got == []  # A uncommitted, B waiting: nothing visible, the cursor stays
    second.join(20)
    assert not failures and not second.is_alive()
    puller.pull()
    assert puller.got == _outbox(county)
    assert [e for _, e in puller.got] == [e.id for e in events_a] + [e.id for e in events_b]


def test_two_halls_pushing_events_of_one_case_at_once_fold_the_union(
    county: Store, county_url: str, busy_hall: BusyHall, clock: FixedClock, make_syncer: Callable[..., Syncer]
) -> None:
    """A and B both hold a case and push their new events of it at the same moment. The second push waits
    while the first commits; it must fold the case from the log as it is once it may go on (with A's events),
    not as it was when it started."""
    (a, cases), (b, _) = busy_hall(HALL_A, visitors=12, seed=1), busy_hall(HALL_B, visitors=4, seed=2)
    sa_, sb = make_syncer(a, county_url), make_syncer(b, county_url)
    sa_.run_once()
    sb.run_once()
    CountyService(county, clock, principal=staff()).divert(cases[0], to_hall=HALL_B)
    sb.run_once()  # A has not heard of the diversion yet (once it has, it refuses to ticket the case)
    clock.advance(minutes=5)
    QueueService(a, clock, principal=staff()).issue_ticket(cases[0])
    clock.advance(minutes=1)
    QueueService(b, clock, principal=staff()).issue_ticket(cases[0])

    def unpushed(store: Store, code: str) -> list[Event]:
        with county.read() as s:
            acked = int(s.scalar(sa.select(Hall.acked_seq).where(Hall.code == code)) or 0)
        return [e for e in _events(store) if e.hall_code == code and e.hall_seq > acked]

    events_a, events_b = unpushed(a, HALL_A), unpushed(b, HALL_B)
    assert events_a and events_b
    failures: list[BaseException] = []

    def push_b() -> None:
        try:
            with county.unit_of_work() as s2:
                county_store.receive_push(s2, HallIdentity(HALL_B, "乙"), events_b, clock.now())
        except BaseException as e:  # noqa: BLE001
            failures.append(e)

    with contextlib.ExitStack() as first:
        s1 = first.enter_context(county.unit_of_work())
        county_store.receive_push(s1, HallIdentity(HALL_A, "甲"), events_a, clock.now())
        second = threading.Thread(target=push_b)
        second.start()
        deadline = time.monotonic() + 20
        while not _lock_waiters(county):
            assert second.is_alive() and time.monotonic() < deadline, "B's push did not wait for A's"
            time.sleep(0.02)
    second.join(20)
    assert not failures and not second.is_alive()
    for syncer in (sa_, sb, sa_, sb):
        syncer.run_once()
    assert_converged(county, {HALL_A: a, HALL_B: b})
    with county.read() as s:
        states = sorted(
            s.scalars(
                sa.select(TicketRow.state)
                .join(CaseRow, CaseRow.id == TicketRow.case_id)
                .where(CaseRow.case_no == cases[0])
            )
        )
    assert states == ["done", "waiting", "waiting"]  # the first day's ticket, then A's and B's


def test_a_pull_into_a_postgresql_hall_waits_for_a_terminal_writing_the_same_case(
    county: Store,
    county_url: str,
    pg_hall_url: str,
    make_hall: Callable[..., Store],
    busy_hall: BusyHall,
    clock: FixedClock,
    make_syncer: Callable[..., Syncer],
) -> None:
    """A hall on PostgreSQL (several terminals): a terminal is writing an event of a case just when the
    background sync pulls other events of it. The pull must fold the case with the terminal's event, not from
    what it read before that event committed."""
    (a, cases), b = busy_hall(HALL_A, visitors=12, seed=1), make_hall(HALL_B, pg_hall_url)
    sa_, sb = make_syncer(a, county_url), make_syncer(b, county_url)
    sa_.run_once()
    sb.run_once()
    CountyService(county, clock, principal=staff()).divert(cases[0], to_hall=HALL_B)
    # The diversion reaches B within a few rounds (a round that saw nothing yet is no skip: the cursor only moves
    # past what was taken in, so a skipped row would never come, and the assertion below would say so).
    for _ in range(5):
        sb.run_once()
        with b.read() as s:
            if s.scalar(sa.select(CaseRow.id).where(CaseRow.case_no == cases[0])) is not None:
                break
    clock.advance(minutes=5)
    QueueService(a, clock, principal=staff()).issue_ticket(cases[0])  # what B's next pull brings
    sa_.run_once()
    case_id = _case_id(b, cases[0])
    failures: list[BaseException] = []

    def background_sync() -> None:
        try:
            sb.run_once()
        except BaseException as e:  # noqa: BLE001
            failures.append(e)

    with contextlib.ExitStack() as terminal:
        s = terminal.enter_context(b.unit_of_work())
        clock.advance(minutes=1)
        append_event(
            s,
            hall_code=HALL_B,
            case_id=case_id,
            body=RiskFlagged(("group_visit",)),
            occurred_at=clock.now(),
            actor="乙中心终端",
        )
        s.flush()  # the case's row is updated (and locked) by the terminal's transaction
        sync = threading.Thread(target=background_sync)
        sync.start()
        deadline = time.monotonic() + 20
        while not _lock_waiters(b):
            assert sync.is_alive() and time.monotonic() < deadline, "the pull did not wait for the terminal"
            time.sleep(0.02)
    sync.join(20)
    assert not failures and not sync.is_alive()
    for syncer in (sb, sa_, sb):
        syncer.run_once()
    assert_converged(county, {HALL_A: a, HALL_B: b})
    with b.read() as s:
        case = s.get(CaseRow, case_id)
        assert case is not None and "group_visit" in case.risk_flags
        assert (
            s.scalar(sa.select(sa.func.count()).select_from(TicketRow).where(TicketRow.case_id == case_id))
            == 2
        )


def _case_id(store: Store, case_no: str) -> str:
    with store.read() as s:
        cid = s.scalar(sa.select(CaseRow.id).where(CaseRow.case_no == case_no))
        assert cid is not None
        return cid


def _lock_waiters(store: Store) -> int:
    with store.read() as s:
        return int(
            s.scalar(
                sa.text(
                    "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
                    "WHERE NOT l.granted AND a.datname = current_database()"
                )
            )
            or 0
        )


def test_a_push_waits_for_a_diversion_of_the_same_case_being_made_at_the_county(
    county: Store, county_url: str, busy_hall: BusyHall, clock: FixedClock, make_syncer: Callable[..., Syncer]
) -> None:
    """The county diverts a case while its hall pushes new events of it. The push waits for the diversion to
    commit (neither is aborted as a deadlock) and folds the case with it."""
    (a, cases), (b, _) = busy_hall(HALL_A, visitors=12, seed=1), busy_hall(HALL_B, visitors=4, seed=2)
    sa_, sb = make_syncer(a, county_url), make_syncer(b, county_url)
    sa_.run_once()
    sb.run_once()
    clock.advance(minutes=5)
    QueueService(a, clock, principal=staff()).issue_ticket(cases[0])
    case_id = _case_id(a, cases[0])
    failures: list[BaseException] = []

    def push() -> None:
        try:
            sa_.run_once()
        except BaseException as e:  # noqa: BLE001
            failures.append(e)

    with contextlib.ExitStack() as diverting:  # what CountyService.divert does, held open
        s = diverting.enter_context(county.unit_of_work())
        clock.advance(minutes=1)
        append_event(
            s,
            hall_code=COUNTY_CODE,
            case_id=case_id,
            body=Diverted(to_hall=HALL_B, from_hall=HALL_A),
            occurred_at=clock.now(),
            actor="县级",
        )
        s.flush()
        pushing = threading.Thread(target=push)
        pushing.start()
        deadline = time.monotonic() + 20
        while not _lock_waiters(county):
            assert pushing.is_alive() and time.monotonic() < deadline, (
                "the push did not wait for the diversion"
            )
            time.sleep(0.02)
    pushing.join(20)
    assert not failures and not pushing.is_alive()
    for syncer in (sb, sa_, sb):
        syncer.run_once()
    assert_converged(county, {HALL_A: a, HALL_B: b})
    with county.read() as s:
        case = s.get(CaseRow, case_id)
        assert case is not None and case.hall_code == HALL_B
