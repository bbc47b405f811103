"""The quality of routing, by simulation: `python -m bench.hall_day [--days 30] [--seed 1] [--write-results]`.

A discrete-event simulation of a day in the hall that drives the real routing (`desk.core.routing.propose_room`,
`handling_minutes`) and the real queue rule (`desk.core.queue.queue_key`, `priority_reasons`) on a simulated clock
(`desk.core.clock.FixedClock`), and compares the product's routing with a fixed category -> room table on the same
visitors (common random numbers: each visitor's arrival, category, headcount, flags, no-show and "complexity" are
drawn once per day, so every routing rule sees the same people). Pure: no database, no Qt.

The model (every figure is a constant below, stated again in the report):
- Rooms: the default layout `resources/catalog/rooms.json`, the rooms that receive cases (R08 视频会商室 and
  R09 研判分析室 list no categories and take no visitors). One mediator per room, two in 人民调解室 (R01: the
  center's resident mediators). A mediator serves one visitor (or group) at a time.
- Arrivals: 08:30-17:30, a non-homogeneous Poisson process (thinning) with a morning peak and a lunch dip,
  VISITORS_PER_DAY expected; category mix `desk.core.synthetic.CATEGORY_WEIGHTS`, headcounts as in
  `synthetic.make_visit` (5 or more people: a group visit that needs a room that holds them).
- Priority (~5%): age 70+ from the birth date, declared disability or pregnancy, high-risk flags, decided by the real
  `priority_reasons`; the queue is ordered by the real `queue_key` (15 minutes' head start).
- Handling: log-normal per room kind (TRUE_HANDLING_MINUTES, sigma HANDLING_SIGMA); one standard normal draw per
  visitor ("complexity"), so the same visitor takes comparably long in whichever room serves them. Groups take longer.
- Lunch: LUNCH_CLOSED rooms close 12:00-14:00: a service under way finishes, no new one starts; the queue stays and
  is served after reopening; a closed room is offered to routing as `is_open=False`.
- No-shows (5%): the room calls, recalls NO_SHOW_AFTER_RECALLS times (CALL_MINUTES each), then skips them.
- After 17:30 no one arrives; rooms serve whoever is still waiting (overtime).
"""

from __future__ import annotations

import argparse
import datetime as dt
import heapq
import json
import math
import random
import re
import statistics
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from desk.config import RESOURCES
from desk.core.cases import GROUP_VISIT_HEADCOUNT, RiskFlag
from desk.core.clock import CHINA_TZ, FixedClock
from desk.core.queue import (
    NO_SHOW_AFTER_RECALLS,
    PRIORITY_HEAD_START,
    PriorityReason,
    priority_reasons,
    queue_key,
)
from desk.core.routing import COUNSELLING_KIND, RoomLoad, handling_minutes, propose_room
from desk.core.synthetic import CATEGORY_WEIGHTS

BENCH_DIR = Path(__file__).resolve().parent
RESULTS = BENCH_DIR / "RESULTS.md"
START_MARKER = "<!-- hall_day:start -->"
END_MARKER = "<!-- hall_day:end -->"

# ---------------------------------------------------------------------------------------------------- the model
FIRST_DAY = dt.date(2026, 3, 2)  # a Monday; day i of the run is FIRST_DAY + i (the weekday plays no part)
OPENS = dt.time(8, 30)
DAY_MINUTES = 540.0  # 08:30-17:30
LUNCH = (210.0, 330.0)  # 12:00-14:00, minutes after 08:30
LUNCH_CLOSED = frozenset({"R02", "R03", "R05", "R07"})  # rotating / stationed specialists; R01, R04, R06 keep a duty
MEDIATORS = {"R01": 2}  # mediators on duty per room; others 1
VISITORS_PER_DAY = 90.0  # expected arrivals on a busy day of a township center
# Relative arrival rate through the day (minutes after 08:30, rate), linear in between: a morning peak, a lunch dip.
ARRIVAL_PROFILE = ((0.0, 1.2), (30.0, 2.0), (150.0, 2.0), (210.0, 1.0), (225.0, 0.5), (320.0, 0.5),
                   (335.0, 1.1), (450.0, 1.0), (540.0, 0.4))
