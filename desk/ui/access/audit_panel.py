"""The supervisor's view of the audit log: who looked at or changed what, when and where; searched by person, case
number, kind and date, and exported to CSV."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path
from typing import Any

from PySide6.QtCore import QDate, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDateEdit,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from desk.core.audit import AuditAction
from desk.core.clock import CHINA_TZ, Clock, SystemClock
from desk.forms.fields import FieldMessage
from desk.ui.access.api import AuditApi, AuditRow
from desk.ui.models.access_tables import AuditTableModel
from desk.ui.ops import Op, OpRunner

logger = logging.getLogger(__name__)

LIMIT = 500
DEFAULT_DAYS = 7  # the search opens on the last week


def _day(day: QDate) -> dt.date:
    return dt.date(day.year(), day.month(), day.day())


class AuditPanel(QWidget):
    """Filters above, the entries below (newest first, at most `LIMIT`), and 导出 CSV. Dates are China time, both
    ends included."""

    sig_searched = Signal(int)
    """A search came back; carries how many entries it shows."""

    sig_exported = Signal(int)
    """An export was written; carries how many entries it holds."""

    def __init__(self, audit: AuditApi, *, clock: Clock | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._audit = audit
        self._clock = clock or SystemClock()
        today = self._clock.now().astimezone(CHINA_TZ).date()

        self.person_edit = QLineEdit(self)
        self.person_edit.setPlaceholderText(self.tr("用户名"))
        self.case_edit = QLineEdit(self)
        self.case_edit.setPlaceholderText(self.tr("如 620702001-2026-000123"))
        self.action_combo = QComboBox(self)
        self.action_combo.addItem(self.tr("全部"), None)
        for a in AuditAction:
            self.action_combo.addItem(a.label, a.value)  # Qt keeps a str subclass as a plain str
        self.since_edit = QDateEdit(self)
        self.until_edit = QDateEdit(self)
        for edit in (self.since_edit, self.until_edit):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("yyyy-MM-dd")
        self.until_edit.setDate(QDate(today.year, today.month, today.day))
        self.since_edit.setDate(self.until_edit.date().addDays(-(DEFAULT_DAYS - 1)))
        self.search_button = QPushButton(self.tr("查询 (Enter)"), self)
        self.export_button = QPushButton(self.tr("导出 CSV…"), self)
        for button in (self.search_button, self.export_button):
            button.setAutoDefault(False)

        filters = QHBoxLayout()
        for label, widget, stretch in (
            (self.tr("人员"), self.person_edit, 2),
            (self.tr("案件编号"), self.case_edit, 3),
            (self.tr("操作"), self.action_combo, 0),
            (self.tr("从"), self.since_edit, 0),
            (self.tr("至"), self.until_edit, 0),
        ):
            caption = QLabel(label, self)
            caption.setBuddy(widget)
            filters.addWidget(caption)
            filters.addWidget(widget, stretch)
            filters.addSpacing(8)
        filters.addWidget(self.search_button)
        filters.addWidget(self.export_button)

        self.model = AuditTableModel(parent=self)
        self.table = QTableView(self)
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setWordWrap(False)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(AuditTableModel.DETAIL, QHeaderView.ResizeMode.Stretch)
        self.count_label = QLabel(self)
        self.message = FieldMessage(self)

        layout = QVBoxLayout(self)
        layout.addLayout(filters)
        layout.addWidget(self.message)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.count_label)

        self.search_button.clicked.connect(self.search)
        self.export_button.clicked.connect(self._on_export_clicked)
        for line in (self.person_edit, self.case_edit):
            line.returnPressed.connect(self.search)
        self.ops = OpRunner(self, report=self.message.show_error)
        self._searched = False

    # --- filters -------------------------------------------------------------------------------

    def filters(self) -> dict[str, Any] | None:
        """The search's keywords as `AuditService.search` takes them; None (and the message shown) when the
        dates are the wrong way round."""
        since, until = self.since_edit.date(), self.until_edit.date()
        if since > until:
            self.message.show_error(self.tr("开始日期晚于结束日期"))
            return None
        action = self.action_combo.currentData()
        return {
            "login": self.person_edit.text().strip() or None,
            "case_no": self.case_edit.text().strip().upper() or None,
            "since": _day(since),  # China-time days, both included (as AuditService takes them)
            "until": _day(until),
            "action": AuditAction(action) if action else None,
        }

    # --- search --------------------------------------------------------------------------------

    def search(self) -> Op[list[AuditRow]] | None:
        keywords = self.filters()
        if keywords is None:
            return None
        self.message.clear_message()
        audit = self._audit
        return self.ops.run(
            lambda: list(audit.search(**keywords, limit=LIMIT)),
            name="audit_search",
            success=self._show,
            progress_text=self.tr("正在查询审计日志…"),
        )

    def _show(self, entries: list[AuditRow]) -> None:
        self.model.set_entries(entries)
        if len(entries) >= LIMIT:
            self.count_label.setText(
                self.tr("显示最近 {n} 条；请缩小条件查看更早的记录，或导出全部").format(n=len(entries))
            )
        else:
            self.count_label.setText(self.tr("共 {n} 条").format(n=len(entries)))
        self.sig_searched.emit(len(entries))

    # --- export --------------------------------------------------------------------------------

    def export(self, path: Path) -> Op[int] | None:
        """Write every entry the filters find (no limit) to `path` as CSV."""
        keywords = self.filters()
        if keywords is None:
            return None
        audit = self._audit
        return self.ops.run(
            lambda: audit.export_csv(path, **keywords),
            name="audit_export",
            success=lambda n: self._on_exported(path, n),
            progress_text=self.tr("正在导出…"),
        )

    def _on_exported(self, path: Path, count: int) -> None:
        self.message.setStyleSheet("color: #2e7d32;")
        self.message.level = ""
        self.message.setText(self.tr("已导出 {n} 条到 {file}").format(n=count, file=path.name))
        self.message.show()
        self.sig_exported.emit(count)

    def _on_export_clicked(self) -> None:
        default = f"审计日志_{self.since_edit.date().toString('yyyyMMdd')}-{self.until_edit.date().toString('yyyyMMdd')}.csv"
        name, _filter = QFileDialog.getSaveFileName(
            self, self.tr("导出审计日志"), str(Path.home() / default), self.tr("CSV 文件 (*.csv)")
        )
        if not name:
            return
        path = Path(name)
        if path.suffix.lower() != ".csv":
            path = path.with_suffix(".csv")
        self.export(path)

    def showEvent(self, event: Any) -> None:  # noqa: N802 - Qt's name
        super().showEvent(event)
        if not self._searched:  # the first look opens on the last week
            self._searched = True
            self.search()
