"""The routing step after a registration: the proposed room with its one-line reason (为何分到此室), confirmed with
Enter, or overridden with one click on another room; the ticket that follows is shown on the result banner."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

if TYPE_CHECKING:
    from desk.core.routing import Proposal
    from desk.services.queue import QueueService, TicketView
    from desk.services.rooms import RoomsService, RoomView

logger = logging.getLogger(__name__)

OVERRIDE_COLUMNS = 4
ERROR_COLOUR = "#c62828"


@dataclass(frozen=True)
class RouteRead:
    """Where a registered case can go (read on a worker): the ticket it already holds, or the proposal; and the
    rooms, for the overrides and the banner."""

    rooms: list[RoomView]
    held: TicketView | None = None
    proposal: Proposal | None = None


@dataclass(frozen=True)
class RouteServices:
    """What routing at the desk calls: the queue (proposal, ticket) and the rooms (overrides, the banner)."""

    queue: QueueService
    rooms: RoomsService


def read_route(services: RouteServices, case_no: str) -> RouteRead:
    """The routing step's read (call it off the UI thread): the case's ticket in a queue, else the proposal."""
    held = services.queue.active_ticket(case_no)
    if held is not None:
        return RouteRead(services.rooms.rooms(), held=held)
    proposal = services.queue.propose(case_no)
    return RouteRead(services.rooms.rooms(), proposal=proposal)


def room_title(room: RoomView) -> str:
    """ "3号人民调解室", as the display and the ticket say it."""
    return f"{room.number}号{room.name}"


def override_rooms(rooms: Sequence[RoomView], proposal: Proposal, headcount: int) -> list[RoomView]:
    """The rooms the desk may send the visitor to instead: open reception rooms that hold the group, those that
    handle the category (best first, as routing ranked them) before the others. When no room holds the group,
    every open reception room (the desk decides, e.g. the largest, or two rooms in turn)."""
    reception = [r for r in rooms if r.is_open and r.categories and r.code != proposal.room_code]
    fitting = [r for r in reception if r.capacity >= headcount] or reception
    rank = {code: i for i, code in enumerate(proposal.candidates)}
    return sorted(fitting, key=lambda r: (r.code not in rank, rank.get(r.code, 0), r.number))


class RoutingPanel(QFrame):
    """Proposed room, where it is, the expected wait and why; Enter on "确认取号" confirms, one click on another
    room overrides (the optional reason goes with it), Esc leaves the case without a ticket for now."""

    sig_confirmed = Signal()
    """The desk accepted the proposed room."""

    sig_override_requested = Signal(str, str)
    """The desk chose another room; carries its code and the (optional) reason typed."""

    sig_skipped = Signal()
    """The desk gives no ticket now (the visitor is not in the hall, or will come back)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("routingPanel")
        self.setStyleSheet(
            "QFrame#routingPanel { background: #e3f2fd; border: 2px solid #1e88e5; border-radius: 6px; }"
        )
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 8, 16, 8)
        layout.setSpacing(4)
        self.caption = QLabel(self.tr("分派功能室"), self)
        self.caption.setStyleSheet("color: #1565c0; font-weight: bold;")
        layout.addWidget(self.caption)
        self.room_label = QLabel(self)
        font = QFont(self.room_label.font())
        font.setPointSizeF(font.pointSizeF() * 1.6)
        font.setBold(True)
        self.room_label.setFont(font)
        self.room_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.room_label)
        self.reason_label = QLabel(self)
        self.reason_label.setWordWrap(True)
        layout.addWidget(self.reason_label)

        actions = QHBoxLayout()
        self.confirm_button = QPushButton(self.tr("确认取号 (Enter)"), self)
        self.confirm_button.setAutoDefault(
            True
        )  # Enter on the focused button confirms, also outside a dialog
        bold = QFont(self.confirm_button.font())
        bold.setBold(True)
        self.confirm_button.setFont(bold)
        self.confirm_button.setMinimumHeight(self.confirm_button.sizeHint().height() + 8)
        self.confirm_button.setMinimumWidth(self.confirm_button.sizeHint().width() + 48)
        self.skip_button = QPushButton(self.tr("暂不取号 (Esc)"), self)
        self.skip_button.setAutoDefault(False)
        self.skip_button.setToolTip(self.tr("案件保留；之后可在“查找案件”（Ctrl+F）中选中它按 Ctrl+T 取号"))
        actions.addWidget(self.confirm_button)
        actions.addWidget(self.skip_button)
        actions.addStretch(1)
        layout.addLayout(actions)

        self.override_caption = QLabel(self.tr("或改派到（点一下即取号）："), self)
        layout.addWidget(self.override_caption)
        self._override_grid = QGridLayout()
        self._override_grid.setHorizontalSpacing(6)
        self._override_grid.setVerticalSpacing(4)
        layout.addLayout(self._override_grid)
        reason_row = QHBoxLayout()
        self.override_reason_edit = QLineEdit(self)
        self.override_reason_edit.setPlaceholderText(self.tr("改派理由（可选），如：当事人要求女调解员"))
        reason_row.addWidget(QLabel(self.tr("改派理由"), self))
        reason_row.addWidget(self.override_reason_edit, 1)
        layout.addLayout(reason_row)
        self.message = QLabel(self)
        self.message.setWordWrap(True)
        self.message.setStyleSheet(f"color: {ERROR_COLOUR};")
        self.message.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Minimum)
        self.message.hide()
        layout.addWidget(self.message)

        self.override_buttons: dict[str, QPushButton] = {}
        self.confirm_button.clicked.connect(self.sig_confirmed)
        self.skip_button.clicked.connect(self.sig_skipped)
        escape = QShortcut(QKeySequence(Qt.Key.Key_Escape), self)
        escape.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        escape.activated.connect(self.sig_skipped)
        self.hide()

    def show_proposal(
        self,
        proposal: Proposal,
        proposed: RoomView | None,
        alternatives: Sequence[RoomView],
        *,
        ahead: int | None = None,
    ) -> None:
        """Show a proposal; with no proposed room (none fits) only the override buttons remain."""
        self.message.hide()
        self.override_reason_edit.clear()
        if proposed is not None:
            where = f" · {proposed.location}" if proposed.location else ""
            wait = round(proposal.expected_wait_minutes or 0)
            queue = self.tr("前面 {n} 人").format(n=ahead if ahead is not None else proposed.waiting)
            self.room_label.setText(
                self.tr("建议：{room}{where} · 预计等候约 {wait} 分钟（{queue}）").format(
                    room=room_title(proposed), where=where, wait=wait, queue=queue
                )
            )
            self.reason_label.setText(self.tr("为何分到此室：{reason}").format(reason=proposal.reason))
            self.reason_label.setStyleSheet("")
        else:
            self.room_label.setText(self.tr("没有可自动分派的功能室"))
            self.reason_label.setText(proposal.reason)
            self.reason_label.setStyleSheet("color: #b45309; font-weight: bold;")
        self.confirm_button.setVisible(proposed is not None)
        self._fill_overrides(alternatives, set(proposal.candidates))
        self.show()

    def _fill_overrides(self, rooms: Sequence[RoomView], handling: set[str]) -> None:
        """One button per room, in two rows of groups: the rooms that handle this category, then the others."""
        while self._override_grid.count():
            item = self._override_grid.takeAt(0)
            w = item.widget() if item is not None else None
            if w is not None:
                w.hide()
                w.deleteLater()
        self.override_buttons = {}
        groups = [
            (self.tr("受理此类纠纷："), [r for r in rooms if r.code in handling]),
            (self.tr("其他功能室："), [r for r in rooms if r.code not in handling]),
        ]
        row = 0
        for caption, group in groups:
            if not group:
                continue
            label = QLabel(caption, self)
            label.setStyleSheet("color: #555;")
            self._override_grid.addWidget(label, row, 0)
            for i, r in enumerate(group):
                button = QPushButton(
                    self.tr("{room} · 等候{n}人").format(room=room_title(r), n=r.waiting), self
                )
                button.setAutoDefault(False)
                if r.code not in handling:
                    button.setToolTip(self.tr("此室通常不受理此类纠纷"))
                button.clicked.connect(lambda _checked=False, code=r.code: self._on_override_clicked(code))
                self.override_buttons[r.code] = button
                line, col = divmod(i, OVERRIDE_COLUMNS)
                self._override_grid.addWidget(button, row + line, col + 1)
            row += (len(group) - 1) // OVERRIDE_COLUMNS + 1
        for col in range(1, OVERRIDE_COLUMNS + 1):
            self._override_grid.setColumnStretch(col, 1)
        self.override_caption.setVisible(bool(rooms))

    def show_error(self, text: str) -> None:
        self.message.setText(text)
        self.message.show()

    def _on_override_clicked(self, code: str) -> None:
        self.sig_override_requested.emit(code, self.override_reason_edit.text().strip())
