"""上级分流 at the county: send a case down to one of the county's halls, which routes it to a room. Opened after
a registration at the county (for the case just registered) or from the menu for any case by its number."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desk.core.clock import CHINA_TZ
from desk.errors import DeskError
from desk.ui.ops import Op, OpRunner

if TYPE_CHECKING:
    from desk.services.county import CountyService, Diversion, HallEntry

logger = logging.getLogger(__name__)

ERROR_COLOUR = "#c62828"
HALL_CODE_ROLE = Qt.ItemDataRole.UserRole + 1


def hall_line(hall: HallEntry) -> str:
    """ "620702001  东街街道综治中心 · 最近上传 11-27 10:12": the code first, so typing digits finds a hall."""
    if hall.last_push_at is not None:
        line = _tr("{code}  {name} · 最近上传 {time}").format(
            code=hall.code, name=hall.name, time=f"{hall.last_push_at.astimezone(CHINA_TZ):%m-%d %H:%M}"
        )
    else:
        line = _tr("{code}  {name} · 尚未上传记录").format(code=hall.code, name=hall.name)
    return line + (_tr(" · {n} 条同步告警").format(n=hall.alerts) if hall.alerts else "")


def _tr(text: str) -> str:
    return QCoreApplication.translate("desk.ui.county.divert_dialog", text)


class DivertDialog(QDialog):
    """Choose the hall (Up/Down, or type its code), give a reason if any, Enter diverts, Esc cancels. A refusal
    (unknown case, already diverted there) is said in the dialog, which stays open."""

    sig_diverted = Signal(object)
    """The case was diverted; carries the `Diversion`."""

    sig_halls_shown = Signal(int)
    """The county's halls were read and listed; carries how many."""

    def __init__(
        self, county: CountyService, *, case_no: str = "", summary: str = "", parent: QWidget | None = None
    ) -> None:
        """With `case_no` the dialog diverts that case (just registered); without, the supervisor types one."""
        super().__init__(parent)
        self._county = county
        self.diversion: Diversion | None = None
        self.setWindowTitle(self.tr("上级分流"))
        self.setMinimumWidth(560)
        layout = QVBoxLayout(self)

        intro = QLabel(self.tr("将案件分流至下级综治中心，由该中心分派功能室办理："), self)
        layout.addWidget(intro)
        form = QFormLayout()
        self.case_edit = QLineEdit(case_no, self)
        self.case_edit.setPlaceholderText(self.tr("案件编号，如 620702-2026-000123"))
        self.case_label = QLabel(self)
        self.case_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        if case_no:
            self.case_edit.hide()
            bold = self.case_label.font()
            bold.setBold(True)
            self.case_label.setFont(bold)
            self.case_label.setText(f"{case_no}　{summary}".strip())
            form.addRow(self.tr("案件"), self.case_label)
        else:
            self.case_label.hide()
            form.addRow(self.tr("案件编号"), self.case_edit)
        self.hall_list = QListWidget(self)
        self.hall_list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        form.addRow(self.tr("分流至"), self.hall_list)
        self.reason_edit = QLineEdit(self)
        self.reason_edit.setPlaceholderText(self.tr("分流理由（可选），如：纠纷发生地属该中心辖区"))
        self.reason_edit.setMaxLength(200)
        form.addRow(self.tr("分流理由"), self.reason_edit)
        layout.addLayout(form)

        self.message = QLabel(self)
        self.message.setWordWrap(True)
        self.message.setTextFormat(Qt.TextFormat.PlainText)
        self.message.setStyleSheet(f"color: {ERROR_COLOUR};")
        self.message.hide()
        layout.addWidget(self.message)

        self.buttons = QDialogButtonBox(self)
        self.divert_button = self.buttons.addButton(
            self.tr("分流 (Enter)"), QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.cancel_button = self.buttons.addButton(
            self.tr("取消 (Esc)"), QDialogButtonBox.ButtonRole.RejectRole
        )
        self.divert_button.setDefault(True)
        self.cancel_button.setAutoDefault(False)
        self.buttons.accepted.connect(self._on_divert_requested)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)

        self.halls: list[HallEntry] = []
        self.ops = OpRunner(self, report=self._say)
        self.divert_button.setEnabled(False)  # until the halls are read
        self.ops.run(
            county.halls, name="county halls", success=self._show_halls, failure=self._on_halls_failed
        )
        first = self.hall_list if case_no else self.case_edit
        first.setFocus()

    def _on_halls_failed(self, error: DeskError) -> None:
        self.ops.report(error)
        self.divert_button.setEnabled(False)

    def _show_halls(self, halls: list[HallEntry]) -> None:
        self.halls = halls
        for h in self.halls:
            item = QListWidgetItem(hall_line(h), self.hall_list)
            item.setData(HALL_CODE_ROLE, h.code)
        rows = max(1, min(len(self.halls), 8))
        self.hall_list.setFixedHeight(
            self.hall_list.sizeHintForRow(0) * rows + 2 * self.hall_list.frameWidth() + 4
            if self.halls
            else self.hall_list.fontMetrics().height() * 2
        )
        if self.halls:
            self.hall_list.setCurrentRow(0)
            self.divert_button.setEnabled(True)
        else:
            self._say(self.tr("尚无下级综治中心在县级库登记：各中心首次同步后即可向其分流"))
        layout = self.layout()
        if layout is not None:  # the list came after the dialog was laid out: fit it again
            layout.activate()
        self.adjustSize()
        self.sig_halls_shown.emit(len(self.halls))

    def select_hall(self, code: str) -> bool:
        """Make `code` the chosen hall; False if it is not in the list."""
        for row in range(self.hall_list.count()):
            item = self.hall_list.item(row)
            if item is not None and item.data(HALL_CODE_ROLE) == code:
                self.hall_list.setCurrentRow(row)
                return True
        return False

    def chosen_hall(self) -> str | None:
        item = self.hall_list.currentItem()
        return None if item is None else str(item.data(HALL_CODE_ROLE))

    def divert(self) -> Op[Diversion] | None:
        """Divert the case to the chosen hall (off the UI thread); on success the dialog closes (accepted), else it
        says why. None when the case or the hall is still to be given."""
        case_no = self.case_edit.text().strip()
        hall = self.chosen_hall()
        if not case_no:
            self._say(self.tr("请输入案件编号"))
            self.case_edit.setFocus()
            return None
        if hall is None:
            self._say(self.tr("请选择要分流至的综治中心"))
            self.hall_list.setFocus()
            return None
        county, reason = self._county, self.reason_edit.text()
        return self.ops.run(
            lambda: county.divert(case_no, to_hall=hall, reason=reason),
            key="divert",
            name=f"divert {case_no}",
            success=self._on_diverted,
        )

    def _on_diverted(self, diversion: Diversion) -> None:
        self.diversion = diversion
        self.sig_diverted.emit(diversion)
        self.accept()

    def _say(self, text: str) -> None:
        """The dialog's one message line: what is missing, and a refusal (unknown case, already diverted there)."""
        self.message.setText(text)
        self.message.show()

    def _on_divert_requested(self) -> None:
        self.divert()
