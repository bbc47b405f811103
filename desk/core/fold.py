"""The fold: how a case's typed events make its projected rows (`cases`, `parties`, `tickets`, `whistles`,
`warnings`, `bookings`) as plain dicts.

This is the one definition of the projections. The store's live path (an event appended in a hall), its bulk
path (events taken in by sync) and the rebuild all fold through `apply`, so they cannot disagree. A row is a
dict keyed by column name. A case's events fold in causal order (`Event.order`: the HLC stamp, then the hall
and its sequence), never by wall clock.

The fold checks nothing: the services validate a step before they write it, and the fold applies what was
written (a step refused today may have been allowed by the code that wrote it).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from desk.core import events as ev
from desk.core.clock import CHINA_TZ, local_date
from desk.core.events import Event

Row = dict[str, Any]


@dataclass
class CaseState:
    """The projected rows of one case while folding."""

    case: Row | None = None
    parties: list[Row] = field(default_factory=list)
    tickets: dict[str, Row] = field(default_factory=dict)
    whistles: dict[str, Row] = field(default_factory=dict)  # by whistle_id:department
    warnings: dict[str, Row] = field(default_factory=dict)
    bookings: dict[str, Row] = field(default_factory=dict)


Applier = Callable[[CaseState, Event, Any], None]
F = TypeVar("F", bound=Applier)
_APPLIERS: dict[type, Applier] = {}
_READS: dict[type, frozenset[str]] = {}

# The case's rows beside `cases` that an applier may read or change (the live path loads only those).
CHILD_ROWS = frozenset({"tickets", "whistles", "warnings", "bookings"})


def applies(*types: type, reads: Iterable[str] = ()) -> Callable[[F], F]:
    """Register the decorated function as the fold of events whose payload is one of `types`; `reads` names
    the case's child rows (CHILD_ROWS) it reads or changes."""
    rows = frozenset(reads)
    assert rows <= CHILD_ROWS, rows

    def register(fn: F) -> F:
        for t in types:
            _APPLIERS[t] = fn
            _READS[t] = rows
        return fn

    return register


def projects(kind: str) -> bool:
    """Whether events of this kind change the projections at all."""
    try:
        return ev.PAYLOAD_TYPES[ev.EventKind(kind)] in _APPLIERS
    except ValueError:
        return False


def reads(kind: str) -> frozenset[str]:
    """The child rows of its case (see CHILD_ROWS) that folding an event of this kind reads or changes."""
    try:
        return _READS.get(ev.PAYLOAD_TYPES[ev.EventKind(kind)], frozenset())
    except ValueError:
        return frozenset()


def end_of_day(day: dt.date) -> dt.datetime:
    """The last second of a day in China time, as aware UTC: `cases.deadline_at` for a due day."""
    return dt.datetime.combine(day, dt.time(23, 59, 59), CHINA_TZ).astimezone(dt.UTC)


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
        "risk_level": None,
        # the registration's own deadline, until the service sets one by its rule (DeadlineSet)
        "deadline_rule": "legacy",
        "due_on": None if p.deadline_at is None else local_date(p.deadline_at),
        "paused_at": None,
        "outcome": None,
        "closed_at": None,
        "follow_up_due_on": None,
        "grid_code": None,
        "claimed_by": None,
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
            "id_index": party.id_index,
            "phone_index": party.phone_index,
            "age_band": party.age_band,
            "grid_code": party.grid_code,
        }
        for i, party in enumerate(v.parties)
    ]
    # reports count cases by the applicant's township or street, never by the (sealed) address
    applicant = next((party for party in v.parties if party.role == "applicant"), None)
    state.case["grid_code"] = applicant.grid_code if applicant is not None else None


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


@applies(ev.Parked, ev.Unparked, ev.NoShow, ev.Abandoned, ev.ServiceFinished, reads=("tickets",))
def _ticket_step(state: CaseState, e: Event, p: _TicketStep) -> None:
    t = state.tickets.get(p.ticket_id)
    if t is None:
        return
    t["state"] = _STEP_STATE[type(p)]
    t["updated_at"] = e.occurred_at
    if isinstance(p, ev.ServiceFinished):
        t["finished_at"] = e.occurred_at
    _touch(state, e)


