"""The room queue: ticket numbers, the priority rule, ticket states, estimated waits and what the display says."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Collection, Iterable
from typing import Protocol, TypeVar

from desk.core.cases import RiskFlag
from desk.core.routing import COUNSELLING_KIND

# The priority rule. A priority visitor queues as if they had arrived PRIORITY_HEAD_START earlier: they go ahead
# of ordinary visitors who arrived less than that before them, never ahead of anyone who has waited longer.
# So no ordinary visitor is ever overtaken by a priority visitor who arrived more than 15 minutes after them,
# and, in a room with one mediator that stays open, an ordinary visitor's wait grows by at most the service of
# the priority visitors arriving within 15 minutes after them: priority cannot starve anyone. (With two
# mediators a change of order can ripple to who gets whom; across a lunch closing, one more service before
# 12:00 can push someone past the break; and a free room taking over a waiting visitor (take-over) changes
# who is ahead in the room it takes from: bench/hall_day.py measures all three.)
PRIORITY_HEAD_START = dt.timedelta(minutes=15)
ELDERLY_AGE = 70
ELDERLY_BAND = "70+"  # desk.core.grids.age_band of ELDERLY_AGE and over
NO_SHOW_AFTER_RECALLS = (
    2  # configurable per hall; a ticket called, then recalled this often, may be marked no-show
)
# A free room considers at most this many of the longest-queued visitors it could take over: a bound on the work
# of one call, which the store applies as a LIMIT.
TAKE_OVER_CANDIDATES = 20


class PriorityReason(enum.StrEnum):
    ELDERLY = "elderly"
    DISABLED = "disabled"
    PREGNANT = "pregnant"
    HIGH_RISK = "high_risk"

    @property
    def label(self) -> str:
        return {"elderly": "70岁以上老人", "disabled": "残疾人", "pregnant": "孕妇", "high_risk": "高风险"}[
            self.value
        ]


HIGH_RISK_FLAGS = frozenset(
    {RiskFlag.CIVIL_TO_CRIMINAL.value, RiskFlag.EXTREME_BEHAVIOUR.value, RiskFlag.PSYCHOLOGICAL_CRISIS.value}
)


class TicketState(enum.StrEnum):
    WAITING = "waiting"
    CALLED = "called"
    PARKED = "parked"  # the visitor stepped out (to fetch a document); keeps their place when back
    SERVING = "serving"  # claimed by a mediator
    NO_SHOW = "no_show"
    ABANDONED = "abandoned"  # left without being served: counted, not lost
    TRANSFERRED = "transferred"  # moved to another room's queue (a new ticket there)
    DONE = "done"

    @property
    def label(self) -> str:
        return TICKET_STATE_LABELS[self]


TICKET_STATE_LABELS = {
    TicketState.WAITING: "等候中",
    TicketState.CALLED: "已叫号",
    TicketState.PARKED: "暂离",
    TicketState.SERVING: "接待中",
    TicketState.NO_SHOW: "过号",
    TicketState.ABANDONED: "已离开",
    TicketState.TRANSFERRED: "已转室",
    TicketState.DONE: "已完成",
}

# Which step may follow which; anything else is refused with the ticket's current state in the message.
TRANSITIONS: dict[str, frozenset[TicketState]] = {
    "call": frozenset({TicketState.WAITING}),
    "recall": frozenset({TicketState.CALLED}),
    "park": frozenset({TicketState.WAITING, TicketState.CALLED}),
    "unpark": frozenset({TicketState.PARKED}),
    "no_show": frozenset({TicketState.CALLED}),
    "requeue": frozenset({TicketState.NO_SHOW}),
    "claim": frozenset({TicketState.WAITING, TicketState.CALLED}),
    "transfer": frozenset({TicketState.WAITING, TicketState.CALLED, TicketState.PARKED, TicketState.SERVING}),
    "abandon": frozenset({TicketState.WAITING, TicketState.CALLED, TicketState.PARKED, TicketState.NO_SHOW}),
    "finish": frozenset({TicketState.SERVING}),
}


def priority_reasons(
    *,
    birth_date: dt.date | None,
    today: dt.date,
    declared: Iterable[str] = (),
    risk_flags: Iterable[str] = (),
    age_band: str | None = None,
) -> tuple[PriorityReason, ...]:
    """Why a visitor is served first, if at all: age from the ID number (the birth date of a record from before
    encryption, else the age band derived at registration: "70+" is `ELDERLY_AGE`), declared needs, high-risk
    flags."""
    reasons: list[PriorityReason] = []
    if birth_date is not None:
        age = today.year - birth_date.year - ((today.month, today.day) < (birth_date.month, birth_date.day))
        if age >= ELDERLY_AGE:
            reasons.append(PriorityReason.ELDERLY)
    elif age_band == ELDERLY_BAND:
        reasons.append(PriorityReason.ELDERLY)
    for d in declared:
        r = PriorityReason(d)
        if r not in reasons and r is not PriorityReason.ELDERLY:
            reasons.append(r)
    if HIGH_RISK_FLAGS & {str(f) for f in risk_flags} and PriorityReason.HIGH_RISK not in reasons:
        reasons.append(PriorityReason.HIGH_RISK)
    return tuple(reasons)


def queue_key(arrival: dt.datetime, *, priority: bool) -> dt.datetime:
    """The time a ticket queues by; the room serves the smallest key first (then the lower number)."""
    return arrival - PRIORITY_HEAD_START if priority else arrival


def ticket_label(prefix: str, number: int) -> str:
    return f"{prefix}{number:03d}"


_DIGITS = "零一二三四五六七八九"


def spoken_ticket(ticket: str) -> str:
    """A012 → "A零一二": digits read one by one, as halls announce them."""
    return "".join(_DIGITS[int(c)] if c.isdigit() else c for c in ticket)


def announcement(ticket: str, room_name: str, room_number: int | None = None) -> str:
    """What the hall display shows and speaks: 请 A012 号到 3 号人民调解室."""
    where = f"{room_number}号{room_name}" if room_number else room_name
    return f"请 {ticket} 号到 {where}"


def spoken_announcement(ticket: str, room_name: str, room_number: int | None = None) -> str:
    where = f"{_DIGITS[room_number] if room_number is not None and room_number < 10 else room_number or ''}号{room_name}"
    if room_number is None:
        where = room_name
    return f"请 {spoken_ticket(ticket)} 号，到{where}"


def estimated_wait_minutes(ahead: int, mean_handling_minutes: float) -> int:
    return round(ahead * mean_handling_minutes)


# --- take-over: a free room receives the longest-waiting visitor of another room --------------------------------


class ReceivingRoom(Protocol):
    """A room as the take-over rule sees it."""

    @property
    def code(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def categories(self) -> Collection[str]: ...
    @property
    def capacity(self) -> int: ...
    @property
    def is_open(self) -> bool: ...


class QueuedVisitor(Protocol):
    """A visitor waiting in some room's queue, as the take-over rule sees them."""

    @property
    def room_code(self) -> str: ...
    @property
    def queue_key(self) -> dt.datetime: ...
    @property
    def number(self) -> int: ...
    @property
    def category_code(self) -> str: ...
    @property
    def headcount(self) -> int: ...
    @property
    def risk_flags(self) -> Collection[str]: ...


