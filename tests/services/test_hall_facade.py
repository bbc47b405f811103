"""The transitional `HallService` facade: the old names, delegating to the rooms, queue and display services."""

from __future__ import annotations

from desk.core.clock import FixedClock
from desk.services.display import DisplayService
from desk.services.hall import HallService
from desk.services.queue import QueueService
from desk.services.registration import RegistrationService
from desk.services.rooms import RoomsService
from desk.store.session import Store
from tests.services.conftest import kinds, walk_in

OLD_METHODS = [
    "now",
    "rooms",
    "room",
    "set_room_open",
    "update_room",
    "mediators",
    "save_mediator",
    "retire_mediator",
    "room_mediators",
    "loads",
    "propose",
    "issue_ticket",
    "queue",
    "call_next",
    "call_ticket",
    "recall",
    "park",
    "unpark",
    "no_show",
    "requeue",
    "abandon",
    "finish",
    "claim",
    "claim_by_scan",
    "transfer",
    "recent_calls",
    "change_mark",
    "diverted_cases",
    "diverted_count",
    "active_ticket",
]


def test_the_facade_keeps_every_old_name() -> None:
    for name in OLD_METHODS:
        assert callable(getattr(HallService, name)), name
        owners = [s for s in (RoomsService, QueueService, DisplayService) if hasattr(s, name)]
        assert owners, f"{name} belongs to no service"


def test_who_and_where_reach_the_queue_service(
    service: RegistrationService, store: Store, clock: FixedClock
) -> None:
    hall = HallService(store, clock, actor="前台", terminal="R01-终端1", no_show_after_recalls=0)
    hall.actor = "马建国"  # the room terminal sets who signed in
    assert (hall.queue_service.actor, hall.queue_service.terminal) == ("马建国", "R01-终端1")
    assert hall.no_show_after_recalls == 0 and hall.hall_code == hall.rooms_service.hall_code
    t = hall.issue_ticket(walk_in(service, 1), room_code="R01").ticket
    called = hall.call_next("R01")
    assert called is not None and (called.called_by, called.terminal) == ("马建国", "R01-终端1")
    assert hall.no_show(t.id).state == "no_show"
    assert kinds(store, t.case_no)[-2:] == ["called", "no_show"]
    assert hall.recent_calls()[0].ticket == t.label and hall.room("R01").code == "R01"
