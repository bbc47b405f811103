"""Typed case events: each kind an `EventKind` member with its label and a frozen payload type, and the envelope
(`Event`) that carries one through the log, the fold and sync.

A payload's JSON (`to_json`) is exactly what the log stores; `decode` reads it back, taking the defaults for keys
that older writers did not set. A kind this code does not know (written by newer software) decodes to `Unknown`,
which the fold skips and the history shows by its name.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import MISSING, dataclass, field, fields
from enum import StrEnum
from types import UnionType
from typing import Any, ClassVar, TypeAlias, Union, get_args, get_origin, get_type_hints

Json: TypeAlias = dict[str, Any]


def translate_noop(context: str, text: str) -> str:
    """Marks `text` for translation in `context` (Qt's QT_TRANSLATE_NOOP): the core has no Qt, so the UI
    translates the label where it shows it (`QCoreApplication.translate(context, label)`)."""
    del context
    return text


LABEL_CONTEXT = "desk.core.events"
_ = translate_noop


class EventKind(StrEnum):
    """Every kind of case event. The value is what the log stores; `label` says it in Chinese."""

    REGISTERED = "registered"
    REPEAT_VISIT = "repeat_visit"
    RISK_FLAGGED = "risk_flagged"
    DIVERTED = "diverted"
    ROUTED = "routed"
    TICKET_ISSUED = "ticket_issued"
    CALLED = "called"
    RECALLED = "recalled"
    PARKED = "parked"
    UNPARKED = "unparked"
    NO_SHOW = "no_show"
    REQUEUED = "requeued"
    CLAIMED = "claimed"
    TRANSFERRED = "transferred"
    ABANDONED = "abandoned"
    SERVICE_FINISHED = "service_finished"
    DOCUMENT_PRINTED = "document_printed"
    # handling the case (issue 12)
    SESSION_RECORDED = "session_recorded"
    APPOINTMENT_BOOKED = "appointment_booked"
    OUTCOME_RECORDED = "outcome_recorded"
    TRANSFERRED_OUT = "transferred_out"
    WITHDRAWN = "withdrawn"
    CASE_CLOSED = "case_closed"
    FOLLOW_UP_SCHEDULED = "follow_up_scheduled"
    FOLLOWED_UP = "followed_up"
    CASE_REOPENED = "case_reopened"
    DEADLINE_SET = "deadline_set"
    DEADLINE_PAUSED = "deadline_paused"
    DEADLINE_RESUMED = "deadline_resumed"
    DEADLINE_EXTENDED = "deadline_extended"
    WHISTLE_BLOWN = "whistle_blown"
    WHISTLE_SIGNED = "whistle_signed"
    WHISTLE_ARRIVED = "whistle_arrived"
    WHISTLE_REPORTED = "whistle_reported"
    WHISTLE_RATED = "whistle_rated"
    WARNING_RAISED = "warning_raised"
    WARNING_ACKNOWLEDGED = "warning_acknowledged"
    RISK_ASSESSED = "risk_assessed"

    @property
    def label(self) -> str:
        return _LABELS[self]


_LABELS: dict[EventKind, str] = {
    EventKind.REGISTERED: _(LABEL_CONTEXT, "登记受理"),
    EventKind.REPEAT_VISIT: _(LABEL_CONTEXT, "重复访"),
    EventKind.RISK_FLAGGED: _(LABEL_CONTEXT, "风险标记"),
    EventKind.DIVERTED: _(LABEL_CONTEXT, "上级分流"),
    EventKind.ROUTED: _(LABEL_CONTEXT, "分派功能室"),
    EventKind.TICKET_ISSUED: _(LABEL_CONTEXT, "取号"),
    EventKind.CALLED: _(LABEL_CONTEXT, "叫号"),
    EventKind.RECALLED: _(LABEL_CONTEXT, "重呼"),
    EventKind.PARKED: _(LABEL_CONTEXT, "暂离"),
    EventKind.UNPARKED: _(LABEL_CONTEXT, "回到队列"),
    EventKind.NO_SHOW: _(LABEL_CONTEXT, "过号"),
    EventKind.REQUEUED: _(LABEL_CONTEXT, "重新排队"),
    EventKind.CLAIMED: _(LABEL_CONTEXT, "接待"),
    EventKind.TRANSFERRED: _(LABEL_CONTEXT, "转室"),
    EventKind.ABANDONED: _(LABEL_CONTEXT, "离开"),
    EventKind.SERVICE_FINISHED: _(LABEL_CONTEXT, "结束接待"),
    EventKind.DOCUMENT_PRINTED: _(LABEL_CONTEXT, "打印文书"),
    EventKind.SESSION_RECORDED: _(LABEL_CONTEXT, "调解笔录"),
    EventKind.APPOINTMENT_BOOKED: _(LABEL_CONTEXT, "预约"),
    EventKind.OUTCOME_RECORDED: _(LABEL_CONTEXT, "调解结果"),
    EventKind.TRANSFERRED_OUT: _(LABEL_CONTEXT, "转办"),
    EventKind.WITHDRAWN: _(LABEL_CONTEXT, "撤回"),
    EventKind.CASE_CLOSED: _(LABEL_CONTEXT, "办结"),
    EventKind.FOLLOW_UP_SCHEDULED: _(LABEL_CONTEXT, "回访安排"),
    EventKind.FOLLOWED_UP: _(LABEL_CONTEXT, "回访"),
    EventKind.CASE_REOPENED: _(LABEL_CONTEXT, "重新调解"),
    EventKind.DEADLINE_SET: _(LABEL_CONTEXT, "期限"),
    EventKind.DEADLINE_PAUSED: _(LABEL_CONTEXT, "期限中止"),
    EventKind.DEADLINE_RESUMED: _(LABEL_CONTEXT, "期限恢复"),
    EventKind.DEADLINE_EXTENDED: _(LABEL_CONTEXT, "期限延长"),
    EventKind.WHISTLE_BLOWN: _(LABEL_CONTEXT, "吹哨"),
    EventKind.WHISTLE_SIGNED: _(LABEL_CONTEXT, "签收"),
    EventKind.WHISTLE_ARRIVED: _(LABEL_CONTEXT, "报到"),
    EventKind.WHISTLE_REPORTED: _(LABEL_CONTEXT, "反馈"),
    EventKind.WHISTLE_RATED: _(LABEL_CONTEXT, "评价"),
    EventKind.WARNING_RAISED: _(LABEL_CONTEXT, "预警"),
    EventKind.WARNING_ACKNOWLEDGED: _(LABEL_CONTEXT, "预警已阅"),
    EventKind.RISK_ASSESSED: _(LABEL_CONTEXT, "风险评估"),
}


# --- conversions between JSON values and payload fields -------------------------------------------------


def _date(value: Any) -> dt.date | None:
    return None if value in (None, "") else dt.date.fromisoformat(str(value))


def _time(value: Any) -> dt.datetime | None:
    return None if value in (None, "") else dt.datetime.fromisoformat(str(value))


def _iso(value: dt.date | dt.datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _strs(value: Any) -> tuple[str, ...]:
    return tuple(str(v) for v in value or ())


# --- payloads ---------------------------------------------------------------------------------------------


class Record:
    """Base of the payload types and of the records nested in them. Each field converts by its declared type:
    text, numbers and flags as they are, dates and times as ISO text, tuples as lists, nested records by their
    own `to_json`. Keys a reader does not know are ignored; a missing key takes the field's default (a field
    that may be None and has no default: None). Types whose JSON has another shape override both methods."""

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Any:
        kwargs: dict[str, Any] = {}
        for c in _codecs(cls):
            if c.name in data:
                kwargs[c.name] = c.decode(data[c.name])
            elif c.required:
                if not c.optional:
                    raise KeyError(c.name)
                kwargs[c.name] = None
        return cls(**kwargs)

    def to_json(self) -> Json:
        return {c.name: c.encode(getattr(self, c.name)) for c in _codecs(type(self))}


class Payload(Record):
    """Base of the payload types: `KIND` is the event kind the payload is the body of."""

    KIND: ClassVar[EventKind]


@dataclass(frozen=True, slots=True)
class _Codec:
    name: str
    decode: Callable[[Any], Any]
    encode: Callable[[Any], Any]
    required: bool  # no default
    optional: bool  # may be None


_CODECS: dict[type, tuple[_Codec, ...]] = {}


def _codecs(cls: type) -> tuple[_Codec, ...]:
    """A record type's field converters, in field order (made once per type: decoding runs for every synced
    event)."""
    codecs = _CODECS.get(cls)
    if codecs is None:
        hints = get_type_hints(cls)
        made = []
        for f in fields(cls):
            tp = hints[f.name]
            optional = _is_optional(tp)
            decode, encode = _converters(tp)
            required = f.default is MISSING and f.default_factory is MISSING
            made.append(_Codec(f.name, decode, encode, required, optional))
        codecs = _CODECS[cls] = tuple(made)
    return codecs


def _is_optional(tp: Any) -> bool:
    return get_origin(tp) in (Union, UnionType) and type(None) in get_args(tp)


def _same(value: Any) -> Any:
    return value


def _converters(tp: Any) -> tuple[Callable[[Any], Any], Callable[[Any], Any]]:
    """(decode, encode) for one declared field type."""
    if _is_optional(tp):
        (inner,) = (a for a in get_args(tp) if a is not type(None))
        dec, enc = _converters(inner)
        blank: tuple[Any, ...] = (None,) if inner is str else (None, "")  # older writers left dates ""

        def decode(v: Any) -> Any:
            return None if v in blank else dec(v)

        return decode, lambda v: None if v is None else enc(v)
    if tp is dt.datetime:  # before dt.date: a datetime is a date
        return lambda v: dt.datetime.fromisoformat(str(v)), _iso
    if tp is dt.date:
        return lambda v: dt.date.fromisoformat(str(v)), _iso
    if tp is int:
        return int, _same
    if tp is bool:
        return bool, _same
    if get_origin(tp) is tuple:
        item = get_args(tp)[0]
        if isinstance(item, type) and issubclass(item, Record):
            return (
                lambda v: tuple(item.from_json(x) for x in v or ()),
                lambda v: [x.to_json() for x in v],
            )
        return _strs, list
    return _same, _same  # text, and JSON values kept as they are


@dataclass(frozen=True, slots=True)
class PartyRecord:
    """A party as registered: the particulars the log keeps (the projection `parties` is folded from these).

    Since issue 13 the ID number, phone and address are sealed (``enc1:...``, `desk.security.vault`), found
    through their blind indexes (`id_index`, `phone_index`); the birth date is no longer written (the age band on
    the registration day and the grid of the address are, for reports). Events from before carry plaintext and
    no indexes (None)."""

    id: str
    role: str
    name: str
    name_initials: str = ""
    is_organisation: bool = False
    id_number: str | None = None
    phone: str | None = None
    address: str = ""
    birth_date: dt.date | None = None
    sex: str | None = None
    id_index: str | None = None
    phone_index: str | None = None
    age_band: str | None = None
    grid_code: str | None = None

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> PartyRecord:
        return cls(
            id=d["id"],
            role=d["role"],
            name=d["name"],
            name_initials=d.get("name_initials", ""),
            is_organisation=bool(d.get("is_organisation", False)),
            id_number=d.get("id_number"),
            phone=d.get("phone"),
            address=d.get("address", ""),
            birth_date=_date(d.get("birth_date")),
            sex=d.get("sex"),
            id_index=d.get("id_index"),
            phone_index=d.get("phone_index"),
            age_band=d.get("age_band"),
            grid_code=d.get("grid_code"),
        )

    def to_json(self) -> Json:
        out: Json = {
            "id": self.id,
            "role": self.role,
            "name": self.name,
            "name_initials": self.name_initials,
            "is_organisation": self.is_organisation,
            "id_number": self.id_number,
            "phone": self.phone,
            "address": self.address,
            "birth_date": _iso(self.birth_date),
            "sex": self.sex,
        }
        # the keys of issue 13 (all four, once any is set): an older party's JSON reads back as it was written
        derived = {k: getattr(self, k) for k in ("id_index", "phone_index", "age_band", "grid_code")}
        if any(v is not None for v in derived.values()):
            out.update(derived)
        return out


@dataclass(frozen=True, slots=True)
class VisitRecord:
    """What a visit brought: category, channel, headcount, narrative, risk flags and the parties."""

    category: str
    channel: str
    headcount: int
    narrative: str
    risk_flags: tuple[str, ...] = ()
    parties: tuple[PartyRecord, ...] = ()

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> VisitRecord:
        return cls(
            category=d["category"],
            channel=d["channel"],
            headcount=int(d.get("headcount", 1)),
            narrative=d.get("narrative", ""),
            risk_flags=_strs(d.get("risk_flags")),
            parties=tuple(PartyRecord.from_json(p) for p in d.get("parties", ())),
        )

    def to_json(self) -> Json:
        return {
            "category": self.category,
            "channel": self.channel,
            "headcount": self.headcount,
            "narrative": self.narrative,
            "risk_flags": list(self.risk_flags),
            "parties": [p.to_json() for p in self.parties],
        }


@dataclass(frozen=True, slots=True)
class Registered(Payload):
    """登记受理: a new case, with its number, status token and legal deadline."""

    KIND: ClassVar[EventKind] = EventKind.REGISTERED
    case_no: str
    visit: VisitRecord
    status_token: str
    deadline_at: dt.datetime | None = None

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> Registered:
        return cls(d["case_no"], VisitRecord.from_json(d), d["status_token"], _time(d.get("deadline_at")))

    def to_json(self) -> Json:
        return {
            **self.visit.to_json(),
            "case_no": self.case_no,
            "status_token": self.status_token,
            "deadline_at": _iso(self.deadline_at),
        }


@dataclass(frozen=True, slots=True)
class RepeatVisit(Payload):
    """重复访: the same person came again about an open case."""

    KIND: ClassVar[EventKind] = EventKind.REPEAT_VISIT
    visit: VisitRecord
    risk_flags: tuple[str, ...] = ()

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> RepeatVisit:
        return cls(VisitRecord.from_json(d["visit"]), _strs(d.get("risk_flags")))

    def to_json(self) -> Json:
        return {"visit": self.visit.to_json(), "risk_flags": list(self.risk_flags)}


@dataclass(frozen=True, slots=True)
class RiskFlagged(Payload):
    KIND: ClassVar[EventKind] = EventKind.RISK_FLAGGED
    flags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Diverted(Payload):
    """上级分流: an upper level sent the case to a hall, which routes it to one of its rooms."""

    KIND: ClassVar[EventKind] = EventKind.DIVERTED
    to_hall: str
    from_hall: str = ""
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Routed(Payload):
    """The room the case was sent to, the one proposed and why; an override names its reason."""

    KIND: ClassVar[EventKind] = EventKind.ROUTED
    room: str
    proposed: str | None = None
    reason: str = ""
    overridden: bool = False
    override_reason: str = ""


@dataclass(frozen=True, slots=True)
class TicketIssued(Payload):
    """A queue ticket: the room's prefix and the day's number, the arrival and the key it queues by."""

    KIND: ClassVar[EventKind] = EventKind.TICKET_ISSUED
    ticket_id: str
    room: str
    day: dt.date
    number: int
    label: str
    arrival_at: dt.datetime
    queue_key: dt.datetime
    priority_reasons: tuple[str, ...] = ()

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> Any:
        return cls(**_ticket_fields(d))

    def to_json(self) -> Json:
        return _ticket_json(self)


@dataclass(frozen=True, slots=True)
class Transferred(Payload):
    """转室: the visitor moves to another room with a new ticket that keeps their place (queue key)."""

    KIND: ClassVar[EventKind] = EventKind.TRANSFERRED
    ticket_id: str
    room: str
    day: dt.date
    number: int
    label: str
    arrival_at: dt.datetime
    queue_key: dt.datetime
    from_ticket_id: str
    priority_reasons: tuple[str, ...] = ()
    from_room: str = ""
    reason: str = ""

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> Any:
        return cls(
            **_ticket_fields(d),
            from_ticket_id=d["from_ticket_id"],
            from_room=d.get("from_room", ""),
            reason=d.get("reason", ""),
        )

    def to_json(self) -> Json:
        return {
            **_ticket_json(self),
            "from_ticket_id": self.from_ticket_id,
            "from_room": self.from_room,
            "reason": self.reason,
        }


def _ticket_fields(d: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "ticket_id": d["ticket_id"],
        "room": d["room"],
        "day": dt.date.fromisoformat(d["day"]),
        "number": int(d["number"]),
        "label": d["label"],
        "arrival_at": dt.datetime.fromisoformat(d["arrival_at"]),
        "queue_key": dt.datetime.fromisoformat(d["queue_key"]),
        "priority_reasons": _strs(d.get("priority_reasons")),
    }


def _ticket_json(t: TicketIssued | Transferred) -> Json:
    return {
        "ticket_id": t.ticket_id,
        "room": t.room,
        "day": t.day.isoformat(),
        "number": t.number,
        "label": t.label,
        "priority_reasons": list(t.priority_reasons),
        "arrival_at": t.arrival_at.isoformat(),
        "queue_key": t.queue_key.isoformat(),
    }


@dataclass(frozen=True, slots=True)
class Called(Payload):
    """叫号; a call out of turn records its reason."""

    KIND: ClassVar[EventKind] = EventKind.CALLED
    ticket_id: str
    terminal: str | None = None
    out_of_order_reason: str = ""

    def to_json(self) -> Json:  # the keys in the order the wave-1 code wrote them
        out: Json = {"terminal": self.terminal}
        if self.out_of_order_reason:
            out["out_of_order_reason"] = self.out_of_order_reason
        out["ticket_id"] = self.ticket_id
        return out


@dataclass(frozen=True, slots=True)
class Recalled(Payload):
    KIND: ClassVar[EventKind] = EventKind.RECALLED
    ticket_id: str
    terminal: str | None = None
    recall: int = 1

    def to_json(self) -> Json:
        return {"terminal": self.terminal, "recall": self.recall, "ticket_id": self.ticket_id}


@dataclass(frozen=True, slots=True)
class Claimed(Payload):
    KIND: ClassVar[EventKind] = EventKind.CLAIMED
    ticket_id: str
    terminal: str | None = None
    by: str | None = None
    """The login of the mediator who claimed it (their rights reach the case from then on)."""

    def to_json(self) -> Json:
        out: Json = {"terminal": self.terminal, "ticket_id": self.ticket_id}
        if self.by is not None:  # written since sign-in; older claims round-trip to the same JSON
            out["by"] = self.by
        return out


@dataclass(frozen=True, slots=True)
class Parked(Payload):
    KIND: ClassVar[EventKind] = EventKind.PARKED
    ticket_id: str


@dataclass(frozen=True, slots=True)
class Unparked(Payload):
    KIND: ClassVar[EventKind] = EventKind.UNPARKED
    ticket_id: str


@dataclass(frozen=True, slots=True)
class NoShow(Payload):
    KIND: ClassVar[EventKind] = EventKind.NO_SHOW
    ticket_id: str


@dataclass(frozen=True, slots=True)
class Abandoned(Payload):
    KIND: ClassVar[EventKind] = EventKind.ABANDONED
    ticket_id: str


@dataclass(frozen=True, slots=True)
class ServiceFinished(Payload):
    KIND: ClassVar[EventKind] = EventKind.SERVICE_FINISHED
    ticket_id: str


@dataclass(frozen=True, slots=True)
class Requeued(Payload):
    """A no-show who came back queues again from now."""

    KIND: ClassVar[EventKind] = EventKind.REQUEUED
    ticket_id: str
    queue_key: dt.datetime

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> Requeued:
        return cls(d["ticket_id"], dt.datetime.fromisoformat(d["queue_key"]))

    def to_json(self) -> Json:
        return {"queue_key": self.queue_key.isoformat(), "ticket_id": self.ticket_id}


@dataclass(frozen=True, slots=True)
class DocumentPrinted(Payload):
    """A document printed for the case (receipt, sheet, agreement, notice); a reprint is 补打."""

    KIND: ClassVar[EventKind] = EventKind.DOCUMENT_PRINTED
    document: str
    reprint: bool = False


# --- handling the case: sessions, outcomes, deadlines, whistles, warnings, follow-up ----------------------


@dataclass(frozen=True, slots=True)
class Attendee(Record):
    """Someone present at a session: a party (`party_id`), a mediator, or a department's person (`department`,
    its code). `role` is party | mediator | department."""

    name: str
    role: str
    party_id: str | None = None
    department: str | None = None


@dataclass(frozen=True, slots=True)
class Statement(Record):
    """What one side said at a session, in the recorder's words."""

    speaker: str
    text: str