@applies(ev.Called, reads=("tickets",))
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


@applies(ev.Recalled, reads=("tickets",))
def _recalled(state: CaseState, e: Event, p: ev.Recalled) -> None:
    t = state.tickets.get(p.ticket_id)
    if t is None:
        return
    t.update(recalls=t["recalls"] + 1, called_at=e.occurred_at, updated_at=e.occurred_at)
    _touch(state, e)


@applies(ev.Requeued, reads=("tickets",))
def _requeued(state: CaseState, e: Event, p: ev.Requeued) -> None:
    t = state.tickets.get(p.ticket_id)
    if t is None:
        return
    t.update(state="waiting", recalls=0, queue_key=p.queue_key, updated_at=e.occurred_at)
    _touch(state, e)


@applies(ev.Claimed, reads=("tickets",))
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
        if p.by:
            state.case["claimed_by"] = p.by
        _touch(state, e)


@applies(ev.Transferred, reads=("tickets",))
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


# --- handling: sessions, bookings, outcome, closure, follow-up -----------------------------------------------


def _set_state(state: CaseState, e: Event, value: str, **columns: Any) -> None:
    if state.case is None:
        return
    state.case["state"] = value
    state.case.update(columns)
    _touch(state, e)


@applies(ev.SessionRecorded)
def _session_recorded(state: CaseState, e: Event, p: ev.SessionRecorded) -> None:
    """Sessions are read from the log (the case view lists them); the case was worked on."""
    _touch(state, e)


@applies(ev.AppointmentBooked, reads=("bookings",))
def _appointment_booked(state: CaseState, e: Event, p: ev.AppointmentBooked) -> None:
    if state.case is None:
        return
    state.bookings[p.booking_id] = {
        "id": p.booking_id,
        "case_id": e.case_id,
        "hall_code": e.hall_code,
        "day": p.day,
        "time": p.time,
        "room": p.room,
        "note": p.note,
        "booked_at": e.occurred_at,
    }
    _touch(state, e)


@applies(ev.OutcomeRecorded)
def _outcome_recorded(state: CaseState, e: Event, p: ev.OutcomeRecorded) -> None:
    """The outcome is the state: resolved | partly_resolved | not_resolved | terminated."""
    _set_state(state, e, p.outcome, outcome=p.outcome)


@applies(ev.TransferredOut)
def _transferred_out(state: CaseState, e: Event, p: ev.TransferredOut) -> None:
    _set_state(state, e, "transferred")


@applies(ev.Withdrawn)
def _withdrawn(state: CaseState, e: Event, p: ev.Withdrawn) -> None:
    _set_state(state, e, "withdrawn")


@applies(ev.CaseClosed)
def _case_closed(state: CaseState, e: Event, p: ev.CaseClosed) -> None:
    _set_state(state, e, "closed", closed_at=e.occurred_at)


@applies(ev.FollowUpScheduled)
def _follow_up_scheduled(state: CaseState, e: Event, p: ev.FollowUpScheduled) -> None:
    if state.case is not None:
        state.case["follow_up_due_on"] = p.due_on
        _touch(state, e)


@applies(ev.FollowedUp)
def _followed_up(state: CaseState, e: Event, p: ev.FollowedUp) -> None:
    """Followed up: nothing is due any more (the follow-up itself is read from the log)."""
    _set_state(state, e, "followed_up", follow_up_due_on=None)


@applies(ev.CaseReopened)
def _case_reopened(state: CaseState, e: Event, p: ev.CaseReopened) -> None:
    """The agreement was not performed: in mediation again, with no outcome, closure or follow-up due."""
    _set_state(state, e, "in_mediation", outcome=None, closed_at=None, follow_up_due_on=None)


# --- the deadline ------------------------------------------------------------------------------------------


def _due(state: CaseState, e: Event, due_on: dt.date, **columns: Any) -> None:
    """A new due day (`deadline_at`, its end in China time, stays in step for older readers)."""
    if state.case is None:
        return
    state.case.update(due_on=due_on, deadline_at=end_of_day(due_on), **columns)
    _touch(state, e)


