"""Tickets and the room queues: reads that return frozen dataclasses, and the conditional UPDATE that moves a ticket
only from the state it was seen in (of two terminals pressing at once exactly one wins)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from desk.core.queue import TicketState
from desk.store.models import BookingRow, CaseRow, TicketRow

# The states of a ticket that is still in a queue.
IN_QUEUE = (TicketState.WAITING.value, TicketState.CALLED.value, TicketState.PARKED.value)


@dataclass(frozen=True)
class TicketView:
    id: str
    case_id: str
    case_no: str
    label: str
    room_code: str
    state: str
    priority_reasons: tuple[str, ...]
    arrival_at: dt.datetime
    queue_key: dt.datetime
    recalls: int
    called_at: dt.datetime | None
    called_by: str | None
    terminal: str | None

    @property
    def is_priority(self) -> bool:
        return bool(self.priority_reasons)


@dataclass(frozen=True)
class WaitingTicket:
    """A waiting ticket with what the take-over rule (`desk.core.queue.take_over_candidates`) needs of its case."""

    id: str
    case_id: str
    room_code: str
    number: int
    arrival_at: dt.datetime
    queue_key: dt.datetime
    priority_reasons: tuple[str, ...]
    category_code: str
    headcount: int
    risk_flags: tuple[str, ...]


_VIEW = (
    TicketRow.id,
    TicketRow.case_id,
    CaseRow.case_no,
    TicketRow.label,
    TicketRow.room_code,
    TicketRow.state,
    TicketRow.priority_reasons,
    TicketRow.arrival_at,
    TicketRow.queue_key,
    TicketRow.recalls,
    TicketRow.called_at,
    TicketRow.called_by,
    TicketRow.terminal,
)


def _view(row: sa.Row[*tuple[Any, ...]]) -> TicketView:
    return TicketView(
        row.id,
        row.case_id,
        row.case_no or "",
        row.label,
        row.room_code,
        row.state,
        tuple(row.priority_reasons),
        row.arrival_at,
        row.queue_key,
        row.recalls,
        row.called_at,
        row.called_by,
        row.terminal,
    )


def _on_postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def ticket(session: Session, ticket_id: str) -> TicketView | None:
    """The ticket as the store has it now (never a stale copy: the conditional UPDATE bypasses the ORM)."""
    row = session.execute(
        sa.select(*_VIEW).outerjoin(CaseRow, CaseRow.id == TicketRow.case_id).where(TicketRow.id == ticket_id)
    ).first()
    return None if row is None else _view(row)


def has_ticket_in_queue(session: Session, case_id: str) -> bool:
    """Whether the case has a ticket still in a queue (waiting, called or parked)."""
    return (
        session.scalar(
            sa.select(TicketRow.id)
            .where(TicketRow.case_id == case_id, TicketRow.state.in_(IN_QUEUE))
            .limit(1)
        )
        is not None
    )


def ticket_in_queue(session: Session, case_no: str) -> TicketView | None:
    """The case's ticket still in a queue (waiting, called or parked), the latest changed if several."""
    row = session.execute(
        sa.select(*_VIEW)
        .join(CaseRow, CaseRow.id == TicketRow.case_id)
        .where(CaseRow.case_no == case_no, TicketRow.state.in_(IN_QUEUE))
        .order_by(TicketRow.updated_at.desc())
        .limit(1)
    ).first()
    return None if row is None else _view(row)


def room_queue(
    session: Session, hall_code: str, room_code: str, states: Collection[TicketState]
) -> list[TicketView]:
    """The room's tickets in the given states, by queue key then number."""
    rows = session.execute(
        sa.select(*_VIEW)
        .join(CaseRow, CaseRow.id == TicketRow.case_id)
        .where(
            TicketRow.hall_code == hall_code,
            TicketRow.room_code == room_code,
            TicketRow.state.in_([x.value for x in states]),
        )
        .order_by(TicketRow.queue_key, TicketRow.number)
    ).all()
    return [_view(r) for r in rows]


def ahead_of(session: Session, hall_code: str, t: TicketView) -> int:
    """How many wait before `t` in its room: a smaller queue key, or the same key and a lower number."""
    number = int(session.scalar(sa.select(TicketRow.number).where(TicketRow.id == t.id)) or 0)
    return int(
        session.scalar(
            sa.select(sa.func.count())
            .select_from(TicketRow)
            .where(
                TicketRow.hall_code == hall_code,
                TicketRow.room_code == t.room_code,
                TicketRow.state == TicketState.WAITING.value,
                TicketRow.id != t.id,
                sa.or_(
                    TicketRow.queue_key < t.queue_key,
                    sa.and_(TicketRow.queue_key == t.queue_key, TicketRow.number < number),
                ),
            )
        )
        or 0
    )


def next_waiting(session: Session, hall_code: str, room_code: str) -> str | None:
    """The id of the room's first waiting ticket. On PostgreSQL a ticket another transaction is calling right now
    is skipped (`FOR UPDATE SKIP LOCKED`), so two terminals pressing at once get different visitors."""
    pick = (
        sa.select(TicketRow.id)
        .where(
            TicketRow.hall_code == hall_code,
            TicketRow.room_code == room_code,
            TicketRow.state == TicketState.WAITING.value,
        )
        .order_by(TicketRow.queue_key, TicketRow.number)
        .limit(1)
    )
    if _on_postgresql(session):
        pick = pick.with_for_update(skip_locked=True)
    return session.scalar(pick)


