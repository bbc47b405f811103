"""上级分流 at the hall: the cases the county diverted here, each with its whole history, routed to a room with the
same proposal / confirm / override step as a walk-in; a routed case leaves the list."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import (
    QEvent,
    QItemSelection,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QKeyEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from desk.core.events import Diverted
from desk.errors import DeskError
from desk.ui.case_history import CaseHistoryView
from desk.ui.intake.routing import RoutingPanel, override_rooms, room_title
from desk.ui.models.case_table import CaseEventTableModel
from desk.ui.models.diverted_table import DivertedTableModel
from desk.ui.ops import Op, OpRunner

if TYPE_CHECKING:
    from desk.core.routing import Proposal
    from desk.services.queue import DivertedCase, IssuedTicket, QueueService, RoomView
    from desk.services.registration import RegistrationService
    from desk.services.rooms import RoomsService
    from desk.services.views import CaseDetail
    from desk.ui.printing import CaseReceipts

logger = logging.getLogger(__name__)

_Index = QModelIndex | QPersistentModelIndex


@dataclass(frozen=True)
class _ListRead:
    """The diverted cases waiting here (read on a worker), and the rooms when they are still to be named."""

    cases: list[DivertedCase]
    rooms: list[RoomView] | None


DONE_COLOUR = "#2e7d32"
ERROR_COLOUR = "#c62828"


class _HistoryModel(CaseEventTableModel):
    """The case history, with the diversion's reason in its note (where the shared model has none)."""

    def _cell(self, item: Any, column: int) -> str:
        text = str(super()._cell(item, column))
        body = getattr(item, "body", None)
        if column == 3 and not text and isinstance(body, Diverted):
            reason = body.reason
            return self.tr("由县级分流至本中心") + (
                self.tr("，理由：{reason}").format(reason=reason) if reason else ""
            )
        return text


