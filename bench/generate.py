"""Bulk-generate a realistic hall store: `python -m bench.generate --db URL --cases 1000000 [--seed N]`.

Five years of cases (2021-12 .. 2026-11) registered at the front desk of one hall: opening hours, fewer on
weekends, a growing trend and seasons (spring irrigation, wages before the Spring Festival); the category mix of
`desk.core.synthetic`; 1-3 parties a case (some organisations) with valid Zhangye ID numbers, phones and names
(minority names with `·`, 𠮷); a few people coming back with a new dispute, and some cases visited again
(`repeat_visit` events).

What is written is exactly what the app would hold after registering the same visits one by one:
- `case_events`: one `registered` event per case with the payload `RegistrationService` writes, plus the
  `repeat_visit` events, numbered gap-free (`hall_seq`) in the order they happened;
- `cases` and `parties`: the rows `desk.store.projections` folds from those events;
- `halls.last_seq` and the `case:{year}` counters, so the app registers the next case as usual afterwards.
`--check` proves it on a (small) store: a rebuild of the projections from the log gives the same rows, and a
registration through the real service continues the numbering.

Speed: rows are made as plain values and written in bulk -- `executemany` of dicts in big transactions with
`synchronous=OFF` on SQLite (only while generating), `COPY` on PostgreSQL -- with the secondary indexes dropped
during the load and created again, from their own definitions, at the end.
"""

from __future__ import annotations

import argparse
import base64
import bisect
import datetime as dt
import heapq
import itertools
import json
import operator
import random
import sqlite3
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from bench.common import bench_vault, is_postgres, pg_create_database, psycopg_conninfo, sqlite_path
from desk.core import synthetic
from desk.core.catalog import DEADLINE_DAYS, name_initials
from desk.core.clock import CHINA_TZ
from desk.core.events import PartyRecord, VisitRecord
from desk.core.ids import case_number
from desk.core.permissions import operator as staff
from desk.security.vault import Vault
from desk.services.sealing import seal_visit
from desk.services.setup import init_hall
from desk.store.session import open_store

FIRST_DAY = dt.date(2021, 12, 1)
END_DAY = dt.date(2026, 11, 27)  # exclusive: the store ends the day before "today" of the project's machines
OPENING = dt.time(8, 30)
OPEN_SECONDS = 9 * 3600  # 08:30-17:30 China time

CHANNEL_WEIGHTS = {
    "walk_in": 72,
    "hotline_12345": 9,
    "grid": 8,
    "police": 5,
    "petition": 3,
    "court_pre_litigation": 3,
}
ACTORS = ["前台", "前台", "前台", "窗口2", "窗口3"]
# Organisations that turn up as respondents (wages, property management, consumer and contract disputes).
ORGANISATIONS = [
    "张掖市鑫源建筑工程有限公司",
    "甘州区宏达劳务有限公司",
    "张掖市丹霞物业服务有限公司",
    "临泽县金谷农机销售部",
    "高台县绿洲农业专业合作社",
    "山丹县马场畜牧有限公司",
    "民乐县丰源粮油贸易有限公司",
    "张掖市祁连山旅游开发有限公司",
    "甘州区万家乐超市",
    "张掖市第二建筑安装工程公司",
]
ORG_CATEGORIES = {
    "labour": 0.6,
    "property_management": 0.8,
    "consumer": 0.7,
    "contract": 0.3,
    "production_business": 0.2,
    "pollution": 0.5,
}
# Details appended to the category's narrative, so the text varies from case to case.
DETAILS = [
    "",
    "",
    "双方系同村村民。",
    "村委会已调解一次未果。",
    "涉及金额约{n}元。",
    "申请人情绪较为激动。",
    "纠纷已持续{m}个月。",
    "申请人提供了相关书面材料。",
    "请求中心组织双方当面调解。",
]
REPEAT_SHARE = 0.04  # cases visited again while open
RETURNING_SHARE = 0.04  # applicants who had an earlier case (a new dispute)


@dataclass(frozen=True, slots=True)
class Person:
    name: str
    initials: str
    is_organisation: bool
    id_number: str | None
    phone: str | None
    address: str
    birth_date: str | None
    sex: str | None


@dataclass(slots=True)
class Batch:
    """Rows ready for the database, as plain dicts keyed by column name."""

    events: list[dict[str, Any]] = field(default_factory=list)
    cases: list[dict[str, Any]] = field(default_factory=list)
    parties: list[dict[str, Any]] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return len(self.events) + len(self.cases) + len(self.parties)