HEADCOUNTS = ((1, 70), (2, 15), (3, 8), (6, 5), (12, 2))  # as desk.core.synthetic.make_visit draws them
# The real mean handling time (minutes) of each room kind, which routing does not know: it starts from the product's
# DEFAULT_HANDLING_MINUTES and learns each room's recent mean during the day.
TRUE_HANDLING_MINUTES = {
    "人民调解室": 24.0, "法律援助室": 30.0, "心理咨询室": 45.0, "信访接待室": 28.0,
    "诉调对接室": 38.0, "警调对接室": 22.0, "劳动争议调解室": 30.0,
}
HANDLING_SIGMA = 0.6  # of the log; coefficient of variation ~0.66
HANDLING_MIN = 4.0
GROUP_FACTOR = {1: 1.0, 2: 1.1, 3: 1.15}  # headcount -> longer handling; GROUP_VISIT_HEADCOUNT and more: 1.5
RECENT_SERVICES = 10  # a room's "recent" handling times: its last 10 services today
CALL_MINUTES = 2.0
NO_SHOW_MINUTES = (1 + NO_SHOW_AFTER_RECALLS) * CALL_MINUTES  # the call and the recalls, then the ticket is skipped
NO_SHOW_SHARE = 0.05
ELDERLY_SHARE, DISABLED_SHARE, PREGNANT_SHARE = 0.025, 0.008, 0.004
CRISIS_SHARE, CIVIL_TO_CRIMINAL_SHARE, EXTREME_SHARE = 0.005, 0.008, 0.002
# The fixed table of the baseline: each category's dedicated room, as a hall without the software would post it on
# the wall (the room that usually handles it; every one is a room that lists the category in rooms.json).
FIXED_TABLE = {
    "marriage_family": "R01", "neighbour": "R01", "housing_homestead": "R01", "production_business": "R01",
    "property_management": "R01", "consumer": "R01", "irrigation": "R01",
    "contract": "R02",
    "forest_land": "R04", "land_requisition": "R04", "pollution": "R04", "grassland": "R04", "other": "R04",
    "damages": "R05", "medical": "R05",
    "traffic": "R06",
    "labour": "R07",
}
GOAL_P90_REDUCTION = 0.25
EPS = 1e-6  # minutes; waits equal up to float noise are equal


@dataclass(frozen=True)
class Room:
    code: str
    name: str
    kind: str
    categories: frozenset[str]
    capacity: int
    position: int
    mediators: int
    lunch_closed: bool


def load_rooms(path: Path | None = None) -> list[Room]:
    layout = json.loads((path or RESOURCES / "catalog" / "rooms.json").read_text(encoding="utf-8"))
    rooms = []
    for i, r in enumerate(layout["rooms"]):
        if not r["categories"]:
            continue  # video conference and analysis rooms take no visitors
        rooms.append(Room(code=r["code"], name=r["name"], kind=r["kind"], categories=frozenset(r["categories"]),
                          capacity=int(r["capacity"]), position=i, mediators=MEDIATORS.get(r["code"], 1),
                          lunch_closed=r["code"] in LUNCH_CLOSED))
    return rooms


@dataclass(frozen=True)
class Visitor:
    number: int  # the order of arrival; also the ticket number's tie-break
    arrival: float  # minutes after 08:30
    arrived_at: dt.datetime  # the simulated clock at arrival
    category: str
    headcount: int
    risk_flags: tuple[str, ...]
    reasons: tuple[PriorityReason, ...]
    no_show: bool
    complexity: float  # a standard normal draw: how long this visitor's matter takes, whichever room serves it

    @property
    def priority(self) -> bool:
        return bool(self.reasons)

    @property
    def crisis(self) -> bool:
        return RiskFlag.PSYCHOLOGICAL_CRISIS.value in self.risk_flags

    def handling(self, kind: str) -> float:
        mean = TRUE_HANDLING_MINUTES.get(kind, 30.0)
        factor = 1.5 if self.headcount >= GROUP_VISIT_HEADCOUNT else GROUP_FACTOR.get(self.headcount, 1.0)
        minutes = mean * factor * math.exp(HANDLING_SIGMA * self.complexity - HANDLING_SIGMA**2 / 2)
        return max(HANDLING_MIN, minutes)


def _rate(t: float) -> float:
    for (t0, r0), (t1, r1) in zip(ARRIVAL_PROFILE, ARRIVAL_PROFILE[1:], strict=False):
        if t0 <= t <= t1:
            return r0 + (r1 - r0) * (t - t0) / (t1 - t0)
    return 0.0


def _profile_area() -> float:
    return sum((t1 - t0) * (r0 + r1) / 2
               for (t0, r0), (t1, r1) in zip(ARRIVAL_PROFILE, ARRIVAL_PROFILE[1:], strict=False))


def day_start(day: int) -> dt.datetime:
    return dt.datetime.combine(FIRST_DAY + dt.timedelta(days=day), OPENS, tzinfo=CHINA_TZ)


