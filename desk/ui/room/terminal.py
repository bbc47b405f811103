"""A room's terminal: who is on duty, the room's queue, calling and claiming (also by scanning the receipt's QR
code), the handling pane of the case being received (sessions, whistle, outcome, deadline, follow-up) with its
full history, and 结束接待, which asks what happened."""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QFont, QKeyEvent, QKeySequence, QShortcut, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from desk.core.clock import CHINA_TZ
from desk.core.lifecycle import FinishChoice
from desk.core.permissions import Role
from desk.core.queue import TRANSITIONS, TicketState
from desk.core.routing import STATION_MODES
from desk.errors import DeskError
from desk.ui.case_history import CaseHistoryDialog, CaseHistoryView, full_record
from desk.ui.models.queue_table import COL_WAITED, QueueTableModel, priority_label
from desk.ui.ops import Op, OpRunner
from desk.ui.room.handling import OUTCOME_STATES, FinishChoiceDialog, HandlingPane

if TYPE_CHECKING:
    from desk.core.permissions import Principal
    from desk.services.alerts import WhistleService
    from desk.services.auth import AuthService
    from desk.services.display import DisplayService
    from desk.services.handling import Booking, CaseFile, CaseHandlingService, Outcome, Transfer
    from desk.services.queue import QueueService, RoomView, TicketView
    from desk.services.registration import RegistrationService
    from desk.services.rooms import RoomsService
    from desk.services.views import BookedVisitor, CaseDetail
    from desk.ui.access.duty import OnDutySwitch
    from desk.ui.printing import CaseAgreements

logger = logging.getLogger(__name__)

POLL_MS = 400
ERROR_COLOUR = "#c62828"
OK_COLOUR = "#2e7d32"


@dataclass(frozen=True)
class _RoomRead:
    """One look at the room (read on a worker thread): its queue, its settings, and with a restore, the visitor
    this terminal was receiving with the case's history."""

    mark: int
    tickets: list[TicketView]
    room: RoomView
    serving: TicketView | None = None
    serving_detail: CaseDetail | None = None
    booked: tuple[BookedVisitor, ...] = ()  # today's appointments here whose visitor has not arrived


@dataclass(frozen=True)
class _Acted:
    """What an action at the terminal came back with: the ticket it acted on (None: nobody to call), the queue
    read right after it, and for a claim the case's history."""

    ticket: TicketView | None
    read: _RoomRead | None
    detail: CaseDetail | None = None


def _read_room(
    queue: QueueService,
    rooms: RoomsService,
    display: DisplayService,
    code: str,
    known: int,
    *,
    restore_from: RegistrationService | None = None,
) -> _RoomRead | None:
    """On a worker: the room's queue and settings, unless the change mark is still `known` (then None)."""
    mark = display.change_mark()
    if mark == known:
        return None
    tickets = queue.queue(code)
    room = rooms.room(code)
    booked = tuple(queue.booked_today(code))
    if restore_from is not None:
        mine = [t for t in tickets if t.state == TicketState.SERVING and t.terminal == queue.terminal]
        if mine:
            return _RoomRead(mark, tickets, room, mine[-1], restore_from.case(mine[-1].case_no), booked)
    return _RoomRead(mark, tickets, room, booked=booked)


class TransferDialog(QDialog):
    """Pick the room a visitor moves to, and say why (the reason is recorded with the transfer)."""

    def __init__(self, rooms: list[RoomView], ticket_label: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("转室"))
        layout = QVBoxLayout(self)
        layout.addWidget(
            QLabel(self.tr("将 {label} 号转到其他功能室，保留原到达时间").format(label=ticket_label), self)
        )
        form = QFormLayout()
        self.room_combo = QComboBox(self)
        for r in rooms:
            self.room_combo.addItem(
                self.tr("{number}号{name}（{location}，等候{n}人）").format(
                    number=r.number, name=r.name, location=r.location or "—", n=r.waiting
                ),
                r.code,
            )
        self.reason_edit = QLineEdit(self)
        self.reason_edit.setPlaceholderText(self.tr("必填，如：涉及劳动报酬，转劳动争议调解室"))
        form.addRow(self.tr("转到"), self.room_combo)
        form.addRow(self.tr("理由"), self.reason_edit)
        layout.addLayout(form)
        self.message = QLabel(self)
        self.message.setStyleSheet(f"color: {ERROR_COLOUR};")
        layout.addWidget(self.message)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText(self.tr("转室"))
        buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(self.tr("取消"))
        buttons.accepted.connect(self._on_accept_requested)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.reason_edit.setFocus()

    def choice(self) -> tuple[str, str]:
        return str(self.room_combo.currentData() or ""), self.reason_edit.text().strip()

    def _on_accept_requested(self) -> None:
        if not self.reason_edit.text().strip():
            self.message.setText(self.tr("转室须说明理由"))
            self.reason_edit.setFocus()
            return
        self.accept()

    @staticmethod
    def ask(parent: QWidget, rooms: list[RoomView], ticket_label: str) -> tuple[str, str] | None:
        dialog = TransferDialog(rooms, ticket_label, parent)
        try:
            if dialog.exec() == QDialog.DialogCode.Accepted:
                return dialog.choice()
            return None
        finally:
            dialog.deleteLater()


