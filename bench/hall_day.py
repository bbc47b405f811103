"""The quality of routing, by simulation: `python -m bench.hall_day [--days 30] [--seed 1] [--write-results]`.

A discrete-event simulation of days in the hall that compares the product as shipped with fixed category -> room
tables on the same visitors (common random numbers: each visitor's arrival, category, headcount, flags, no-show and
"complexity" are drawn once per day, so every policy sees the same people), and with ablations (the product without
one of its parts). The simulation itself is pure (no database, no Qt; a simulated clock, `desk.core.clock.FixedClock`);
`verify_against_service` then drives the real services on a temporary SQLite store through the first VERIFY_DAYS days
and checks that they decide as the `product` policy does.

The `product` policy is the shipped behaviour. It runs the real code of `desk/core`: `routing.propose_room`,
`routing.expected_wait`, `routing.handling_minutes`, `queue.queue_key`, `queue.priority_reasons` and the take-over
rule `queue.take_over_candidates`. What `desk/services/queue.py` does around it is mirrored here (its sha256 is in
the report, so a change there shows):
- `QueueService._loads`: one `RoomLoad` per room with `waiting` (tickets waiting), `serving` (called or being received:
  a no-show's call and recalls count), `servers` (`RoomView.servers`: resident and rotating staff, at least 1),
  `primary_for` (rooms.json `primary`), `position` (the room's number) and the mean of the room's last
  RECENT_SERVICES finished services among the hall's last RECENT_WINDOW, whatever their day: a run's days follow
  one another in one hall, so a day starts from the previous days' means (the first from DEFAULT_HANDLING_MINUTES).
- `QueueService.issue_ticket`: the ticket states round(expected_wait(ahead, load)), `load` as routing saw the room.
- `QueueService.call_next(room)` (take_over=True): a mediator who becomes free (a service ends, the room reopens
  after lunch) calls the room's next waiting ticket; with nobody waiting they take over the first visitor that
  `desk.core.queue.take_over_candidates` gives (the longest-queued of another room that the room can receive:
  category, headcount <= capacity, never a person in crisis, never into the counselling room, only into an open
  room) and call them.

The model (every figure is a constant below and is restated in the report):
- Rooms: the default layout `resources/catalog/rooms.json`, the rooms that receive cases (R08 视频会商室 and
  R09 研判分析室 list no categories and take no visitors); mediators per room from the sample roster
  `resources/catalog/mediators.json` (resident and rotating; R01 has two). A mediator serves one visitor (or
  group) at a time.
- Arrivals: 08:30-17:30, a non-homogeneous Poisson process (thinning) with a morning peak and a lunch dip,
  VISITORS_PER_DAY expected; category mix `desk.core.synthetic.CATEGORY_WEIGHTS`, headcounts as
  `synthetic.make_visit` draws them (5 or more people: a group visit that needs a room that holds them).
- Priority (~5%): age 70+ from the birth date, declared disability or pregnancy, high-risk flags, decided by the real
  `priority_reasons`; each room's queue is ordered by the real `queue_key` (15 minutes' head start), then arrival.
- Handling: log-normal per room kind (TRUE_HANDLING_MINUTES, sigma HANDLING_SIGMA); one standard normal draw per
  visitor ("complexity"), so a visitor takes comparably long in whichever room serves them. Groups take longer.
- Lunch: LUNCH_CLOSED rooms close 12:00-14:00: a service under way finishes, no new one starts; the queue stays and
  is served after reopening; routing sees the closed room as `is_open=False`.
- No-shows (5%): the room calls, recalls NO_SHOW_AFTER_RECALLS times (CALL_MINUTES each), then skips the ticket.
- After 17:30 no one arrives; rooms serve whoever is still waiting (overtime).
- When `propose_room` proposes no room, the desk chooses an open room (`desk_choice`).
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import hashlib
import heapq
import itertools
import json
import math
import random
import re
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from desk.config import RESOURCES
from desk.core.cases import GROUP_VISIT_HEADCOUNT, RiskFlag
from desk.core.clock import CHINA_TZ, FixedClock
from desk.core.permissions import operator as staff
from desk.core.queue import (
    NO_SHOW_AFTER_RECALLS,
    PRIORITY_HEAD_START,
    PriorityReason,
    estimated_wait_minutes,
    may_take_over,
    priority_reasons,
    queue_key,
    take_over_candidates,
)
from desk.core.routing import (
    COUNSELLING_KIND,
    RECENT_SERVICES,
    RECENT_WINDOW,
    RoomLoad,
    expected_wait,
    handling_minutes,
    propose_room,
)
from desk.core.synthetic import CATEGORY_WEIGHTS, id_check_char
from desk.errors import ValidationError
from desk.services.queue import QueueService
from desk.services.registration import RegistrationService
from desk.services.rooms import RoomsService
from desk.services.setup import init_hall
from desk.store.session import open_store

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
RESULTS = BENCH_DIR / "RESULTS.md"
START_MARKER = "<!-- hall_day:start -->"
END_MARKER = "<!-- hall_day:end -->"
# The code this simulation runs (desk/core) or mirrors (desk/services/queue.py); its hashes go into the report.
MEASURED_CODE = ("desk/core/routing.py", "desk/core/queue.py", "desk/services/queue.py")
# The report states two facts of code this simulation does not run; it reads them from the source so that it stops
# stating them once they change: the room terminal's gate on 叫下一位, and whether queue.py's priority promise names
# take-over among its exceptions.
ROOM_TERMINAL = "desk/ui/room/terminal.py"
TERMINAL_GATE = 'self.buttons["call_next"].setEnabled(self.model.waiting_count() > 0)'
QUEUE_MODULE = "desk/core/queue.py"
TAKE_OVER_WORDS = re.compile(r"take[- ]?over|taken over|takes over", re.I)

# ---------------------------------------------------------------------------------------------------- the model
FIRST_DAY = dt.date(2026, 3, 2)  # day i of a run is FIRST_DAY + i (the weekday plays no part)
OPENS = dt.time(8, 30)
DAY_MINUTES = 540.0  # 08:30-17:30
LUNCH = (210.0, 330.0)  # 12:00-14:00, in minutes after 08:30
LUNCH_CLOSED = frozenset(
    {"R02", "R03", "R05", "R07"}
)  # stationed specialists; R01, R04, R06 keep a duty at lunch
MEDIATORS = {"R01": 2}  # mediators per room (others 1) when resources/catalog/mediators.json is missing
VISITORS_PER_DAY = 90.0  # expected arrivals: a busy day of a township center
SWEEP = (60.0, 75.0, 90.0, 105.0)  # expected visitors a day in the load sweep
# Relative arrival rate through the day (minutes after 08:30, rate), linear in between: a morning peak, a lunch dip.
ARRIVAL_PROFILE = (
    (0.0, 1.2),
    (30.0, 2.0),
    (150.0, 2.0),
    (210.0, 1.0),
    (225.0, 0.5),
    (320.0, 0.5),
    (335.0, 1.1),
    (450.0, 1.0),
    (540.0, 0.4),
)
HEADCOUNTS = ((1, 70), (2, 15), (3, 8), (6, 5), (12, 2))  # as desk.core.synthetic.make_visit draws them
# The real mean handling time (minutes) of each room kind, which routing does not know: it starts from the product's
# DEFAULT_HANDLING_MINUTES and learns each room's recent mean.
TRUE_HANDLING_MINUTES = {
    "人民调解室": 24.0,
    "法律援助室": 30.0,
    "心理咨询室": 45.0,
    "信访接待室": 28.0,
    "诉调对接室": 38.0,
    "警调对接室": 22.0,
    "劳动争议调解室": 30.0,
}
HANDLING_SIGMA = 0.6  # of the log; coefficient of variation ~0.66
HANDLING_MIN = 4.0
GROUP_FACTOR = {1: 1.0, 2: 1.1, 3: 1.15}  # by headcount; GROUP_VISIT_HEADCOUNT and more: GROUP_VISIT_FACTOR
GROUP_VISIT_FACTOR = 1.5
CALL_MINUTES = 2.0
NO_SHOW_MINUTES = (
    1 + NO_SHOW_AFTER_RECALLS
) * CALL_MINUTES  # the call and the recalls, then the ticket is skipped
NO_SHOW_SHARE = 0.05
ELDERLY_SHARE, DISABLED_SHARE, PREGNANT_SHARE = 0.025, 0.008, 0.004
CRISIS_SHARE, CIVIL_TO_CRIMINAL_SHARE, EXTREME_SHARE = 0.005, 0.008, 0.002
GOAL_P90_REDUCTION = 0.25
CRISIS_HEAD_START = dt.timedelta(hours=24)  # the crisis-first experiment: ahead of everyone waiting
VERIFY_DAYS = 3  # the first days of a run are also driven through the real services (verify_against_service)
EPS = 1e-6  # minutes: waits equal up to float noise are equal
NOT_RESERVED_KIND = (
    "心理咨询室（不保留）"  # the no-reserve ablation shows the counselling room to routing as this
)


@dataclass(frozen=True)
class Room:
    code: str
    name: str
    kind: str
    categories: frozenset[str]
    primary_for: frozenset[str]  # rooms.json "primary": the categories this room is the dedicated room for
    capacity: int
    position: int  # in rooms.json
    number: int  # "3 号人民调解室": the digits of the code, as the rooms' RoomView.number; RoomLoad.position
    mediators: int  # RoomView.servers: resident and rotating staff, at least 1
    lunch_closed: bool

    @property
    def open_minutes(self) -> float:
        return DAY_MINUTES - ((LUNCH[1] - LUNCH[0]) if self.lunch_closed else 0.0)


def mediators_on_duty(path: Path | None = None) -> dict[str, int]:
    """Mediators stationed in each room by the sample roster `resources/catalog/mediators.json`: resident and
    rotating ones (an on-call one comes when called), as `RoomView.servers` counts them; MEDIATORS without a roster."""
    path = path or RESOURCES / "catalog" / "mediators.json"
    if not path.exists():
        return dict(MEDIATORS)
    counts: dict[str, int] = {}
    for m in json.loads(path.read_text(encoding="utf-8"))["mediators"]:
        for r in m["rooms"]:
            if r["mode"] in ("resident", "rotating"):
                counts[r["room"]] = counts.get(r["room"], 0) + 1
    return counts


def load_rooms(path: Path | None = None, mediators: dict[str, int] | None = None) -> list[Room]:
    layout = json.loads((path or RESOURCES / "catalog" / "rooms.json").read_text(encoding="utf-8"))
    staff = mediators if mediators is not None else mediators_on_duty()
    rooms = []
    for i, r in enumerate(layout["rooms"]):
        if not r["categories"]:
            continue  # video conference and analysis rooms take no visitors
        digits = "".join(ch for ch in r["code"] if ch.isdigit())
        rooms.append(
            Room(
                code=r["code"],
                name=r["name"],
                kind=r["kind"],
                categories=frozenset(r["categories"]),
                primary_for=frozenset(r.get("primary", [])),
                capacity=int(r["capacity"]),
                position=i,
                number=int(digits) if digits else i + 1,
                mediators=max(1, staff.get(r["code"], 1)),
                lunch_closed=r["code"] in LUNCH_CLOSED,
            )
        )
    return rooms


def dedicated_table(rooms: Sequence[Room]) -> dict[str, str]:
    """The baseline: each category in its dedicated room, the room whose rooms.json `primary` lists it, as a hall
    without the software would post it on the wall. Every category must have exactly one."""
    table: dict[str, str] = {}
    for c in CATEGORY_WEIGHTS:
        owners = [r.code for r in rooms if c in r.primary_for]
        if len(owners) != 1:
            raise ValueError(
                f"rooms.json: category {c} is primary in {len(owners)} rooms ({owners}); expected one"
            )
        table[c] = owners[0]
    return table


@dataclass(frozen=True)
class Visitor:
    number: int  # the order of arrival; breaks ties of queue keys like the ticket number
    arrival: float  # minutes after 08:30
    arrived_at: dt.datetime  # the simulated clock at arrival
    category: str
    headcount: int
    risk_flags: tuple[str, ...]
    reasons: tuple[PriorityReason, ...]
    no_show: bool
    complexity: (
        float  # a standard normal draw: how long this visitor's matter takes, whichever room serves it
    )

    @property
    def priority(self) -> bool:
        return bool(self.reasons)

    @property
    def crisis(self) -> bool:
        return RiskFlag.PSYCHOLOGICAL_CRISIS.value in self.risk_flags

    def handling(self, kind: str) -> float:
        mean = TRUE_HANDLING_MINUTES.get(kind, 30.0) * group_factor(self.headcount)
        return max(HANDLING_MIN, mean * math.exp(HANDLING_SIGMA * self.complexity - HANDLING_SIGMA**2 / 2))


def group_factor(headcount: int) -> float:
    return GROUP_VISIT_FACTOR if headcount >= GROUP_VISIT_HEADCOUNT else GROUP_FACTOR.get(headcount, 1.0)


def _rate(t: float) -> float:
    for (t0, r0), (t1, r1) in itertools.pairwise(ARRIVAL_PROFILE):
        if t0 <= t <= t1:
            return r0 + (r1 - r0) * (t - t0) / (t1 - t0)
    return 0.0


def _profile_area() -> float:
    return sum((t1 - t0) * (r0 + r1) / 2 for (t0, r0), (t1, r1) in itertools.pairwise(ARRIVAL_PROFILE))


def day_start(day: int) -> dt.datetime:
    return dt.datetime.combine(FIRST_DAY + dt.timedelta(days=day), OPENS, tzinfo=CHINA_TZ)


def make_day(seed: int, day: int, visitors_per_day: float = VISITORS_PER_DAY) -> list[Visitor]:
    """The visitors of one day from the day's own seeded generator: arrivals by thinning, then each person."""
    rng = random.Random(f"hall_day:{seed}:{day}:{visitors_per_day:g}")
    scale = visitors_per_day / _profile_area()
    peak = max(r for _, r in ARRIVAL_PROFILE) * scale
    clock = FixedClock(day_start(day))
    today = day_start(day).date()
    codes, weights = list(CATEGORY_WEIGHTS), list(CATEGORY_WEIGHTS.values())
    sizes, size_weights = [h for h, _ in HEADCOUNTS], [w for _, w in HEADCOUNTS]
    visitors: list[Visitor] = []
    t = last = 0.0
    while True:
        t += rng.expovariate(peak)
        if t >= DAY_MINUTES:
            break
        if rng.random() * peak > _rate(t) * scale:
            continue
        clock.advance(minutes=t - last)
        last = t
        flags: list[str] = []
        headcount = rng.choices(sizes, size_weights)[0]
        if rng.random() < CRISIS_SHARE:
            flags.append(RiskFlag.PSYCHOLOGICAL_CRISIS.value)
            headcount = 1
        if rng.random() < CIVIL_TO_CRIMINAL_SHARE:
            flags.append(RiskFlag.CIVIL_TO_CRIMINAL.value)
        if rng.random() < EXTREME_SHARE:
            flags.append(RiskFlag.EXTREME_BEHAVIOUR.value)
        if headcount >= GROUP_VISIT_HEADCOUNT:
            flags.append(RiskFlag.GROUP_VISIT.value)
        age = rng.randint(70, 88) if rng.random() < ELDERLY_SHARE else rng.randint(18, 69)
        born = dt.date(today.year - age, 1, 1) + dt.timedelta(days=rng.randrange(0, 365))
        if (born.month, born.day) > (today.month, today.day):
            born = dt.date(today.year - age, 1, 1)  # keep the age exact
        declared = [
            r
            for r, share in (("disabled", DISABLED_SHARE), ("pregnant", PREGNANT_SHARE))
            if rng.random() < share
        ]
        reasons = priority_reasons(birth_date=born, today=today, declared=declared, risk_flags=flags)
        no_show = rng.random() < NO_SHOW_SHARE and not flags
        visitors.append(
            Visitor(
                number=len(visitors) + 1,
                arrival=t,
                arrived_at=clock.now(),
                category=rng.choices(codes, weights)[0],
                headcount=headcount,
                risk_flags=tuple(flags),
                reasons=reasons,
                no_show=no_show,
                complexity=rng.gauss(0.0, 1.0),
            )
        )
    return visitors


