"""The fold: how a case's typed events make its projected rows (`cases`, `parties`, `tickets`) as plain dicts.

This is the one definition of the projections. The store's live path (an event appended in a hall), its bulk
path (events taken in by sync) and the rebuild all fold through `apply`, so they cannot disagree. A row is a
dict keyed by column name. A case's events fold in causal order (`Event.order`: the HLC stamp, then the hall
and its sequence), never by wall clock.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from desk.core import events as ev
from desk.core.events import Event

Row = dict[str, Any]


@dataclass
class CaseState:
    """The projected rows of one case while folding."""

    case: Row | None = None
    parties: list[Row] = field(default_factory=list)
    tickets: dict[str, Row] = field(default_factory=dict)


Applier = Callable[[CaseState, Event, Any], None]
F = TypeVar("F", bound=Applier)
_APPLIERS: dict[type, Applier] = {}


def applies(*types: type) -> Callable[[F], F]:
    """Register the decorated function as the fold of events whose payload is one of `types`."""

    def register(fn: F) -> F:
        for t in types:
            _APPLIERS[t] = fn
        return fn

    return register


def projects(kind: str) -> bool:
    """Whether events of this kind change the projections at all."""
    try:
        return ev.PAYLOAD_TYPES[ev.EventKind(kind)] in _APPLIERS
    except ValueError:
        return False


def apply(state: CaseState, event: Event) -> None:
    """Fold one event into the case's rows; kinds without a projection (and unknown kinds) change nothing."""
    fn = _APPLIERS.get(type(event.body))
    if fn is not None:
        fn(state, event, event.body)


def fold(events: Iterable[Event]) -> CaseState:
    """A case's rows from its events, in causal order whatever order they are given in."""
    state = CaseState()
    for event in sorted(events, key=Event.order):
        apply(state, event)
    return state


def _touch(state: CaseState, event: Event) -> None:
    if state.case is not None:
        state.case["updated_at"] = max(state.case["updated_at"], event.occurred_at)


@applies(ev.Registered)
def _registered(state: CaseState, e: Event, p: ev.Registered) -> None:
    v = p.visit
    state.case = {
        "id": e.case_id,
        "case_no": p.case_no,
        "hall_code": e.hall_code,
        "category_code": v.category,
        "channel": v.channel,
        "headcount": v.headcount,
        "narrative": v.narrative,
        "risk_flags": sorted(v.risk_flags),
        "state": "registered",
        "repeat_visits": 0,
        "status_token": p.status_token,
        "registered_at": e.occurred_at,
        "updated_at": e.occurred_at,
        "deadline_at": p.deadline_at,
        "actor": e.actor,
        "room_code": None,
    }
    state.parties = [
        {
            "id": party.id,
            "case_id": e.case_id,
            "position": i,
            "role": party.role,
            "name": party.name,
            "name_initials": party.name_initials,
            "is_organisation": party.is_organisation,
            "id_number": party.id_number,
            "phone": party.phone,
            "address": party.address,
            "birth_date": party.birth_date,
            "sex": party.sex,
        }
        for i, party in enumerate(v.parties)
    ]


@applies(ev.RepeatVisit)
def _repeat_visit(state: CaseState, e: Event, p: ev.RepeatVisit) -> None:
    case = state.case
    if case is None:
        return
    case["repeat_visits"] += 1
    case["risk_flags"] = sorted(set(case["risk_flags"]) | {"repeat_visit"} | set(p.risk_flags))
    _touch(state, e)


@applies(ev.RiskFlagged)
def _risk_flagged(state: CaseState, e: Event, p: ev.RiskFlagged) -> None:
    case = state.case
    if case is None:
        return
    case["risk_flags"] = sorted(set(case["risk_flags"]) | set(p.flags))
    _touch(state, e)


@applies(ev.Diverted)
def _diverted(state: CaseState, e: Event, p: ev.Diverted) -> None:
    """上级分流: the case now belongs to another hall, which routes it to one of its rooms."""
    case = state.case
    if case is None:
        return
    case["hall_code"] = p.to_hall
    case["state"] = "diverted"
    case["room_code"] = None
    _touch(state, e)


