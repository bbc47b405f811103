"""Projections: fold case events into the `cases` and `parties` rows. A rebuild from the log gives the same rows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from desk.store.models import CaseEvent, CaseRow, PartyRow

# Order within a case: occurred_at, then (for events of one hall at the same instant) the hall's own
# sequence, then the id, so a fold is deterministic whatever order the events arrived in.
EVENT_ORDER = (CaseEvent.occurred_at, CaseEvent.hall_code, CaseEvent.hall_seq, CaseEvent.id)

Applier = Callable[[Session, CaseEvent], None]
_APPLIERS: dict[str, Applier] = {}


def applies(kind: str) -> Callable[[Applier], Applier]:
    def register(fn: Applier) -> Applier:
        _APPLIERS[kind] = fn
        return fn

    return register


def apply_event(session: Session, event: CaseEvent) -> None:
    """Update the projections for one event; kinds without a projection change nothing."""
    fn = _APPLIERS.get(event.kind)
    if fn is not None:
        fn(session, event)


def _ts(value: str | None) -> dt.datetime | None:
    return None if value is None else dt.datetime.fromisoformat(value)


@applies("registered")
def _registered(session: Session, ev: CaseEvent) -> None:
    p: dict[str, Any] = ev.payload
    deadline = _ts(p["deadline_at"])
    assert deadline is not None
    session.add(
        CaseRow(
            id=ev.case_id,
            case_no=p["case_no"],
            hall_code=ev.hall_code,
            category_code=p["category"],
            channel=p["channel"],
            headcount=p["headcount"],
            narrative=p["narrative"],
            risk_flags=sorted(p["risk_flags"]),
            state="registered",
            repeat_visits=0,
            status_token=p["status_token"],
            registered_at=ev.occurred_at,
            updated_at=ev.occurred_at,
            deadline_at=deadline,
            actor=ev.actor,
        )
    )
    session.flush()  # parties reference the case
    for i, party in enumerate(p["parties"]):
        session.add(
            PartyRow(
                id=party["id"],
                case_id=ev.case_id,
                position=i,
                role=party["role"],
                name=party["name"],
                name_initials=party["name_initials"],
                is_organisation=party["is_organisation"],
                id_number=party["id_number"],
                phone=party["phone"],
                address=party["address"],
                birth_date=dt.date.fromisoformat(party["birth_date"]) if party["birth_date"] else None,
                sex=party["sex"],
            )
        )


@applies("repeat_visit")
def _repeat_visit(session: Session, ev: CaseEvent) -> None:
    case = session.get(CaseRow, ev.case_id)
    if case is None:
        return
    case.repeat_visits += 1
    case.risk_flags = sorted(set(case.risk_flags) | {"repeat_visit"} | set(ev.payload.get("risk_flags", [])))
    case.updated_at = max(case.updated_at, ev.occurred_at)


@applies("risk_flagged")
def _risk_flagged(session: Session, ev: CaseEvent) -> None:
    case = session.get(CaseRow, ev.case_id)
    if case is None:
        return
    case.risk_flags = sorted(set(case.risk_flags) | set(ev.payload["flags"]))
    case.updated_at = max(case.updated_at, ev.occurred_at)


def rebuild(session: Session) -> int:
    """Drop the projections and fold the whole log again, in case order (see EVENT_ORDER)."""
    session.execute(sa.delete(PartyRow))
    session.execute(sa.delete(CaseRow))
    session.flush()
    count = 0
    events = session.scalars(sa.select(CaseEvent).order_by(*EVENT_ORDER))
    for ev in events:
        apply_event(session, ev)
        count += 1
        if count % 1000 == 0:
            session.flush()
    session.flush()
    return count
