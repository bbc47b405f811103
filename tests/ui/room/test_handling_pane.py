"""The handling pane, driven from the keyboard as a mediator drives it: claim, two sessions (the second books the
next appointment), a whistle the department answers late, 调解成功 with its agreement printed, 结束接待 (1/2/3),
closure and follow-up from the case view."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

from desk.app import Services, build_agreements, build_room_terminal
from desk.core.clock import FixedClock
from desk.store.models import DepartmentRow
from desk.store.session import Store
from desk.ui.case_history import CaseHistoryDialog
from desk.ui.models.handling_tables import WhistleTableModel
from desk.ui.printing import ReceiptPrinter
from desk.ui.room.handling import FinishChoiceDialog, department_people, lines, progress_colour
from desk.ui.room.terminal import RoomTerminal
from tests.conftest import staff, valid_id, visit
from tests.ui.test_printing import FakeDefaultPrinter, pdf_text
from tests.ui.waiting import settle

CTRL = Qt.KeyboardModifier.ControlModifier


@pytest.fixture
def departments(sqlite_store: Store) -> None:
    """The department catalog, as the county's sync brings it."""
    with sqlite_store.unit_of_work() as s:
        s.add(DepartmentRow(code="ZJJ", name="区住建局", phone="0936-8211001", position=1, active=True))
        s.add(DepartmentRow(code="ZRZY", name="区自然资源局", phone="0936-8211002", position=2, active=True))


@pytest.fixture
def printer(tmp_path: Path) -> FakeDefaultPrinter:
    return FakeDefaultPrinter(tmp_path)


def arrive(services: Services) -> str:
    """Two neighbours' dispute registered with a ticket for room R01; its case number."""
    data = visit(
        parties=[
            {"role": "applicant", "name": "张三", "id_number": valid_id("62070219850101123")},
            {"role": "respondent", "name": "李四", "id_number": valid_id("62070219800202456")},
        ]
    )
    case = services.registration.register(data, new_case=True)
    services.queue.issue_ticket(case.case_no, room_code="R01")
    return case.case_no


@pytest.fixture
def terminal(
    qtbot: QtBot, services: Services, departments: None, printer: FakeDefaultPrinter
) -> Iterator[RoomTerminal]:
    t = build_room_terminal(services, "R01", printer=ReceiptPrinter(default_printer=printer))
    qtbot.addWidget(t)
    with qtbot.waitActive(t):
        t.show()
    settle(qtbot)
    t.set_on_duty(staff("刘秀英", "R01终端"))
    yield t


def claim(qtbot: QtBot, t: RoomTerminal, case_no: str) -> None:
    t.refresh(force=True)
    settle(qtbot)
    with qtbot.waitSignal(t.sig_claimed):
        qtbot.keyClicks(t.scan_edit, case_no)
        qtbot.keyClick(t.scan_edit, Qt.Key.Key_Return)
    settle(qtbot)  # the case file, read off the UI thread
    assert t.pane is not None and t.pane.file is not None and t.pane.file.case_no == case_no


def key(
    qtbot: QtBot, t: RoomTerminal, k: Qt.Key, modifier: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier
) -> None:
    """A key pressed wherever the keyboard is now (as a person presses it), then the calls it made waited for."""
    target = QApplication.focusWidget() or t
    qtbot.keyClick(target, k, modifier)
    settle(qtbot)


def focused(qtbot: QtBot, widget: QWidget) -> None:
    """The keyboard reaches `widget` (a window's activation, and so its focus, may come a moment later on a
    busy machine)."""
    qtbot.waitUntil(lambda: QApplication.focusWidget() is widget, timeout=5000)


def ask_finish(qtbot: QtBot, t: RoomTerminal) -> FinishChoiceDialog:
    """Ctrl+E (结束接待): its button is clicked (animated, a moment later) and the choice dialog opens."""
    qtbot.keyClick(t.scan_edit, Qt.Key.Key_E, CTRL)
    qtbot.waitUntil(lambda: t.finish_dialog is not None and t.finish_dialog.isVisible())
    assert t.finish_dialog is not None
    return t.finish_dialog