# ------------------------------------------------------------------------------------------------ the simulation
@dataclass(frozen=True)
class Variant:
    """The product, part by part. SHIPPED has every shipped part and no experiment; an ablation turns one part off
    by changing only what the real code is given (the `RoomLoad`s) or what the hall does around it."""

    ahead: bool = True  # RoomLoad.serving and .servers as QueueService._loads sets them (off: 0 and 1)
    primary: bool = True  # RoomLoad.primary_for from rooms.json (off: empty)
    reserve: bool = True  # the counselling room shown to propose_room as one (off: under NOT_RESERVED_KIND)
    take_over: bool = True  # call_next(take_over=True) when a mediator becomes free (off: take_over=False)
    schedule: bool = (
        False  # experiment: a room closing for lunch before one's expected call is offered as closed
    )
    transfer_on_close: bool = False  # experiment: a closing room's waiting tickets re-routed and transferred
    crisis_first: bool = (
        False  # experiment: a person in crisis queues ahead of everyone waiting in their room
    )


SHIPPED = Variant()


@dataclass
class History:
    """Finished services as `QueueService._loads` reads them: the hall's last RECENT_WINDOW, of which each room's last
    RECENT_SERVICES (any day). One History runs through all the days of a run."""

    count: int = 0
    by_room: dict[str, list[tuple[int, float]]] = field(default_factory=dict)

    def add(self, code: str, minutes: float) -> None:
        self.count += 1
        done = self.by_room.setdefault(code, [])
        done.append((self.count, minutes))
        if len(done) > 2 * RECENT_SERVICES:
            del done[:-RECENT_SERVICES]

    def recent(self, code: str) -> list[float]:
        return [m for i, m in self.by_room.get(code, [])[-RECENT_SERVICES:] if i > self.count - RECENT_WINDOW]


@dataclass
class RoomState:
    room: Room
    is_open: bool = True
    queue: list[tuple[dt.datetime, int, Visitor]] = field(
        default_factory=list
    )  # a heap by (queue_key, number)
    serving: list[Visitor | None] = field(
        default_factory=list
    )  # per mediator: called (a no-show) or being received
    busy: float = 0.0  # mediator-minutes serving or calling, 08:30-17:30
    idle: float = 0.0  # mediator-minutes open and free, 08:30-17:30
    idle_could_take: float = (
        0.0  # ... while a visitor this room could take over waits in another room's queue
    )
    open_time: float = 0.0  # mediator-minutes open, 08:30-17:30
    overtime: float = 0.0  # mediator-minutes serving after 17:30
    last_end: float = 0.0

    @property
    def busy_mediators(self) -> int:
        return sum(v is not None for v in self.serving)

    # The room as the take-over rule (`desk.core.queue.ReceivingRoom`) sees it.
    @property
    def code(self) -> str:
        return self.room.code

    @property
    def kind(self) -> str:
        return self.room.kind

    @property
    def categories(self) -> frozenset[str]:
        return self.room.categories

    @property
    def capacity(self) -> int:
        return self.room.capacity


@dataclass(frozen=True)
class Queued:
    """A queue entry of room `room_code` as the take-over rule (`desk.core.queue.QueuedVisitor`) sees it; the
    visitor's number breaks ties of queue keys, as the ticket number does in the hall."""

    room_code: str
    entry: tuple[dt.datetime, int, Visitor]

    @property
    def queue_key(self) -> dt.datetime:
        return self.entry[0]

    @property
    def number(self) -> int:
        return self.entry[1]

    @property
    def category_code(self) -> str:
        return self.entry[2].category

    @property
    def headcount(self) -> int:
        return self.entry[2].headcount

    @property
    def risk_flags(self) -> tuple[str, ...]:
        return self.entry[2].risk_flags


@dataclass(frozen=True)
class Outcome:
    room: str  # where they were called
    first_room: str  # where routing (or the desk) first queued them
    start: float  # called (and, unless a no-show, served) at, minutes after 08:30
    duration: float  # the room's time spent on the ticket
    wait: float | None  # None: a no-show
    fallback: bool  # routing proposed no room and the desk chose
    caught_by_break: bool  # their room closed for lunch while they waited in it
    taken_over: bool  # called by another room's mediator (call_next's take-over)
    estimate: int  # the wait the ticket states, as shipped: round(expected_wait(ahead, load))
    estimate_old: int  # the formula before: queue.estimated_wait_minutes(ahead, mean)


@dataclass(frozen=True)
class Move:
    at: float
    source: str
    target: str
    visitor: int


@dataclass
class DayResult:
    outcomes: dict[int, Outcome]
    rooms: dict[str, RoomState]
    transfers: int  # at a closing (experiment)
    take_overs: list[Move]


