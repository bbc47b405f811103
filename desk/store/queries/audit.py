"""The audit log: append (the app never updates or deletes a row), numbered per hall like the events."""

from __future__ import annotations

import datetime as dt

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
