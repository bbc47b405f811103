"""取号 later: a case left at 暂不取号 gets its ticket from the case search (Ctrl+T) or its history, through the
desk's routing step (Enter takes the proposed room, one click overrides), and its history then shows 取号."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from desk.app import Services, build_main_window
from desk.core.clock import FixedClock
from desk.services.queue import QueueService
from desk.services.registration import RegistrationService
from desk.store.session import Store
from desk.ui.case_history import CaseHistoryDialog
from desk.ui.fonts import use_cjk_font
from desk.ui.intake.routing import RouteServices
from desk.ui.main_window import MainWindow
from tests.conftest import staff, valid_id, visit
from tests.ui.waiting import finish, settle

APPLICANT_ID = valid_id("62070219850101123")


@pytest.fixture(autouse=True)
def _cjk_font_for_grabs(qapp: QApplication) -> Iterator[None]:
    """With DESK_UI_GRABS set, the windows use the app's CJK font, so the grabs read as the desk shows them."""
    if not os.environ.get("DESK_UI_GRABS"):
        yield
        return
    before = qapp.font()
    use_cjk_font(qapp)
    yield
    qapp.setFont(before)


@pytest.fixture
def window(qtbot: QtBot, services: Services, clock: FixedClock) -> Iterator[MainWindow]:
    w = build_main_window(
        services, store_label="数据库：本机 SQLite（测试）", clock=clock, speech_engine="mock"
    )
    qtbot.addWidget(w)
    with qtbot.waitActive(w):
        w.show()
    settle(qtbot)
    yield w


def _events(history: CaseHistoryDialog) -> list[str]:
    model = history.event_model
    return [model.index(r, 1).data() for r in range(model.rowCount())]


def _grab(widget: CaseHistoryDialog, name: str) -> None:
    out = os.environ.get("DESK_UI_GRABS")  # set it to look at the dialog (e.g. /tmp)
    if out:
        widget.grab().save(str(Path(out) / name))


def _open_search_on(qtbot: QtBot, window: MainWindow, text: str) -> None:
    qtbot.keyClick(window.form.name_edit, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    dialog = window.search_dialog
    assert dialog is not None
    qtbot.waitUntil(lambda: QApplication.focusWidget() is dialog.query_edit)
    qtbot.keyClicks(dialog.query_edit, text)
    with qtbot.waitSignal(dialog.sig_searched):
        qtbot.keyClick(dialog.query_edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: QApplication.focusWidget() is dialog.view)


def test_a_case_left_without_a_ticket_gets_one_from_the_search_with_the_keyboard(
    qtbot: QtBot, window: MainWindow
) -> None:
    # Registered at the desk, then Esc at the routing step: 暂不取号.
    form = window.form
    qtbot.keyClicks(form.category_edit, "ljjf")
    form.name_edit.setText("张三")
    form.id_edit.setText(APPLICANT_ID)
    form.narrative_edit.setPlainText(str(visit()["narrative"]))
    with qtbot.waitSignal(window.intake.sig_route_proposed):
        qtbot.keyClick(form.name_edit, Qt.Key.Key_Return)
    case_no = window.intake.receipt_case
    assert case_no is not None
    qtbot.keyClick(window.intake.routing.confirm_button, Qt.Key.Key_Escape)
    assert not window.intake.routing.isVisible()

    # Ctrl+F, the case found, Ctrl+T: its history opens at the routing step, the proposed room focused.
    _open_search_on(qtbot, window, APPLICANT_ID)
    search = window.search_dialog
    assert search is not None and search.ticket_button.isVisible()
    assert "Ctrl+T" in search.status.text()
    with qtbot.waitSignal(search.sig_case_opened) as opened:
        qtbot.keyClick(search.view, Qt.Key.Key_T, Qt.KeyboardModifier.ControlModifier)
    history = opened.args[0]
    assert isinstance(history, CaseHistoryDialog)
    qtbot.addWidget(history)
    settle(qtbot)
    assert history.routing.isVisible()
    assert "1号人民调解室" in history.routing.room_label.text()
    assert "为何分到此室" in history.routing.reason_label.text()
    history.activateWindow()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is history.routing.confirm_button)
    _grab(history, "late-ticket-routing.png")

    # Enter takes the proposed room; the history is read again and shows 取号; the window's status bar says so.
    with qtbot.waitSignal(search.sig_ticket_issued) as issued:
        qtbot.keyClick(history.routing.confirm_button, Qt.Key.Key_Return)
    settle(qtbot)
    ticket = issued.args[0].ticket
    assert (ticket.case_no, ticket.label, ticket.room_code) == (case_no, "A001", "R01")
    assert not history.routing.isVisible()
    assert "已取号 A001" in history.print_message.text() and "1号人民调解室" in history.print_message.text()
    assert _events(history) == ["登记受理", "期限", "分派功能室", "取号"]
    assert window.statusBar().currentMessage() == f"{case_no}：排队号 A001，1号人民调解室"
    _grab(history, "late-ticket-issued.png")

    # Ctrl+T again: the case keeps its ticket.
    finish(qtbot, history.offer_ticket())
    assert not history.routing.isVisible()
    assert "此案已有排队号 A001" in history.print_message.text()


