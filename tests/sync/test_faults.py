"""Sync through a link that breaks: connections cut in the middle of the COPY, after the county committed but
before the hall heard it, during the pull, at random points; the county's backends killed mid-round; batches
delivered twice; hall clocks hours off; two halls working on one case. Every failure is a SyncError told in
Chinese, a retry finishes the work, and all stores converge with projections equal to a rebuild."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable

import pytest
import sqlalchemy as sa

from desk.core.clock import FixedClock
from desk.core.permissions import actor_name
from desk.services.county import CountyService
from desk.services.queue import QueueService
from desk.store import county as county_store
from desk.store.county import HallIdentity
from desk.store.events import as_event
from desk.store.models import CaseEvent, CaseHolder, CaseRow, Hall, OutboxRow, SyncState, TicketRow
from desk.store.session import Store
from desk.sync.engine import Syncer, SyncError, sync_status
from tests.conftest import NOW, staff, visit
from tests.sync.conftest import (
    HALL_A,
    HALL_B,
    BusyHall,
    assert_converged,
    assert_plain_chinese,
    busy_day,
    case_rows,
    event_ids,
    sync_until_ok,
)
from tests.sync.proxy import (
    AFTER_BYTES,
    BEFORE,
    COMMIT,
    COPY_EVENTS,
    OUTBOX_SELECT,
    REPLY,
    PgProxy,
    Trigger,
    statement,
)

pytestmark = pytest.mark.postgres

BATCH = 8  # small batches: a round is several transactions, so a cut can fall between or inside them


def _pushed_seq(hall: Store) -> int:
    with hall.read() as s:
        state = s.get(SyncState, "county")
        return int(state.pushed_seq) if state else 0


def _acked(county: Store, code: str) -> int:
    with county.read() as s:
        return int(s.scalar(sa.select(Hall.acked_seq).where(Hall.code == code)) or 0)


def _case_id(store: Store, case_no: str) -> str:
    with store.read() as s:
        cid = s.scalar(sa.select(CaseRow.id).where(CaseRow.case_no == case_no))
        assert cid is not None
        return cid


def _terminate_backends(admin_url: str, database: str) -> Callable[[], None]:
    """As if the county server restarted: every backend of its database is killed (and waited for)."""

    def kill() -> None:
        eng = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
        try:
            with eng.connect() as c:
                c.execute(
                    sa.text(
                        "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity "
                        "WHERE datname = :db AND pid <> pg_backend_pid()"
                    ),
                    {"db": database},
                )
        finally:
            eng.dispose()

    return kill


# --- one scenario, cut at every point ---------------------------------------------------------------------

Arm = Callable[[PgProxy], Trigger]

CUT_POINTS: dict[str, Arm] = {
    # in the middle of the second batch's COPY data: the county rolls the batch back
    "mid-copy": lambda p: p.cut_when(COPY_EVENTS, moment=AFTER_BYTES, nbytes=900, nth=2),
    # the county committed the second batch; the hall never hears the answer
    "after-commit-before-ack": lambda p: p.cut_when(COMMIT, moment=REPLY, within=COPY_EVENTS, nth=2),
    # the handshake (schema check) never reaches the county
    "handshake": lambda p: p.cut_when(statement("FROM alembic_version"), moment=BEFORE),
    # the pull's outbox SELECT never reaches the county
    "pull-request": lambda p: p.cut_when(OUTBOX_SELECT, moment=BEFORE),
    # the pull's outbox SELECT ran; its answer is lost on the way
    "pull-reply": lambda p: p.cut_when(OUTBOX_SELECT, moment=REPLY),
}


def _scenario(
    county: Store,
    halls: dict[str, Store],
    cases: dict[str, list[str]],
    syncers: dict[str, Syncer],
    clock: FixedClock,
    proxy: PgProxy,
    arm: Arm,
) -> list[Trigger]:
    """After busy days at both halls: diversions both ways, more work on the diverted cases, and every hall's
    sync sequence started with the cut armed. Returns the triggers armed (fired or not)."""
    a, b = halls[HALL_A], halls[HALL_B]
    a_cases, b_cases = cases[HALL_A], cases[HALL_B]
    armed: list[Trigger] = []

    def sync(code: str) -> None:
        armed.append(arm(proxy))
        sync_until_ok(syncers[code])
        proxy.disarm()

    sync(HALL_A)
    sync(HALL_B)
    svc = CountyService(county, clock, principal=staff())
    # cases 0 and 6 were claimed and finished: no ticket in a queue, they can go to the other hall
    svc.divert(a_cases[0], to_hall=HALL_B)
    svc.divert(a_cases[6], to_hall=HALL_B)
    svc.divert(b_cases[0], to_hall=HALL_A)
    new = svc.divert_visit(visit(), to_hall=HALL_B)
    sync(HALL_B)
    sync(HALL_A)
    hb, ha = QueueService(b, clock, principal=staff()), QueueService(a, clock, principal=staff())
    for case_no in (a_cases[0], new.case_no):
        clock.advance(minutes=2)
        hb.claim(hb.issue_ticket(case_no).ticket.id)
    ha.issue_ticket(b_cases[0])
    busy_day(a, clock, visitors=2, seed=3)
    for code in (HALL_A, HALL_B, HALL_A, HALL_B):
        sync(code)
    return armed


@pytest.mark.parametrize("cut", list(CUT_POINTS))
def test_a_cut_at_any_point_loses_nothing(
    cut: str,
    county: Store,
    county_url: str,
    busy_hall: BusyHall,
    clock: FixedClock,
    proxy: PgProxy,
    make_syncer: Callable[..., Syncer],
) -> None:
    (a, a_cases), (b, b_cases) = busy_hall(HALL_A, visitors=12, seed=1), busy_hall(HALL_B, visitors=4, seed=2)
    halls, cases = {HALL_A: a, HALL_B: b}, {HALL_A: a_cases, HALL_B: b_cases}
    url = proxy.url(county_url)
    syncers = {code: make_syncer(h, url, batch=BATCH) for code, h in halls.items()}
    armed = _scenario(county, halls, cases, syncers, clock, proxy, CUT_POINTS[cut])
    fired = [t for t in armed if t.fired.is_set()]
    assert len(fired) >= 2, f"the cut {cut} happened only {len(fired)} times"
    assert proxy.cuts >= len(fired)
    assert_converged(county, halls)
    for code, hall in halls.items():
        assert _pushed_seq(hall) == _acked(county, code)


def test_a_hall_on_postgresql_survives_the_same_cuts(
    county: Store,
    county_url: str,
    pg_hall_url: str,
    make_hall: Callable[..., Store],
    busy_hall: BusyHall,
    clock: FixedClock,
    proxy: PgProxy,
    make_syncer: Callable[..., Syncer],
) -> None:
    """The hall's own store on PostgreSQL (a hall LAN): its connections do not go through the proxy, the
    county's do, and each sync sequence meets a different cut."""
    a, a_cases = busy_hall(HALL_A, visitors=12, seed=1)
    b = make_hall(HALL_B, pg_hall_url)
    halls, cases = {HALL_A: a, HALL_B: b}, {HALL_A: a_cases, HALL_B: busy_day(b, clock, visitors=4, seed=2)}
    url = proxy.url(county_url)
    syncers = {code: make_syncer(h, url, batch=BATCH) for code, h in halls.items()}
    points = iter(list(CUT_POINTS.values()) * 3)
    armed = _scenario(county, halls, cases, syncers, clock, proxy, lambda p: next(points)(p))
    assert sum(t.fired.is_set() for t in armed) >= 4
    assert_converged(county, halls)