def make_day(seed: int, day: int, visitors_per_day: float = VISITORS_PER_DAY) -> list[Visitor]:
    """The visitors of one day, drawn from their own seeded generator: arrivals by thinning, then each person."""
    rng = random.Random(f"hall_day:{seed}:{day}")
    scale = visitors_per_day / _profile_area()
    peak = max(r for _, r in ARRIVAL_PROFILE) * scale
    clock = FixedClock(day_start(day))
    today = clock.now().astimezone(CHINA_TZ).date()
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
        if born > dt.date(today.year - age, today.month, today.day):
            born = dt.date(today.year - age, 1, 1)  # keep the age exact
        declared = [r for r, share in (("disabled", DISABLED_SHARE), ("pregnant", PREGNANT_SHARE))
                    if rng.random() < share]
        reasons = priority_reasons(birth_date=born, today=today, declared=declared, risk_flags=flags)
        no_show = rng.random() < NO_SHOW_SHARE and not flags
        visitors.append(Visitor(number=len(visitors) + 1, arrival=t, arrived_at=clock.now(),
                                category=rng.choices(codes, weights)[0], headcount=headcount,
                                risk_flags=tuple(flags), reasons=reasons, no_show=no_show,
                                complexity=rng.gauss(0.0, 1.0)))
    return visitors


# ------------------------------------------------------------------------------------------------ the simulation
@dataclass
class RoomState:
    room: Room
    is_open: bool = True
    queue: list[tuple[dt.datetime, int, Visitor]] = field(default_factory=list)  # a heap by (queue_key, number)
    serving: list[Visitor | None] = field(default_factory=list)  # per mediator
    recent: list[float] = field(default_factory=list)  # handling times of finished services, oldest first
    busy: float = 0.0  # mediator-minutes serving or calling, 08:30-17:30
    idle: float = 0.0  # mediator-minutes open and free, 08:30-17:30
    idle_while_waiting: float = 0.0  # ... while a visitor this room could take waits in another room's queue
    open_time: float = 0.0  # mediator-minutes open, 08:30-17:30
    overtime: float = 0.0  # mediator-minutes serving after 17:30
    last_end: float = 0.0

    @property
    def busy_mediators(self) -> int:
        return sum(v is not None for v in self.serving)


@dataclass(frozen=True)
class Outcome:
    room: str
    start: float  # called (and, unless a no-show, served) at, minutes after 08:30
    duration: float  # the room's time spent on the ticket
    wait: float | None  # None: a no-show
    fallback: bool  # routing proposed no room and the desk chose the fixed-table room


@dataclass
class DayResult:
    outcomes: dict[int, Outcome]
    rooms: dict[str, RoomState]


class Hall:
    """One day of the hall under one routing rule."""

    def __init__(self, rooms: Sequence[Room], *, with_priority: bool) -> None:
        self.rooms = {r.code: RoomState(r, serving=[None] * r.mediators) for r in rooms}
        self.with_priority = with_priority
        self.now = 0.0

    def load(self, code: str, *, count_serving: bool = False, per_mediator: bool = False) -> RoomLoad:
        """The room as the product's service would describe it to routing (`RoomLoad`) at this moment."""
        s = self.rooms[code]
        r = s.room
        waiting = len(s.queue) + (s.busy_mediators if count_serving else 0)
        mean = handling_minutes(r.kind, s.recent[-RECENT_SERVICES:])
        if per_mediator:
            mean /= r.mediators
        return RoomLoad(code=r.code, name=r.name, kind=r.kind, categories=r.categories, capacity=r.capacity,
                        is_open=s.is_open, waiting=waiting, mean_handling_minutes=mean, position=r.position)

    def _account(self, until: float) -> None:
        """Integrate the room counters over [now, until]; the state is constant in between."""
        lo, hi = self.now, min(until, DAY_MINUTES)
        inside = max(0.0, hi - lo)
        outside = max(0.0, until - max(lo, DAY_MINUTES))
        waiting_elsewhere: dict[str, list[Visitor]] = {c: [v for _, _, v in s.queue] for c, s in self.rooms.items()}
        for code, s in self.rooms.items():
            busy = s.busy_mediators
            s.overtime += busy * outside
            if not inside:
                continue
            s.busy += busy * inside
            if s.is_open:
                free = s.room.mediators - busy
                s.open_time += s.room.mediators * inside
                s.idle += free * inside
                if free and any(v.category in s.room.categories and v.headcount <= s.room.capacity
                                and not v.crisis
                                for other, vs in waiting_elsewhere.items() if other != code for v in vs):
                    s.idle_while_waiting += free * inside
        self.now = until

    def run(self, visitors: Sequence[Visitor], route: Router) -> DayResult:
        outcomes: dict[int, Outcome] = {}
        fallbacks: set[int] = set()
        # (time, order, seq, ...): at one instant, services end first, then rooms close/open, then people arrive.
        events: list[tuple[float, int, int, str, str, int]] = []
        seq = 0

        def push(t: float, order: int, kind: str, room: str = "", idx: int = 0) -> None:
            nonlocal seq
            seq += 1
            heapq.heappush(events, (t, order, seq, kind, room, idx))

        for s in self.rooms.values():
            if s.room.lunch_closed:
                push(LUNCH[0], 1, "close", s.room.code)
                push(LUNCH[1], 1, "open", s.room.code)
        for i, v in enumerate(visitors):
            push(v.arrival, 2, "arrive", idx=i)

        def start(s: RoomState) -> None:
            while s.is_open and s.queue and None in s.serving:
                _, _, v = heapq.heappop(s.queue)
                m = s.serving.index(None)
                s.serving[m] = v
                duration = NO_SHOW_MINUTES if v.no_show else v.handling(s.room.kind)
                outcomes[v.number] = Outcome(s.room.code, self.now, duration,
                                             None if v.no_show else self.now - v.arrival, v.number in fallbacks)
                push(self.now + duration, 0, "end", s.room.code, m)

        while events:
            t, _, _, kind, code, idx = heapq.heappop(events)
            self._account(t)
            if kind == "arrive":
                v = visitors[idx]
                room, fell_back = route(v, self)
                if fell_back:
                    fallbacks.add(v.number)
                s = self.rooms[room]
                key = queue_key(v.arrived_at, priority=v.priority and self.with_priority)
                heapq.heappush(s.queue, (key, v.number, v))
                start(s)
            elif kind == "end":
                s = self.rooms[code]
                done = s.serving[idx]
                assert done is not None
                s.serving[idx] = None
                s.last_end = t
                if not done.no_show:
                    s.recent.append(outcomes[done.number].duration)
                start(s)
            elif kind == "close":
                self.rooms[code].is_open = False
            elif kind == "open":
                self.rooms[code].is_open = True
                start(self.rooms[code])
        return DayResult(outcomes, self.rooms)


