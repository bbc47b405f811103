"""Projections: fold case events into the `cases` and `parties` rows. A rebuild from the log gives the same rows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from desk.store.models import CaseEvent, CaseRow, PartyRow, TicketRow

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
    session.flush()  # parties and tickets reference the case
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


# --- the queue ----------------------------------------------------------------------------------------


def _ticket(session: Session, ev: CaseEvent, key: str = "ticket_id") -> TicketRow | None:
    return session.get(TicketRow, ev.payload[key])


def _case(session: Session, ev: CaseEvent) -> CaseRow | None:
    return session.get(CaseRow, ev.case_id)


def _touch(case: CaseRow | None, ev: CaseEvent) -> None:
    if case is not None:
        case.updated_at = max(case.updated_at, ev.occurred_at)


def _new_ticket(session: Session, ev: CaseEvent, t: dict[str, Any]) -> None:
    session.add(
        TicketRow(
            id=t["ticket_id"],
            hall_code=ev.hall_code,
            case_id=ev.case_id,
            room_code=t["room"],
            day=dt.date.fromisoformat(t["day"]),
            number=t["number"],
            label=t["label"],
            priority_reasons=list(t["priority_reasons"]),
            arrival_at=dt.datetime.fromisoformat(t["arrival_at"]),
            queue_key=dt.datetime.fromisoformat(t["queue_key"]),
            state="waiting",
            recalls=0,
            updated_at=ev.occurred_at,
        )
    )


@applies("routed")
def _routed(session: Session, ev: CaseEvent) -> None:
    case = _case(session, ev)
    if case is not None:
        case.room_code = ev.payload["room"]
        _touch(case, ev)


@applies("ticket_issued")
def _ticket_issued(session: Session, ev: CaseEvent) -> None:
    _new_ticket(session, ev, ev.payload)
    case = _case(session, ev)
    if case is not None:
        case.state = "waiting"
        case.room_code = ev.payload["room"]
        _touch(case, ev)


def _set_ticket(state: str, **extra: str) -> Applier:
    def apply(session: Session, ev: CaseEvent) -> None:
        t = _ticket(session, ev)
        if t is None:
            return
        t.state = state
        t.updated_at = ev.occurred_at
        for column, source in extra.items():
            value = ev.occurred_at if source == "@time" else ev.actor if source == "@actor" else ev.payload.get(source)
            setattr(t, column, value)
        _touch(_case(session, ev), ev)

    return apply


_APPLIERS["parked"] = _set_ticket("parked")
_APPLIERS["unparked"] = _set_ticket("waiting")
_APPLIERS["no_show"] = _set_ticket("no_show")
_APPLIERS["abandoned"] = _set_ticket("abandoned")
_APPLIERS["service_finished"] = _set_ticket("done", finished_at="@time")


@applies("called")
def _called(session: Session, ev: CaseEvent) -> None:
    t = _ticket(session, ev)
    if t is None:
        return
    t.state, t.called_at, t.called_by, t.terminal, t.recalls = "called", ev.occurred_at, ev.actor, ev.payload.get(
        "terminal"), 0
    t.updated_at = ev.occurred_at
    _touch(_case(session, ev), ev)


@applies("recalled")
def _recalled(session: Session, ev: CaseEvent) -> None:
    t = _ticket(session, ev)
    if t is None:
        return
    t.recalls += 1
    t.called_at = ev.occurred_at
    t.updated_at = ev.occurred_at
    _touch(_case(session, ev), ev)


@applies("requeued")
def _requeued(session: Session, ev: CaseEvent) -> None:
    t = _ticket(session, ev)
    if t is None:
        return
    t.state = "waiting"
    t.recalls = 0
    t.queue_key = dt.datetime.fromisoformat(ev.payload["queue_key"])
    t.updated_at = ev.occurred_at
    _touch(_case(session, ev), ev)


@applies("claimed")
def _claimed(session: Session, ev: CaseEvent) -> None:
    t = _ticket(session, ev)
    if t is not None:
        t.state = "serving"
        t.served_at = ev.occurred_at
        t.called_by = ev.actor
        t.terminal = ev.payload.get("terminal")
        t.updated_at = ev.occurred_at
    case = _case(session, ev)
    if case is not None:
        case.state = "in_mediation"
        _touch(case, ev)


@applies("transferred")
def _transferred(session: Session, ev: CaseEvent) -> None:
    old = _ticket(session, ev, "from_ticket_id")
    if old is not None:
        old.state = "transferred"
        old.updated_at = ev.occurred_at
    _new_ticket(session, ev, ev.payload)
    case = _case(session, ev)
    if case is not None:
        case.state = "waiting"
        case.room_code = ev.payload["room"]
        _touch(case, ev)


def rebuild(session: Session) -> int:
    """Drop the projections and fold the whole log again, in case order (see EVENT_ORDER)."""
    session.execute(sa.delete(TicketRow))
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