@applies(ev.DeadlineSet)
def _deadline_set(state: CaseState, e: Event, p: ev.DeadlineSet) -> None:
    _due(state, e, p.due_on, deadline_rule=p.rule, paused_at=None)


@applies(ev.DeadlinePaused)
def _deadline_paused(state: CaseState, e: Event, p: ev.DeadlinePaused) -> None:
    if state.case is not None:
        state.case["paused_at"] = e.occurred_at
        _touch(state, e)


@applies(ev.DeadlineResumed)
def _deadline_resumed(state: CaseState, e: Event, p: ev.DeadlineResumed) -> None:
    _due(state, e, p.due_on, paused_at=None)


@applies(ev.DeadlineExtended)
def _deadline_extended(state: CaseState, e: Event, p: ev.DeadlineExtended) -> None:
    _due(state, e, p.due_on)


# --- whistles --------------------------------------------------------------------------------------------


def whistle_row_id(whistle_id: str, department: str) -> str:
    return f"{whistle_id}:{department}"


@applies(ev.WhistleBlown, reads=("whistles",))
def _whistle_blown(state: CaseState, e: Event, p: ev.WhistleBlown) -> None:
    """One row per department summoned, each with the whistle's three clocks."""
    if state.case is None:
        return
    for department in p.departments:
        row_id = whistle_row_id(p.whistle_id, department)
        state.whistles[row_id] = {
            "id": row_id,
            "whistle_id": p.whistle_id,
            "case_id": e.case_id,
            "hall_code": e.hall_code,
            "department": department,
            "matter": p.matter,
            "complex": p.complex,
            "blown_at": e.occurred_at,
            "sign_by": p.sign_by,
            "arrive_by": p.arrive_by,
            "report_by": p.report_by,
            "signed_at": None,
            "signed_by": None,
            "arrived_at": None,
            "arrived_by": None,
            "reported_at": None,
            "result": None,
            "rating": None,
        }
    _touch(state, e)


_WhistleStep = ev.WhistleSigned | ev.WhistleArrived | ev.WhistleReported | ev.WhistleRated


@applies(ev.WhistleSigned, ev.WhistleArrived, ev.WhistleReported, ev.WhistleRated, reads=("whistles",))
def _whistle_step(state: CaseState, e: Event, p: _WhistleStep) -> None:
    row = state.whistles.get(whistle_row_id(p.whistle_id, p.department))
    if row is None:
        return
    if isinstance(p, ev.WhistleSigned):
        row.update(signed_at=e.occurred_at, signed_by=p.by)
    elif isinstance(p, ev.WhistleArrived):
        row.update(arrived_at=p.arrived_at, arrived_by=p.by)
    elif isinstance(p, ev.WhistleReported):
        row.update(reported_at=e.occurred_at, result=p.result)
    else:
        row["rating"] = p.rating
    _touch(state, e)


# --- warnings and risk -------------------------------------------------------------------------------------


@applies(ev.WarningRaised, reads=("warnings",))
def _warning_raised(state: CaseState, e: Event, p: ev.WarningRaised) -> None:
    if state.case is None:
        return
    state.warnings[p.warning_id] = {
        "id": p.warning_id,
        "case_id": e.case_id,
        "hall_code": e.hall_code,
        "kind": p.kind,
        "level": p.level,
        "message": p.message,
        "ref": p.ref,
        "raised_at": e.occurred_at,
        "acknowledged_at": None,
        "acknowledged_by": None,
    }
    _touch(state, e)


@applies(ev.WarningAcknowledged, reads=("warnings",))
def _warning_acknowledged(state: CaseState, e: Event, p: ev.WarningAcknowledged) -> None:
    row = state.warnings.get(p.warning_id)
    if row is None or row["acknowledged_at"] is not None:  # the first reader counts
        return
    row.update(acknowledged_at=e.occurred_at, acknowledged_by=p.by)
    _touch(state, e)


@applies(ev.RiskAssessed)
def _risk_assessed(state: CaseState, e: Event, p: ev.RiskAssessed) -> None:
    if state.case is not None:
        state.case["risk_level"] = p.level
        _touch(state, e)