class Hall:
    """One day of the hall under one policy. `history` carries the finished services over from the previous day."""

    def __init__(
        self,
        rooms: Sequence[Room],
        *,
        with_priority: bool,
        take_over: bool = False,
        transfer_on_close: bool = False,
        crisis_first: bool = False,
        history: History | None = None,
    ) -> None:
        self.rooms = {r.code: RoomState(r, serving=[None] * r.mediators) for r in rooms}
        self.with_priority = with_priority
        self.take_over = take_over
        self.transfer_on_close = transfer_on_close
        self.crisis_first = crisis_first
        self.history = history if history is not None else History()
        self.queued: dict[int, str] = {}  # visitor -> the room first queued in
        self.queued_in: dict[int, str] = {}  # visitor -> the room whose queue they are in now
        self.now = 0.0

    def load(self, code: str, variant: Variant = SHIPPED, visitor: Visitor | None = None) -> RoomLoad:
        """The room as `QueueService._loads` describes it to routing now; an ablation changes one field."""
        s = self.rooms[code]
        r = s.room
        kind = r.kind
        if not variant.reserve and kind == COUNSELLING_KIND and not (visitor and visitor.crisis):
            kind = (
                NOT_RESERVED_KIND  # propose_room keeps only a room of COUNSELLING_KIND for persons in crisis
            )
        load = RoomLoad(
            code=r.code,
            name=r.name,
            kind=kind,
            categories=r.categories,
            capacity=r.capacity,
            is_open=s.is_open,
            waiting=len(s.queue),
            mean_handling_minutes=handling_minutes(r.kind, self.history.recent(code)),
            position=r.number,
            serving=s.busy_mediators if variant.ahead else 0,
            servers=r.mediators if variant.ahead else 1,
            primary_for=r.primary_for if variant.primary else frozenset(),
        )
        if (
            variant.schedule
            and load.is_open
            and r.lunch_closed
            and self.now < LUNCH[0] <= self.now + load.expected_wait_minutes
        ):
            load = dataclasses.replace(load, is_open=False)
        return load

    def loads(self, variant: Variant = SHIPPED, visitor: Visitor | None = None) -> list[RoomLoad]:
        return [self.load(code, variant, visitor) for code in self.rooms]

    def _account(self, until: float) -> None:
        """Integrate the room counters over [now, until]; the state is constant in between."""
        inside = max(0.0, min(until, DAY_MINUTES) - self.now)
        outside = max(0.0, until - max(self.now, DAY_MINUTES))
        waiting = self._waiting()
        for s in self.rooms.values():
            busy = s.busy_mediators
            s.overtime += busy * outside
            if not inside:
                continue
            s.busy += busy * inside
            if s.is_open:
                free = s.room.mediators - busy
                s.open_time += s.room.mediators * inside
                s.idle += free * inside
                if free and any(may_take_over(s, w) for w in waiting):
                    s.idle_could_take += free * inside
        self.now = until

    def _waiting(self) -> list[Queued]:
        return [Queued(code, entry) for code, s in self.rooms.items() for entry in s.queue]

    def _take_over(self, s: RoomState) -> tuple[dt.datetime, int, Visitor] | None:
        """`QueueService.call_next`'s take-over, by the real rule (`desk.core.queue.take_over_candidates`): the first
        candidate is moved into `s`, keeping the queue key (in the hall a later candidate is tried only when another
        terminal took the first a moment ago, which a simulation does not do)."""
        for w in take_over_candidates(s, self._waiting()):
            other = self.rooms[w.room_code]
            other.queue.remove(w.entry)
            heapq.heapify(other.queue)
            return w.entry
        return None

    def run(self, visitors: Sequence[Visitor], route: Router) -> DayResult:
        outcomes: dict[int, Outcome] = {}
        fallbacks: set[int] = set()
        caught: set[int] = set()
        taken: set[int] = set()
        estimates: dict[int, tuple[int, int]] = {}
        moves: list[Move] = []
        transfers = 0
        # (time, order, seq, kind, room, index): at one instant services end first, then rooms close or open,
        # then people arrive.
        events: list[tuple[float, int, int, str, str, int]] = []
        seq = itertools.count()

        def push(t: float, order: int, kind: str, room: str = "", idx: int = 0) -> None:
            heapq.heappush(events, (t, order, next(seq), kind, room, idx))

        for s in self.rooms.values():
            if s.room.lunch_closed:
                push(LUNCH[0], 1, "close", s.room.code)
                push(LUNCH[1], 1, "open", s.room.code)
        for i, v in enumerate(visitors):
            push(v.arrival, 2, "arrive", idx=i)

        def call_next(s: RoomState) -> bool:
            """A free mediator of an open room presses 叫下一位 (`QueueService.call_next`): the room's next waiting
            ticket; with nobody waiting, under take-over, another room's longest-queued visitor it can receive."""
            if not s.is_open or None not in s.serving:
                return False
            if s.queue:
                entry = heapq.heappop(s.queue)
            elif self.take_over and (moved := self._take_over(s)) is not None:
                entry = moved
                moves.append(Move(self.now, self.queued_in[entry[1]], s.room.code, entry[1]))
                self.queued_in[entry[1]] = s.room.code
                taken.add(entry[1])
            else:
                return False
            _, _, v = entry
            m = s.serving.index(None)
            s.serving[m] = v
            duration = NO_SHOW_MINUTES if v.no_show else v.handling(s.room.kind)
            outcomes[v.number] = Outcome(
                room=s.room.code,
                first_room=self.queued[v.number],
                start=self.now,
                duration=duration,
                wait=None if v.no_show else self.now - v.arrival,
                fallback=v.number in fallbacks,
                caught_by_break=v.number in caught,
                taken_over=v.number in taken,
                estimate=estimates[v.number][0],
                estimate_old=estimates[v.number][1],
            )
            push(self.now + duration, 0, "end", s.room.code, m)
            return True

        while events:
            t, _, _, kind, code, idx = heapq.heappop(events)
            self._account(t)
            if kind == "arrive":
                v = visitors[idx]
                room, fell_back = route(v, self)
                if fell_back:
                    fallbacks.add(v.number)
                self.queued[v.number] = self.queued_in[v.number] = room
                s = self.rooms[room]
                key = queue_key(v.arrived_at, priority=v.priority and self.with_priority)
                if self.crisis_first and v.crisis:  # the experiment: a person in crisis is called next
                    key -= CRISIS_HEAD_START
                entry = (key, v.number, v)
                ahead = sum(e[:2] < entry[:2] for e in s.queue)
                load = self.load(
                    room
                )  # as shipped, whatever routed them: what QueueService.issue_ticket states
                estimates[v.number] = (
                    round(expected_wait(ahead, load)),
                    estimated_wait_minutes(ahead, load.mean_handling_minutes),
                )
                heapq.heappush(s.queue, entry)
                call_next(s)
            elif kind == "end":
                s = self.rooms[code]
                done = s.serving[idx]
                assert done is not None
                s.serving[idx] = None
                s.last_end = t
                if not done.no_show:
                    self.history.add(code, outcomes[done.number].duration)
                call_next(s)
            elif kind == "close":
                s = self.rooms[code]
                s.is_open = False
                kept = []
                for entry in sorted(s.queue):
                    room, fell_back = route(entry[2], self) if self.transfer_on_close else (code, True)
                    if fell_back or room == code:
                        kept.append(entry)
                        caught.add(entry[2].number)
                        continue
                    # The experiment: the desk transfers the waiting ticket to the room routing now proposes;
                    # it keeps its queue key (QueueService.transfer).
                    heapq.heappush(self.rooms[room].queue, entry)
                    self.queued_in[entry[1]] = room
                    transfers += 1
                    call_next(self.rooms[room])
                s.queue = kept
                heapq.heapify(s.queue)
            elif kind == "open":
                s = self.rooms[code]
                s.is_open = True
                while call_next(s):
                    pass
        return DayResult(outcomes, self.rooms, transfers, moves)


# A routing rule: (visitor, the hall now) -> (room code, whether the desk had to choose because routing proposed none).
# In a hall that transfers a closing room's queue it is asked again, at the closing, for each waiting visitor.
Router = Callable[[Visitor, Hall], tuple[str, bool]]


def fixed_room(v: Visitor, rooms: dict[str, RoomState], table: dict[str, str]) -> str:
    """The table's room; a person in crisis goes to the counselling room; a group too big for the table's room goes
    to the smallest room of the category that holds it, else to the biggest room (信访接待室, 12 people)."""
    if v.crisis:
        return next(c for c, s in rooms.items() if s.room.kind == COUNSELLING_KIND)
    code = table[v.category]
    if rooms[code].room.capacity >= v.headcount:
        return code
    fits = sorted(
        (s.room.capacity, s.room.position, c)
        for c, s in rooms.items()
        if v.category in s.room.categories and s.room.capacity >= v.headcount
    )
    if fits:
        return fits[0][2]
    return max(rooms.values(), key=lambda s: (s.room.capacity, -s.room.position)).room.code


def fixed_router(table: dict[str, str]) -> Router:
    def route(v: Visitor, hall: Hall) -> tuple[str, bool]:
        if v.number in hall.queued:  # asked again at a closing: a table does not move anyone
            return hall.queued[v.number], True
        return fixed_room(v, hall.rooms, table), False

    return route


def desk_choice(v: Visitor, hall: Hall, loads: Sequence[RoomLoad]) -> str:
    """When `propose_room` proposes no room, the desk chooses an open one (`QueueService.issue_ticket` refuses a closed
    room): of the open rooms that hold the group, not the counselling room unless the visitor is in crisis or it is
    the only one, one that handles the category if any, then the shortest expected wait, then the hall's order. If
    no open room holds them, the dedicated room (or, for a group, a room of the category that holds it)."""
    if not any(hall.rooms[x.code].is_open and x.capacity >= v.headcount for x in loads):
        return fixed_room(v, hall.rooms, dedicated_table([s.room for s in hall.rooms.values()]))
    real = [
        dataclasses.replace(x, kind=hall.rooms[x.code].room.kind, is_open=hall.rooms[x.code].is_open)
        for x in loads
    ]
    return desk_choice_of(v, real)


def desk_choice_of(v: Visitor, loads: Sequence[RoomLoad]) -> str:
    """`desk_choice` on the loads the desk sees (open rooms that hold the group exist)."""
    open_fit = [x for x in loads if x.is_open and x.capacity >= v.headcount]
    return min(
        open_fit,
        key=lambda x: (
            x.kind == COUNSELLING_KIND and not v.crisis,
            v.category not in x.categories,
            x.expected_wait_minutes,
            x.position,
        ),
    ).code


def product_router(variant: Variant = SHIPPED) -> Router:
    """`propose_room` on the hall as it is now (`QueueService.issue_ticket`); when it proposes no room (every room of
    the category closed, or none holds the group) the desk chooses (`desk_choice`)."""

    def route(v: Visitor, hall: Hall) -> tuple[str, bool]:
        loads = hall.loads(variant, v)
        p = propose_room(
            category_code=v.category, headcount=v.headcount, risk_flags=v.risk_flags, rooms=loads
        )
        if (
            p.room_code is None and variant.schedule
        ):  # every room of the category about to close: take the soonest
            loads = hall.loads(dataclasses.replace(variant, schedule=False), v)
            p = propose_room(
                category_code=v.category, headcount=v.headcount, risk_flags=v.risk_flags, rooms=loads
            )
        if p.room_code is None:
            return desk_choice(v, hall, loads), True
        return p.room_code, False

    return route


def frozen_router(first: dict[int, str], final: dict[int, str]) -> Router:
    """Every visitor to the room another run first queued them in (and, at a closing, to the room they were
    transferred to): the queue rule changes, the routes do not. Take-overs are decided again as the day goes."""

    def route(v: Visitor, hall: Hall) -> tuple[str, bool]:
        if v.number in hall.queued:
            return final[v.number], final[v.number] == hall.queued[v.number]
        return first[v.number], False

    return route


def first_listed_table(rooms: Sequence[Room]) -> dict[str, str]:
    return {c: next(r.code for r in rooms if c in r.categories) for c in CATEGORY_WEIGHTS}


def balanced_table(rooms: Sequence[Room]) -> dict[str, str]:
    """The best fixed table there is: every assignment of each category to a room that lists it, the one with the
    lowest highest expected utilisation (the true handling means, the category and headcount mix, each room's
    mediators and open hours), then the lowest sum of squared utilisations. A tougher baseline than any posted
    table: it knows the true means."""
    mean_factor = sum(w * group_factor(h) for h, w in HEADCOUNTS) / sum(w for _, w in HEADCOUNTS)
    total = sum(CATEGORY_WEIGHTS.values())
    by_code = {r.code: r for r in rooms}
    cats = sorted(CATEGORY_WEIGHTS, key=lambda c: -CATEGORY_WEIGHTS[c])
    options = [[r.code for r in rooms if c in r.categories] for c in cats]

    def util(code: str, category: str) -> float:
        r = by_code[code]
        return (
            CATEGORY_WEIGHTS[category]
            / total
            * TRUE_HANDLING_MINUTES.get(r.kind, 30.0)
            * mean_factor
            / (r.mediators * r.open_minutes)
        )

    best: tuple[float, float] = (math.inf, math.inf)
    best_choice: tuple[str, ...] = ()
    load = dict.fromkeys(by_code, 0.0)

    def search(i: int, chosen: list[str]) -> None:
        nonlocal best, best_choice
        peak = max(load.values())
        if peak > best[0] + 1e-12:
            return
        if i == len(cats):
            score = (peak, sum(x * x for x in load.values()))
            if score < best:
                best, best_choice = score, tuple(chosen)
            return
        for code in options[i]:
            u = util(code, cats[i])
            load[code] += u
            chosen.append(code)
            search(i + 1, chosen)
            chosen.pop()
            load[code] -= u

    search(0, [])
    return dict(zip(cats, best_choice, strict=True))


@dataclass(frozen=True)
class Policy:
    """A fixed table, or the product (shipped, an ablation, or an experiment on top of it)."""

    key: str
    label: str
    table: dict[str, str] | None = None  # a fixed category -> room table; None: the product
    variant: Variant = SHIPPED

    def router(self) -> Router:
        if self.table is not None:
            return fixed_router(self.table)
        return product_router(self.variant)

    def hall(
        self, rooms: Sequence[Room], *, with_priority: bool = True, history: History | None = None
    ) -> Hall:
        product = self.table is None
        return Hall(
            rooms,
            with_priority=with_priority,
            take_over=product and self.variant.take_over,
            transfer_on_close=product and self.variant.transfer_on_close,
            crisis_first=product and self.variant.crisis_first,
            history=history,
        )


PRODUCT = "product"
NO_TAKE_OVER = "no-take-over"


