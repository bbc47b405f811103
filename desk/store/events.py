"""The case event log in the database: appending typed events (gap-free per-hall numbers, the store's HLC, the
projections updated in the same transaction), and reading rows back as `desk.core.events.Event`s."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.orm import Session

from desk.core import events as ev
from desk.core.events import Event, EventBody
from desk.core.hlc import next_stamp
from desk.core.ids import new_id
from desk.store.models import CaseEvent, Counter, Hall

SCHEMA_VERSION = 1

# The columns of `case_events` as events travel between stores (`seq` is the county's arrival number).
EVENT_COLUMNS = (
    "id",
    "hall_code",
    "hall_seq",
    "case_id",
    "kind",
    "payload",
    "occurred_at",
    "actor",
    "schema_version",
    "seq",
    "hlc",
)


def event_of(row: Sequence[Any]) -> Event:
    """An Event from a row of the EVENT_COLUMNS (as SQLAlchemy returns them: payload decoded, time aware)."""
    id_, hall_code, hall_seq, case_id, kind, payload, occurred_at, actor, schema_version, seq, hlc = row
    return Event(
        id_,
        hall_code,
        int(hall_seq),
        case_id,
        ev.decode(kind, payload),
        occurred_at,
        actor,
        int(hlc),
        int(schema_version),
        seq,
    )


def event_of_raw(row: Sequence[Any]) -> Event:
    """An Event from a row of the EVENT_COLUMNS read without SQLAlchemy's type processing (fast): the payload
    as JSON text (SQLite; kept as `raw_payload` to pass on unchanged) or decoded (PostgreSQL), the time as
    text (SQLite) or naive UTC."""
    id_, hall_code, hall_seq, case_id, kind, payload, occurred_at, actor, schema_version, seq, hlc = row
    raw = None
    if isinstance(payload, str):
        raw, payload = payload, orjson.loads(payload)
    if isinstance(occurred_at, str):
        occurred_at = dt.datetime.fromisoformat(occurred_at)
    return Event(
        id_,
        hall_code,
        int(hall_seq),
        case_id,
        ev.decode(kind, payload),
        occurred_at.replace(tzinfo=dt.UTC),
        actor,
        int(hlc),
        int(schema_version),
        seq,
        raw,
    )


def as_event(row: CaseEvent) -> Event:
    return event_of([getattr(row, c) for c in EVENT_COLUMNS])


def payload_json(e: Event) -> str:
    """The payload's JSON text: as the sending store held it when it was read raw, else encoded anew."""
    return e.raw_payload or orjson.dumps(e.body.to_json()).decode()


def row_values(e: Event) -> dict[str, Any]:
    """The event as `case_events` column values, for an ORM insert."""
    return {
        "id": e.id,
        "hall_code": e.hall_code,
        "hall_seq": e.hall_seq,
        "case_id": e.case_id,
        "kind": e.kind,
        "payload": e.body.to_json(),
        "occurred_at": e.occurred_at,
        "actor": e.actor,
        "schema_version": e.schema_version,
        "seq": e.seq,
        "hlc": e.hlc,
    }


# --- the store's clock and counters -----------------------------------------------------------------------


def next_hall_seq(session: Session, hall_code: str) -> int:
    """The hall's next event number; the row lock (PostgreSQL) or the IMMEDIATE transaction (SQLite)
    serialises writers, so numbers are gap-free: a rolled-back transaction gives its number back."""
    seq = session.execute(
        sa.update(Hall)
        .where(Hall.code == hall_code)
        .values(last_seq=Hall.last_seq + 1)
        .returning(Hall.last_seq)
    ).scalar_one_or_none()
    if seq is None:
        raise LookupError(f"hall {hall_code} is not in the store")
    return int(seq)


def take_stamp(session: Session, now: dt.datetime, case_id: str | None) -> int:
    """The HLC stamp of an event appended now: greater than the wall clock, than every stamp this store has
    appended or taken in, and than every stamp of the case. The store's clock moves to it.

    The clock is the greatest `halls.last_hlc`: the local hall's row holds what the store appended (locked here
    until commit, which serialises writers); at the county each hall's row also holds the greatest stamp taken
    in from that hall (a push moves the row it has locked anyway, so pushes never queue on one clock row)."""
    local = session.execute(
        sa.select(Hall.code, Hall.last_hlc).where(Hall.is_local).with_for_update()
    ).first()
    if local is None:
        raise LookupError("the store has no local hall")
    seen = session.scalar(sa.select(sa.func.max(Hall.last_hlc)))
    case_top = None
    if case_id is not None:
        case_top = session.scalar(sa.select(sa.func.max(CaseEvent.hlc)).where(CaseEvent.case_id == case_id))
    stamp = next_stamp(now, int(local.last_hlc), seen, case_top)
    session.execute(sa.update(Hall).where(Hall.code == local.code).values(last_hlc=stamp))
    return stamp


def advance_clock(session: Session, seen: int, *, hall_code: str | None = None) -> None:
    """Events taken in from elsewhere move the store's clock past their stamps: the local hall's row, or (at
    the county) the row of the hall that sent them."""
    row = Hall.code == hall_code if hall_code is not None else Hall.is_local
    session.execute(sa.update(Hall).where(row, Hall.last_hlc < seen).values(last_hlc=seen))


def bump_counter(session: Session, hall_code: str, name: str) -> int:
    """Increment a named per-hall counter, creating it at 1."""
    dialect = session.get_bind().dialect.name
    ins: sa.Insert
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        ins = pg_insert(Counter).values(hall_code=hall_code, name=name, value=0).on_conflict_do_nothing()
    else:
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        ins = sqlite_insert(Counter).values(hall_code=hall_code, name=name, value=0).on_conflict_do_nothing()
    session.execute(ins)
    value = session.execute(
        sa.update(Counter)
        .where(Counter.hall_code == hall_code, Counter.name == name)
        .values(value=Counter.value + 1)
        .returning(Counter.value)
    ).scalar_one()
    return int(value)


def append_event(
    session: Session,
    *,
    hall_code: str,
    case_id: str,
    body: EventBody,
    occurred_at: dt.datetime,
    actor: str,
) -> Event:
    """Append one typed event to the log and fold it into the projections, in the caller's transaction."""
    from desk.store.projections import apply_event

    new_case = isinstance(body, ev.Registered)
    event = Event(
        id=new_id(),
        hall_code=hall_code,
        hall_seq=next_hall_seq(session, hall_code),
        case_id=case_id,
        body=body,
        occurred_at=occurred_at,
        actor=actor,
        hlc=take_stamp(session, occurred_at, None if new_case else case_id),
        schema_version=SCHEMA_VERSION,
    )
    row = CaseEvent(**row_values(event))
    session.add(row)
    apply_event(session, event)
    # a county store gives these rows their arrival seq and outbox entries before the commit (see county.py)
    session.info.setdefault("appended_events", []).append(row)
    return event
