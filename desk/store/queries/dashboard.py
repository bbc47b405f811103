"""The dashboard's counts over one China-time day (its UTC bounds given), each as `desk.core.metrics` defines it."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Session

from desk.core.events import EventKind
from desk.store.models import CaseEvent, TicketRow, WarningRow


def visits(session: Session, hall_code: str, start: dt.datetime, end: dt.datetime) -> int:
    """visits_today: registrations and repeat visits written at this hall in [start, end)."""
    return events_of_kind(session, hall_code, (EventKind.REGISTERED, EventKind.REPEAT_VISIT), start, end)


def waiting_by_room(session: Session, hall_code: str) -> dict[str, int]:
    """waiting_now: tickets waiting now, by room."""
    rows = session.execute(
        sa.select(TicketRow.room_code, sa.func.count())
        .where(TicketRow.hall_code == hall_code, TicketRow.state == "waiting")
        .group_by(TicketRow.room_code)
    ).all()
    return {room: int(n) for room, n in rows}


def first_calls(
    session: Session, hall_code: str, start: dt.datetime, end: dt.datetime
) -> list[tuple[dt.datetime, dt.datetime]]:
    """(arrival, first call) of the tickets first called in [start, end): the first `called` event of each ticket.
    A transferred visitor's earlier ticket was never called; the one that was keeps the first arrival."""
    first = (
        sa.select(
            CaseEvent.payload["ticket_id"].as_string().label("ticket_id"),
            sa.func.min(CaseEvent.occurred_at).label("called_at"),
        )
        .where(CaseEvent.hall_code == hall_code, CaseEvent.kind == EventKind.CALLED.value)
        .group_by(
            sa.text("1")
        )  # the ticket id, by position: PostgreSQL sees each bound JSON key as another expression
        .subquery()
    )
    rows = session.execute(
        sa.select(TicketRow.arrival_at, first.c.called_at)
        .join(first, first.c.ticket_id == TicketRow.id)
        .where(first.c.called_at >= start, first.c.called_at < end)
    ).all()
    return [(dt_of(a), dt_of(c)) for a, c in rows]


def dt_of(value: object) -> dt.datetime:
    """A stamp read back: the UTC column type gives aware datetimes; an aggregate (MIN) on SQLite gives text."""
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    moment = dt.datetime.fromisoformat(str(value))
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def events_of_kind(
    session: Session, hall_code: str, kinds: tuple[EventKind, ...], start: dt.datetime, end: dt.datetime
) -> int:
    """How many events of `kinds` this hall wrote in [start, end) (abandoned_today: kind abandoned)."""
    return int(
        session.scalar(
            sa.select(sa.func.count())
            .select_from(CaseEvent)
            .where(
                CaseEvent.hall_code == hall_code,
                CaseEvent.kind.in_([k.value for k in kinds]),
                CaseEvent.occurred_at >= start,
                CaseEvent.occurred_at < end,
            )
        )
        or 0
    )


def resolved(session: Session, hall_code: str, start: dt.datetime, end: dt.datetime) -> int:
    """resolved_today: outcome events recording 已化解 in [start, end), one per case."""
    return int(
        session.scalar(
            sa.select(sa.func.count(sa.distinct(CaseEvent.case_id))).where(
                CaseEvent.hall_code == hall_code,
                CaseEvent.kind == EventKind.OUTCOME_RECORDED.value,
                CaseEvent.payload["outcome"].as_string() == "resolved",
                CaseEvent.occurred_at >= start,
                CaseEvent.occurred_at < end,
            )
        )
        or 0
    )


def open_warnings_by_level(session: Session, hall_code: str) -> dict[str, int]:
    """warnings_open: unread warnings by level."""
    rows = session.execute(
        sa.select(WarningRow.level, sa.func.count())
        .where(WarningRow.hall_code == hall_code, WarningRow.acknowledged_at.is_(None))
        .group_by(WarningRow.level)
    ).all()
    return {level: int(n) for level, n in rows}
