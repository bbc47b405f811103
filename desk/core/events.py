"""Typed case events: each kind an `EventKind` member with its label and a frozen payload type, and the envelope
(`Event`) that carries one through the log, the fold and sync.

A payload's JSON (`to_json`) is exactly what the log stores; `decode` reads it back, taking the defaults for keys
that older writers did not set. A kind this code does not know (written by newer software) decodes to `Unknown`,
which the fold skips and the history shows by its name.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from enum import StrEnum
from typing import Any, ClassVar, TypeAlias, get_args

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


class Payload:
    """Base of the payload types: a flat payload (text, numbers, flags, lists of text) converts field by field;
    nested ones override `from_json` and `to_json`."""

    KIND: ClassVar[EventKind]

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Any:
        kwargs = {
            name: _strs(value) if isinstance(value := data[name], list) else value
            for name in _field_names(cls)
            if name in data
        }
        return cls(**kwargs)

    def to_json(self) -> Json:
        return {
            name: list(v) if isinstance(v := getattr(self, name), tuple) else v
            for name in _field_names(type(self))
        }


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def _field_names(cls: type) -> tuple[str, ...]:
    """A payload type's field names, in order (looked up once per type: decoding runs for every synced event)."""
    names = _FIELD_NAMES.get(cls)
    if names is None:
        names = _FIELD_NAMES[cls] = tuple(f.name for f in fields(cls))
    return names


@dataclass(frozen=True, slots=True)
class PartyRecord:
    """A party as registered: the particulars the log keeps (the projection `parties` is folded from these)."""

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
        )

    def to_json(self) -> Json:
        return {
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

    def to_json(self) -> Json:
        return {"terminal": self.terminal, "ticket_id": self.ticket_id}


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
