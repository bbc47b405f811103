"""The hall: rooms, routing a case to a room, the queue (tickets, calls, claims, transfers) and what the display shows."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from desk.core import queue as q
from desk.core.clock import CHINA_TZ, Clock, local_date
from desk.core.ids import new_id
from desk.core.parties import mask_id_number
from desk.core.queue import TicketState
from desk.core.routing import (
    COUNSELLING_KIND,
    STATION_MODES,
    Proposal,
    RoomLoad,
    expected_wait,
    handling_minutes,
    propose_room,
)
from desk.errors import DeskError, NotFound, ValidationError
from desk.store.events import append_event, bump_counter
from desk.store.models import (
    CaseEvent,
    CaseRow,
    CategoryRow,
    Counter,
    Hall,
    MediatorRow,
    PartyRow,
    RoomRow,
    TicketRow,
)
from desk.store.session import Store

logger = logging.getLogger(__name__)

ROOM_EDITS = "room_edits"  # counter of room changes, part of the change mark
RECENT_SERVICES = 10  # a room's mean handling time is over its last this many finished services


class Conflict(DeskError):
    """Another terminal got there first (the ticket was called or claimed a moment ago)."""


@dataclass(frozen=True)
class RoomView:
    code: str
    name: str
    kind: str
    prefix: str
    capacity: int
    location: str
    categories: tuple[str, ...]
    is_open: bool
    number: int  # "3 号人民调解室"
    waiting: int
    staff: tuple[dict[str, str], ...]
    departments: tuple[dict[str, str], ...]
    primary_categories: tuple[str, ...] = ()

    @property
    def servers(self) -> int:
        """Mediators who receive visitors here at once: resident and rotating staff (on-call ones come when called)."""
        return max(1, sum(1 for x in self.staff if x.get("mode") in ("resident", "rotating")))


@dataclass(frozen=True)
class TicketView:
    id: str
    case_id: str
    case_no: str
    label: str
    room_code: str
    state: str
    priority_reasons: tuple[str, ...]
    arrival_at: dt.datetime
    queue_key: dt.datetime
    recalls: int
    called_at: dt.datetime | None
    called_by: str | None
    terminal: str | None

    @property
    def is_priority(self) -> bool:
        return bool(self.priority_reasons)


@dataclass(frozen=True)
class IssuedTicket:
    ticket: TicketView
    room: RoomView
    ahead: int
    estimated_wait_minutes: int
    proposal: Proposal
    overridden: bool


@dataclass(frozen=True)
class CallView:
    """A call as the hall display shows it."""

    ticket: str
    room_code: str
    room_name: str
    room_number: int
    location: str
    called_at: dt.datetime
    recalls: int

    @property
    def text(self) -> str:
        return q.announcement(self.ticket, self.room_name, self.room_number)

    @property
    def spoken(self) -> str:
        return q.spoken_announcement(self.ticket, self.room_name, self.room_number)


@dataclass(frozen=True)
class DivertedCase:
    """A case the county diverted to this hall (上级分流), waiting to be routed to one of its rooms."""

    case_no: str
    category_code: str
    category_name: str
    applicant_name: str
    applicant_id_masked: str
    headcount: int
    registered_at: dt.datetime
    diverted_at: dt.datetime | None
    diverted_by: str
    from_hall: str
    reason: str


@dataclass(frozen=True)
class MediatorView:
    id: str
    name: str
    grade: str
    specialties: tuple[str, ...]
    phone: str


class HallService:
    """Use cases of the hall's rooms and queue. `actor` is who is signed in; `terminal` names the PC."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        *,
        actor: str = "前台",
        terminal: str = "",
        no_show_after_recalls: int = q.NO_SHOW_AFTER_RECALLS,
    ) -> None:
        self._store = store
        self._clock = clock
        self.actor = actor
        self.terminal = terminal
        self.no_show_after_recalls = no_show_after_recalls
        self._hall_code: str | None = None

    @property
    def hall_code(self) -> str:
        if self._hall_code is None:
            with self._store.read() as s:
                self._hall_code = s.scalar(sa.select(Hall.code).where(Hall.is_local))
            if self._hall_code is None:
                raise DeskError("数据库尚未初始化：请先运行 desk init")
        return self._hall_code

    def now(self) -> dt.datetime:
        return self._clock.now()

    # --- rooms ------------------------------------------------------------------------------------------

    def rooms(self) -> list[RoomView]:
        with self._store.read() as s:
            return self._rooms(s)

    def _rooms(self, s: Session) -> list[RoomView]:
        waiting = dict(
            s.execute(
                sa.select(TicketRow.room_code, sa.func.count())
                .where(TicketRow.hall_code == self.hall_code, TicketRow.state == TicketState.WAITING.value)
                .group_by(TicketRow.room_code)
            ).all()
        )
        rows = s.scalars(
            sa.select(RoomRow).where(RoomRow.hall_code == self.hall_code).order_by(RoomRow.position)
        )
        return [_room_view(r, int(waiting.get(r.code, 0))) for r in rows]

    def room(self, code: str) -> RoomView:
        found = next((r for r in self.rooms() if r.code == code), None)
        if found is None:
            raise NotFound(f"功能室 {code} 不存在")
        return found

    def set_room_open(self, code: str, is_open: bool) -> None:
        with self._store.unit_of_work() as s:
            row = self._room_row(s, code)
            row.is_open = is_open
            bump_counter(s, self.hall_code, ROOM_EDITS)
        logger.info("room %s %s", code, "opened" if is_open else "closed")

    def update_room(
        self,
        code: str,
        *,
        name: str,
        kind: str,
        prefix: str,
        capacity: int,
        location: str,
        categories: Sequence[str],
        staff: Sequence[dict[str, str]] = (),
        departments: Sequence[dict[str, str]] = (),
        primary_categories: Sequence[str] | None = None,
    ) -> RoomView:
        """Edit a room; every field is checked and all problems are reported together."""
        from desk.errors import FieldProblem

        problems: list[FieldProblem] = []
        name, location, prefix = name.strip(), location.strip(), prefix.strip().upper()
        if not 1 <= len(name) <= 40:
            problems.append(FieldProblem("name", "功能室名称应为1至40个字"))
        if not kind.strip():
            problems.append(FieldProblem("kind", "请选择功能室类型"))
        if len(prefix) != 1 or not ("A" <= prefix <= "Z"):
            problems.append(FieldProblem("prefix", "排队号前缀应为一个大写字母 A–Z"))
        if not 1 <= capacity <= 500:
            problems.append(FieldProblem("capacity", "容纳人数应为1至500"))
        if len(location) > 60:
            problems.append(FieldProblem("location", "位置说明最多60个字"))
        if any(st.get("mode") not in STATION_MODES for st in staff):
            problems.append(FieldProblem("staff", "驻室方式应为常驻、轮驻或随叫随驻"))
        ids = [st.get("mediator_id") for st in staff]
        if len(set(ids)) != len(ids):
            problems.append(FieldProblem("staff", "同一调解员在本室只能登记一次"))
        if any(d.get("mode") not in STATION_MODES for d in departments):
            problems.append(FieldProblem("departments", "驻室方式应为常驻、轮驻或随叫随驻"))
        if any(not str(d.get("name", "")).strip() or len(str(d.get("name"))) > 40 for d in departments):
            problems.append(FieldProblem("departments", "派驻部门名称应为1至40个字"))
        with self._store.unit_of_work() as s:
            row = self._room_row(s, code)
            clash = s.scalar(
                sa.select(RoomRow.name).where(
                    RoomRow.hall_code == self.hall_code, RoomRow.prefix == prefix, RoomRow.code != code
                )
            )
            if clash:
                problems.append(FieldProblem("prefix", f"前缀 {prefix} 已由“{clash}”使用"))
            known = set(s.scalars(sa.select(MediatorRow.id).where(MediatorRow.hall_code == self.hall_code)))
            if any(i not in known for i in ids):
                problems.append(FieldProblem("staff", "驻室人员中有不在调解员名册里的人"))
            if problems:
                raise ValidationError(problems)
            row.name, row.kind, row.prefix, row.capacity, row.location = (
                name,
                kind.strip(),
                prefix,
                capacity,
                location,
            )
            row.categories = list(dict.fromkeys(categories))
            if primary_categories is not None:
                row.primary_categories = [c for c in dict.fromkeys(primary_categories) if c in row.categories]
            row.staff = [dict(x) for x in staff]
            row.departments = [dict(x) for x in departments]
            bump_counter(s, self.hall_code, ROOM_EDITS)
            s.flush()
            return _room_view(row, 0)

    def _room_row(self, s: Session, code: str) -> RoomRow:
        row = s.scalars(
            sa.select(RoomRow).where(RoomRow.hall_code == self.hall_code, RoomRow.code == code)
        ).first()
        if row is None:
            raise NotFound(f"功能室 {code} 不存在")
        return row

    def mediators(self) -> list[MediatorView]:
        with self._store.read() as s:
            rows = s.scalars(
                sa.select(MediatorRow)
                .where(MediatorRow.hall_code == self.hall_code, MediatorRow.active)
                .order_by(MediatorRow.name)
            )
            return [MediatorView(m.id, m.name, m.grade, tuple(m.specialties), m.phone) for m in rows]

    def save_mediator(
        self,
        mediator_id: str | None,
        *,
        name: str,
        grade: str = "",
        specialties: Sequence[str] = (),
        phone: str = "",
    ) -> MediatorView:
        """Add a mediator to the roster (`mediator_id` None) or correct one; every field is checked."""
        from desk.core.parties import parse_person_name, parse_phone
        from desk.errors import FieldProblem

        problems: list[FieldProblem] = []
        clean_name = clean_phone = ""
        try:
            clean_name = parse_person_name(name)
        except ValidationError as e:
            problems += e.problems
        if phone.strip():
            try:
                clean_phone = parse_phone(phone).value
            except ValidationError as e:
                problems += e.problems
        grade = grade.strip()
        if len(grade) > 20:
            problems.append(FieldProblem("grade", "等级最多20个字"))
        with self._store.unit_of_work() as s:
            from desk.store.models import CategoryRow

            known = set(s.scalars(sa.select(CategoryRow.code)))
            if any(c not in known for c in specialties):
                problems.append(FieldProblem("specialties", "擅长类别中有不在类别目录里的类别"))
            if problems:
                raise ValidationError(problems)
            if mediator_id is None:
                row = MediatorRow(
                    id=new_id(),
                    hall_code=self.hall_code,
                    name=clean_name,
                    grade=grade,
                    specialties=list(dict.fromkeys(specialties)),
                    phone=clean_phone,
                    active=True,
                )
                s.add(row)
            else:
                found = s.get(MediatorRow, mediator_id)
                if found is None or found.hall_code != self.hall_code:
                    raise NotFound("调解员不存在")
                row = found
                row.name, row.grade, row.phone = clean_name, grade, clean_phone
                row.specialties = list(dict.fromkeys(specialties))
            bump_counter(s, self.hall_code, ROOM_EDITS)
            s.flush()
            return MediatorView(row.id, row.name, row.grade, tuple(row.specialties), row.phone)

    def retire_mediator(self, mediator_id: str) -> None:
        """Take a mediator off the roster and out of every room; their past work stays in the case events."""
        with self._store.unit_of_work() as s:
            row = s.get(MediatorRow, mediator_id)
            if row is None or row.hall_code != self.hall_code:
                raise NotFound("调解员不存在")
            row.active = False
            for room in s.scalars(sa.select(RoomRow).where(RoomRow.hall_code == self.hall_code)):
                if any(x.get("mediator_id") == mediator_id for x in room.staff):
                    room.staff = [x for x in room.staff if x.get("mediator_id") != mediator_id]
            bump_counter(s, self.hall_code, ROOM_EDITS)

    def room_mediators(self, code: str) -> list[tuple[MediatorView, str]]:
        """The mediators stationed in a room, with their mode (resident / rotating / on_call)."""
        room = self.room(code)
        by_id = {m.id: m for m in self.mediators()}
        return [(by_id[x["mediator_id"]], x["mode"]) for x in room.staff if x.get("mediator_id") in by_id]

    # --- routing and tickets -----------------------------------------------------------------------------

    def loads(self) -> list[RoomLoad]:
        with self._store.read() as s:
            return self._loads(s)

    def _loads(self, s: Session) -> list[RoomLoad]:
        recent: dict[str, list[float]] = {}
        finished = s.execute(
            sa.select(TicketRow.room_code, TicketRow.served_at, TicketRow.finished_at)
            .where(TicketRow.hall_code == self.hall_code, TicketRow.finished_at.is_not(None))
            .order_by(TicketRow.finished_at.desc())
            .limit(RECENT_SERVICES * 20)
        )
        for room, served, done in finished:
            bucket = recent.setdefault(room, [])
            if served is not None and done is not None and len(bucket) < RECENT_SERVICES:
                bucket.append((done - served).total_seconds() / 60)
        serving = dict(
            s.execute(
                sa.select(TicketRow.room_code, sa.func.count())
                .where(
                    TicketRow.hall_code == self.hall_code,
                    TicketRow.state.in_([TicketState.CALLED.value, TicketState.SERVING.value]),
                )
                .group_by(TicketRow.room_code)
            ).all()
        )
        return [
            RoomLoad(
                code=r.code,
                name=r.name,
                kind=r.kind,
                categories=frozenset(r.categories),
                capacity=r.capacity,
                is_open=r.is_open,
                waiting=r.waiting,
                mean_handling_minutes=handling_minutes(r.kind, recent.get(r.code, [])),
                position=r.number,
                serving=int(serving.get(r.code, 0)),
                servers=r.servers,
                primary_for=frozenset(r.primary_categories),
            )
            for r in self._rooms(s)
        ]

    def propose(self, case_no: str) -> Proposal:
        with self._store.read() as s:
            case = self._case_row(s, case_no)
            return propose_room(
                category_code=case.category_code,
                headcount=case.headcount,
                risk_flags=case.risk_flags,
                rooms=self._loads(s),
            )

    def issue_ticket(
        self,
        case_no: str,
        *,
        room_code: str | None = None,
        override_reason: str = "",
        declared_priority: Iterable[str] = (),
    ) -> IssuedTicket:
        """Route the case (to the proposed room, or to `room_code` if the desk overrides) and give it a ticket."""
        now = self._clock.now()
        with self._store.unit_of_work() as s:
            case = self._case_row(s, case_no)
            if s.scalar(
                sa.select(TicketRow.label).where(
                    TicketRow.case_id == case.id,
                    TicketRow.state.in_(
                        [TicketState.WAITING.value, TicketState.CALLED.value, TicketState.PARKED.value]
                    ),
                )
            ):
                raise Conflict(f"案件 {case_no} 已有排队号，请勿重复取号")
            loads = self._loads(s)
            proposal = propose_room(
                category_code=case.category_code,
                headcount=case.headcount,
                risk_flags=case.risk_flags,
                rooms=loads,
            )
            chosen = room_code or proposal.room_code
            if chosen is None:
                raise ValidationError.single("room", proposal.reason)
            room = next((r for r in self._rooms(s) if r.code == chosen), None)
            if room is None:
                raise NotFound(f"功能室 {chosen} 不存在")
            if not room.is_open:
                raise ValidationError.single("room", f"{room.name}现未开放，请选择其他功能室")
            overridden = chosen != proposal.room_code
            append_event(
                s,
                hall_code=self.hall_code,
                case_id=case.id,
                kind="routed",
                occurred_at=now,
                actor=self.actor,
                payload={
                    "room": chosen,
                    "proposed": proposal.room_code,
                    "reason": proposal.reason,
                    "overridden": overridden,
                    "override_reason": override_reason.strip(),
                },
            )
            applicant = s.scalars(
                sa.select(PartyRow)
                .where(PartyRow.case_id == case.id, PartyRow.role == "applicant")
                .order_by(PartyRow.position)
            ).first()
            reasons = q.priority_reasons(
                birth_date=applicant.birth_date if applicant else None,
                today=local_date(now),
                declared=declared_priority,
                risk_flags=case.risk_flags,
            )
            payload = self._new_ticket_payload(s, room, arrival=now, reasons=[r.value for r in reasons])
            append_event(
                s,
                hall_code=self.hall_code,
                case_id=case.id,
                kind="ticket_issued",
                occurred_at=now,
                actor=self.actor,
                payload=payload,
            )
            s.flush()
            ticket = self._ticket_view(s, str(payload["ticket_id"]))
            ahead = self._ahead(s, ticket)
            load = next(x for x in loads if x.code == chosen)
        logger.info("ticket %s for %s in room %s", ticket.label, case_no, chosen)
        return IssuedTicket(ticket, room, ahead, round(expected_wait(ahead, load)), proposal, overridden)

    def _new_ticket_payload(
        self,
        s: Session,
        room: RoomView,
        *,
        arrival: dt.datetime,
        reasons: list[str],
        key: dt.datetime | None = None,
    ) -> dict[str, object]:
        day = local_date(self._clock.now())
        number = bump_counter(s, self.hall_code, f"ticket:{day.isoformat()}:{room.prefix}")
        return {
            "ticket_id": new_id(),
            "room": room.code,
            "day": day.isoformat(),
            "number": number,
            "label": q.ticket_label(room.prefix, number),
            "priority_reasons": reasons,
            "arrival_at": arrival.isoformat(),
            "queue_key": (key or q.queue_key(arrival, priority=bool(reasons))).isoformat(),
        }

    def _ahead(self, s: Session, t: TicketView) -> int:
        return int(
            s.scalar(
                sa.select(sa.func.count())
                .select_from(TicketRow)
                .where(
                    TicketRow.hall_code == self.hall_code,
                    TicketRow.room_code == t.room_code,
                    TicketRow.state == TicketState.WAITING.value,
                    TicketRow.id != t.id,
                    sa.or_(
                        TicketRow.queue_key < t.queue_key,
                        sa.and_(TicketRow.queue_key == t.queue_key, TicketRow.number < _number(s, t.id)),
                    ),
                )
            )
            or 0
        )

    # --- the queue ------------------------------------------------------------------------------------

    def queue(
        self,
        room_code: str,
        *,
        include: Sequence[TicketState] = (
            TicketState.WAITING,
            TicketState.CALLED,
            TicketState.PARKED,
            TicketState.SERVING,
            TicketState.NO_SHOW,
        ),
    ) -> list[TicketView]:
        """The room's tickets of today in serving order: waiting ones by queue key, the others after."""
        with self._store.read() as s:
            rows = s.execute(
                sa.select(TicketRow, CaseRow.case_no)
                .join(CaseRow, CaseRow.id == TicketRow.case_id)
                .where(
                    TicketRow.hall_code == self.hall_code,
                    TicketRow.room_code == room_code,
                    TicketRow.state.in_([x.value for x in include]),
                )
                .order_by(TicketRow.queue_key, TicketRow.number)
            ).all()
        return [_ticket_view(t, no) for t, no in rows]

    def call_next(self, room_code: str, *, take_over: bool = True) -> TicketView | None:
        """Call the room's next waiting ticket; None when nobody waits. Of two terminals pressing at once,
        each gets a different visitor (or None): the call is one conditional UPDATE on `state`.

        A room with nobody waiting takes over the longest-queued visitor it can receive from another room's
        queue (same category, room big enough, never a person in crisis, never into the counselling room):
        a transfer that keeps their place, then the call. bench/hall_day.py measured this (take-over)."""
        now = self._clock.now()
        with self._store.unit_of_work() as s:
            for _ in range(5):
                ticket_id = self._next_waiting(s, room_code)
                if ticket_id is None and take_over:
                    ticket_id = self._take_over(s, room_code, now)
                if ticket_id is None:
                    return None
                if self._take(s, ticket_id, {TicketState.WAITING}, TicketState.CALLED, now):
                    self._event(s, ticket_id, "called", now, {"terminal": self.terminal})
                    return self._ticket_view(s, ticket_id)
            raise Conflict("叫号冲突，请重试")

    def _next_waiting(self, s: Session, room_code: str) -> str | None:
        pick = (
            sa.select(TicketRow.id)
            .where(
                TicketRow.hall_code == self.hall_code,
                TicketRow.room_code == room_code,
                TicketRow.state == TicketState.WAITING.value,
            )
            .order_by(TicketRow.queue_key, TicketRow.number)
            .limit(1)
        )
        if self._store.dialect == "postgresql":
            pick = pick.with_for_update(skip_locked=True)
        return s.scalar(pick)

    def _take_over(self, s: Session, room_code: str, now: dt.datetime) -> str | None:
        """Move the longest-queued visitor this room can receive here; returns the new ticket's id."""
        room = next((r for r in self._rooms(s) if r.code == room_code), None)
        if room is None or not room.is_open or room.kind == COUNSELLING_KIND or not room.categories:
            return None
        pick = (
            sa.select(TicketRow, CaseRow.category_code, CaseRow.headcount, CaseRow.risk_flags)
            .join(CaseRow, CaseRow.id == TicketRow.case_id)
            .where(
                TicketRow.hall_code == self.hall_code,
                TicketRow.room_code != room_code,
                TicketRow.state == TicketState.WAITING.value,
                CaseRow.category_code.in_(room.categories),
                CaseRow.headcount <= room.capacity,
            )
            .order_by(TicketRow.queue_key, TicketRow.number)
            .limit(20)
        )
        if self._store.dialect == "postgresql":
            pick = pick.with_for_update(of=TicketRow, skip_locked=True)
        for t, _category, _headcount, flags in s.execute(pick).all():
            if "psychological_crisis" in flags:
                continue
            if not self._take(s, t.id, {TicketState.WAITING}, TicketState.TRANSFERRED, now):
                continue
            payload = self._new_ticket_payload(
                s, room, arrival=t.arrival_at, reasons=list(t.priority_reasons), key=t.queue_key
            )
            payload.update(
                from_ticket_id=t.id, from_room=t.room_code, reason="空闲功能室接手等候最久的来访人"
            )
            append_event(
                s,
                hall_code=self.hall_code,
                case_id=t.case_id,
                kind="transferred",
                occurred_at=now,
                actor=self.actor,
                payload=payload,
            )
            s.flush()
            return str(payload["ticket_id"])
        return None

    def call_ticket(self, ticket_id: str, *, reason: str) -> TicketView:
        """Call a chosen waiting ticket out of order; the reason is recorded."""
        if not reason.strip():
            raise ValidationError.single("reason", "不按顺序叫号须说明理由")
        return self._step(
            ticket_id,
            "call",
            TicketState.CALLED,
            "called",
            {"terminal": self.terminal, "out_of_order_reason": reason.strip()},
        )

    def recall(self, ticket_id: str) -> TicketView:
        """重呼: announce a called ticket again."""
        now = self._clock.now()
        with self._store.unit_of_work() as s:
            t = self._ticket_row(s, ticket_id)
            self._require(t, "recall")
            self._event(s, ticket_id, "recalled", now, {"terminal": self.terminal, "recall": t.recalls + 1})
            return self._ticket_view(s, ticket_id)

    def park(self, ticket_id: str) -> TicketView:
        """The visitor steps out (to fetch a document); they keep their place."""
        return self._step(ticket_id, "park", TicketState.PARKED, "parked", {})

    def unpark(self, ticket_id: str) -> TicketView:
        return self._step(ticket_id, "unpark", TicketState.WAITING, "unparked", {})

    def no_show(self, ticket_id: str, *, recalls_needed: int | None = None) -> TicketView:
        """过号: only after the ticket has been recalled `recalls_needed` times (the hall's setting by default)."""
        if recalls_needed is None:
            recalls_needed = self.no_show_after_recalls
        with self._store.read() as s:
            t = self._ticket_row(s, ticket_id)
            if t.state == TicketState.CALLED.value and t.recalls < recalls_needed:
                raise ValidationError.single(
                    "ticket", f"{t.label} 已重呼{t.recalls}次，须重呼{recalls_needed}次仍未到才能记为过号"
                )
        return self._step(ticket_id, "no_show", TicketState.NO_SHOW, "no_show", {})

    def requeue(self, ticket_id: str) -> TicketView:
        """A no-show visitor came back: they queue again from now."""
        now = self._clock.now()
        with self._store.unit_of_work() as s:
            t = self._ticket_row(s, ticket_id)
            self._require(t, "requeue")
            self._event(
                s,
                ticket_id,
                "requeued",
                now,
                {"queue_key": q.queue_key(now, priority=bool(t.priority_reasons)).isoformat()},
            )
            return self._ticket_view(s, ticket_id)

    def abandon(self, ticket_id: str) -> TicketView:
        """The visitor left without being served: counted as abandoned, not lost."""
        return self._step(ticket_id, "abandon", TicketState.ABANDONED, "abandoned", {})

    def finish(self, ticket_id: str) -> TicketView:
        """The mediator finished receiving this visitor; the time feeds the room's mean handling time."""
        return self._step(ticket_id, "finish", TicketState.DONE, "service_finished", {})

    def claim(self, ticket_id: str) -> TicketView:
        """Claim the visitor at this terminal; of two terminals claiming at once exactly one wins."""
        return self._step(ticket_id, "claim", TicketState.SERVING, "claimed", {"terminal": self.terminal})

    def claim_by_scan(self, scanned: str) -> TicketView:
        """Claim from a receipt scan: the status URL or token from the QR code, a case number or a ticket label."""
        text = scanned.strip()
        token = text.rstrip("/").rsplit("/", 1)[-1]
        with self._store.read() as s:
            case = s.scalars(
                sa.select(CaseRow).where(sa.or_(CaseRow.status_token == token, CaseRow.case_no == text))
            ).first()
            query = sa.select(TicketRow.id).where(
                TicketRow.hall_code == self.hall_code,
                TicketRow.state.in_([TicketState.WAITING.value, TicketState.CALLED.value]),
            )
            if case is not None:
                query = query.where(TicketRow.case_id == case.id)
            else:
                query = query.where(
                    TicketRow.label == text.upper(), TicketRow.day == local_date(self._clock.now())
                )
            ticket_id = s.scalar(query.order_by(TicketRow.updated_at.desc()).limit(1))
        if ticket_id is None:
            raise NotFound("未找到可接待的排队号：请核对回执，或该号已被接待")
        return self.claim(ticket_id)

    def transfer(self, ticket_id: str, *, to_room: str, reason: str) -> TicketView:
        """Move the visitor to another room's queue; they keep their original arrival time (and place)."""
        if not reason.strip():
            raise ValidationError.single("reason", "转室须说明理由")
        now = self._clock.now()
        with self._store.unit_of_work() as s:
            t = self._ticket_row(s, ticket_id)
            self._require(t, "transfer")
            if t.room_code == to_room:
                raise ValidationError.single("room", "已在该功能室排队")
            room = next((r for r in self._rooms(s) if r.code == to_room), None)
            if room is None:
                raise NotFound(f"功能室 {to_room} 不存在")
            if not self._take(s, ticket_id, set(q.TRANSITIONS["transfer"]), TicketState.TRANSFERRED, now):
                raise Conflict(f"{t.label} 刚被其他终端处理，请刷新")
            payload = self._new_ticket_payload(
                s, room, arrival=t.arrival_at, reasons=list(t.priority_reasons), key=t.queue_key
            )
            payload.update(from_ticket_id=ticket_id, from_room=t.room_code, reason=reason.strip())
            append_event(
                s,
                hall_code=self.hall_code,
                case_id=t.case_id,
                kind="transferred",
                occurred_at=now,
                actor=self.actor,
                payload=payload,
            )
            s.flush()
            return self._ticket_view(s, str(payload["ticket_id"]))

    # --- the display --------------------------------------------------------------------------------------

    def recent_calls(self, limit: int = 8) -> list[CallView]:
        """Today's calls, newest first (a recall counts as a new call)."""
        today = local_date(self._clock.now())
        with self._store.read() as s:
            rooms = {r.code: r for r in self._rooms(s)}
            rows = s.scalars(
                sa.select(TicketRow)
                .where(
                    TicketRow.hall_code == self.hall_code,
                    TicketRow.day == today,
                    TicketRow.called_at.is_not(None),
                )
                .order_by(TicketRow.called_at.desc())
                .limit(limit)
            )
            out = []
            for t in rows:
                r = rooms.get(t.room_code)
                assert t.called_at is not None
                out.append(
                    CallView(
                        t.label,
                        t.room_code,
                        r.name if r else t.room_code,
                        r.number if r else 0,
                        r.location if r else "",
                        t.called_at,
                        t.recalls,
                    )
                )
            return out

    def change_mark(self) -> int:
        """A number that grows with every event and every room edit in the hall: cheap to poll, to know when
        to refresh. (Room edits have their own counter: `halls.last_seq` numbers events only, gap-free.)"""
        with self._store.read() as s:
            events = s.scalar(sa.select(Hall.last_seq).where(Hall.code == self.hall_code)) or 0
            edits = (
                s.scalar(
                    sa.select(Counter.value).where(
                        Counter.hall_code == self.hall_code, Counter.name == ROOM_EDITS
                    )
                )
                or 0
            )
            return int(events) + int(edits)

    def diverted_cases(self) -> list[DivertedCase]:
        """The cases the county diverted to this hall that no room has taken yet, longest waiting first; the
        reason is the one given with the latest diversion."""
        with self._store.read() as s:
            cases = s.execute(
                sa.select(CaseRow, CategoryRow.name)
                .outerjoin(CategoryRow, CategoryRow.code == CaseRow.category_code)
                .where(CaseRow.state == "diverted", CaseRow.hall_code == self.hall_code)
            ).all()
            ids = [c.id for c, _ in cases]
            applicants: dict[str, PartyRow] = {}
            diversions: dict[str, CaseEvent] = {}
            for chunk in (ids[i : i + 500] for i in range(0, len(ids), 500)):
                for p in s.scalars(
                    sa.select(PartyRow)
                    .where(PartyRow.case_id.in_(chunk), PartyRow.role == "applicant")
                    .order_by(PartyRow.position)
                ):
                    applicants.setdefault(p.case_id, p)
                for e in s.scalars(
                    sa.select(CaseEvent)
                    .where(CaseEvent.case_id.in_(chunk), CaseEvent.kind == "diverted")
                    .order_by(CaseEvent.occurred_at, CaseEvent.seq)
                ):
                    diversions[e.case_id] = e  # the latest wins
            out = []
            for c, category in cases:
                a, d = applicants.get(c.id), diversions.get(c.id)
                payload = d.payload if d is not None else {}
                out.append(
                    DivertedCase(
                        case_no=c.case_no,
                        category_code=c.category_code,
                        category_name=category or c.category_code,
                        applicant_name=a.name if a else "",
                        applicant_id_masked=mask_id_number(a.id_number) if a and a.id_number else "",
                        headcount=c.headcount,
                        registered_at=c.registered_at,
                        diverted_at=d.occurred_at if d is not None else None,
                        diverted_by=d.actor if d is not None else "",
                        from_hall=str(payload.get("from_hall") or ""),
                        reason=str(payload.get("reason") or ""),
                    )
                )
        return sorted(out, key=lambda x: (x.diverted_at or x.registered_at, x.case_no))

    def diverted_count(self) -> int:
        """How many diverted cases wait to be routed here: one indexed count, cheap enough to poll."""
        with self._store.read() as s:
            return int(
                s.scalar(
                    sa.select(sa.func.count())
                    .select_from(CaseRow)
                    .where(CaseRow.state == "diverted", CaseRow.hall_code == self.hall_code)
                )
                or 0
            )

    def active_ticket(self, case_no: str) -> TicketView | None:
        """The case's ticket that is still in a queue (waiting, called or parked), if any."""
        with self._store.read() as s:
            row = s.execute(
                sa.select(TicketRow, CaseRow.case_no)
                .join(CaseRow, CaseRow.id == TicketRow.case_id)
                .where(
                    CaseRow.case_no == case_no,
                    TicketRow.state.in_(
                        [TicketState.WAITING.value, TicketState.CALLED.value, TicketState.PARKED.value]
                    ),
                )
                .order_by(TicketRow.updated_at.desc())
                .limit(1)
            ).first()
            return None if row is None else _ticket_view(row[0], row[1])

    # --- helpers ----------------------------------------------------------------------------------------

    def _case_row(self, s: Session, case_no: str) -> CaseRow:
        case = s.scalars(sa.select(CaseRow).where(CaseRow.case_no == case_no)).first()
        if case is None:
            raise NotFound(f"案件 {case_no} 不存在")
        return case

    def _ticket_row(self, s: Session, ticket_id: str) -> TicketRow:
        t = s.get(TicketRow, ticket_id)
        if t is None:
            raise NotFound("排队号不存在")
        return t

    def _ticket_view(self, s: Session, ticket_id: str) -> TicketView:
        t = self._ticket_row(s, ticket_id)
        case_no = s.scalar(sa.select(CaseRow.case_no).where(CaseRow.id == t.case_id)) or ""
        return _ticket_view(t, case_no)

    def _require(self, t: TicketRow, step: str) -> None:
        allowed = q.TRANSITIONS[step]
        if TicketState(t.state) not in allowed:
            raise Conflict(
                f"{t.label} 当前为“{TicketState(t.state).label}”，不能{_STEP_LABELS[step]}"
                + (f"（{t.terminal} 终端）" if t.terminal and t.state in ("called", "serving") else "")
            )

    def _take(
        self, s: Session, ticket_id: str, allowed: set[TicketState], to: TicketState, now: dt.datetime
    ) -> bool:
        """The conditional UPDATE: move the ticket only if it is still in an allowed state."""
        res = s.execute(
            sa.update(TicketRow)
            .where(TicketRow.id == ticket_id, TicketRow.state.in_([a.value for a in allowed]))
            .values(state=to.value, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(res, "rowcount", 0) == 1)

    def _step(
        self, ticket_id: str, step: str, to: TicketState, kind: str, payload: dict[str, object]
    ) -> TicketView:
        now = self._clock.now()
        with self._store.unit_of_work() as s:
            t = self._ticket_row(s, ticket_id)
            self._require(t, step)
            if not self._take(s, ticket_id, set(q.TRANSITIONS[step]), to, now):
                s.expire(t)
                raise Conflict(f"{t.label} 刚被其他终端处理（{TicketState(t.state).label}），请刷新")
            self._event(s, ticket_id, kind, now, {**payload, "ticket_id": ticket_id})
            s.flush()
            return self._ticket_view(s, ticket_id)

    def _event(
        self, s: Session, ticket_id: str, kind: str, now: dt.datetime, payload: dict[str, object]
    ) -> None:
        case_id = s.scalar(sa.select(TicketRow.case_id).where(TicketRow.id == ticket_id))
        assert case_id is not None
        append_event(
            s,
            hall_code=self.hall_code,
            case_id=case_id,
            kind=kind,
            occurred_at=now,
            actor=self.actor,
            payload={**payload, "ticket_id": ticket_id},
        )


_STEP_LABELS = {
    "call": "叫号",
    "recall": "重呼",
    "park": "暂离",
    "unpark": "回到队列",
    "no_show": "记为过号",
    "requeue": "重新排队",
    "claim": "接待",
    "transfer": "转室",
    "abandon": "记为离开",
    "finish": "结束接待",
}


def _number(s: Session, ticket_id: str) -> int:
    return int(s.scalar(sa.select(TicketRow.number).where(TicketRow.id == ticket_id)) or 0)


def _room_view(r: RoomRow, waiting: int) -> RoomView:
    digits = "".join(ch for ch in r.code if ch.isdigit())
    return RoomView(
        r.code,
        r.name,
        r.kind,
        r.prefix,
        r.capacity,
        r.location,
        tuple(r.categories),
        r.is_open,
        int(digits) if digits else r.position + 1,
        waiting,
        tuple(r.staff),
        tuple(r.departments),
        tuple(r.primary_categories),
    )


def _ticket_view(t: TicketRow, case_no: str) -> TicketView:
    return TicketView(
        t.id,
        t.case_id,
        case_no,
        t.label,
        t.room_code,
        t.state,
        tuple(t.priority_reasons),
        t.arrival_at,
        t.queue_key,
        t.recalls,
        t.called_at,
        t.called_by,
        t.terminal,
    )


def local_time(moment: dt.datetime) -> str:
    return moment.astimezone(CHINA_TZ).strftime("%H:%M")