Queued = TypeVar("Queued", bound=QueuedVisitor)


def receives_take_overs(room: ReceivingRoom) -> bool:
    """Only an open room that handles some category takes visitors over; the counselling room never does (it is
    kept for persons in crisis)."""
    return room.is_open and room.kind != COUNSELLING_KIND and bool(room.categories)


def may_take_over(room: ReceivingRoom, visitor: QueuedVisitor) -> bool:
    """Whether `room` may receive `visitor` from another room's queue: a category it handles, a group it holds,
    never a person in crisis (they stay where routing sent them), never into the counselling room. Whether the
    room is open is checked apart (`receives_take_overs`)."""
    return room.kind != COUNSELLING_KIND and _fits(room, visitor) and not _in_crisis(visitor)


def take_over_candidates(room: ReceivingRoom, waiting: Iterable[Queued]) -> list[Queued]:
    """Whom `room`, with nobody waiting in it, may take over from the other rooms' queues, in the order to try them
    (README "Taking over"): the longest-queued first, by queue key then ticket number; of the TAKE_OVER_CANDIDATES
    longest-queued visitors whose category and group fit the room, those not in crisis. `waiting` are waiting
    visitors of the hall (the room's own and those that do not fit are skipped). The caller moves the first it
    still can (another terminal may have called them a moment ago), keeping their queue key."""
    if not receives_take_overs(room):
        return []
    fitting = sorted((w for w in waiting if _fits(room, w)), key=lambda w: (w.queue_key, w.number))
    return [w for w in fitting[:TAKE_OVER_CANDIDATES] if not _in_crisis(w)]


def _fits(room: ReceivingRoom, visitor: QueuedVisitor) -> bool:
    return (
        visitor.room_code != room.code
        and visitor.category_code in room.categories
        and visitor.headcount <= room.capacity
    )


def _in_crisis(visitor: QueuedVisitor) -> bool:
    return RiskFlag.PSYCHOLOGICAL_CRISIS.value in visitor.risk_flags