@dataclass(frozen=True, slots=True)
class SessionRecorded(Payload):
    """调解笔录: one mediation session -- who attended, what each side said, what was agreed (and its terms)."""

    KIND: ClassVar[EventKind] = EventKind.SESSION_RECORDED
    session_id: str
    started_at: dt.datetime
    ended_at: dt.datetime | None = None
    room: str = ""
    attendees: tuple[Attendee, ...] = ()
    statements: tuple[Statement, ...] = ()
    agreed: str = ""
    terms: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class AppointmentBooked(Payload):
    """预约: the next appointment, on a day at a time ("HH:MM") in a room; it queues there as a booked visitor."""

    KIND: ClassVar[EventKind] = EventKind.APPOINTMENT_BOOKED
    booking_id: str
    day: dt.date
    time: str
    room: str
    note: str = ""


@dataclass(frozen=True, slots=True)
class OutcomeRecorded(Payload):
    """调解结果: resolved | partly_resolved | not_resolved | terminated; an agreement (number, numbered terms, how
    and by when performed, the mediator) when resolved, the reason otherwise."""

    KIND: ClassVar[EventKind] = EventKind.OUTCOME_RECORDED
    outcome: str
    reason: str = ""
    agreement_no: str = ""
    terms: tuple[str, ...] = ()
    performance: str = ""
    performance_deadline: dt.date | None = None
    mediator: str = ""


