"""Projections in the database: the `cases` rows and the rows of each case (`parties`, `tickets`, `whistles`,
`warnings`, `bookings`) folded from the event log (see fold.py).

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
from desk.store.models import BookingRow, CaseEvent, CaseRow, PartyRow, TicketRow, WarningRow, WhistleRow

# Order within a case (Event.order): the HLC stamp, then (for equal stamps written by two stores) the hall and
# its own sequence, so a fold is causal and deterministic whatever order the events arrived in.
EVENT_ORDER = (CaseEvent.hlc, CaseEvent.hall_code, CaseEvent.hall_seq)

CASE_COLUMNS = tuple(c.key for c in CaseRow.__table__.columns)
PARTY_COLUMNS = tuple(c.key for c in PartyRow.__table__.columns)

CASES, PARTIES = (Base.metadata.tables[t] for t in ("cases", "parties"))

# The case's child rows the fold keeps by id (CaseState.tickets, .whistles, ...), and their models.
CHILD_MODELS: dict[str, type[TicketRow | WhistleRow | WarningRow | BookingRow]] = {
    "tickets": TicketRow,
    "whistles": WhistleRow,
    "warnings": WarningRow,
    "bookings": BookingRow,
}
assert set(CHILD_MODELS) == fold.CHILD_ROWS
CHILD_COLUMNS = {name: tuple(c.key for c in m.__table__.columns) for name, m in CHILD_MODELS.items()}
# every table folded per case, children first (they reference the case)
PROJECTED_MODELS = (TicketRow, WhistleRow, WarningRow, BookingRow, PartyRow, CaseRow)
assert set(PROJECTED_MODELS) == {*CHILD_MODELS.values(), PartyRow, CaseRow}

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
    every stamp of its case (events.take_stamp), so it folds onto the case's current rows as the last event.
    Only the child rows its kind can touch are read (fold.reads)."""
    if not fold.projects(event.kind):
        return
    case = session.get(CaseRow, event.case_id)
    state = CaseState(case=None if case is None else _as_row(case, CASE_COLUMNS))
    loaded: dict[str, dict[str, Any]] = {}
    for name in sorted(fold.reads(event.kind)):
        model: Any = CHILD_MODELS[name]
        found: Sequence[Any] = session.scalars(
            sa.select(model).where(model.case_id == event.case_id).execution_options(populate_existing=True)
        ).all()
        objs: dict[str, Any] = {o.id: o for o in found}
        loaded[name] = objs
        getattr(state, name).update({i: _as_row(o, CHILD_COLUMNS[name]) for i, o in objs.items()})
    fold.apply(state, event)
    if state.case is not None:
        if case is None:
            session.add(CaseRow(**state.case))
            session.flush()  # parties and tickets reference the case
        else:
            _update(case, state.case)
    if event.kind == "registered":
        session.add_all(PartyRow(**p) for p in state.parties)
    for name, child in CHILD_MODELS.items():
        existing = loaded.get(name, {})
        for rid, row in getattr(state, name).items():
            obj = existing.get(rid)
            if obj is None:
                session.add(child(**row))
            else:
                _update(obj, row)


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
            or isinstance(obj, (PartyRow, TicketRow, WhistleRow, WarningRow, BookingRow))
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
            for model in PROJECTED_MODELS:
                table = Base.metadata.tables[model.__tablename__]
                key = table.c.id if model is CaseRow else table.c.case_id
                session.execute(sa.delete(table).where(key.in_(chunk)))
    folded = [s for s in states.values() if s.case is not None]
    insert_rows(session, CASES, [s.case for s in folded if s.case is not None])
    insert_rows(session, PARTIES, [p for s in folded for p in s.parties])
    for name, model in CHILD_MODELS.items():
        rows = [r for s in folded for r in getattr(s, name).values()]
        insert_rows(session, Base.metadata.tables[model.__tablename__], rows)


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
    for model in PROJECTED_MODELS:
        session.execute(sa.delete(model))
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