def test_a_mediator_handles_a_case_from_claim_to_follow_up(
    qtbot: QtBot,
    terminal: RoomTerminal,
    services: Services,
    clock: FixedClock,
    printer: FakeDefaultPrinter,
) -> None:
    case_no = arrive(services)
    claim(qtbot, terminal, case_no)
    pane = terminal.pane
    assert pane is not None and pane.file is not None
    # The deadline: people's mediation, one month from the day of registration (Civil Code: first day not counted).
    assert pane.deadline.rule_label.text() == "期限：人民调解"
    assert pane.deadline.due_label.text() == "2026年12月28日 到期"
    assert pane.deadline.remaining_label.text() == "剩余 31 天（21 个工作日）"
    assert pane.deadline.colour == "#2e7d32"

    # Session 1 (Ctrl+N): both parties present, the mediator on duty ticked, what each said, no agreement yet.
    key(qtbot, terminal, Qt.Key.Key_N, CTRL)
    form = pane.session_form
    assert pane.tabs.currentIndex() == pane.TAB_SESSIONS, "shortcut not fired"
    focused(qtbot, form.party_checks[0][0])
    assert [(b.text(), b.isChecked()) for b, *_ in form.party_checks] == [
        ("张三（申请人）", True),
        ("李四（被申请人）", True),
    ]
    assert [(b.text(), b.isChecked()) for b, _ in form.mediator_checks] == [
        ("刘秀英", True),
        ("马建国", False),
    ]
    form.statement_edits[0][1].setPlainText("李四在院墙外堆放杂物，占用通道")
    form.statement_edits[1][1].setPlainText("杂物是临时存放，愿意尽快清理")
    form.agreed_edit.setFocus()
    form.agreed_edit.insertPlainText("双方同意先行协商清理时间")  # keyClicks types ASCII only
    key(qtbot, terminal, Qt.Key.Key_Return, CTRL)  # Ctrl+Enter from a multi-line box submits
    file = pane.file
    assert len(file.sessions) == 1 and file.sessions[0].recorded_by == "刘秀英（tester）@R01终端"
    assert [(a.name, a.role) for a in file.sessions[0].attendees] == [
        ("张三", "party"),
        ("李四", "party"),
        ("刘秀英", "mediator"),
    ]
    assert [s.speaker for s in file.sessions[0].statements] == ["张三", "李四"]
    assert form.agreed_edit.toPlainText() == ""  # saved: the form is empty for the next one
    assert pane.message.text() == "调解笔录已保存"

    # Session 2 books the next appointment; a wrong time is refused in Chinese and what was typed stays.
    form.department_edit.setText("王工（区住建局）")
    form.statement_edits[0][1].setPlainText("同意给予一周时间")
    form.agreed_edit.setPlainText("李四一周内清理杂物")
    form.terms_edit.setPlainText("1. 李四于2026年12月4日前清理院墙外杂物\n2. 张三予以配合，不再追究")
    form.book_check.setChecked(True)
    form.book_day.setDate(form.book_day.date().addDays(3))  # 2026-12-01
    form.book_time.setFocus()
    qtbot.keyClicks(form.book_time, "25:00")
    key(qtbot, terminal, Qt.Key.Key_Return)  # Enter in a line submits
    assert "预约时间“25:00”应为 时:分" in form.message.text()
    assert form.terms_edit.toPlainText().startswith("1. 李四于2026年12月4日前")
    focused(qtbot, form.book_time)
    assert len(pane.file.sessions) == 1
    form.book_time.setText("09:30")
    key(qtbot, terminal, Qt.Key.Key_Return)
    file = pane.file
    assert len(file.sessions) == 2
    assert file.sessions[1].terms == ("李四于2026年12月4日前清理院墙外杂物", "张三予以配合，不再追究")
    assert ("王工", "department") in [(a.name, a.role) for a in file.sessions[1].attendees]
    assert [(b.day, b.time, b.room) for b in file.bookings] == [(dt.date(2026, 12, 1), "09:30", "R01")]
    assert pane.message.text() == "调解笔录已保存，已预约 2026年12月1日 09:30"

    # 吹哨 (Ctrl+W) to the housing bureau; it signs two hours later (late), arrives and reports in time.
    key(qtbot, terminal, Qt.Key.Key_W, CTRL)
    whistle = pane.whistle_form
    assert [whistle.departments.item(i).text() for i in range(whistle.departments.count())] == [
        "区住建局",
        "区自然资源局",
    ]
    whistle.tick("ZJJ")
    whistle.matter_edit.setFocus()
    whistle.matter_edit.insert("核实院墙外搭建物是否违章")
    key(qtbot, terminal, Qt.Key.Key_Return)
    assert whistle.message.text() == "已吹哨：1 个部门，签收时限 1 小时"
    (blown,) = pane.file.whistles
    assert blown.department_name == "区住建局"
    assert [c.state.value for c in blown.clocks] == ["pending", "pending", "pending"]
    clock.advance(hours=2)
    services.whistles.sign(blown.whistle_id, "ZJJ", "住建局李科长")
    clock.advance(hours=3)
    services.whistles.arrive(blown.whistle_id, "ZJJ", "住建局王工")
    clock.advance(hours=20)
    services.whistles.report(blown.whistle_id, "ZJJ", "已现场核实：为临时堆放，不属违章搭建")
    pane.show_case(case_no)
    settle(qtbot)
    model = whistle.model
    assert model.index(0, 2).data().startswith("超时完成")
    assert model.index(0, 3).data().startswith("按时完成")
    assert model.index(0, 5).data() == "已现场核实：为临时堆放，不属违章搭建"
    assert model.index(0, 2).data(Qt.ItemDataRole.ForegroundRole) == QColor("#b45309")
    assert "吹哨" in [e.label for e in pane.file.timeline]

    # 调解成功 (Ctrl+O): the terms come from the last session; the agreement gets its own number.
    key(qtbot, terminal, Qt.Key.Key_O, CTRL)
    outcome = pane.outcome_form
    assert [outcome.choice_combo.itemText(i) for i in range(outcome.choice_combo.count())] == [
        "调解成功",
        "部分达成",
        "调解不成",
        "终止调解",
        "转办",
    ]
    assert outcome.terms_edit.toPlainText() == "李四于2026年12月4日前清理院墙外杂物\n张三予以配合，不再追究"
    outcome.performance_edit.setFocus()
    outcome.performance_edit.insert("李四自行清理，张三现场确认")
    key(qtbot, terminal, Qt.Key.Key_Return)
    file = pane.file
    assert file.state == "resolved" and file.outcome is not None
    no = file.outcome.agreement_no
    assert no == "620702001-2026-调0001"
    assert outcome.choice_combo.count() == 0  # nothing more to record: the case waits for closure
    assert not pane.session_form.isEnabled()

    # Ctrl+P prints the agreement on the default printer; the print is recorded on the case.
    key(qtbot, terminal, Qt.Key.Key_P, CTRL)
    job = printer.jobs[-1]
    text = pdf_text(job)
    assert "人民调解协议书" in text and no in text and "司法确认" in text
    assert "李四于2026年12月4日前清理院墙外杂物" in text
    assert outcome.message.text() == f"协议书 {no} 已送到打印机“{job}”"
    printed = [e for e in services.registration.case(case_no).events if e.kind == "document_printed"]
    assert [e.body.to_json() for e in printed] == [{"document": "agreement", "reprint": False}]

    # 结束接待 (Ctrl+E) asks what happened: 2, the outcome just recorded. The case stays open (调解成功).
    dialog = ask_finish(qtbot, terminal)
    qtbot.keyClick(dialog, Qt.Key.Key_2)
    settle(qtbot)
    assert terminal.message_label.text() == "A001 号接待结束：调解成功；案件已化解"
    assert terminal.serving is None and not pane.isVisible()
    assert terminal.message_label.text() == "A001 号接待结束：调解成功；案件已化解"
    assert services.handling.view(case_no).state == "resolved"

    # The case view (as the case search opens it): the timeline, and only the steps allowed now.
    view = CaseHistoryDialog(
        services.registration.case(case_no),
        reload=services.registration.case,
        handling=services.handling,
        agreements=build_agreements(services, ReceiptPrinter(default_printer=printer)),
    )
    qtbot.addWidget(view)
    with qtbot.waitActive(view):
        view.show()
    settle(qtbot)
    assert view.allowed_actions() == ["close", "pause", "extend", "withdraw"]
    assert not view.agreement_button.isHidden()
    timeline = view.view.timeline_model
    labels = [timeline.index(r, 2).data() for r in range(timeline.rowCount())]
    assert labels[:2] == ["登记受理", "期限"], labels
    assert labels[5:] == [
        "调解笔录",
        "调解笔录",
        "预约",
        "吹哨",
        "签收",
        "报到",
        "反馈",
        "调解结果",
        "打印文书",
        "结束接待",
    ]
    assert "人民调解协议书" in timeline.index(labels.index("打印文书"), 3).data()
    assert timeline.index(0, 1).data() == "测试前台（tester）@前台1"
    assert view.view.timeline_view.isVisible() and not view.view.event_view.isVisible()

    # 办结 (Ctrl+J): Enter takes it; the follow-up is scheduled for 7 days later.
    qtbot.keyClick(view, Qt.Key.Key_J, CTRL)
    step = view.step_dialog
    assert step is not None and step.windowTitle() == f"办结 · 案件 {case_no}"
    qtbot.keyClick(step, Qt.Key.Key_Return)
    settle(qtbot)
    assert view.file is not None and view.file.state == "closed"
    assert view.allowed_actions() == ["follow_up", "reopen"]
    assert view.file.follow_ups[0].due_on == dt.date(2026, 12, 5)

    # 回访 (Ctrl+U) a week later, by phone: the agreement held, satisfied.
    clock.advance(days=7)
    view.activateWindow()  # the step's dialog is gone: the case view has the keyboard again
    qtbot.waitUntil(lambda: QApplication.activeWindow() is view)
    qtbot.keyClick(view, Qt.Key.Key_U, CTRL)
    step = view.step_dialog
    assert step is not None
    step.set_values({"method": "phone", "held": "yes", "satisfaction": "satisfied", "note": "杂物已清理"})
    qtbot.keyClick(step, Qt.Key.Key_Return)
    settle(qtbot)
    assert view.file.state == "followed_up"
    assert view.file.follow_ups[0].satisfaction_label == "满意"
    assert view.allowed_actions() == ["follow_up", "reopen"]  # the table: another follow-up, or reopening
    assert view.view.heading.text() == f"{case_no}　已回访"