@dataclass(frozen=True, slots=True)
class TransferredOut(Payload):
    """转办: the case leaves the hall -- to litigation | arbitration | admin_review | petition | department |
    higher, named in `to_name`, with the reason."""

    KIND: ClassVar[EventKind] = EventKind.TRANSFERRED_OUT
    to_kind: str
    to_name: str = ""
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Withdrawn(Payload):
    """撤回: the applicant withdrew the case."""

    KIND: ClassVar[EventKind] = EventKind.WITHDRAWN
    reason: str = ""


@dataclass(frozen=True, slots=True)
class CaseClosed(Payload):
    """办结."""

    KIND: ClassVar[EventKind] = EventKind.CASE_CLOSED
    summary: str = ""


@dataclass(frozen=True, slots=True)
class FollowUpScheduled(Payload):
    """回访安排: a follow-up due on a day (after closure)."""

    KIND: ClassVar[EventKind] = EventKind.FOLLOW_UP_SCHEDULED
    follow_up_id: str
    due_on: dt.date


@dataclass(frozen=True, slots=True)
class FollowedUp(Payload):
    """回访: how (phone | visit), whether the agreement held (None: no agreement), and the satisfaction
    (satisfied | basically | dissatisfied)."""

    KIND: ClassVar[EventKind] = EventKind.FOLLOWED_UP
    follow_up_id: str
    method: str
    agreement_held: bool | None
    satisfaction: str
    note: str = ""


