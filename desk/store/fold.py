"""The fold: how a case's events make its projected rows (`cases`, `parties`, `tickets`), on plain dicts.

This is the one definition of the projections. The live path (`projections.apply_event`), the bulk path that
takes in synced events (`projections.ingest`) and the rebuild all fold through `apply`, so they cannot disagree.
A row is a dict keyed by column name; an event is anything with the `case_events` attributes (an ORM row or an
`EventData`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import orjson

Row = dict[str, Any]


class Event(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def hall_code(self) -> str: ...
    @property
    def hall_seq(self) -> int: ...
    @property
    def case_id(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def payload(self) -> dict[str, Any]: ...
    @property
    def occurred_at(self) -> dt.datetime: ...
    @property
    def actor(self) -> str: ...


@dataclass(frozen=True, slots=True)
class EventData:
    """An event as it travels between stores (the columns of `case_events`, `seq` being the county's)."""

    id: str
    hall_code: str
    hall_seq: int
    case_id: str
    kind: str
    payload: dict[str, Any]
    occurred_at: dt.datetime
    actor: str
    schema_version: int = 1
    seq: int | None = None
    # the payload's JSON text as the sending store holds it, when it was read raw: sent on as it is
    raw_payload: str | None = field(default=None, compare=False, repr=False)


EVENT_COLUMNS = (
    "id",
    "hall_code",
    "hall_seq",
    "case_id",
    "kind",
    "payload",
    "occurred_at",
    "actor",
    "schema_version",
    "seq",
)


def event_of(row: Sequence[Any]) -> EventData:
    """An EventData from a row of the EVENT_COLUMNS."""
    return EventData(*row)


def event_of_raw(row: Sequence[Any]) -> EventData:
    """An EventData from a row of the EVENT_COLUMNS read without SQLAlchemy's type processing (fast): the
    payload as JSON text (SQLite) or decoded (PostgreSQL), the time as text (SQLite) or naive UTC."""
    id_, hall_code, hall_seq, case_id, kind, payload, occurred_at, actor, schema_version, seq = row
    raw = None
    if isinstance(payload, str):
        raw, payload = payload, orjson.loads(payload)
    if isinstance(occurred_at, str):
        occurred_at = dt.datetime.fromisoformat(occurred_at)
    return EventData(
        id_,
        hall_code,
        int(hall_seq),
        case_id,
        kind,
        payload,
        occurred_at.replace(tzinfo=dt.UTC),
        actor,
        int(schema_version),
        seq,
        raw,
    )


def order_key(ev: Event) -> tuple[bool, dt.datetime, str, int, str]:
    """Order within a case: its registration first, then occurred_at, then the hall's code and own sequence, then
    the id (code point order, the same as the database's `COLLATE "C"`).

    The registration leads whatever the clocks say: nothing can happen to a case before it exists, but a hall
    whose clock runs hours behind the one that registered it (or a clock set back) stamps its events earlier,
    and folded first they would find no case and vanish (a ticket issued for a diverted case, gone)."""
    return (ev.kind != "registered", ev.occurred_at, ev.hall_code, ev.hall_seq, ev.id)


@dataclass
class CaseState:
    """The projected rows of one case while folding."""

    case: Row | None = None
    parties: list[Row] = field(default_factory=list)
    tickets: dict[str, Row] = field(default_factory=dict)


Applier = Callable[[CaseState, Event], None]
_APPLIERS: dict[str, Applier] = {}


def applies(*kinds: str) -> Callable[[Applier], Applier]:
    def register(fn: Applier) -> Applier:
        for kind in kinds:
            _APPLIERS[kind] = fn
        return fn

    return register


def projects(kind: str) -> bool:
    """Whether events of this kind change the projections at all."""
    return kind in _APPLIERS


def apply(state: CaseState, ev: Event) -> None:
    """Fold one event into the case's rows; kinds without a projection change nothing."""
    fn = _APPLIERS.get(ev.kind)
    if fn is not None:
        fn(state, ev)


def fold(events: Iterable[Event]) -> CaseState:
    """A case's rows from its events, in case order whatever order they are given in."""
    state = CaseState()
    for ev in sorted(events, key=order_key):
        apply(state, ev)
    return state


def _ts(value: str | None) -> dt.datetime | None:
    return None if value is None else dt.datetime.fromisoformat(value)


def _touch(state: CaseState, ev: Event) -> None:
    if state.case is not None:
        state.case["updated_at"] = max(state.case["updated_at"], ev.occurred_at)


@applies("registered")
def _registered(state: CaseState, ev: Event) -> None:
    p = ev.payload
    state.case = {
        "id": ev.case_id,
        "case_no": p["case_no"],
        "hall_code": ev.hall_code,
        "category_code": p["category"],
        "channel": p["channel"],
        "headcount": p["headcount"],
        "narrative": p["narrative"],
        "risk_flags": sorted(p["risk_flags"]),
        "state": "registered",
        "repeat_visits": 0,
        "status_token": p["status_token"],
        "registered_at": ev.occurred_at,
        "updated_at": ev.occurred_at,
        "deadline_at": _ts(p["deadline_at"]),
        "actor": ev.actor,
        "room_code": None,
    }
    state.parties = [
        {
            "id": party["id"],
            "case_id": ev.case_id,
            "position": i,
            "role": party["role"],
            "name": party["name"],
            "name_initials": party["name_initials"],
            "is_organisation": party["is_organisation"],
            "id_number": party["id_number"],
            "phone": party["phone"],
            "address": party["address"],
            "birth_date": dt.date.fromisoformat(party["birth_date"]) if party["birth_date"] else None,
            "sex": party["sex"],
        }
        for i, party in enumerate(p["parties"])
    ]


@applies("repeat_visit")
def _repeat_visit(state: CaseState, ev: Event) -> None:
    case = state.case
    if case is None:
        return
    case["repeat_visits"] += 1
    case["risk_flags"] = sorted(
        set(case["risk_flags"]) | {"repeat_visit"} | set(ev.payload.get("risk_flags", []))
    )
    _touch(state, ev)


@applies("risk_flagged")
def _risk_flagged(state: CaseState, ev: Event) -> None:
    case = state.case
    if case is None:
        return
    case["risk_flags"] = sorted(set(case["risk_flags"]) | set(ev.payload["flags"]))
    _touch(state, ev)


@applies("diverted")
def _diverted(state: CaseState, ev: Event) -> None:
    """上级分流: the case now belongs to another hall, which routes it to one of its rooms."""
    case = state.case
    if case is None:
        return
    case["hall_code"] = ev.payload["to_hall"]
    case["state"] = "diverted"
    case["room_code"] = None
    _touch(state, ev)


# --- the queue ----------------------------------------------------------------------------------------


def _new_ticket(state: CaseState, ev: Event, t: dict[str, Any]) -> None:
    state.tickets[t["ticket_id"]] = {
        "id": t["ticket_id"],
        "hall_code": ev.hall_code,
        "case_id": ev.case_id,
        "room_code": t["room"],
        "day": dt.date.fromisoformat(t["day"]),
        "number": t["number"],
        "label": t["label"],
        "priority_reasons": list(t["priority_reasons"]),
        "arrival_at": dt.datetime.fromisoformat(t["arrival_at"]),
        "queue_key": dt.datetime.fromisoformat(t["queue_key"]),
        "state": "waiting",
        "recalls": 0,
        "called_at": None,
        "called_by": None,
        "terminal": None,
        "served_at": None,
        "finished_at": None,
        "updated_at": ev.occurred_at,
    }


@applies("routed")
def _routed(state: CaseState, ev: Event) -> None:
    if state.case is not None:
        state.case["room_code"] = ev.payload["room"]
        _touch(state, ev)


@applies("ticket_issued")
def _ticket_issued(state: CaseState, ev: Event) -> None:
    if state.case is None:  # a ticket needs its case (it can only be missing from a partial log)
        return
    _new_ticket(state, ev, ev.payload)
    state.case["state"] = "waiting"
    state.case["room_code"] = ev.payload["room"]
    _touch(state, ev)


def _set_ticket(to: str, *, finished: bool = False) -> Applier:
    def apply_step(state: CaseState, ev: Event) -> None:
        t = state.tickets.get(ev.payload["ticket_id"])
        if t is None:
            return
        t["state"] = to
        t["updated_at"] = ev.occurred_at
        if finished:
            t["finished_at"] = ev.occurred_at
        _touch(state, ev)

    return apply_step


_APPLIERS["parked"] = _set_ticket("parked")
_APPLIERS["unparked"] = _set_ticket("waiting")
_APPLIERS["no_show"] = _set_ticket("no_show")
_APPLIERS["abandoned"] = _set_ticket("abandoned")
_APPLIERS["service_finished"] = _set_ticket("done", finished=True)


@applies("called")
def _called(state: CaseState, ev: Event) -> None:
    t = state.tickets.get(ev.payload["ticket_id"])
    if t is None:
        return
    t.update(
        state="called",
        called_at=ev.occurred_at,
        called_by=ev.actor,
        terminal=ev.payload.get("terminal"),
        recalls=0,
        updated_at=ev.occurred_at,
    )
    _touch(state, ev)


@applies("recalled")
def _recalled(state: CaseState, ev: Event) -> None:
    t = state.tickets.get(ev.payload["ticket_id"])
    if t is None:
        return
    t.update(recalls=t["recalls"] + 1, called_at=ev.occurred_at, updated_at=ev.occurred_at)
    _touch(state, ev)


@applies("requeued")
def _requeued(state: CaseState, ev: Event) -> None:
    t = state.tickets.get(ev.payload["ticket_id"])
    if t is None:
        return
    t.update(
        state="waiting",
        recalls=0,
        queue_key=dt.datetime.fromisoformat(ev.payload["queue_key"]),
        updated_at=ev.occurred_at,
    )
    _touch(state, ev)


@applies("claimed")
def _claimed(state: CaseState, ev: Event) -> None:
    t = state.tickets.get(ev.payload["ticket_id"])
    if t is not None:
        t.update(
            state="serving",
            served_at=ev.occurred_at,
            called_by=ev.actor,
            terminal=ev.payload.get("terminal"),
            updated_at=ev.occurred_at,
        )
    if state.case is not None:
        state.case["state"] = "in_mediation"
        _touch(state, ev)


@applies("transferred")
def _transferred(state: CaseState, ev: Event) -> None:
    if state.case is None:
        return
    old = state.tickets.get(ev.payload["from_ticket_id"])
    if old is not None:
        old.update(state="transferred", updated_at=ev.occurred_at)
    _new_ticket(state, ev, ev.payload)
    state.case["state"] = "waiting"
    state.case["room_code"] = ev.payload["room"]
    _touch(state, ev)
