"""The audit log: append (the app never updates or deletes a row), numbered per hall like the events; search it;
read a hall's entries to send to the county."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from desk.core.audit import DETAIL_MAX, AuditAction
from desk.core.ids import new_id
from desk.store.events import bump_counter
from desk.store.models import AuditRow

AUDIT_COUNTER = "audit"


def record(
    session: Session,
    *,
    hall_code: str,
    at: dt.datetime,
    login: str,
    user_name: str,
    terminal: str,
    action: AuditAction,
    case_id: str | None = None,
    case_no: str | None = None,
    detail: str = "",
) -> None:
    """Append one entry in the caller's transaction (so a change and its entry commit or vanish together).
    `detail` must hold nothing personal: a step's name, a document's kind, a report's period."""
    seq = bump_counter(session, hall_code, AUDIT_COUNTER)
    session.add(
        AuditRow(
            id=new_id(),
            hall_code=hall_code,
            hall_seq=seq,
            at=at,
            login=login[:32],
            user_name=user_name[:40],
            terminal=terminal[:60],
            action=action.value,
            case_id=case_id,
            case_no=case_no,
            detail=detail[:DETAIL_MAX],
        )
    )


@dataclass(frozen=True)
class AuditEntry:
    """One entry as the supervisor reads it."""

    at: dt.datetime
    login: str
    user_name: str
    terminal: str
    action: AuditAction
    case_no: str | None
    detail: str


def search(
    session: Session,
    *,
    login: str | None = None,
    case_no: str | None = None,
    since: dt.datetime | None = None,
    before: dt.datetime | None = None,
    action: AuditAction | None = None,
    limit: int | None = 500,
) -> list[AuditEntry]:
    """Entries matching every filter given, newest first: by login, by case number, at or after `since` and
    before `before`, of one kind; at most `limit` (None: all). Each filter has an index ((login, at), (case_no,
    at), (at))."""
    q = sa.select(
        AuditRow.at,
        AuditRow.login,
        AuditRow.user_name,
        AuditRow.terminal,
        AuditRow.action,
        AuditRow.case_no,
        AuditRow.detail,
    )
    if login is not None:
        q = q.where(AuditRow.login == login)
    if case_no is not None:
        q = q.where(AuditRow.case_no == case_no)
    if since is not None:
        q = q.where(AuditRow.at >= since)
    if before is not None:
        q = q.where(AuditRow.at < before)
    if action is not None:
        q = q.where(AuditRow.action == action.value)
    q = q.order_by(AuditRow.at.desc(), AuditRow.hall_seq.desc())
    if limit is not None:
        q = q.limit(limit)
    return [
        AuditEntry(at, login_, name, terminal, AuditAction(kind), case, detail)
        for at, login_, name, terminal, kind, case, detail in session.execute(q)
    ]


def last_hall_seq(session: Session, hall_code: str) -> int:
    """The newest entry's number of `hall_code` (0 if none): one step down the (hall_code, hall_seq) index."""
    return int(
        session.scalar(sa.select(sa.func.max(AuditRow.hall_seq)).where(AuditRow.hall_code == hall_code)) or 0
    )


AUDIT_COLUMNS = (
    "id",
    "hall_code",
    "hall_seq",
    "at",
    "login",
    "user_name",
    "terminal",
    "action",
    "case_id",
    "case_no",
    "detail",
)


def entries_after(session: Session, hall_code: str, after: int, limit: int) -> list[dict[str, Any]]:
    """The hall's entries numbered after `after`, in order, at most `limit`: as rows to send to the county."""
    rows = session.execute(
        sa.select(*(getattr(AuditRow, c) for c in AUDIT_COLUMNS))
        .where(AuditRow.hall_code == hall_code, AuditRow.hall_seq > after)
        .order_by(AuditRow.hall_seq)
        .limit(limit)
    )
    return [dict(zip(AUDIT_COLUMNS, r, strict=True)) for r in rows]
