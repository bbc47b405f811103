"""One case's details: its parties (numbers masked), the narrative, and its whole event history — as a panel
(the room terminal shows the claimed case in one) and as a dialog (case search opens one)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING

from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from desk.ui.models.case_table import (
    CaseEventTableModel,
    PartyTableModel,
    channel_label,
    china_time,
    risk_labels,
    state_label,
)

if TYPE_CHECKING:
    from desk.store.repositories import CaseDetail

logger = logging.getLogger(__name__)


def _table(model: PartyTableModel | CaseEventTableModel, parent: QWidget) -> QTableView:
    view = QTableView(parent)
    view.setModel(model)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.verticalHeader().setVisible(False)
    view.horizontalHeader().setStretchLastSection(True)
    view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    view.setWordWrap(False)
    return view


class CaseHistoryView(QWidget):
    """Read-only view of a case as the service returns it (`RegistrationService.case`); `show_case` replaces it."""

    def __init__(
        self, detail: CaseDetail | None = None, *, category_names: Mapping[str, str] | None = None,
        room_names: Mapping[str, str] | None = None, parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.detail: CaseDetail | None = None
        self._names = dict(category_names or {})
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.heading = QLabel(self)
        font = QFont(self.heading.font())
        font.setPointSizeF(font.pointSizeF() * 1.5)
        font.setBold(True)
        self.heading.setFont(font)
        layout.addWidget(self.heading)

        self._facts = QGridLayout()
        self._facts.setHorizontalSpacing(12)
        self._fact_values: list[QLabel] = []
        captions = [self.tr("纠纷类别"), self.tr("来源渠道"), self.tr("登记时间"), self.tr("办理期限"),
                    self.tr("来访人数"), self.tr("重复访"), self.tr("风险标记")]
        for i, name in enumerate(captions):
            row, col = divmod(i, 2)
            caption = QLabel(name, self)
            caption.setStyleSheet("color: #555;")
            value = QLabel(self)
            self._fact_values.append(value)
            self._facts.addWidget(caption, row, col * 2)
            self._facts.addWidget(value, row, col * 2 + 1)
        self._facts.setColumnStretch(1, 1)
        self._facts.setColumnStretch(3, 1)
        layout.addLayout(self._facts)

        layout.addWidget(QLabel(self.tr("当事人"), self))
        self.party_model = PartyTableModel(parent=self)
        self.party_view = _table(self.party_model, self)
        layout.addWidget(self.party_view)

        layout.addWidget(QLabel(self.tr("纠纷事由"), self))
        self.narrative = QPlainTextEdit(self)
        self.narrative.setReadOnly(True)
        self.narrative.setMaximumHeight(self.narrative.fontMetrics().height() * 4 + 12)
        layout.addWidget(self.narrative)

        layout.addWidget(QLabel(self.tr("办理经过"), self))
        self.event_model = CaseEventTableModel(category_names=self._names, room_names=room_names, parent=self)
        self.event_view = _table(self.event_model, self)
        layout.addWidget(self.event_view, 1)
        if detail is not None:
            self.show_case(detail)

    def show_case(self, detail: CaseDetail) -> None:
        self.detail = detail
        self.heading.setText(self.tr("{case_no}　{state}").format(case_no=detail.case_no,
                                                                 state=state_label(detail.state)))
        values = [
            self._names.get(detail.category_code, detail.category_code),
            channel_label(detail.channel),
            china_time(detail.registered_at),
            china_time(detail.deadline_at),
            str(detail.headcount),
            self.tr("{n} 次").format(n=detail.repeat_visits),
            risk_labels(detail.risk_flags) or self.tr("无"),
        ]
        for label, value in zip(self._fact_values, values, strict=True):
            label.setText(value)
        self.party_model.set_parties(detail.parties)
        shown = min(max(len(detail.parties), 1), 4)
        self.party_view.setFixedHeight(self.party_view.horizontalHeader().sizeHint().height()
                                       + self.party_view.verticalHeader().defaultSectionSize() * shown
                                       + 2 * self.party_view.frameWidth())
        self.narrative.setPlainText(detail.narrative)
        self.event_model.set_events(detail.events)
        self.event_view.scrollToBottom()


class CaseHistoryDialog(QDialog):
    """The case history in its own window."""

    def __init__(
        self, detail: CaseDetail, *, category_names: Mapping[str, str] | None = None,
        room_names: Mapping[str, str] | None = None, parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.detail = detail
        self.setWindowTitle(self.tr("案件 {case_no} 的全部记录").format(case_no=detail.case_no))
        self.resize(860, 640)
        layout = QVBoxLayout(self)
        self.view = CaseHistoryView(detail, category_names=category_names, room_names=room_names, parent=self)
        self.party_model = self.view.party_model
        self.event_model = self.view.event_model
        self.narrative = self.view.narrative
        layout.addWidget(self.view, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.button(QDialogButtonBox.StandardButton.Close).setText(self.tr("关闭"))
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
