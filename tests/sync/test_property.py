"""Property: whatever two halls and the county do, in whatever order, with the link cut at random points of
random rounds, two clean rounds per hall afterwards leave every store converged (assert_converged), and every
store's own events are stamped in the order it wrote them.

The halls and the county each keep their own clock, hours apart, and a clock can be set hours back or ahead
mid-example: the case's causal order (HLC stamps) must hold whatever the clocks say.

A hypothesis state machine interleaves registrations, queue steps (ticket, call, claim, finish), diversions at
the county (of existing cases and of visits registered there), and sync rounds through the cutting proxy. Each
example starts from an empty county (its tables emptied) and fresh copies of the two halls' stores.
"""

from __future__ import annotations

import contextlib
import random
import shutil
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    precondition,
    rule,
    run_state_machine_as_test,
)

from desk.core.clock import FixedClock
from desk.core.synthetic import make_visit
from desk.errors import DeskError
from desk.services.county import CountyService
from desk.services.queue import QueueService
from desk.services.registration import RegistrationService
from desk.store.models import CaseEvent, CaseRow, Hall, TicketRow
from desk.store.session import Store, open_store
from desk.sync.engine import Syncer, SyncError, SyncRefused, open_county
from tests.conftest import NOW, staff, visit
from tests.sync.conftest import HALL_A, HALL_B, assert_converged, assert_plain_chinese
from tests.sync.proxy import PgProxy

pytestmark = pytest.mark.postgres

HALLS = (HALL_A, HALL_B)
# Every table a sync fills at the county; the reference data (categories, departments, sync_meta) stays.
COUNTY_TABLES = (
    "case_events, cases, parties, tickets, whistles, warnings, bookings, case_holders, county_outbox, "
    "sync_alerts, counters, rooms, audit_log"
)


def _empty_county(county: Store) -> None:
    with county.unit_of_work() as s:
        s.execute(sa.text(f"TRUNCATE {COUNTY_TABLES} RESTART IDENTITY"))
        s.execute(sa.text("ALTER SEQUENCE case_event_seq RESTART"))
        s.execute(sa.delete(Hall).where(Hall.is_local.is_(False)))
        s.execute(sa.update(Hall).values(last_seq=0, last_hlc=0))


def _assert_stamped_in_writing_order(store: Store) -> None:
    """Within each hall's events (as any store holds them), HLC order is hall_seq order: each was stamped after
    everything its writer had seen, its own earlier events included."""
    with store.read() as s:
        rows = s.execute(
            sa.select(CaseEvent.hall_code, CaseEvent.hlc).order_by(CaseEvent.hall_code, CaseEvent.hall_seq)
        ).all()
    last: dict[str, int] = {}
    for hall_code, hlc in rows:
        assert hlc > last.get(hall_code, -1), f"hall {hall_code}: a stamp out of writing order"
        last[hall_code] = hlc


class Context:
    """What every example shares: the county, the proxy, the halls' initialised stores to copy."""

    def __init__(
        self, county: Store, url: str, proxy: PgProxy, templates: dict[str, Path], tmp: Path
    ) -> None:
        self.county, self.url, self.proxy, self.templates, self.tmp = county, url, proxy, templates, tmp
        self.link = open_county(url)  # the county through the proxy, one engine for every example's Syncers
        self.examples = 0
        self.stats: Counter[str] = Counter()