def test_override_from_the_history_records_the_reason(
    qtbot: QtBot, services: Services, sqlite_service: RegistrationService, sqlite_store: Store
) -> None:
    case_no = sqlite_service.register(visit()).case_no
    route = RouteServices(services.queue, services.rooms)
    history = CaseHistoryDialog(sqlite_service.case(case_no), reload=sqlite_service.case, route=route)
    qtbot.addWidget(history)
    history.show()
    finish(qtbot, history.offer_ticket())
    assert history.routing.isVisible() and "R02" in history.routing.override_buttons
    history.routing.override_reason_edit.setText("当事人要求律师调解")
    with qtbot.waitSignal(history.sig_ticket_issued) as issued:
        qtbot.mouseClick(history.routing.override_buttons["R02"], Qt.MouseButton.LeftButton)
    settle(qtbot)
    assert issued.args[0].overridden and issued.args[0].ticket.label == "B001"
    with sqlite_store.read() as s:
        payload = s.execute(sa.text("SELECT payload FROM case_events WHERE kind = 'routed'")).scalar_one()
    routed = json.loads(payload)
    assert (routed["room"], routed["overridden"], routed["override_reason"]) == (
        "R02",
        True,
        "当事人要求律师调解",
    )
    assert _events(history)[-1] == "取号"


def test_esc_leaves_the_routing_step_and_the_dialog_open(
    qtbot: QtBot, services: Services, sqlite_service: RegistrationService
) -> None:
    case_no = sqlite_service.register(visit()).case_no
    history = CaseHistoryDialog(
        sqlite_service.case(case_no),
        reload=sqlite_service.case,
        route=RouteServices(services.queue, services.rooms),
    )
    qtbot.addWidget(history)
    with qtbot.waitActive(history):
        history.show()
    qtbot.keyClick(history, Qt.Key.Key_T, Qt.KeyboardModifier.ControlModifier)
    settle(qtbot)
    qtbot.waitUntil(lambda: QApplication.focusWidget() is history.routing.confirm_button)
    qtbot.keyClick(history.routing.confirm_button, Qt.Key.Key_Escape)
    assert not history.routing.isVisible() and history.isVisible()
    assert services.queue.active_ticket(case_no) is None


def test_a_closed_case_and_the_county_offer_no_ticket(
    qtbot: QtBot, services: Services, sqlite_service: RegistrationService, sqlite_store: Store
) -> None:
    case_no = sqlite_service.register(visit()).case_no
    with sqlite_store.unit_of_work() as s:
        s.execute(sa.text("UPDATE cases SET state = 'closed' WHERE case_no = :c"), {"c": case_no})
    route = RouteServices(services.queue, services.rooms)
    closed = CaseHistoryDialog(sqlite_service.case(case_no), route=route)
    qtbot.addWidget(closed)
    assert not closed.ticket_button.isEnabled() and closed.offer_ticket() is None
    # Without routing (the county's window) there is no 取号 at all.
    county = CaseHistoryDialog(sqlite_service.case(case_no))
    qtbot.addWidget(county)
    assert county.ticket_button.isHidden()


def test_a_refusal_from_the_service_is_said_in_the_dialog(
    qtbot: QtBot,
    services: Services,
    sqlite_service: RegistrationService,
    sqlite_store: Store,
    clock: FixedClock,
) -> None:
    """Closed after the dialog was opened: the routing step is refused with the service's reason."""
    case_no = sqlite_service.register(visit()).case_no
    history = CaseHistoryDialog(
        sqlite_service.case(case_no),
        route=RouteServices(QueueService(sqlite_store, clock, principal=staff()), services.rooms),
    )
    qtbot.addWidget(history)
    with sqlite_store.unit_of_work() as s:
        s.execute(sa.text("UPDATE cases SET state = 'closed' WHERE case_no = :c"), {"c": case_no})
    finish(qtbot, history.offer_ticket())
    assert not history.routing.isVisible()
    assert history.print_message.text() == f"案件 {case_no}：案件已办结，不能再取号"