def policies(rooms: Sequence[Room]) -> list[Policy]:
    return [
        Policy(
            "fixed",
            "baseline: fixed table, each category in its dedicated room (rooms.json `primary`)",
            table=dedicated_table(rooms),
        ),
        Policy("balanced", "baseline: fixed table, the best-balanced one", table=balanced_table(rooms)),
        Policy(
            "first",
            "baseline: fixed table, the first room in rooms.json listing the category",
            table=first_listed_table(rooms),
        ),
        Policy(PRODUCT, "the product as shipped"),
        Policy(
            NO_TAKE_OVER,
            "product without take-over (call_next(take_over=False))",
            variant=Variant(take_over=False),
        ),
        Policy(
            "no-reserve",
            "product without the counselling reserve of propose_room",
            variant=Variant(reserve=False),
        ),
        Policy(
            "no-primary",
            "product without primary_for (ties: fewest categories, then the hall's order)",
            variant=Variant(primary=False),
        ),
        Policy(
            "no-ahead",
            "product without serving/servers in RoomLoad (expected wait = waiting × mean)",
            variant=Variant(ahead=False),
        ),
        Policy(
            "plus-schedule",
            "experiment (not shipped): product + a room closing for lunch before one's turn is not offered",
            variant=Variant(schedule=True),
        ),
        Policy(
            "plus-transfer",
            "experiment (not shipped): product + a closing room's waiting tickets re-routed and transferred",
            variant=Variant(transfer_on_close=True),
        ),
        Policy(
            "plus-crisis-first",
            "experiment (not shipped): product + a person in crisis is called next in their room",
            variant=Variant(crisis_first=True),
        ),
    ]


SWEEP_KEYS = ("fixed", "balanced", PRODUCT, NO_TAKE_OVER)
ROBUSTNESS_SEEDS = 5  # the run's seed and the next four, at the run's load
ROBUSTNESS_KEYS = (
    "fixed",
    "balanced",
    PRODUCT,
    NO_TAKE_OVER,
    "no-reserve",
    "no-primary",
    "no-ahead",
    "plus-schedule",
    "plus-transfer",
    "plus-crisis-first",
)


# ------------------------------------------------------------------------------------------------------ figures
def pct(values: Sequence[float], q: float) -> float:
    """The q-quantile, linear between order statistics."""
    if not values:
        return math.nan
    xs = sorted(values)
    pos = q * (len(xs) - 1)
    lo = math.floor(pos)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


@dataclass(frozen=True)
class WaitStats:
    n: int
    mean: float
    p50: float
    p90: float
    max: float

    @classmethod
    def of(cls, waits: Sequence[float]) -> WaitStats:
        if not waits:
            return cls(0, math.nan, math.nan, math.nan, math.nan)
        return cls(len(waits), statistics.fmean(waits), pct(waits, 0.5), pct(waits, 0.9), max(waits))


@dataclass
class PolicyFigures:
    policy: Policy
    all: WaitStats
    priority: WaitStats
    ordinary: WaitStats
    crisis: WaitStats
    caught: WaitStats  # visitors whose room closed for lunch while they waited in it
    longest_caught: float  # of the 1% longest waits, the share caught by a lunch break
    estimate_bias: float  # mean of (the ticket's stated wait - the actual wait), as shipped
    estimate_mae: float  # mean absolute difference, as shipped
    estimate_old_bias: float  # the same with queue.estimated_wait_minutes, the formula before
    estimate_old_mae: float
    no_shows: int
    fallbacks: int
    transfers: int  # at a closing (experiment)
    take_overs: int
    dedicated_share: float  # of visitors (not in crisis, not too many for it) called in their dedicated room
    daily_p90: list[float]
    idle_h: float  # mediator-hours a day, 08:30-17:30
    idle_could_take_h: float
    utilisation: float
    overtime_mean: float  # minutes after 17:30 until the last service ends, per day
    overtime_max: float
    room_utilisation: dict[str, float]
    room_share: dict[str, float]