# A routing rule: (visitor, hall now) -> (room code, whether the desk had to choose because routing proposed none).
Router = Callable[[Visitor, Hall], tuple[str, bool]]


def fixed_room(v: Visitor, rooms: dict[str, RoomState], table: dict[str, str]) -> str:
    """The fixed table's room; a person in crisis goes to the counselling room; a group too big for the table's room
    goes to the smallest room that handles the category and holds them, else to the biggest room."""
    if v.crisis:
        return next(c for c, s in rooms.items() if s.room.kind == COUNSELLING_KIND)
    code = table[v.category]
    if rooms[code].room.capacity >= v.headcount:
        return code
    fits = sorted((s.room.capacity, s.room.position, c) for c, s in rooms.items()
                  if v.category in s.room.categories and s.room.capacity >= v.headcount)
    if fits:
        return fits[0][2]
    return max(rooms.values(), key=lambda s: (s.room.capacity, -s.room.position)).room.code


def fixed_router(table: dict[str, str]) -> Router:
    def route(v: Visitor, hall: Hall) -> tuple[str, bool]:
        return fixed_room(v, hall.rooms, table), False
    return route


def product_router(*, count_serving: bool = False, per_mediator: bool = False) -> Router:
    """`propose_room` on the hall as it is; when it proposes no room (every room of the category closed, or none
    holds the group) the desk queues the visitor for the fixed table's room, as the baseline does."""
    def route(v: Visitor, hall: Hall) -> tuple[str, bool]:
        loads = [hall.load(c, count_serving=count_serving, per_mediator=per_mediator) for c in hall.rooms]
        p = propose_room(category_code=v.category, headcount=v.headcount, risk_flags=v.risk_flags, rooms=loads)
        if p.room_code is None:
            return fixed_room(v, hall.rooms, FIXED_TABLE), True
        return p.room_code, False
    return route


def frozen_router(assignment: dict[int, str]) -> Router:
    """Every visitor to the room another run sent them to: the queue rule changes, the routes do not."""
    def route(v: Visitor, hall: Hall) -> tuple[str, bool]:
        return assignment[v.number], False
    return route


def first_listed_table(rooms: Sequence[Room]) -> dict[str, str]:
    return {c: next(r.code for r in rooms if c in r.categories) for c in CATEGORY_WEIGHTS}


@dataclass(frozen=True)
class Policy:
    key: str
    label: str
    make: Callable[[Sequence[Room]], Router]
    experiment: bool = False


POLICIES = (
    Policy("fixed", "fixed table (dedicated rooms) — the baseline", lambda rooms: fixed_router(FIXED_TABLE)),
    Policy("first", "fixed table (first room in rooms.json listing the category)",
           lambda rooms: fixed_router(first_listed_table(rooms))),
    Policy("product", "product: propose_room as shipped", lambda rooms: product_router()),
    Policy("serving", "experiment: + the visitor in service counts as ahead",
           lambda rooms: product_router(count_serving=True), experiment=True),
    Policy("mediators", "experiment: + divided by the mediators on duty",
           lambda rooms: product_router(per_mediator=True), experiment=True),
    Policy("both", "experiment: both (in service counted, per mediator)",
           lambda rooms: product_router(count_serving=True, per_mediator=True), experiment=True),
)


