"""The local hall: its code, and the change mark other windows poll to know when to refresh."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from desk.store.models import Counter, Hall

ROOM_EDITS = "room_edits"  # the counter of room and roster edits, part of the change mark


def local_hall_code(session: Session) -> str | None:
    """The code of the hall this store belongs to; None before `desk init`."""
    return session.scalar(sa.select(Hall.code).where(Hall.is_local))


def change_mark(session: Session, hall_code: str) -> int:
    """`halls.last_seq` (every event moves it) plus the room edits counter (`halls.last_seq` numbers events only,
    gap-free, so room edits count apart)."""
    events = session.scalar(sa.select(Hall.last_seq).where(Hall.code == hall_code)) or 0
    edits = (
        session.scalar(
            sa.select(Counter.value).where(Counter.hall_code == hall_code, Counter.name == ROOM_EDITS)
        )
        or 0
    )
    return int(events) + int(edits)