def waiting_elsewhere(
    session: Session,
    hall_code: str,
    room_code: str,
    *,
    categories: Collection[str],
    capacity: int,
    limit: int,
) -> list[WaitingTicket]:
    """The longest-queued waiting tickets of the hall's other rooms whose case is of one of `categories` and whose
    group fits `capacity` (by queue key, then number): the candidates for a take-over. On PostgreSQL the rows are
    locked, skipping those another transaction holds."""
    pick = (
        sa.select(
            TicketRow.id,
            TicketRow.case_id,
            TicketRow.room_code,
            TicketRow.number,
            TicketRow.arrival_at,
            TicketRow.queue_key,
            TicketRow.priority_reasons,
            CaseRow.category_code,
            CaseRow.headcount,
            CaseRow.risk_flags,
        )
        .join(CaseRow, CaseRow.id == TicketRow.case_id)
        .where(
            TicketRow.hall_code == hall_code,
            TicketRow.room_code != room_code,
            TicketRow.state == TicketState.WAITING.value,
            CaseRow.category_code.in_(list(categories)),
            CaseRow.headcount <= capacity,
        )
        .order_by(TicketRow.queue_key, TicketRow.number)
        .limit(limit)
    )
    if _on_postgresql(session):
        pick = pick.with_for_update(of=TicketRow, skip_locked=True)
    return [
        WaitingTicket(
            r.id,
            r.case_id,
            r.room_code,
            r.number,
            r.arrival_at,
            r.queue_key,
            tuple(r.priority_reasons),
            r.category_code,
            r.headcount,
            tuple(r.risk_flags),
        )
        for r in session.execute(pick).all()
    ]


def move_ticket(
    session: Session, ticket_id: str, *, allowed: Collection[TicketState], to: TicketState, now: dt.datetime
) -> bool:
    """The conditional UPDATE: move the ticket to `to` only if it is still in one of the `allowed` states. True if
    it moved; False if another terminal moved it first. The caller appends the event, whose projection sets the
    same state, in the same transaction."""
    res = session.execute(
        sa.update(TicketRow)
        .where(TicketRow.id == ticket_id, TicketRow.state.in_([a.value for a in allowed]))
        .values(state=to.value, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(res, "rowcount", 0) == 1)


def claimable_ticket(
    session: Session, hall_code: str, *, token: str, case_no: str, label: str, day: dt.date
) -> str | None:
    """The id of a waiting or called ticket of the hall for a scanned receipt: of the case whose status token is
    `token` or whose number is `case_no`; failing such a case, today's ticket labelled `label`."""
    case_id = session.scalar(
        sa.select(CaseRow.id)
        .where(sa.or_(CaseRow.status_token == token, CaseRow.case_no == case_no))
        .limit(1)
    )
    query = sa.select(TicketRow.id).where(
        TicketRow.hall_code == hall_code,
        TicketRow.state.in_([TicketState.WAITING.value, TicketState.CALLED.value]),
    )
    if case_id is not None:
        query = query.where(TicketRow.case_id == case_id)
    else:
        query = query.where(TicketRow.label == label, TicketRow.day == day)
    return session.scalar(query.order_by(TicketRow.updated_at.desc()).limit(1))


def serving_by_room(session: Session, hall_code: str) -> dict[str, int]:
    """How many visitors each room is calling or receiving now; rooms with none are left out."""
    rows = session.execute(
        sa.select(TicketRow.room_code, sa.func.count())
        .where(
            TicketRow.hall_code == hall_code,
            TicketRow.state.in_([TicketState.CALLED.value, TicketState.SERVING.value]),
        )
        .group_by(TicketRow.room_code)
    ).all()
    return {code: int(n) for code, n in rows}


def recent_handling_minutes(
    session: Session, hall_code: str, *, per_room: int, window: int
) -> dict[str, list[float]]:
    """Each room's handling times (minutes, newest first), at most `per_room` of them, among the hall's last
    `window` finished services."""
    recent: dict[str, list[float]] = {}
    finished = session.execute(
        sa.select(TicketRow.room_code, TicketRow.served_at, TicketRow.finished_at)
        .where(TicketRow.hall_code == hall_code, TicketRow.finished_at.is_not(None))
        .order_by(TicketRow.finished_at.desc())
        .limit(window)
    )
    for room_code, served, done in finished:
        bucket = recent.setdefault(room_code, [])
        if served is not None and done is not None and len(bucket) < per_room:
            bucket.append((done - served).total_seconds() / 60)
    return recent


# --- booked visitors (预约办) ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class BookedVisitor:
    """An appointment of today in a room whose visitor has not yet arrived (no ticket of the case today)."""

    booking_id: str
    case_no: str
    room_code: str
    day: dt.date
    time: str  # HH:MM
    note: str


def booked_today(
    session: Session, hall_code: str, day: dt.date, room_code: str | None = None
) -> list[BookedVisitor]:
    """The bookings of `day` (in `room_code`, or every room) whose case has no ticket of that day yet, by time."""
    arrived = sa.exists().where(TicketRow.case_id == BookingRow.case_id, TicketRow.day == day)
    stmt = (
        sa.select(
            BookingRow.id, CaseRow.case_no, BookingRow.room, BookingRow.day, BookingRow.time, BookingRow.note
        )
        .join(CaseRow, CaseRow.id == BookingRow.case_id)
        .where(BookingRow.hall_code == hall_code, BookingRow.day == day, ~arrived)
        .order_by(BookingRow.time, CaseRow.case_no)
    )
    if room_code is not None:
        stmt = stmt.where(BookingRow.room == room_code)
    return [BookedVisitor(*row) for row in session.execute(stmt)]


def booking(session: Session, booking_id: str) -> BookedVisitor | None:
    row = session.execute(
        sa.select(
            BookingRow.id, CaseRow.case_no, BookingRow.room, BookingRow.day, BookingRow.time, BookingRow.note
        )
        .join(CaseRow, CaseRow.id == BookingRow.case_id)
        .where(BookingRow.id == booking_id)
    ).first()
    return BookedVisitor(*row) if row is not None else None