@pytest.mark.parametrize("seed", [3])
def test_random_cuts_from_a_seeded_rng_lose_nothing(
    seed: int,
    county: Store,
    county_url: str,
    busy_hall: BusyHall,
    clock: FixedClock,
    proxy: PgProxy,
    make_syncer: Callable[..., Syncer],
) -> None:
    rng = random.Random(seed)
    (a, a_cases), (b, b_cases) = busy_hall(HALL_A, visitors=12, seed=1), busy_hall(HALL_B, visitors=4, seed=2)
    halls, cases = {HALL_A: a, HALL_B: b}, {HALL_A: a_cases, HALL_B: b_cases}
    url = proxy.url(county_url)
    syncers = {code: make_syncer(h, url, batch=BATCH) for code, h in halls.items()}
    failures = 0
    for phase in range(3):
        for code in (HALL_A, HALL_B):
            # a cut somewhere in the next 60 kB of traffic, either way, at every attempt (the pushes of the
            # first phase are larger than that, so most attempts are cut and progress is made batch by batch)
            _, errors = sync_until_ok(
                syncers[code], attempts=60, before_each=lambda: proxy.cut_after(rng.randint(1, 60_000))
            )
            proxy.disarm()
            failures += len(errors)
        if phase == 0:
            svc = CountyService(county, clock, principal=staff())
            svc.divert(cases[HALL_A][0], to_hall=HALL_B)
            svc.divert(cases[HALL_B][0], to_hall=HALL_A)
            busy_day(b, clock, visitors=2, seed=seed + 2)
    assert failures >= 3 and proxy.cuts >= failures
    for code in (HALL_A, HALL_B):
        sync_until_ok(syncers[code])
    assert_converged(county, halls)


