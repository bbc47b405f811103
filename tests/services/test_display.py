"""The display service: the latest calls as the hall display shows them, and the change mark it polls."""

from __future__ import annotations

from desk.services.display import DisplayService
from desk.services.queue import QueueService
from desk.services.registration import RegistrationService
from desk.services.rooms import RoomsService
from tests.services.conftest import walk_in


def test_recent_calls_and_change_mark(
    service: RegistrationService, queue: QueueService, display: DisplayService
) -> None:
    mark = display.change_mark()
    t = queue.issue_ticket(walk_in(service, 1), room_code="R03").ticket
    queue.call_next("R03")
    assert display.change_mark() > mark
    call = display.recent_calls()[0]
    assert (call.ticket, call.room_name, call.room_number, call.location) == (
        t.label,
        "心理咨询室",
        3,
        "二楼左侧",
    )
    assert call.text == f"请 {t.label} 号到 3号心理咨询室"


def test_room_edits_move_the_change_mark(rooms: RoomsService, display: DisplayService) -> None:
    mark = display.change_mark()
    rooms.set_room_open("R02", False)
    assert display.change_mark() > mark
    assert not next(r for r in display.rooms() if r.code == "R02").is_open


def test_the_display_lists_how_many_wait_in_each_room(
    service: RegistrationService, queue: QueueService, display: DisplayService
) -> None:
    assert display.waiting() == {}
    for i in range(2):
        queue.issue_ticket(walk_in(service, i), room_code="R01")
    queue.call_next("R01")
    assert display.waiting() == {"R01": 1}
    assert [(r.code, r.waiting) for r in display.rooms() if r.waiting] == [("R01", 1)]