class RoomTerminal(QMainWindow):
    """The terminal of one room. Every action goes through its own `QueueService`, off the UI thread (`ops`); what
    another terminal did shows up within `poll_ms` (the hall's change mark is polled), and "someone else got there first"
    is a message line, never an error dialog. Focus stays in the scan field, so a keyboard-wedge scanner can claim
    at any moment; Up/Down there move the selection in the queue."""

    sig_refreshed = Signal(int)
    """The queue was reloaded; carries the change mark it reflects."""

    sig_claimed = Signal(object)
    """A visitor was claimed at this terminal; carries the `TicketView`."""

    sig_message = Signal(str, bool)
    """A message was shown in the message line; carries the text and whether it is an error."""

    def __init__(
        self,
        room_code: str,
        *,
        queue: QueueService,
        rooms: RoomsService,
        display: DisplayService,
        registration: RegistrationService,
        handling: CaseHandlingService | None = None,
        whistles: WhistleService | None = None,
        agreements: CaseAgreements | None = None,
        auth: AuthService | None = None,
        poll_ms: int = POLL_MS,
        parent: QWidget | None = None,
    ) -> None:
        """`queue` is this terminal's own: its `actor` follows the mediator on duty here. `rooms` gives the room,
        the others' names and who is stationed here; `display` the hall's change mark, polled; `registration` the
        categories and the history of the case being received. With `handling` (and `whistles`, `agreements`:
        the agreement's printing) the claimed case gets the handling pane and 结束接待 asks what happened; the
        terminal works on copies of those two services, which act for the mediator on duty. With `auth`, F2
        switches the mediator on duty (`desk.ui.access.duty`): a digit picks them, then their PIN or password."""
        super().__init__(parent)
        self._queue = queue
        # Copies: the on-duty mediator is this terminal's actor, not that of every window sharing the services.
        self._handling = copy.copy(handling) if handling is not None else None
        self._whistles = copy.copy(whistles) if whistles is not None else None
        self._agreements = agreements
        self._mediators: list[str] = []
        self.pane: HandlingPane | None = None
        self.finish_dialog: FinishChoiceDialog | None = None
        self.case_dialog: CaseHistoryDialog | None = None
        self._rooms = rooms
        self._display = display
        self._registration = registration
        self.ops = OpRunner(self, report=self._on_refused_message)
        self.room: RoomView = rooms.room(room_code)
        self._principal: Principal | None = None
        self._mark = -1
        self._store_down = False
        self.serving: TicketView | None = None
        self._last_ticket_id: str | None = None
        self._category_names = {c.code: c.name for c in registration.categories()}
        self._room_names = {r.code: f"{r.number}号{r.name}" for r in rooms.rooms()}
        self.setWindowTitle(
            self.tr("一厅通 · {number}号{name} · 功能室终端").format(
                number=self.room.number, name=self.room.name
            )
        )

        central = QWidget(self)
        self.setCentralWidget(central)
        outer = QVBoxLayout(central)
        outer.setContentsMargins(12, 10, 12, 10)
        outer.addLayout(self._build_header(central))
        outer.addLayout(self._build_scan_row(central))
        self.message_label = QLabel(central)
        self.message_label.setWordWrap(True)
        self.message_label.setTextFormat(Qt.TextFormat.PlainText)
        self.message_label.setMinimumHeight(self.message_label.fontMetrics().height() + 6)
        outer.addWidget(self.message_label)

        splitter = QSplitter(Qt.Orientation.Horizontal, central)
        splitter.addWidget(self._build_queue(splitter))
        splitter.addWidget(self._build_current(splitter))
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([700, 600])
        self.splitter = splitter
        outer.addWidget(splitter, 1)

        self._timer = QTimer(self)
        self._timer.setInterval(poll_ms)
        self._timer.timeout.connect(self._on_poll)
        self._fill_on_duty()
        self.duty_switch: OnDutySwitch | None = None
        if auth is not None:
            from desk.ui.access.duty import OnDutySwitch

            self.duty_switch = OnDutySwitch(
                self, auth, self.room.code, room_label=f"{self.room.number}号{self.room.name}"
            )
            self.duty_switch.sig_switched.connect(self.set_on_duty)
        if Role.MEDIATOR in queue.principal.roles:
            self.set_on_duty(queue.principal)
        self._update_buttons()
        self.resize(1280, 780)
        # The first look at the queue also restores the visitor this terminal was receiving (after a restart).
        self.refresh(force=True, restore=True)

    # --- building ------------------------------------------------------------------------------

    def _build_header(self, parent: QWidget) -> QHBoxLayout:
        row = QHBoxLayout()
        self.title_label = QLabel(
            self.tr("{number}号{name}").format(number=self.room.number, name=self.room.name), parent
        )
        font = QFont(self.title_label.font())
        font.setPointSizeF(font.pointSizeF() * 1.8)
        font.setBold(True)
        self.title_label.setFont(font)
        self.location_label = QLabel(self.room.location, parent)
        self.location_label.setStyleSheet("color: #555;")
        self.count_label = QLabel(parent)
        count_font = QFont(self.count_label.font())
        count_font.setPointSizeF(count_font.pointSizeF() * 1.3)
        self.count_label.setFont(count_font)
        self.on_duty_label = QLabel(parent)
        self.on_duty_label.setTextFormat(Qt.TextFormat.PlainText)
        self.on_duty_hint = QLabel(
            self.tr("无调解员值班：按 F2 上岗（选择调解员，输入 PIN 码或密码）"), parent
        )
        self.on_duty_hint.setStyleSheet("color: #b45309;")
        label = QLabel(self.tr("值班调解员"), parent)
        row.addWidget(self.title_label)
        row.addSpacing(12)
        row.addWidget(self.location_label, 0, Qt.AlignmentFlag.AlignBottom)
        row.addSpacing(24)
        row.addWidget(self.count_label, 0, Qt.AlignmentFlag.AlignBottom)
        row.addStretch(1)
        row.addWidget(self.on_duty_hint)
        row.addWidget(label)
        row.addWidget(self.on_duty_label)
        return row

    def _build_scan_row(self, parent: QWidget) -> QHBoxLayout:
        row = QHBoxLayout()
        label = QLabel(self.tr("扫码接待"), parent)
        self.scan_edit = QLineEdit(parent)
        self.scan_edit.setPlaceholderText(
            self.tr("扫描回执上的二维码，或输入案件编号、排队号后按回车；↑↓选择队列中的号")
        )
        self.scan_edit.setClearButtonEnabled(True)
        label.setBuddy(self.scan_edit)
        row.addWidget(label)
        row.addWidget(self.scan_edit, 1)
        self.scan_edit.returnPressed.connect(self._on_scan_entered)
        self.scan_edit.installEventFilter(self)
        return row

    def _build_queue(self, parent: QWidget) -> QGroupBox:
        group = QGroupBox(self.tr("本室队列"), parent)
        layout = QVBoxLayout(group)
        self.model = QueueTableModel(now=self._queue.now(), parent=self)
        self.view = QTableView(group)
        self.view.setModel(self.model)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        # The scan field keeps the keyboard (a scanner types at any moment); Up/Down there move this selection.
        self.view.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.view.verticalHeader().setVisible(False)
        header = self.view.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.view.setAlternatingRowColors(False)
        table_font = QFont(self.view.font())
        table_font.setPointSizeF(table_font.pointSizeF() * 1.15)
        self.view.setFont(table_font)
        self.view.verticalHeader().setDefaultSectionSize(self.view.fontMetrics().height() + 12)
        layout.addWidget(self.view, 1)
        self.view.selectionModel().selectionChanged.connect(self._on_selection_changed)
        # 预约办: today's appointments here, until the visitor arrives and is checked in (a ticket in this room)
        booked_row = QHBoxLayout()
        self.booked_label = QLabel(self.tr("今日预约（未到）"), group)
        self.booked_list = QListWidget(group)
        self.booked_list.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.booked_list.setMaximumHeight(self.booked_list.fontMetrics().height() * 4 + 12)
        self.check_in_button = QPushButton(self.tr("预约到场 (Ctrl+B)"), group)
        self.check_in_button.setAutoDefault(False)
        self.check_in_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.check_in_button.clicked.connect(self._on_check_in_clicked)
        QShortcut(QKeySequence("Ctrl+B"), self).activated.connect(self.check_in_button.animateClick)
        booked_row.addWidget(self.booked_list, 1)
        booked_row.addWidget(self.check_in_button)
        layout.addWidget(self.booked_label)
        layout.addLayout(booked_row)
        self._show_booked(())

        grid = QGridLayout()
        grid.setHorizontalSpacing(6)
        grid.setVerticalSpacing(6)
        specs: list[tuple[str, str, str | None, Callable[[], object]]] = [
            ("call_next", self.tr("叫下一位 (F5)"), "F5", self._on_call_next_clicked),
            ("recall", self.tr("重呼 (F6)"), "F6", self._on_recall_clicked),
            ("call_ticket", self.tr("指定叫号 (F7)"), "F7", self._on_call_ticket_clicked),
            ("claim", self.tr("接待 (F8)"), "F8", self._on_claim_clicked),
            ("park", self.tr("暂离 (F9)"), "F9", self._on_park_clicked),
            ("no_show", self.tr("过号 (F10)"), "F10", self._on_no_show_clicked),
            ("requeue", self.tr("重新排队 (F11)"), "F11", self._on_requeue_clicked),
            ("transfer", self.tr("转室 (F12)"), "F12", self._on_transfer_clicked),
            ("finish", self.tr("结束接待 (Ctrl+E)"), "Ctrl+E", self._on_finish_clicked),
            ("abandon", self.tr("离开 (Ctrl+L)"), "Ctrl+L", self._on_abandon_clicked),
        ]
        self.buttons: dict[str, QPushButton] = {}
        for name, text, keys, slot in specs:
            button = QPushButton(text, group)
            button.setAutoDefault(False)
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # focus stays in the scan field
            button.setMinimumHeight(button.sizeHint().height() + 8)
            button.clicked.connect(slot)
            if keys:
                shortcut = QShortcut(QKeySequence(keys), self)
                shortcut.activated.connect(button.animateClick)
            self.buttons[name] = button
        # The two a mediator presses all day are large, on a row of their own; the rest four to a row.
        big = QFont(self.buttons["call_next"].font())
        big.setPointSizeF(big.pointSizeF() * 1.25)
        big.setBold(True)
        for col, name in enumerate(("call_next", "recall")):
            self.buttons[name].setFont(big)
            self.buttons[name].setMinimumHeight(self.buttons[name].sizeHint().height() + 16)
            grid.addWidget(self.buttons[name], 0, col * 2, 1, 2)
        for i, (name, *_rest) in enumerate(specs[2:]):
            row, col = divmod(i, 4)
            grid.addWidget(self.buttons[name], row + 1, col)
        layout.addLayout(grid)
        return group

    def _build_current(self, parent: QWidget) -> QGroupBox:
        group = QGroupBox(self.tr("当前接待"), parent)
        layout = QVBoxLayout(group)
        self.current_label = QLabel(self.tr("尚未接待来访人：叫号后按“接待”，或扫描回执二维码"), group)
        self.current_label.setWordWrap(True)
        font = QFont(self.current_label.font())
        font.setPointSizeF(font.pointSizeF() * 1.2)
        font.setBold(True)
        self.current_label.setFont(font)
        layout.addWidget(self.current_label)
        self.history = CaseHistoryView(
            category_names=self._category_names, room_names=self._room_names, parent=group
        )
        if self._handling is not None:
            self.pane = HandlingPane(
                handling=self._handling,
                whistles=self._whistles,
                agreements=self._agreements,
                rooms=list(self._room_names.items()),
                parent=group,
            )
            self.pane.tabs.addTab(self.history, self.tr("登记信息"))
            self.pane.hide()
            self.pane.sig_left.connect(self._on_pane_left)
            self.pane.sig_finish_requested.connect(self._on_finish_form_submitted)
            self.pane.sig_open_case_view.connect(self.open_case_view)
            self.pane.sig_case_changed.connect(self._on_case_changed)
            layout.addWidget(self.pane, 1)
        else:
            self.history.hide()
            layout.addWidget(self.history, 1)
        layout.addStretch(0)
        return group

    def _fill_on_duty(self) -> None:
        """The room's roster (the session form's attendees); nobody is on duty until a mediator signs in."""
        stationed = self._rooms.room_mediators(self.room.code)
        self._mediators = [mediator.name for mediator, _mode in stationed]
        self.stationed = [
            self.tr("{name}（{grade}，{mode}）").format(
                name=m.name, grade=m.grade, mode=STATION_MODES.get(mode, mode)
            )
            for m, mode in stationed
        ]
        self._show_on_duty()

    # --- on duty -------------------------------------------------------------------------------

    def set_on_duty(self, principal: Principal) -> None:
        """The mediator signed in on duty here (at sign-in, or after F2): every call, claim and step from this
        terminal is theirs, and their rights (their rooms, the cases they claimed) are what it may do."""
        self._principal = principal
        self._queue.act_for(principal)
        for service in (self._handling, self._whistles):
            if service is not None:
                service.act_for(principal)
        if self.duty_switch is not None:
            self.duty_switch.set_principal(principal)
        self._show_on_duty()
        logger.info("on duty in %s changed", self.room.code)  # no names in the log

    def on_duty(self) -> str:
        """The name of the mediator on duty ("" for nobody)."""
        return self._principal.name if self._principal is not None else ""

    def _show_on_duty(self) -> None:
        name = self.on_duty()
        self.on_duty_label.setText(name or self.tr("（无）"))
        self.on_duty_hint.setVisible(not name)
        if self.pane is not None:
            self.pane.set_mediators(self._mediators, name)

    # --- refreshing ----------------------------------------------------------------------------

    def refresh(self, *, force: bool = False, restore: bool = False) -> None:
        """Reload the queue, off the UI thread, if anything happened in the hall since the last look (always with
        `force`); `sig_refreshed` says when the table shows it. A look still under way makes this one unnecessary.
        With `restore`, the visitor this terminal was receiving becomes its current case again."""
        queue, rooms, display = self._queue, self._rooms, self._display
        code, known = self.room.code, -1 if force else self._mark
        registration = self._registration if restore else None
        self.ops.run(
            lambda: _read_room(queue, rooms, display, code, known, restore_from=registration),
            key="refresh",
            name=f"room {code} refresh",
            success=self._on_read,
            unexpected=self._on_store_away,
        )

    def _on_read(self, read: _RoomRead | None) -> None:
        if self._store_down:
            self._store_down = False
            logger.info("room %s: store readable again", self.room.code)
            self.show_message(self.tr("数据库已恢复"), error=False)
        if read is None:
            self.model.set_now(self._queue.now())
            return
        self._apply(read)
        if read.serving is not None and read.serving_detail is not None:
            self._show_serving(read.serving, read.serving_detail)

    def _apply(self, read: _RoomRead) -> None:
        """Show a fresh look at the queue, keeping the selection (or the ticket acted on last)."""
        selected = self.selected_ticket()
        self.room = read.room
        self.model.set_tickets(read.tickets, now=self._queue.now())
        self._mark = read.mark
        keep = selected.id if selected is not None else self._last_ticket_id
        if keep is not None and self.model.row_of(keep) >= 0:
            self.select_ticket(keep)
        self._update_counts()
        self._show_booked(read.booked)
        self._follow_serving(read.tickets)
        self._update_buttons()
        self.sig_refreshed.emit(read.mark)

    def _show_booked(self, booked: tuple[BookedVisitor, ...]) -> None:
        """Today's appointments not yet arrived, by time; the first is selected for 预约到场."""
        self.booked = booked
        self.booked_list.clear()
        for b in booked:
            item = QListWidgetItem(f"{b.time}  {b.case_no}" + (f"  {b.note}" if b.note else ""))
            item.setData(Qt.ItemDataRole.UserRole, b.booking_id)
            self.booked_list.addItem(item)
        if booked:
            self.booked_list.setCurrentRow(0)
        self.booked_label.setText(self.tr("今日预约（未到 {n} 人）").format(n=len(booked)))
        self.check_in_button.setEnabled(bool(booked))

    def check_in_selected_booking(self) -> Op[_Acted] | None:
        """The booked visitor selected (else the earliest) has arrived: a ticket in this room, then the queue."""
        if self.booked_list.currentRow() < 0:
            self.show_message(self.tr("今天没有未到的预约"), error=True)
            return None
        booking_id = str(self.booked_list.currentItem().data(Qt.ItemDataRole.UserRole))
        queue = self._queue

        def done(x: TicketView) -> None:
            self._after(x, self.tr("预约到场：{label} 号已排入本室队列").format(label=x.label))

        return self._act("check_in", lambda: queue.check_in_booking(booking_id).ticket, done)

    def _on_check_in_clicked(self) -> None:
        self.check_in_selected_booking()

    def _on_poll(self) -> None:
        self.refresh()

    def _on_store_away(self, error: BaseException) -> None:
        # The store away for a moment must not raise the excepthook's dialog every 400 ms: a message, logged once.
        if not self._store_down:
            logger.error("room %s: cannot read the store; retrying", self.room.code, exc_info=error)
            self.show_message(self.tr("暂时无法读取数据库，正在重试……"), error=True)
        self._store_down = True

    def _update_counts(self) -> None:
        waiting = self.model.waiting_count()
        self.count_label.setText(self.tr("等候 {n} 人").format(n=waiting))
        # The rooms' settings may have renamed or moved the room meanwhile.
        self.title_label.setText(
            self.tr("{number}号{name}").format(number=self.room.number, name=self.room.name)
        )
        self.location_label.setText(self.room.location)

    def _follow_serving(self, tickets: list[TicketView]) -> None:
        if self.serving is None:
            return
        now = next((t for t in tickets if t.id == self.serving.id), None)
        if now is None or now.state != TicketState.SERVING:
            self._clear_serving()
        else:
            self.serving = now

    # --- selection -----------------------------------------------------------------------------

    def selected_ticket(self) -> TicketView | None:
        rows = self.view.selectionModel().selectedRows() if self.view.selectionModel() else []
        if not rows:
            return None
        return self.model.ticket_at(rows[0].row())

    def select_ticket(self, ticket_id: str) -> bool:
        row = self.model.row_of(ticket_id)
        if row < 0:
            return False
        self.view.selectRow(row)
        self.view.scrollTo(self.model.index(row, 0))
        return True

    def _target(self) -> TicketView | None:
        """The ticket an action applies to: the selected one, else the one this terminal acted on last."""
        chosen = self.selected_ticket()
        if chosen is not None:
            return chosen
        if self._last_ticket_id is not None:
            row = self.model.row_of(self._last_ticket_id)
            if row >= 0:
                return self.model.ticket_at(row)
        return None

    def _on_selection_changed(self, *_args: object) -> None:
        self._update_buttons()

    def _update_buttons(self) -> None:
        t = self._target()
        state = TicketState(t.state) if t is not None else None

        def allowed(step: str) -> bool:
            return state is not None and state in TRANSITIONS[step]

        # Always: with nobody waiting here, the service may take over a visitor from a busier room's queue.
        self.buttons["call_next"].setEnabled(True)
        self.buttons["recall"].setEnabled(allowed("recall"))
        self.buttons["call_ticket"].setEnabled(allowed("call"))
        self.buttons["claim"].setEnabled(allowed("claim"))
        parked = state is TicketState.PARKED
        self.buttons["park"].setText(self.tr("回到队列 (F9)") if parked else self.tr("暂离 (F9)"))
        self.buttons["park"].setEnabled(allowed("unpark") if parked else allowed("park"))
        self.buttons["no_show"].setEnabled(allowed("no_show"))
        self.buttons["requeue"].setEnabled(allowed("requeue"))
        self.buttons["transfer"].setEnabled(allowed("transfer"))
        self.buttons["finish"].setEnabled(self.serving is not None or allowed("finish"))
        self.buttons["abandon"].setEnabled(allowed("abandon"))

    # --- actions (each also callable from tests) ------------------------------------------------
    # Each runs off the UI thread and reads the queue again in the same trip; it returns the op (None when it did
    # not start). An expected refusal (someone else was faster, a rule) is the message line, via the runner.

    def _act(
        self,
        step: str,
        action: Callable[[], TicketView | None],
        done: Callable[[TicketView], object],
        *,
        detail: bool = False,
    ) -> Op[_Acted] | None:
        queue, rooms, display = self._queue, self._rooms, self._display
        registration, code = self._registration, self.room.code

        def work() -> _Acted:
            ticket = action()
            case = registration.case(ticket.case_no) if detail and ticket is not None else None
            return _Acted(ticket, _read_room(queue, rooms, display, code, -1), case)

        def succeeded(acted: _Acted) -> None:
            assert acted.read is not None
            self._apply(acted.read)
            if acted.ticket is None:
                self.show_message(self.tr("无人等候"), error=False)
                return
            if acted.detail is not None:
                self._show_serving(acted.ticket, acted.detail)
            done(acted.ticket)

        return self.ops.run(
            work,
            name=f"room {code}: {step}",
            success=succeeded,
            failure=self._on_refused,
            finished=self._on_action_finished,
        )

    def _on_refused(self, error: DeskError) -> None:
        self.refresh(force=True)
        self.ops.report(error)

    def _on_refused_message(self, message: str) -> None:
        self.show_message(message, error=True)

    def _on_action_finished(self) -> None:
        self.scan_edit.setFocus()

    def _need_target(self) -> TicketView | None:
        t = self._target()
        if t is None:
            self.show_message(self.tr("请先在队列中选择一个号"), error=True)
        return t

    def call_next(self) -> Op[_Acted] | None:
        """叫下一位: the hall display shows and announces it."""
        queue, code = self._queue, self.room.code
        return self._act(
            "call_next",
            lambda: queue.call_next(code),
            lambda t: self._after(t, self.tr("已叫 {label} 号").format(label=t.label)),
        )

    def recall(self) -> Op[_Acted] | None:
        t = self._need_target()
        if t is None:
            return None
        queue = self._queue
        return self._act(
            "recall",
            lambda: queue.recall(t.id),
            lambda x: self._after(
                x, self.tr("已重呼 {label} 号（第 {n} 次）").format(label=x.label, n=x.recalls)
            ),
        )

    def call_selected(self, reason: str) -> Op[_Acted] | None:
        """指定叫号: call the selected waiting ticket out of order; the reason is recorded."""
        t = self._need_target()
        if t is None:
            return None
        queue = self._queue
        return self._act(
            "call_ticket",
            lambda: queue.call_ticket(t.id, reason=reason),
            lambda x: self._after(x, self.tr("已指定叫 {label} 号").format(label=x.label)),
        )

    def claim_selected(self) -> Op[_Acted] | None:
        t = self._need_target()
        if t is None:
            return None
        queue = self._queue
        return self._act("claim", lambda: queue.claim(t.id), self._claimed, detail=True)

    def claim_by_scan(self, scanned: str) -> Op[_Acted] | None:
        """Claim from what the scanner typed: the receipt's status URL or token, a case number or a ticket."""
        if not scanned.strip():
            return None
        queue = self._queue
        return self._act("claim_by_scan", lambda: queue.claim_by_scan(scanned), self._claimed, detail=True)

    def park_selected(self) -> Op[_Acted] | None:
        """暂离, or 回到队列 for a parked visitor."""
        t = self._need_target()
        if t is None:
            return None
        queue = self._queue
        if t.state == TicketState.PARKED:
            return self._act(
                "unpark",
                lambda: queue.unpark(t.id),
                lambda x: self._after(x, self.tr("{label} 号回到队列").format(label=x.label)),
            )
        return self._act(
            "park",
            lambda: queue.park(t.id),
            lambda x: self._after(x, self.tr("{label} 号暂离，保留位置").format(label=x.label)),
        )

    def no_show_selected(self) -> Op[_Acted] | None:
        t = self._need_target()
        if t is None:
            return None
        queue = self._queue
        return self._act(
            "no_show",
            lambda: queue.no_show(t.id),
            lambda x: self._after(x, self.tr("{label} 号已记为过号").format(label=x.label)),
        )

    def requeue_selected(self) -> Op[_Acted] | None:
        t = self._need_target()
        if t is None:
            return None
        queue = self._queue
        return self._act(
            "requeue",
            lambda: queue.requeue(t.id),
            lambda x: self._after(x, self.tr("{label} 号重新排队").format(label=x.label)),
        )

    def transfer_selected(self, to_room: str, reason: str) -> Op[_Acted] | None:
        t = self._need_target()
        if t is None:
            return None
        queue = self._queue

        def done(x: TicketView) -> None:
            if self.serving is not None and self.serving.id == t.id:
                self._clear_serving()
            self._last_ticket_id = None
            self.show_message(
                self.tr("{old} 号已转至{room}，新号 {label}").format(
                    old=t.label, room=self._room_names.get(to_room, to_room), label=x.label
                ),
                error=False,
            )

        return self._act("transfer", lambda: queue.transfer(t.id, to_room=to_room, reason=reason), done)

    def finish_current(self) -> Op[_Acted] | None:
        """结束接待 of the visitor being received (or of the selected one being received). With the handling
        pane it asks first what happened (`FinishChoiceDialog`: 1/2/3) and returns None; `finish_with` ends it."""
        if self.pane is not None and self.serving is not None:
            self.ask_finish()
            return None
        t = self.serving
        chosen = self._target()
        if chosen is not None and chosen.state == TicketState.SERVING:
            t = chosen
        if t is None:
            self.show_message(self.tr("当前没有正在接待的来访人"), error=True)
            return None
        target, queue = t, self._queue

        def done(x: TicketView) -> None:
            if self.serving is not None and self.serving.id == x.id:
                self._clear_serving()
            self._last_ticket_id = None
            self.show_message(self.tr("{label} 号接待结束").format(label=x.label), error=False)

        return self._act("finish", lambda: queue.finish(target.id), done)

    # --- 结束接待 with the handling pane ----------------------------------------------------------------

    def ask_finish(self) -> FinishChoiceDialog | None:
        """结束接待 asks, from the keyboard, what happened: 1 another session booked, 2 an outcome, 3 a transfer."""
        pane, t = self.pane, self.serving
        if pane is None or t is None:
            return None
        file = pane.file
        if file is None or file.case_no != t.case_no:
            self.show_message(self.tr("正在读取案件，请稍候再结束接待"), error=True)
            return None
        dialog = FinishChoiceDialog(
            file,
            rooms=list(self._room_names.items()),
            today=self._queue.now().astimezone(CHINA_TZ).date(),
            parent=self,
        )
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.sig_chosen.connect(self._on_finish_chosen)
        dialog.finished.connect(self._on_finish_dialog_closed)
        self.finish_dialog = dialog
        dialog.open()
        return dialog

    def _on_finish_chosen(self, chosen: tuple[FinishChoice, Booking | None]) -> None:
        choice, booking = chosen
        pane = self.pane
        file = pane.file if pane is not None else None
        if pane is None or file is None:
            return
        recorded = {
            FinishChoice.OUTCOME: file.outcome is not None and file.state in OUTCOME_STATES,
            FinishChoice.TRANSFER: file.state == "transferred",
        }
        if choice is FinishChoice.BOOKED or recorded.get(choice, False):
            self.finish_with(choice, booking=booking)
        else:
            pane.finish_with_form(choice)

    def _on_finish_dialog_closed(self, _result: int) -> None:
        self.finish_dialog = None
        self.activateWindow()  # the keyboard comes back here: to the outcome form, or to the scan field
        if self.pane is None or self.pane.outcome_form.finishing is None:
            self.scan_edit.setFocus()

    def _on_finish_form_submitted(self, asked: tuple[FinishChoice, Outcome | None, Transfer | None]) -> None:
        choice, outcome, transfer = asked
        self.finish_with(choice, outcome=outcome, transfer=transfer)

    def finish_with(
        self,
        choice: FinishChoice,
        *,
        booking: Booking | None = None,
        outcome: Outcome | None = None,
        transfer: Transfer | None = None,
    ) -> Op[tuple[CaseFile, _RoomRead | None]] | None:
        """结束接待 with what happened (`CaseHandlingService.finish_reception`): the ticket ends, the case stays
        open (a booking, an outcome or a transfer recorded with it). A refusal is said in the pane (its form
        keeps what was typed)."""
        handling, t, pane = self._handling, self.serving, self.pane
        if handling is None or t is None or pane is None:
            self.show_message(self.tr("当前没有正在接待的来访人"), error=True)
            return None
        queue, rooms, display, code, target = self._queue, self._rooms, self._display, self.room.code, t

        def work() -> tuple[CaseFile, _RoomRead | None]:
            file = handling.finish_reception(
                target.case_no, choice, booking=booking, outcome=outcome, transfer=transfer
            )
            return file, _read_room(queue, rooms, display, code, -1)

        def done(result: tuple[CaseFile, _RoomRead | None]) -> None:
            file, read = result
            pane.end_finishing()
            if read is not None:
                self._apply(read)
            if self.serving is not None and self.serving.id == target.id:
                self._clear_serving()
            self._last_ticket_id = None
            what = {
                FinishChoice.BOOKED: self._booked_text(file),
                FinishChoice.OUTCOME: file.outcome.label if file.outcome is not None else choice.label,
                FinishChoice.TRANSFER: self.tr("已转办")
                + (f"（{file.transfer.where}）" if file.transfer is not None else ""),
            }[choice]
            self.show_message(
                self.tr("{label} 号接待结束：{what}；案件{state}").format(
                    label=target.label, what=what, state=file.state_label
                ),
                error=False,
            )
            self.scan_edit.setFocus()

        def refused(error: DeskError) -> None:
            pane.show_finish_error(error)
            self.show_message(self.tr("未结束接待：{why}").format(why=error.message), error=True)

        return self.ops.run(work, name=f"room {code}: finish reception", success=done, failure=refused)

    def _booked_text(self, file: CaseFile) -> str:
        if not file.bookings:
            return self.tr("已预约下次调解")
        b = file.bookings[-1]
        return self.tr("已预约 {m}月{d}日 {time} {room}").format(
            m=b.day.month, d=b.day.day, time=b.time, room=self._room_names.get(b.room, b.room_name)
        )

    # --- the case view -------------------------------------------------------------------------------

    def open_case_view(self) -> Op[CaseDetail] | None:
        """全部记录 (Ctrl+H): the case being received in the case view -- its timeline and the steps allowed now
        (close, follow-up, reopen, pause/resume/extend, withdraw)."""
        pane = self.pane
        if pane is None or pane.file is None:
            return None
        registration, case_no = self._registration, pane.file.case_no

        def opened(detail: CaseDetail) -> None:
            dialog = CaseHistoryDialog(
                detail,
                category_names=self._category_names,
                room_names=self._room_names,
                reload=registration.case,
                handling=self._handling,
                agreements=self._agreements,
                reveal=full_record(registration),
                parent=self,
            )
            dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            dialog.sig_case_changed.connect(self._on_case_view_changed)
            dialog.finished.connect(self._on_case_dialog_closed)
            self.case_dialog = dialog
            dialog.show()

        return self.ops.run(lambda: registration.case(case_no), name=f"case view {case_no}", success=opened)

    def _on_case_view_changed(self, file: CaseFile) -> None:
        if self.pane is not None and self.pane.file is not None and self.pane.file.case_no == file.case_no:
            self.pane.show_case(file.case_no)

    def _on_case_dialog_closed(self, _result: int) -> None:
        self.case_dialog = None
        self.scan_edit.setFocus()

    def _on_case_changed(self, _file: CaseFile) -> None:
        self._update_buttons()

    def _on_pane_left(self) -> None:
        self.scan_edit.setFocus()

    def abandon_selected(self) -> Op[_Acted] | None:
        t = self._need_target()
        if t is None:
            return None
        queue = self._queue

        def done(x: TicketView) -> None:
            self._last_ticket_id = None
            self.show_message(self.tr("{label} 号已记为离开").format(label=x.label), error=False)

        return self._act("abandon", lambda: queue.abandon(t.id), done)

    def _after(self, ticket: TicketView, message: str) -> None:
        self._last_ticket_id = ticket.id
        self.select_ticket(ticket.id)
        self._update_buttons()
        self.show_message(message, error=False)

    def _claimed(self, ticket: TicketView) -> None:
        self._last_ticket_id = ticket.id
        self.select_ticket(ticket.id)
        self._update_buttons()
        self.show_message(
            self.tr("已接待 {label} 号 · 案件 {case_no}").format(label=ticket.label, case_no=ticket.case_no),
            error=False,
        )
        self.sig_claimed.emit(ticket)

    def _show_serving(self, ticket: TicketView, detail: CaseDetail) -> None:
        self.serving = ticket
        why = priority_label(ticket.priority_reasons)
        self.current_label.setText(
            self.tr("正在接待 {label} 号 · 案件 {case_no}").format(label=ticket.label, case_no=ticket.case_no)
            + (self.tr("（优先：{why}）").format(why=why) if why else "")
        )
        self.history.show_case(detail)
        if self.pane is not None:
            if not self.pane.isVisible():  # the case being handled gets the room; the queue keeps its columns
                total = sum(self.splitter.sizes())
                self.splitter.setSizes([total * 3 // 8, total - total * 3 // 8])
            self.pane.show()
            self.pane.show_case(ticket.case_no)
        else:
            self.history.show()
        self._update_buttons()

    def _clear_serving(self) -> None:
        self.serving = None
        self.current_label.setText(self.tr("尚未接待来访人：叫号后按“接待”，或扫描回执二维码"))
        if self.pane is not None:
            self.pane.clear_case()
            self.pane.hide()
        else:
            self.history.hide()

    # --- the message line ----------------------------------------------------------------------

    def show_message(self, text: str, *, error: bool) -> None:
        self.message_label.setStyleSheet(f"color: {ERROR_COLOUR if error else OK_COLOUR}; font-weight: bold;")
        self.message_label.setText(text)
        self.sig_message.emit(text, error)

    # --- slots -----------------------------------------------------------------------------------

    def _on_scan_entered(self) -> None:
        text = self.scan_edit.text()
        self.scan_edit.clear()
        self.claim_by_scan(text)

    def _on_call_next_clicked(self) -> None:
        self.call_next()

    def _on_recall_clicked(self) -> None:
        self.recall()

    def _on_call_ticket_clicked(self) -> None:
        t = self._need_target()
        if t is None:
            return
        reason, ok = QInputDialog.getText(
            self, self.tr("指定叫号"), self.tr("不按顺序叫 {label} 号的理由：").format(label=t.label)
        )
        if ok:
            self.call_selected(reason)
        self.scan_edit.setFocus()

    def _on_claim_clicked(self) -> None:
        self.claim_selected()

    def _on_park_clicked(self) -> None:
        self.park_selected()

    def _on_no_show_clicked(self) -> None:
        self.no_show_selected()

    def _on_requeue_clicked(self) -> None:
        self.requeue_selected()

    def _on_transfer_clicked(self) -> None:
        t = self._need_target()
        if t is None:
            return
        rooms, code = self._rooms, self.room.code

        def ask(rooms: list[RoomView]) -> None:
            choices = [r for r in rooms if r.is_open and r.code != code and r.categories]
            choice = TransferDialog.ask(self, choices, t.label)
            if choice is not None:
                self.transfer_selected(*choice)
            self.scan_edit.setFocus()

        self.ops.run(rooms.rooms, name=f"room {code}: rooms for a transfer", success=ask)

    def _on_finish_clicked(self) -> None:
        self.finish_current()

    def _on_abandon_clicked(self) -> None:
        self.abandon_selected()

    # --- Qt ----------------------------------------------------------------------------------------

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        if (
            watched is self.scan_edit
            and event.type() == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
            and event.key() in (Qt.Key.Key_Up, Qt.Key.Key_Down)
        ):
            n = self.model.rowCount()
            if n:
                t = self.selected_ticket()
                row = self.model.row_of(t.id) if t is not None else -1
                step = -1 if event.key() == Qt.Key.Key_Up else 1
                row = 0 if row < 0 else max(0, min(n - 1, row + step))
                self.view.selectRow(row)
                self.view.scrollTo(self.model.index(row, COL_WAITED))
            return True
        return super().eventFilter(watched, event)

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt's name
        super().showEvent(event)
        self._timer.start()
        self.scan_edit.setFocus()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt's name
        self._timer.stop()
        super().closeEvent(event)