@dataclass(frozen=True, slots=True)
class CaseReopened(Payload):
    """重新调解: the agreement was not performed; the case is in mediation again."""

    KIND: ClassVar[EventKind] = EventKind.CASE_REOPENED
    reason: str = ""


@dataclass(frozen=True, slots=True)
class DeadlineSet(Payload):
    """期限: the case's time limit by a rule (its unit and amount, counted from `start_on`) and the due day the
    service computed. Written at registration and when the rule changes."""

    KIND: ClassVar[EventKind] = EventKind.DEADLINE_SET
    rule: str
    start_on: dt.date
    due_on: dt.date
    unit: str
    amount: int
    note: str = ""


@dataclass(frozen=True, slots=True)
class DeadlinePaused(Payload):
    """期限中止: the clock stops (e.g. waiting for an appraisal)."""

    KIND: ClassVar[EventKind] = EventKind.DEADLINE_PAUSED
    reason: str = ""


@dataclass(frozen=True, slots=True)
class DeadlineResumed(Payload):
    """期限恢复: the clock runs again, to the new due day the service computed."""

    KIND: ClassVar[EventKind] = EventKind.DEADLINE_RESUMED
    due_on: dt.date


@dataclass(frozen=True, slots=True)
class DeadlineExtended(Payload):
    """期限延长: more time on approval, and the new due day."""

    KIND: ClassVar[EventKind] = EventKind.DEADLINE_EXTENDED
    days: int
    unit: str
    due_on: dt.date
    approved_by: str = ""
    reason: str = ""


