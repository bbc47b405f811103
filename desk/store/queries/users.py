"""Sign-in accounts: reads that return frozen records (with the hashes, for the auth service only), the edits,
and the failed sign-in count kept under a row lock."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from desk.core.ids import new_id
from desk.store.models import RoomRow, UserRow


@dataclass(frozen=True)
class UserRecord:
    """One account as stored. Carries the hashes: it stays inside the auth service (windows get `UserView`)."""

    id: str
    login: str
    name: str
    roles: tuple[str, ...]
    rooms: tuple[str, ...]
    password_hash: str
    pin_hash: str | None
    failed_count: int
    locked_until: dt.datetime | None
    active: bool


EDITABLE = frozenset(
    {"name", "roles", "rooms", "active", "password_hash", "pin_hash", "failed_count", "locked_until"}
)


def _record(row: UserRow) -> UserRecord:
    return UserRecord(
        id=row.id,
        login=row.login,
        name=row.name,
        roles=tuple(row.roles or ()),
        rooms=tuple(row.rooms or ()),
        password_hash=row.password_hash,
        pin_hash=row.pin_hash,
        failed_count=int(row.failed_count or 0),
        locked_until=row.locked_until,
        active=bool(row.active),
    )


def has_users(session: Session) -> bool:
    return session.scalar(sa.select(UserRow.id).limit(1)) is not None


def _row(session: Session, login: str, *, for_update: bool = False) -> UserRow | None:
    q = sa.select(UserRow).where(UserRow.login == login)
    if for_update:
        q = q.with_for_update()
    return session.scalar(q)


def by_login(session: Session, login: str, *, for_update: bool = False) -> UserRecord | None:
    """The account `login`; `for_update` locks its row to the end of the transaction (PostgreSQL; a SQLite
    unit of work holds the write lock already)."""
    row = _row(session, login, for_update=for_update)
    return None if row is None else _record(row)


def by_id(session: Session, user_id: str, *, for_update: bool = False) -> UserRecord | None:
    q = sa.select(UserRow).where(UserRow.id == user_id)
    if for_update:
        q = q.with_for_update()
    row = session.scalar(q)
    return None if row is None else _record(row)


def all_users(session: Session) -> list[UserRecord]:
    """Every account, by login."""
    return [_record(r) for r in session.scalars(sa.select(UserRow).order_by(UserRow.login))]


def insert(
    session: Session,
    *,
    login: str,
    name: str,
    roles: Iterable[str],
    rooms: Iterable[str],
    password_hash: str,
    pin_hash: str | None,
    now: dt.datetime,
) -> UserRecord:
    row = UserRow(
        id=new_id(),
        login=login,
        name=name,
        roles=sorted(roles),
        rooms=list(rooms),
        password_hash=password_hash,
        pin_hash=pin_hash,
        failed_count=0,
        locked_until=None,
        active=True,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    session.flush()
    return _record(row)


def update(session: Session, login: str, now: dt.datetime, **fields: Any) -> UserRecord | None:
    """Set some of the `EDITABLE` fields of `login`'s account; None if there is no such account."""
    unknown = set(fields) - EDITABLE
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    row = _row(session, login, for_update=True)
    if row is None:
        return None
    for key, value in fields.items():
        if key == "roles":
            value = sorted(value)
        elif key == "rooms":
            value = list(value)
        setattr(row, key, value)
    row.updated_at = now
    session.flush()
    return _record(row)


def active_admins(session: Session) -> list[str]:
    """The logins of the active accounts holding the admin role (few rows: filtered here, not in JSON SQL)."""
    rows = session.execute(sa.select(UserRow.login, UserRow.roles).where(UserRow.active.is_(True))).all()
    return sorted(login for login, roles in rows if "admin" in (roles or ()))


def room_codes(session: Session, hall_code: str) -> list[str]:
    """The codes of the hall's rooms, in their order."""
    return list(
        session.scalars(
            sa.select(RoomRow.code).where(RoomRow.hall_code == hall_code).order_by(RoomRow.position)
        )
    )
