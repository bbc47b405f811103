"""County sync benchmark: pushing a hall's events to the county, the idle round, memory while pushing.

`python -m bench.bench_sync [--events 100000] [--big 1000000] [--idle 60] [--quick] [--write-results]`

The hall: a SQLite store (bench/data/sync-hall-{N}.db, git-ignored, reused while complete) holding N events of
real hall days: the `registered` and `repeat_visit` events of `bench.generate.CaseFactory` (parties with ID
numbers, phones, organisations) and, for each case, what the hall does next with the payloads
`QueueService` writes -- `routed` + `ticket_issued` at the desk, then `called` (sometimes `recalled`, a few
`no_show`), `claimed`, `service_finished`; some `abandoned`, some `transferred` to another room (new ticket,
called, claimed, finished there); ticket numbers per room and day. Events carry the local hall's code with
`hall_seq` 1..N in the order they happened and `halls.last_seq` = N; the payload key order and stored formats
are checked against events written by the real services (`RegistrationService`, `QueueService`). Only the log is
written (plus the counters): a push reads nothing else of the hall.

The county: a fresh PostgreSQL database per measurement (`desk_bench_sync_*`, `init_county`), dropped after.
1. Push: `Syncer(hall, county_url).run_once()` (default batch) in a fresh process, timed from call to return.
   Baseline: a bare `COPY case_events (...) FROM STDIN` of the same rows (the payload's JSON text as the hall
   stores it, naive UTC timestamps, a county seq) into the empty `case_events` of a fresh county schema, one
   transaction, psycopg `cursor.copy`, rows prepared in memory beforehand; median of 3. Budget: within 3x.
   For comparison, a second baseline COPYs in the same transaction every other row the push wrote (cases,
   parties, tickets, case_holders, read back from its county).
   Where the time goes: the engine's steps timed in place (wall clock, by wrapping them), and a cProfile run.
2. Idle round: the same `Syncer` (connections warm) runs `run_once()` again and again with nothing to do;
   after a small push (1,000 events), after the 100,000 push and after the 1,000,000 push. Budget: <= 50 ms,
   judged on p95; a few more rounds with their steps timed say where an idle round's time goes.
3. Memory: pushing 1,000,000 events in one `run_once()`, VmRSS of the process after every batch.
Hall stores over 200 MiB (the 1,000,000-event one, ~620 MB, ~2 min to generate) are deleted after the run
unless `--keep`. About 6 minutes in all (3.5 with the stores there); `--quick` about 30 s.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import datetime as dt
import functools
import heapq
import itertools
import json
import math
import os
import platform
import pstats
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from bench import common
from bench.common import (
    Timing,
    data_dir,
    pg_available,
    pg_create_database,
    pg_name,
    pg_url,
    psycopg_conninfo,
    sqlite_url,
)
from bench.generate import EPOCH, CaseFactory, _shape, db_time, iso_utc
from desk.core import queue as q
from desk.core.clock import CHINA_TZ
from desk.core.permissions import operator as staff
from desk.store.events import EVENT_COLUMNS

START_MARKER = "<!-- bench_sync:start -->"
END_MARKER = "<!-- bench_sync:end -->"
RESULTS = Path(__file__).with_name("RESULTS.md")
COPY_RATIO_BUDGET = 3.0
IDLE_BUDGET_MS = 50.0
DB_PREFIX = "desk_bench_sync_"
COUNTY_CODE, COUNTY_NAME = "620702", "甘州区综治中心"
SEED = 20261127
S = 1_000_000  # microseconds per second

# --- the hall's days: events as the services write them --------------------------------------------------


def _uuid7(rng: random.Random, ms: int) -> str:
    """A UUIDv7 string (the layout of desk.core.ids.uuid7) from a seeded generator."""
    rand = rng.getrandbits(74)
    value = (
        (ms & 0xFFFF_FFFF_FFFF) << 80 | 0x7 << 76 | (rand >> 62) << 64 | 0b10 << 62 | (rand & ((1 << 62) - 1))
    )
    h = f"{value:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _local_date(us: int) -> dt.date:
    return (EPOCH + dt.timedelta(microseconds=us)).replace(tzinfo=dt.UTC).astimezone(CHINA_TZ).date()


@dataclass(frozen=True)
class Layout:
    """The default hall layout (resources/catalog): which room takes a category, prefixes, who mediates."""

    prefix: dict[str, str]
    route: dict[
        str, str
    ]  # category -> the room routing proposes (its primary room, else the first that takes it)
    others: dict[str, list[str]]  # category -> the other rooms that take it (overrides, transfers)
    mediators: dict[str, list[str]]

    @staticmethod
    def load() -> Layout:
        from desk.services.setup import _load

        rooms = [r for r in _load("rooms.json")["rooms"] if r.get("categories")]
        route: dict[str, str] = {}
        others: dict[str, list[str]] = {}
        for r in rooms:
            for c in r.get("primary", []):
                route.setdefault(c, r["code"])
        for r in rooms:
            for c in r["categories"]:
                route.setdefault(c, r["code"])
        for c, room in route.items():
            others[c] = [r["code"] for r in rooms if c in r["categories"] and r["code"] != room]
        mediators: dict[str, list[str]] = {r["code"]: [] for r in rooms}
        for m in _load("mediators.json")["mediators"]:
            for place in m.get("rooms", []):
                if place["room"] in mediators:
                    mediators[place["room"]].append(m["name"])
        for code, names in mediators.items():
            if not names:
                names.append(f"{code}调解员")
        return Layout({r["code"]: r["prefix"] for r in rooms}, route, others, mediators)


ROUTE_REASONS = [
    "预计等候{m}分钟，与其他可选功能室相同；此室是该类纠纷的专门调解室",
    "预计等候{m}分钟，为可选功能室中最短；此室是该类纠纷的专门调解室",
    "预计等候{m}分钟；此室可受理该类纠纷且容纳来访人数",
]
OVERRIDE_REASONS = ["来访人要求由熟悉的调解员接待", "专门调解室排队过长", "当事人一方已在该室等候"]
TRANSFER_REASONS = [
    "需法律顾问参与",
    "涉及劳动关系，转劳动争议调解室",
    "需心理疏导后再调解",
    "当事人要求更换调解员",
]
WAIT_MEAN_S = 20 * 60
SERVICE_MEDIAN_S = 30 * 60


class HallDays:
    """A hall's event log, `n_events` events in the order they happened, as rows of EVENT_COLUMNS (the text
    SQLite holds). Registrations (and repeat visits) come from `CaseFactory`; each registration's queue events
    are scheduled when it is made and come out of a heap when their time is due, so the log interleaves as a
    real day does."""

    def __init__(
        self, n_events: int, *, seed: int, hall_code: str, deadline_days: dict[str, int], layout: Layout
    ) -> None:
        self.n_events = n_events
        # ~5.7 events a case (see `_schedule`); a margin so the factory never runs dry before n_events.
        self.factory = CaseFactory(
            cases=max(50, int(n_events / 5.0) + 50),
            seed=seed,
            hall_code=hall_code,
            deadline_days=deadline_days,
        )
        self.rng = random.Random(seed + 1)
        self.hall_code = hall_code
        self.layout = layout
        self.hall_seq = 0
        self.last_hlc = 0
        self.kinds: Counter[str] = Counter()
        self.case_counters: dict[int, int] = {}
        self.ticket_counters: dict[tuple[str, str], int] = {}
        self.first_at = self.last_at = ""
        # (occurred_at text, tie, us, kind, case_id, actor, payload); db_time text sorts as the time does
        self._pending: list[tuple[str, int, int, str, str, str, dict[str, Any]]] = []
        self._tie = itertools.count()

    # --- what happens after a registration ----------------------------------------------------------------

    def _later(self, us: int, kind: str, case_id: str, actor: str, payload: dict[str, Any]) -> None:
        heapq.heappush(self._pending, (db_time(us), next(self._tie), us, kind, case_id, actor, payload))

    def _schedule(self, case_id: str, reg_us: int, payload: dict[str, Any], desk: str) -> None:
        rng = self.rng
        if payload["channel"] != "walk_in" and rng.random() < 0.4:
            return  # referred by the hotline, the grid, the police...: handled without a queue ticket
        category = payload["category"]
        proposed = self.layout.route[category]
        others = self.layout.others[category]
        overridden = bool(others) and rng.random() < 0.05
        room = rng.choice(others) if overridden else proposed
        t = reg_us + rng.randrange(60, 240) * S
        self._later(
            t,
            "routed",
            case_id,
            desk,
            {
                "room": room,
                "proposed": proposed,
                "reason": rng.choice(ROUTE_REASONS).format(m=rng.randrange(0, 40)),
                "overridden": overridden,
                "override_reason": rng.choice(OVERRIDE_REASONS) if overridden else "",
            },
        )
        birth = payload["parties"][0]["birth_date"]
        reasons = [
            r.value
            for r in q.priority_reasons(
                birth_date=dt.date.fromisoformat(birth) if birth else None,
                today=_local_date(t),
                risk_flags=payload["risk_flags"],
            )
        ]
        ticket_id = _uuid7(rng, t // 1000)
        key_us = t - 15 * 60 * S if reasons else t
        ticket = {
            "ticket_id": ticket_id,
            "room": room,
            "day": None,
            "number": None,
            "label": None,
            "priority_reasons": reasons,
            "arrival_at": iso_utc(t),
            "queue_key": iso_utc(key_us),
        }
        self._later(t, "ticket_issued", case_id, desk, ticket)
        self._visit(case_id, ticket, t, category, transfers=1)

    def _visit(self, case_id: str, ticket: dict[str, Any], t: int, category: str, *, transfers: int) -> None:
        """A ticket's way through its room: wait, call (recalls, no-show), claim, service; or a transfer."""
        rng = self.rng
        tid, room = ticket["ticket_id"], ticket["room"]
        t += int(min(rng.expovariate(1 / WAIT_MEAN_S), 3 * 3600) * S)
        mediator = rng.choice(self.layout.mediators[room])
        if rng.random() < 0.02:
            self._later(t, "abandoned", case_id, mediator, {"ticket_id": tid})
            return
        terminal = f"{room}-{rng.randrange(1, 3)}"
        self._later(t, "called", case_id, mediator, {"terminal": terminal, "ticket_id": tid})
        if rng.random() < 0.12:
            recalls = 2 if rng.random() < 0.4 else 1
            for i in range(1, recalls + 1):
                t += rng.randrange(60, 120) * S
                self._later(
                    t, "recalled", case_id, mediator, {"terminal": terminal, "recall": i, "ticket_id": tid}
                )
            if recalls == 2 and rng.random() < 0.5:
                t += 60 * S
                self._later(t, "no_show", case_id, mediator, {"ticket_id": tid})
                return
        t += rng.randrange(20, 120) * S
        self._later(t, "claimed", case_id, mediator, {"terminal": terminal, "ticket_id": tid})
        service = int(min(rng.lognormvariate(math.log(SERVICE_MEDIAN_S), 0.6), 4 * 3600) * S)
        others = [r for r in self.layout.others[category] if r != room]
        if transfers and others and rng.random() < 0.04:
            t += service // 2
            new = {
                "ticket_id": _uuid7(rng, t // 1000),
                "room": rng.choice(others),
                "day": None,
                "number": None,
                "label": None,
                "priority_reasons": ticket["priority_reasons"],
                "arrival_at": ticket["arrival_at"],
                "queue_key": ticket["queue_key"],
                "from_ticket_id": tid,
                "from_room": room,
                "reason": rng.choice(TRANSFER_REASONS),
            }
            self._later(t, "transferred", case_id, mediator, new)
            self._visit(case_id, new, t, category, transfers=transfers - 1)
            return
        self._later(t + service, "service_finished", case_id, mediator, {"ticket_id": tid})

    # --- the log --------------------------------------------------------------------------------------------

    def _row(self, ev: dict[str, Any]) -> tuple[Any, ...]:
        self.hall_seq += 1
        self.kinds[ev["kind"]] += 1
        self.first_at = self.first_at or ev["occurred_at"]
        self.last_at = ev["occurred_at"]
        return (
            ev["id"],
            self.hall_code,
            self.hall_seq,
            ev["case_id"],
            ev["kind"],
            ev["payload"],
            ev["occurred_at"],
            ev["actor"],
            1,
            None,
            self._stamp(ev.get("hlc")),
        )

    def _stamp(self, wall: int | None) -> int:
        """The event's HLC stamp (desk.core.hlc): its wall clock, or one past the previous stamp."""
        if wall is None:
            wall = (
                int(dt.datetime.fromisoformat(str(self.last_at)).replace(tzinfo=dt.UTC).timestamp() * 1000)
                << 16
            )
        self.last_hlc = max(wall, self.last_hlc + 1)
        return self.last_hlc

    def _due(self) -> tuple[Any, ...]:
        at, _, us, kind, case_id, actor, payload = heapq.heappop(self._pending)
        if kind in ("ticket_issued", "transferred"):  # the number is taken when the ticket is printed
            day = _local_date(us)
            prefix = self.layout.prefix[payload["room"]]
            n = self.ticket_counters[(day.isoformat(), prefix)] = (
                self.ticket_counters.get((day.isoformat(), prefix), 0) + 1
            )
            payload.update(day=day.isoformat(), number=n, label=q.ticket_label(prefix, n))
        ev = {
            "id": _uuid7(self.rng, us // 1000),
            "case_id": case_id,
            "kind": kind,
            "payload": json.dumps(payload),
            "occurred_at": at,
            "actor": actor,
            "hlc": (us // 1000) << 16,
        }
        return self._row(ev)

    def batches(self, size: int = 20_000) -> Iterator[list[tuple[Any, ...]]]:
        out: list[tuple[Any, ...]] = []
        n = self.n_events
        for fb in self.factory.batches(size=2000):
            for ev in fb.events:
                while self._pending and self._pending[0][0] <= ev["occurred_at"] and self.hall_seq < n:
                    out.append(self._due())
                if self.hall_seq >= n:
                    yield out
                    return
                out.append(self._row(ev))
                if ev["kind"] == "registered":
                    payload = json.loads(ev["payload"])
                    _, year, number = payload["case_no"].rsplit("-", 2)
                    self.case_counters[int(year)] = int(number)
                    reg_us = (dt.datetime.fromisoformat(ev["occurred_at"]) - EPOCH) // dt.timedelta(
                        microseconds=1
                    )
                    self._schedule(ev["case_id"], reg_us, payload, ev["actor"])
                if len(out) >= size:
                    yield out
                    out = []
        while self._pending and self.hall_seq < n:
            out.append(self._due())
        if self.hall_seq < n:
            raise RuntimeError(f"the factory ran dry at {self.hall_seq:,} of {n:,} events")
        yield out


@dataclass
class HallStore:
    path: str
    events: int
    cases: int
    kinds: dict[str, int]
    first_at: str
    last_at: str
    seconds: float
    generated_at: str

    @property
    def url(self) -> str:
        return sqlite_url(Path(self.path))


def _stats_file(path: Path) -> Path:
    return path.with_name(path.name + ".json")


def _reusable(path: Path, events: int) -> HallStore | None:
    try:
        stats = HallStore(**json.loads(_stats_file(path).read_text(encoding="utf-8")))
        with contextlib.closing(sqlite3.connect(path)) as con:
            last = con.execute("SELECT last_seq FROM halls WHERE is_local").fetchone()
            n = con.execute("SELECT count(*) FROM case_events").fetchone()
        if stats.events == events and last == (events,) and n == (events,):
            return stats
    except (OSError, ValueError, TypeError, sqlite3.Error):
        pass
    return None


def reset_hall(path: Path) -> None:
    """Make the hall store never synced again (the pushes of an earlier run recorded their cursor)."""
    with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as con:
        con.execute("DELETE FROM sync_state")


def make_hall_store(
    path: Path, events: int, *, seed: int = SEED, reuse: bool = True, quiet: bool = False
) -> tuple[HallStore, bool]:
    """A hall store of `events` events at `path`; (its figures, whether an earlier one was reused)."""
    if reuse and (got := _reusable(path, events)) is not None:
        reset_hall(path)
        return got, True
    from desk.services.setup import init_hall
    from desk.store.session import open_store

    started = time.perf_counter()
    for suffix in ("", "-wal", "-shm", ".json"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    store = open_store(sqlite_url(path))
    try:
        hall = init_hall(store)
        with store.engine.connect() as c:
            deadlines = {
                str(code): str(cls)
                for code, cls in c.execute(
                    sa.text("SELECT code, deadline_class FROM categories WHERE active")
                )
            }
    finally:
        store.dispose()
    from desk.core.catalog import DEADLINE_DAYS

    deadline_days = {code: DEADLINE_DAYS[cls] for code, cls in deadlines.items()}
    days = HallDays(
        events, seed=seed, hall_code=hall.hall_code, deadline_days=deadline_days, layout=Layout.load()
    )
    if not quiet:
        print(f"  generating a hall store of {events:,} events: {path}", flush=True)
    with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as con:
        con.execute("PRAGMA journal_mode=WAL")
        con.execute("PRAGMA synchronous=OFF")  # generation only: the app's connections use FULL
        con.execute("PRAGMA cache_size=-500000")
        indexes = con.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
            "AND tbl_name = 'case_events'"
        ).fetchall()
        con.execute("BEGIN")
        for name, _ in indexes:
            con.execute(f'DROP INDEX "{name}"')
        insert = f"INSERT INTO case_events ({', '.join(EVENT_COLUMNS)}) VALUES ({', '.join('?' * len(EVENT_COLUMNS))})"
        for rows in days.batches():
            con.executemany(insert, rows)
            if not quiet and days.hall_seq % 200_000 < len(rows):
                print(f"    {days.hall_seq:>9,} events  {time.perf_counter() - started:6.1f} s", flush=True)
        for _, sql in indexes:
            con.execute(sql)
        con.execute(
            "UPDATE halls SET last_seq = ?, last_hlc = ? WHERE code = ?",
            (days.hall_seq, days.last_hlc, hall.hall_code),
        )
        con.executemany(
            "INSERT INTO counters (hall_code, name, value) VALUES (?, ?, ?) "
            "ON CONFLICT (hall_code, name) DO UPDATE SET value = excluded.value",
            [(hall.hall_code, f"case:{y}", n) for y, n in sorted(days.case_counters.items())]
            + [(hall.hall_code, f"ticket:{d}:{p}", n) for (d, p), n in sorted(days.ticket_counters.items())],
        )
        con.execute("COMMIT")
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    stats = HallStore(
        str(path),
        days.hall_seq,
        days.kinds["registered"],
        dict(days.kinds.most_common()),
        days.first_at,
        days.last_at,
        time.perf_counter() - started,
        dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    )
    _stats_file(path).write_text(json.dumps(asdict(stats), ensure_ascii=False, indent=2), encoding="utf-8")
    return stats, False


def remove_hall_store(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", ".json"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


# --- the generated events against the real services' ------------------------------------------------------


@dataclass
class ShapeCheck:
    kinds: list[str]
    differing: list[str]  # kinds whose payload keys or stored formats differ from the real services'
    missing: list[str]  # kinds the real services wrote that the generated store lacks

    @property
    def ok(self) -> bool:
        return not self.differing and not self.missing


def _kind_shapes(path: Path) -> dict[str, Any]:
    """The first event of each kind: its payload structure and the stored formats of its columns."""
    out: dict[str, Any] = {}
    with contextlib.closing(sqlite3.connect(path)) as con:
        for kind, payload, occurred, hall_seq, sv, seq in con.execute(
            "SELECT kind, payload, occurred_at, hall_seq, schema_version, seq FROM case_events "
            "WHERE hall_seq IN (SELECT min(hall_seq) FROM case_events GROUP BY kind)"
        ):
            out[kind] = (
                _shape(json.loads(payload)),
                f"{type(occurred).__name__}:{len(occurred)}",
                type(hall_seq).__name__,
                sv,
                seq,
            )
    return out


def check_shapes(generated: Path) -> ShapeCheck:
    """Drive the real services through every step the generator writes and compare the stored events."""
    from desk.core import synthetic
    from desk.core.clock import FixedClock
    from desk.services.queue import QueueService
    from desk.services.registration import RegistrationService
    from desk.services.setup import init_hall
    from desk.store.session import open_store

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "real.db"
        store = open_store(sqlite_url(path))
        try:
            init_hall(store)
            clock = FixedClock(dt.datetime(2026, 11, 26, 2, 0, tzinfo=dt.UTC))  # 10:00 in the hall
            reg = RegistrationService(store, clock, principal=staff("前台"))
            names = {c.code: c.name for c in reg.categories()}
            queue = QueueService(store, clock, principal=staff("刘秀英", "R01-1"))
            rng = random.Random(1)
            cases = []
            for _ in range(3):
                visit = synthetic.make_visit(rng, categories=names)
                visit["category"] = "neighbour"  # R01 and R06 both take it
                cases.append(reg.register(visit, new_case=True).case_no)
            first = queue.issue_ticket(cases[0], room_code="R06", override_reason="来访人要求").ticket
            queue.call_next("R06", take_over=False)
            queue.recall(first.id)
            queue.claim(first.id)
            moved = queue.transfer(first.id, to_room="R01", reason="需法律顾问参与")
            queue.call_next("R01", take_over=False)
            queue.claim(moved.id)
            queue.finish(moved.id)
            second = queue.issue_ticket(cases[1]).ticket
            queue.call_next(second.room_code, take_over=False)
            queue.recall(second.id)
            queue.recall(second.id)
            queue.no_show(second.id)
            third = queue.issue_ticket(cases[2]).ticket
            queue.abandon(third.id)
        finally:
            store.dispose()
        real = _kind_shapes(path)
    mine = _kind_shapes(generated)
    return ShapeCheck(
        sorted(real),
        sorted(k for k in real if k in mine and mine[k] != real[k]),
        sorted(k for k in real if k not in mine),
    )


# --- PostgreSQL: the county databases ---------------------------------------------------------------------


def county_db(tag: str) -> str:
    """The name of the county database `desk_bench_sync_{tag}` (a smoke run's own: `common.pg_name`)."""
    return pg_name(DB_PREFIX + tag)


def fresh_county(tag: str) -> str:
    """A new county store on a fresh database `county_db(tag)`; its URL."""
    from desk.services.county import init_county
    from desk.store.session import open_store

    url = pg_url(county_db(tag))
    pg_create_database(url, replace=True)
    store = open_store(url)
    try:
        init_county(store, code=COUNTY_CODE, name=COUNTY_NAME)
    finally:
        store.dispose()
    return url


def drop_databases(names: list[str]) -> None:
    eng = sa.create_engine(pg_url("postgres"), isolation_level="AUTOCOMMIT")
    try:
        with eng.connect() as c:
            for name in names:
                assert name.startswith(DB_PREFIX)
                c.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        eng.dispose()


def county_counts(url: str) -> dict[str, int]:
    eng = sa.create_engine(url)
    try:
        with eng.connect() as c:
            return {
                t: int(c.exec_driver_sql(f"SELECT count(*) FROM {t}").scalar() or 0)
                for t in ("case_events", "cases", "parties", "tickets", "case_holders", "county_outbox")
            }
    finally:
        eng.dispose()


# --- the baseline: a bare COPY of the same rows ----------------------------------------------------------


@dataclass
class CopyResult:
    rows: int
    seconds: list[float]  # each repetition, COPY + COMMIT
    prepare_s: float  # reading the hall's rows (sqlite3) and making the values the engine sends
    json_s: float  # json.loads of the payloads (not part of the baseline: what decoding them costs)
    all_rows: dict[str, int] = field(default_factory=dict)  # every table the push writes -> rows
    all_seconds: list[float] = field(default_factory=list)  # COPY of all of them + COMMIT, each repetition

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def all_median(self) -> float:
        return statistics.median(self.all_seconds) if self.all_seconds else math.nan


def copy_rows(path: Path) -> tuple[list[tuple[Any, ...]], float, float]:
    """The hall's events as they are stored (the payload's JSON text as it is, the engine sends it so), the time
    as a naive UTC datetime, county seq 1..N."""
    t0 = time.perf_counter()
    json_ns = 0
    rows: list[tuple[Any, ...]] = []
    with contextlib.closing(sqlite3.connect(path)) as con:
        cur = con.execute(f"SELECT {', '.join(EVENT_COLUMNS)} FROM case_events ORDER BY hall_seq")
        for i, (eid, hall, hall_seq, case_id, kind, payload, occurred, actor, sv, _seq, hlc) in enumerate(
            cur, 1
        ):
            j0 = time.perf_counter_ns()
            json.loads(payload)  # not needed by the COPY: timed to show what decoding for the fold costs
            json_ns += time.perf_counter_ns() - j0
            rows.append(
                (
                    eid,
                    hall,
                    hall_seq,
                    case_id,
                    kind,
                    payload,
                    dt.datetime.fromisoformat(occurred),
                    actor,
                    sv,
                    i,
                    hlc,
                )
            )
    return rows, time.perf_counter() - t0, json_ns / 1e9


# What a push writes besides the events, in an order the foreign keys accept.
PUSH_TABLES = (
    "cases",
    "parties",
    "tickets",
    "whistles",
    "warnings",
    "bookings",
    "case_holders",
    "county_outbox",
)


def dump_tables(url: str) -> dict[str, bytes]:
    """The rows a push wrote into the county's other tables, as COPY text (to load them again as a baseline)."""
    import psycopg

    out = {}
    with psycopg.connect(psycopg_conninfo(url)) as con, con.cursor() as cur:
        for table in PUSH_TABLES:
            buf = bytearray()
            with cur.copy(f"COPY {table} TO STDOUT") as cp:
                for chunk in cp:
                    buf += chunk
            out[table] = bytes(buf)
    return out


def bare_copy(
    url: str, rows: list[tuple[Any, ...]], others: dict[str, bytes] | None = None, repeat: int = 3
) -> list[float]:
    """COPY + COMMIT of the events (and, given `others`, of the other tables' rows too) into empty tables;
    the time of each repetition."""
    import psycopg

    times = []
    with psycopg.connect(psycopg_conninfo(url)) as con:
        for _ in range(repeat):
            con.execute(f"TRUNCATE case_events, {', '.join(PUSH_TABLES)}")
            con.commit()
            t0 = time.perf_counter()
            with con.cursor() as cur:
                with cur.copy(f"COPY case_events ({', '.join(EVENT_COLUMNS)}) FROM STDIN") as cp:
                    for row in rows:
                        cp.write_row(row)
                for table, data in (others or {}).items():
                    with cur.copy(f"COPY {table} FROM STDIN") as cp:
                        cp.write(data)
            con.commit()
            times.append(time.perf_counter() - t0)
    return times


# --- the worker: one Syncer in a fresh process ------------------------------------------------------------


def _rss_kib() -> tuple[int, int]:
    """(VmRSS, VmHWM) of this process in KiB."""
    got = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            got[key] = int(value.split()[0])
    return got.get("VmRSS", 0), got.get("VmHWM", 0)


class Stopwatch:
    """Wall time spent in wrapped functions, by label (nested labels each count their own whole time)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.calls: dict[str, int] = {}
        self._undo: list[Callable[[], None]] = []
        self._lock = threading.Lock()

    def wrap(self, owner: Any, name: str, label: str, *, other_thread: str | None = None) -> None:
        """Time `owner.name` under `label` (under `other_thread` when it runs on a thread other than the main
        one); a name the code no longer has is skipped (the engine may change)."""
        original = getattr(owner, name, None)
        if original is None:
            return

        @functools.wraps(original)
        def timed(*args: Any, **kwargs: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                key = label
                if other_thread is not None and threading.current_thread() is not threading.main_thread():
                    key = other_thread
                with self._lock:
                    self.seconds[key] = self.seconds.get(key, 0.0) + time.perf_counter() - t0
                    self.calls[key] = self.calls.get(key, 0) + 1

        setattr(owner, name, timed)
        self._undo.append(lambda: setattr(owner, name, original))

    def restore(self) -> None:
        while self._undo:
            self._undo.pop()()


READ_MAIN = "hall: read a batch (SQLite, JSON decode, Event)"
READ_AHEAD = "hall: read the next batch on the reader thread (overlaps the county's work)"


def _instrument(watch: Stopwatch, syncer: Any) -> None:
    from desk.core import fold
    from desk.store import county, projections
    from desk.sync import engine

    watch.wrap(engine.Syncer, "_unpushed", READ_MAIN, other_thread=READ_AHEAD)
    watch.wrap(engine.Syncer, "_set_pushed", "hall: record the acknowledgment (SQLite commit)")
    watch.wrap(engine.Syncer, "_pull", "pull (nothing to pull)")
    watch.wrap(engine.Syncer, "_reference", "reference data")
    watch.wrap(engine.Syncer, "_record", "hall: record the round (SQLite commit)")
    watch.wrap(engine, "check_schema", "county: schema check")
    watch.wrap(county, "receive_push", "county: receive_push")
    watch.wrap(county, "lock_cases", "  lock the touched cases")
    watch.wrap(projections, "load_events", "  load the touched cases' earlier events")
    watch.wrap(county, "take_seq_lock", "  seq lock")
    watch.wrap(county, "_next_seqs", "  county seqs (nextval)")
    watch.wrap(county, "_copy_events", "  COPY into case_events")
    watch.wrap(projections, "ingest", "  projections: ingest")
    watch.wrap(fold, "fold", "    fold (Python)")
    watch.wrap(projections, "replace_projections", "    write cases, parties, tickets")
    watch.wrap(county, "publish", "  outbox + case_holders")
    dialect = syncer.county.engine.dialect
    watch.wrap(dialect, "do_commit", "county: COMMIT")


IDLE_STEPS = {  # label -> what it covers (rows of the idle-round table, in this order)
    "round": "run_once",
    "hall identity": "Syncer._hall: a SQLite read",
    "push handshake": "Syncer._push: county transaction (schema check, register_hall FOR UPDATE, last_push_at), "
    "hall last_seq read, _set_pushed",
    "  schema check": "check_schema",
    "  receive_push([])": "receive_push with no events",
    "  _set_pushed": "a SQLite write transaction, even when nothing changes",
    "audit": "Syncer._push_audit: the hall's newest audit entry number (a SQLite read); the county is asked only "
    "when it moved",
    "pull": "Syncer._pull: hall cursor read + county outbox read",
    "reference": "Syncer._reference: county reference_version + hall sync_state read",
    "record": "Syncer._record: a SQLite write (last_attempt_at, last_success_at), durable commit",
    "PostgreSQL pre-ping": "pool_pre_ping at each county checkout",
    "PostgreSQL COMMIT": "county commits",
    "SQLite COMMIT": "hall commits (reads and writes)",
}


def _instrument_idle(watch: Stopwatch, syncer: Any, local: Any) -> None:
    from desk.store import county
    from desk.sync import engine

    watch.wrap(engine.Syncer, "run_once", "round")
    watch.wrap(engine.Syncer, "_hall", "hall identity")
    watch.wrap(engine.Syncer, "_push", "push handshake")
    watch.wrap(engine, "check_schema", "  schema check")
    watch.wrap(county, "receive_push", "  receive_push([])")
    watch.wrap(engine.Syncer, "_set_pushed", "  _set_pushed")
    watch.wrap(engine.Syncer, "_push_audit", "audit")
    watch.wrap(engine.Syncer, "_pull", "pull")
    watch.wrap(engine.Syncer, "_reference", "reference")
    watch.wrap(engine.Syncer, "_record", "record")
    watch.wrap(syncer.county.engine.dialect, "do_ping", "PostgreSQL pre-ping")
    watch.wrap(syncer.county.engine.dialect, "do_commit", "PostgreSQL COMMIT")
    watch.wrap(local.engine.dialect, "do_commit", "SQLite COMMIT")


@dataclass
class WorkerResult:
    events: int  # pushed in the first round
    push_s: float
    batches: int
    rss_start_kib: int
    rss: list[tuple[int, int, float]] = field(default_factory=list)  # (acked hall_seq, VmRSS KiB, seconds)
    peak_kib: int = 0
    idle_ms: list[float] = field(default_factory=list)
    breakdown: dict[str, float] = field(default_factory=dict)
    calls: dict[str, int] = field(default_factory=dict)
    profile: str | None = None
    load: list[float] = field(
        default_factory=list
    )  # 1-minute load average before the push, after, after idle
    idle_steps: dict[str, float] = field(default_factory=dict)  # ms per idle round, by step (extra rounds)
    idle_calls: dict[str, float] = field(default_factory=dict)  # calls per idle round, by step


def worker(
    hall_path: Path, county_url: str, *, idle: int, breakdown: bool, profile: Path | None
) -> WorkerResult:
    from desk.store.session import open_store
    from desk.sync import engine

    local = open_store(sqlite_url(hall_path))
    syncer = engine.Syncer(local, county_url)
    watch = Stopwatch()
    rss_start = _rss_kib()[0]
    samples: list[tuple[int, int, float]] = []
    t0 = 0.0
    original_set_pushed = engine.Syncer._set_pushed

    def sampled(self: Any, acked: int) -> None:
        original_set_pushed(self, acked)
        samples.append((acked, _rss_kib()[0], time.perf_counter() - t0))

    engine.Syncer._set_pushed = sampled  # type: ignore[method-assign]
    if breakdown:
        _instrument(watch, syncer)
    prof = cProfile.Profile() if profile else None
    load = [os.getloadavg()[0]]
    t0 = time.perf_counter()
    if prof is not None:
        prof.enable()
    report = syncer.run_once()
    push_s = time.perf_counter() - t0
    if prof is not None:
        prof.disable()
        prof.dump_stats(str(profile))
    watch.restore()
    engine.Syncer._set_pushed = original_set_pushed  # type: ignore[method-assign]
    res = WorkerResult(
        report.pushed,
        push_s,
        max(0, len(samples) - 1),
        rss_start,
        samples,
        _rss_kib()[1],
        breakdown=dict(watch.seconds),
        calls=dict(watch.calls),
        profile=str(profile) if profile else None,
    )
    load.append(os.getloadavg()[0])
    for i in range(idle + 5):  # 5 warm-up rounds
        t1 = time.perf_counter_ns()
        r = syncer.run_once()
        took = (time.perf_counter_ns() - t1) / 1e6
        if r.pushed or r.pulled or r.reference_updated or r.audited:
            raise RuntimeError(f"an idle round did work: {r}")
        if i >= 5:
            res.idle_ms.append(took)
    res.load = [*load, os.getloadavg()[0]]
    if idle:  # more rounds with the steps timed (not among the rounds measured above)
        steps = Stopwatch()
        _instrument_idle(steps, syncer, local)
        n = max(10, idle // 3)
        for _ in range(n):
            syncer.run_once()
        steps.restore()
        res.idle_steps = {k: v * 1000 / n for k, v in steps.seconds.items()}
        res.idle_calls = {k: v / n for k, v in steps.calls.items()}
    syncer.close()
    local.dispose()
    return res


def run_worker(
    hall_path: Path, county_url: str, *, idle: int, breakdown: bool = False, profile: Path | None = None
) -> WorkerResult:
    """`worker` in a fresh process, so its memory is the push's alone."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
        out = Path(f.name)
    try:
        cmd = [
            sys.executable,
            "-m",
            "bench.bench_sync",
            "--worker",
            json.dumps(
                {
                    "hall": str(hall_path),
                    "county": county_url,
                    "idle": idle,
                    "breakdown": breakdown,
                    "profile": str(profile) if profile else None,
                    "out": str(out),
                }
            ),
        ]
        subprocess.run(cmd, check=True, cwd=Path(__file__).resolve().parent.parent)
        d = json.loads(out.read_text(encoding="utf-8"))
        d["rss"] = [tuple(x) for x in d["rss"]]
        return WorkerResult(**d)
    finally:
        out.unlink(missing_ok=True)


def _worker_main(spec: str) -> int:
    a = json.loads(spec)
    res = worker(
        Path(a["hall"]),
        a["county"],
        idle=a["idle"],
        breakdown=a["breakdown"],
        profile=Path(a["profile"]) if a["profile"] else None,
    )
    Path(a["out"]).write_text(json.dumps(asdict(res)), encoding="utf-8")
    return 0


# --- the profile, summed up --------------------------------------------------------------------------------

PROFILE_GROUPS = [  # (label, file suffix, function): cumulative time of these functions
    ("run_once (profiled)", "desk/sync/engine.py", "run_once"),
    ("hall: _unpushed (read + decode)", "desk/sync/engine.py", "_unpushed"),
    ("county: receive_push", "desk/store/county.py", "receive_push"),
    ("  projections.load_events", "desk/store/projections.py", "load_events"),
    ("  _copy_events", "desk/store/county.py", "_copy_events"),
    ("  projections.ingest", "desk/store/projections.py", "ingest"),
    ("    fold.fold", "desk/core/fold.py", "fold"),
    ("    replace_projections", "desk/store/projections.py", "replace_projections"),
    ("  publish", "desk/store/county.py", "publish"),
    ("json.dumps (all callers)", "json/__init__.py", "dumps"),
    ("json.loads (all callers)", "json/__init__.py", "loads"),
]


def summarize_profile(path: Path, top: int = 18) -> tuple[list[tuple[str, float]], list[str]]:
    st = pstats.Stats(str(path))
    raw: dict[Any, Any] = st.__dict__["stats"]
    groups = []
    for label, suffix, fn in PROFILE_GROUPS:
        cum = sum(v[3] for (file, _line, name), v in raw.items() if name == fn and file.endswith(suffix))
        groups.append((label, cum))
    rows = sorted(raw.items(), key=lambda kv: kv[1][2], reverse=True)[:top]
    lines = [f"{'tottime':>8} {'cumtime':>8} {'calls':>9}  function"]
    for (file, line, name), (_cc, nc, tt, ct, _callers) in rows:
        where = file.split("site-packages/")[-1].split("/work/main/")[-1]
        lines.append(f"{tt:8.2f} {ct:8.2f} {nc:9d}  {where}:{line}({name})")
    return groups, lines


# --- the whole run -----------------------------------------------------------------------------------------


@dataclass
class PushMeasure:
    label: str
    hall: HallStore
    reused: bool
    worker: WorkerResult
    counts: dict[str, int]

    @property
    def rate(self) -> float:
        return self.worker.events / self.worker.push_s if self.worker.push_s else 0.0


ENGINE_FILES = (
    "desk/sync/engine.py",
    "desk/store/county.py",
    "desk/store/projections.py",
    "desk/core/fold.py",
    "desk/store/bulk.py",
)


def engine_fingerprint() -> str:
    """sha256 (first 12 digits) of the files the push runs through, so a figure can be tied to the code."""
    import hashlib

    root = Path(__file__).resolve().parent.parent
    parts = []
    for name in ENGINE_FILES:
        path = root / name
        if path.exists():
            parts.append(f"{Path(name).name} {hashlib.sha256(path.read_bytes()).hexdigest()[:12]}")
    return ", ".join(parts)


@dataclass
class SyncResult:
    started: str
    quick: bool
    shapes: ShapeCheck
    pushes: list[PushMeasure] = field(default_factory=list)  # small, main, big
    copy: CopyResult | None = None
    profile_groups: list[tuple[str, float]] = field(default_factory=list)
    profile_lines: list[str] = field(default_factory=list)
    profile_push_s: float = 0.0
    seconds: float = 0.0
    problem: str | None = None
    engine: str = ""  # engine_fingerprint() at the start of the run

    @property
    def main(self) -> PushMeasure:
        return self.pushes[1]

    @property
    def ratio(self) -> float:
        return self.main.worker.push_s / self.copy.median if self.copy else math.nan


def run(
    *,
    small: int = 1_000,
    events: int = 100_000,
    big: int = 1_000_000,
    idle: int = 60,
    profile: bool = True,
    keep: bool = False,
    quick: bool = False,
) -> SyncResult:
    t_start = time.perf_counter()
    data_dir().mkdir(parents=True, exist_ok=True)
    res = SyncResult(
        dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        quick,
        ShapeCheck([], [], []),
        engine=engine_fingerprint(),
    )
    problem = pg_available()
    if problem:
        res.problem = problem
        return res
    created: list[str] = []
    halls: list[Path] = []

    def county(tag: str) -> str:
        created.append(county_db(tag))
        return fresh_county(tag)

    try:
        sizes = [("small", small), ("main", events)] + ([("big", big)] if big else [])
        for tag, n in sizes:
            path = data_dir() / f"sync-hall-{n}.db"
            halls.append(path)
            hall, reused = make_hall_store(path, n)
            print(
                f"[sync] hall store {n:,} events ({hall.cases:,} cases): "
                f"{'reused' if reused else f'generated in {hall.seconds:.1f} s'}",
                flush=True,
            )
            if tag == "small":
                res.shapes = check_shapes(path)
                print(
                    f"[sync] event shapes vs the real services: {'same' if res.shapes.ok else res.shapes}",
                    flush=True,
                )
            url = county(tag)
            print(f"[sync] push {n:,} events into {county_db(tag)}", flush=True)
            w = run_worker(path, url, idle=idle, breakdown=tag == "main")
            res.pushes.append(PushMeasure(tag, hall, reused, w, county_counts(url)))
            print(
                f"[sync]   {w.push_s:.2f} s ({w.events / w.push_s:,.0f} events/s); idle round p50 "
                f"{statistics.median(w.idle_ms):.2f} ms, max {max(w.idle_ms):.2f} ms",
                flush=True,
            )
            others = dump_tables(url) if tag == "main" else {}
            drop_databases([county_db(tag)])
            if tag == "main":
                url = county("copy")
                rows, prep_s, json_s = copy_rows(path)
                times = bare_copy(url, rows)
                all_times = bare_copy(url, rows, others)
                del rows
                drop_databases([county_db("copy")])
                counts = {t: v for t, v in res.pushes[-1].counts.items() if t != "case_events"}
                res.copy = CopyResult(n, times, prep_s, json_s, counts, all_times)
                print(
                    f"[sync] bare COPY of the {n:,} events: "
                    + ", ".join(f"{t:.2f}" for t in times)
                    + " s; with the other rows the push writes: "
                    + ", ".join(f"{t:.2f}" for t in all_times)
                    + " s",
                    flush=True,
                )
            if tag == "main" and profile:
                reset_hall(path)
                url = county("prof")
                with tempfile.TemporaryDirectory() as tmp:
                    prof = Path(tmp) / "push.prof"
                    pw = run_worker(path, url, idle=0, profile=prof)
                    res.profile_push_s = pw.push_s
                    res.profile_groups, res.profile_lines = summarize_profile(prof)
                drop_databases([county_db("prof")])
                print(f"[sync]   profiled push: {pw.push_s:.2f} s", flush=True)
    finally:
        drop_databases(created)
        for path in halls:
            if not keep and path.exists() and path.stat().st_size > 200 * 2**20:
                remove_hall_store(path)  # the big one: regenerating it costs less than the disk it holds
    res.seconds = time.perf_counter() - t_start
    return res


# --- reporting ---------------------------------------------------------------------------------------------


def _ok(passed: bool) -> str:
    return "PASS" if passed else "**FAIL**"


def _idle(ms: list[float]) -> Timing:
    return Timing.of([int(x * 1e6) for x in ms])


def describe(r: SyncResult) -> str:
    if r.problem:
        return f"sync: not measured ({r.problem})"
    lines = []
    if r.copy:
        m = r.main.worker
        lines.append(
            f"push {m.events:,} events: {m.push_s:.2f} s ({m.events / m.push_s:,.0f}/s); bare COPY "
            f"{r.copy.median:.2f} s ({r.copy.rows / r.copy.median:,.0f}/s); ratio {r.ratio:.1f}x "
            f"[{'PASS' if r.ratio <= COPY_RATIO_BUDGET else 'FAIL'} <= {COPY_RATIO_BUDGET:g}x]"
        )
    for p in r.pushes:
        t = _idle(p.worker.idle_ms)
        lines.append(
            f"idle round after pushing {p.hall.events:,} events: p50={t.p50:.2f} p95={t.p95:.2f} "
            f"max={t.max:.2f} ms [{'PASS' if t.p95 <= IDLE_BUDGET_MS else 'FAIL'} p95 <= {IDLE_BUDGET_MS:g} ms]"
        )
    big = r.pushes[-1]
    s = big.worker.rss
    if len(s) > 2:
        lines.append(
            f"memory pushing {big.hall.events:,} events: RSS after batch 1 {s[1][1] / 1024:.0f} MiB, "
            f"at the end {s[-1][1] / 1024:.0f} MiB, peak {big.worker.peak_kib / 1024:.0f} MiB"
        )
    return "\n".join(lines)


def _mib(kib: int) -> str:
    return f"{kib / 1024:,.0f} MiB"


def memory_figures(w: WorkerResult) -> tuple[int, int, int, float]:
    """(RSS after the first batch, half-way, at the end, growth per 100,000 events over the second half of the
    batches -- a least-squares slope -- in KiB)."""
    s = [x for x in w.rss if x[0] > 0]
    if len(s) < 3:
        return 0, 0, 0, math.nan
    half = s[len(s) // 2]
    tail = s[len(s) // 2 :]
    xs, ys = [float(x[0]) for x in tail], [float(x[1]) for x in tail]
    slope = statistics.linear_regression(xs, ys).slope if len(tail) > 1 and len(set(xs)) > 1 else 0.0
    return s[0][1], half[1], s[-1][1], slope * 100_000


def render(r: SyncResult) -> str:
    out = [START_MARKER, "## County sync (`bench/bench_sync.py`)", ""]
    add = out.append
    if r.problem or r.copy is None:
        add(f"Not measured on {r.started}: PostgreSQL unavailable ({r.problem}).")
        add(END_MARKER)
        return "\n".join(out)
    main, m = r.main, r.main.worker
    hall = main.hall
    add(
        f"Written by `python -m bench.bench_sync{' --quick' if r.quick else ''} --write-results` on {r.started} "
        f"({platform.node()}, same machine as above; run took {r.seconds / 60:.1f} min). The hall: a SQLite file "
        "store (as shipped: WAL, `synchronous=FULL`) holding a hall's log of real days -- registrations with "
        "their parties (`bench.generate.CaseFactory`) and each visitor's way through the queue with the payloads "
        "`QueueService` writes (routed, ticket, calls and recalls, claim, service; no-shows, abandons, transfers), "
        "`hall_seq` 1..N in the order they happened. The county: a fresh PostgreSQL database made by "
        "`init_county` for each push, dropped after. Each push runs `Syncer(hall, county_url).run_once()` "
        "(batch 5,000) in a fresh process and is timed from call to return; the idle rounds follow in the same "
        "process with the same `Syncer` (connections warm; 5 warm-up rounds not counted), judged on their p95 as the "
        "search budget is (a round runs in the background; the max is shown). The code measured (sha256): "
        f"{r.engine or 'not recorded'}."
    )
    add("")
    add("| work | budget | measured | baseline | ratio | result |")
    add("|---|---|---|---|---|---|")
    c = r.copy
    add(
        f"| push {m.events:,} events to a fresh county (one `run_once`, {m.batches} batches) | within "
        f"{COPY_RATIO_BUDGET:g}× of a bare COPY | {m.push_s:.2f} s ({main.rate:,.0f} events/s) | bare COPY of the "
        f"same rows {c.median:.2f} s ({c.rows / c.median:,.0f} rows/s, median of {len(c.seconds)}) | "
        f"{r.ratio:.1f}× | {_ok(r.ratio <= COPY_RATIO_BUDGET)} |"
    )
    if c.all_seconds:
        written = ", ".join(f"{v:,} {k}" for k, v in c.all_rows.items() if v)
        add(
            f"| (for comparison) the same push vs a bare COPY of every row it writes | — | {m.push_s:.2f} s | COPY of "
            f"the {c.rows:,} events and the {written} rows the push wrote, one transaction, {c.all_median:.2f} s "
            f"(median of {len(c.all_seconds)}) | {m.push_s / c.all_median:.1f}× | — |"
        )
    for p in r.pushes:
        t = _idle(p.worker.idle_ms)
        cc = p.counts
        add(
            f"| sync round with nothing to do, after pushing {p.hall.events:,} events (county: "
            f"{cc['case_events']:,} events, {cc['cases']:,} cases, {cc['parties']:,} parties, {cc['tickets']:,} "
            f"tickets; hall: {p.hall.events:,} events) | ≤ {IDLE_BUDGET_MS:g} ms p95 | p95 {t.p95:.2f} ms (p50 "
            f"{t.p50:.2f}, max {t.max:.2f}; n={t.n}) | — | — | {_ok(t.p95 <= IDLE_BUDGET_MS)} |"
        )
    big = r.pushes[-1]
    first, half, end, per100k = memory_figures(big.worker)
    if first:
        flat = per100k < 1024  # under 1 MiB per 100,000 events once warm
        add(
            f"| memory while pushing {big.worker.events:,} events in one `run_once` ({big.worker.batches} "
            f"batches) | flat | VmRSS after batch 1 {_mib(first)}, half-way {_mib(half)}, at the end "
            f"{_mib(end)}; peak {_mib(big.worker.peak_kib)} | RSS before the push {_mib(big.worker.rss_start_kib)} "
            f"| {per100k / 1024:+.2f} MiB per 100,000 events over the second half (least squares) | "
            f"{_ok(flat)} |"
        )
    add("")
    loads = "; ".join(
        f"{p.hall.events:,} events: {' → '.join(f'{x:.1f}' for x in p.worker.load)}"
        for p in r.pushes
        if p.worker.load
    )
    add(
        "The machine is shared (other work may run meanwhile). Its 1-minute load average before each push → after "
        f"it → after its idle rounds: {loads}."
    )
    add("")
    kinds = ", ".join(f"{k} {v / hall.events:.1%}" for k, v in hall.kinds.items())
    add(
        f"The {hall.events:,}-event hall: {hall.cases:,} cases registered {hall.first_at[:10]} .. "
        f"{hall.last_at[:10]}; {kinds}. Generated in {hall.seconds:.1f} s"
        f"{' (an earlier run' + chr(39) + 's store, reused)' if main.reused else ''}; the "
        f"{big.hall.events:,}-event one in {big.hall.seconds:.0f} s{' (reused)' if big.reused else ''} "
        "(`bench_sync.make_hall_store`: bulk inserts, no projections -- a push reads only the log). "
        f"Compared with the events the real `RegistrationService` and `QueueService` write for the same steps "
        f"({', '.join(r.shapes.kinds)}): payload keys and stored formats "
        f"{'the same' if r.shapes.ok else 'DIFFER: ' + ', '.join(r.shapes.differing + r.shapes.missing)}."
    )
    add("")
    add(
        f"Baseline: `COPY case_events ({', '.join(EVENT_COLUMNS)}) FROM STDIN` (psycopg `cursor.copy`, "
        "`write_row`) of the same rows (the payload's JSON text as the hall stores it, naive UTC timestamps, a "
        "county seq), into the empty `case_events` (with its indexes) of a fresh county schema, then COMMIT, one "
        "transaction; rows prepared in memory before the clock starts: "
        + ", ".join(f"{t:.2f}" for t in c.seconds)
        + " s. Reading them from the hall's SQLite file took "
        f"{c.prepare_s - c.json_s:.2f} s with plain sqlite3, and decoding their payloads (json.loads, which the fold needs "
        f"and the baseline does not) {c.json_s:.2f} s more. The second baseline adds, in the same transaction, "
        "COPYs of the rows the push wrote into the other tables (read back from its county), "
        + ", ".join(f"{t:.2f}" for t in c.all_seconds)
        + " s."
    )
    add("")
    add(
        f"Where the push's {m.push_s:.2f} s go (wall clock of the engine's steps, timed in place by wrapping "
        "them; indented rows are part of the row above):"
    )
    add("")
    add("| step | calls | seconds | share of the push |")
    add("|---|---|---|---|")
    accounted = sum(
        secs for label, secs in m.breakdown.items() if not label.startswith(" ") and label != READ_AHEAD
    )
    for label, secs in sorted(m.breakdown.items(), key=lambda kv: _ORDER.get(kv[0].strip(), 99)):
        name = label.strip().replace("|", "/")
        indent = "&nbsp;" * (len(label) - len(label.lstrip(" ")))
        add(f"| {indent}{name} | {m.calls.get(label, 0):,} | {secs:.2f} | {secs / m.push_s:.0%} |")
    add(
        f"| everything else on the main thread (waiting for the reader thread, the Syncer's own Python, sessions, "
        "hall reads of last_seq, handshake) | | "
        f"{m.push_s - accounted:.2f} | {(m.push_s - accounted) / m.push_s:.0%} |"
    )
    add("")
    if r.profile_lines:
        add(
            f"<details><summary>cProfile of the same push (another fresh county; {r.profile_push_s:.2f} s under "
            "the profiler; the main thread only)</summary>"
        )
        add("")
        add("```")
        for label, secs in r.profile_groups:
            if secs:
                add(f"{label:<36} {secs:8.2f} s cumulative")
        add("")
        out.extend(r.profile_lines)
        add("```")
        add("</details>")
        add("")
    w = big.worker
    if w.idle_steps:
        n_idle = max(10, len(w.idle_ms) // 3)
        add(
            f"Where an idle round's time goes, after the {big.hall.events:,}-event push ({n_idle} more rounds "
            "with the steps timed, not among those measured above; indented rows are part of the row above):"
        )
        add("")
        add("| step | what it does | calls per round | ms per round |")
        add("|---|---|---|---|")
        for label, what in IDLE_STEPS.items():
            if label in w.idle_steps:
                indent = "&nbsp;" * 4 * (label != label.lstrip(" "))
                add(
                    f"| {indent}{label.strip()} | {what} | {w.idle_calls.get(label, 0):g} | "
                    f"{w.idle_steps[label]:.2f} |"
                )
        add("")
    s = [x for x in big.worker.rss if x[0] > 0]
    if len(s) > 10:
        durations = [b[2] - a[2] for a, b in itertools.pairwise(big.worker.rss)]
        k = max(1, len(durations) // 10)
        early, late = statistics.fmean(durations[:k]), statistics.fmean(durations[-k:])
        step = max(1, len(s) // 10)
        picks = s[::step] + ([s[-1]] if (len(s) - 1) % step else [])
        add(
            f"VmRSS of the pushing process while it pushed {big.worker.events:,} events (before the push: "
            f"{_mib(big.worker.rss_start_kib)}):"
        )
        add("")
        add("| events acknowledged | " + " | ".join(f"{x[0]:,}" for x in picks) + " |")
        add("|---|" + "---|" * len(picks))
        add("| VmRSS | " + " | ".join(_mib(x[1]) for x in picks) + " |")
        add("| seconds | " + " | ".join(f"{x[2]:.0f}" for x in picks) + " |")
        add("")
        add(
            f"A batch of {big.worker.events // max(1, big.worker.batches):,} events took {early:.2f} s on average over the "
            f"first tenth of the push and {late:.2f} s over the last ({late / early:.2f}×): the county's tables and "
            "indexes grow under it."
        )
        add("")
    add(END_MARKER)
    return "\n".join(out)


_ORDER = {
    label.strip(): i
    for i, label in enumerate(
        [
            READ_MAIN,
            READ_AHEAD,
            "county: schema check",
            "county: receive_push",
            "lock the touched cases",
            "load the touched cases' earlier events",
            "seq lock",
            "county seqs (nextval)",
            "COPY into case_events",
            "projections: ingest",
            "fold (Python)",
            "write cases, parties, tickets",
            "outbox + case_holders",
            "county: COMMIT",
            "hall: record the acknowledgment (SQLite commit)",
            "pull (nothing to pull)",
            "reference data",
            "hall: record the round (SQLite commit)",
        ]
    )
}


def from_json(d: dict[str, Any]) -> SyncResult:
    """A SyncResult from its `--json` dump (to render it again without measuring)."""

    def worker_of(w: dict[str, Any]) -> WorkerResult:
        return WorkerResult(**{**w, "rss": [tuple(x) for x in w["rss"]]})

    pushes = [
        PushMeasure(p["label"], HallStore(**p["hall"]), p["reused"], worker_of(p["worker"]), p["counts"])
        for p in d["pushes"]
    ]
    return SyncResult(
        d["started"],
        d["quick"],
        ShapeCheck(**d["shapes"]),
        pushes,
        CopyResult(**d["copy"]) if d["copy"] else None,
        [(a, b) for a, b in d["profile_groups"]],
        d["profile_lines"],
        d["profile_push_s"],
        d["seconds"],
        d["problem"],
        d.get("engine", ""),
    )


def write_section(section: str, path: Path) -> None:
    common.write_section(section, path, start=START_MARKER, end=END_MARKER)


QUICK = {"small": 500, "events": 10_000, "big": 50_000, "idle": 30}


def update_results(
    path: Path, *, quick: bool = False, sizes: dict[str, int] | None = None, profile: bool = True
) -> SyncResult:
    """Measure and (re)write the section: full sizes, QUICK ones, or the `sizes` given (a smoke run's)."""
    if sizes is not None:
        r = run(**sizes, profile=profile, quick=True)
    elif quick:
        r = run(
            small=QUICK["small"], events=QUICK["events"], big=QUICK["big"], idle=QUICK["idle"], quick=True
        )
    else:
        r = run(profile=profile)
    if r.problem is not None:
        raise RuntimeError(f"county sync not measured: {r.problem}")
    print(describe(r), flush=True)
    write_section(render(r), path)
    return r


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m bench.bench_sync", description=__doc__.splitlines()[0] if __doc__ else None
    )
    p.add_argument("--events", type=int, default=100_000, help="events of the push compared with a bare COPY")
    p.add_argument(
        "--big", type=int, default=1_000_000, help="events of the push whose memory is sampled (0: skip it)"
    )
    p.add_argument(
        "--small", type=int, default=1_000, help="events of the small store (idle round, small tables)"
    )
    p.add_argument("--idle", type=int, default=60, help="idle rounds measured after each push")
    p.add_argument(
        "--quick",
        action="store_true",
        help=f"a smoke run: {QUICK['events']:,} / {QUICK['big']:,} / {QUICK['small']:,} events, "
        f"{QUICK['idle']} idle rounds",
    )
    p.add_argument("--no-profile", action="store_true", help="skip the cProfile run of the main push")
    p.add_argument(
        "--keep",
        action="store_true",
        help="keep every hall store in bench/data (the big one is deleted otherwise)",
    )
    p.add_argument("--json", type=Path, help="also write the figures as JSON")
    p.add_argument("--write-results", action="store_true", help="(re)write its section of bench/RESULTS.md")
    p.add_argument(
        "--render",
        type=Path,
        metavar="JSON",
        help="only render a --json dump again (with --write-results: into RESULTS.md)",
    )
    p.add_argument("--worker", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        return _worker_main(args.worker)
    if args.render:
        r = from_json(json.loads(args.render.read_text(encoding="utf-8")))
        print(describe(r))
        if args.write_results:
            write_section(render(r), RESULTS)
        else:
            print(render(r))
        return 0
    sizes = (
        dict(QUICK)
        if args.quick
        else {"small": args.small, "events": args.events, "big": args.big, "idle": args.idle}
    )
    r = run(
        small=sizes["small"],
        events=sizes["events"],
        big=sizes["big"],
        idle=sizes["idle"],
        profile=not args.no_profile,
        keep=args.keep,
        quick=args.quick,
    )
    print(describe(r))
    if args.json:
        args.json.write_text(json.dumps(asdict(r), indent=2, default=str), encoding="utf-8")
    if args.write_results:
        write_section(render(r), RESULTS)
    return 0 if r.problem is None else 1


if __name__ == "__main__":
    sys.exit(main())