class DivertedCasesDialog(QDialog):
    """The hall's list of diverted cases (Up/Down to choose, the history on the right); Enter on a case moves to
    its routing step, where Enter gives the ticket to the proposed room and one click overrides; Esc in the
    routing step goes back to the list, Esc in the list closes. F9 prints the receipt of the case just routed."""

    sig_ticket_issued = Signal(object)
    """A diverted case got its ticket; carries the `IssuedTicket`."""

    sig_count_changed = Signal(int)
    """The list was read again; carries how many diverted cases wait."""

    def __init__(
        self,
        *,
        queue: QueueService,
        rooms: RoomsService,
        registration: RegistrationService,
        receipts: CaseReceipts | None = None,
        parent: QWidget | None = None,
    ) -> None:
        """`queue` lists the diverted cases, proposes a room and issues the ticket; `rooms` names the rooms;
        `registration` gives the categories and each case's history."""
        super().__init__(parent)
        self._queue = queue
        self._rooms = rooms
        self._registration = registration
        self._receipts = receipts
        self._category_names = {c.code: c.name for c in registration.categories()}
        self._current: CaseDetail | None = None
        self._wanted: str | None = None  # the case whose history is being read
        self._rooms_named = False
        self.last_issued: IssuedTicket | None = None
        self.ops = OpRunner(self, report=self._say_error)
        self.setWindowTitle(self.tr("上级分流案件"))
        screen = self.screen()
        avail = screen.availableGeometry() if screen is not None else None
        self.resize(
            min(1280, avail.width()) if avail else 1280, min(860, avail.height() - 40) if avail else 860
        )

        # The list and the chosen case's history side by side; the routing step below, full width (its room
        # buttons need it).
        layout = QVBoxLayout(self)
        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        left = QWidget(splitter)
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        self.count_label = QLabel(left)
        bold = self.count_label.font()
        bold.setBold(True)
        self.count_label.setFont(bold)
        left_layout.addWidget(self.count_label)
        self.model = DivertedTableModel(parent=self)
        self.view = QTableView(left)
        self.view.setModel(self.model)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.verticalHeader().setVisible(False)
        header = self.view.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(DivertedTableModel.REASON, QHeaderView.ResizeMode.Stretch)
        self.view.setWordWrap(False)
        self.view.setTextElideMode(Qt.TextElideMode.ElideRight)
        left_layout.addWidget(self.view, 1)
        self.hint = QLabel(self.tr("↑↓ 选择案件，回车进入分派；Esc 关闭"), left)
        self.hint.setStyleSheet("color: #555;")
        left_layout.addWidget(self.hint)

        self.history = CaseHistoryView(category_names=self._category_names, parent=splitter)
        # The history says why the county sent the case here. Rooms are named once the first reload read them.
        self.history.event_model = _HistoryModel(category_names=self._category_names, parent=self.history)
        self.history.event_view.setModel(self.history.event_model)
        # The routing step below takes its height: the narrative gets three lines (it scrolls), the history the rest.
        fm = self.history.narrative.fontMetrics()
        self.history.narrative.setMaximumHeight(fm.lineSpacing() * 3 + 14)
        splitter.addWidget(left)
        splitter.addWidget(self.history)
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 1)
        splitter.setChildrenCollapsible(False)
        splitter.setSizes([560, 700])
        layout.addWidget(splitter, 1)
        self.routing = RoutingPanel(self)
        layout.addWidget(self.routing)

        bottom = QHBoxLayout()
        self.result_label = QLabel(self)
        self.result_label.setTextFormat(Qt.TextFormat.PlainText)
        self.result_label.setWordWrap(True)
        self.result_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.print_button = QPushButton(self.tr("打印回执 (F9)"), self)
        self.print_button.setAutoDefault(False)
        self.print_button.setVisible(receipts is not None)
        self.print_button.setEnabled(False)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        close = buttons.button(QDialogButtonBox.StandardButton.Close)
        close.setText(self.tr("关闭"))
        close.setAutoDefault(False)  # Enter belongs to the list and the routing step, never to "close"
        buttons.rejected.connect(self.reject)
        bottom.addWidget(self.result_label, 1)
        bottom.addWidget(self.print_button)
        bottom.addWidget(buttons)
        layout.addLayout(bottom)

        self.view.selectionModel().selectionChanged.connect(self._on_selection_changed)
        self.view.doubleClicked.connect(self._on_row_activated)
        self.view.installEventFilter(self)
        self.routing.sig_confirmed.connect(self._on_route_confirmed)
        self.routing.sig_override_requested.connect(self._on_route_overridden)
        self.routing.sig_skipped.connect(self._on_route_skipped)
        self.print_button.clicked.connect(self._on_print_requested)
        f9 = QShortcut(QKeySequence(Qt.Key.Key_F9), self)
        f9.activated.connect(self._on_print_requested)
        self.reload()

    # --- the list ---------------------------------------------------------------------------------

    def reload(self, *, select: str | None = None) -> Op[_ListRead] | None:
        """Read the list again (off the UI thread), keeping (or moving to) the selected case; `sig_count_changed`
        says how many wait once it is shown."""
        keep = select or (self._current.case_no if self._current is not None else None)
        queue, rooms, with_rooms = self._queue, self._rooms, not self._rooms_named
        return self.ops.run(
            lambda: _ListRead(queue.diverted_cases(), rooms.rooms() if with_rooms else None),
            name="diverted cases",
            success=lambda read: self._on_list_read(read, keep),
        )

    def _on_list_read(self, read: _ListRead, keep: str | None) -> None:
        if read.rooms is not None:
            self.history.event_model.set_room_names({r.code: room_title(r) for r in read.rooms})
            self._rooms_named = True
        cases = read.cases
        self.model.set_cases(cases)
        self.count_label.setText(
            self.tr("待分派的上级分流案件：{n} 件").format(n=len(cases))
            if cases
            else self.tr("没有待分派的上级分流案件")
        )
        row = self.model.row_of(keep) if keep else None
        if cases:
            self.view.selectRow(row if row is not None else 0)
        else:
            self._show_case(None)
        self.sig_count_changed.emit(len(cases))

    def select_case(self, case_no: str) -> bool:
        row = self.model.row_of(case_no)
        if row is None:
            return False
        self.view.selectRow(row)
        return True

    @property
    def current_case(self) -> str | None:
        return self._current.case_no if self._current is not None else None

    def _show_case(self, case_no: str | None) -> None:
        self._wanted = case_no
        if case_no is None:
            self._current = None
            self.history.hide()
            self.routing.hide()
            return
        registration = self._registration
        self.ops.run(lambda: registration.case(case_no), name=f"case {case_no}", success=self._on_case_read)

    def _on_case_read(self, detail: CaseDetail) -> None:
        if detail.case_no != self._wanted:  # the clerk moved on meanwhile (Up/Down)
            return
        self._current = detail
        self.history.show()
        self.history.show_case(detail)
        self.history.event_view.scrollToTop()  # a diverted case's history is short: from its registration on
        self.history.heading.setText(
            self.tr("{case_no}　上级分流 · 待分派功能室").format(case_no=detail.case_no)
        )
        self._offer_route(detail)

    def _offer_route(self, detail: CaseDetail) -> None:
        queue, rooms_service, case_no = self._queue, self._rooms, detail.case_no

        def show(read: tuple[Proposal, list[RoomView]]) -> None:
            if self._current is None or self._current.case_no != case_no:
                return
            proposal, rooms = read
            proposed = next((r for r in rooms if r.code == proposal.room_code), None)
            self.routing.show_proposal(proposal, proposed, override_rooms(rooms, proposal, detail.headcount))

        def refused(error: DeskError) -> None:
            self.routing.hide()
            self.ops.report(error)

        self.ops.run(
            lambda: (queue.propose(case_no), rooms_service.rooms()),
            name=f"route {case_no}",
            success=show,
            failure=refused,
        )

    def route_current(self) -> None:
        """Enter on a case: to its routing step (the confirm button, or the first override when none fits)."""
        if self._current is None or not self.routing.isVisible():
            return
        if self.routing.confirm_button.isVisible():
            self.routing.confirm_button.setFocus()
        else:
            first = next(iter(self.routing.override_buttons.values()), None)
            if first is not None:
                first.setFocus()

    # --- routing --------------------------------------------------------------------------------

    def issue_ticket(self, room_code: str | None = None, *, reason: str = "") -> Op[IssuedTicket] | None:
        """Give the selected case its ticket (proposed room, or `room_code` as an override); it leaves the list."""
        if self._current is None:
            return None
        queue, case_no = self._queue, self._current.case_no

        def refused(error: DeskError) -> None:
            # Kept local: said in the routing step, which stays open for another choice.
            self.routing.show_error(error.message)

        return self.ops.run(
            lambda: queue.issue_ticket(case_no, room_code=room_code, override_reason=reason),
            key="ticket",
            name=f"ticket for diverted {case_no}",
            success=self._on_ticket_issued,
            failure=refused,
        )

    def _on_ticket_issued(self, issued: IssuedTicket) -> None:
        self.last_issued = issued
        self._current = None
        self._say(
            self.tr("{case_no}：排队号 {label}，请到{room}{where}（前面 {ahead} 人）").format(
                case_no=issued.ticket.case_no,
                label=issued.ticket.label,
                room=room_title(issued.room),
                where=f"（{issued.room.location}）" if issued.room.location else "",
                ahead=issued.ahead,
            )
        )
        self.print_button.setEnabled(self._receipts is not None)
        self.reload()
        self.view.setFocus()
        self.sig_ticket_issued.emit(issued)

    def print_receipt(self) -> Op[bytes] | None:
        """F9: the receipt (with the ticket) of the case just routed, on the default printer."""
        if self._receipts is None or self.last_issued is None:
            return None
        case_no = self.last_issued.ticket.case_no
        return self._receipts.print_receipt(
            self.ops,
            case_no,
            success=lambda printer: self._say(
                self.tr("{case_no} 的回执已送到打印机“{printer}”").format(case_no=case_no, printer=printer)
            ),
            failure=lambda e: self._say(self.tr("回执未打印：{why}").format(why=e.message), error=True),
        )

    def _say_error(self, text: str) -> None:
        self._say(text, error=True)

    def _say(self, text: str, *, error: bool = False) -> None:
        self.result_label.setStyleSheet(
            f"color: {ERROR_COLOUR if error else DONE_COLOUR}; font-weight: bold;"
        )
        self.result_label.setText(text)

    # --- events ---------------------------------------------------------------------------------

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        if (
            watched is self.view
            and event.type() == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
            and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
        ):
            self.route_current()
            return True
        return super().eventFilter(watched, event)

    def _on_selection_changed(self, selected: QItemSelection, _deselected: QItemSelection) -> None:
        rows = selected.indexes()
        if rows:
            case_no = self.model.case_at(rows[0].row()).case_no
            if self._current is None or self._current.case_no != case_no:
                self._show_case(case_no)

    def _on_row_activated(self, _index: QModelIndex) -> None:
        self.route_current()

    def _on_route_confirmed(self) -> None:
        self.issue_ticket()

    def _on_route_overridden(self, room_code: str, reason: str) -> None:
        self.issue_ticket(room_code, reason=reason)

    def _on_route_skipped(self) -> None:
        self.view.setFocus()

    def _on_print_requested(self) -> None:
        self.print_receipt()