def machine(ctx: Context) -> type[RuleBasedStateMachine]:
    class HallsAndCounty(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            _empty_county(ctx.county)
            ctx.examples += 1
            self.clock = FixedClock(NOW)  # the county's
            # each hall's own clock; `morning` sets them hours apart from the county's
            self.clocks = {code: FixedClock(NOW) for code in HALLS}
            self.halls: dict[str, Store] = {}
            self.syncers: dict[str, Syncer] = {}
            for code in HALLS:
                path = ctx.tmp / f"example{ctx.examples}-{code}.db"
                shutil.copyfile(ctx.templates[code], path)
                self.halls[code] = open_store(f"sqlite:///{path}")
                self.syncers[code] = Syncer(
                    self.halls[code], ctx.url, clock=self.clocks[code], batch=4, county_store=ctx.link
                )
            self.known: set[str] = set()  # halls the county has registered (after their first good round)

        def _hall(self, code: str) -> QueueService:
            return QueueService(
                self.halls[code],
                self.clocks[code],
                principal=staff(f"调解员{code[-1]}", f"T{code[-1]}"),
            )

        def _tick(self) -> None:
            for c in (self.clock, *self.clocks.values()):
                c.advance(minutes=1)

        def _register(self, code: str, seed: int) -> str:
            self._tick()
            reg = RegistrationService(self.halls[code], self.clocks[code], principal=staff())
            names = {c.code: c.name for c in reg.categories()}
            ctx.stats["registered"] += 1
            return reg.register(make_visit(random.Random(seed), categories=names), new_case=True).case_no

        @initialize(
            a=st.integers(1, 2),
            b=st.integers(0, 2),
            seed=st.integers(0, 2**32),
            skew_a=st.integers(-12 * 60, 12 * 60),
            skew_b=st.integers(-12 * 60, 12 * 60),
        )
        def morning(self, a: int, b: int, seed: int, skew_a: int, skew_b: int) -> None:
            """Visitors already waiting when the example starts, so queue steps have something to work on; the
            halls' clocks are up to 12 hours off the county's."""
            self.clocks[HALL_A].advance(minutes=skew_a)
            self.clocks[HALL_B].advance(minutes=skew_b)
            for code, n in ((HALL_A, a), (HALL_B, b)):
                for i in range(n):
                    case_no = self._register(code, seed + i)
                    with contextlib.suppress(DeskError):
                        self._hall(code).issue_ticket(case_no)

        @rule(code=st.sampled_from(HALLS), seed=st.integers(0, 2**32))
        def register(self, code: str, seed: int) -> None:
            self._register(code, seed)

        def _queue_step(self, code: str, pick: int, step: str) -> None:
            """One step of the queue on a case or ticket `pick` chooses among those it applies to."""
            self._tick()
            store, hall = self.halls[code], self._hall(code)
            queued = ["waiting", "called", "parked"]
            with store.read() as s:
                if step == "ticket":  # cases not in a queue already
                    in_queue = sa.select(TicketRow.case_id).where(TicketRow.state.in_(queued))
                    choices = list(
                        s.scalars(
                            sa.select(CaseRow.case_no)
                            .where(CaseRow.id.not_in(in_queue))
                            .order_by(CaseRow.case_no)
                        )
                    )
                else:
                    wanted = {"call": ["waiting"], "claim": ["waiting", "called"], "finish": ["serving"]}[
                        step
                    ]
                    choices = list(
                        s.scalars(
                            sa.select(TicketRow.id)
                            .where(TicketRow.hall_code == code, TicketRow.state.in_(wanted))
                            .order_by(TicketRow.id)
                        )
                    )
            if not choices:
                return
            chosen = choices[pick % len(choices)]
            try:
                if step == "ticket":
                    hall.issue_ticket(chosen)
                elif step == "call":
                    with store.read() as s:
                        room = s.scalar(sa.select(TicketRow.room_code).where(TicketRow.id == chosen))
                    assert room is not None
                    hall.call_next(room)
                elif step == "claim":
                    hall.claim(chosen)
                else:
                    hall.finish(chosen)
            except DeskError:  # e.g. no open room takes the case's category: the desk says so, fine
                return
            ctx.stats[step] += 1

        @rule(code=st.sampled_from(HALLS), pick=st.integers(0, 10_000))
        def issue_ticket(self, code: str, pick: int) -> None:
            self._queue_step(code, pick, "ticket")

        @rule(
            code=st.sampled_from(HALLS),
            pick=st.integers(0, 10_000),
            step=st.sampled_from(["call", "claim", "finish"]),
        )
        def serve(self, code: str, pick: int, step: str) -> None:
            self._queue_step(code, pick, step)

        @precondition(lambda self: bool(self.known))
        @rule(to=st.sampled_from(HALLS), pick=st.integers(0, 10_000), new_visit=st.booleans())
        def divert(self, to: str, pick: int, new_visit: bool) -> None:
            self._tick()
            svc = CountyService(ctx.county, self.clock, principal=staff())
            try:
                if new_visit:
                    svc.divert_visit(visit(narrative=f"县级交办：第{pick}号来信反映邻里纠纷"), to_hall=to)
                else:
                    with ctx.county.read() as s:
                        cases = list(s.scalars(sa.select(CaseRow.case_no).order_by(CaseRow.case_no)))
                    if not cases:
                        return
                    svc.divert(cases[pick % len(cases)], to_hall=to)
            except DeskError:  # a hall the county does not know yet, a case already there
                return
            ctx.stats["diverted"] += 1

        @rule(place=st.sampled_from((*HALLS, "county")), minutes=st.integers(-6 * 60, 6 * 60))
        def set_clock(self, place: str, minutes: int) -> None:
            """Someone corrects (or breaks) a PC's clock by hours, either way."""
            (self.clock if place == "county" else self.clocks[place]).advance(minutes=minutes)
            ctx.stats["clock set"] += 1

        @rule(code=st.sampled_from(HALLS))
        def sync(self, code: str) -> None:
            self._round(code, cut=None)

        @rule(code=st.sampled_from(HALLS), cut=st.integers(1, 30_000))
        def sync_cut_midway(self, code: str, cut: int) -> None:
            """A round the proxy cuts after `cut` bytes (if the round is that long)."""
            self._round(code, cut=cut)

        def _round(self, code: str, *, cut: int | None) -> None:
            self._tick()
            if cut is not None:
                ctx.proxy.cut_after(cut)
            cuts = ctx.proxy.cuts
            try:
                self.syncers[code].run_once()
                self.known.add(code)
                ctx.stats["round"] += 1
            except SyncRefused as e:
                raise AssertionError(f"the county refused a hall that did nothing wrong: {e.message}") from e
            except SyncError as e:
                assert_plain_chinese(e)
                assert ctx.proxy.cuts > cuts, f"a round failed with no cut: {e.message}"
                ctx.stats["cut"] += 1
            finally:
                ctx.proxy.disarm()

        def teardown(self) -> None:
            try:
                ctx.proxy.disarm()
                for code in (*HALLS, *HALLS):  # twice each: B's pushes reach A in A's second round
                    self.syncers[code].run_once()
                assert_converged(ctx.county, self.halls)
                for store in (ctx.county, *self.halls.values()):
                    _assert_stamped_in_writing_order(store)
            finally:
                ctx.link.engine.dispose()
                for store in self.halls.values():
                    store.dispose()

    return HallsAndCounty


def test_any_interleaving_with_cuts_converges(
    county: Store,
    county_url: str,
    proxy: PgProxy,
    make_hall: Callable[..., Store],
    _hall_templates: dict[str, Path],
    tmp_path: Path,
) -> None:
    for code in HALLS:
        make_hall(code)  # makes (once per session) the initialised store each example copies
    ctx = Context(county, proxy.url(county_url), proxy, _hall_templates, tmp_path)
    set_hypothesis_home_dir(tmp_path / "hypothesis")  # its caches go to the test's directory, not the project
    try:
        run_state_machine_as_test(
            machine(ctx),
            settings=settings(
                max_examples=8,
                stateful_step_count=24,
                deadline=None,
                derandomize=True,
                database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
            ),
        )
    finally:
        set_hypothesis_home_dir(None)
        ctx.link.dispose()
    # the examples did exercise what the property is about
    assert ctx.examples >= 8
    for what in ("registered", "ticket", "call", "claim", "finish", "diverted", "round", "cut"):
        assert ctx.stats[what] > 0, (what, ctx.stats)