@dataclass(frozen=True, slots=True)
class WhistleBlown(Payload):
    """吹哨: departments (their codes) summoned about a matter, with the three clocks as computed at the time."""

    KIND: ClassVar[EventKind] = EventKind.WHISTLE_BLOWN
    whistle_id: str
    departments: tuple[str, ...]
    matter: str
    complex: bool
    sign_by: dt.datetime
    arrive_by: dt.datetime
    report_by: dt.datetime


@dataclass(frozen=True, slots=True)
class WhistleSigned(Payload):
    """签收: a department signed for the whistle."""

    KIND: ClassVar[EventKind] = EventKind.WHISTLE_SIGNED
    whistle_id: str
    department: str
    by: str = ""


@dataclass(frozen=True, slots=True)
class WhistleArrived(Payload):
    """报到: a department made contact or arrived -- who, and when."""

    KIND: ClassVar[EventKind] = EventKind.WHISTLE_ARRIVED
    whistle_id: str
    department: str
    by: str
    arrived_at: dt.datetime


@dataclass(frozen=True, slots=True)
class WhistleReported(Payload):
    """反馈: a department reported its result."""

    KIND: ClassVar[EventKind] = EventKind.WHISTLE_REPORTED
    whistle_id: str
    department: str
    result: str = ""