@dataclass
class GenerationStats:
    url: str
    cases: int
    events: int
    parties: int
    seconds: float
    seed: int
    first_day: str
    last_day: str
    generated_at: str

    @property
    def rows(self) -> int:
        return self.cases + self.events + self.parties

    @property
    def rows_per_s(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0


EPOCH = dt.datetime(1970, 1, 1)


def db_time(us: int) -> str:
    """Epoch microseconds (UTC) as SQLAlchemy stores a DateTime on SQLite; PostgreSQL reads the same text."""
    return (EPOCH + dt.timedelta(microseconds=us)).isoformat(sep=" ", timespec="microseconds")


def china_day(us: int) -> str:
    """Epoch microseconds (UTC) as the China-time day, as SQLAlchemy stores a Date."""
    return (
        (dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(microseconds=us))
        .astimezone(CHINA_TZ)
        .date()
        .isoformat()
    )


def iso_utc(us: int) -> str:
    """Epoch microseconds as the aware UTC `isoformat()` the service writes into payloads."""
    return (EPOCH + dt.timedelta(microseconds=us)).replace(tzinfo=dt.UTC).isoformat()


class CaseFactory:
    """Makes the cases of a store in the order they were registered, with the events and rows of each."""

    def __init__(
        self,
        *,
        cases: int,
        seed: int,
        hall_code: str,
        deadline_days: dict[str, int],
        first_day: dt.date = FIRST_DAY,
        end_day: dt.date = END_DAY,
        vault: Vault | None = None,
    ) -> None:
        self.n_cases = cases
        # personal fields sealed and indexed as RegistrationService seals them (desk.services.sealing)
        self.vault = vault or bench_vault()
        self.rng = random.Random(seed)
        self.hall_code = hall_code
        self.deadline_days = deadline_days
        self.first_day, self.end_day = first_day, end_day
        self.end_us = self._day_open_us(end_day)
        self.hall_seq = 0
        self.last_hlc = 0
        self.counters: dict[int, int] = {}  # local year -> last case number
        self.n_events = self.n_parties = 0
        self._initials: dict[str, str] = {}
        self._used_ids: set[str] = set()
        self._returning: list[Person] = []  # applicants who may come back with a new dispute
        self._pending: list[
            tuple[int, int, dict[str, Any]]
        ] = []  # repeat visits not yet due: (time, n, event)
        self._tie = itertools.count()
        codes = [c for c in synthetic.CATEGORY_WEIGHTS if c in deadline_days]
        self._categories = codes
        self._category_cum = [
            self._cum([self._season(code, month) * synthetic.CATEGORY_WEIGHTS[code] for code in codes])
            for month in range(13)
        ]
        self._channels, self._channel_cum = list(CHANNEL_WEIGHTS), self._cum(list(CHANNEL_WEIGHTS.values()))
        self._region_cum = self._cum(synthetic.REGION_WEIGHTS)
        born0 = dt.date(1940, 1, 1)
        self._births = [born0 + dt.timedelta(days=i) for i in range((dt.date(2007, 1, 1) - born0).days)]
        self._birth_keys = [f"{d:%Y%m%d}" for d in self._births]

    # --- shape of the five years --------------------------------------------------------------------

    @staticmethod
    def _cum(weights: Sequence[float]) -> list[float]:
        return list(itertools.accumulate(weights))

    @staticmethod
    def _season(code: str, month: int) -> float:
        if code == "irrigation" and month in (4, 5, 6, 7):
            return 3.0
        if code == "labour" and month in (12, 1):
            return 2.0
        if code == "grassland" and month in (5, 6, 7, 8, 9):
            return 2.0
        return 1.0

    def day_counts(self) -> list[tuple[dt.date, int]]:
        """How many cases each day gets: weekdays, a rising trend, seasons; exactly `n_cases` in all."""
        days = [self.first_day + dt.timedelta(days=i) for i in range((self.end_day - self.first_day).days)]
        weekday = (1.0, 1.0, 1.0, 1.0, 0.95, 0.2, 0.08)
        month = {
            1: 1.1,
            2: 0.7,
            3: 1.1,
            4: 1.15,
            5: 1.1,
            6: 1.0,
            7: 1.0,
            8: 0.95,
            9: 1.0,
            10: 0.8,
            11: 1.0,
            12: 1.1,
        }
        span = max(1, len(days) - 1)
        weights = [weekday[d.weekday()] * month[d.month] * (0.7 + 0.6 * i / span) for i, d in enumerate(days)]
        total = sum(weights)
        exact = [self.n_cases * w / total for w in weights]
        counts = [int(x) for x in exact]
        # Largest remainders get the cases the floors left over.
        for i in sorted(range(len(days)), key=lambda i: exact[i] - counts[i], reverse=True)[
            : self.n_cases - sum(counts)
        ]:
            counts[i] += 1
        return list(zip(days, counts, strict=True))

    def _day_open_us(self, day: dt.date) -> int:
        opening = dt.datetime.combine(day, OPENING, CHINA_TZ).astimezone(dt.UTC).replace(tzinfo=None)
        return (opening - EPOCH) // dt.timedelta(microseconds=1)

    # --- identifiers ----------------------------------------------------------------------------------

    def uuid7(self, ms: int) -> str:
        """A UUIDv7 string (the layout of desk.core.ids.uuid7) with random bits from the seeded generator."""
        rand = self.rng.getrandbits(74)
        value = (
            (ms & 0xFFFF_FFFF_FFFF) << 80
            | 0x7 << 76
            | (rand >> 62) << 64
            | 0b10 << 62
            | (rand & ((1 << 62) - 1))
        )
        h = f"{value:032x}"
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"

    def status_token(self) -> str:
        """128 random bits, URL-safe, as `secrets.token_urlsafe(16)` gives."""
        return base64.urlsafe_b64encode(self.rng.randbytes(16)).rstrip(b"=").decode()

    # --- people ---------------------------------------------------------------------------------------

    def initials(self, name: str) -> str:
        got = self._initials.get(name)
        if got is None:
            got = self._initials[name] = name_initials(name)
        return got

    def id_number(self) -> tuple[str, dt.date]:
        """A valid, so far unused, ID number of a Zhangye resident born 1940-2006."""
        rng = self.rng
        while True:
            region = synthetic.REGIONS[bisect.bisect(self._region_cum, rng.random() * self._region_cum[-1])]
            i = rng.randrange(len(self._births))
            body = f"{region}{self._birth_keys[i]}{rng.randrange(1000):03d}"
            number = body + synthetic.id_check_char(body)
            if number not in self._used_ids:
                self._used_ids.add(number)
                return number, self._births[i]

    def person(self, *, id_share: float, phone_share: float, address_share: float) -> Person:
        rng = self.rng
        name = synthetic.make_name(rng)
        id_number = birth = sex = None
        if rng.random() < id_share:
            id_number, born = self.id_number()
            birth = born.isoformat()
            sex = "男" if int(id_number[16]) % 2 == 1 else "女"
        phone = synthetic.make_phone(rng) if id_number is None or rng.random() < phone_share else None
        address = (
            rng.choice(synthetic.VILLAGES) + f"{rng.randrange(1, 30)}号"
            if rng.random() < address_share
            else ""
        )
        return Person(name, self.initials(name), False, id_number, phone, address, birth, sex)

    def organisation(self) -> Person:
        rng = self.rng
        phone = f"0936-{rng.randrange(8000000, 8999999)}" if rng.random() < 0.7 else synthetic.make_phone(rng)
        return Person(
            rng.choice(ORGANISATIONS), "", True, None, phone, rng.choice(synthetic.VILLAGES), None, None
        )

    def parties(self, category: str) -> list[tuple[str, Person]]:
        rng = self.rng
        if self._returning and rng.random() < RETURNING_SHARE:
            applicant = rng.choice(self._returning)
        else:
            applicant = self.person(id_share=0.96, phone_share=0.97, address_share=1.0)
            if len(self._returning) < 50_000:
                self._returning.append(applicant)
            else:
                self._returning[rng.randrange(50_000)] = applicant
        out = [("applicant", applicant)]
        if rng.random() < 0.8:
            if rng.random() < ORG_CATEGORIES.get(category, 0.0):
                out.append(("respondent", self.organisation()))
            else:
                out.append(("respondent", self.person(id_share=0.5, phone_share=0.85, address_share=0.4)))
        if rng.random() < 0.1:
            out.append(("other", self.person(id_share=0.3, phone_share=0.6, address_share=0.2)))
        return out

    # --- payloads, as RegistrationService writes them -------------------------------------------------

    def visit_payload(
        self,
        category: str,
        channel: str,
        headcount: int,
        narrative: str,
        flags: list[str],
        parties: list[tuple[str, Person]],
        ms: int,
        day: dt.date,
    ) -> dict[str, Any]:
        """The visit as the log keeps it (`day`, the visit's local day, gives the age bands): the narrative and
        the parties' ID numbers, phones and addresses sealed, their blind indexes, age band and grid."""
        record = VisitRecord(
            category=category,
            channel=channel,
            headcount=headcount,
            narrative=narrative,
            risk_flags=tuple(flags),
            parties=tuple(
                PartyRecord(
                    id=self.uuid7(ms),
                    role=role,
                    name=p.name,
                    name_initials=p.initials,
                    is_organisation=p.is_organisation,
                    id_number=p.id_number,
                    phone=p.phone,
                    address=p.address,
                    birth_date=dt.date.fromisoformat(p.birth_date) if p.birth_date else None,
                    sex=p.sex,
                )
                for role, p in parties
            ),
        )
        payload = seal_visit(record, self.vault, day).to_json()
        payload["risk_flags"] = flags
        return payload

    def risk_flags(self, headcount: int, *, repeat: bool = False) -> list[str]:
        rng = self.rng
        flags = set()
        if headcount >= 5:
            flags.add("group_visit")
        if rng.random() < 0.02:
            flags.add("psychological_crisis")
        if rng.random() < 0.02:
            flags.add("civil_to_criminal")
        if rng.random() < (0.05 if repeat else 0.005):
            flags.add("extreme_behaviour")
        return sorted(flags)

    def narrative(self, category: str) -> str:
        rng = self.rng
        detail = rng.choice(DETAILS).format(n=rng.randrange(2, 300) * 100, m=rng.randrange(1, 24))
        return synthetic.NARRATIVES[category] + detail

    def event(
        self, *, case_id: str, kind: str, payload: dict[str, Any], us: int, actor: str
    ) -> dict[str, Any]:
        return {
            "id": self.uuid7(us // 1000),
            "hall_code": self.hall_code,
            "hall_seq": 0,
            "case_id": case_id,
            "kind": kind,
            "payload": json.dumps(payload),
            "occurred_at": db_time(us),
            "actor": actor,
            "schema_version": 1,
            "seq": None,
            "hlc": (us // 1000) << 16,  # desk.core.hlc: milliseconds, then the logical counter (_emit)
        }

    # --- the cases --------------------------------------------------------------------------------------

    def _emit(self, batch: Batch, event: dict[str, Any]) -> None:
        self.hall_seq += 1
        event["hall_seq"] = self.hall_seq
        self.last_hlc = event["hlc"] = max(event["hlc"], self.last_hlc + 1)
        batch.events.append(event)
        self.n_events += 1

    def _emit_due(self, batch: Batch, until_us: int) -> None:
        while self._pending and self._pending[0][0] <= until_us:
            self._emit(batch, heapq.heappop(self._pending)[2])

    def make_case(self, batch: Batch, reg_us: int, day: dt.date, open_us: int) -> None:
        rng = self.rng
        ms = reg_us // 1000
        category = self._categories[
            bisect.bisect(self._category_cum[day.month], rng.random() * self._category_cum[day.month][-1])
        ]
        channel = self._channels[bisect.bisect(self._channel_cum, rng.random() * self._channel_cum[-1])]
        headcount = rng.choices((1, 2, 3, 6, 12), (70, 15, 8, 5, 2))[0]
        narrative = self.narrative(category)  # sealed in the payload (visit_payload)
        flags = self.risk_flags(headcount)
        parties = self.parties(category)
        actor = rng.choice(ACTORS)
        year = day.year  # opening hours never cross midnight: the local date is the day
        self.counters[year] = self.counters.get(year, 0) + 1
        case_no = case_number(self.hall_code, year, self.counters[year])
        case_id = self.uuid7(ms)
        deadline_us = reg_us + self.deadline_days[category] * 86_400_000_000
        payload = self.visit_payload(category, channel, headcount, narrative, flags, parties, ms, day)
        payload.update(case_no=case_no, status_token=self.status_token(), deadline_at=iso_utc(deadline_us))
        self._emit_due(batch, reg_us)
        self._emit(
            batch, self.event(case_id=case_id, kind="registered", payload=payload, us=reg_us, actor=actor)
        )

        # Visits again while the case is open: each a repeat_visit event, folded into the case row now.
        all_flags, updated_us, repeats = set(flags), reg_us, 0
        if rng.random() < REPEAT_SHARE:
            n = rng.choices((1, 2, 3), (70, 22, 8))[0]
            span = self.deadline_days[category]
            when = sorted(
                open_us + rng.randrange(1, span) * 86_400_000_000 + rng.randrange(OPEN_SECONDS * 10**6)
                for _ in range(n)
            )
            for us in when:
                if us >= self.end_us:
                    break
                again = rng.choices((1, 2, 3, 6, 12), (70, 15, 8, 5, 2))[0]
                repeat_flags = self.risk_flags(again, repeat=True)
                visit = self.visit_payload(
                    category, "walk_in", again, narrative, repeat_flags, parties, us // 1000, day
                )
                ev = self.event(
                    case_id=case_id,
                    kind="repeat_visit",
                    us=us,
                    actor=rng.choice(ACTORS),
                    payload={"visit": visit, "risk_flags": repeat_flags},
                )
                heapq.heappush(self._pending, (us, next(self._tie), ev))
                all_flags |= {"repeat_visit", *repeat_flags}
                updated_us = max(updated_us, us)
                repeats += 1

        reg_at = db_time(reg_us)
        batch.cases.append(
            {
                "id": case_id,
                "case_no": case_no,
                "hall_code": self.hall_code,
                "category_code": category,
                "channel": channel,
                "headcount": headcount,
                "narrative": payload["narrative"],
                "risk_flags": json.dumps(sorted(all_flags)),
                "state": "registered",
                "repeat_visits": repeats,
                "status_token": payload["status_token"],
                "registered_at": reg_at,
                "updated_at": db_time(updated_us),
                "deadline_at": db_time(deadline_us),
                "actor": actor,
                "room_code": None,  # routed to no room: the generated cases were never given a ticket
                # as the fold of a registration gives them (desk.core.fold._registered)
                "risk_level": None,
                "deadline_rule": "legacy",
                "due_on": china_day(deadline_us),
                "paused_at": None,
                "outcome": None,
                "closed_at": None,
                "follow_up_due_on": None,
                "grid_code": next(
                    (p.get("grid_code") for p in payload["parties"] if p["role"] == "applicant"), None
                ),
                "claimed_by": None,
            }
        )
        for i, p in enumerate(payload["parties"]):
            batch.parties.append(
                {
                    "id": p["id"],
                    "case_id": case_id,
                    "position": i,
                    "role": p["role"],
                    "name": p["name"],
                    "name_initials": p["name_initials"],
                    "is_organisation": p["is_organisation"],
                    "id_number": p["id_number"],
                    "phone": p["phone"],
                    "address": p["address"],
                    "birth_date": p["birth_date"],
                    "sex": p["sex"],
                    "id_index": p.get("id_index"),
                    "phone_index": p.get("phone_index"),
                    "age_band": p.get("age_band"),
                    "grid_code": p.get("grid_code"),
                }
            )
        self.n_parties += len(payload["parties"])

    def batches(self, size: int = 20_000) -> Iterator[Batch]:
        """Every case, in registration order, `size` cases a batch (repeat visits come when they are due)."""
        batch = Batch()
        for day, n in self.day_counts():
            if not n:
                continue
            open_us = self._day_open_us(day)
            for offset in sorted(self.rng.randrange(OPEN_SECONDS * 10**6) for _ in range(n)):
                self.make_case(batch, open_us + offset, day, open_us)
                if len(batch.cases) >= size:
                    yield batch
                    batch = Batch()
        self._emit_due(batch, self.end_us)
        if batch.rows:
            yield batch


# --- writing --------------------------------------------------------------------------------------------

TABLES = ("case_events", "cases", "parties")
Progress = Callable[[int, int], None]


def _columns(engine: sa.Engine, table: str) -> list[str]:
    return [c["name"] for c in sa.inspect(engine).get_columns(table)]


def _check_columns(batch: Batch, columns: dict[str, list[str]]) -> None:
    """The generated rows fill exactly the tables' columns: a migration that adds or drops one must be followed
    here (the rows must be what the app writes), and says so instead of failing in the middle of the load."""
    for table, rows in (("cases", batch.cases), ("parties", batch.parties), ("case_events", batch.events)):
        if not rows:
            continue
        made, stored = set(rows[0]), set(columns[table])
        if made != stored:
            raise SystemExit(
                f"bench/generate.py is behind the schema of `{table}`: the store has "
                f"{sorted(stored - made) or 'no other'} columns the generator does not fill, and the generator "
                f"fills {sorted(made - stored) or 'no other'} columns the store does not have"
            )


def load_sqlite(path: Path, factory: CaseFactory, columns: dict[str, list[str]], progress: Progress) -> None:
    con = sqlite3.connect(path, isolation_level=None)
    try:
        con.execute("PRAGMA journal_mode=WAL")
        con.execute("PRAGMA synchronous=OFF")  # generation only: the app's connections use FULL
        con.execute("PRAGMA cache_size=-1000000")  # 1 GB
        con.execute("PRAGMA temp_store=MEMORY")
        con.execute("PRAGMA foreign_keys=ON")
        indexes = con.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN "
            "(?, ?, ?)",
            TABLES,
        ).fetchall()
        con.execute("BEGIN")
        for name, _sql in indexes:
            con.execute(f'DROP INDEX "{name}"')
        inserts = {
            t: f"INSERT INTO {t} ({', '.join(cols)}) VALUES ({', '.join(':' + c for c in cols)})"
            for t, cols in columns.items()
        }
        done = rows = 0
        for batch in factory.batches():
            if not done:
                _check_columns(batch, columns)
            con.executemany(inserts["cases"], batch.cases)
            con.executemany(inserts["parties"], batch.parties)
            con.executemany(inserts["case_events"], batch.events)
            done += len(batch.cases)
            rows += batch.rows
            if done % 100_000 < len(batch.cases) or done == factory.n_cases:
                con.execute("COMMIT")
                progress(done, rows)
                con.execute("BEGIN")
        print("  creating indexes", flush=True)
        for _name, sql in indexes:
            con.execute(sql)
        _finish_sqlite(con, factory)
        con.execute("COMMIT")
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        con.close()


def _finish_sqlite(con: sqlite3.Connection, factory: CaseFactory) -> None:
    con.execute(
        "UPDATE halls SET last_seq = ?, last_hlc = ? WHERE code = ?",
        (factory.hall_seq, factory.last_hlc, factory.hall_code),
    )
    con.executemany(
        "INSERT INTO counters (hall_code, name, value) VALUES (?, ?, ?) "
        "ON CONFLICT (hall_code, name) DO UPDATE SET value = excluded.value",
        [(factory.hall_code, f"case:{year}", n) for year, n in sorted(factory.counters.items())],
    )


def load_postgres(url: str, factory: CaseFactory, columns: dict[str, list[str]], progress: Progress) -> None:
    import psycopg

    with psycopg.connect(psycopg_conninfo(url)) as con:
        cur = con.cursor()
        cur.execute("SET maintenance_work_mem = '512MB'")
        # Secondary indexes and the parties -> cases foreign key go during the load and come back at the end,
        # made from their own definitions (building an index once is far cheaper than 2M random inserts).
        cur.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() "
            "AND tablename = ANY(%s) AND indexname NOT IN (SELECT conname FROM pg_constraint)",
            (list(TABLES),),
        )
        indexes = cur.fetchall()
        cur.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE contype = 'f' AND conrelid::regclass::text = ANY(%s)",
            (list(TABLES),),
        )
        foreign_keys = cur.fetchall()
        for table, name, _ in foreign_keys:
            cur.execute(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"')
        for name, _ in indexes:
            cur.execute(f'DROP INDEX "{name}"')
        getters = {t: operator.itemgetter(*cols) for t, cols in columns.items()}
        done = rows = 0
        for batch in factory.batches():
            if not done:
                _check_columns(batch, columns)
            for table, data in (
                ("cases", batch.cases),
                ("parties", batch.parties),
                ("case_events", batch.events),
            ):
                get = getters[table]
                with cur.copy(f"COPY {table} ({', '.join(columns[table])}) FROM STDIN") as copy:
                    for row in data:
                        copy.write_row(get(row))
            done += len(batch.cases)
            rows += batch.rows
            if done % 100_000 < len(batch.cases) or done == factory.n_cases:
                con.commit()
                progress(done, rows)
        print("  creating indexes and constraints", flush=True)
        for _, sql in indexes:
            cur.execute(sql)
        for table, name, definition in foreign_keys:
            cur.execute(f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}')
        cur.execute(
            "UPDATE halls SET last_seq = %s, last_hlc = %s WHERE code = %s",
            (factory.hall_seq, factory.last_hlc, factory.hall_code),
        )
        cur.executemany(
            "INSERT INTO counters (hall_code, name, value) VALUES (%s, %s, %s) "
            "ON CONFLICT (hall_code, name) DO UPDATE SET value = excluded.value",
            [(factory.hall_code, f"case:{year}", n) for year, n in sorted(factory.counters.items())],
        )
        con.commit()
    # What autovacuum would do on a live server after such a load: statistics and the visibility map.
    with psycopg.connect(psycopg_conninfo(url), autocommit=True) as con:
        print("  vacuum analyze", flush=True)
        con.execute("VACUUM ANALYZE")


def generate(
    url: str, *, cases: int, seed: int = 20261127, replace: bool = False, quiet: bool = False
) -> GenerationStats:
    """Make a store of `cases` cases at `url` (created; an existing store must be empty unless `replace`)."""
    started = time.perf_counter()
    path = sqlite_path(url)
    if path is not None and replace:
        for p in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
            p.unlink(missing_ok=True)
    elif is_postgres(url):
        pg_create_database(url, replace=replace)
    elif path is None:
        raise SystemExit("the generator writes to a SQLite file or a PostgreSQL database")

    store = open_store(url)
    try:
        hall = init_hall(store)
        with store.engine.connect() as c:
            if c.execute(sa.text("SELECT count(*) FROM case_events")).scalar():
                raise SystemExit(f"{url} already holds events: use --replace to start again")
            deadlines: dict[str, int] = {
                str(code): DEADLINE_DAYS[str(cls)]
                for code, cls in c.execute(
                    sa.text("SELECT code, deadline_class FROM categories WHERE active")
                )
            }
        columns = {t: _columns(store.engine, t) for t in TABLES}
    finally:
        store.dispose()

    factory = CaseFactory(cases=cases, seed=seed, hall_code=hall.hall_code, deadline_days=deadlines)

    def progress(done: int, rows: int) -> None:
        if quiet:
            return
        s = time.perf_counter() - started
        print(f"  {done:>9,} cases  {rows:>10,} rows  {s:7.1f} s  {rows / s:>9,.0f} rows/s", flush=True)

    if not quiet:
        print(f"generating {cases:,} cases into {url} (seed {seed})", flush=True)
    if path is not None:
        load_sqlite(path, factory, columns, progress)
    else:
        load_postgres(url, factory, columns, progress)
    stats = GenerationStats(
        url=url,
        cases=cases,
        events=factory.n_events,
        parties=factory.n_parties,
        seconds=time.perf_counter() - started,
        seed=seed,
        first_day=factory.first_day.isoformat(),
        last_day=(factory.end_day - dt.timedelta(days=1)).isoformat(),
        generated_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    )
    if not quiet:
        print(
            f"done: {stats.cases:,} cases, {stats.events:,} events, {stats.parties:,} parties = "
            f"{stats.rows:,} rows in {stats.seconds:.1f} s ({stats.rows_per_s:,.0f} rows/s)",
            flush=True,
        )
    return stats


def write_stats(stats: GenerationStats, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(asdict(stats), ensure_ascii=False, indent=2), encoding="utf-8")


def read_stats(path: Path) -> GenerationStats | None:
    try:
        return GenerationStats(**json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError):
        return None


# --- proving the store consistent -------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckReport:
    cases: int
    projection_rows: int
    rebuild_identical: bool  # the projections folded again from the log are the generated rows
    next_case_no: str
    next_hall_seq: int
    continues_numbering: bool  # a real registration takes the next case number and hall_seq
    same_shapes: bool  # payload keys and stored value formats are those of the real registration

    @property
    def ok(self) -> bool:
        return self.rebuild_identical and self.continues_numbering and self.same_shapes


def _shape(value: Any) -> Any:
    """The structure of a stored JSON value: dict keys in order (the first item of a list of dicts)."""
    if isinstance(value, dict):
        return [(k, _shape(v)) for k, v in value.items()]
    if isinstance(value, list) and value and isinstance(value[0], dict):
        return [_shape(value[0])]
    return None


def check_store(url: str) -> CheckReport:
    """Rebuild the projections from the log and compare them with the generated rows (rolled back after),
    then register one visit through the real service: its case number and hall_seq must follow on, and the
    rows it writes must look like the generated ones (payload keys, text formats of stored times).
    The rebuild goes through the ORM: use it on stores of a few thousand cases."""
    from sqlalchemy.orm import Session

    from desk.core.clock import SystemClock
    from desk.services.registration import RegistrationService
    from desk.store import projections
    from desk.store.models import CaseEvent, CaseRow, Counter, Hall
    from desk.store.repositories import projection_snapshot

    store = open_store(url)
    try:
        with store.engine.connect() as conn:
            trans = conn.begin()
            session = Session(bind=conn)
            before = projection_snapshot(session)
            projections.rebuild(session)
            session.expunge_all()
            after = projection_snapshot(session)
            session.close()
            trans.rollback()
        n_cases = sum(1 for r in before if r[0] == "cases")
        year = SystemClock().now().astimezone(CHINA_TZ).year
        with store.unit_of_work() as s:
            hall = s.scalars(sa.select(Hall).where(Hall.is_local)).one()
            last_seq = hall.last_seq
            max_seq = s.scalar(sa.select(sa.func.max(CaseEvent.hall_seq))) or 0
            n_year = (
                s.scalar(
                    sa.select(Counter.value).where(
                        Counter.hall_code == hall.code, Counter.name == f"case:{year}"
                    )
                )
                or 0
            )
            n_year_rows = (
                s.scalar(
                    sa.select(sa.func.count())
                    .select_from(CaseRow)
                    .where(CaseRow.case_no.like(f"{hall.code}-{year}-%"))
                )
                or 0
            )
        svc = RegistrationService(store, SystemClock(), principal=staff("bench"))
        names = {c.code: c.name for c in svc.categories()}
        result = svc.register(synthetic.make_visit(random.Random(1), categories=names), new_case=True)

        # Compare the raw rows of the real registration with a generated one, as the database holds them.
        raw_event = sa.text(
            "SELECT hall_seq, payload, occurred_at FROM case_events WHERE case_id = :c "
            "AND kind = 'registered'"
        )
        raw_case = sa.text(
            "SELECT registered_at, updated_at, deadline_at, risk_flags FROM cases WHERE id = :c"
        )
        with store.engine.connect() as c:
            generated_id = c.execute(
                sa.text("SELECT case_id FROM case_events WHERE hall_seq = :s"), {"s": max(1, last_seq)}
            ).scalar()
            shapes = []
            seq = c.execute(raw_event, {"c": result.case_id}).one()[0]
            for case_id in (result.case_id, generated_id):
                event_row = c.execute(raw_event, {"c": case_id}).one()
                stored: Any = event_row[1]  # JSON text on SQLite, already a dict from PostgreSQL's JSONB
                occurred = event_row[2]
                payload: dict[str, Any] = json.loads(stored) if isinstance(stored, str) else stored
                row = c.execute(raw_case, {"c": case_id}).one()
                formats = [
                    f"{type(v).__name__}:{len(str(v))}" for v in (occurred, *row[:3], payload["deadline_at"])
                ]
                shapes.append((_shape(payload), formats))
        expected_no = case_number(hall.code, year, n_year + 1)
        return CheckReport(
            cases=n_cases,
            projection_rows=len(before),
            rebuild_identical=before == after,
            next_case_no=result.case_no,
            next_hall_seq=int(seq),
            continues_numbering=(
                last_seq == max_seq
                and seq == last_seq + 1
                and result.case_no == expected_no
                and n_year == n_year_rows
            ),
            same_shapes=shapes[0] == shapes[1],
        )
    finally:
        store.dispose()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.generate", description=__doc__.splitlines()[0])
    p.add_argument("--db", required=True, metavar="URL", help="sqlite:///path.db or postgresql+psycopg://...")
    p.add_argument("--cases", type=int, default=1_000_000)
    p.add_argument("--seed", type=int, default=20261127)
    p.add_argument("--replace", action="store_true", help="delete the SQLite file / drop the database first")
    p.add_argument("--stats", type=Path, metavar="FILE", help="also write the generator's figures as JSON")
    p.add_argument(
        "--check",
        action="store_true",
        help="then prove the store consistent (projection rebuild; slow beyond ~10,000 cases)",
    )
    args = p.parse_args(argv)
    stats = generate(args.db, cases=args.cases, seed=args.seed, replace=args.replace)
    if args.stats:
        write_stats(stats, args.stats)
    if args.check:
        report = check_store(args.db)
        print(f"check: {report}")
        return 0 if report.ok else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
