"""The room terminal, driven as a mediator drives it: F5/F6, the buttons, the scanner, and a second terminal."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QInputDialog
from pytestqt.qtbot import QtBot

from desk.app import Services
from desk.core.clock import FixedClock
from desk.core.permissions import actor_name
from desk.services.queue import IssuedTicket, QueueService, TicketView
from desk.ui.models.queue_table import COL_STATE, COL_WAITED
from desk.ui.ops import Op
from desk.ui.room.terminal import RoomTerminal, TransferDialog
from tests.conftest import staff, valid_id, visit
from tests.receipt_settings import STATUS_BASE_URL
from tests.ui.waiting import finish, settle

TerminalFactory = Callable[..., RoomTerminal]
NAMES = ("王秀兰", "李建国", "张桂英", "刘志强", "陈玉梅", "杨德胜", "赵春花", "黄明亮", "周凤英", "吴国庆")


def arrive(
    services: Services, n: int, *, room: str = "R01", category: str = "邻里纠纷", birth: str = "19850101"
) -> IssuedTicket:
    """Visitor n registers and gets a ticket for `room`."""
    data = visit(
        category=category,
        parties=[
            {
                "role": "applicant",
                "name": NAMES[n - 1],
                "id_number": valid_id(f"620702{birth}{n:03d}"),
                "phone": f"139{n:08d}",
            }
        ],
    )
    case = services.registration.register(data, new_case=True)
    return services.queue.issue_ticket(case.case_no, room_code=room)


@pytest.fixture
def make_terminal(
    qtbot: QtBot, services: Services, terminal_queue: Callable[[str], QueueService]
) -> TerminalFactory:
    def make(room: str = "R01", name: str = "R01终端", *, active: bool = True) -> RoomTerminal:
        t = RoomTerminal(
            room,
            queue=terminal_queue(name),
            rooms=services.rooms,
            display=services.display,
            registration=services.registration,
            poll_ms=50,
        )
        qtbot.addWidget(t)
        if active:
            with qtbot.waitActive(t):
                t.show()
        else:
            t.show()
        settle(qtbot)  # the first look at the queue
        return t

    return make


@pytest.fixture
def terminal(make_terminal: TerminalFactory) -> Iterator[RoomTerminal]:
    yield make_terminal()


def states(t: RoomTerminal) -> list[tuple[str, str]]:
    return [(x.label, x.state) for x in t.model.tickets()]


def acted(qtbot: QtBot, op: Op[Any] | None) -> TicketView | None:
    """Wait for an action of the terminal to come back: the ticket it acted on, None when it was refused (or
    did not start)."""
    done = finish(qtbot, op)
    if done is None or done.error is not None or done.value is None:
        return None
    ticket: TicketView | None = done.value.ticket
    return ticket


# --- on duty and the queue ----------------------------------------------------------------------------


def test_header_and_the_on_duty_picker_list_the_rooms_mediators(terminal: RoomTerminal) -> None:
    assert terminal.title_label.text() == "1号人民调解室"
    assert terminal.location_label.text() == "一楼东侧"
    assert terminal.stationed == ["刘秀英（金牌调解员，常驻）", "马建国（一级调解员，常驻）"]
    # the signed-in mediator is on duty from the start; F2 hands over (tests/ui/test_access_duty.py)
    assert terminal.on_duty_label.text() == terminal.on_duty() != "" and not terminal.on_duty_hint.isVisible()
    terminal.set_on_duty(staff("刘秀英", "R01终端"))
    assert terminal.on_duty_label.text() == "刘秀英" and not terminal.on_duty_hint.isVisible()
    assert terminal.windowTitle() == "一厅通 · 1号人民调解室 · 功能室终端"


def test_calls_and_claims_carry_the_on_duty_mediators_name(
    qtbot: QtBot, terminal: RoomTerminal, services: Services
) -> None:
    first = arrive(services, 1)
    terminal.refresh()
    settle(qtbot)
    terminal.set_on_duty(staff("马建国", "R01终端", login="majianguo"))
    called = acted(qtbot, terminal.call_next())
    assert called is not None and called.called_by == "马建国（majianguo）@R01终端"
    events = services.registration.case(first.ticket.case_no).events
    assert events[-1].kind == "called" and actor_name(events[-1].actor) == "马建国"
    assert events[-1].body.terminal == "R01终端"


def test_the_queue_shows_minutes_waited_and_they_grow(
    qtbot: QtBot, terminal: RoomTerminal, services: Services, clock: FixedClock
) -> None:
    arrive(services, 1)
    clock.advance(minutes=5)
    arrive(services, 2)
    qtbot.waitUntil(lambda: terminal.model.rowCount() == 2)  # polled: another service issued them
    assert [terminal.model.index(r, COL_WAITED).data() for r in range(2)] == ["5 分钟", "0 分钟"]
    assert terminal.count_label.text() == "等候 2 人"
    clock.advance(minutes=10)
    qtbot.waitUntil(lambda: terminal.model.index(0, COL_WAITED).data() == "15 分钟")
    assert terminal.model.index(1, COL_WAITED).data() == "10 分钟"


def test_f5_calls_the_next_visitor(qtbot: QtBot, terminal: RoomTerminal, services: Services) -> None:
    arrive(services, 1)
    arrive(services, 2)
    terminal.refresh()
    settle(qtbot)
    assert QApplication.focusWidget() is terminal.scan_edit
    qtbot.keyClick(terminal.scan_edit, Qt.Key.Key_F5)
    qtbot.waitUntil(lambda: states(terminal)[0] == ("A001", "called"))
    assert terminal.message_label.text() == "已叫 A001 号"
    assert terminal.selected_ticket() is not None and terminal.selected_ticket().label == "A001"
    assert terminal.model.index(0, COL_STATE).data() == "已叫号"
    assert QApplication.focusWidget() is terminal.scan_edit  # a scanner can type right away


def test_nobody_waiting_is_said_plainly(qtbot: QtBot, terminal: RoomTerminal) -> None:
    assert acted(qtbot, terminal.call_next()) is None
    assert terminal.message_label.text() == "无人等候"


def test_with_nobody_waiting_here_call_next_takes_over_a_visitor_of_another_room(
    qtbot: QtBot, terminal: RoomTerminal, services: Services
) -> None:
    waiting = arrive(services, 1, room="R06")  # 邻里纠纷 is handled in R01 too
    called = acted(qtbot, terminal.call_next())
    assert called is not None and called.case_no == waiting.ticket.case_no and called.label.startswith("A")
    assert terminal.message_label.text() == f"已叫 {called.label} 号"
    assert services.queue.queue("R06") == []


def test_what_another_terminal_does_shows_within_a_poll(
    qtbot: QtBot, terminal: RoomTerminal, services: Services, terminal_queue: Callable[[str], QueueService]
) -> None:
    arrive(services, 1)
    qtbot.waitUntil(lambda: states(terminal) == [("A001", "waiting")])
    with qtbot.waitSignal(terminal.sig_refreshed, timeout=2000):
        terminal_queue("另一台").call_next("R01")
    assert states(terminal) == [("A001", "called")]


# --- recall, no-show, requeue, park ------------------------------------------------------------------


def test_no_show_only_after_two_recalls_then_requeue(
    qtbot: QtBot, terminal: RoomTerminal, services: Services, clock: FixedClock
) -> None:
    arrive(services, 1)
    terminal.refresh()
    settle(qtbot)
    finish(qtbot, terminal.call_next())

    assert acted(qtbot, terminal.no_show_selected()) is None
    assert "须重呼2次仍未到才能记为过号" in terminal.message_label.text()
    assert states(terminal) == [("A001", "called")]

    for n in (1, 2):
        clock.advance(minutes=1)
        qtbot.keyClick(terminal.scan_edit, Qt.Key.Key_F6)
        qtbot.waitUntil(lambda n=n: terminal.model.tickets()[0].recalls == n)
        assert terminal.message_label.text() == f"已重呼 A001 号（第 {n} 次）"
    assert terminal.model.index(0, COL_STATE).data() == "已叫号（重呼2次）"

    assert acted(qtbot, terminal.no_show_selected()) is not None
    assert states(terminal) == [("A001", "no_show")]
    assert terminal.buttons["requeue"].isEnabled()
    assert acted(qtbot, terminal.requeue_selected()) is not None
    assert states(terminal) == [("A001", "waiting")]
    assert terminal.message_label.text() == "A001 号重新排队"


def test_park_keeps_the_place_and_the_same_button_brings_the_visitor_back(
    qtbot: QtBot, terminal: RoomTerminal, services: Services
) -> None:
    arrive(services, 1)
    arrive(services, 2)
    terminal.refresh()
    settle(qtbot)
    terminal.select_ticket(terminal.model.tickets()[0].id)
    finish(qtbot, terminal.park_selected())
    assert ("A001", "parked") in states(terminal)
    assert terminal.buttons["park"].text() == "回到队列 (F9)"
    terminal.select_ticket(next(t.id for t in terminal.model.tickets() if t.label == "A001"))
    finish(qtbot, terminal.park_selected())
    assert states(terminal)[0] == ("A001", "waiting")  # back in front of A002
    assert terminal.buttons["park"].text() == "暂离 (F9)"


def test_out_of_order_call_asks_for_a_reason_that_is_recorded(
    qtbot: QtBot, terminal: RoomTerminal, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    arrive(services, 1)
    second = arrive(services, 2)
    terminal.refresh()
    settle(qtbot)
    terminal.select_ticket(second.ticket.id)
    monkeypatch.setattr(QInputDialog, "getText", staticmethod(lambda *_a, **_k: ("当事人身体不适", True)))
    qtbot.mouseClick(terminal.buttons["call_ticket"], Qt.MouseButton.LeftButton)
    settle(qtbot)
    assert states(terminal) == [("A001", "waiting"), ("A002", "called")]
    called = services.registration.case(second.ticket.case_no).events[-1]
    assert called.kind == "called" and called.body.out_of_order_reason == "当事人身体不适"

    terminal.select_ticket(terminal.model.tickets()[0].id)
    assert acted(qtbot, terminal.call_selected("  ")) is None
    assert terminal.message_label.text() == "不按顺序叫号须说明理由"


# --- claiming --------------------------------------------------------------------------------------


def test_scanning_the_receipt_claims_and_shows_the_full_history(
    qtbot: QtBot, terminal: RoomTerminal, services: Services
) -> None:
    issued = arrive(services, 1)
    token = services.registration.case(issued.ticket.case_no).status_token
    url = STATUS_BASE_URL + token
    terminal.refresh()
    settle(qtbot)
    finish(qtbot, terminal.call_next())

    with qtbot.waitSignal(terminal.sig_claimed) as blocker:
        qtbot.keyClicks(terminal.scan_edit, url)  # a keyboard-wedge scanner types, then Enter
        qtbot.keyClick(terminal.scan_edit, Qt.Key.Key_Return)
    assert blocker.args[0].label == "A001"
    assert terminal.scan_edit.text() == ""
    assert states(terminal) == [("A001", "serving")]
    assert terminal.current_label.text() == f"正在接待 A001 号 · 案件 {issued.ticket.case_no}"
    assert terminal.history.isVisible()
    assert terminal.history.heading.text().startswith(issued.ticket.case_no)
    kinds = [
        terminal.history.event_model.index(r, 1).data()
        for r in range(terminal.history.event_model.rowCount())
    ]
    assert kinds == [
        "登记受理",
        "期限",
        "分派功能室",
        "取号",
        "叫号",
        "接待",
    ]  # the deadline set at registration
    assert terminal.history.party_model.index(0, 1).data() == "王秀兰"


def test_a_ticket_label_or_case_number_can_be_typed_instead(
    qtbot: QtBot, terminal: RoomTerminal, services: Services
) -> None:
    arrive(services, 1)
    second = arrive(services, 2)
    terminal.refresh()
    settle(qtbot)
    assert acted(qtbot, terminal.claim_by_scan("a001")) is not None
    assert acted(qtbot, terminal.claim_by_scan(second.ticket.case_no)) is not None
    assert terminal.serving is not None and terminal.serving.label == "A002"
    assert acted(qtbot, terminal.claim_by_scan("无此号")) is None
    assert terminal.message_label.text() == "未找到可接待的排队号：请核对回执，或该号已被接待"


def test_finishing_clears_the_current_case(qtbot: QtBot, terminal: RoomTerminal, services: Services) -> None:
    arrive(services, 1)
    terminal.refresh()
    settle(qtbot)
    finish(qtbot, terminal.call_next())
    finish(qtbot, terminal.claim_selected())
    assert acted(qtbot, terminal.finish_current()) is not None
    assert terminal.serving is None
    assert not terminal.history.isVisible()
    assert states(terminal) == []
    assert terminal.message_label.text() == "A001 号接待结束"
    assert acted(qtbot, terminal.finish_current()) is None
    assert terminal.message_label.text() == "当前没有正在接待的来访人"


def test_a_restarted_terminal_shows_the_case_it_was_receiving(
    qtbot: QtBot, make_terminal: TerminalFactory, services: Services
) -> None:
    arrive(services, 1)
    first = make_terminal()
    finish(qtbot, first.claim_by_scan("A001"))
    first.close()
    again = make_terminal()
    assert again.serving is not None and again.serving.label == "A001"
    assert again.history.detail is not None


def test_two_terminals_claim_the_same_ticket_exactly_one_wins(
    qtbot: QtBot, make_terminal: TerminalFactory, services: Services
) -> None:
    issued = arrive(services, 1)
    left = make_terminal(name="终端甲")
    right = make_terminal(name="终端乙", active=False)
    for t in (left, right):
        t.refresh()
        settle(qtbot)
        t.select_ticket(issued.ticket.id)

    won = acted(qtbot, left.claim_selected())
    lost = acted(qtbot, right.claim_selected())  # its screen still showed the ticket waiting

    assert won is not None and won.terminal == "终端甲"
    assert lost is None
    assert right.message_label.text() == "A001 当前为“接待中”，不能接待（终端甲 终端）"
    assert "#c62828" in right.message_label.styleSheet()
    assert right.serving is None
    assert states(right) == [("A001", "serving")]  # refreshed at once
    claims = [e for e in services.registration.case(issued.ticket.case_no).events if e.kind == "claimed"]
    assert len(claims) == 1


# --- transfer --------------------------------------------------------------------------------------


def test_transfer_keeps_the_original_arrival(
    qtbot: QtBot,
    terminal: RoomTerminal,
    services: Services,
    clock: FixedClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    early = arrive(services, 1, room="R01")
    clock.advance(minutes=5)
    later = arrive(services, 2, room="R06")
    clock.advance(minutes=5)
    terminal.refresh()
    settle(qtbot)
    terminal.select_ticket(early.ticket.id)

    assert acted(qtbot, terminal.transfer_selected("R06", "")) is None
    assert terminal.message_label.text() == "转室须说明理由"

    asked: list[str] = []

    def ask(_parent: object, rooms: list[object], label: str) -> tuple[str, str]:
        asked.append(label)
        assert "R01" not in [getattr(r, "code", "") for r in rooms]
        return "R06", "涉及治安，转警调对接"

    monkeypatch.setattr(TransferDialog, "ask", staticmethod(ask))
    terminal.buttons["transfer"].click()
    settle(qtbot)
    assert asked == ["A001"]
    assert states(terminal) == []
    assert terminal.message_label.text().startswith("A001 号已转至6号警调对接室，新号 F")

    r06 = services.queue.queue("R06")
    assert [t.case_no for t in r06] == [early.ticket.case_no, later.ticket.case_no]
    assert r06[0].arrival_at == early.ticket.arrival_at
    transferred = services.registration.case(early.ticket.case_no).events[-1]
    assert transferred.kind == "transferred" and transferred.body.reason == "涉及治安，转警调对接"


def test_the_transfer_dialog_needs_a_reason(qtbot: QtBot, services: Services) -> None:
    rooms = [r for r in services.rooms.rooms() if r.code in ("R02", "R06")]
    dialog = TransferDialog(rooms, "A001")
    qtbot.addWidget(dialog)
    assert [dialog.room_combo.itemText(i) for i in range(2)] == [
        "2号法律援助/律师调解室（一楼西侧，等候0人）",
        "6号警调对接室（一楼南侧，等候0人）",
    ]
    dialog._on_accept_requested()
    assert dialog.message.text() == "转室须说明理由"
    assert dialog.result() == 0
    dialog.room_combo.setCurrentIndex(1)
    dialog.reason_edit.setText("涉及治安")
    dialog._on_accept_requested()
    assert dialog.choice() == ("R06", "涉及治安")


def test_a_store_that_is_away_for_a_moment_is_a_message_not_an_error_storm(
    qtbot: QtBot, terminal: RoomTerminal, monkeypatch: pytest.MonkeyPatch
) -> None:
    display = terminal._display
    real = display.change_mark
    failures: list[int] = []

    def away() -> int:
        failures.append(1)
        raise OSError("database is locked")

    monkeypatch.setattr(display, "change_mark", away)
    qtbot.waitUntil(lambda: len(failures) >= 3)
    assert terminal.message_label.text() == "暂时无法读取数据库，正在重试……"
    monkeypatch.setattr(display, "change_mark", real)
    qtbot.waitUntil(lambda: terminal.message_label.text() == "数据库已恢复")
