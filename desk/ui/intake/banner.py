"""The result banner over the registration form: the case number just registered, large, with its summary and any
warnings; then the ticket next to it, the room, where it is and the wait; and the receipt's print buttons."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QSizePolicy, QVBoxLayout, QWidget

from desk.core.queue import PriorityReason, TicketState
from desk.forms.fields import DONE_COLOUR, FieldMessage, set_point_size
from desk.ui.intake.routing import room_title

if TYPE_CHECKING:
    from desk.services.queue import IssuedTicket, RoomView, TicketView
    from desk.services.registration import RegistrationResult

logger = logging.getLogger(__name__)


class ResultBanner(QFrame):
    """After a registration: the case number, large, with a one-line summary and any warnings; once the visitor
    has a ticket, the ticket next to it, as large, with the room, where it is and the expected wait."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("resultBanner")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 8, 16, 8)
        layout.setSpacing(2)
        top = QHBoxLayout()
        case_box = QVBoxLayout()
        case_box.setSpacing(2)
        self.caption = QLabel(self)
        self.caption.setWordWrap(True)
        self.case_no_label = QLabel(self)
        self.case_no_label.setObjectName("caseNumber")
        set_point_size(self.case_no_label, 28, bold=True)
        self.case_no_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        case_box.addWidget(self.caption)
        case_box.addWidget(self.case_no_label)
        self.ticket_box = QWidget(self)
        ticket_layout = QVBoxLayout(self.ticket_box)
        ticket_layout.setContentsMargins(0, 0, 0, 0)
        ticket_layout.setSpacing(2)
        self.ticket_caption = QLabel(self.tr("排队号"), self.ticket_box)
        self.ticket_label = QLabel(self.ticket_box)
        self.ticket_label.setObjectName("ticketLabel")
        set_point_size(self.ticket_label, 34, bold=True)
        self.ticket_label.setStyleSheet("color: #0d47a1;")
        self.ticket_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        ticket_layout.addWidget(self.ticket_caption)
        ticket_layout.addWidget(self.ticket_label)
        top.addLayout(case_box)
        top.addSpacing(48)
        top.addWidget(self.ticket_box, 0, Qt.AlignmentFlag.AlignBottom)
        top.addStretch(1)
        layout.addLayout(top)
        self.room_line = QLabel(self)
        self.room_line.setWordWrap(True)
        set_point_size(self.room_line, self.room_line.font().pointSizeF() * 1.3, bold=True)
        self.summary = QLabel(self)
        self.summary.setWordWrap(True)
        self.warnings = FieldMessage(self)
        for w in (self.room_line, self.summary, self.warnings):
            layout.addWidget(w)
        self.print_row = QWidget(self)
        row = QHBoxLayout(self.print_row)
        row.setContentsMargins(0, 4, 0, 0)
        self.print_button = QPushButton(self.tr("打印回执 (F9)"), self.print_row)
        self.preview_button = QPushButton(self.tr("预览 (Shift+F9)"), self.print_row)
        for b in (self.print_button, self.preview_button):
            b.setAutoDefault(False)
            b.setFocusPolicy(
                Qt.FocusPolicy.NoFocus
            )  # F9 prints; the cursor stays with the next visitor's name
            row.addWidget(b)
        self.print_message = FieldMessage(self.print_row)
        self.print_message.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        row.addWidget(self.print_message, 1)
        layout.addWidget(self.print_row)
        self.print_row.hide()
        self.clear_ticket()
        self.hide()

    def show_print_actions(self, *, enabled: bool) -> None:
        self.print_button.setEnabled(enabled)
        self.preview_button.setEnabled(enabled)
        self.print_row.show()

    def show_print_done(self, text: str) -> None:
        self.print_message.level = "done"
        self.print_message.setStyleSheet(f"color: {DONE_COLOUR};")
        self.print_message.setText(text)
        self.print_message.show()

    def show_print_error(self, text: str) -> None:
        self.print_message.show_error(text)

    def show_print_hint(self, text: str) -> None:
        self.print_message.show_warning(text)

    def show_ticket(self, issued: IssuedTicket) -> None:
        """The ticket the visitor was given: label, room and where, the wait, and why they are served first."""
        room = issued.room
        where = f" · {room.location}" if room.location else ""
        line = self.tr("请到 {room}{where} · 预计等候约 {wait} 分钟（前面 {ahead} 人）").format(
            room=room_title(room), where=where, wait=issued.estimated_wait_minutes, ahead=issued.ahead
        )
        reasons = [
            PriorityReason(r).label
            for r in issued.ticket.priority_reasons
            if r in {p.value for p in PriorityReason}
        ]
        if reasons:
            line += self.tr("；优先：{why}").format(why="、".join(reasons))
        if issued.overridden:
            line += self.tr("（前台改派）")
        self._set_ticket(issued.ticket.label, line)

    def show_held_ticket(self, ticket: TicketView, room: RoomView | None) -> None:
        """The case already holds a ticket (a repeat visit while still queued): show it instead of a new one."""
        state = (
            TicketState(ticket.state).label
            if ticket.state in {s.value for s in TicketState}
            else ticket.state
        )
        where = ticket.room_code
        if room is not None:
            where = room_title(room) + (f" · {room.location}" if room.location else "")
        self._set_ticket(
            ticket.label, self.tr("此案已有排队号，{where}，{state}").format(where=where, state=state)
        )

    def _set_ticket(self, label: str, line: str) -> None:
        self.ticket_label.setText(label)
        self.room_line.setText(line)
        self.ticket_box.show()
        self.room_line.show()

    def clear_ticket(self) -> None:
        self.ticket_label.setText("")
        self.room_line.setText("")
        self.ticket_box.hide()
        self.room_line.hide()

    def show_result(self, result: RegistrationResult, summary: str, *, chosen: bool) -> None:
        if result.is_repeat:
            self.setStyleSheet(
                "QFrame#resultBanner { background: #fff3e0; border: 2px solid #fb8c00; border-radius: 6px; }"
            )
            self.caption.setText(
                self.tr("已记为案件 {case_no} 的重复访").format(case_no=result.case_no)
                + (
                    ""
                    if chosen
                    else self.tr("（此人有同类未结案件；如是另一件纠纷，请重新登记并勾选“另立新案”）")
                )
            )
        else:
            self.setStyleSheet(
                "QFrame#resultBanner { background: #e8f5e9; border: 2px solid #43a047; border-radius: 6px; }"
            )
            self.caption.setText(self.tr("登记成功，案件编号"))
        self.case_no_label.setText(result.case_no)
        self.clear_ticket()
        self.print_message.clear_message()
        self.summary.setText(summary)
        if result.warnings:
            self.warnings.show_warning(self.tr("请核对：") + "；".join(result.warnings))
        else:
            self.warnings.clear_message()
        self.show()