# ------------------------------------------------------------------------------------------------------ figures
def pct(values: Sequence[float], q: float) -> float:
    """The q-quantile, linear between order statistics."""
    if not values:
        return float("nan")
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
            return cls(0, float("nan"), float("nan"), float("nan"), float("nan"))
        return cls(len(waits), statistics.fmean(waits), pct(waits, 0.5), pct(waits, 0.9), max(waits))


@dataclass
class PolicyFigures:
    policy: Policy
    all: WaitStats
    priority: WaitStats
    ordinary: WaitStats
    crisis: WaitStats
    no_shows: int
    fallbacks: int
    daily_p90: list[float]
    idle_h: float  # mediator-hours a day
    idle_while_waiting_h: float
    utilisation: float
    overtime_min: float  # mean per day: from 17:30 to the last service's end
    overtime_max: float
    room_utilisation: dict[str, float]
    room_share: dict[str, float]


@dataclass(frozen=True)
class PriorityCheck:
    label: str
    ordinary: int
    longer: int  # ordinary visitors who waited longer with the priority rule than without it
    worst: float
    mean_increase: float  # over those who waited longer
    worst_over_bound: float  # worst (increase - the service of the priority visitors who overtook them)


@dataclass(frozen=True)
class VersusFixed:
    key: str
    ordinary: int
    longer: int
    worst: float
    longer_by_priority: int  # longer than under the fixed table with priority, not longer without it (routes kept)


@dataclass
class Report:
    days: int
    seed: int
    seconds: float
    visitors: int
    priority_share: float
    rooms: list[Room]
    figures: dict[str, PolicyFigures]
    checks: list[PriorityCheck]
    versus: dict[str, VersusFixed]
    goal_days: dict[str, int]  # days on which the policy's p90 is at least 25% below the baseline's


def _figures(policy: Policy, days: list[list[Visitor]], results: list[DayResult], rooms: Sequence[Room]
             ) -> PolicyFigures:
    waits: list[float] = []
    prio: list[float] = []
    ordinary: list[float] = []
    crisis: list[float] = []
    daily: list[float] = []
    no_shows = fallbacks = 0
    idle = idle_ww = busy = open_time = 0.0
    overtime: list[float] = []
    room_busy = dict.fromkeys((r.code for r in rooms), 0.0)
    room_open = dict.fromkeys((r.code for r in rooms), 0.0)
    room_n = dict.fromkeys((r.code for r in rooms), 0)
    for visitors, res in zip(days, results, strict=True):
        day_waits = []
        for v in visitors:
            o = res.outcomes[v.number]
            room_n[o.room] += 1
            fallbacks += o.fallback
            if o.wait is None:
                no_shows += 1
                continue
            waits.append(o.wait)
            day_waits.append(o.wait)
            (prio if v.priority else ordinary).append(o.wait)
            if v.crisis:
                crisis.append(o.wait)
        daily.append(pct(day_waits, 0.9))
        for code, s in res.rooms.items():
            idle += s.idle
            idle_ww += s.idle_while_waiting
            busy += s.busy
            open_time += s.open_time
            room_busy[code] += s.busy
            room_open[code] += s.open_time
        overtime.append(max(0.0, max(s.last_end for s in res.rooms.values()) - DAY_MINUTES))
    n_days = len(days)
    total = sum(room_n.values())
    return PolicyFigures(
        policy=policy, all=WaitStats.of(waits), priority=WaitStats.of(prio), ordinary=WaitStats.of(ordinary),
        crisis=WaitStats.of(crisis), no_shows=no_shows, fallbacks=fallbacks, daily_p90=daily,
        idle_h=idle / 60 / n_days, idle_while_waiting_h=idle_ww / 60 / n_days,
        utilisation=busy / open_time if open_time else float("nan"),
        overtime_min=statistics.fmean(overtime), overtime_max=max(overtime),
        room_utilisation={c: room_busy[c] / room_open[c] if room_open[c] else float("nan") for c in room_busy},
        room_share={c: room_n[c] / total for c in room_n})


def _priority_check(label: str, days: list[list[Visitor]], on: list[DayResult], off: list[DayResult],
                    with_bound: bool) -> PriorityCheck:
    n = longer = 0
    worst = over = -math.inf
    increases: list[float] = []
    for visitors, a, b in zip(days, on, off, strict=True):
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
            if with_bound:
                # The queue rule's promise: the wait grows by at most the service of the priority visitors who
                # arrived after this visitor (within the head start) and were called before them, in their room.
                bound = sum(a.outcomes[p.number].duration for p in visitors
                            if p.priority and p.arrival > v.arrival and a.outcomes[p.number].room == oa.room
                            and a.outcomes[p.number].start < oa.start)
                over = max(over, inc - bound)
    return PriorityCheck(label, n, longer, max(worst, 0.0), statistics.fmean(increases) if increases else 0.0,
                         over if with_bound else float("nan"))


