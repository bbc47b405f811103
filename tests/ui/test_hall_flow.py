"""The hall end to end: registered at the desk, routed (Enter confirms, one click overrides), ticketed, called at
the room terminal, shown on the hall display, claimed; and who is served first."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from desk.app import Services
from desk.core.clock import FixedClock
from desk.services.queue import IssuedTicket, QueueService
from desk.ui.display.hall_display import HallDisplay
from desk.ui.intake.flow import IntakeFlow
from desk.ui.room.terminal import RoomTerminal
from tests.conftest import staff, valid_id
from tests.ui.intake.test_registration_form import fill, type_text
from tests.ui.room.test_room_terminal import acted, arrive
from tests.ui.waiting import settle, value

ELDERLY_ID = valid_id("62070219500312201")  # 76 on 2026-11-27


@pytest.fixture
def flow(qtbot: QtBot, services: Services, clock: FixedClock) -> Iterator[IntakeFlow]:
    f = IntakeFlow(services.registration, queue=services.queue, rooms=services.rooms, clock=clock)
    qtbot.addWidget(f)
    f.resize(1100, 900)
    with qtbot.waitActive(f):
        f.show()
    yield f


def register_and_route(qtbot: QtBot, flow: IntakeFlow, **fields: str) -> None:
    """Type a visit, press Enter, and wait for the routing proposal."""
    fill(qtbot, flow.form, **fields)
    with qtbot.waitSignal(flow.sig_route_proposed, timeout=3000):
        qtbot.keyClick(flow.form.address_edit, Qt.Key.Key_Return)


def confirm_with_enter(qtbot: QtBot, flow: IntakeFlow) -> IssuedTicket:
    qtbot.waitUntil(lambda: QApplication.focusWidget() is flow.routing.confirm_button)
    with qtbot.waitSignal(flow.sig_ticket_issued, timeout=3000) as blocker:
        qtbot.keyClick(flow.routing.confirm_button, Qt.Key.Key_Return)
    issued = blocker.args[0]
    assert isinstance(issued, IssuedTicket)
    return issued


def test_register_route_call_show_and_claim(
    qtbot: QtBot, flow: IntakeFlow, services: Services, terminal_queue: Callable[[str], QueueService]
) -> None:
    terminal = RoomTerminal(
        "R01",
        queue=terminal_queue("R01终端"),
        rooms=services.rooms,
        display=services.display,
        registration=services.registration,
        poll_ms=50,
    )
    display = HallDisplay(services.display, poll_ms=50, flash_ms=300, hold_ms=100)
    for w in (terminal, display):
        qtbot.addWidget(w)
        w.show()
    settle(qtbot)
    with qtbot.waitActive(flow):  # the clerk works at the desk's window; the others were opened after it
        flow.activateWindow()

    # At the desk: registered, and the proposal with its reason is on screen.
    register_and_route(qtbot, flow)
    assert flow.routing.isVisible()
    assert flow.routing.room_label.text() == "建议：1号人民调解室 · 一楼东侧 · 预计等候约 0 分钟（前面 0 人）"
    assert flow.routing.reason_label.text().startswith("为何分到此室：")
    assert "6号警调对接室 · 等候0人" in [b.text() for b in flow.routing.override_buttons.values()]

    # Enter confirms: the ticket, large, next to the case number, with the room, where, and the wait.
    issued = confirm_with_enter(qtbot, flow)
    assert not flow.routing.isVisible()
    banner = flow.banner
    assert banner.ticket_label.text() == "A001" == issued.ticket.label
    assert banner.case_no_label.text() == issued.ticket.case_no
    assert banner.ticket_label.font().pointSizeF() >= banner.case_no_label.font().pointSizeF()
    assert banner.room_line.text() == "请到 1号人民调解室 · 一楼东侧 · 预计等候约 0 分钟（前面 0 人）"
    qtbot.waitUntil(lambda: QApplication.focusWidget() is flow.form.name_edit)  # ready for the next visitor

    # At the room: the ticket appears, "call next" calls it, the hall display shows it.
    qtbot.waitUntil(lambda: [t.label for t in terminal.model.tickets()] == ["A001"])
    with qtbot.waitSignal(display.sig_call_shown, timeout=2000) as shown:
        terminal.call_next()
    assert shown.args[0].ticket == "A001"
    assert display.ticket_label.text() == "A001"
    assert display.room_label.text() == "→ 1号人民调解室"
    assert display.where_label.text() == "一楼东侧"

    # The visitor walks in; the mediator claims the case and sees its whole history.
    terminal.set_on_duty(staff("刘秀英", "R01终端"))
    claimed = acted(qtbot, terminal.claim_selected())
    assert claimed is not None and claimed.state == "serving"
    kinds = [
        terminal.history.event_model.index(r, 1).data()
        for r in range(terminal.history.event_model.rowCount())
    ]
    assert kinds == ["登记受理", "期限", "分派功能室", "取号", "叫号", "接待"]
    events = services.registration.case(issued.ticket.case_no).events
    assert events[-1].actor == "刘秀英（tester）@R01终端"
    routed = next(e for e in events if e.kind == "routed")
    assert routed.body.overridden is False and routed.body.room == "R01"


def test_one_click_overrides_and_the_override_is_recorded(
    qtbot: QtBot, flow: IntakeFlow, services: Services
) -> None:
    register_and_route(qtbot, flow)
    assert flow.pending_route is not None and flow.pending_route.room_code == "R01"
    type_text(qtbot, flow.routing.override_reason_edit, "当事人要求民警在场")
    with qtbot.waitSignal(flow.sig_ticket_issued) as blocker:
        qtbot.mouseClick(flow.routing.override_buttons["R06"], Qt.MouseButton.LeftButton)
    issued = blocker.args[0]
    assert issued.overridden and issued.room.code == "R06" and issued.ticket.label == "F001"
    assert flow.banner.room_line.text().endswith("（前台改派）")
    routed = next(e for e in services.registration.case(issued.ticket.case_no).events if e.kind == "routed")
    assert routed.body.to_json() == {
        **routed.body.to_json(),
        "room": "R06",
        "proposed": "R01",
        "overridden": True,
        "override_reason": "当事人要求民警在场",
    }


def test_esc_leaves_the_case_without_a_ticket(qtbot: QtBot, flow: IntakeFlow, services: Services) -> None:
    register_and_route(qtbot, flow)
    qtbot.keyClick(flow.routing.confirm_button, Qt.Key.Key_Escape)
    assert not flow.routing.isVisible()
    assert flow.pending_route is None
    assert services.queue.queue("R01") == []
    qtbot.waitUntil(lambda: QApplication.focusWidget() is flow.form.name_edit)


def test_declared_priority_reaches_the_ticket(qtbot: QtBot, flow: IntakeFlow, services: Services) -> None:
    fill(qtbot, flow.form)
    flow.form.priority_boxes[next(iter(flow.form.priority_boxes))].setChecked(True)  # 残疾人
    assert [b.text() for b in flow.form.priority_boxes.values()] == ["残疾人", "孕妇"]
    with qtbot.waitSignal(flow.sig_route_proposed):
        qtbot.keyClick(flow.form.address_edit, Qt.Key.Key_Return)
    assert not any(b.isChecked() for b in flow.form.priority_boxes.values())  # cleared for the next visitor
    issued = confirm_with_enter(qtbot, flow)
    assert issued.ticket.priority_reasons == ("disabled",)
    assert "；优先：残疾人" in flow.banner.room_line.text()


def test_a_repeat_visit_while_queued_keeps_its_ticket(
    qtbot: QtBot, flow: IntakeFlow, services: Services
) -> None:
    register_and_route(qtbot, flow)
    first = confirm_with_enter(qtbot, flow)
    fill(qtbot, flow.form)  # the same person, the same kind of dispute: a repeat visit
    with qtbot.waitSignal(flow.sig_registered) as blocker:
        qtbot.keyClick(flow.form.address_edit, Qt.Key.Key_Return)
    settle(qtbot)  # where the case goes: it already holds a ticket
    assert blocker.args[0].is_repeat
    assert not flow.routing.isVisible()
    assert flow.banner.ticket_label.text() == first.ticket.label
    assert flow.banner.room_line.text() == "此案已有排队号，1号人民调解室 · 一楼东侧，等候中"
    assert len(services.queue.queue("R01")) == 1


def test_when_no_room_fits_the_desk_chooses(qtbot: QtBot, flow: IntakeFlow, services: Services) -> None:
    flow.form.headcount_spin.setValue(13)  # more than any labour room holds
    register_and_route(qtbot, flow, category="ldzy")
    assert flow.routing.room_label.text() == "没有可自动分派的功能室"
    assert "最多容纳12人" in flow.routing.reason_label.text()
    assert not flow.routing.confirm_button.isVisible()
    assert flow.routing.override_buttons  # every open reception room, the desk decides
    qtbot.mouseClick(flow.routing.override_buttons["R04"], Qt.MouseButton.LeftButton)
    settle(qtbot)
    assert [t.case_no for t in services.queue.queue("R04")] == [flow.banner.case_no_label.text()]


# --- who is served first -------------------------------------------------------------------------


def test_an_elderly_visitor_goes_ahead_of_recent_arrivals_only(
    qtbot: QtBot,
    flow: IntakeFlow,
    services: Services,
    clock: FixedClock,
    terminal_queue: Callable[[str], QueueService],
) -> None:
    early = arrive(services, 1)  # 10:00
    clock.advance(minutes=10)
    recent = arrive(services, 2)  # 10:10
    clock.advance(minutes=10)
    # 10:20: a 76-year-old registers at the desk; age comes from the ID number.
    register_and_route(qtbot, flow, name="马桂兰", id_number=ELDERLY_ID, phone="13809361234")
    elderly = value(qtbot, flow.issue_ticket("R01"))
    assert elderly is not None
    assert elderly.ticket.priority_reasons == ("elderly",)
    assert "；优先：70岁以上老人" in flow.banner.room_line.text()

    terminal = RoomTerminal(
        "R01",
        queue=terminal_queue("R01终端"),
        rooms=services.rooms,
        display=services.display,
        registration=services.registration,
        poll_ms=50,
    )
    qtbot.addWidget(terminal)
    terminal.show()
    settle(qtbot)
    # Ahead of the visitor who came 10 minutes earlier (< 15), not of the one who came 20 minutes earlier (> 15).
    assert [t.label for t in terminal.model.tickets()] == [
        early.ticket.label,
        elderly.ticket.label,
        recent.ticket.label,
    ]
    assert terminal.model.index(1, 2).data() == "70岁以上老人"
    assert acted(qtbot, terminal.call_next()) is not None
    assert terminal.model.tickets()[0].label == early.ticket.label
    assert acted(qtbot, terminal.call_next()) is not None
    assert [t.state for t in terminal.model.tickets() if t.label == elderly.ticket.label] == ["called"]


def test_priority_never_overtakes_a_visitor_waiting_longer_than_the_head_start(
    services: Services, clock: FixedClock
) -> None:
    ordinary = arrive(services, 1)
    clock.advance(minutes=16)
    elderly = arrive(services, 2, birth="19500101")
    assert elderly.ticket.priority_reasons == ("elderly",)
    assert [t.id for t in services.queue.queue("R01")] == [ordinary.ticket.id, elderly.ticket.id]


def test_without_a_clock_the_form_keeps_the_services_time(
    qtbot: QtBot, services: Services, clock: FixedClock
) -> None:
    # A DESK_NOW drill: the form's "today" and its "registered at" are the services' clock, not the wall's.
    f = IntakeFlow(services.registration, queue=services.queue, rooms=services.rooms)
    qtbot.addWidget(f)
    assert f.form._clock.now() == clock.now()
    clock.advance(hours=30)
    assert f.form._today() == services.registration.today()


def test_routing_takes_the_queue_and_the_rooms_together(qtbot: QtBot, services: Services) -> None:
    with pytest.raises(ValueError):
        IntakeFlow(services.registration, queue=services.queue)