@dataclass(frozen=True, slots=True)
class WhistleRated(Payload):
    """评价: the center's rating of a department's response (satisfied | basically | dissatisfied)."""

    KIND: ClassVar[EventKind] = EventKind.WHISTLE_RATED
    whistle_id: str
    department: str
    rating: str


@dataclass(frozen=True, slots=True)
class WarningRaised(Payload):
    """预警: kind risk | deadline | whistle | crisis, level general | major | serious (一般/较大/重大); the
    message names no person. `ref` points at what it is about (a whistle id, a deadline threshold)."""

    KIND: ClassVar[EventKind] = EventKind.WARNING_RAISED
    warning_id: str
    kind: str
    level: str
    message: str
    ref: str = ""


@dataclass(frozen=True, slots=True)
class WarningAcknowledged(Payload):
    """预警已阅: who read the warning (when is the event's time)."""

    KIND: ClassVar[EventKind] = EventKind.WARNING_ACKNOWLEDGED
    warning_id: str
    by: str


@dataclass(frozen=True, slots=True)
class RiskAssessed(Payload):
    """风险评估: the case's risk level (general | major | serious; None: no risk) from its flags, and the rule
    that gave it, as the service assessed them."""

    KIND: ClassVar[EventKind] = EventKind.RISK_ASSESSED
    level: str | None
    flags: tuple[str, ...] = ()
    rule: str = ""