def test_a_refused_step_in_the_case_view_is_said_there_and_keeps_the_text(
    qtbot: QtBot, services: Services, clock: FixedClock
) -> None:
    case_no = arrive(services)
    view = CaseHistoryDialog(
        services.registration.case(case_no), reload=services.registration.case, handling=services.handling
    )
    qtbot.addWidget(view)
    view.show()
    settle(qtbot)
    assert "close" not in view.allowed_actions() and "follow_up" not in view.allowed_actions()
    assert view.take_action("close") is None  # not offered: nobody claimed it
    step = view.take_action("extend")
    assert step is not None
    step.set_values({"amount": 5, "approved_by": "中心主任王强", "reason": "等待鉴定"})
    qtbot.keyClick(step, Qt.Key.Key_Return)
    settle(qtbot)
    assert step.isVisible() and "延长" in step.message.text()
    assert step.values()["reason"] == "等待鉴定"


def test_finishing_a_reception_asks_what_happened_and_books_from_the_keyboard(
    qtbot: QtBot, terminal: RoomTerminal, services: Services
) -> None:
    case_no = arrive(services)
    claim(qtbot, terminal, case_no)
    dialog = ask_finish(qtbot, terminal)
    assert [label.text() for label in dialog.options.values()] == [
        "1　已预约下次调解",
        "2　记录调解结果（调解成功、部分达成、调解不成、终止）",
        "3　转办（诉讼、仲裁、行政复议、信访、部门、上级）",
    ]
    qtbot.keyClick(dialog, Qt.Key.Key_1)
    assert dialog.booking_box.isVisible()
    focused(qtbot, dialog.time_edit)
    qtbot.keyClicks(dialog.time_edit, "14:30")
    qtbot.keyClick(dialog.time_edit, Qt.Key.Key_Return)
    settle(qtbot)
    assert terminal.serving is None
    assert terminal.message_label.text() == "A001 号接待结束：已预约 11月28日 14:30 1号人民调解室；案件调解中"
    file = services.handling.view(case_no)
    assert file.state == "in_mediation"  # 结束接待 never closes the case
    assert [(b.day, b.time) for b in file.bookings] == [(dt.date(2026, 11, 28), "14:30")]
    assert file.timeline[-1].label == "结束接待" and file.timeline[-2].label == "预约"