def figures(
    policy: Policy, days: list[list[Visitor]], results: list[DayResult], rooms: Sequence[Room]
) -> PolicyFigures:
    dedicated = dedicated_table(rooms)
    waits: list[float] = []
    prio: list[float] = []
    ordinary: list[float] = []
    crisis: list[float] = []
    caught: list[float] = []
    flagged: list[tuple[float, bool]] = []
    err: list[float] = []
    err_old: list[float] = []
    daily: list[float] = []
    no_shows = fallbacks = transfers = take_overs = in_dedicated = eligible = 0
    idle = idle_ct = busy = open_time = 0.0
    overtime: list[float] = []
    room_busy = dict.fromkeys((r.code for r in rooms), 0.0)
    room_open = dict.fromkeys((r.code for r in rooms), 0.0)
    room_n = dict.fromkeys((r.code for r in rooms), 0)
    capacity = {r.code: r.capacity for r in rooms}
    for visitors, res in zip(days, results, strict=True):
        day_waits = []
        transfers += res.transfers
        take_overs += len(res.take_overs)
        for v in visitors:
            o = res.outcomes[v.number]
            room_n[o.room] += 1
            fallbacks += o.fallback
            if not v.crisis and capacity[dedicated[v.category]] >= v.headcount:
                eligible += 1
                in_dedicated += o.room == dedicated[v.category]
            if o.wait is None:
                no_shows += 1
                continue
            waits.append(o.wait)
            day_waits.append(o.wait)
            (prio if v.priority else ordinary).append(o.wait)
            if v.crisis:
                crisis.append(o.wait)
            if o.caught_by_break:
                caught.append(o.wait)
            flagged.append((o.wait, o.caught_by_break))
            err.append(o.estimate - o.wait)
            err_old.append(o.estimate_old - o.wait)
        daily.append(pct(day_waits, 0.9))
        for code, s in res.rooms.items():
            idle += s.idle
            idle_ct += s.idle_could_take
            busy += s.busy
            open_time += s.open_time
            room_busy[code] += s.busy
            room_open[code] += s.open_time
        overtime.append(max(0.0, max(s.last_end for s in res.rooms.values()) - DAY_MINUTES))
    n_days = len(days)
    longest = sorted(flagged, reverse=True)[: max(1, len(flagged) // 100)]
    return PolicyFigures(
        policy=policy,
        all=WaitStats.of(waits),
        priority=WaitStats.of(prio),
        ordinary=WaitStats.of(ordinary),
        crisis=WaitStats.of(crisis),
        caught=WaitStats.of(caught),
        longest_caught=sum(c for _, c in longest) / len(longest),
        estimate_bias=statistics.fmean(err),
        estimate_mae=statistics.fmean(abs(e) for e in err),
        estimate_old_bias=statistics.fmean(err_old),
        estimate_old_mae=statistics.fmean(abs(e) for e in err_old),
        no_shows=no_shows,
        fallbacks=fallbacks,
        transfers=transfers,
        take_overs=take_overs,
        dedicated_share=in_dedicated / eligible if eligible else math.nan,
        daily_p90=daily,
        idle_h=idle / 60 / n_days,
        idle_could_take_h=idle_ct / 60 / n_days,
        utilisation=busy / open_time if open_time else math.nan,
        overtime_mean=statistics.fmean(overtime),
        overtime_max=max(overtime),
        room_utilisation={c: room_busy[c] / room_open[c] if room_open[c] else math.nan for c in room_busy},
        room_share={c: room_n[c] / sum(room_n.values()) for c in room_n},
    )


@dataclass(frozen=True)
class PriorityCheck:
    label: str
    ordinary: int
    longer: int  # ordinary visitors who waited longer with the priority rule than without it
    mean_increase: float  # over those who waited longer
    worst: float
    # The queue rule's promise (desk/core/queue.py): in a room with one mediator that stays open, an ordinary
    # visitor's wait grows by at most the service of the priority visitors who overtook them. beyond_bound: how many
    # exceed the service of the priority visitors called before them in their room (by more than a minute), and the
    # worst excess; split by where.
    beyond_bound: int
    worst_beyond_bound: float
    beyond_multi: int  # called in a room with more than one mediator
    beyond_lunch: int  # ... else in a room that closes for lunch
    beyond_take_over: int  # ... else a take-over into or out of their room while they waited, in either run
    beyond_other: int  # ... else: a single mediator, no break, no take-over: the promise says none


def _touched(moves: Sequence[Move], rooms: set[str], since: float, until: float) -> bool:
    return any(since <= m.at <= until and (m.source in rooms or m.target in rooms) for m in moves)


def priority_check(
    label: str,
    rooms: Sequence[Room],
    days: list[list[Visitor]],
    on: list[DayResult],
    off: list[DayResult],
    *,
    with_bound: bool = True,
) -> PriorityCheck:
    """Ordinary visitors' waits with (`on`) against without (`off`) the priority rule. The bound is checked only
    when `off` kept everyone's first room (`with_bound`): with rooms chosen again it says nothing."""
    by_code = {r.code: r for r in rooms}
    n = longer = beyond = multi = lunch = moved = other = 0
    worst = 0.0
    over = -math.inf
    increases: list[float] = []
    for visitors, a, b in zip(days, on, off, strict=True):
        priority_visitors = [p for p in visitors if p.priority]
        for v in visitors:
            oa, ob = a.outcomes[v.number], b.outcomes[v.number]
            if v.priority or oa.wait is None or ob.wait is None:
                continue
            n += 1
            inc = oa.wait - ob.wait
            worst = max(worst, inc)
            if inc > EPS:
                longer += 1
                increases.append(inc)
            if not with_bound:
                continue
            bound = sum(
                a.outcomes[p.number].duration
                for p in priority_visitors
                if p.arrival > v.arrival
                and a.outcomes[p.number].room == oa.room
                and a.outcomes[p.number].start < oa.start
            )
            over = max(over, inc - bound)
            if inc - bound > 1.0:
                beyond += 1
                room = by_code[oa.room]
                if room.mediators > 1:
                    multi += 1
                elif room.lunch_closed:
                    lunch += 1
                elif _touched(
                    [*a.take_overs, *b.take_overs],
                    {oa.first_room, oa.room, ob.first_room, ob.room},
                    v.arrival,
                    max(oa.start, ob.start),
                ):
                    moved += 1
                else:
                    other += 1
    return PriorityCheck(
        label,
        n,
        longer,
        statistics.fmean(increases) if increases else 0.0,
        worst,
        beyond if with_bound else -1,
        max(over, 0.0) if with_bound else math.nan,
        multi,
        lunch,
        moved,
        other,
    )


@dataclass(frozen=True)
class VersusFixed:
    key: str
    against: str
    ordinary: int
    longer: int
    worst: float
    longer_by_priority: (
        int  # longer than under the table; not longer with the priority rule off (same first rooms)
    )
    worst_by_priority: float  # the most one of those waited beyond the table
    margin_by_priority: (
        float  # the most one of those waited less than under the table with the priority rule off
    )


def versus(
    key: str,
    against: str,
    days: list[list[Visitor]],
    res: list[DayResult],
    base: list[DayResult],
    res_off: list[DayResult],
) -> VersusFixed:
    n = longer = by_priority = 0
    worst = worst_by_priority = margin = 0.0
    for i, visitors in enumerate(days):
        for v in visitors:
            op, of = res[i].outcomes[v.number], base[i].outcomes[v.number]
            if v.priority or op.wait is None or of.wait is None:
                continue
            n += 1
            if op.wait > of.wait + EPS:
                longer += 1
                worst = max(worst, op.wait - of.wait)
                w = res_off[i].outcomes[v.number].wait
                if w is not None and w <= of.wait + EPS:
                    by_priority += 1
                    worst_by_priority = max(worst_by_priority, op.wait - of.wait)
                    margin = max(margin, of.wait - w)
    return VersusFixed(key, against, n, longer, worst, by_priority, worst_by_priority, margin)


@dataclass(frozen=True)
class SweepRow:
    visitors_per_day: float
    visitors: int
    p90: dict[str, float]
    mean: dict[str, float]
    utilisation: float  # the product's
    overtime: dict[str, float]


@dataclass(frozen=True)
class Robustness:
    key: str
    p90: list[float]  # one per seed
    mean: list[float]
    better_p90: int  # seeds on which its p90 is below the shipped product's
    crisis: WaitStats  # persons in crisis, all seeds pooled


@dataclass
class Report:
    days: int
    seed: int
    visitors_per_day: float
    seconds: float
    visitors: int
    priority_share: float
    rooms: list[Room]
    tables: dict[str, dict[str, str]]
    figures: dict[str, PolicyFigures]
    checks: list[PriorityCheck]
    versus: list[VersusFixed]
    goal_days: dict[str, int]  # days on which the policy's p90 is at least 25% below the baseline's
    sweep: list[SweepRow]
    robustness: list[Robustness]
    code: str  # which routing, queue and hall code was run or mirrored
    terminal_gates_call_next: (
        bool  # the room terminal disables 叫下一位 while its own room has nobody waiting
    )
    verification: Verification | None  # the product policy against the real services
    promise_names_take_over: bool  # queue.py's comment on the priority promise mentions take-over


def _simulate(
    rooms: Sequence[Room],
    days: list[list[Visitor]],
    policy: Policy,
    *,
    with_priority: bool = True,
    routers: Sequence[Router] | None = None,
) -> list[DayResult]:
    """The days one after another in one hall: the finished services (routing's means) carry over."""
    history = History()
    return [
        policy.hall(rooms, with_priority=with_priority, history=history).run(
            vs, routers[i] if routers is not None else policy.router()
        )
        for i, vs in enumerate(days)
    ]


def _frozen_off(
    rooms: Sequence[Room], days: list[list[Visitor]], results: list[DayResult], policy: Policy
) -> list[DayResult]:
    """The first rooms of `results` (and where each visitor was transferred at a closing), the priority rule off;
    take-overs happen again as the day goes."""
    routers = [
        frozen_router(
            {n: o.first_room for n, o in res.outcomes.items()}, {n: o.room for n, o in res.outcomes.items()}
        )
        for res in results
    ]
    return _simulate(rooms, days, policy, with_priority=False, routers=routers)


def _source(path: str) -> str:
    file = REPO / path
    return file.read_text(encoding="utf-8") if file.exists() else ""


def _source_has(path: str, text: str) -> bool:
    return text in _source(path)


@dataclass(frozen=True)
class Verification:
    """The product policy against the real `QueueService` on the same visitors."""

    days: int
    visitors: int
    differ: int
    examples: tuple[str, ...]


def verify_against_service(days: int, seed: int, visitors_per_day: float = VISITORS_PER_DAY) -> Verification:
    """Drive the real `QueueService` (and `RegistrationService`, `RoomsService`) on a temporary SQLite store through the first `days`
    days of `seed`, as the simulation's hall does (register and `issue_ticket`, the desk's choice when it refuses;
    `call_next` when a mediator is free, `claim`, `finish`, `recall`×2 + `no_show`, `set_room_open` at lunch), and
    compare each visitor's first room, stated wait, desk fallback, room called and call time with the `product`
    policy's. Any difference means the mirror of desk/services/queue.py is out of date."""
    rooms = load_rooms()
    run_days = [make_day(seed, d, visitors_per_day) for d in range(days)]
    product = next(p for p in policies(rooms) if p.key == PRODUCT)
    simulated = _simulate(rooms, run_days, product)
    examples: list[str] = []
    n = differ = 0
    with tempfile.TemporaryDirectory(prefix="hall_day_") as tmp:
        store = open_store(f"sqlite:///{Path(tmp) / 'desk.db'}")
        try:
            init_hall(store)
            clock = FixedClock(day_start(0))
            day = _ServiceDay(
                rooms,
                clock,
                RegistrationService(store, clock, principal=staff("hall_day")),
                QueueService(store, clock, principal=staff("hall_day", "hall_day")),
                RoomsService(store, clock, principal=staff()),
            )
            for d, visitors in enumerate(run_days):
                issued_as, called = day.run(d, visitors)
                for v in visitors:
                    o = simulated[d].outcomes[v.number]
                    n += 1
                    room, at = called[v.number]
                    if (
                        (o.first_room, o.estimate, o.fallback) != issued_as[v.number]
                        or o.room != room
                        or abs(o.start - at) > 1e-3
                    ):
                        differ += 1
                        if len(examples) < 5:
                            examples.append(
                                f"day {d} visitor {v.number}: simulated {o.first_room}/{o.estimate}/"
                                f"{o.fallback} called in {o.room} at {o.start:.2f}; service "
                                f"{issued_as[v.number]} called in {room} at {at:.2f}"
                            )
        finally:
            store.dispose()
    return Verification(days, n, differ, tuple(examples))


class _ServiceDay:
    """One day of the real services, driven by the simulation's events (`verify_against_service`)."""

    def __init__(
        self,
        rooms: Sequence[Room],
        clock: FixedClock,
        registration: RegistrationService,
        queue: QueueService,
        room_service: RoomsService,
    ) -> None:
        self.rooms = {r.code: r for r in rooms}
        self.clock = clock
        self.registration = registration
        self.queue = queue
        self.room_service = room_service
        self.serial = itertools.count(1)

    def run(
        self, d: int, visitors: Sequence[Visitor]
    ) -> tuple[dict[int, tuple[str, int, bool]], dict[int, tuple[str, float]]]:
        """(first room, stated wait, desk fallback) and (room called, call time) of each visitor."""
        self.by_case: dict[str, Visitor] = {}
        self.serving: dict[str, list[tuple[str, Visitor] | None]] = {
            r.code: [None] * r.mediators for r in self.rooms.values()
        }
        self.is_open = dict.fromkeys(self.rooms, True)
        self.called: dict[int, tuple[str, float]] = {}
        self.events: list[tuple[float, int, int, str, str, int]] = []
        self.order = itertools.count()
        issued_as: dict[int, tuple[str, int, bool]] = {}
        for r in self.rooms.values():
            if r.lunch_closed:
                heapq.heappush(self.events, (LUNCH[0], 1, next(self.order), "close", r.code, 0))
                heapq.heappush(self.events, (LUNCH[1], 1, next(self.order), "open", r.code, 0))
        for i, v in enumerate(visitors):
            heapq.heappush(self.events, (v.arrival, 2, next(self.order), "arrive", "", i))
        queue = self.queue
        while self.events:
            t, _, _, kind, code, idx = heapq.heappop(self.events)
            self.clock.set(day_start(d) + dt.timedelta(minutes=t))
            if kind == "arrive":
                v = visitors[idx]
                born = "19500101" if PriorityReason.ELDERLY in v.reasons else "19850101"
                body = f"620702{born}{next(self.serial) % 1000:03d}"
                case_no = self.registration.register(
                    {
                        "category": v.category,
                        "channel": "walk_in",
                        "headcount": v.headcount,
                        "narrative": "模拟来访：核对分室与叫号。",
                        "risk_flags": [f for f in v.risk_flags if f != RiskFlag.GROUP_VISIT.value],
                        "parties": [
                            {
                                "role": "applicant",
                                "name": "来访人",
                                "id_number": body + id_check_char(body),
                                "phone": f"139{next(self.serial):08d}",
                            }
                        ],
                    },
                    new_case=True,
                ).case_no
                self.by_case[case_no] = v
                declared = [
                    r.value for r in v.reasons if r in (PriorityReason.DISABLED, PriorityReason.PREGNANT)
                ]
                try:
                    issued = queue.issue_ticket(case_no, declared_priority=declared)
                    fell_back = False
                except ValidationError:  # no room proposed: the desk chooses, as desk_choice
                    loads = [x for x in queue.loads() if x.code in self.rooms]
                    issued = queue.issue_ticket(
                        case_no,
                        room_code=desk_choice_of(v, loads),
                        override_reason="hall_day",
                        declared_priority=declared,
                    )
                    fell_back = True
                issued_as[v.number] = (issued.ticket.room_code, issued.estimated_wait_minutes, fell_back)
                self.press(issued.ticket.room_code, t)
            elif kind == "end":
                slot = self.serving[code][idx]
                assert slot is not None
                ticket_id, v = slot
                if v.no_show:
                    for _ in range(NO_SHOW_AFTER_RECALLS):
                        queue.recall(ticket_id)
                    queue.no_show(ticket_id)
                else:
                    queue.finish(ticket_id)
                self.serving[code][idx] = None
                self.press(code, t)
            else:
                self.is_open[code] = kind == "open"
                self.room_service.set_room_open(code, self.is_open[code])
                while self.press(code, t):
                    pass
        return issued_as, self.called

    def press(self, code: str, now: float) -> bool:
        """A free mediator of an open room presses 叫下一位: the real `call_next`, then `claim` (not a no-show)."""
        if not self.is_open[code] or None not in self.serving[code]:
            return False
        ticket = self.queue.call_next(code)
        if ticket is None:
            return False
        v = self.by_case[ticket.case_no]
        if not v.no_show:
            self.queue.claim(ticket.id)
        m = self.serving[code].index(None)
        self.serving[code][m] = (ticket.id, v)
        self.called[v.number] = (code, now)
        duration = NO_SHOW_MINUTES if v.no_show else v.handling(self.rooms[code].kind)
        heapq.heappush(self.events, (now + duration, 0, next(self.order), "end", code, m))
        return True


def code_version() -> str:
    return ", ".join(
        f"{p} sha256 {hashlib.sha256((REPO / p).read_bytes()).hexdigest()[:12]}" for p in MEASURED_CODE
    )


def run(
    days: int = 30,
    seed: int = 1,
    visitors_per_day: float = VISITORS_PER_DAY,
    sweep: Sequence[float] = SWEEP,
    verify_days: int = VERIFY_DAYS,
) -> Report:
    t0 = time.perf_counter()
    rooms = load_rooms()
    pols = policies(rooms)
    by_key = {p.key: p for p in pols}
    all_days = [make_day(seed, d, visitors_per_day) for d in range(days)]
    results = {p.key: _simulate(rooms, all_days, p) for p in pols}
    figs = {p.key: figures(p, all_days, results[p.key], rooms) for p in pols}

    checks: list[PriorityCheck] = []
    comparisons: list[VersusFixed] = []
    for key in (PRODUCT, NO_TAKE_OVER, "fixed"):
        pol = by_key[key]
        frozen = _frozen_off(rooms, all_days, results[key], pol)
        same = (
            "the same first rooms, take-overs decided again"
            if pol.hall(rooms).take_over
            else "the same rooms"
        )
        checks.append(
            priority_check(f"{key}: priority rule off, {same}", rooms, all_days, results[key], frozen)
        )
        if key == "fixed":
            continue
        if key == PRODUCT:
            rerouted = _simulate(rooms, all_days, pol, with_priority=False)
            checks.append(
                priority_check(
                    f"{key}: priority rule off, rooms chosen again",
                    rooms,
                    all_days,
                    results[key],
                    rerouted,
                    with_bound=False,
                )
            )
        comparisons.extend(
            versus(key, against, all_days, results[key], results[against], frozen)
            for against in ("fixed", "balanced")
        )
    base = figs["fixed"].daily_p90
    goal_days = {
        k: sum(p90 <= (1 - GOAL_P90_REDUCTION) * b for p90, b in zip(f.daily_p90, base, strict=True))
        for k, f in figs.items()
    }

    rows: list[SweepRow] = []
    for load in sweep:
        sweep_days = [make_day(seed, d, load) for d in range(days)]
        p90: dict[str, float] = {}
        mean: dict[str, float] = {}
        overtime: dict[str, float] = {}
        util = math.nan
        for key in SWEEP_KEYS:
            f = figures(by_key[key], sweep_days, _simulate(rooms, sweep_days, by_key[key]), rooms)
            p90[key], mean[key], overtime[key] = f.all.p90, f.all.mean, f.overtime_mean
            if key == PRODUCT:
                util = f.utilisation
        rows.append(SweepRow(load, sum(len(d) for d in sweep_days), p90, mean, util, overtime))

    per_seed: dict[str, list[tuple[float, float]]] = {k: [] for k in ROBUSTNESS_KEYS}
    crisis: dict[str, list[float]] = {k: [] for k in ROBUSTNESS_KEYS}
    for sd in range(seed, seed + ROBUSTNESS_SEEDS):
        seed_days = all_days if sd == seed else [make_day(sd, d, visitors_per_day) for d in range(days)]
        for key in ROBUSTNESS_KEYS:
            res = results[key] if sd == seed else _simulate(rooms, seed_days, by_key[key])
            f = figs[key] if sd == seed else figures(by_key[key], seed_days, res, rooms)
            per_seed[key].append((f.all.p90, f.all.mean))
            crisis[key].extend(
                w
                for vs, r in zip(seed_days, res, strict=True)
                for v in vs
                if v.crisis and (w := r.outcomes[v.number].wait) is not None
            )
    robustness = [
        Robustness(
            k,
            [x[0] for x in v],
            [x[1] for x in v],
            sum(a[0] < b[0] for a, b in zip(v, per_seed[PRODUCT], strict=True)),
            WaitStats.of(crisis[k]),
        )
        for k, v in per_seed.items()
    ]

    n_visitors = sum(len(vs) for vs in all_days)
    share = sum(v.priority for vs in all_days for v in vs) / n_visitors
    tables = {k: by_key[k].table or {} for k in ("fixed", "balanced", "first")}
    verification = (
        verify_against_service(min(verify_days, days), seed, visitors_per_day) if verify_days > 0 else None
    )
    return Report(
        days,
        seed,
        visitors_per_day,
        time.perf_counter() - t0,
        n_visitors,
        share,
        rooms,
        tables,
        figs,
        checks,
        comparisons,
        goal_days,
        rows,
        robustness,
        code_version(),
        _source_has(ROOM_TERMINAL, TERMINAL_GATE),
        verification,
        bool(TAKE_OVER_WORDS.search(_source(QUEUE_MODULE))),
    )


# ------------------------------------------------------------------------------------------------------ output
def _m(x: float) -> str:
    return "—" if math.isnan(x) else f"{x:.1f}"


def reduction(rep: Report, key: str, against: str = "fixed") -> float:
    base = rep.figures[against].all.p90
    return 1 - rep.figures[key].all.p90 / base if base else 0.0  # nobody waited (a tiny smoke run)


def _table_text(table: dict[str, str]) -> str:
    return "; ".join(
        f"{room}: " + ", ".join(c for c in CATEGORY_WEIGHTS if table[c] == room)
        for room in sorted(set(table.values()))
    )


def _beyond(c: PriorityCheck) -> str:
    if c.beyond_bound < 0:
        return "—"
    return f"{c.beyond_bound} ({c.beyond_multi} / {c.beyond_lunch} / {c.beyond_take_over} / {c.beyond_other})"


def _rooms_text(rep: Report) -> str:
    return ", ".join(
        f"{r.code} {r.name} ({r.mediators} mediator{'s' if r.mediators > 1 else ''}"
        f"{', closed 12:00–14:00' if r.lunch_closed else ''})"
        for r in rep.rooms
    )


def model_text(rep: Report) -> str:
    means = ", ".join(f"{k} {v:g}" for k, v in TRUE_HANDLING_MINUTES.items())
    counselling = next(r for r in rep.rooms if r.kind == COUNSELLING_KIND)
    biggest = max(rep.rooms, key=lambda r: (r.capacity, -r.position))
    return (
        f"Rooms of `resources/catalog/rooms.json` that take cases, mediators from `mediators.json` (resident and "
        f"rotating, as `RoomView.servers` counts them): {_rooms_text(rep)}. A mediator serves one visitor (or group) "
        f"at a time; a closing room finishes the service under way and serves its queue after reopening; routing "
        f"sees it as `is_open=False`. Arrivals 08:30–17:30, non-homogeneous Poisson (thinning), "
        f"{rep.visitors_per_day:g} expected a day, peak 09:00–11:00 at 2× the afternoon rate, a lunch dip "
        f"({rep.visitors:,} visitors in {rep.days} days); category mix `synthetic.CATEGORY_WEIGHTS`; headcounts "
        f"1/2/3/6/12 at 70/15/8/5/2%. Priority by `priority_reasons` (age 70+, disabled, pregnant, high-risk flags): "
        f"{rep.priority_share:.1%} of visitors; each queue orders by `queue_key` "
        f"({PRIORITY_HEAD_START.seconds // 60} minutes' head start), then arrival. Handling log-normal (σ of the log "
        f"{HANDLING_SIGMA}) with true means {means} min, unknown to routing; groups of 2/3/{GROUP_VISIT_HEADCOUNT}+ "
        f"×1.1/1.15/1.5; one complexity draw per visitor, used in whichever room serves them. No-shows "
        f"{NO_SHOW_SHARE:.0%}: called and recalled {NO_SHOW_AFTER_RECALLS}× ({NO_SHOW_MINUTES:g} min of the room's "
        f"time), then skipped. After 17:30 rooms serve whoever still waits (overtime); nobody gives up and leaves, "
        f"so an overloaded room's queue runs into the evening (the overtime column). The days of a run follow one "
        f"another in one hall.\n\n"
        f"**The product** (`{PRODUCT}`) is the shipped behaviour: the real `propose_room` on `RoomLoad`s built as "
        f"`QueueService._loads` builds them — `waiting` (tickets waiting), `serving` (called or being received, a "
        f"no-show's calls included), `servers` (resident and rotating staff), `primary_for` (rooms.json `primary`), "
        f"`position` (the room's number) and the mean of the room's last {RECENT_SERVICES} finished services among "
        f"the hall's last {RECENT_WINDOW}, whatever their day (so a day starts from the previous days' means; the "
        f"first day from `DEFAULT_HANDLING_MINUTES`). The ticket states `round(expected_wait(ahead, load))`, as "
        f"`QueueService.issue_ticket` does. A mediator who becomes free (a service ends, the room reopens after "
        f"lunch) presses 叫下一位: `call_next` calls the room's next waiting ticket or, with nobody waiting, takes "
        f"over the longest-queued visitor of another room that the room can receive (the real "
        f"`take_over_candidates`: category, headcount; never a person in crisis; never into {counselling.name}; "
        f"only into an open room), keeping their queue key. A "
        f"person in crisis goes to {counselling.name} when it is open (else by category). When `propose_room` "
        f"proposes no room (every room of the category closed, or none holds the group), the desk picks an open "
        f"room that holds the group, not {counselling.name} unless the visitor is in crisis, preferring the "
        f"category's rooms, then the shortest expected wait.\n\n"
        f"**Fixed tables** (a person in crisis goes to {counselling.name}; a group too big for the table's room "
        f"goes to the smallest room of the category that holds it, else {biggest.code}): **dedicated rooms** "
        f"(`fixed`, the baseline: each category in the room whose rooms.json `primary` lists it) — "
        f"{_table_text(rep.tables['fixed'])}. **Best-balanced** (`balanced`: of all tables, the lowest highest "
        f"expected utilisation, computed with the true means) — {_table_text(rep.tables['balanced'])}. **First "
        f"listed** (`first`) — {_table_text(rep.tables['first'])}.\n\n"
        f"**Ablations** (the product without one part, by changing only what `propose_room` is given or what the "
        f"hall does around it): `{NO_TAKE_OVER}` — `call_next(take_over=False)`; `no-reserve` — {counselling.name} "
        f"is shown to `propose_room` under another kind for a visitor not in crisis, so it may be proposed to "
        f"anyone (take-over still never fills it); `no-primary` — `primary_for` empty, so ties go to the room with "
        f"the fewest categories, then the hall's order; `no-ahead` — `serving` 0 and `servers` 1, so a room's "
        f"expected wait is waiting × mean (the ticket still states the shipped estimate). **Experiments** (not "
        f"shipped, on top of the product): `plus-schedule` — a room that closes for lunch before the newcomer's "
        f"expected call is offered as closed; `plus-transfer` — when a room closes, each waiting ticket is re-routed "
        f"by `propose_room` and transferred (keeping its queue key, as `QueueService.transfer` does); "
        f"`plus-crisis-first` — a person in crisis queues ahead of everyone waiting in their room."
    )


def render(rep: Report) -> str:
    """The RESULTS.md section, markers included."""
    out: list[str] = [START_MARKER, "## Routing quality (bench/hall_day.py)", ""]
    add = out.append
    verified = rep.verification.days if rep.verification else 0
    flags = f" --visitors {rep.visitors_per_day:g}" if rep.visitors_per_day != VISITORS_PER_DAY else ""
    if verified != min(VERIFY_DAYS, rep.days):
        flags += f" --verify-days {verified}"
    add(
        f"Written by `python -m bench.hall_day --days {rep.days} --seed {rep.seed}{flags} --write-results` "
        f"({rep.seconds:.1f} s; {rep.code}). A discrete-event simulation of {rep.days} seeded days in one hall that "
        "runs the real `propose_room`, `expected_wait` and `handling_minutes` (`desk/core/routing.py`) and "
        "`queue_key`/`priority_reasons`/`take_over_candidates` (`desk/core/queue.py`) on a simulated clock, mirrors "
        "what `QueueService` (`desk/services/queue.py`) does around them (the room loads, the stated wait, "
        "call-next), and "
        "compares the product as shipped with fixed category → room tables and with ablations on the same visitors "
        "(common random numbers). A wait runs from taking the ticket to being called, in minutes; no-shows are left "
        "out; figures are pooled over all days. " + verification_text(rep)
    )
    add("")
    add(findings(rep))
    add("")
    add("**Model.** " + model_text(rep))
    add("")
    add(
        "| policy | served | mean | p50 | p90 | max | p90 vs baseline | days p90 ≥ 25% below | priority mean / p90 "
        "/ max | ordinary mean / p90 / max | crisis mean / max | caught by lunch: n, mean | in the dedicated room | "
        "idle mediator-h/day | of it, while a visitor it could take over waited elsewhere | take-overs + closing "
        "transfers a day | utilisation | overtime mean / max (min) |"
    )
    add("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for k, f in rep.figures.items():
        a, p, o = f.all, f.priority, f.ordinary
        vs_base = "—" if k == "fixed" else f"{-reduction(rep, k):+.0%}"
        add(
            f"| `{k}` {f.policy.label} | {a.n:,} | {_m(a.mean)} | {_m(a.p50)} | {_m(a.p90)} | {_m(a.max)} | "
            f"{vs_base} | {rep.goal_days[k]}/{rep.days} | {_m(p.mean)} / {_m(p.p90)} / {_m(p.max)} "
            f"| {_m(o.mean)} / {_m(o.p90)} / {_m(o.max)} | {_m(f.crisis.mean)} / {_m(f.crisis.max)} | "
            f"{f.caught.n}, {_m(f.caught.mean)} | {f.dedicated_share:.0%} | {f.idle_h:.1f} | "
            f"{f.idle_could_take_h:.1f} | {f.take_overs / rep.days:.1f} + {f.transfers / rep.days:.1f} | "
            f"{f.utilisation:.0%} | {f.overtime_mean:.0f} / {f.overtime_max:.0f} |"
        )
    add("")
    add("Visitors per room (share) and each room's utilisation (busy ÷ open mediator-time, 08:30–17:30):")
    add("")
    add("| policy | " + " | ".join(f"{r.code} {r.name} ({r.mediators})" for r in rep.rooms) + " |")
    add("|---|" + "---|" * len(rep.rooms))
    for k, f in rep.figures.items():
        add(
            f"| {k} | "
            + " | ".join(f"{f.room_share[r.code]:.0%} · {f.room_utilisation[r.code]:.0%}" for r in rep.rooms)
            + " |"
        )
    add("")
    add(
        f"Load sweep (seed {rep.seed}, {rep.days} days at each load; p90 / mean wait in minutes; the product's "
        f"utilisation):"
    )
    add("")
    add(
        "| visitors a day (expected / drawn) | utilisation | "
        + " | ".join(SWEEP_KEYS)
        + " | product vs dedicated | product vs best-balanced | overtime dedicated / product (min/day) |"
    )
    add("|---|---|" + "---|" * len(SWEEP_KEYS) + "---|---|---|")
    for r in rep.sweep:
        q90 = r.p90
        add(
            f"| {r.visitors_per_day:g} / {r.visitors / rep.days:.1f} | {r.utilisation:.0%} | "
            + " | ".join(f"{_m(q90[k])} / {_m(r.mean[k])}" for k in SWEEP_KEYS)
            + f" | {q90[PRODUCT] / q90['fixed'] - 1:+.0%} | {q90[PRODUCT] / q90['balanced'] - 1:+.0%} | "
            f"{r.overtime['fixed']:.0f} / {r.overtime[PRODUCT]:.0f} |"
        )
    add("")
    add(
        f"Robustness: {ROBUSTNESS_SEEDS} seeds ({rep.seed}–{rep.seed + ROBUSTNESS_SEEDS - 1}) × {rep.days} days at "
        f"{rep.visitors_per_day:g} a day; p90 / mean wait per seed, persons in crisis (all seeds pooled), and on how "
        f"many seeds the p90 is below the shipped product's:"
    )
    add("")
    add(
        "| policy | "
        + " | ".join(f"seed {rep.seed + i}" for i in range(ROBUSTNESS_SEEDS))
        + " | average | crisis mean / p90 / max | p90 below the product's |"
    )
    add("|---|" + "---|" * ROBUSTNESS_SEEDS + "---|---|---|")
    for rb in rep.robustness:
        add(
            f"| {rb.key} | "
            + " | ".join(f"{p:.1f} / {m:.1f}" for p, m in zip(rb.p90, rb.mean, strict=True))
            + f" | {statistics.fmean(rb.p90):.1f} / {statistics.fmean(rb.mean):.1f} | "
            f"{_m(rb.crisis.mean)} / {_m(rb.crisis.p90)} / {_m(rb.crisis.max)} | "
            f"{'—' if rb.key == PRODUCT else f'{rb.better_p90}/{len(rb.p90)}'} |"
        )
    add("")
    add(
        'The priority rule, ordinary visitors ("longer": by more than 10⁻⁶ min). "Beyond the promise": the wait '
        "grew by more than a minute beyond the service of the priority visitors who arrived after them and were "
        "called before them in the room they were called in (the bound `desk/core/queue.py` states for a room with "
        "one mediator that stays open), split by where: two-mediator room / single-mediator room that closes for "
        "lunch / single-mediator room open "
        "all day with a take-over into or out of their room while they waited (in either run) / elsewhere. With "
        "rooms chosen again the bound does not apply (—):"
    )
    add("")
    add(
        "| comparison | ordinary visitors | waited longer | mean increase of those | worst increase | "
        "beyond the promise (2 mediators / lunch / take-over / other) | worst beyond it |"
    )
    add("|---|---|---|---|---|---|---|")
    for c in rep.checks:
        add(
            f"| {c.label} | {c.ordinary:,} | {c.longer:,} | {_m(c.mean_increase)} | {_m(c.worst)} | {_beyond(c)} | "
            f"{_m(c.worst_beyond_bound)} |"
        )
    add("")
    add(
        'Ordinary visitors who waited longer than under a fixed table (the same visitor on the same day); "because '
        'of priority": longer than under the table, but not with the priority rule off (the same first rooms):'
    )
    add("")
    add(
        "| policy | against | ordinary visitors | waited longer | worst difference | because of priority | "
        "worst difference of those |"
    )
    add("|---|---|---|---|---|---|---|")
    for vf in rep.versus:
        add(
            f"| {vf.key} | {vf.against} | {vf.ordinary:,} | {vf.longer:,} ({vf.longer / vf.ordinary:.0%}) | "
            f"{_m(vf.worst)} | {vf.longer_by_priority} | {_m(vf.worst_by_priority)} |"
        )
    add(END_MARKER)
    return "\n".join(out)


def verification_text(rep: Report) -> str:
    ver = rep.verification
    if ver is None:
        return "The mirror of `QueueService` was not checked in this run (`--verify-days 0`)."
    what = (
        f"the first {ver.days} days ({ver.visitors:,} visitors) were also driven through the real "
        f"`RegistrationService`/`QueueService`/`RoomsService` on a temporary SQLite store (`issue_ticket`, `call_next`, `claim`, "
        f"`finish`, `recall`, `no_show`, `set_room_open`)"
    )
    if ver.differ == 0:
        return (
            f"The mirror is checked: {what}, and every visitor got the same first room, stated wait, room called "
            f"and call time as under the `{PRODUCT}` policy."
        )
    return (
        f"**The mirror is out of date:** {what}, and {ver.differ} of {ver.visitors:,} visitors differ from the "
        f"`{PRODUCT}` policy (first room, stated wait, room called or call time), e.g. {ver.examples[0]}."
    )


def _lower(a: float, b: float, words: tuple[str, str, str] = ("lower", "higher", "the same")) -> str:
    """How a compares with b, in words (to a tenth of a minute)."""
    if round(a, 1) < round(b, 1):
        return words[0]
    return words[1] if round(a, 1) > round(b, 1) else words[2]


def findings(rep: Report) -> str:
    f, base, bal = rep.figures[PRODUCT], rep.figures["fixed"], rep.figures["balanced"]
    red, red_bal = reduction(rep, PRODUCT), reduction(rep, PRODUCT, "balanced")
    verdict = "met" if red >= GOAL_P90_REDUCTION else "**missed**"
    vs = next(v for v in rep.versus if v.key == PRODUCT and v.against == "fixed")
    same = next(c for c in rep.checks if c.label.startswith(f"{PRODUCT}:") and c.beyond_bound >= 0)
    rerouted = next(c for c in rep.checks if c.label.startswith(f"{PRODUCT}:") and c.beyond_bound < 0)
    rob = {r.key: r for r in rep.robustness}
    seeds = len(rob[PRODUCT].p90)
    counselling = next(r for r in rep.rooms if r.kind == COUNSELLING_KIND)
    limit = 1 - GOAL_P90_REDUCTION

    def avg_p90(key: str) -> float:
        return statistics.fmean(rob[key].p90)

    def avg(key: str) -> str:
        r = rob[key]
        return f"p90 {statistics.fmean(r.p90):.1f} / mean {statistics.fmean(r.mean):.1f}"

    def crisis(key: str) -> str:
        c = rob[key].crisis
        return f"{_m(c.mean)} / {_m(c.p90)} / {_m(c.max)}"

    def better(key: str) -> str:
        return f"lower p90 than shipped on {rob[key].better_p90} of {seeds} seeds"

    sweep_ok = sum(r.p90[PRODUCT] <= limit * r.p90["fixed"] for r in rep.sweep)
    seeds_ok = sum(p <= limit * b for p, b in zip(rob[PRODUCT].p90, rob["fixed"].p90, strict=True))
    if f.all.max > base.all.max:
        worst = f"The **maximum** is worse ({_m(f.all.max)} against {_m(base.all.max)} min);"
    else:
        worst = f"The maximum is {_m(f.all.max)} against {_m(base.all.max)} min;"
    vs_balanced = (
        f"{red_bal:.0%} below even the best-balanced fixed table"
        if red_bal > 0
        else f"{-red_bal:.0%} above the best-balanced fixed table"
    )
    goal1 = (
        f"**Goal 1 — p90 wait at least {GOAL_P90_REDUCTION:.0%} below the fixed table: {verdict}.** The product as "
        f"shipped: p90 {_m(f.all.p90)} min against {_m(base.all.p90)} for the dedicated-room table, {red:.0%} lower; "
        f"at least {GOAL_P90_REDUCTION:.0%} lower on {rep.goal_days[PRODUCT]} of the {rep.days} days taken one by "
        f"one, at {sweep_ok} of the {len(rep.sweep)} loads of the sweep and on {seeds_ok} of the {seeds} seeds of the "
        f"robustness table; {vs_balanced} ({_m(bal.all.p90)} min). Mean {_m(f.all.mean)} against "
        f"{_m(base.all.mean)}; priority visitors {_m(f.priority.mean)} against {_m(base.priority.mean)}, ordinary "
        f"{_m(f.ordinary.mean)} against {_m(base.ordinary.mean)}. Routing sends each newcomer to the open room of "
        f"their category with the shortest expected wait, and a mediator with nobody waiting takes over a visitor "
        f"queued in another room ({f.take_overs / rep.days:.1f} take-overs a day): mediator time idle while a "
        f"visitor the room could "
        f"take over waited in another room's queue is {f.idle_could_take_h:.1f} h a day, against "
        f"{base.idle_could_take_h:.1f} under the table. {worst} of the 1% longest waits, {f.longest_caught:.0%} are "
        f"visitors routed in the morning to a room that then closed for lunch with them in its queue "
        f"({f.caught.n} such visitors in all, mean wait {_m(f.caught.mean)} min)."
    )

    if vs.longer_by_priority == 0:
        goal2 = (
            "**Goal 2 — no ordinary visitor waiting longer than under the fixed table because of priority: "
            "met.**"
        )
    else:
        goal2 = (
            f"**Goal 2 — no ordinary visitor waiting longer than under the fixed table because of priority: "
            f"missed for {vs.longer_by_priority} of {vs.ordinary:,}** (the worst of them "
            f"{_m(vs.worst_by_priority)} min beyond the table; with the priority rule off each of them waited at "
            f"most {_m(vs.margin_by_priority)} min less than under the table, and the priority rule added "
            f"more than that margin to their wait)."
        )
    promise = (
        f"`desk/core/queue.py` promises that in a room with one mediator that stays open an ordinary visitor's wait "
        f"grows by at most the service of the priority visitors arriving within 15 minutes after them; "
        f"{same.beyond_bound} grew by more than a minute beyond the service of the priority visitors who arrived "
        f"after them and were called before them in their room: {same.beyond_multi} in the two-mediator room and "
        f"{same.beyond_lunch} in rooms that close for lunch (the two exceptions the comment names), "
        f"{same.beyond_take_over} in single-mediator rooms open all day "
        f"with a take-over into or out of their room while they waited, and {same.beyond_other} elsewhere."
    )
    if same.beyond_take_over:
        named = (
            "which the comment names" if rep.promise_names_take_over else "which the comment does not name"
        )
        promise += (
            f" Take-over is a third exception, {named}: it lets rooms share visitors, so a change of order "
            f"in one room changes when another room's mediator is free and whom they take over, as a second "
            f"mediator does within a room."
        )
    goal2 += (
        f" {vs.longer:,} ordinary visitors ({vs.longer / vs.ordinary:.0%}) wait longer than under the table (worst "
        f"{_m(vs.worst)} min); {vs.longer - vs.longer_by_priority:,} of them would also with the priority rule off "
        f"(the same first rooms): for those, routing and take-over, not priority, decide it. The priority rule "
        f"itself, with against without it: the same first rooms (take-overs decided again), {same.longer} of "
        f"{same.ordinary:,} ordinary visitors waited longer (mean {_m(same.mean_increase)}, worst {_m(same.worst)} "
        f"min); rooms chosen again, {rerouted.longer} (worst {_m(rerouted.worst)} min). " + promise
    )

    crisis_vs_fixed = _lower(rob[PRODUCT].crisis.mean, rob["fixed"].crisis.mean, ("less", "more", "as long"))
    crisis_text = (
        f"**Persons in crisis.** `propose_room` keeps {counselling.name} for persons in crisis while another room "
        f"fits (the reserve), and take-over never moves a person in crisis nor fills {counselling.name}; rooms.json "
        f"lets it also take {', '.join(sorted(counselling.categories))} disputes. As shipped a person in crisis waits "
        f"{crisis_vs_fixed} than under the dedicated-room table: mean / p90 / max {crisis(PRODUCT)} min ({seeds} "
        f"seeds pooled) against {crisis('fixed')}; without the reserve (`no-reserve`, {counselling.name} proposed "
        f"for those disputes too) {crisis('no-reserve')}; with a person in crisis also called next in their room "
        f"(`plus-crisis-first`, not shipped) {crisis('plus-crisis-first')}."
    )
    util = rep.figures["no-reserve"].room_utilisation[counselling.code], f.room_utilisation[counselling.code]
    if avg_p90("no-reserve") < avg_p90(PRODUCT):
        crisis_text += (
            f" The reserve has a price for everyone else: {counselling.name}'s counsellor, one of the hall's "
            f"{sum(r.mediators for r in rep.rooms)} mediators, is busy {util[1]:.0%} of the open time as shipped "
            f"against {util[0]:.0%} without the reserve, and without it the hall does {avg('no-reserve')} min "
            f"against {avg(PRODUCT)} as shipped ({better('no-reserve')})."
        )
    else:
        crisis_text += (
            f" Without the reserve everyone else does no better: {avg('no-reserve')} min against "
            f"{avg(PRODUCT)} as shipped."
        )

    def part(key: str, what: str) -> str:
        return f"without {what} (`{key}`) {avg(key)}, {better(key)}"

    prim = rep.figures["no-primary"]
    ablations = (
        f"**What each shipped part does** ({seeds} seeds × {rep.days} days, {rep.visitors_per_day:g} a day; as shipped "
        f"{avg(PRODUCT)} min): {part(NO_TAKE_OVER, 'take-over')}, crisis {crisis(NO_TAKE_OVER)}; "
        f"{part('no-ahead', '`serving`/`servers` in the load')}; {part('no-primary', '`primary_for`')} "
        f"({prim.dedicated_share:.0%} of visitors called in their dedicated room in this run, against "
        f"{f.dedicated_share:.0%} as shipped); the reserve above. "
    )
    if abs(avg_p90("no-primary") - avg_p90(PRODUCT)) < 1.0:
        ablations += (
            "`primary_for` decides where ties go, not how long people wait: the average p90 moves by less "
            "than a minute. "
        )
    est_better = _lower(f.estimate_mae, f.estimate_old_mae, ("closer to", "further from", "as close to"))
    ablations += (
        f"*The stated wait:* `round(expected_wait(ahead, load))` against the actual wait, as shipped: mean error "
        f"{f.estimate_bias:+.1f} min, mean absolute error {f.estimate_mae:.1f}; the formula before "
        f"(`queue.estimated_wait_minutes`, ahead × mean) {f.estimate_old_bias:+.1f} / {f.estimate_old_mae:.1f}, "
        f"so the ticket's figure is {est_better} the real wait."
    )

    sched, trans = rep.figures["plus-schedule"], rep.figures["plus-transfer"]
    tail_only = all(
        avg_p90(k) >= avg_p90(PRODUCT) - 1.0 and rep.figures[k].all.max < f.all.max
        for k in ("plus-schedule", "plus-transfer")
    )
    experiments = (
        f"**Lunch, experiments not shipped.** Not offering a room that closes before one's expected call "
        f"(`plus-schedule`: {sched.caught.n} caught by lunch against {f.caught.n}, max {_m(sched.all.max)} against "
        f"{_m(f.all.max)}; {avg('plus-schedule')}, {better('plus-schedule')}) or transferring a closing room's queue "
        f"(`plus-transfer`: {trans.caught.n} caught, max {_m(trans.all.max)}; {avg('plus-transfer')}, "
        f"{better('plus-transfer')})"
        + (
            " shortens the longest waits, not p90."
            if tail_only
            else ": their effect on p90 and on the longest waits is in the tables."
        )
    )

    caveat = (
        f"**Where the take-over happens.** `call_next` takes over only when a mediator presses 叫下一位 with nobody "
        f"waiting in their room; the `{PRODUCT}` rows assume they press it each time they become free. A hall whose "
        f"mediators never do is the `{NO_TAKE_OVER}` row ({avg(NO_TAKE_OVER)} min, p90 "
        f"{1 - avg_p90(NO_TAKE_OVER) / avg_p90('fixed'):.0%} below the table on average). Pressing it again while "
        f"idle could help only while a room sat idle with a visitor it could take over waiting elsewhere: "
        f"{f.idle_could_take_h:.1f} mediator-hours a day as shipped."
    )
    if rep.terminal_gates_call_next:
        caveat += (
            f" That is the hall run from the room terminals today: `{ROOM_TERMINAL}` disables 叫下一位, and "
            f"with it F5, while its own room has nobody waiting, so the take-over cannot be reached from the "
            f"terminal (`desk call` reaches it)."
        )
    return "\n\n".join([goal1, goal2, crisis_text, ablations, experiments, caveat])


def write_section(section: str, path: Path = RESULTS) -> None:
    """Put the section into RESULTS.md between its markers, replacing an earlier one; else append it."""
    from bench.common import write_section as write_marked

    write_marked(section, path, start=START_MARKER, end=END_MARKER)


def update_results(
    path: Path = RESULTS,
    *,
    days: int = 30,
    seed: int = 1,
    visitors_per_day: float = VISITORS_PER_DAY,
    sweep: Sequence[float] = SWEEP,
    verify_days: int = VERIFY_DAYS,
) -> Report:
    """Run the simulation and (re)write its section of `path`; for bench/run_all.py, after it writes the file."""
    rep = run(days=days, seed=seed, visitors_per_day=visitors_per_day, sweep=sweep, verify_days=verify_days)
    write_section(render(rep), path)
    return rep


def print_report(rep: Report) -> None:
    print(
        f"hall_day: {rep.days} days, seed {rep.seed}, {rep.visitors:,} visitors ({rep.visitors / rep.days:.0f}/day), "
        f"priority {rep.priority_share:.1%}, {rep.seconds:.1f} s; {rep.code}"
    )
    print(verification_text(rep))
    for example in rep.verification.examples if rep.verification else ():
        print(f"  {example}")
    print(
        "rooms (× mediators): "
        + ", ".join(
            f"{r.code}×{r.mediators}{' closed at lunch' if r.lunch_closed else ''}" for r in rep.rooms
        )
    )
    print()
    head = (
        f"{'policy':<15}{'served':>7}{'mean':>7}{'p50':>7}{'p90':>7}{'max':>7}{'vs base':>8}{'days':>7}"
        f"{'prio mean/p90/max':>20}{'ord mean/p90/max':>20}{'crisis mean/max':>16}{'caught':>12}{'dedic':>6}"
        f"{'idle':>6}{'could':>6}{'moves':>6}{'util':>6}{'overtime':>10}"
    )
    print(head)
    print("-" * len(head))
    for k, f in rep.figures.items():
        a, p, o = f.all, f.priority, f.ordinary
        print(
            f"{k:<15}{a.n:>7}{a.mean:>7.1f}{a.p50:>7.1f}{a.p90:>7.1f}{a.max:>7.1f}{-reduction(rep, k):>+8.0%}"
            f"{rep.goal_days[k]:>4}/{rep.days:<2}{p.mean:>8.1f}/{p.p90:>5.1f}/{p.max:>5.1f}"
            f"{o.mean:>8.1f}/{o.p90:>5.1f}/{o.max:>5.1f}{_m(f.crisis.mean):>9}/{_m(f.crisis.max):>6}"
            f"{f.caught.n:>6}/{_m(f.caught.mean):>5}{f.dedicated_share:>6.0%}{f.idle_h:>6.1f}"
            f"{f.idle_could_take_h:>6.1f}{(f.take_overs + f.transfers) / rep.days:>6.1f}{f.utilisation:>6.0%}"
            f"{f.overtime_mean:>6.0f}/{f.overtime_max:<3.0f}"
        )
    print(
        "waits in minutes. vs base: p90 against the dedicated-room table; days: days whose p90 is >= 25% below "
        "the table's;\ncaught: visitors whose room closed for lunch while they waited (n/mean wait); dedic: share "
        "called in their category's\ndedicated room; idle/could: idle mediator-hours a day / of them while a "
        "visitor the room could take over waited elsewhere;\nmoves: take-overs and closing transfers a day; "
        "overtime: minutes past 17:30 until the last service ends (mean/max a day)"
    )
    for k, f in rep.figures.items():
        print(f"  {k:<15}{f.policy.label}")
    print()
    print("visitors per room · utilisation")
    print(f"{'':<15}" + "".join(f"{r.code + '×' + str(r.mediators):>11}" for r in rep.rooms))
    for k, f in rep.figures.items():
        print(
            f"{k:<15}"
            + "".join(
                f"{f'{f.room_share[r.code]:.0%}·{f.room_utilisation[r.code]:.0%}':>11}" for r in rep.rooms
            )
        )
    print()
    f = rep.figures[PRODUCT]
    print(
        f"ticket's stated wait minus actual (product): as shipped mean {f.estimate_bias:+.1f}, |mean| "
        f"{f.estimate_mae:.1f} min; the formula before (estimated_wait_minutes) {f.estimate_old_bias:+.1f}, "
        f"{f.estimate_old_mae:.1f}"
    )
    print()
    print("load sweep, p90 / mean wait (min): " + ", ".join(SWEEP_KEYS))
    for r in rep.sweep:
        print(
            f"  {r.visitors_per_day:>4g}/day ({r.visitors / rep.days:5.1f} drawn, product utilisation "
            f"{r.utilisation:3.0%}): " + "  ".join(f"{r.p90[k]:6.1f}/{r.mean[k]:5.1f}" for k in SWEEP_KEYS)
        )
    print()
    print(f"robustness, p90 / mean wait over seeds {rep.seed}..{rep.seed + ROBUSTNESS_SEEDS - 1}:")
    for rb in rep.robustness:
        print(
            f"  {rb.key:<15}"
            + "  ".join(f"{p:6.1f}/{m:5.1f}" for p, m in zip(rb.p90, rb.mean, strict=True))
            + f"   average {statistics.fmean(rb.p90):6.1f}/{statistics.fmean(rb.mean):5.1f}"
            + f"   crisis mean/p90/max {_m(rb.crisis.mean)}/{_m(rb.crisis.p90)}/{_m(rb.crisis.max)}"
            + ("" if rb.key == PRODUCT else f"   p90 below product {rb.better_p90}/{len(rb.p90)}")
        )
    print()
    print(
        "priority rule, ordinary visitors: longer/of, mean and worst increase, beyond queue.py's promise "
        "(2 mediators / lunch / take-over / other), worst beyond"
    )
    for c in rep.checks:
        print(
            f"  {c.label:<68}{c.longer:>5}/{c.ordinary:<6}{c.mean_increase:>6.1f}{c.worst:>7.1f}  {_beyond(c):>20}"
            f"{_m(c.worst_beyond_bound):>7}"
        )
    print()
    print(
        "ordinary visitors waiting longer than under a fixed table: count, worst, because of priority, "
        "worst of those"
    )
    for vf in rep.versus:
        print(
            f"  {vf.key:<15} vs {vf.against:<9}{vf.longer:>5}/{vf.ordinary:<6}({vf.longer / vf.ordinary:.0%})"
            f"{vf.worst:>8.1f}{vf.longer_by_priority:>5}{vf.worst_by_priority:>8.1f}"
        )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.hall_day", description=(__doc__ or "").splitlines()[0])
    p.add_argument("--days", type=int, default=30)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--visitors", type=float, default=VISITORS_PER_DAY, help="expected visitors a day")
    p.add_argument(
        "--verify-days",
        type=int,
        default=VERIFY_DAYS,
        help="days driven through the real services too, to check the mirror (0: none)",
    )
    p.add_argument("--write-results", action="store_true", help="(re)write this section of RESULTS.md")
    p.add_argument("--output", type=Path, default=RESULTS, help="the RESULTS.md to write the section into")
    args = p.parse_args(argv)
    rep = run(days=args.days, seed=args.seed, visitors_per_day=args.visitors, verify_days=args.verify_days)
    print_report(rep)
    print()
    print(findings(rep))
    if args.write_results:
        write_section(render(rep), args.output)
        print(f"\nwrote the hall_day section of {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
