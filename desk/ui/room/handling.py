"""The handling pane of a room terminal: the claimed case's deadline (rule, due day, time left, a bar that turns
amber, orange and red at 60/80/90 %), its sessions with the 调解笔录 form (who attended, what each side said, what
was agreed, numbered terms, the next appointment), its whistles with each department's three clocks, its outcome
(the agreement printed from it) and its follow-ups -- and the 结束接待 choice dialog (1/2/3).

Keyboard first: Ctrl+N 笔录, Ctrl+W 吹哨, Ctrl+O 结果, Ctrl+U 回访, Ctrl+P 打印协议书; in a form Enter submits
(Ctrl+Enter from a multi-line box, where Enter starts a new line), Esc leaves it. Only the steps the case's state
allows are offered. Every service call runs off the UI thread (`OpRunner`); a refusal is said in the form, in
Chinese, and the form keeps what was typed.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QDate, Qt, Signal
from PySide6.QtGui import QFont, QKeyEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from desk.core.clock import CHINA_TZ
from desk.core.events import Attendee, Statement
from desk.core.lifecycle import FinishChoice, Step
from desk.errors import DeskError, ValidationError
from desk.ui.models.case_table import china_time
from desk.ui.models.handling_tables import WhistleTableModel
from desk.ui.ops import Op, OpRunner

if TYPE_CHECKING:
    from desk.services.alerts import Department, WhistleService
    from desk.services.handling import (
        CaseFile,
        CaseHandlingService,
        DeadlineView,
        Outcome,
        Transfer,
    )
    from desk.ui.printing import CaseAgreements

logger = logging.getLogger(__name__)

ERROR_COLOUR = "#c62828"
OK_COLOUR = "#2e7d32"
# The deadline bar: green, then amber from 60 %, orange from 80 %, red from 90 % (and overdue); grey while paused.
PROGRESS_COLOURS = ((0.9, "#c62828"), (0.8, "#ef6c00"), (0.6, "#f9a825"), (0.0, "#2e7d32"))
PAUSED_COLOUR = "#9e9e9e"

SESSION_KEYS = "Ctrl+N"
WHISTLE_KEYS = "Ctrl+W"
OUTCOME_KEYS = "Ctrl+O"
FOLLOW_UP_KEYS = "Ctrl+U"
PRINT_KEYS = "Ctrl+P"

OUTCOME_CHOICES: tuple[tuple[str, str, Step], ...] = (
    ("resolved", "调解成功", Step.RECORD_OUTCOME_RESOLVED),
    ("partly_resolved", "部分达成", Step.RECORD_OUTCOME_PARTLY),
    ("not_resolved", "调解不成", Step.RECORD_OUTCOME_NOT_RESOLVED),
    ("terminated", "终止调解", Step.TERMINATE),
    ("transfer", "转办", Step.TRANSFER_OUT),
)
TRANSFER_CHOICES = (
    ("litigation", "诉讼"),
    ("arbitration", "仲裁"),
    ("admin_review", "行政复议"),
    ("petition", "信访"),
    ("department", "相关部门"),
    ("higher", "上级"),
)
FOLLOW_UP_METHODS = (("phone", "电话回访"), ("visit", "上门回访"))
AGREEMENT_HELD = (("yes", "协议已履行"), ("no", "协议未履行（重新调解）"), ("none", "无协议"))
SATISFACTION = (("satisfied", "满意"), ("basically", "基本满意"), ("dissatisfied", "不满意"))
_SPLIT = re.compile(r"[；;，,、\n]+")
_PERSON = re.compile(r"^\s*(?P<name>[^（(/／]+?)\s*(?:[（(/／]\s*(?P<dept>[^）)]*?)\s*[）)]?)?\s*$")


def progress_colour(progress: float | None, *, paused: bool, overdue: bool) -> str:
    if paused:
        return PAUSED_COLOUR
    if overdue:
        return PROGRESS_COLOURS[0][1]
    value = progress or 0.0
    return next(colour for limit, colour in PROGRESS_COLOURS if value >= limit)


def department_people(text: str) -> list[Attendee]:
    """`张伟（住建局）；李明/自然资源局` as department attendees; a name without a department is kept as such
    (the service says the department is missing)."""
    people = []
    for part in _SPLIT.split(text):
        if not part.strip():
            continue
        m = _PERSON.match(part)
        name = (m.group("name") if m else part).strip()
        dept = ((m.group("dept") if m else "") or "").strip()
        people.append(Attendee(name, "department", None, dept or None))
    return people


def lines(text: str) -> tuple[str, ...]:
    """One item a line, numbering typed by habit (1. 1、 （1）) taken off: the agreement numbers its terms."""
    out = []
    for line in text.splitlines():
        line = re.sub(r"^\s*(?:[（(]?\d+[）)]|\d+[.、．])\s*", "", line).strip()
        if line:
            out.append(line)
    return tuple(out)


def _date(day: dt.date) -> QDate:
    return QDate(day.year, day.month, day.day)


def _py_date(d: QDate) -> dt.date:
    return dt.date(d.year(), d.month(), d.day())


def _day_text(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _message(label: QLabel, text: str, *, error: bool) -> None:
    label.setStyleSheet(f"color: {ERROR_COLOUR if error else OK_COLOUR}; font-weight: bold;")
    label.setText(text)


class _Form(QWidget):
    """A form of the pane: Enter submits (Ctrl+Enter from a multi-line box), Esc leaves it (`sig_cancelled`);
    its message line says a refusal, and what was typed stays."""

    sig_submitted = Signal()
    """The form asks to be submitted (Enter, Ctrl+Enter, or its button)."""

    sig_cancelled = Signal()
    """Esc: the mediator leaves the form (what was typed stays until it is submitted or another case shows)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.message = QLabel(self)
        self.message.setWordWrap(True)
        self.message.setTextFormat(Qt.TextFormat.PlainText)
        submit_keys = QShortcut(QKeySequence("Ctrl+Return"), self)
        submit_keys.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        submit_keys.activated.connect(self.sig_submitted)
        enter_keys = QShortcut(QKeySequence("Ctrl+Enter"), self)
        enter_keys.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        enter_keys.activated.connect(self.sig_submitted)

    def show_error(self, text: str) -> None:
        _message(self.message, text, error=True)

    def show_ok(self, text: str) -> None:
        _message(self.message, text, error=False)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt's name
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.sig_submitted.emit()
            return
        if event.key() == Qt.Key.Key_Escape:
            self.sig_cancelled.emit()
            return
        super().keyPressEvent(event)


def _submit_button(text: str, parent: QWidget) -> QPushButton:
    button = QPushButton(text, parent)
    button.setAutoDefault(False)
    return button


