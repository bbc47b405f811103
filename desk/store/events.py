"""Appending to the case event log: gap-free per-hall sequence numbers, projections updated in the same transaction."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from desk.core.ids import new_id
from desk.store.models import CaseEvent, Counter, Hall
from desk.store.projections import apply_event

SCHEMA_VERSION = 1


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
    kind: str,
    payload: dict[str, Any],
    occurred_at: dt.datetime,
    actor: str,
) -> CaseEvent:
    event = CaseEvent(
        id=new_id(),
        hall_code=hall_code,
        hall_seq=next_hall_seq(session, hall_code),
        case_id=case_id,
        kind=kind,
        payload=payload,
        occurred_at=occurred_at,
        actor=actor,
        schema_version=SCHEMA_VERSION,
    )
    session.add(event)
    apply_event(session, event)
    # a county store gives these their arrival seq and outbox entries before the commit (see county.py)
    session.info.setdefault("appended_events", []).append(event)
    return event
