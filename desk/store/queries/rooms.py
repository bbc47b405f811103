"""The hall's rooms and its mediator roster: reads that return frozen dataclasses, and the edits of both."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from desk.core.ids import new_id
from desk.core.queue import TicketState
from desk.store.models import CategoryRow, MediatorRow, RoomRow, TicketRow


@dataclass(frozen=True)
class RoomView:
    code: str
    name: str
    kind: str
    prefix: str
    capacity: int
    location: str
    categories: tuple[str, ...]
    is_open: bool
    number: int  # "3 号人民调解室"
    waiting: int
    staff: tuple[dict[str, str], ...]
    departments: tuple[dict[str, str], ...]
    primary_categories: tuple[str, ...] = ()

    @property
    def servers(self) -> int:
        """Mediators who receive visitors here at once: resident and rotating staff (on-call ones come when called)."""
        return max(1, sum(1 for x in self.staff if x.get("mode") in ("resident", "rotating")))


@dataclass(frozen=True)
class MediatorView:
    id: str
    name: str
    grade: str
    specialties: tuple[str, ...]
    phone: str


def waiting_by_room(session: Session, hall_code: str) -> dict[str, int]:
    """How many tickets wait (not parked) in each room of the hall; rooms with none are left out."""
    rows = session.execute(
        sa.select(TicketRow.room_code, sa.func.count())
        .where(TicketRow.hall_code == hall_code, TicketRow.state == TicketState.WAITING.value)
        .group_by(TicketRow.room_code)
    ).all()
    return {code: int(n) for code, n in rows}


def rooms(session: Session, hall_code: str) -> list[RoomView]:
    """The hall's rooms in their order, each with how many wait in it."""
    waiting = waiting_by_room(session, hall_code)
    rows = session.scalars(
        sa.select(RoomRow).where(RoomRow.hall_code == hall_code).order_by(RoomRow.position)
    )
    return [_room_view(r, waiting.get(r.code, 0)) for r in rows]


def room(session: Session, hall_code: str, code: str) -> RoomView | None:
    return next((r for r in rooms(session, hall_code) if r.code == code), None)


def room_exists(session: Session, hall_code: str, code: str) -> bool:
    return _room_row(session, hall_code, code) is not None


def set_room_open(session: Session, hall_code: str, code: str, is_open: bool) -> bool:
    """Open or close a room; False if the hall has no such room."""
    row = _room_row(session, hall_code, code)
    if row is None:
        return False
    row.is_open = is_open
    return True


def prefix_holder(session: Session, hall_code: str, prefix: str, *, other_than: str) -> str | None:
    """The name of another room of the hall whose tickets start with `prefix`, if any."""
    return session.scalar(
        sa.select(RoomRow.name).where(
            RoomRow.hall_code == hall_code, RoomRow.prefix == prefix, RoomRow.code != other_than
        )
    )


def update_room(
    session: Session,
    hall_code: str,
    code: str,
    *,
    name: str,
    kind: str,
    prefix: str,
    capacity: int,
    location: str,
    categories: Sequence[str],
    primary_categories: Sequence[str] | None,
    staff: Sequence[dict[str, str]],
    departments: Sequence[dict[str, str]],
) -> RoomView | None:
    """Write a room's fields as given (checked by the caller); `primary_categories` None keeps them. None if the
    hall has no such room."""
    row = _room_row(session, hall_code, code)
    if row is None:
        return None
    row.name, row.kind, row.prefix, row.capacity, row.location = name, kind, prefix, capacity, location
    row.categories = list(categories)
    if primary_categories is not None:
        row.primary_categories = list(primary_categories)
    row.staff = [dict(x) for x in staff]
    row.departments = [dict(x) for x in departments]
    session.flush()
    return room(session, hall_code, code)


def mediators(session: Session, hall_code: str) -> list[MediatorView]:
    """The hall's roster (active mediators), by name."""
    rows = session.scalars(
        sa.select(MediatorRow)
        .where(MediatorRow.hall_code == hall_code, MediatorRow.active)
        .order_by(MediatorRow.name)
    )
    return [_mediator_view(m) for m in rows]


def mediator_ids(session: Session, hall_code: str) -> set[str]:
    """Every mediator the hall has had, retired ones too."""
    return set(session.scalars(sa.select(MediatorRow.id).where(MediatorRow.hall_code == hall_code)))


def category_codes(session: Session) -> set[str]:
    """Every category code of the catalog, inactive ones too."""
    return set(session.scalars(sa.select(CategoryRow.code)))


def add_mediator(
    session: Session, hall_code: str, *, name: str, grade: str, specialties: Sequence[str], phone: str
) -> MediatorView:
    row = MediatorRow(
        id=new_id(),
        hall_code=hall_code,
        name=name,
        grade=grade,
        specialties=list(specialties),
        phone=phone,
        active=True,
    )
    session.add(row)
    session.flush()
    return _mediator_view(row)


def update_mediator(
    session: Session,
    hall_code: str,
    mediator_id: str,
    *,
    name: str,
    grade: str,
    specialties: Sequence[str],
    phone: str,
) -> MediatorView | None:
    """Correct a mediator's particulars; None if the hall has no such mediator."""
    row = _mediator_row(session, hall_code, mediator_id)
    if row is None:
        return None
    row.name, row.grade, row.phone = name, grade, phone
    row.specialties = list(specialties)
    session.flush()
    return _mediator_view(row)


def retire_mediator(session: Session, hall_code: str, mediator_id: str) -> bool:
    """Take a mediator off the roster and out of every room's staff; False if the hall has no such mediator."""
    row = _mediator_row(session, hall_code, mediator_id)
    if row is None:
        return False
    row.active = False
    for r in session.scalars(sa.select(RoomRow).where(RoomRow.hall_code == hall_code)):
        if any(x.get("mediator_id") == mediator_id for x in r.staff):
            r.staff = [x for x in r.staff if x.get("mediator_id") != mediator_id]
    return True


def _room_row(session: Session, hall_code: str, code: str) -> RoomRow | None:
    return session.scalars(
        sa.select(RoomRow).where(RoomRow.hall_code == hall_code, RoomRow.code == code)
    ).first()


def _mediator_row(session: Session, hall_code: str, mediator_id: str) -> MediatorRow | None:
    row = session.get(MediatorRow, mediator_id)
    return row if row is not None and row.hall_code == hall_code else None


def _room_view(r: RoomRow, waiting: int) -> RoomView:
    digits = "".join(ch for ch in r.code if ch.isdigit())
    return RoomView(
        r.code,
        r.name,
        r.kind,
        r.prefix,
        r.capacity,
        r.location,
        tuple(r.categories),
        r.is_open,
        int(digits) if digits else r.position + 1,
        waiting,
        tuple(r.staff),
        tuple(r.departments),
        tuple(r.primary_categories),
    )


def _mediator_view(m: MediatorRow) -> MediatorView:
    return MediatorView(m.id, m.name, m.grade, tuple(m.specialties), m.phone)
