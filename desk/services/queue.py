"""Routing a case to a room, its ticket, and the queue's steps: call (with take-over), recall, park, no-show,
requeue, claim, transfer, abandon, finish; and the cases the county diverted here, waiting to be routed."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from desk.core import events as ev
from desk.core import lifecycle
from desk.core import queue as q
from desk.core.audit import AuditAction
from desk.core.clock import Clock, local_date
from desk.core.ids import new_id
from desk.core.permissions import ANONYMOUS, Action, Principal
from desk.core.queue import TicketState
from desk.core.routing import (
    RECENT_SERVICES,
    RECENT_WINDOW,
    Proposal,
    RoomLoad,
    expected_wait,
    handling_minutes,
    propose_room,
)
from desk.errors import Conflict, NotFound, Refused, ValidationError
from desk.services.base import HallUseCases
from desk.services.sealing import mask_summaries
from desk.store.events import append_event, bump_counter
from desk.store.queries import cases as cases_q
from desk.store.queries import rooms as rooms_q
from desk.store.queries import tickets as tickets_q
from desk.store.queries.cases import DivertedCase, RoutingCase
from desk.store.queries.rooms import RoomView
from desk.store.queries.tickets import BookedVisitor, TicketView, WaitingTicket

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from desk.store.session import Store

__all__ = ["Conflict", "DivertedCase", "IssuedTicket", "QueueService", "RoomView", "TicketView"]

logger = logging.getLogger(__name__)

TAKE_OVER_REASON = "空闲功能室接手等候最久的来访人"
# What a room's queue lists unless asked otherwise: everyone not yet gone (a no-show may come back).
QUEUE_STATES = (
    TicketState.WAITING,
    TicketState.CALLED,
    TicketState.PARKED,
    TicketState.SERVING,
    TicketState.NO_SHOW,
)


@dataclass(frozen=True)
class IssuedTicket:
    ticket: TicketView
    room: RoomView
    ahead: int
    estimated_wait_minutes: int
    proposal: Proposal
    overridden: bool


class QueueService(HallUseCases):
    """Use cases of routing and the room queues. `actor` is who is signed in; `terminal` names the PC; a called
    visitor may be marked 过号 after `no_show_after_recalls` recalls."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        *,
        principal: Principal = ANONYMOUS,
        no_show_after_recalls: int = q.NO_SHOW_AFTER_RECALLS,
    ) -> None:
        super().__init__(store, clock, principal=principal)
        self.no_show_after_recalls = no_show_after_recalls

    # --- routing and tickets -----------------------------------------------------------------------------

    @property
    def terminal(self) -> str:
        return self.principal.terminal

    def loads(self) -> list[RoomLoad]:
        """Each room as routing sees it now: open, waiting, serving, staff, recent handling time."""
        self.guard(Action.ROUTE)
        with self._store.read() as s:
            return self._loads(s)

    def _loads(self, s: Session) -> list[RoomLoad]:
        recent = tickets_q.recent_handling_minutes(
            s, self.hall_code, per_room=RECENT_SERVICES, window=RECENT_WINDOW
        )
        serving = tickets_q.serving_by_room(s, self.hall_code)
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
                serving=serving.get(r.code, 0),
                servers=r.servers,
                primary_for=frozenset(r.primary_categories),
            )
            for r in rooms_q.rooms(s, self.hall_code)
        ]

    def propose(self, case_no: str) -> Proposal:
        """Where the case would go now, and why; refused for a case that cannot get a ticket here (closed, or
        diverted to another hall)."""
        self.guard(Action.ROUTE)
        with self._store.read() as s:
            case = self._case(s, case_no)
            self._require_routable(case)
            return propose_room(
                category_code=case.category_code,
                headcount=case.headcount,
                risk_flags=case.risk_flags,
                rooms=self._loads(s),
            )

    def booked_today(self, room_code: str | None = None) -> list[BookedVisitor]:
        """Today's appointments (预约办) in `room_code` (or every room) whose visitor has not arrived yet."""
        self.guard(Action.ROUTE)
        with self._store.read() as s:
            return tickets_q.booked_today(s, self.hall_code, local_date(self._clock.now()), room_code)

    def check_in_booking(self, booking_id: str) -> IssuedTicket:
        """A booked visitor has arrived: a ticket in the booked room (the routing records the booking)."""
        self.guard(Action.ROUTE)
        with self._store.read() as s:
            booked = tickets_q.booking(s, booking_id)
        if booked is None:
            raise NotFound("预约不存在")
        today = local_date(self._clock.now())
        if booked.day != today:
            raise ValidationError.single(
                "booking", f"此预约在 {booked.day:%Y年%m月%d日} {booked.time}，不是今天：请按普通来访取号"
            )
        return self.issue_ticket(
            booked.case_no, room_code=booked.room_code, override_reason=f"预约 {booked.time} 到场"
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
        self.guard(Action.ROUTE)
        now = self._clock.now()
        with self._store.unit_of_work() as s:
            case = self._case(s, case_no)
            self._require_ticketable(s, case)
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
            room = rooms_q.room(s, self.hall_code, chosen)
            if room is None:
                raise NotFound(f"功能室 {chosen} 不存在")
            if not room.is_open:
                raise ValidationError.single("room", f"{room.name}现未开放，请选择其他功能室")
            overridden = chosen != proposal.room_code
            append_event(
                s,
                hall_code=self.hall_code,
                case_id=case.id,
                body=ev.Routed(
                    room=chosen,
                    proposed=proposal.room_code,
                    reason=proposal.reason,
                    overridden=overridden,
                    override_reason=override_reason.strip(),
                ),
                occurred_at=now,
                actor=self.actor,
            )
            born, band = cases_q.applicant_age(s, case.id)
            reasons = q.priority_reasons(
                birth_date=born,
                age_band=band,
                today=local_date(now),
                declared=declared_priority,
                risk_flags=case.risk_flags,
            )
            issued = self._new_ticket(s, room, arrival=now, reasons=tuple(r.value for r in reasons))
            append_event(
                s,
                hall_code=self.hall_code,
                case_id=case.id,
                body=issued,
                occurred_at=now,
                actor=self.actor,
            )
            s.flush()
            ticket = self._ticket(s, issued.ticket_id)
            self.audit(
                s,
                AuditAction.CHANGE,
                case_id=case.id,
                case_no=case.case_no,
                detail=f"分流取号 {ticket.label}",
                at=now,
            )
            ahead = tickets_q.ahead_of(s, self.hall_code, ticket)
            load = next(x for x in loads if x.code == chosen)
        logger.info("ticket %s for %s in room %s", ticket.label, case_no, chosen)
        return IssuedTicket(ticket, room, ahead, round(expected_wait(ahead, load)), proposal, overridden)

    def _new_ticket(
        self,
        s: Session,
        room: RoomView,
        *,
        arrival: dt.datetime,
        reasons: tuple[str, ...],
        key: dt.datetime | None = None,
    ) -> ev.TicketIssued:
        """A new ticket in this room: today's next number for its prefix; `key` keeps a place (a transfer)."""
        day = local_date(self._clock.now())
        number = bump_counter(s, self.hall_code, f"ticket:{day.isoformat()}:{room.prefix}")
        return ev.TicketIssued(
            ticket_id=new_id(),
            room=room.code,
            day=day,
            number=number,
            label=q.ticket_label(room.prefix, number),
            arrival_at=arrival,
            queue_key=key or q.queue_key(arrival, priority=bool(reasons)),
            priority_reasons=reasons,
        )

    def _transfer(
        self, s: Session, t: TicketView | WaitingTicket, room: RoomView, *, reason: str, now: dt.datetime
    ) -> ev.Transferred:
        """Append the move of a waiting visitor to `room` with a new ticket that keeps their place."""
        new = self._new_ticket(
            s, room, arrival=t.arrival_at, reasons=tuple(t.priority_reasons), key=t.queue_key
        )
        body = ev.Transferred(
            **{f.name: getattr(new, f.name) for f in dataclasses.fields(new)},
            from_ticket_id=t.id,
            from_room=t.room_code,
            reason=reason,
        )
        append_event(
            s, hall_code=self.hall_code, case_id=t.case_id, body=body, occurred_at=now, actor=self.actor
        )
        s.flush()
        return body

    # --- the queue ------------------------------------------------------------------------------------

    def queue(self, room_code: str, *, include: Sequence[TicketState] = QUEUE_STATES) -> list[TicketView]:
        """The room's tickets in serving order: by queue key, then number."""
        self._guard_queue_read()
        with self._store.read() as s:
            return tickets_q.room_queue(s, self.hall_code, room_code, include)

    def active_ticket(self, case_no: str) -> TicketView | None:
        """The case's ticket that is still in a queue (waiting, called or parked), if any."""
        self._guard_queue_read()
        with self._store.read() as s:
            return tickets_q.ticket_in_queue(s, case_no)

    def call_next(self, room_code: str, *, take_over: bool = True) -> TicketView | None:
        """Call the room's next waiting ticket; None when nobody waits. Of two terminals pressing at once,
        each gets a different visitor (or None): the call is one conditional UPDATE on `state`.

        A room with nobody waiting takes over the longest-queued visitor it can receive from another room's
        queue (`desk.core.queue.take_over_candidates`): a transfer that keeps their place, then the call.
        bench/hall_day.py measures this (take-over)."""
        self.guard(Action.CALL)
        now = self._clock.now()
        with self._store.unit_of_work() as s:
            for _ in range(5):
                ticket_id = tickets_q.next_waiting(s, self.hall_code, room_code)
                if ticket_id is None and take_over:
                    ticket_id = self._take_over(s, room_code, now)
                if ticket_id is None:
                    return None
                if tickets_q.move_ticket(
                    s, ticket_id, allowed={TicketState.WAITING}, to=TicketState.CALLED, now=now
                ):
                    t = self._ticket(s, ticket_id)
                    self._event(s, t, now, ev.Called(ticket_id, self.terminal))
                    return self._ticket(s, ticket_id)
            raise Conflict("叫号冲突，请重试")

    def _take_over(self, s: Session, room_code: str, now: dt.datetime) -> str | None:
        """Move the longest-queued visitor this room can receive here; returns the new ticket's id."""
        room = rooms_q.room(s, self.hall_code, room_code)
        if room is None or not q.receives_take_overs(room):
            return None
        waiting = tickets_q.waiting_elsewhere(
            s,
            self.hall_code,
            room_code,
            categories=room.categories,
            capacity=room.capacity,
            limit=q.TAKE_OVER_CANDIDATES,
        )
        for t in q.take_over_candidates(room, waiting):
            if not tickets_q.move_ticket(
                s, t.id, allowed={TicketState.WAITING}, to=TicketState.TRANSFERRED, now=now
            ):
                continue
            return self._transfer(s, t, room, reason=TAKE_OVER_REASON, now=now).ticket_id
        return None

    def call_ticket(self, ticket_id: str, *, reason: str) -> TicketView:
        """Call a chosen waiting ticket out of order; the reason is recorded."""
        self.guard(Action.CALL)
        if not reason.strip():
            raise ValidationError.single("reason", "不按顺序叫号须说明理由")
        return self._step(
            ticket_id, "call", TicketState.CALLED, ev.Called(ticket_id, self.terminal, reason.strip())
        )

    def recall(self, ticket_id: str) -> TicketView:
        """重呼: announce a called ticket again."""
        self.guard(Action.CALL)
        now = self._clock.now()
        with self._store.unit_of_work() as s:
            t = self._ticket(s, ticket_id)
            self._require(t, "recall")
            self._event(s, t, now, ev.Recalled(t.id, self.terminal, t.recalls + 1))
            return self._ticket(s, ticket_id)

    def park(self, ticket_id: str) -> TicketView:
        """The visitor steps out (to fetch a document); they keep their place."""
        self.guard(Action.CLAIM)
        return self._step(ticket_id, "park", TicketState.PARKED, ev.Parked(ticket_id))

    def unpark(self, ticket_id: str) -> TicketView:
        self.guard(Action.CLAIM)
        return self._step(ticket_id, "unpark", TicketState.WAITING, ev.Unparked(ticket_id))

    def no_show(self, ticket_id: str, *, recalls_needed: int | None = None) -> TicketView:
        """过号: only after the ticket has been recalled `recalls_needed` times (the hall's setting by default)."""
        self.guard(Action.CLAIM)
        if recalls_needed is None:
            recalls_needed = self.no_show_after_recalls
        with self._store.read() as s:
            t = self._ticket(s, ticket_id)
            if t.state == TicketState.CALLED.value and t.recalls < recalls_needed:
                raise ValidationError.single(
                    "ticket", f"{t.label} 已重呼{t.recalls}次，须重呼{recalls_needed}次仍未到才能记为过号"
                )
        return self._step(ticket_id, "no_show", TicketState.NO_SHOW, ev.NoShow(ticket_id))

    def requeue(self, ticket_id: str) -> TicketView:
        """A no-show visitor came back: they queue again from now."""
        self.guard(Action.CLAIM)
        now = self._clock.now()
        with self._store.unit_of_work() as s:
            t = self._ticket(s, ticket_id)
            self._require(t, "requeue")
            self._event(s, t, now, ev.Requeued(t.id, q.queue_key(now, priority=bool(t.priority_reasons))))
            return self._ticket(s, ticket_id)

    def abandon(self, ticket_id: str) -> TicketView:
        """The visitor left without being served: counted as abandoned, not lost."""
        self.guard(Action.CLAIM)
        return self._step(ticket_id, "abandon", TicketState.ABANDONED, ev.Abandoned(ticket_id))

    def finish(self, ticket_id: str) -> TicketView:
        """The mediator finished receiving this visitor; the time feeds the room's mean handling time."""
        self.guard(Action.CLAIM)
        return self._step(ticket_id, "finish", TicketState.DONE, ev.ServiceFinished(ticket_id))

    def claim(self, ticket_id: str) -> TicketView:
        """Claim the visitor at this terminal; of two terminals claiming at once exactly one wins."""
        self.guard(Action.CLAIM)
        return self._step(
            ticket_id,
            "claim",
            TicketState.SERVING,
            ev.Claimed(ticket_id, self.terminal, self.principal.login or None),
        )

    def claim_by_scan(self, scanned: str) -> TicketView:
        """Claim from a receipt scan: the status URL or token from the QR code, a case number or a ticket label."""
        self.guard(Action.CLAIM)
        text = scanned.strip()
        token = text.rstrip("/").rsplit("/", 1)[-1]
        with self._store.read() as s:
            ticket_id = tickets_q.claimable_ticket(
                s,
                self.hall_code,
                token=token,
                case_no=text,
                label=text.upper(),
                day=local_date(self._clock.now()),
            )
        if ticket_id is None:
            raise NotFound("未找到可接待的排队号：请核对回执，或该号已被接待")
        return self.claim(ticket_id)

    def transfer(self, ticket_id: str, *, to_room: str, reason: str) -> TicketView:
        """Move the visitor to another room's queue; they keep their original arrival time (and place)."""
        self.guard(Action.CLAIM)
        if not reason.strip():
            raise ValidationError.single("reason", "转室须说明理由")
        now = self._clock.now()
        with self._store.unit_of_work() as s:
            t = self._ticket(s, ticket_id)
            self._require(t, "transfer")
            if t.room_code == to_room:
                raise ValidationError.single("room", "已在该功能室排队")
            room = rooms_q.room(s, self.hall_code, to_room)
            if room is None:
                raise NotFound(f"功能室 {to_room} 不存在")
            if not tickets_q.move_ticket(
                s, ticket_id, allowed=q.TRANSITIONS["transfer"], to=TicketState.TRANSFERRED, now=now
            ):
                raise Conflict(f"{t.label} 刚被其他终端处理，请刷新")
            moved = self._transfer(s, t, room, reason=reason.strip(), now=now)
            return self._ticket(s, moved.ticket_id)

    # --- cases diverted to this hall ---------------------------------------------------------------------

    def diverted_cases(self) -> list[DivertedCase]:
        """The cases the county diverted to this hall that no room has taken yet, longest waiting first; the
        reason is the one given with the latest diversion."""
        self.guard(Action.ROUTE)
        with self._store.read() as s:
            found = cases_q.diverted_cases(s, self.hall_code)
        return mask_summaries(found, self.vault)

    def diverted_count(self) -> int:
        """How many diverted cases wait to be routed here: one indexed count, cheap enough to poll."""
        self.guard(Action.ROUTE)
        with self._store.read() as s:
            return cases_q.diverted_count(s, self.hall_code)

    # --- helpers ----------------------------------------------------------------------------------------

    def _guard_queue_read(self) -> None:
        """Reading a queue: whoever routes, calls or receives visitors."""
        if not any(
            self.principal.may(a) for a in (Action.ROUTE, Action.CALL, Action.CLAIM, Action.VIEW_CASE)
        ):
            self.guard(Action.CALL)

    def _case(self, s: Session, case_no: str) -> RoutingCase:
        case = cases_q.routing_case(s, case_no)
        if case is None:
            raise NotFound(f"案件 {case_no} 不存在")
        return case

    def _require_routable(self, case: RoutingCase) -> None:
        """Only an open case this hall holds goes to one of its rooms (not one closed, or diverted elsewhere)."""
        if case.hall_code and case.hall_code != self.hall_code:
            raise Conflict(f"案件 {case.case_no} 已分流至其他综治中心（{case.hall_code}），不能在本中心取号")
        if case.state:
            try:
                lifecycle.advance(
                    case.state, lifecycle.Step.TICKET
                )  # the one table says when a case may queue
            except Refused as e:
                raise Conflict(f"案件 {case.case_no}：{e.message}") from None

    def _require_ticketable(self, s: Session, case: RoutingCase) -> None:
        """A ticket is for a routable case that is not in a queue already."""
        self._require_routable(case)
        held = tickets_q.ticket_in_queue(s, case.case_no)
        if held is not None:
            room = rooms_q.room(s, self.hall_code, held.room_code)
            raise Conflict(
                f"案件 {case.case_no} 已有排队号 {held.label}（{room.name if room else held.room_code}，"
                f"{TicketState(held.state).label}），请勿重复取号"
            )

    def _ticket(self, s: Session, ticket_id: str) -> TicketView:
        t = tickets_q.ticket(s, ticket_id)
        if t is None:
            raise NotFound("排队号不存在")
        return t

    def _require(self, t: TicketView, step: str) -> None:
        state = TicketState(t.state)
        if state not in q.TRANSITIONS[step]:
            raise Conflict(
                f"{t.label} 当前为“{state.label}”，不能{_STEP_LABELS[step]}"
                + (f"（{t.terminal} 终端）" if t.terminal and t.state in ("called", "serving") else "")
            )

    def _step(self, ticket_id: str, step: str, to: TicketState, body: ev.EventBody) -> TicketView:
        now = self._clock.now()
        with self._store.unit_of_work() as s:
            t = self._ticket(s, ticket_id)
            self._require(t, step)
            if not tickets_q.move_ticket(s, ticket_id, allowed=q.TRANSITIONS[step], to=to, now=now):
                state = TicketState(self._ticket(s, ticket_id).state)
                raise Conflict(f"{t.label} 刚被其他终端处理（{state.label}），请刷新")
            self._event(s, t, now, body)
            s.flush()
            return self._ticket(s, ticket_id)

    def _event(self, s: Session, t: TicketView, now: dt.datetime, body: ev.EventBody) -> None:
        append_event(
            s, hall_code=self.hall_code, case_id=t.case_id, body=body, occurred_at=now, actor=self.actor
        )
        self.audit(s, AuditAction.CHANGE, case_id=t.case_id, detail=f"{ev.label_of(body)} {t.label}", at=now)


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
