"""A store written by the wave-1 code (tests/fixtures/wave1_store.sqlite: every event kind that code wrote, made
by tests/fixtures/make_wave1_store.py.txt at commit 6a66a42) opens with this code: the migration stamps its
events, the projections come out as that code left them, and the history reads as typed events."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from desk.core import events as ev
from desk.core.clock import CHINA_TZ, FixedClock
from desk.services.queue import QueueService
from desk.services.registration import RegistrationService
from desk.store import projections
from desk.store.models import CaseEvent, CaseRow, Hall
from desk.store.repositories import projection_snapshot
from desk.store.session import HEAD_REVISION, current_revision, open_store
from tests.conftest import staff

FIXTURES = Path(__file__).parent.parent / "fixtures"
# every kind the wave-1 code wrote (the fixture has them all); later kinds are not in it
WAVE1_KINDS = {
    "registered",
    "repeat_visit",
    "risk_flagged",
    "diverted",
    "routed",
    "ticket_issued",
    "called",
    "recalled",
    "parked",
    "unparked",
    "no_show",
    "requeued",
    "claimed",
    "transferred",
    "abandoned",
    "service_finished",
    "document_printed",
}


def _rows(engine: sa.Engine, table: str) -> list[dict[str, Any]]:
    with engine.connect() as c:
        cur = c.exec_driver_sql(f"SELECT * FROM {table} ORDER BY id")
        cols = list(cur.keys())
        return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]


def test_every_wave1_payload_round_trips_to_the_same_json() -> None:
    """Typed payloads write what the wave-1 code wrote: the same keys, values and key order."""
    with contextlib.closing(sqlite3.connect(FIXTURES / "wave1_store.sqlite")) as con:
        rows = con.execute("SELECT kind, payload FROM case_events ORDER BY hall_seq").fetchall()
    assert len(rows) > 40
    for kind, payload in rows:
        stored = json.loads(payload)
        again = ev.decode(kind, stored).to_json()
        assert list(again.items()) == list(stored.items()), kind


def test_a_wave1_store_opens_migrates_and_keeps_its_projections(tmp_path: Path) -> None:
    path = tmp_path / "wave1.sqlite"
    shutil.copyfile(FIXTURES / "wave1_store.sqlite", path)
    expected = json.loads((FIXTURES / "wave1_store.projections.json").read_text(encoding="utf-8"))
    store = open_store(f"sqlite:///{path}")
    try:
        assert current_revision(store.engine) == HEAD_REVISION
        for table in ("cases", "parties", "tickets"):
            rows = _rows(store.engine, table)
            kept = [{k: r[k] for k in old} for r, old in zip(rows, expected[table], strict=True)]
            assert kept == expected[table], table
        # columns added later: an old case keeps its deadline, due on its China-time day, under "legacy"
        for r, old in zip(_rows(store.engine, "cases"), expected["cases"], strict=True):
            deadline = dt.datetime.fromisoformat(old["deadline_at"]).replace(tzinfo=dt.UTC)
            assert r["due_on"] == deadline.astimezone(CHINA_TZ).date().isoformat()
            assert r["deadline_rule"] == "legacy"
            assert (r["risk_level"], r["outcome"], r["closed_at"], r["follow_up_due_on"]) == (None,) * 4
        with store.unit_of_work() as s:
            live = projection_snapshot(s)
            projections.rebuild(s)
            assert projection_snapshot(s) == live
            # stamped per hall in hall_seq order; the store's clock is past them all
            stamps = list(s.scalars(sa.select(CaseEvent.hlc).order_by(CaseEvent.hall_seq)))
            assert stamps == sorted(set(stamps))
            assert s.scalar(sa.select(Hall.last_hlc).where(Hall.is_local)) == stamps[-1]
            case_nos = list(s.scalars(sa.select(CaseRow.case_no).order_by(CaseRow.case_no)))
        # every stored event reads back as its typed payload, none unknown
        clock = FixedClock(dt.datetime(2026, 12, 7, 9, 0, tzinfo=dt.UTC))
        reg = RegistrationService(store, clock, principal=staff())
        seen: set[str] = set()
        for case_no in case_nos:
            for e in reg.case(case_no).events:
                assert not isinstance(e.body, ev.Unknown)
                assert ev.kind_of(e.body) == e.kind
                seen.add(e.kind)
        assert seen == WAVE1_KINDS
        # and the store takes new work: a case registered and ticketed after the upgrade
        new = reg.register(
            {
                "category": "邻里纠纷",
                "channel": "walk_in",
                "headcount": 1,
                "narrative": "升级后的第一位来访人。",
                "parties": [{"role": "applicant", "name": "升级后", "phone": "13900009999"}],
            },
            new_case=True,
        )
        issued = QueueService(store, clock, principal=staff()).issue_ticket(new.case_no)
        assert issued.ticket.state == "waiting"
        with store.read() as s:
            assert s.scalar(sa.select(sa.func.max(CaseEvent.hlc))) > stamps[-1]
    finally:
        store.dispose()