class DeadlineStrip(QWidget):
    """The case's time limit: the rule, the due day, the time left and a bar of the share used."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        self.rule_label = QLabel(self)
        self.due_label = QLabel(self)
        self.remaining_label = QLabel(self)
        bold = QFont(self.remaining_label.font())
        bold.setBold(True)
        self.remaining_label.setFont(bold)
        self.bar = QProgressBar(self)
        self.bar.setRange(0, 100)
        self.bar.setTextVisible(True)
        self.bar.setMinimumWidth(160)
        self.gap_label = QLabel(self)
        self.gap_label.setWordWrap(True)
        self.gap_label.setStyleSheet(f"color: {ERROR_COLOUR}; font-weight: bold;")
        self.gap_label.hide()
        for w in (self.rule_label, self.due_label, self.remaining_label):
            row.addWidget(w)
        row.addWidget(self.bar, 1)
        row.addWidget(self.gap_label)
        self.colour = ""

    def show_deadline(self, d: DeadlineView) -> None:
        self.rule_label.setText(self.tr("期限：{rule}").format(rule=d.rule_label or "—"))
        self.rule_label.setToolTip(d.basis)
        self.due_label.setText(
            self.tr("{due} 到期").format(due=_day_text(d.due_on)) if d.due_on else self.tr("无办理期限")
        )
        if d.paused:
            since = china_time(d.paused_at) if d.paused_at else ""
            remaining = self.tr("期限已中止（{since} 起）").format(since=since)
        elif d.remaining_days is None:
            remaining = ""
        elif d.overdue:
            remaining = self.tr("已超期 {n} 天").format(n=-d.remaining_days)
        else:
            remaining = self.tr("剩余 {n} 天").format(n=d.remaining_days)
            if d.remaining_working_days is not None:
                remaining += self.tr("（{n} 个工作日）").format(n=d.remaining_working_days)
        self.remaining_label.setText(remaining)
        percent = round(min(max(d.progress or 0.0, 0.0), 1.0) * 100)
        self.bar.setValue(percent)
        self.bar.setFormat(self.tr("已用 {p}%").format(p=round((d.progress or 0.0) * 100)))
        self.bar.setVisible(d.progress is not None)
        self.colour = progress_colour(d.progress, paused=d.paused, overdue=d.overdue)
        self.bar.setStyleSheet(f"QProgressBar::chunk {{ background-color: {self.colour}; }}")
        self.remaining_label.setStyleSheet(f"color: {self.colour};")
        self.gap_label.setText(d.calendar_gap)
        self.gap_label.setVisible(bool(d.calendar_gap))


class SessionForm(_Form):
    """调解笔录: who attended (the case's parties present, the mediators, department people), what each party
    said, what was agreed, the terms (one a line, numbered on the agreement), and optionally the next
    appointment (预约: day, time, room)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        self.party_box = QGroupBox(self.tr("到场当事人"), self)
        self.party_row = QHBoxLayout(self.party_box)
        self.mediator_box = QGroupBox(self.tr("调解员"), self)
        self.mediator_row = QHBoxLayout(self.mediator_box)
        people = QHBoxLayout()
        people.addWidget(self.party_box, 1)
        people.addWidget(self.mediator_box, 1)
        outer.addLayout(people)
        form = QFormLayout()
        self.department_edit = QLineEdit(self)
        self.department_edit.setPlaceholderText(self.tr("如：张伟（住建局）；李明（自然资源局）"))
        form.addRow(self.tr("部门人员"), self.department_edit)
        self.statements_grid = QGridLayout()
        form.addRow(self.tr("各方陈述"), self.statements_grid)
        self.agreed_edit = QPlainTextEdit(self)
        self.agreed_edit.setPlaceholderText(self.tr("经调解，双方达成的一致意见"))
        self.agreed_edit.setTabChangesFocus(True)
        form.addRow(self.tr("达成意见"), self.agreed_edit)
        self.terms_edit = QPlainTextEdit(self)
        self.terms_edit.setPlaceholderText(self.tr("协议条款，每行一条（自动编号）"))
        self.terms_edit.setTabChangesFocus(True)
        form.addRow(self.tr("协议条款"), self.terms_edit)
        for edit in (self.agreed_edit, self.terms_edit):
            edit.setFixedHeight(edit.fontMetrics().height() * 3 + 14)
        booking = QHBoxLayout()
        self.book_check = QCheckBox(self.tr("预约下次调解"), self)
        self.book_day = QDateEdit(self)
        self.book_day.setCalendarPopup(True)
        self.book_day.setDisplayFormat("yyyy-MM-dd")
        self.book_time = QLineEdit(self)
        self.book_time.setPlaceholderText(self.tr("时:分，如 09:30"))
        self.book_time.setMaximumWidth(110)
        self.book_room = QComboBox(self)
        booking.addWidget(self.book_check)
        booking.addWidget(self.book_day)
        booking.addWidget(self.book_time)
        booking.addWidget(self.book_room, 1)
        form.addRow(self.tr("预约"), booking)
        outer.addLayout(form)
        bottom = QHBoxLayout()
        self.submit_button = _submit_button(self.tr("保存笔录 (Ctrl+回车)"), self)
        self.submit_button.clicked.connect(self.sig_submitted)
        bottom.addWidget(self.message, 1)
        bottom.addWidget(self.submit_button)
        outer.addLayout(bottom)
        self.party_checks: list[tuple[QCheckBox, str, str]] = []  # (box, party id, name)
        self.mediator_checks: list[tuple[QCheckBox, str]] = []
        self.statement_edits: list[tuple[str, QPlainTextEdit]] = []  # (speaker, edit)
        self.book_check.toggled.connect(self._on_book_toggled)
        self._on_book_toggled(False)

    def set_case(
        self,
        parties: Sequence[tuple[str, str, str]],
        mediators: Sequence[str],
        on_duty: str,
        rooms: Sequence[tuple[str, str]],
        room: str | None,
        today: dt.date,
    ) -> None:
        """A new case: its parties (id, role label, name), the room's mediators (the one on duty ticked), the
        hall's rooms (code, name) for a booking; the form starts empty."""
        for box, *_ in self.party_checks:
            box.deleteLater()
        for mbox, _ in self.mediator_checks:
            mbox.deleteLater()
        while self.statements_grid.count():
            item = self.statements_grid.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()
        self.party_checks, self.mediator_checks, self.statement_edits = [], [], []
        for i, (pid, role, name) in enumerate(parties):
            box = QCheckBox(f"{name}（{role}）", self.party_box)
            box.setChecked(True)
            self.party_row.addWidget(box)
            self.party_checks.append((box, pid, name))
            label = QLabel(self.tr("{name}：").format(name=name), self)
            edit = QPlainTextEdit(self)
            edit.setTabChangesFocus(True)
            edit.setPlaceholderText(self.tr("{role}{name}的陈述、诉求").format(role=role, name=name))
            edit.setFixedHeight(edit.fontMetrics().height() * 2 + 14)
            self.statements_grid.addWidget(label, i, 0, Qt.AlignmentFlag.AlignTop)
            self.statements_grid.addWidget(edit, i, 1)
            self.statement_edits.append((name, edit))
            for w in (box, label, edit):
                w.show()  # at once, not at the layout's queued show: Ctrl+N may focus them right away
        for name in mediators:
            mbox = QCheckBox(name, self.mediator_box)
            mbox.setChecked(name == on_duty)
            self.mediator_row.addWidget(mbox)
            self.mediator_checks.append((mbox, name))
            mbox.show()
        self.book_room.clear()
        for code, title in rooms:
            self.book_room.addItem(title, code)
        if room:
            self.book_room.setCurrentIndex(max(0, self.book_room.findData(room)))
        self.book_day.setMinimumDate(_date(today))
        self.book_day.setDate(_date(today + dt.timedelta(days=1)))
        self.clear()

    def tick_on_duty(self, name: str) -> None:
        for box, mname in self.mediator_checks:
            if mname == name:
                box.setChecked(True)

    def clear(self) -> None:
        self.department_edit.clear()
        for _, edit in self.statement_edits:
            edit.clear()
        self.agreed_edit.clear()
        self.terms_edit.clear()
        self.book_check.setChecked(False)
        self.book_time.clear()
        self.message.clear()

    def first_field(self) -> QWidget:
        if self.party_checks:
            return self.party_checks[0][0]
        return self.department_edit

    def values(self) -> dict[str, Any]:
        """The arguments of `CaseHandlingService.record_session` (without the case number)."""
        from desk.services.handling import Booking

        attendees = [
            Attendee(name, "party", pid, None) for box, pid, name in self.party_checks if box.isChecked()
        ]
        attendees += [
            Attendee(name, "mediator", None, None) for box, name in self.mediator_checks if box.isChecked()
        ]
        attendees += department_people(self.department_edit.text())
        statements = [
            Statement(speaker, edit.toPlainText().strip())
            for speaker, edit in self.statement_edits
            if edit.toPlainText().strip()
        ]
        book = None
        if self.book_check.isChecked():
            book = Booking(
                _py_date(self.book_day.date()),
                self.book_time.text().strip(),
                str(self.book_room.currentData() or "") or None,
            )
        return {
            "attendees": attendees,
            "statements": statements,
            "agreed": self.agreed_edit.toPlainText().strip(),
            "terms": lines(self.terms_edit.toPlainText()),
            "book": book,
        }

    def _on_book_toggled(self, on: bool) -> None:
        for w in (self.book_day, self.book_time, self.book_room):
            w.setEnabled(on)


class WhistleForm(_Form):
    """吹哨: pick the departments (the synced catalog), the matter, whether it is complex (5 working days to report
    instead of 3); the table shows each summoned department's clocks."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        self.model = WhistleTableModel(parent=self)
        self.view = QTableView(self)
        self.view.setModel(self.model)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.view.verticalHeader().setVisible(False)
        self.view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.view.horizontalHeader().setStretchLastSection(True)
        outer.addWidget(self.view, 1)
        row = QHBoxLayout()
        self.departments = QListWidget(self)
        self.departments.setMaximumHeight(self.departments.fontMetrics().height() * 5 + 12)
        row.addWidget(self.departments, 1)
        form = QFormLayout()
        self.matter_edit = QLineEdit(self)
        self.matter_edit.setPlaceholderText(self.tr("请部门到场或处理的事项，如：核实院墙是否违章搭建"))
        self.complex_check = QCheckBox(self.tr("复杂事项（5 个工作日内反馈）"), self)
        form.addRow(self.tr("事项"), self.matter_edit)
        form.addRow("", self.complex_check)
        row.addLayout(form, 2)
        outer.addLayout(row)
        bottom = QHBoxLayout()
        self.submit_button = _submit_button(self.tr("吹哨 (回车)"), self)
        self.submit_button.clicked.connect(self.sig_submitted)
        bottom.addWidget(self.message, 1)
        bottom.addWidget(self.submit_button)
        outer.addLayout(bottom)
        self.departments.itemActivated.connect(self._on_item_activated)

    def set_departments(self, departments: Sequence[Department]) -> None:
        ticked = set(self.chosen())
        self.departments.clear()
        for d in departments:
            item = QListWidgetItem(d.name, self.departments)
            item.setData(Qt.ItemDataRole.UserRole, d.code)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if d.code in ticked else Qt.CheckState.Unchecked)
        if not departments:
            self.show_error(self.tr("部门目录为空：本中心尚未从县级同步部门目录"))

    def tick(self, code: str, on: bool = True) -> None:
        for i in range(self.departments.count()):
            item = self.departments.item(i)
            if item.data(Qt.ItemDataRole.UserRole) == code:
                item.setCheckState(Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)

    def chosen(self) -> list[str]:
        out = []
        for i in range(self.departments.count()):
            item = self.departments.item(i)
            if item.checkState() == Qt.CheckState.Checked:
                out.append(str(item.data(Qt.ItemDataRole.UserRole)))
        return out

    def clear(self) -> None:
        for i in range(self.departments.count()):
            self.departments.item(i).setCheckState(Qt.CheckState.Unchecked)
        self.matter_edit.clear()
        self.complex_check.setChecked(False)
        self.message.clear()

    def first_field(self) -> QWidget:
        return self.departments

    def _on_item_activated(self, item: QListWidgetItem) -> None:
        # Enter or a double click on a department ticks it (Space does too, as in any list).
        checked = item.checkState() == Qt.CheckState.Checked
        item.setCheckState(Qt.CheckState.Unchecked if checked else Qt.CheckState.Checked)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt's name
        # In the list, Enter ticks; from the matter or the check box, it blows the whistle.
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.departments.hasFocus():
            return
        super().keyPressEvent(event)


class OutcomeForm(_Form):
    """调解结果: 调解成功 with its terms (how and by when they are performed), 部分达成 / 调解不成 / 终止调解 with the
    reason, or 转办 with where to and why. Only the outcomes the case's state allows are offered."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        self.current_label = QLabel(self)
        self.current_label.setWordWrap(True)
        self.current_label.setTextFormat(Qt.TextFormat.PlainText)
        outer.addWidget(self.current_label)
        self.finish_label = QLabel(self)
        self.finish_label.setStyleSheet("color: #b45309; font-weight: bold;")
        self.finish_label.hide()
        outer.addWidget(self.finish_label)
        self.form = QFormLayout()
        self.choice_combo = QComboBox(self)
        self.form.addRow(self.tr("结果"), self.choice_combo)
        self.terms_edit = QPlainTextEdit(self)
        self.terms_edit.setTabChangesFocus(True)
        self.terms_edit.setPlaceholderText(self.tr("协议条款，每行一条（默认取最近一次笔录的条款）"))
        self.terms_edit.setFixedHeight(self.terms_edit.fontMetrics().height() * 4 + 14)
        self.form.addRow(self.tr("协议条款"), self.terms_edit)
        self.performance_edit = QLineEdit(self)
        self.performance_edit.setPlaceholderText(self.tr("履行方式，如：被申请人自行清理，申请人现场确认"))
        self.form.addRow(self.tr("履行方式"), self.performance_edit)
        self.deadline_row = deadline_row = QHBoxLayout()
        self.deadline_check = QCheckBox(self.tr("履行期限"), self)
        self.deadline_edit = QDateEdit(self)
        self.deadline_edit.setCalendarPopup(True)
        self.deadline_edit.setDisplayFormat("yyyy-MM-dd")
        self.deadline_edit.setEnabled(False)
        deadline_row.addWidget(self.deadline_check)
        deadline_row.addWidget(self.deadline_edit, 1)
        self.form.addRow(self.tr("履行期限"), deadline_row)
        self.reason_edit = QLineEdit(self)
        self.reason_edit.setPlaceholderText(self.tr("未达成或终止、转办的理由"))
        self.form.addRow(self.tr("理由"), self.reason_edit)
        self.transfer_combo = QComboBox(self)
        for code, label in TRANSFER_CHOICES:
            self.transfer_combo.addItem(label, code)
        self.form.addRow(self.tr("转办去向"), self.transfer_combo)
        self.to_name_edit = QLineEdit(self)
        self.to_name_edit.setPlaceholderText(self.tr("承办单位，如：甘州区人民法院"))
        self.form.addRow(self.tr("承办单位"), self.to_name_edit)
        outer.addLayout(self.form)
        bottom = QHBoxLayout()
        self.print_button = _submit_button(self.tr("打印协议书 (Ctrl+P)"), self)
        self.submit_button = _submit_button(self.tr("记录结果 (回车)"), self)
        self.submit_button.clicked.connect(self.sig_submitted)
        bottom.addWidget(self.message, 1)
        bottom.addWidget(self.print_button)
        bottom.addWidget(self.submit_button)
        outer.addLayout(bottom)
        outer.addStretch(1)
        self.deadline_check.toggled.connect(self.deadline_edit.setEnabled)
        self.choice_combo.currentIndexChanged.connect(self._on_choice_changed)
        self.finishing: FinishChoice | None = None  # set while 结束接待 waits for this form

    def set_allowed(self, allowed: Sequence[Step]) -> None:
        keep = self.choice()
        self.choice_combo.blockSignals(True)
        self.choice_combo.clear()
        for code, label, step in OUTCOME_CHOICES:
            if step in allowed:
                self.choice_combo.addItem(label, code)
        index = self.choice_combo.findData(keep)
        self.choice_combo.setCurrentIndex(index if index >= 0 else 0)
        self.choice_combo.blockSignals(False)
        self._on_choice_changed()

    def choose(self, code: str) -> bool:
        index = self.choice_combo.findData(code)
        if index >= 0:
            self.choice_combo.setCurrentIndex(index)
        return index >= 0

    def choice(self) -> str:
        return str(self.choice_combo.currentData() or "")

    def set_today(self, today: dt.date) -> None:
        self.deadline_edit.setMinimumDate(_date(today))
        if not self.deadline_check.isChecked():
            self.deadline_edit.setDate(_date(today + dt.timedelta(days=7)))

    def clear(self) -> None:
        self.terms_edit.clear()
        self.performance_edit.clear()
        self.deadline_check.setChecked(False)
        self.reason_edit.clear()
        self.to_name_edit.clear()
        self.message.clear()

    def first_field(self) -> QWidget:
        return self.choice_combo

    def outcome(self) -> Outcome:
        from desk.services.handling import Outcome

        resolved = self.choice() in ("resolved", "partly_resolved")
        return Outcome(
            self.choice(),
            reason=self.reason_edit.text().strip(),
            terms=lines(self.terms_edit.toPlainText()) if resolved else (),
            performance=self.performance_edit.text().strip() if resolved else "",
            performance_deadline=_py_date(self.deadline_edit.date())
            if resolved and self.deadline_check.isChecked()
            else None,
        )

    def transfer(self) -> Transfer:
        from desk.services.handling import Transfer

        return Transfer(
            str(self.transfer_combo.currentData() or ""),
            self.to_name_edit.text().strip(),
            self.reason_edit.text().strip(),
        )

    def _on_choice_changed(self, *_args: object) -> None:
        code = self.choice()
        agreement = code in ("resolved", "partly_resolved")
        show: dict[QWidget, bool] = {
            self.terms_edit: agreement,
            self.performance_edit: agreement,
            self.reason_edit: code != "resolved" and bool(code),
            self.transfer_combo: code == "transfer",
            self.to_name_edit: code == "transfer",
        }
        for widget, visible in show.items():
            self.form.setRowVisible(widget, visible)
        self.form.setRowVisible(self.deadline_row, agreement)
        self.submit_button.setEnabled(bool(code))


class FollowUpForm(_Form):
    """回访, after closure: how (phone or visit), whether the agreement held (not held reopens the case) and the
    satisfaction; the follow-ups scheduled and made are listed above."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        self.list_label = QLabel(self)
        self.list_label.setWordWrap(True)
        self.list_label.setTextFormat(Qt.TextFormat.PlainText)
        outer.addWidget(self.list_label)
        form = QFormLayout()
        self.method_combo = QComboBox(self)
        for code, label in FOLLOW_UP_METHODS:
            self.method_combo.addItem(label, code)
        self.held_combo = QComboBox(self)
        for code, label in AGREEMENT_HELD:
            self.held_combo.addItem(label, code)
        self.satisfaction_combo = QComboBox(self)
        for code, label in SATISFACTION:
            self.satisfaction_combo.addItem(label, code)
        self.note_edit = QLineEdit(self)
        form.addRow(self.tr("方式"), self.method_combo)
        form.addRow(self.tr("协议履行"), self.held_combo)
        form.addRow(self.tr("满意度"), self.satisfaction_combo)
        form.addRow(self.tr("备注"), self.note_edit)
        outer.addLayout(form)
        bottom = QHBoxLayout()
        self.submit_button = _submit_button(self.tr("记录回访 (回车)"), self)
        self.submit_button.clicked.connect(self.sig_submitted)
        bottom.addWidget(self.message, 1)
        bottom.addWidget(self.submit_button)
        outer.addLayout(bottom)
        outer.addStretch(1)

    def values(self) -> dict[str, Any]:
        held = str(self.held_combo.currentData())
        return {
            "method": str(self.method_combo.currentData()),
            "agreement_held": {"yes": True, "no": False}.get(held),
            "satisfaction": str(self.satisfaction_combo.currentData()),
            "note": self.note_edit.text().strip(),
        }

    def clear(self) -> None:
        self.note_edit.clear()
        self.message.clear()

    def first_field(self) -> QWidget:
        return self.method_combo

    def set_enabled_form(self, enabled: bool) -> None:
        for w in (
            self.method_combo,
            self.held_combo,
            self.satisfaction_combo,
            self.note_edit,
            self.submit_button,
        ):
            w.setEnabled(enabled)


def _scrolled(widget: QWidget, parent: QWidget) -> QScrollArea:
    area = QScrollArea(parent)
    area.setWidgetResizable(True)
    area.setWidget(widget)
    area.setFrameShape(QScrollArea.Shape.NoFrame)
    return area


class HandlingPane(QWidget):
    """The claimed case being handled. `handling` and `whistles` are this terminal's own services (their
    `actor` follows the mediator on duty); `agreements` prints the agreement. `show_case` reads the case file
    (off the UI thread) and shows it; each step shows the case file it comes back with."""

    sig_case_changed = Signal(object)
    """A step was taken (or the case read again); carries the `CaseFile`."""

    sig_left = Signal()
    """Esc in a form: the keyboard goes back to the terminal's scan field."""

    sig_finish_requested = Signal(object)
    """A form filled in for 结束接待 was submitted; carries (choice, outcome | None, transfer | None)."""

    sig_open_case_view = Signal()
    """The mediator asked for the case view (全部记录, Ctrl+H)."""

    TAB_SESSIONS, TAB_WHISTLE, TAB_OUTCOME, TAB_FOLLOW_UP = range(4)

    def __init__(
        self,
        *,
        handling: CaseHandlingService,
        whistles: WhistleService | None = None,
        agreements: CaseAgreements | None = None,
        rooms: Sequence[tuple[str, str]] = (),
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._handling = handling
        self._whistles = whistles
        self._agreements = agreements
        self._rooms = list(rooms)
        self._mediators: list[str] = []
        self._on_duty = ""
        self._departments_read = False
        self.ops = OpRunner(self, report=self._say_error)
        self.file: CaseFile | None = None
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        head = QHBoxLayout()
        self.heading = QLabel(self)
        font = QFont(self.heading.font())
        font.setPointSizeF(font.pointSizeF() * 1.25)
        font.setBold(True)
        self.heading.setFont(font)
        self.risk_label = QLabel(self)
        self.case_view_button = _submit_button(self.tr("全部记录 (Ctrl+H)"), self)
        self.case_view_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.case_view_button.clicked.connect(self.sig_open_case_view)
        head.addWidget(self.heading)
        head.addWidget(self.risk_label)
        head.addStretch(1)
        head.addWidget(self.case_view_button)
        outer.addLayout(head)
        self.deadline = DeadlineStrip(self)
        outer.addWidget(self.deadline)
        self.message = QLabel(self)
        self.message.setWordWrap(True)
        self.message.setTextFormat(Qt.TextFormat.PlainText)
        outer.addWidget(self.message)

        self.tabs = QTabWidget(self)
        self.tabs.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        outer.addWidget(self.tabs, 1)

        sessions = QWidget(self)
        s_layout = QVBoxLayout(sessions)
        self.sessions_text = QPlainTextEdit(sessions)
        self.sessions_text.setReadOnly(True)
        self.sessions_text.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.sessions_text.setMaximumHeight(self.sessions_text.fontMetrics().height() * 6 + 14)
        s_layout.addWidget(self.sessions_text)
        self.session_form = SessionForm(sessions)
        s_layout.addWidget(self.session_form, 1)
        self.tabs.addTab(_scrolled(sessions, self.tabs), self.tr("调解笔录 (Ctrl+N)"))

        self.whistle_form = WhistleForm(self)
        self.tabs.addTab(self.whistle_form, self.tr("吹哨 (Ctrl+W)"))
        self.outcome_form = OutcomeForm(self)
        self.tabs.addTab(_scrolled(self.outcome_form, self.tabs), self.tr("调解结果 (Ctrl+O)"))
        self.follow_up_form = FollowUpForm(self)
        self.tabs.addTab(self.follow_up_form, self.tr("回访 (Ctrl+U)"))

        self.session_form.sig_submitted.connect(self.record_session)
        self.whistle_form.sig_submitted.connect(self.blow_whistle)
        self.outcome_form.sig_submitted.connect(self.record_outcome)
        self.follow_up_form.sig_submitted.connect(self.record_follow_up)
        self.outcome_form.print_button.clicked.connect(self._on_print_requested)
        for form in (self.session_form, self.whistle_form, self.outcome_form, self.follow_up_form):
            form.sig_cancelled.connect(self._on_form_left)
        keys: list[tuple[str, Callable[[], object]]] = [
            (SESSION_KEYS, lambda: self.open_form(self.TAB_SESSIONS)),
            (WHISTLE_KEYS, lambda: self.open_form(self.TAB_WHISTLE)),
            (OUTCOME_KEYS, lambda: self.open_form(self.TAB_OUTCOME)),
            (FOLLOW_UP_KEYS, lambda: self.open_form(self.TAB_FOLLOW_UP)),
            (PRINT_KEYS, self.print_agreement),
            ("Ctrl+H", self.sig_open_case_view.emit),
        ]
        self.shortcuts: dict[str, QShortcut] = {}
        for sequence, slot in keys:
            shortcut = QShortcut(QKeySequence(sequence), self)
            shortcut.setContext(Qt.ShortcutContext.WindowShortcut)
            shortcut.activated.connect(slot)
            self.shortcuts[sequence] = shortcut
        self.setEnabled(False)

    # --- the case --------------------------------------------------------------------------------------

    def set_mediators(self, names: Sequence[str], on_duty: str) -> None:
        """The room's mediators (ticked as attendees: the one on duty)."""
        self._mediators = list(names)
        self._on_duty = on_duty
        if on_duty:
            self.session_form.tick_on_duty(on_duty)

    def show_case(self, case_no: str) -> Op[Any] | None:
        """Read the case file (and, the first time, the department catalog) and show it."""
        handling, whistles = self._handling, self._whistles
        read_departments = whistles is not None and not self._departments_read

        def work() -> tuple[CaseFile, list[Department] | None]:
            departments = whistles.departments() if read_departments and whistles is not None else None
            return handling.view(case_no), departments

        def shown(read: tuple[CaseFile, list[Department] | None]) -> None:
            file, departments = read
            if departments is not None:
                self._departments_read = True
                self.whistle_form.set_departments(departments)
            self._show_file(file, new=True)

        return self.ops.run(work, name=f"case file {case_no}", success=shown, failure=self._on_refused)

    def clear_case(self) -> None:
        self.file = None
        self.heading.clear()
        self.setEnabled(False)

    def _show_file(self, file: CaseFile, *, new: bool = False) -> None:
        new = new and (self.file is None or self.file.case_no != file.case_no)
        self.file = file
        self.setEnabled(True)
        self.heading.setText(
            self.tr("{category} · {state}").format(category=file.category, state=file.state_label)
        )
        risk = file.risk_level_label
        if file.risk_flag_labels:
            risk += "（" + "、".join(file.risk_flag_labels) + "）"
        self.risk_label.setText(self.tr("风险：{risk}").format(risk=risk) if file.risk_level else "")
        self.risk_label.setStyleSheet(f"color: {ERROR_COLOUR};" if file.risk_level == "serious" else "")
        self.deadline.show_deadline(file.deadline)
        if new:
            parties = [(p.id, p.role_label, p.name) for p in file.parties]
            rooms = self._rooms or ([(file.room, file.room_name or file.room)] if file.room else [])
            self.session_form.set_case(
                parties, self._mediators, self._on_duty, rooms, file.room, self._today()
            )
            self.whistle_form.clear()
            self.outcome_form.clear()
            self.follow_up_form.clear()
            self.outcome_form.finishing = None
            self.outcome_form.finish_label.hide()
        self.sessions_text.setPlainText(self._sessions_text(file))
        self.whistle_form.model.set_whistles(file.whistles)
        self.outcome_form.set_allowed(file.allowed)
        self.outcome_form.set_today(self._today())
        self.outcome_form.current_label.setText(self._outcome_text(file))
        if (
            not self.outcome_form.terms_edit.toPlainText().strip()
            and file.sessions
            and file.sessions[-1].terms
        ):
            self.outcome_form.terms_edit.setPlainText("\n".join(file.sessions[-1].terms))
        self.follow_up_form.list_label.setText(self._follow_ups_text(file))
        self._update_allowed()
        self.sig_case_changed.emit(file)

    def _today(self) -> dt.date:
        return self._handling.now().astimezone(CHINA_TZ).date()

    def _update_allowed(self) -> None:
        file = self.file
        can = lambda step: file is not None and file.can(step)  # noqa: E731 - a one-line predicate
        self.session_form.setEnabled(can(Step.RECORD_SESSION))
        self.whistle_form.setEnabled(can(Step.WHISTLE) and self._whistles is not None)
        self.outcome_form.submit_button.setEnabled(self.outcome_form.choice_combo.count() > 0)
        self.outcome_form.choice_combo.setEnabled(self.outcome_form.choice_combo.count() > 0)
        has_agreement = file is not None and file.outcome is not None and bool(file.outcome.agreement_no)
        self.outcome_form.print_button.setEnabled(has_agreement and self._agreements is not None)
        self.follow_up_form.set_enabled_form(can(Step.FOLLOW_UP))
        self.shortcuts[PRINT_KEYS].setEnabled(has_agreement and self._agreements is not None)

    def _sessions_text(self, file: CaseFile) -> str:
        if not file.sessions and not file.bookings:
            return self.tr("尚无调解笔录")
        out = []
        for i, s in enumerate(file.sessions, 1):
            who = "、".join(
                a.name + {"party": "", "mediator": "（调解员）"}.get(a.role, f"（{a.department or '部门'}）")
                for a in s.attendees
            )
            out.append(
                self.tr("第{n}次 {when} · 记录人 {by} · 参加：{who}").format(
                    n=i, when=china_time(s.started_at), by=s.recorded_by, who=who
                )
            )
            out.extend(f"　{st.speaker}：{st.text}" for st in s.statements)
            if s.agreed:
                out.append(self.tr("　达成：{text}").format(text=s.agreed))
            out.extend(f"　{j}. {t}" for j, t in enumerate(s.terms, 1))
        for b in file.bookings:
            out.append(
                self.tr("预约：{day} {time} {room}").format(
                    day=_day_text(b.day), time=b.time, room=b.room_name
                )
            )
        return "\n".join(out)

    def _outcome_text(self, file: CaseFile) -> str:
        o = file.outcome
        parts = []
        if o is not None:
            text = self.tr("调解结果：{label}").format(label=o.label)
            if o.agreement_no:
                text += self.tr("，协议书 {no}").format(no=o.agreement_no)
            if o.reason:
                text += self.tr("，理由：{reason}").format(reason=o.reason)
            parts.append(text)
        if file.transfer is not None:
            parts.append(self.tr("已转办：{where}").format(where=file.transfer.where))
        if not parts:
            parts.append(self.tr("尚未记录调解结果"))
        return "；".join(parts)

    def _follow_ups_text(self, file: CaseFile) -> str:
        if not file.follow_ups:
            return (
                self.tr("办结后安排回访（尚未办结）")
                if not file.can(Step.FOLLOW_UP)
                else self.tr("尚未安排回访")
            )
        out = []
        for f in file.follow_ups:
            if f.done_at is not None:
                held = {True: "协议已履行", False: "协议未履行", None: "无协议"}[f.agreement_held]
                out.append(
                    self.tr("{when} {method}：{held}，{satisfaction}").format(
                        when=china_time(f.done_at),
                        method=f.method_label,
                        held=held,
                        satisfaction=f.satisfaction_label,
                    )
                )
            elif f.due_on is not None:
                out.append(self.tr("应于 {day} 回访").format(day=_day_text(f.due_on)))
        return "\n".join(out)

    # --- the steps ---------------------------------------------------------------------------------------

    def open_form(self, tab: int) -> None:
        """Ctrl+N/W/O/U: the form's tab, the keyboard in its first field."""
        if self.file is None:
            return
        self.tabs.setCurrentIndex(tab)
        form: SessionForm | WhistleForm | OutcomeForm | FollowUpForm = (
            self.session_form,
            self.whistle_form,
            self.outcome_form,
            self.follow_up_form,
        )[tab]
        form.first_field().setFocus(Qt.FocusReason.ShortcutFocusReason)

    def _step(
        self,
        form: _Form,
        name: str,
        call: Callable[[], CaseFile],
        done: str,
        *,
        clear: Callable[[], object] | None = None,
    ) -> Op[CaseFile] | None:
        if self.file is None:
            return None
        case_no = self.file.case_no

        def succeeded(file: CaseFile) -> None:
            if clear is not None:
                clear()
            self._show_file(file)
            form.show_ok(done)
            self.say(done)

        return self.ops.run(
            call,
            name=f"{name} {case_no}",
            success=succeeded,
            failure=lambda e: self._refused_in(form, e),
        )

    def record_session(self) -> Op[CaseFile] | None:
        if self.file is None or not self.session_form.isEnabled():
            return None
        handling, case_no, values = self._handling, self.file.case_no, self.session_form.values()
        booked = values["book"]
        done = self.tr("调解笔录已保存")
        if booked is not None:
            done += self.tr("，已预约 {day} {time}").format(day=_day_text(booked.day), time=booked.time)
        return self._step(
            self.session_form,
            "session",
            lambda: handling.record_session(case_no, **values),
            done,
            clear=self.session_form.clear,
        )

    def blow_whistle(self) -> Op[CaseFile] | None:
        whistles = self._whistles
        if self.file is None or whistles is None or not self.whistle_form.isEnabled():
            return None
        handling, case_no = self._handling, self.file.case_no
        codes = self.whistle_form.chosen()
        matter = self.whistle_form.matter_edit.text()
        complex_ = self.whistle_form.complex_check.isChecked()

        def blow() -> CaseFile:
            whistles.blow(case_no, codes, matter, complex_)
            return handling.view(case_no)

        return self._step(
            self.whistle_form,
            "whistle",
            blow,
            self.tr("已吹哨：{n} 个部门，签收时限 1 小时").format(n=len(codes)),
            clear=self.whistle_form.clear,
        )

    def record_outcome(self) -> Op[CaseFile] | None:
        form = self.outcome_form
        if self.file is None or not form.choice():
            return None
        if form.finishing is not None:
            choice = form.finishing
            if form.choice() == "transfer":
                self.sig_finish_requested.emit((FinishChoice.TRANSFER, None, form.transfer()))
            else:
                self.sig_finish_requested.emit((choice, form.outcome(), None))
            return None
        handling, case_no = self._handling, self.file.case_no
        if form.choice() == "transfer":
            t = form.transfer()
            return self._step(
                form,
                "transfer",
                lambda: handling.transfer_out(case_no, t.to_kind, t.to_name, t.reason),
                self.tr("已转办：{kind}（{name}）").format(
                    kind=form.transfer_combo.currentText(), name=t.to_name
                ),
            )
        o = form.outcome()
        return self._step(
            form,
            "outcome",
            lambda: handling.record_outcome(
                case_no,
                o.outcome,
                reason=o.reason,
                terms=o.terms,
                performance=o.performance,
                performance_deadline=o.performance_deadline,
            ),
            self.tr("已记录调解结果：{label}").format(label=form.choice_combo.currentText()),
        )

    def record_follow_up(self) -> Op[CaseFile] | None:
        if self.file is None or not self.follow_up_form.submit_button.isEnabled():
            return None
        handling, case_no, values = self._handling, self.file.case_no, self.follow_up_form.values()
        return self._step(
            self.follow_up_form,
            "follow-up",
            lambda: handling.follow_up(case_no, **values),
            self.tr("回访已记录"),
            clear=self.follow_up_form.clear,
        )

    def print_agreement(self) -> Op[Any] | None:
        """Ctrl+P: the agreement of the case's outcome on the default printer (the print is recorded)."""
        agreements = self._agreements
        file = self.file
        if agreements is None or file is None or file.outcome is None or not file.outcome.agreement_no:
            self.say(self.tr("尚无调解协议：调解成功后才能打印协议书"), error=True)
            return None
        no = file.outcome.agreement_no
        return agreements.print_agreement(
            self.ops,
            file.case_no,
            success=lambda printer: self._printed(no, printer),
            failure=lambda e: self._refused_in(
                self.outcome_form, DeskError(self.tr("协议书未打印：{why}").format(why=e.message))
            ),
        )

    def _printed(self, no: str, printer: str) -> None:
        text = self.tr("协议书 {no} 已送到打印机“{printer}”").format(no=no, printer=printer)
        self.outcome_form.show_ok(text)
        self.say(text)

    # --- 结束接待 with a form ----------------------------------------------------------------------------

    def finish_with_form(self, choice: FinishChoice) -> None:
        """结束接待 chose an outcome or a transfer that is not recorded yet: the outcome form, marked, takes it;
        Enter records it and ends the reception in one step, Esc gives up."""
        form = self.outcome_form
        form.finishing = choice
        if choice is FinishChoice.TRANSFER:
            form.choose("transfer")
        elif form.choice() == "transfer":
            form.choice_combo.setCurrentIndex(0)
        form.finish_label.setText(
            self.tr("结束接待：填写后按回车，记录{what}并结束接待；Esc 取消").format(
                what=self.tr("转办") if choice is FinishChoice.TRANSFER else self.tr("调解结果")
            )
        )
        form.finish_label.show()
        self.open_form(self.TAB_OUTCOME)

    def end_finishing(self) -> None:
        self.outcome_form.finishing = None
        self.outcome_form.finish_label.hide()

    def show_finish_error(self, error: DeskError) -> None:
        self._refused_in(self.outcome_form, error)

    # --- messages --------------------------------------------------------------------------------------

    def say(self, text: str, *, error: bool = False) -> None:
        _message(self.message, text, error=error)

    def _say_error(self, text: str) -> None:
        self.say(text, error=True)

    def _refused_in(self, form: _Form, error: DeskError) -> None:
        """A refusal said in the form (and on the pane's line); the form keeps what was typed, the keyboard goes
        to the first field named (when the form has it)."""
        form.show_error(error.message)
        self.say(error.message, error=True)
        if isinstance(error, ValidationError) and form is self.session_form:
            fields = {p.field.split(".")[0].split("[")[0] for p in error.problems}
            target = {
                "book": self.session_form.book_time,
                "attendees": self.session_form.department_edit,
                "agreed": self.session_form.agreed_edit,
                "terms": self.session_form.terms_edit,
            }
            for name, widget in target.items():
                if name in fields:
                    widget.setFocus()
                    break

    def _on_refused(self, error: DeskError) -> None:
        self.say(error.message, error=True)

    def _on_form_left(self) -> None:
        if self.outcome_form.finishing is not None:
            self.end_finishing()
            self.say(self.tr("已取消结束接待"))
        self.sig_left.emit()

    def _on_print_requested(self) -> None:
        self.print_agreement()


OUTCOME_STATES = ("resolved", "partly_resolved", "not_resolved", "terminated")


def finish_choices(file: CaseFile) -> tuple[FinishChoice, ...]:
    """What 结束接待 may answer now: the choices the state allows (`CaseFile.finish_choices`), and the outcome
    or the transfer already recorded in this reception (the state after it allows no other outcome, yet the
    answer is "an outcome")."""
    if file.serving_ticket_id is None:
        return ()
    chosen = set(file.finish_choices)
    if file.state in OUTCOME_STATES:
        chosen.add(FinishChoice.OUTCOME)
    if file.state == "transferred":
        chosen.add(FinishChoice.TRANSFER)
    return tuple(c for c in FinishChoice if c in chosen)


class FinishChoiceDialog(QDialog):
    """结束接待: what happened in this reception -- 1 another session booked, 2 an outcome, 3 a transfer. The key
    chooses; for 1 the next appointment is asked here (Enter confirms), for 2 and 3 the answer is the recorded
    one or the pane's outcome form. Esc: the reception goes on."""

    sig_chosen = Signal(object)
    """The mediator chose; carries (choice, booking | None, keep: the case's recorded outcome/transfer stands)."""

    def __init__(
        self,
        file: CaseFile,
        *,
        rooms: Sequence[tuple[str, str]] = (),
        today: dt.date,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.file = file
        self.setWindowTitle(self.tr("结束接待"))
        layout = QVBoxLayout(self)
        ticket = file.ticket or ""
        layout.addWidget(
            QLabel(
                self.tr("{ticket} 号 · 案件 {case_no}：本次接待的结果是？").format(
                    ticket=ticket, case_no=file.case_no
                ),
                self,
            )
        )
        self.allowed = finish_choices(file)
        self.options: dict[FinishChoice, QLabel] = {}
        texts = {
            FinishChoice.BOOKED: self.tr("1　已预约下次调解"),
            FinishChoice.OUTCOME: self.tr("2　记录调解结果（调解成功、部分达成、调解不成、终止）"),
            FinishChoice.TRANSFER: self.tr("3　转办（诉讼、仲裁、行政复议、信访、部门、上级）"),
        }
        for choice, text in texts.items():
            label = QLabel(text, self)
            allowed = choice in self.allowed
            label.setEnabled(allowed)
            if not allowed:
                label.setToolTip(self.tr("案件当前状态不允许此项"))
            self.options[choice] = label
            layout.addWidget(label)
        self.booking_box = QGroupBox(self.tr("下次调解"), self)
        form = QFormLayout(self.booking_box)
        self.keep_check = QCheckBox(self.booking_box)
        self.day_edit = QDateEdit(self.booking_box)
        self.day_edit.setCalendarPopup(True)
        self.day_edit.setDisplayFormat("yyyy-MM-dd")
        self.day_edit.setMinimumDate(_date(today))
        self.day_edit.setDate(_date(today + dt.timedelta(days=1)))
        self.time_edit = QLineEdit(self.booking_box)
        self.time_edit.setPlaceholderText(self.tr("时:分，如 09:30"))
        self.room_combo = QComboBox(self.booking_box)
        for code, title in rooms:
            self.room_combo.addItem(title, code)
        if file.room:
            self.room_combo.setCurrentIndex(max(0, self.room_combo.findData(file.room)))
        form.addRow("", self.keep_check)
        form.addRow(self.tr("日期"), self.day_edit)
        form.addRow(self.tr("时间"), self.time_edit)
        form.addRow(self.tr("功能室"), self.room_combo)
        self.booking_box.hide()
        layout.addWidget(self.booking_box)
        self.message = QLabel(self.tr("按 1、2 或 3 选择；Esc 返回继续接待"), self)
        self.message.setWordWrap(True)
        layout.addWidget(self.message)
        # A booking made in this reception (a session booked it) is the answer to 1 unless the mediator unticks it.
        future = [b for b in file.bookings if b.day >= today]
        self.existing = future[-1] if future else None
        if self.existing is not None:
            b = self.existing
            self.keep_check.setText(
                self.tr("沿用已预约：{day} {time} {room}").format(
                    day=_day_text(b.day), time=b.time, room=b.room_name
                )
            )
            self.keep_check.setChecked(True)
        else:
            self.keep_check.hide()
        self.keep_check.toggled.connect(self._on_keep_toggled)
        self._on_keep_toggled(self.keep_check.isChecked())
        self.choice: FinishChoice | None = None

    def choose(self, choice: FinishChoice) -> None:
        """What the key 1/2/3 does."""
        if choice not in self.allowed:
            self.message.setText(
                self.tr("案件当前状态（{state}）不能选择“{what}”").format(
                    state=self.file.state_label, what=choice.label
                )
            )
            return
        self.choice = choice
        if choice is FinishChoice.BOOKED:
            self.booking_box.show()
            self.message.setText(self.tr("填写下次调解的日期、时间和功能室，回车确认"))
            (self.time_edit if not self.keep_check.isChecked() else self.keep_check).setFocus()
            return
        self.sig_chosen.emit((choice, None))
        self.accept()

    def confirm_booking(self) -> None:
        from desk.services.handling import Booking

        if self.keep_check.isChecked() and self.existing is not None:
            self.sig_chosen.emit((FinishChoice.BOOKED, None))
        else:
            if not re.match(r"^([01]\d|2[0-3]):[0-5]\d$", self.time_edit.text().strip()):
                self.message.setText(self.tr("预约时间应为 时:分，如 09:30"))
                self.time_edit.setFocus()
                return
            self.sig_chosen.emit(
                (
                    FinishChoice.BOOKED,
                    Booking(
                        _py_date(self.day_edit.date()),
                        self.time_edit.text().strip(),
                        str(self.room_combo.currentData() or "") or None,
                    ),
                )
            )
        self.accept()

    def _on_keep_toggled(self, keep: bool) -> None:
        for w in (self.day_edit, self.time_edit, self.room_combo):
            w.setEnabled(not keep)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt's name
        keys = {
            Qt.Key.Key_1: FinishChoice.BOOKED,
            Qt.Key.Key_2: FinishChoice.OUTCOME,
            Qt.Key.Key_3: FinishChoice.TRANSFER,
        }
        if self.choice is None and event.key() in keys:
            self.choose(keys[Qt.Key(event.key())])
            return
        if self.choice is FinishChoice.BOOKED and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.confirm_booking()
            return
        super().keyPressEvent(event)