def test_the_acknowledgment_lost_after_the_county_committed_is_asked_again_not_doubled(
    county: Store,
    county_url: str,
    busy_hall: BusyHall,
    clock: FixedClock,
    proxy: PgProxy,
    make_syncer: Callable[..., Syncer],
) -> None:
    hall, _ = busy_hall(HALL_A, visitors=12, seed=1)
    syncer = make_syncer(hall, proxy.url(county_url), batch=BATCH)
    trigger = proxy.cut_when(COMMIT, moment=REPLY, within=COPY_EVENTS)
    with pytest.raises(SyncError) as failed:
        syncer.run_once()
    assert trigger.fired.is_set()
    assert_plain_chinese(failed.value)
    # the county holds the first batch; the hall does not know it
    assert _acked(county, HALL_A) == BATCH
    assert _pushed_seq(hall) == 0
    report, errors = sync_until_ok(syncer)
    assert not errors
    with hall.read() as s:
        last = int(s.scalar(sa.select(Hall.last_seq).where(Hall.code == HALL_A)) or 0)
    assert report.pushed == last - BATCH  # the committed batch was not sent again
    assert _pushed_seq(hall) == _acked(county, HALL_A) == last
    assert_converged(county, {HALL_A: hall})


def test_a_link_down_for_a_while_then_up_again(
    county: Store,
    county_url: str,
    busy_hall: BusyHall,
    clock: FixedClock,
    proxy: PgProxy,
    make_syncer: Callable[..., Syncer],
) -> None:
    """Store and forward: while the county cannot be reached the hall keeps working, each round fails at once
    with a message saying so, and the first round after the link is back sends everything."""
    hall, _ = busy_hall(HALL_A, visitors=12, seed=1)
    syncer = make_syncer(hall, proxy.url(county_url), batch=BATCH)
    sync_until_ok(syncer)
    before = sync_status(hall)
    proxy.refuse()
    proxy.cut()
    for day in range(3):
        clock.advance(hours=24)
        busy_day(hall, clock, visitors=2, seed=10 + day)
        with pytest.raises(SyncError) as failed:
            syncer.run_once()
        assert_plain_chinese(failed.value)
        assert "无法连接县级数据库" in failed.value.message
        status = sync_status(hall)
        assert status.waiting > 0 and status.last_error == failed.value.message
        assert status.last_success_at == before.last_success_at and status.pushed_seq == before.pushed_seq
    waiting = sync_status(hall).waiting
    proxy.refuse(False)
    report, errors = sync_until_ok(syncer)
    assert not errors and report.pushed == waiting
    after = sync_status(hall)
    assert after.waiting == 0 and after.last_error == "" and after.pushed_seq == before.pushed_seq + waiting
    assert_converged(county, {HALL_A: hall})


# --- the county restarts ----------------------------------------------------------------------------------


