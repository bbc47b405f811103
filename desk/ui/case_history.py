"""A dialog with one case's details: its parties (numbers masked), the narrative, and its whole event history."""

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


class CaseHistoryDialog(QDialog):
    """Read-only view of a case as the service returns it (`RegistrationService.case`)."""

    def __init__(
        self, detail: CaseDetail, *, category_names: Mapping[str, str] | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.detail = detail
        names = dict(category_names or {})
        self.setWindowTitle(self.tr("案件 {case_no} 的全部记录").format(case_no=detail.case_no))
        self.resize(860, 640)

        layout = QVBoxLayout(self)
        heading = QLabel(self.tr("{case_no}　{state}").format(case_no=detail.case_no, state=state_label(detail.state)))
        font = QFont(heading.font())
        font.setPointSizeF(font.pointSizeF() * 1.5)
        font.setBold(True)
        heading.setFont(font)
        layout.addWidget(heading)

        facts = QGridLayout()
        facts.setHorizontalSpacing(12)
        pairs = [
            (self.tr("纠纷类别"), names.get(detail.category_code, detail.category_code)),
            (self.tr("来源渠道"), channel_label(detail.channel)),
            (self.tr("登记时间"), china_time(detail.registered_at)),
            (self.tr("办理期限"), china_time(detail.deadline_at)),
            (self.tr("来访人数"), str(detail.headcount)),
            (self.tr("重复访"), self.tr("{n} 次").format(n=detail.repeat_visits)),
            (self.tr("风险标记"), risk_labels(detail.risk_flags) or self.tr("无")),
        ]
        for i, (name, value) in enumerate(pairs):
            row, col = divmod(i, 2)
            caption = QLabel(name, self)
            caption.setStyleSheet("color: #555;")
            facts.addWidget(caption, row, col * 2)
            facts.addWidget(QLabel(value, self), row, col * 2 + 1)
        facts.setColumnStretch(1, 1)
        facts.setColumnStretch(3, 1)
        layout.addLayout(facts)

        layout.addWidget(QLabel(self.tr("当事人")))
        self.party_model = PartyTableModel(detail.parties, parent=self)
        self.party_view = _table(self.party_model, self)
        shown = min(max(len(detail.parties), 1), 4)
        self.party_view.setFixedHeight(self.party_view.horizontalHeader().sizeHint().height()
                                       + self.party_view.verticalHeader().defaultSectionSize() * shown
                                       + 2 * self.party_view.frameWidth())
        layout.addWidget(self.party_view)

        layout.addWidget(QLabel(self.tr("纠纷事由")))
        self.narrative = QPlainTextEdit(detail.narrative, self)
        self.narrative.setReadOnly(True)
        self.narrative.setMaximumHeight(self.narrative.fontMetrics().height() * 4 + 12)
        layout.addWidget(self.narrative)

        layout.addWidget(QLabel(self.tr("办理经过")))
        self.event_model = CaseEventTableModel(detail.events, category_names=names, parent=self)
        self.event_view = _table(self.event_model, self)
        layout.addWidget(self.event_view, 1)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.button(QDialogButtonBox.StandardButton.Close).setText(self.tr("关闭"))
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
