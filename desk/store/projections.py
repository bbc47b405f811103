"""Projections in the database: the `cases`, `parties` and `tickets` rows folded from the event log (see fold.py).

Three ways in, one fold:
- `apply_event`: the live path, one event appended in a hall's own transaction (the ORM rows are updated);
- `ingest`: events that arrived from elsewhere (a push at the county, a pull at a hall), in bulk; every case they
  touch is folded again from all its events, so the projections are a fold of the union whatever the arrival order;
- `rebuild`: drop the projections and fold the whole log again.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from desk.core import fold
from desk.core.events import Event
from desk.core.fold import CaseState, Row
from desk.store.base import Base
from desk.store.bulk import insert_rows
from desk.store.events import EVENT_COLUMNS, event_of
from desk.store.models import CaseEvent, CaseRow, PartyRow, TicketRow

# Order within a case (Event.order): the HLC stamp, then (for equal stamps written by two stores) the hall and
# its own sequence, so a fold is causal and deterministic whatever order the events arrived in.
EVENT_ORDER = (CaseEvent.hlc, CaseEvent.hall_code, CaseEvent.hall_seq)

CASE_COLUMNS = tuple(c.key for c in CaseRow.__table__.columns)
PARTY_COLUMNS = tuple(c.key for c in PartyRow.__table__.columns)
TICKET_COLUMNS = tuple(c.key for c in TicketRow.__table__.columns)

CASES, PARTIES, TICKETS = (Base.metadata.tables[t] for t in ("cases", "parties", "tickets"))

CHUNK = 2000  # ids per IN (...) list


def event_order(session: Session) -> tuple[Any, ...]:
    """EVENT_ORDER as the database must sort it: text in code point order (PostgreSQL: COLLATE "C"), the same
    as Python's, so a fold in SQL order and one sorted in Python agree."""
    if session.get_bind().dialect.name == "postgresql":
        return (CaseEvent.hlc, CaseEvent.hall_code.collate("C"), CaseEvent.hall_seq)
    return EVENT_ORDER


def _chunks(items: Sequence[str], size: int = CHUNK) -> Iterator[Sequence[str]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _as_row(obj: Any, columns: Sequence[str]) -> Row:
    return {c: getattr(obj, c) for c in columns}


# --- the live path ---------------------------------------------------------------------------------------


def apply_event(session: Session, event: Event) -> None:
    """Update the projections for one newly appended event, in the same transaction. Its stamp is greater than
    every stamp of its case (events.take_stamp), so it folds onto the case's current rows as the last event."""
    if not fold.projects(event.kind):
        return
    case = session.get(CaseRow, event.case_id)
    tickets = list(
        session.scalars(
            sa.select(TicketRow)
            .where(TicketRow.case_id == event.case_id)
            .execution_options(populate_existing=True)
        )
    )
    state = CaseState(
        case=None if case is None else _as_row(case, CASE_COLUMNS),
        tickets={t.id: _as_row(t, TICKET_COLUMNS) for t in tickets},
    )
    fold.apply(state, event)
    if state.case is not None:
        if case is None:
            session.add(CaseRow(**state.case))
            session.flush()  # parties and tickets reference the case
        else:
            _update(case, state.case)
    if event.kind == "registered":
        session.add_all(PartyRow(**p) for p in state.parties)
    by_id = {t.id: t for t in tickets}
    for tid, row in state.tickets.items():
        existing = by_id.get(tid)
        if existing is None:
            session.add(TicketRow(**row))
        else:
            _update(existing, row)


def _update(obj: Any, row: Row) -> None:
    for key, value in row.items():
        if getattr(obj, key) != value:
            setattr(obj, key, value)


# --- bulk: refold, ingest, rebuild ------------------------------------------------------------------------


def load_events(session: Session, case_ids: Sequence[str]) -> dict[str, list[Event]]:
    """All events of these cases, grouped by case."""
    out: dict[str, list[Event]] = defaultdict(list)
    cols = [getattr(CaseEvent, c) for c in EVENT_COLUMNS]
    for chunk in _chunks(list(case_ids)):
        for r in session.execute(sa.select(*cols).where(CaseEvent.case_id.in_(chunk))):
            out[r.case_id].append(event_of(r))
    return out


def _forget(session: Session, case_ids: set[str]) -> None:
    """Detach the ORM copies of these cases' projected rows (they are about to be replaced)."""
    for obj in list(session.identity_map.values()):
        if (
            isinstance(obj, CaseRow)
            and obj.id in case_ids
            or isinstance(obj, (PartyRow, TicketRow))
            and obj.case_id in case_ids
        ):
            session.expunge(obj)


def replace_projections(session: Session, states: dict[str, CaseState], *, existing: Iterable[str]) -> None:
    """Write the folded rows of these cases; the cases in `existing` have rows already, which are replaced."""
    session.flush()
    old = sorted(set(existing))
    if old:
        _forget(session, set(old))
        for chunk in _chunks(old):
            session.execute(sa.delete(TicketRow).where(TicketRow.case_id.in_(chunk)))
            session.execute(sa.delete(PartyRow).where(PartyRow.case_id.in_(chunk)))
            session.execute(sa.delete(CaseRow).where(CaseRow.id.in_(chunk)))
    cases = [s.case for s in states.values() if s.case is not None]
    parties = [p for s in states.values() if s.case is not None for p in s.parties]
    tickets = [t for s in states.values() if s.case is not None for t in s.tickets.values()]
    for table, rows in ((CASES, cases), (PARTIES, parties), (TICKETS, tickets)):
        insert_rows(session, table, rows)


def refold(session: Session, case_ids: Iterable[str]) -> None:
    """Fold these cases again from their whole log."""
    ids = sorted(set(case_ids))
    session.flush()
    events = load_events(session, ids)
    replace_projections(session, {cid: fold.fold(events.get(cid, [])) for cid in ids}, existing=ids)


def ingest(session: Session, new: Sequence[Event], earlier: dict[str, list[Event]]) -> None:
    """Project events just inserted into the log that came from elsewhere. `earlier` holds, by case, the events
    the store had before them (see `load_events`); those cases are folded again from the union."""
    by_case: dict[str, list[Event]] = defaultdict(list)
    for ev in new:
        by_case[ev.case_id].append(ev)
    states: dict[str, CaseState] = {}
    had_rows: list[str] = []
    for cid, evs in by_case.items():
        before = earlier.get(cid, [])
        if before:
            had_rows.append(cid)
        states[cid] = fold.fold([*before, *evs])
    replace_projections(session, states, existing=had_rows)


def rebuild(session: Session) -> int:
    """Drop the projections and fold the whole log again, case by case (see fold.py)."""
    session.flush()
    session.expunge_all()
    session.execute(sa.delete(TicketRow))
    session.execute(sa.delete(PartyRow))
    session.execute(sa.delete(CaseRow))
    cols = [getattr(CaseEvent, c) for c in EVENT_COLUMNS]
    order = event_order(session)
    rows = session.execute(sa.select(*cols).order_by(CaseEvent.case_id, *order)).yield_per(5000)
    count = 0
    states: dict[str, CaseState] = {}
    current: str | None = None
    state = CaseState()
    for r in rows:
        ev = event_of(r)
        if ev.case_id != current:
            current, state = ev.case_id, CaseState()
            states[current] = state
            if len(states) >= 5000:
                last = states.pop(current)
                replace_projections(session, states, existing=())
                states = {current: last}
        fold.apply(state, ev)
        count += 1
    replace_projections(session, states, existing=())
    return count