# --- the queue ----------------------------------------------------------------------------------------


def _new_ticket(state: CaseState, e: Event, t: ev.TicketIssued | ev.Transferred) -> None:
    state.tickets[t.ticket_id] = {
        "id": t.ticket_id,
        "hall_code": e.hall_code,
        "case_id": e.case_id,
        "room_code": t.room,
        "day": t.day,
        "number": t.number,
        "label": t.label,
        "priority_reasons": list(t.priority_reasons),
        "arrival_at": t.arrival_at,
        "queue_key": t.queue_key,
        "state": "waiting",
        "recalls": 0,
        "called_at": None,
        "called_by": None,
        "terminal": None,
        "served_at": None,
        "finished_at": None,
        "updated_at": e.occurred_at,
    }


@applies(ev.Routed)
def _routed(state: CaseState, e: Event, p: ev.Routed) -> None:
    if state.case is not None:
        state.case["room_code"] = p.room
        _touch(state, e)


@applies(ev.TicketIssued)
def _ticket_issued(state: CaseState, e: Event, p: ev.TicketIssued) -> None:
    if state.case is None:  # a ticket needs its case (it can only be missing from a partial log)
        return
    _new_ticket(state, e, p)
    state.case["state"] = "waiting"
    state.case["room_code"] = p.room
    _touch(state, e)


_TicketStep = ev.Parked | ev.Unparked | ev.NoShow | ev.Abandoned | ev.ServiceFinished
_STEP_STATE: dict[type, str] = {
    ev.Parked: "parked",
    ev.Unparked: "waiting",
    ev.NoShow: "no_show",
    ev.Abandoned: "abandoned",
    ev.ServiceFinished: "done",
}


@applies(ev.Parked, ev.Unparked, ev.NoShow, ev.Abandoned, ev.ServiceFinished)
def _ticket_step(state: CaseState, e: Event, p: _TicketStep) -> None:
    t = state.tickets.get(p.ticket_id)
    if t is None:
        return
    t["state"] = _STEP_STATE[type(p)]
    t["updated_at"] = e.occurred_at
    if isinstance(p, ev.ServiceFinished):
        t["finished_at"] = e.occurred_at
    _touch(state, e)


@applies(ev.Called)
def _called(state: CaseState, e: Event, p: ev.Called) -> None:
    t = state.tickets.get(p.ticket_id)
    if t is None:
        return
    t.update(
        state="called",
        called_at=e.occurred_at,
        called_by=e.actor,
        terminal=p.terminal,
        recalls=0,
        updated_at=e.occurred_at,
    )
    _touch(state, e)


@applies(ev.Recalled)
def _recalled(state: CaseState, e: Event, p: ev.Recalled) -> None:
    t = state.tickets.get(p.ticket_id)
    if t is None:
        return
    t.update(recalls=t["recalls"] + 1, called_at=e.occurred_at, updated_at=e.occurred_at)
    _touch(state, e)


@applies(ev.Requeued)
def _requeued(state: CaseState, e: Event, p: ev.Requeued) -> None:
    t = state.tickets.get(p.ticket_id)
    if t is None:
        return
    t.update(state="waiting", recalls=0, queue_key=p.queue_key, updated_at=e.occurred_at)
    _touch(state, e)


@applies(ev.Claimed)
def _claimed(state: CaseState, e: Event, p: ev.Claimed) -> None:
    t = state.tickets.get(p.ticket_id)
    if t is not None:
        t.update(
            state="serving",
            served_at=e.occurred_at,
            called_by=e.actor,
            terminal=p.terminal,
            updated_at=e.occurred_at,
        )
    if state.case is not None:
        state.case["state"] = "in_mediation"
        _touch(state, e)


@applies(ev.Transferred)
def _transferred(state: CaseState, e: Event, p: ev.Transferred) -> None:
    if state.case is None:
        return
    old = state.tickets.get(p.from_ticket_id)
    if old is not None:
        old.update(state="transferred", updated_at=e.occurred_at)
    _new_ticket(state, e, p)
    state.case["state"] = "waiting"
    state.case["room_code"] = p.room
    _touch(state, e)
