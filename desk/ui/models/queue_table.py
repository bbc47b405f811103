"""The table model of one room's queue: ticket, minutes waited since arrival, why served first, and state."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor, QFont

from desk.core.clock import CHINA_TZ
from desk.core.queue import PriorityReason, TicketState

if TYPE_CHECKING:
    from desk.services.queue import TicketView

logger = logging.getLogger(__name__)

TICKET_ROLE = Qt.ItemDataRole.UserRole + 1
"""The row's `TicketView`."""

_Index = QModelIndex | QPersistentModelIndex

COLUMNS = ("排队号", "等候", "优先", "状态", "到达", "案件编号")
COL_TICKET, COL_WAITED, COL_PRIORITY, COL_STATE, COL_ARRIVAL, COL_CASE = range(len(COLUMNS))

_STATE_COLOURS = {
    TicketState.CALLED.value: "#fff3cd",
    TicketState.SERVING.value: "#dff0d8",
    TicketState.PARKED.value: "#eeeeee",
    TicketState.NO_SHOW.value: "#f8d7da",
}
PRIORITY_COLOUR = "#b45309"


def state_label(state: str) -> str:
    try:
        return TicketState(state).label
    except ValueError:
        return state


def priority_label(reasons: Sequence[str]) -> str:
    out = []
    for r in reasons:
        try:
            out.append(PriorityReason(r).label)
        except ValueError:
            out.append(r)
    return "、".join(out)


def minutes_waited(ticket: TicketView, now: dt.datetime) -> int:
    """Whole minutes since the visitor arrived in the hall (a transfer keeps the first arrival)."""
    return max(0, int((now - ticket.arrival_at).total_seconds() // 60))


class QueueTableModel(QAbstractTableModel):
    """A room's tickets in the order the service gives them (waiting ones in serving order first).

    `now` is the moment the waiting minutes are counted against, from the caller's clock (the service's, so a
    DESK_NOW drill shows drill minutes); `set_now` moves it without reloading the rows.
    """

    def __init__(self, tickets: Sequence[TicketView] = (), *, now: dt.datetime, parent: Any = None) -> None:
        super().__init__(parent)
        self._rows: list[TicketView] = list(tickets)
        self._now = now

    # --- Qt's interface -------------------------------------------------------------------------

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Horizontal:
            return self.tr(COLUMNS[section]) if 0 <= section < len(COLUMNS) else None
        return section + 1

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        t = self._rows[index.row()]
        col = index.column()
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return self._cell(t, col)
        if role == TICKET_ROLE:
            return t
        if role == Qt.ItemDataRole.BackgroundRole:
            colour = _STATE_COLOURS.get(t.state)
            return QBrush(QColor(colour)) if colour else None
        if role == Qt.ItemDataRole.ForegroundRole and col == COL_PRIORITY and t.priority_reasons:
            return QBrush(QColor(PRIORITY_COLOUR))
        if role == Qt.ItemDataRole.FontRole and col == COL_TICKET:
            font = QFont()
            font.setBold(True)
            return font
        if role == Qt.ItemDataRole.TextAlignmentRole and col == COL_WAITED:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def _cell(self, t: TicketView, col: int) -> str:
        if col == COL_TICKET:
            return t.label
        if col == COL_WAITED:
            if t.state == TicketState.SERVING:
                return ""  # received: no longer waiting
            return self.tr("{n} 分钟").format(n=minutes_waited(t, self._now))
        if col == COL_PRIORITY:
            return priority_label(t.priority_reasons)
        if col == COL_STATE:
            label = state_label(t.state)
            if t.state == TicketState.CALLED and t.recalls:
                label += self.tr("（重呼{n}次）").format(n=t.recalls)
            return label
        if col == COL_ARRIVAL:
            return t.arrival_at.astimezone(CHINA_TZ).strftime("%H:%M")
        if col == COL_CASE:
            return t.case_no
        return ""

    # --- the desk's interface -------------------------------------------------------------------

    def set_tickets(self, tickets: Sequence[TicketView], *, now: dt.datetime | None = None) -> None:
        self.beginResetModel()
        self._rows = list(tickets)
        if now is not None:
            self._now = now
        self.endResetModel()

    def set_now(self, now: dt.datetime) -> None:
        """Recount the waiting minutes; only that column is repainted, and only when a minute has passed."""
        before = [minutes_waited(t, self._now) for t in self._rows]
        self._now = now
        if before != [minutes_waited(t, now) for t in self._rows]:
            self.dataChanged.emit(self.index(0, COL_WAITED), self.index(len(self._rows) - 1, COL_WAITED))

    def ticket_at(self, row: int) -> TicketView:
        return self._rows[row]

    def row_of(self, ticket_id: str) -> int:
        """The row of a ticket, or -1 when it is not (or no longer) in the queue."""
        return next((i for i, t in enumerate(self._rows) if t.id == ticket_id), -1)

    def tickets(self) -> list[TicketView]:
        return list(self._rows)

    def waiting_count(self) -> int:
        return sum(1 for t in self._rows if t.state == TicketState.WAITING)