@pytest.mark.parametrize("at", ["copy", "commit", "pull"])
def test_the_county_restarting_mid_round(
    at: str,
    county: Store,
    county_url: str,
    pg_server: str,
    busy_hall: BusyHall,
    clock: FixedClock,
    proxy: PgProxy,
    make_syncer: Callable[..., Syncer],
) -> None:
    database = sa.engine.make_url(county_url).database
    assert database
    kill = _terminate_backends(pg_server, database)
    (a, cases), (b, _) = busy_hall(HALL_A, visitors=12, seed=1), busy_hall(HALL_B, visitors=4, seed=2)
    url = proxy.url(county_url)
    sa_, sb = make_syncer(a, url, batch=BATCH), make_syncer(b, url, batch=BATCH)
    sync_until_ok(sb)
    if at == "pull":
        sync_until_ok(sa_)
        CountyService(county, clock, principal=staff()).divert(cases[0], to_hall=HALL_B)
        trigger, syncer = proxy.cut_when(OUTBOX_SELECT, moment=BEFORE, then=kill), sb
    elif at == "copy":
        trigger, syncer = proxy.cut_when(COPY_EVENTS, moment=AFTER_BYTES, nbytes=500, nth=2, then=kill), sa_
    else:  # the backend dies just before the batch's COMMIT reaches it
        trigger, syncer = proxy.cut_when(COMMIT, moment=BEFORE, within=COPY_EVENTS, nth=2, then=kill), sa_
    with pytest.raises(SyncError) as failed:
        syncer.run_once()
    assert_plain_chinese(failed.value)
    assert trigger.fired.is_set()
    if at != "pull":
        assert _acked(county, HALL_A) == BATCH  # the first batch stayed, the second was rolled back
    _, errors = sync_until_ok(syncer)
    assert not errors  # the next round reconnects and finishes
    for syncer in (sa_, sb, sa_, sb):
        sync_until_ok(syncer)
    assert_converged(county, {HALL_A: a, HALL_B: b})


def test_the_county_restarting_between_rounds_costs_no_failed_round(
    county: Store,
    county_url: str,
    pg_server: str,
    make_hall: Callable[..., Store],
    clock: FixedClock,
    make_syncer: Callable[..., Syncer],
) -> None:
    database = sa.engine.make_url(county_url).database
    assert database
    hall = make_hall(HALL_A)
    syncer = make_syncer(hall, county_url)
    busy_day(hall, clock, visitors=3)
    syncer.run_once()
    _terminate_backends(pg_server, database)()  # the pooled connections are dead now
    busy_day(hall, clock, visitors=3, seed=2)
    report = syncer.run_once()  # no SyncError: a dead pooled connection is noticed and replaced
    assert report.pushed > 0
    assert_converged(county, {HALL_A: hall})


def test_a_statement_cancelled_at_the_county_mid_copy_is_a_sync_error(
    county: Store,
    county_url: str,
    pg_server: str,
    busy_hall: BusyHall,
    clock: FixedClock,
    proxy: PgProxy,
    make_syncer: Callable[..., Syncer],
) -> None:
    """A county DBA's statement_timeout or pg_cancel_backend: the COPY fails but the connection lives."""
    database = sa.engine.make_url(county_url).database

    def cancel() -> None:
        eng = sa.create_engine(pg_server, isolation_level="AUTOCOMMIT")
        try:
            with eng.connect() as c:
                c.execute(
                    sa.text(
                        "SELECT pg_cancel_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = :db AND query LIKE 'COPY case_events%'"
                    ),
                    {"db": database},
                )
        finally:
            eng.dispose()

    hall, _ = busy_hall(HALL_A, visitors=12, seed=1)
    syncer = make_syncer(hall, proxy.url(county_url), batch=BATCH)
    trigger = proxy.cut_when(COPY_EVENTS, moment=AFTER_BYTES, nbytes=200, nth=2, then=cancel)
    _, errors = sync_until_ok(syncer)
    assert trigger.fired.is_set()
    assert len(errors) == 1 and "县级数据库中止了本批写入" in errors[0].message
    for noise in ("canceling statement", "COPY", "stdin", "QueryCanceled"):  # psycopg's words stay in the log
        assert noise not in errors[0].message
    assert_converged(county, {HALL_A: hall})


# --- duplicate delivery -----------------------------------------------------------------------------------


def _counts(county: Store) -> tuple[int, int, int, int]:
    with county.read() as s:
        return tuple(
            int(s.scalar(sa.select(sa.func.count()).select_from(t)) or 0)  # type: ignore[return-value]
            for t in (CaseEvent, CaseRow, OutboxRow, CaseHolder)
        )