def _versus(key: str, days: list[list[Visitor]], prod: list[DayResult], fixed: list[DayResult],
            prod_off_frozen: list[DayResult] | None) -> VersusFixed:
    n = longer = by_priority = 0
    worst = 0.0
    for i, visitors in enumerate(days):
        for v in visitors:
            op, of = prod[i].outcomes[v.number], fixed[i].outcomes[v.number]
            if v.priority or op.wait is None or of.wait is None:
                continue
            n += 1
            if op.wait > of.wait + EPS:
                longer += 1
                worst = max(worst, op.wait - of.wait)
                if prod_off_frozen is not None:
                    w = prod_off_frozen[i].outcomes[v.number].wait
                    if w is not None and w <= of.wait + EPS:
                        by_priority += 1
    return VersusFixed(key, n, longer, worst, by_priority)


def run(days: int = 30, seed: int = 1, visitors_per_day: float = VISITORS_PER_DAY,
        policies: Iterable[Policy] = POLICIES) -> Report:
    t0 = time.perf_counter()
    rooms = load_rooms()
    all_days = [make_day(seed, d, visitors_per_day) for d in range(days)]
    results: dict[str, list[DayResult]] = {}
    for p in policies:
        results[p.key] = [Hall(rooms, with_priority=True).run(vs, p.make(rooms)) for vs in all_days]
    figures = {p.key: _figures(p, all_days, results[p.key], rooms) for p in policies}

    checks: list[PriorityCheck] = []
    versus: dict[str, VersusFixed] = {}
    for key in ("product", "both"):
        if key not in results:
            continue
        policy = next(p for p in policies if p.key == key)
        frozen = [Hall(rooms, with_priority=False).run(vs, frozen_router(
                      {n: o.room for n, o in res.outcomes.items()})) for vs, res in zip(all_days, results[key],
                                                                                       strict=True)]
        rerouted = [Hall(rooms, with_priority=False).run(vs, policy.make(rooms)) for vs in all_days]
        checks.append(_priority_check(f"{key}: same rooms, priority rule off", all_days, results[key], frozen,
                                      with_bound=True))
        checks.append(_priority_check(f"{key}: same routing rule, priority rule off (rooms chosen again)",
                                      all_days, results[key], rerouted, with_bound=False))
        versus[key] = _versus(key, all_days, results[key], results["fixed"], frozen)
    fixed_frozen = [Hall(rooms, with_priority=False).run(vs, frozen_router(
                        {n: o.room for n, o in res.outcomes.items()})) for vs, res in zip(all_days, results["fixed"],
                                                                                         strict=True)]
    checks.append(_priority_check("baseline: same rooms, priority rule off", all_days, results["fixed"],
                                  fixed_frozen, with_bound=True))
    base = figures["fixed"].daily_p90
    goal_days = {k: sum(p90 <= (1 - GOAL_P90_REDUCTION) * b for p90, b in zip(f.daily_p90, base, strict=True))
                 for k, f in figures.items()}
    n_visitors = sum(len(vs) for vs in all_days)
    share = sum(v.priority for vs in all_days for v in vs) / n_visitors
    return Report(days, seed, time.perf_counter() - t0, n_visitors, share, rooms, figures, checks, versus, goal_days)


# ------------------------------------------------------------------------------------------------------ output
def _m(x: float) -> str:
    return "—" if math.isnan(x) else f"{x:.1f}"


def _reduction(f: PolicyFigures, base: PolicyFigures) -> float:
    return 1 - f.all.p90 / base.all.p90


