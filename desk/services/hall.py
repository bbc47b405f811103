"""Transitional facade: the former `HallService`, delegating to the rooms, queue and display services.

Deprecated: new code uses `desk.services.rooms.RoomsService` (rooms and the mediator roster),
`desk.services.queue.QueueService` (routing, tickets, the queue's steps, diverted cases) and
`desk.services.display.DisplayService` (what the hall display shows). This module stays, with the same names,
until the windows in desk/ui and desk/forms have moved to them; then it goes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from desk.core import queue as q
from desk.core.queue import TicketState
from desk.core.routing import RECENT_SERVICES, Proposal, RoomLoad
from desk.errors import Conflict
from desk.services.display import CallView, DisplayService, local_time
from desk.services.queue import QUEUE_STATES, IssuedTicket, QueueService
from desk.services.rooms import RoomsService
from desk.store.queries.cases import DivertedCase
from desk.store.queries.hall import ROOM_EDITS
from desk.store.queries.rooms import MediatorView, RoomView
from desk.store.queries.tickets import TicketView

if TYPE_CHECKING:
    from desk.core.clock import Clock
    from desk.store.session import Store

__all__ = [
    "RECENT_SERVICES",
    "ROOM_EDITS",
    "CallView",
    "Conflict",
    "DivertedCase",
    "HallService",
    "IssuedTicket",
    "MediatorView",
    "RoomView",
    "TicketView",
    "local_time",
]


class HallService:
    """Transitional facade over `RoomsService`, `QueueService` and `DisplayService`, constructed as before:
    `HallService(store, clock, actor=..., terminal=...)`. `actor`, `terminal` and `no_show_after_recalls` are the
    queue service's (only the queue's steps record who and where)."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        *,
        actor: str = "前台",
        terminal: str = "",
        no_show_after_recalls: int = q.NO_SHOW_AFTER_RECALLS,
    ) -> None:
        self.rooms_service = RoomsService(store, clock)
        self.queue_service = QueueService(
            store, clock, actor=actor, terminal=terminal, no_show_after_recalls=no_show_after_recalls
        )
        self.display_service = DisplayService(store, clock)

    @property
    def actor(self) -> str:
        return self.queue_service.actor

    @actor.setter
    def actor(self, value: str) -> None:
        self.queue_service.actor = value

    @property
    def terminal(self) -> str:
        return self.queue_service.terminal

    @terminal.setter
    def terminal(self, value: str) -> None:
        self.queue_service.terminal = value

    @property
    def no_show_after_recalls(self) -> int:
        return self.queue_service.no_show_after_recalls

    @no_show_after_recalls.setter
    def no_show_after_recalls(self, value: int) -> None:
        self.queue_service.no_show_after_recalls = value

    @property
    def hall_code(self) -> str:
        return self.queue_service.hall_code

    def now(self) -> dt.datetime:
        return self.queue_service.now()

    # --- RoomsService ------------------------------------------------------------------------------------

    def rooms(self) -> list[RoomView]:
        return self.rooms_service.rooms()

    def room(self, code: str) -> RoomView:
        return self.rooms_service.room(code)

    def set_room_open(self, code: str, is_open: bool) -> None:
        self.rooms_service.set_room_open(code, is_open)

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
        return self.rooms_service.update_room(
            code,
            name=name,
            kind=kind,
            prefix=prefix,
            capacity=capacity,
            location=location,
            categories=categories,
            staff=staff,
            departments=departments,
            primary_categories=primary_categories,
        )

    def mediators(self) -> list[MediatorView]:
        return self.rooms_service.mediators()

    def save_mediator(
        self,
        mediator_id: str | None,
        *,
        name: str,
        grade: str = "",
        specialties: Sequence[str] = (),
        phone: str = "",
    ) -> MediatorView:
        return self.rooms_service.save_mediator(
            mediator_id, name=name, grade=grade, specialties=specialties, phone=phone
        )

    def retire_mediator(self, mediator_id: str) -> None:
        self.rooms_service.retire_mediator(mediator_id)

    def room_mediators(self, code: str) -> list[tuple[MediatorView, str]]:
        return self.rooms_service.room_mediators(code)

    # --- QueueService ------------------------------------------------------------------------------------

    def loads(self) -> list[RoomLoad]:
        return self.queue_service.loads()

    def propose(self, case_no: str) -> Proposal:
        return self.queue_service.propose(case_no)

    def issue_ticket(
        self,
        case_no: str,
        *,
        room_code: str | None = None,
        override_reason: str = "",
        declared_priority: Iterable[str] = (),
    ) -> IssuedTicket:
        return self.queue_service.issue_ticket(
            case_no, room_code=room_code, override_reason=override_reason, declared_priority=declared_priority
        )

    def queue(self, room_code: str, *, include: Sequence[TicketState] = QUEUE_STATES) -> list[TicketView]:
        return self.queue_service.queue(room_code, include=include)

    def call_next(self, room_code: str, *, take_over: bool = True) -> TicketView | None:
        return self.queue_service.call_next(room_code, take_over=take_over)

    def call_ticket(self, ticket_id: str, *, reason: str) -> TicketView:
        return self.queue_service.call_ticket(ticket_id, reason=reason)

    def recall(self, ticket_id: str) -> TicketView:
        return self.queue_service.recall(ticket_id)

    def park(self, ticket_id: str) -> TicketView:
        return self.queue_service.park(ticket_id)

    def unpark(self, ticket_id: str) -> TicketView:
        return self.queue_service.unpark(ticket_id)

    def no_show(self, ticket_id: str, *, recalls_needed: int | None = None) -> TicketView:
        return self.queue_service.no_show(ticket_id, recalls_needed=recalls_needed)

    def requeue(self, ticket_id: str) -> TicketView:
        return self.queue_service.requeue(ticket_id)

    def abandon(self, ticket_id: str) -> TicketView:
        return self.queue_service.abandon(ticket_id)

    def finish(self, ticket_id: str) -> TicketView:
        return self.queue_service.finish(ticket_id)

    def claim(self, ticket_id: str) -> TicketView:
        return self.queue_service.claim(ticket_id)

    def claim_by_scan(self, scanned: str) -> TicketView:
        return self.queue_service.claim_by_scan(scanned)

    def transfer(self, ticket_id: str, *, to_room: str, reason: str) -> TicketView:
        return self.queue_service.transfer(ticket_id, to_room=to_room, reason=reason)

    def active_ticket(self, case_no: str) -> TicketView | None:
        return self.queue_service.active_ticket(case_no)

    def diverted_cases(self) -> list[DivertedCase]:
        return self.queue_service.diverted_cases()

    def diverted_count(self) -> int:
        return self.queue_service.diverted_count()

    # --- DisplayService ----------------------------------------------------------------------------------

    def recent_calls(self, limit: int = 8) -> list[CallView]:
        return self.display_service.recent_calls(limit)

    def change_mark(self) -> int:
        return self.display_service.change_mark()