def test_a_batch_the_county_already_has_is_skipped(
    county: Store, busy_hall: BusyHall, clock: FixedClock
) -> None:
    a, _ = busy_hall(HALL_A, visitors=12, seed=1)
    with a.read() as s:
        events = [as_event(e) for e in s.scalars(sa.select(CaseEvent).order_by(CaseEvent.hall_seq))]
    ident = HallIdentity(HALL_A, "测试")
    half = len(events) // 2
    with county.unit_of_work() as cs:
        assert county_store.receive_push(cs, ident, events[:half], clock.now()) == half
    with county.read() as s:
        from desk.store.repositories import projection_snapshot

        snapshot = projection_snapshot(s)
    counts = _counts(county)
    for _ in range(2):  # the same batch again, twice
        with county.unit_of_work() as cs:
            assert county_store.receive_push(cs, ident, events[:half], clock.now()) == half
        assert _counts(county) == counts
        with county.read() as s:
            assert projection_snapshot(s) == snapshot
    # a batch overlapping what the county has: only the new part is taken in
    with county.unit_of_work() as cs:
        assert county_store.receive_push(cs, ident, events[half - 3 :], clock.now()) == len(events)
    assert event_ids(county) == sorted(e.id for e in events)
    assert_converged(county, {HALL_A: a})