def test_finishing_with_a_transfer_fills_the_outcome_form_and_a_refusal_keeps_it(
    qtbot: QtBot, terminal: RoomTerminal, services: Services
) -> None:
    case_no = arrive(services)
    claim(qtbot, terminal, case_no)
    pane = terminal.pane
    assert pane is not None
    qtbot.keyClick(ask_finish(qtbot, terminal), Qt.Key.Key_3)
    settle(qtbot)
    qtbot.waitUntil(lambda: QApplication.activeWindow() is terminal)
    form = pane.outcome_form
    assert form.choice() == "transfer" and form.finish_label.isVisible()
    assert pane.tabs.currentIndex() == pane.TAB_OUTCOME
    form.transfer_combo.setCurrentIndex(form.transfer_combo.findData("litigation"))
    form.reason_edit.setFocus()
    form.reason_edit.insert("涉及相邻权纠纷，双方坚持诉讼")
    key(qtbot, terminal, Qt.Key.Key_Return)
    assert form.message.text() == "请写明转办的承办单位（如 甘州区人民法院）"
    assert form.reason_edit.text() == "涉及相邻权纠纷，双方坚持诉讼"
    assert terminal.serving is not None  # nothing written: the reception goes on
    form.to_name_edit.setText("甘州区人民法院")
    form.to_name_edit.setFocus()
    key(qtbot, terminal, Qt.Key.Key_Return)
    assert terminal.serving is None
    assert terminal.message_label.text() == "A001 号接待结束：已转办（诉讼（甘州区人民法院））；案件已转办"
    assert services.handling.view(case_no).state == "transferred"