@dataclass(frozen=True, slots=True)
class Unknown:
    """An event of a kind this code does not know (from newer software): kept and synced, never folded."""

    kind: str
    data: Json = field(default_factory=dict, compare=False)

    def to_json(self) -> Json:
        return dict(self.data)


EventBody: TypeAlias = (
    Registered
    | RepeatVisit
    | RiskFlagged
    | Diverted
    | Routed
    | TicketIssued
    | Called
    | Recalled
    | Parked
    | Unparked
    | NoShow
    | Requeued
    | Claimed
    | Transferred
    | Abandoned
    | ServiceFinished
    | DocumentPrinted
    | SessionRecorded
    | AppointmentBooked
    | OutcomeRecorded
    | TransferredOut
    | Withdrawn
    | CaseClosed
    | FollowUpScheduled
    | FollowedUp
    | CaseReopened
    | DeadlineSet
    | DeadlinePaused
    | DeadlineResumed
    | DeadlineExtended
    | WhistleBlown
    | WhistleSigned
    | WhistleArrived
    | WhistleReported
    | WhistleRated
    | WarningRaised
    | WarningAcknowledged
    | RiskAssessed
    | Unknown
)

PAYLOAD_TYPES: dict[EventKind, type[Payload]] = {
    t.KIND: t for t in get_args(EventBody) if isinstance(t, type) and issubclass(t, Payload)
}
_DECODERS: dict[str, Callable[[Mapping[str, Any]], Any]] = {
    kind.value: t.from_json for kind, t in PAYLOAD_TYPES.items()
}
assert set(PAYLOAD_TYPES) == set(EventKind), "every kind has a payload type"