def render(rep: Report) -> str:
    """The RESULTS.md section, between its markers."""
    base = rep.figures["fixed"]
    prod = rep.figures["product"]
    out: list[str] = [START_MARKER, "## Routing quality (`bench/hall_day.py`)", ""]
    add = out.append
    add(f"Written by `python -m bench.hall_day --days {rep.days} --seed {rep.seed} --write-results` "
        f"({rep.seconds:.1f} s). A discrete-event simulation of {rep.days} seeded days that drives the real "
        "`propose_room`/`handling_minutes` (`desk/core/routing.py`) and the real `queue_key`/`priority_reasons` "
        "(`desk/core/queue.py`) on a simulated clock, and compares the product's routing with a fixed "
        "category → room table on the same visitors (common random numbers). Waits: from taking the ticket to "
        "being called, in minutes; no-shows excluded; pooled over all days.")
    add("")
    add("**Model.** " + _model_text(rep))
    add("")
    add("| routing | served | mean | p50 | p90 | max | p90 vs baseline | days with p90 ≥ 25% below | "
        "priority mean / p90 / max | ordinary mean / p90 / max | crisis mean / max | "
        "idle mediator-h/day | of which a compatible visitor waited elsewhere | utilisation | overtime mean / max |")
    add("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for k, f in rep.figures.items():
        a, p, o = f.all, f.priority, f.ordinary
        add(f"| {f.policy.label} | {a.n:,} | {_m(a.mean)} | {_m(a.p50)} | {_m(a.p90)} | {_m(a.max)} | "
            f"{-_reduction(f, base):+.0%} | {rep.goal_days[k]}/{rep.days} | {_m(p.mean)} / {_m(p.p90)} / {_m(p.max)} | "
            f"{_m(o.mean)} / {_m(o.p90)} / {_m(o.max)} | {_m(f.crisis.mean)} / {_m(f.crisis.max)} | "
            f"{f.idle_h:.1f} | {f.idle_while_waiting_h:.1f} | {f.utilisation:.0%} | "
            f"{f.overtime_min:.0f} / {f.overtime_max:.0f} min |")
    add("")
    add("Share of visitors per room and each room's utilisation (busy mediator-time ÷ open mediator-time, "
        "08:30–17:30):")
    add("")
    add("| routing | " + " | ".join(f"{r.code} {r.name} ({r.mediators})" for r in rep.rooms) + " |")
    add("|---|" + "---|" * len(rep.rooms))
    for f in rep.figures.values():
        add(f"| {f.policy.key} | " + " | ".join(
            f"{f.room_share[r.code]:.0%} · {f.room_utilisation[r.code]:.0%}" for r in rep.rooms) + " |")
    add("")
    add("The priority rule (ordinary visitors only; a \"longer\" wait is one more than 0.000001 min longer):")
    add("")
    add("| comparison | ordinary visitors | waited longer | mean increase of those | worst increase | "
        "worst increase beyond the overtaking priority visitors' service |")
    add("|---|---|---|---|---|---|")
    for c in rep.checks:
        add(f"| {c.label} | {c.ordinary:,} | {c.longer:,} | {_m(c.mean_increase)} | {_m(c.worst)} | "
            f"{_m(c.worst_over_bound)} |")
    add("")
    add("Ordinary visitors who waited longer than under the fixed table (same visitor, same day):")
    add("")
    add("| routing | ordinary visitors | waited longer than under the fixed table | worst difference | "
        "of them, longer only because of the priority rule |")
    add("|---|---|---|---|---|")
    for vf in rep.versus.values():
        add(f"| {rep.figures[vf.key].policy.label} | {vf.ordinary:,} | {vf.longer:,} ({vf.longer / vf.ordinary:.0%})"
            f" | {_m(vf.worst)} | {vf.longer_by_priority} |")
    add("")
    add("\"Only because of the priority rule\": longer than under the fixed table, but not longer with the priority "
        "rule switched off (the same rooms kept).")
    add("")
    reduction = _reduction(prod, base)
    verdict = "MET" if reduction >= GOAL_P90_REDUCTION else "**MISSED**"
    add(f"**Goal: p90 wait at least {GOAL_P90_REDUCTION:.0%} below the fixed table** — product "
        f"{_m(prod.all.p90)} min vs baseline {_m(base.all.p90)} min: {reduction:.0%} lower, {verdict}.")
    add("")
    for line in CONCLUSIONS:
        add(line)
    add(END_MARKER)
    return "\n".join(out)


def _model_text(rep: Report) -> str:
    rooms = ", ".join(f"{r.code} {r.name} ({r.mediators} mediator{'s' if r.mediators > 1 else ''}"
                      f"{', closed 12:00–14:00' if r.lunch_closed else ''})" for r in rep.rooms)
    means = ", ".join(f"{k} {v:g}" for k, v in TRUE_HANDLING_MINUTES.items())
    table = "; ".join(f"{room}: " + ", ".join(c for c, r in FIXED_TABLE.items() if r == room)
                      for room in sorted(set(FIXED_TABLE.values())))
    return (f"Rooms of `resources/catalog/rooms.json` that take cases: {rooms}. A mediator serves one visitor "
            f"(or group) at a time; a closed room finishes the service under way and serves its queue after "
            f"reopening. Arrivals 08:30–17:30, non-homogeneous Poisson (thinning), {VISITORS_PER_DAY:g} expected a "
            f"day with a 09:00–11:00 peak at 2× the afternoon rate and a lunch dip ({rep.visitors:,} visitors in "
            f"{rep.days} days); category mix `synthetic.CATEGORY_WEIGHTS`; headcounts 1/2/3/6/12 at 70/15/8/5/2%. "
            f"Priority by `priority_reasons` (age 70+, disabled, pregnant, high-risk flags): {rep.priority_share:.1%} "
            f"of visitors; the queue orders by `queue_key` ({PRIORITY_HEAD_START.seconds // 60} minutes' head "
            f"start). Handling log-normal (σ of the log {HANDLING_SIGMA}) with true means per kind: {means} min; "
            f"groups of {GROUP_VISIT_HEADCOUNT}+ ×1.5; one complexity draw per visitor used in whichever room serves "
            f"them. Routing sees each room's mean of its last {RECENT_SERVICES} services (`handling_minutes`; the "
            f"product's defaults before the first). No-shows {NO_SHOW_SHARE:.0%}: called and recalled "
            f"{NO_SHOW_AFTER_RECALLS}× ({NO_SHOW_MINUTES:g} min of the room's time), then skipped. After 17:30 "
            f"rooms serve whoever still waits (overtime). Baseline table (dedicated rooms): {table}; a person in "
            f"crisis → 心理咨询室, a group too big for the table's room → the smallest room of the category that "
            f"holds it (12 people: R04). When `propose_room` proposes no room (all rooms of the category at lunch, "
            f"or none holds the group) the desk queues the visitor at the table's room. Experiments feed the real "
            f"`propose_room` a changed `RoomLoad` (waiting + the busy mediators; mean handling ÷ mediators).")


# Filled in from the runs described in the lead's report; kept with the code so --write-results reproduces them.
CONCLUSIONS: list[str] = []


def print_report(rep: Report) -> None:
    base = rep.figures["fixed"]
    print(f"hall_day: {rep.days} days, seed {rep.seed}, {rep.visitors:,} visitors "
          f"({rep.visitors / rep.days:.0f}/day), priority {rep.priority_share:.1%}, {rep.seconds:.1f} s")
    print()
    head = (f"{'routing':<14}{'served':>7}{'mean':>7}{'p50':>7}{'p90':>7}{'max':>7}{'vs base':>9}{'goal days':>10}"
            f"{'prio mean/p90/max':>20}{'ord mean/p90/max':>20}{'idle h/d':>9}{'wasted':>8}{'util':>6}"
            f"{'overtime':>10}")
    print(head)
    print("-" * len(head))
    for k, f in rep.figures.items():
        a, p, o = f.all, f.priority, f.ordinary
        print(f"{k:<14}{a.n:>7}{a.mean:>7.1f}{a.p50:>7.1f}{a.p90:>7.1f}{a.max:>7.1f}"
              f"{-_reduction(f, base):>+9.0%}{rep.goal_days[k]:>7}/{rep.days:<2}"
              f"{p.mean:>8.1f}/{p.p90:>5.1f}/{p.max:>5.1f}{o.mean:>8.1f}/{o.p90:>5.1f}/{o.max:>5.1f}"
              f"{f.idle_h:>9.1f}{f.idle_while_waiting_h:>8.1f}{f.utilisation:>6.0%}{f.overtime_min:>10.0f}")
    print()
    for k, f in rep.figures.items():
        print(f"  {k:<10} {f.policy.label}")
    print()
    print("share of visitors · utilisation per room")
    print(f"{'':<11}" + "".join(f"{r.code + ' ' + r.kind[:4]:>16}" for r in rep.rooms))
    for k, f in rep.figures.items():
        print(f"{k:<11}" + "".join(f"{f'{f.room_share[r.code]:.0%} · {f.room_utilisation[r.code]:.0%}':>16}"
                                   for r in rep.rooms))
    print()
    print("priority rule, ordinary visitors: waited longer / worst increase / worst beyond overtakers' service")
    for c in rep.checks:
        print(f"  {c.label:<66}{c.longer:>5}/{c.ordinary:<5}{c.worst:>8.1f}{_m(c.worst_over_bound):>8}")
    print()
    print("ordinary visitors waiting longer than under the fixed table: count / worst / only because of priority")
    for vf in rep.versus.values():
        print(f"  {vf.key:<10}{vf.longer:>5}/{vf.ordinary:<5} ({vf.longer / vf.ordinary:.0%}){vf.worst:>8.1f}"
              f"{vf.longer_by_priority:>6}")
    red = _reduction(rep.figures["product"], base)
    print()
    print(f"goal p90 ≥ {GOAL_P90_REDUCTION:.0%} below the fixed table: product {red:.0%} -> "
          f"{'MET' if red >= GOAL_P90_REDUCTION else 'MISSED'}")


def write_section(section: str, path: Path = RESULTS) -> None:
    """Put the section into RESULTS.md between its markers, replacing an earlier one; else append it."""
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmark results\n"
    pattern = re.compile(re.escape(START_MARKER) + r".*?" + re.escape(END_MARKER), re.S)
    if pattern.search(text):
        text = pattern.sub(lambda _: section, text, count=1)
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    path.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.hall_day", description=__doc__.splitlines()[0])
    p.add_argument("--days", type=int, default=30)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--visitors", type=float, default=VISITORS_PER_DAY, help="expected visitors a day")
    p.add_argument("--write-results", action="store_true", help="(re)write this section of RESULTS.md")
    p.add_argument("--output", type=Path, default=RESULTS, help="the RESULTS.md to write into")
    args = p.parse_args(argv)
    rep = run(days=args.days, seed=args.seed, visitors_per_day=args.visitors)
    print_report(rep)
    if args.write_results:
        write_section(render(rep), args.output)
        print(f"wrote the hall_day section of {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
