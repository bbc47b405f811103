"""The calls the hall display shows and announces."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from desk.core import queue as q
from desk.store.models import TicketRow
from desk.store.queries.rooms import rooms


@dataclass(frozen=True)
class CallView:
    """A call as the hall display shows it."""

    ticket: str
    room_code: str
    room_name: str
    room_number: int
    location: str
    called_at: dt.datetime
    recalls: int

    @property
    def text(self) -> str:
        return q.announcement(self.ticket, self.room_name, self.room_number)

    @property
    def spoken(self) -> str:
        return q.spoken_announcement(self.ticket, self.room_name, self.room_number)


def recent_calls(session: Session, hall_code: str, day: dt.date, limit: int) -> list[CallView]:
    """The day's calls, the latest first (a recall counts as a new call), with the room each was called to."""
    by_code = {r.code: r for r in rooms(session, hall_code)}
    rows = session.execute(
        sa.select(TicketRow.label, TicketRow.room_code, TicketRow.called_at, TicketRow.recalls)
        .where(TicketRow.hall_code == hall_code, TicketRow.day == day, TicketRow.called_at.is_not(None))
        .order_by(TicketRow.called_at.desc())
        .limit(limit)
    ).all()
    out = []
    for label, room_code, called_at, recalls in rows:
        r = by_code.get(room_code)
        assert called_at is not None  # the query asks for called tickets only
        out.append(
            CallView(
                label,
                room_code,
                r.name if r else room_code,
                r.number if r else 0,
                r.location if r else "",
                called_at,
                recalls,
            )
        )
    return out