def test_esc_leaves_the_finishing_form_and_the_reception_goes_on(
    qtbot: QtBot, terminal: RoomTerminal, services: Services
) -> None:
    case_no = arrive(services)
    claim(qtbot, terminal, case_no)
    pane = terminal.pane
    assert pane is not None
    qtbot.keyClick(ask_finish(qtbot, terminal), Qt.Key.Key_2)
    settle(qtbot)
    qtbot.waitUntil(lambda: QApplication.activeWindow() is terminal)
    assert pane.outcome_form.finishing is not None
    key(qtbot, terminal, Qt.Key.Key_Escape)
    assert pane.outcome_form.finishing is None and not pane.outcome_form.finish_label.isVisible()
    focused(qtbot, terminal.scan_edit)
    assert terminal.serving is not None


@pytest.mark.parametrize(
    ("progress", "paused", "overdue", "colour"),
    [
        (0.59, False, False, "#2e7d32"),
        (0.6, False, False, "#f9a825"),
        (0.8, False, False, "#ef6c00"),
        (0.9, False, False, "#c62828"),
        (1.2, False, True, "#c62828"),
        (0.95, True, False, "#9e9e9e"),
    ],
)
def test_the_deadline_bar_turns_at_60_80_90_percent(
    progress: float, paused: bool, overdue: bool, colour: str
) -> None:
    assert progress_colour(progress, paused=paused, overdue=overdue) == colour


def test_typed_lists_become_attendees_and_terms() -> None:
    people = department_people("王工（区住建局）；李明/区自然资源局, 赵六")
    assert [(p.name, p.department) for p in people] == [
        ("王工", "区住建局"),
        ("李明", "区自然资源局"),
        ("赵六", None),
    ]
    assert lines("1. 甲\n（2）乙\n3、丙\n\n丁") == ("甲", "乙", "丙", "丁")


def test_the_whistle_model_without_a_view() -> None:
    model = WhistleTableModel()
    assert model.rowCount() == 0 and model.columnCount() == 7
    assert model.headerData(2, Qt.Orientation.Horizontal) == "签收（1小时）"


def test_a_booked_visitor_shows_in_the_rooms_list_on_the_day_and_ctrl_b_checks_them_in(
    qtbot: QtBot, services: Services, departments: None, printer: FakeDefaultPrinter, clock: FixedClock
) -> None:
    from desk.core.lifecycle import FinishChoice
    from desk.services.handling import Booking

    case_no = arrive(services)
    services.queue.claim(services.queue.queue("R01")[0].id)
    services.handling.finish_reception(
        case_no, FinishChoice.BOOKED, booking=Booking(dt.date(2026, 11, 30), "09:30", "R01")
    )
    clock.set(dt.datetime(2026, 11, 30, 0, 30, tzinfo=dt.UTC))  # 08:30 China time, the booked day
    t = build_room_terminal(services, "R01", printer=ReceiptPrinter(default_printer=printer))
    qtbot.addWidget(t)
    with qtbot.waitActive(t):
        t.show()
    settle(qtbot)
    assert [b.case_no for b in t.booked] == [case_no] and t.booked_list.item(0).text().startswith("09:30")
    assert "未到 1 人" in t.booked_label.text() and t.model.rowCount() == 0
    qtbot.keyClick(t.scan_edit, Qt.Key.Key_B, CTRL)  # 预约到场
    qtbot.waitUntil(lambda: t.model.rowCount() == 1)
    settle(qtbot)
    assert t.booked == () and not t.check_in_button.isEnabled()
    assert "预约到场" in t.message_label.text()
    assert services.handling.view(case_no).room == "R01"