def decode(kind: str, data: Mapping[str, Any]) -> EventBody:
    """The typed payload of a stored event; an unknown kind is kept as `Unknown`."""
    decoder = _DECODERS.get(kind)
    if decoder is None:
        return Unknown(kind, dict(data))
    body: EventBody = decoder(data)
    return body


def kind_of(body: EventBody) -> str:
    return body.kind if isinstance(body, Unknown) else body.KIND.value


def label_of(body: EventBody) -> str:
    """The event's name in Chinese (untranslated: the UI translates it in LABEL_CONTEXT)."""
    if isinstance(body, Unknown):
        return body.kind
    return body.KIND.label


# --- the envelope -----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Event:
    """One event of the log: where and when it was written, by whom, and its typed payload.

    `hlc` orders a case's events (see hlc.py); `occurred_at` is the writer's wall clock, for people only.
    `seq` is the county's arrival number; `raw_payload` the payload's JSON text as the sending store held it,
    passed on unchanged when it was read raw."""

    id: str
    hall_code: str
    hall_seq: int
    case_id: str
    body: EventBody
    occurred_at: dt.datetime
    actor: str
    hlc: int
    schema_version: int = 1
    seq: int | None = None
    raw_payload: str | None = field(default=None, compare=False, repr=False)

    @property
    def kind(self) -> str:
        return kind_of(self.body)

    def order(self) -> tuple[int, str, int]:
        """Causal order within a case: the stamp, then (for equal stamps from two stores) the hall and its
        sequence. Text compares in code point order, as the database's `COLLATE "C"`."""
        return (self.hlc, self.hall_code, self.hall_seq)
