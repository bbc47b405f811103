"""Sync with the county in the windows: the status bar's sync corner (waiting count, last success, the last error
without passwords, "立即同步" off the GUI thread), the hall's list of cases diverted by the county (routed to a
room like a walk-in), and diverting at the county (after a registration, or any case by its number)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLabel
from pytestqt.qtbot import QtBot

from desk.app import Services, build_main_window, build_room_terminal, build_services
from desk.core.clock import CHINA_TZ, FixedClock
from desk.core.parties import mask_id_number
from desk.services.county import CountyService
from desk.services.queue import DivertedCase
from desk.services.registration import RegistrationService
from desk.services.setup import init_hall
from desk.store.models import CaseRow, Hall
from desk.store.session import Store, open_store
from desk.sync.engine import Syncer, sync_status
from desk.ui.county.divert_dialog import DivertDialog
from desk.ui.county.diverted import DivertedCasesDialog
from desk.ui.main_window import MainWindow
from desk.ui.models.diverted_table import DivertedTableModel
from desk.ui.sync_bar import SyncStatusBar
from tests.conftest import add_tester, staff, valid_id, visit
from tests.ui.waiting import settle, value

UNREACHABLE = "postgresql+psycopg://x:secret@127.0.0.1:1/none"
ROUND_MS = 30_000
HALL_CODE = "620702001"  # the seeded hall of the UI tests' store
HALL_B = "620702002"


def _window(qtbot: QtBot, services: Services, clock: FixedClock) -> MainWindow:
    w = build_main_window(
        services, store_label="数据库：本机 SQLite（测试）", clock=clock, speech_engine="mock"
    )
    qtbot.addWidget(w)
    with qtbot.waitActive(w):
        w.show()
    settle(qtbot)  # the sync corner's first read, off the UI thread
    return w


def _bar(window: MainWindow) -> SyncStatusBar:
    assert window.sync_bar is not None
    return window.sync_bar


def _sync(qtbot: QtBot, window: MainWindow) -> None:
    """Click "立即同步" and wait for the round to end (either way)."""
    bar = _bar(window)
    assert bar.runner is not None
    with qtbot.waitSignals([bar.runner.sig_finished], timeout=ROUND_MS, raising=True):
        qtbot.mouseClick(bar.sync_button, Qt.MouseButton.LeftButton)
    settle(qtbot)  # what the windows read again after the round


def _register_in_form(qtbot: QtBot, window: MainWindow, name: str = "张三") -> str:
    form = window.form
    qtbot.keyClicks(form.category_edit, "ljjf")
    form.name_edit.setText(name)
    form.id_edit.setText(valid_id("62070219850101123"))
    form.narrative_edit.setPlainText(str(visit()["narrative"]))
    with qtbot.waitSignal(window.intake.sig_registered) as blocker:
        qtbot.keyClick(form.name_edit, Qt.Key.Key_Return)
    return str(blocker.args[0].case_no)


def _shown_text(window: MainWindow) -> str:
    """Everything the status bar shows or tells in a tooltip."""
    parts = [window.statusBar().currentMessage()]
    for label in window.statusBar().findChildren(QLabel):
        parts += [label.text(), label.toolTip()]
    return "\n".join(parts)


# --- the sync corner without a county ------------------------------------------------------------------------


@pytest.fixture
def window(qtbot: QtBot, services: Services, clock: FixedClock) -> Iterator[MainWindow]:
    yield _window(qtbot, services, clock)


def test_without_a_county_the_corner_says_how_to_configure_one(qtbot: QtBot, window: MainWindow) -> None:
    bar = _bar(window)
    assert bar.isVisible()
    assert bar.state_label.text() == "未配置县级库"
    assert not bar.sync_button.isEnabled()
    for hint in (bar.sync_button.toolTip(), bar.state_label.toolTip()):
        assert "county_db_url" in hint and "DESK_COUNTY_URL" in hint
    assert bar.waiting_label.text() == "待上传 0 条"
    assert bar.runner is None and not bar.sync_now()


def test_the_waiting_count_follows_registrations_at_once(
    qtbot: QtBot, window: MainWindow, sqlite_store: Store
) -> None:
    bar = _bar(window)
    _register_in_form(qtbot, window)
    waiting = sync_status(sqlite_store).waiting
    assert waiting >= 1  # the registration (and the routing step's events, once a ticket is issued)
    # Not after the next poll (every 5 s): read again at once, off the UI thread.
    qtbot.waitUntil(lambda: bar.waiting_label.text() == f"待上传 {waiting} 条", timeout=1000)
    settle(qtbot)  # the routing proposal
    with qtbot.waitSignal(window.intake.sig_ticket_issued):
        qtbot.keyClick(window.intake.routing.confirm_button, Qt.Key.Key_Return)
    assert sync_status(sqlite_store).waiting > waiting
    qtbot.waitUntil(
        lambda: bar.waiting_label.text() == f"待上传 {sync_status(sqlite_store).waiting} 条", timeout=1000
    )


# --- a county that cannot be reached -----------------------------------------------------------------------


def test_a_failed_round_shows_its_error_in_plain_chinese_without_the_password(
    qtbot: QtBot, sqlite_store: Store, clock: FixedClock
) -> None:
    services = build_services(sqlite_store, clock, county_url=UNREACHABLE, principal=staff("测试前台"))
    RegistrationService(sqlite_store, clock, principal=staff()).register(visit())
    window = _window(qtbot, services, clock)
    bar = _bar(window)
    assert bar.runner is not None and bar.sync_button.isEnabled()
    assert bar.state_label.text() == "尚未同步"
    assert bar.waiting_label.text() == "待上传 2 条"  # the registration and its deadline

    with qtbot.waitSignal(bar.runner.sig_failed, timeout=ROUND_MS) as blocker:
        qtbot.mouseClick(bar.sync_button, Qt.MouseButton.LeftButton)
        # the round runs in the sync thread: the window says so at once, and a second click starts nothing
        assert bar.state_label.text() == "同步中…"
        assert not bar.sync_button.isEnabled()
        assert not bar.sync_now()
    message = blocker.args[0]
    assert message.startswith("无法连接县级数据库（postgresql+psycopg://x:***@127.0.0.1:1/none）")
    assert bar.error_label.isVisible()
    assert bar.error_label.toolTip() == message == sync_status(sqlite_store).last_error
    assert (
        bar.error_label.text() == "无法连接县级数据库"
    )  # its first clause; the address and the rest in the tooltip
    assert bar.state_label.text() == "尚未同步"
    assert bar.waiting_label.text() == "待上传 2 条"  # the registration and its deadline
    assert bar.sync_button.isEnabled()
    assert "secret" not in _shown_text(window)
    assert "secret" not in sync_status(sqlite_store).last_error


def test_closing_the_window_stops_the_sync_thread(
    qtbot: QtBot, sqlite_store: Store, clock: FixedClock
) -> None:
    services = build_services(
        sqlite_store, clock, county_url=UNREACHABLE, sync_interval_s=0.05, principal=staff()
    )
    window = _window(qtbot, services, clock)
    runner = _bar(window).runner
    assert runner is not None and runner.interval_ms == 50
    with qtbot.waitSignal(runner.sig_failed, timeout=ROUND_MS):
        pass  # the timer starts rounds by itself
    window.close()
    assert (
        not runner.request_round()
    )  # shut down: no more rounds, and the thread is gone (else Qt would warn)


def test_a_room_terminal_shows_the_sync_state_and_leaves_syncing_to_the_desk(
    qtbot: QtBot, sqlite_store: Store, clock: FixedClock
) -> None:
    services = build_services(sqlite_store, clock, county_url=UNREACHABLE, principal=staff())
    services.registration.register(visit())
    terminal = build_room_terminal(services, "R01")
    qtbot.addWidget(terminal)
    settle(qtbot)
    bars = terminal.statusBar().findChildren(SyncStatusBar)
    assert len(bars) == 1 and bars[0].runner is None
    assert not bars[0].sync_button.isVisibleTo(terminal)
    assert bars[0].state_label.text() == "尚未同步"
    assert bars[0].waiting_label.text() == "待上传 2 条"  # the registration and its deadline


# --- a real county (PostgreSQL) ------------------------------------------------------------------------------


@pytest.fixture
def hall_services(sqlite_store: Store, clock: FixedClock, county_url: str) -> Services:
    return build_services(sqlite_store, clock, county_url=county_url, principal=staff("测试前台", "前台1"))


@pytest.mark.postgres
def test_sync_now_pushes_everything_to_the_county(
    qtbot: QtBot,
    hall_services: Services,
    sqlite_store: Store,
    county: Store,
    clock: FixedClock,
) -> None:
    reg = hall_services.registration
    for name in ("张三", "李四"):
        reg.register(
            visit(parties=[{"role": "applicant", "name": name, "phone": "13912345678"}]), new_case=True
        )
    window = _window(qtbot, hall_services, clock)
    bar = _bar(window)
    waiting = sync_status(sqlite_store).waiting
    # two registrations with their deadlines, and the second one's risk (the same phone: a repeat visit)
    assert waiting == 6 and bar.waiting_label.text() == "待上传 6 条"

    _sync(qtbot, window)
    assert bar.waiting_label.text() == "待上传 0 条"
    assert bar.state_label.text() == "已同步 10:00"  # NOW, in China time
    assert not bar.error_label.isVisible()
    halls = CountyService(county, clock, principal=staff()).halls()
    assert [(h.code, h.acked_seq) for h in halls] == [(HALL_CODE, waiting)]


@pytest.mark.postgres
def test_a_case_diverted_at_the_county_is_listed_and_routed_to_a_room(
    qtbot: QtBot,
    hall_services: Services,
    county: Store,
    clock: FixedClock,
) -> None:
    window = _window(qtbot, hall_services, clock)
    _sync(qtbot, window)  # the hall registers itself with the county on its first round
    assert not window.diverted_button.isVisible()

    clock.advance(minutes=5)
    data = visit(
        parties=[
            {
                "role": "applicant",
                "name": "马桂兰",
                "id_number": valid_id("62070219500312202"),
                "phone": "13909368812",
            }
        ]
    )
    diversion = CountyService(county, clock, principal=staff("县综治中心")).divert_visit(
        data, to_hall=HALL_CODE, reason="纠纷发生地属该中心辖区"
    )
    _sync(qtbot, window)
    assert window.diverted_button.isVisible()
    assert window.diverted_button.text() == "上级分流 1 件待分派"
    assert window.statusBar().currentMessage() == "收到县级分流案件 1 件"

    qtbot.keyClick(window.form.name_edit, Qt.Key.Key_D, Qt.KeyboardModifier.ControlModifier)
    settle(qtbot)  # the list, the case's history and its proposal, read off the UI thread
    dialog = window.diverted_dialog
    assert isinstance(dialog, DivertedCasesDialog) and dialog.isVisible()
    assert dialog.model.rowCount() == 1
    row = [dialog.model.index(0, c).data() for c in range(dialog.model.columnCount())]
    assert row == [diversion.case_no, "邻里纠纷", "马桂兰", "11-27 10:05", "纠纷发生地属该中心辖区"]
    assert dialog.model.index(0, 2).data(Qt.ItemDataRole.ToolTipRole) == mask_id_number(
        valid_id("62070219500312202")
    )
    assert dialog.current_case == diversion.case_no
    assert diversion.case_no in dialog.history.heading.text()
    kinds = [
        dialog.history.event_model.index(r, 1).data() for r in range(dialog.history.event_model.rowCount())
    ]
    assert kinds == ["登记受理", "期限", "上级分流"]
    assert dialog.routing.isVisible() and dialog.routing.confirm_button.isVisible()

    # Enter on the case moves to its routing step; Enter there gives the ticket to the proposed room.
    qtbot.waitUntil(lambda: QApplication.activeWindow() is dialog)
    assert QApplication.focusWidget() is dialog.view  # the list has the keyboard: ↑↓ choose
    qtbot.keyClick(dialog.view, Qt.Key.Key_Return)
    assert QApplication.focusWidget() is dialog.routing.confirm_button
    with qtbot.waitSignal(dialog.sig_ticket_issued) as blocker:
        qtbot.keyClick(dialog.routing.confirm_button, Qt.Key.Key_Return)
    issued = blocker.args[0]
    settle(qtbot)  # the list read again
    assert issued.ticket.case_no == diversion.case_no
    assert hall_services.queue.active_ticket(diversion.case_no) is not None
    assert dialog.model.rowCount() == 0 and hall_services.queue.diverted_cases() == []
    assert issued.ticket.label in dialog.result_label.text()
    assert (
        window.statusBar().currentMessage().startswith(f"{diversion.case_no}：排队号 {issued.ticket.label}")
    )
    assert not window.diverted_button.isVisible()

    _sync(qtbot, window)  # the county learns the case is queued in the hall
    with county.read() as s:
        case = s.scalars(sa.select(CaseRow).where(CaseRow.case_no == diversion.case_no)).one()
        assert (case.state, case.hall_code, case.room_code) == ("waiting", HALL_CODE, issued.room.code)


# --- at the county -------------------------------------------------------------------------------------------


@pytest.fixture
def county_window(
    qtbot: QtBot, county: Store, clock: FixedClock, county_url: str, tmp_path: Path
) -> Iterator[MainWindow]:
    hall = open_store(f"sqlite:///{tmp_path / 'hall-b.db'}")
    init_hall(hall, hall_code=HALL_B, hall_name="测试综治中心002")
    add_tester(hall)
    RegistrationService(hall, clock, principal=staff()).register(visit())
    syncer = Syncer(hall, county_url, clock=clock)
    syncer.run_once()  # the hall is now in the county's registry
    syncer.close()
    hall.dispose()
    services = build_services(county, clock, principal=staff("县综治中心"))
    assert services.county is not None and services.sync is None
    yield _window(qtbot, services, clock)


@pytest.mark.postgres
def test_at_the_county_a_registration_is_diverted_to_a_hall(
    qtbot: QtBot,
    county_window: MainWindow,
    county: Store,
) -> None:
    window = county_window
    assert window.windowTitle().endswith("· 县级")
    assert window.sync_bar is None
    assert [a.text() for a in window.menuBar().actions() if a.isVisible()] == ["文件(&F)", "案件(&C)"]

    case_no = _register_in_form(qtbot, window)
    settle(qtbot)  # the county's halls, read off the UI thread
    assert not window.intake.routing.isVisible()  # no rooms at the county: a hall instead
    dialog = window.divert_dialog
    assert isinstance(dialog, DivertDialog) and dialog.isVisible()
    assert case_no in dialog.case_label.text()
    assert [h.code for h in dialog.halls] == [HALL_B]
    assert dialog.hall_list.currentItem() is not None
    assert dialog.hall_list.currentItem().text() == f"{HALL_B}  测试综治中心002 · 最近上传 11-27 10:00"
    dialog.reason_edit.setText("属地管辖")  # typed through the input method: QTest types ASCII only
    with qtbot.waitSignal(dialog.sig_diverted) as blocker:
        qtbot.keyClick(dialog.reason_edit, Qt.Key.Key_Return)  # Enter diverts
    assert blocker.args[0].to_hall == HALL_B
    assert not dialog.isVisible()
    assert window.statusBar().currentMessage() == f"已将 {case_no} 分流至测试综治中心002（{HALL_B}）"
    with county.read() as s:
        case = s.scalars(sa.select(CaseRow).where(CaseRow.case_no == case_no)).one()
        assert (case.state, case.hall_code) == ("diverted", HALL_B)


@pytest.mark.postgres
def test_at_the_county_any_case_is_diverted_by_its_number_and_esc_cancels(
    qtbot: QtBot,
    county_window: MainWindow,
    county: Store,
    clock: FixedClock,
) -> None:
    window = county_window
    existing = (
        RegistrationService(county, clock, principal=staff("县综治中心"))
        .register(visit(), new_case=True)
        .case_no
    )

    qtbot.keyClick(window.form.name_edit, Qt.Key.Key_D, Qt.KeyboardModifier.ControlModifier)
    dialog = window.divert_dialog
    assert isinstance(dialog, DivertDialog) and dialog.isVisible() and dialog.case_edit.isVisible()
    qtbot.keyClick(dialog.case_edit, Qt.Key.Key_Escape)
    assert not dialog.isVisible()

    qtbot.keyClick(window.form.name_edit, Qt.Key.Key_D, Qt.KeyboardModifier.ControlModifier)
    dialog = window.divert_dialog
    assert isinstance(dialog, DivertDialog)
    settle(qtbot)
    qtbot.keyClicks(dialog.case_edit, "620702-2026-999999")
    qtbot.keyClick(dialog.case_edit, Qt.Key.Key_Return)
    settle(qtbot)
    assert dialog.isVisible() and dialog.message.text() == "案件 620702-2026-999999 不存在"

    dialog.case_edit.clear()
    qtbot.keyClicks(dialog.case_edit, existing)
    assert dialog.select_hall(HALL_B)
    with qtbot.waitSignal(dialog.sig_diverted):
        qtbot.keyClick(dialog.case_edit, Qt.Key.Key_Return)
    assert window.statusBar().currentMessage().startswith(f"已将 {existing} 分流至")
    with county.read() as s:
        assert s.scalar(sa.select(CaseRow.hall_code).where(CaseRow.case_no == existing)) == HALL_B
        assert s.scalar(sa.select(Hall.name).where(Hall.code == HALL_B)) == "测试综治中心002"

    # diverting it there again is refused, in words
    dialog = window.open_divert_dialog()
    assert isinstance(dialog, DivertDialog)
    settle(qtbot)
    qtbot.keyClicks(dialog.case_edit, existing)
    assert value(qtbot, dialog.divert()) is None
    assert dialog.message.text() == f"案件 {existing} 已分流至测试综治中心002"


# --- the list's model, without a view ------------------------------------------------------------------------


def test_the_diverted_table_model_shows_number_category_applicant_time_and_reason(qapp: QApplication) -> None:
    at = dt.datetime(2026, 11, 27, 2, 5, tzinfo=dt.UTC)
    cases = [
        DivertedCase(
            "620702-2026-000001",
            "neighbour",
            "邻里纠纷",
            "马桂兰",
            "620702********2028",
            1,
            at,
            at,
            "县综治中心",
            "620702",
            "属地管辖",
        ),
        DivertedCase(
            "620702-2026-000003",
            "family",
            "婚姻家庭纠纷",
            "杨秀英",
            "",
            1,
            at,
            at,
            "县综治中心",
            "620702",
            "",
        ),
    ]
    model = DivertedTableModel(cases)
    assert (model.rowCount(), model.columnCount()) == (2, 5)
    assert model.row_of("620702-2026-000003") == 1 and model.row_of("x") is None
    assert [model.headerData(c, Qt.Orientation.Horizontal) for c in range(5)] == [
        "案件编号",
        "纠纷类别",
        "申请人",
        "分流时间",
        "分流理由",
    ]
    assert [model.index(0, c).data() for c in range(5)] == [
        "620702-2026-000001",
        "邻里纠纷",
        "马桂兰",
        "11-27 10:05",
        "属地管辖",
    ]
    tips = [model.index(0, c).data(Qt.ItemDataRole.ToolTipRole) for c in range(5)]
    assert tips == [None, None, "620702********2028", "2026-11-27 10:05", "属地管辖"]
    registered = at - dt.timedelta(days=1)
    model.set_cases(
        [
            DivertedCase(
                "620702-2026-000002", "family", "婚姻家庭纠纷", "", "", 2, registered, None, "", "", ""
            )
        ]
    )
    assert [
        model.index(0, c).data() for c in range(5)
    ] == [  # no diversion event (yet): the registration time
        "620702-2026-000002",
        "婚姻家庭纠纷",
        "",
        registered.astimezone(CHINA_TZ).strftime("%m-%d %H:%M"),
        "—",
    ]
    assert model.index(0, 4).data(Qt.ItemDataRole.ToolTipRole) is None