def test_a_second_process_of_the_hall_pushing_meanwhile_is_not_doubled(
    county: Store,
    county_url: str,
    busy_hall: BusyHall,
    clock: FixedClock,
    make_syncer: Callable[..., Syncer],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The app's background sync and a scheduled `desk sync` at once: one asked the county what it holds,
    then the other pushed everything; the first sends a batch the county already has."""
    hall, _ = busy_hall(HALL_A, visitors=12, seed=1)
    first, second = make_syncer(hall, county_url, batch=BATCH), make_syncer(hall, county_url)
    unpushed = first._unpushed
    calls: list[int] = []

    def after_the_handshake(hall_code: str, after: int) -> list[county_store.Event]:
        if not calls:
            second.run_once()
        calls.append(after)
        return unpushed(hall_code, after)

    monkeypatch.setattr(first, "_unpushed", after_the_handshake)
    report = first.run_once()
    assert calls[0] == 0 and report.pushed == BATCH  # it did send a batch the county had...
    assert (
        report.acked_seq == _acked(county, HALL_A) == _pushed_seq(hall)
    )  # ...and learned the county has all
    assert_converged(county, {HALL_A: hall})


# --- clocks hours off -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("a_hours", "b_hours"), [(5, -7), (-9, 3)])
def test_halls_with_clocks_hours_off_converge_and_fold_identically(
    a_hours: int,
    b_hours: int,
    county: Store,
    county_url: str,
    make_hall: Callable[..., Store],
    clock: FixedClock,
    make_syncer: Callable[..., Syncer],
) -> None:
    ca, cb = FixedClock(NOW + dt.timedelta(hours=a_hours)), FixedClock(NOW + dt.timedelta(hours=b_hours))
    a, b = make_hall(HALL_A), make_hall(HALL_B)
    sa_, sb = make_syncer(a, county_url, clock=ca), make_syncer(b, county_url, clock=cb)
    a_cases = busy_day(a, ca, visitors=6, seed=1)
    b_cases = busy_day(b, cb, visitors=6, seed=2)
    sa_.run_once()
    sb.run_once()
    svc = CountyService(county, clock, principal=staff())  # the county's clock is right
    svc.divert(a_cases[0], to_hall=HALL_B)
    svc.divert(b_cases[0], to_hall=HALL_A)
    sb.run_once()
    sa_.run_once()
    # each hall works on the case it received, stamping its own (wrong) time
    hb, ha = QueueService(b, cb, principal=staff()), QueueService(a, ca, principal=staff())
    tb = hb.issue_ticket(a_cases[0]).ticket
    hb.claim(tb.id)
    ta = ha.issue_ticket(b_cases[0]).ticket
    for syncer in (sa_, sb, sa_, sb):
        syncer.run_once()
    assert_converged(county, {HALL_A: a, HALL_B: b})
    with county.read() as s:
        stamps = {
            (e.hall_code, e.kind): e.occurred_at
            for e in s.scalars(sa.select(CaseEvent).where(CaseEvent.case_id == _case_id(county, a_cases[0])))
        }
        tickets = {t.id: t.state for t in s.scalars(sa.select(TicketRow))}
    # every place's events keep the time its own clock gave them, hours apart...
    assert stamps[(HALL_B, "claimed")] == cb.now() and stamps[("620702", "diverted")] == clock.now()
    assert stamps[(HALL_A, "registered")] < ca.now()
    assert abs(stamps[(HALL_B, "claimed")] - stamps[(HALL_A, "registered")]) > dt.timedelta(hours=2)
    # ...and nothing folds away: B's ticket on A's case (stamped maybe hours "before" it was registered) stands
    assert tickets[tb.id] == "serving" and tickets[ta.id] == "waiting"
    # the case's causal order is the order its events were written in, whatever the clocks said
    with county.read() as s:
        kinds = list(
            s.scalars(
                sa.select(CaseEvent.kind)
                .where(CaseEvent.case_id == _case_id(county, a_cases[0]))
                .order_by(CaseEvent.hlc)
            )
        )
    assert kinds[0] == "registered" and kinds[-4:] == ["diverted", "routed", "ticket_issued", "claimed"]


def test_a_claim_on_a_clock_hours_behind_the_county_still_follows_the_diversion(
    county: Store,
    county_url: str,
    make_hall: Callable[..., Store],
    clock: FixedClock,
    make_syncer: Callable[..., Syncer],
) -> None:
    """From the sync notes: a hall whose clock is hours behind the county claimed a case diverted to it; by wall
    clock its claim came before the diversion, and the case stayed 已分流. Causal stamps put the claim after."""
    behind = FixedClock(NOW - dt.timedelta(hours=4))
    a = make_hall(HALL_A)
    sync = make_syncer(a, county_url, clock=behind)
    sync.run_once()  # the hall registers itself at the county
    case_no = CountyService(county, clock, principal=staff()).divert_visit(visit(), to_hall=HALL_A).case_no
    sync.run_once()
    hall = QueueService(a, behind, principal=staff())
    ticket = hall.issue_ticket(case_no).ticket
    hall.claim(ticket.id)
    sync.run_once()
    assert_converged(county, {HALL_A: a})
    for store in (a, county):
        with store.read() as s:
            case = s.scalars(sa.select(CaseRow).where(CaseRow.case_no == case_no)).one()
            log = s.execute(
                sa.select(CaseEvent.kind, CaseEvent.hlc, CaseEvent.occurred_at)
                .where(CaseEvent.case_id == case.id)
                .order_by(CaseEvent.hlc)
            ).all()
            assert (case.state, case.hall_code) == ("in_mediation", HALL_A)
        kinds = [k for k, _, _ in log]
        assert kinds == ["registered", "deadline_set", "diverted", "routed", "ticket_issued", "claimed"]
        at = {k: when for k, _, when in log}
        assert at["claimed"] < at["diverted"] - dt.timedelta(hours=3)  # the wall clocks say otherwise


# --- two halls on one case --------------------------------------------------------------------------------


def test_two_halls_adding_events_to_one_case_both_keep_theirs(
    county: Store,
    county_url: str,
    make_hall: Callable[..., Store],
    clock: FixedClock,
    make_syncer: Callable[..., Syncer],
) -> None:
    a, b = make_hall(HALL_A), make_hall(HALL_B)
    sa_, sb = make_syncer(a, county_url), make_syncer(b, county_url)
    case_no = busy_day(a, clock, visitors=1)[0]
    sa_.run_once()
    sb.run_once()
    CountyService(county, clock, principal=staff()).divert(case_no, to_hall=HALL_B)
    sb.run_once()  # A is offline: it has not heard of the diversion (once it has, it refuses to ticket the case)
    case_id = _case_id(county, case_no)
    # offline from each other: B routes and claims the case; the visitor also turns up at A again
    hb, ha = (
        QueueService(b, clock, principal=staff("乙中心调解员")),
        QueueService(a, clock, principal=staff("甲中心前台")),
    )
    clock.advance(minutes=5)
    tb = hb.issue_ticket(case_no).ticket
    clock.advance(minutes=1)
    ta = ha.issue_ticket(case_no).ticket
    clock.advance(minutes=1)
    hb.claim(tb.id)
    ha.call_next(ta.room_code)
    for syncer in (sa_, sb, sa_, sb):
        syncer.run_once()
    assert_converged(county, {HALL_A: a, HALL_B: b})
    with county.read() as s:
        actors = sorted(
            {e.actor for e in s.scalars(sa.select(CaseEvent).where(CaseEvent.case_id == case_id))}
        )
    assert {"乙中心调解员", "甲中心前台"} <= {actor_name(a) for a in actors}
    rows = case_rows(county, {case_id})
    assert rows == case_rows(a, {case_id}) == case_rows(b, {case_id})
    with b.read() as s:
        states = {t.id: t.state for t in s.scalars(sa.select(TicketRow).where(TicketRow.case_id == case_id))}
    assert states[tb.id] == "serving" and states[ta.id] == "called"
