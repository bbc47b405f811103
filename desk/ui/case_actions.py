"""The steps a case view offers on a case, only those its state allows now: 办结, 回访, 重新调解, 期限中止 /
恢复 / 延长 and 撤回. Each asks what it needs in a small dialog (Enter takes the step, Esc leaves it); a refusal
is said there, in Chinese, and what was typed stays."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from desk.core.lifecycle import Step

if TYPE_CHECKING:
    from desk.services.handling import CaseFile, CaseHandlingService

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Field:
    """One input of a step: `kind` is text (a line), int (a number) or choice (`choices`: (value, label))."""

    name: str
    label: str
    kind: str = "text"
    placeholder: str = ""
    choices: tuple[tuple[str, str], ...] = ()
    minimum: int = 1


@dataclass(frozen=True)
class CaseAction:
    """A step of the case view: its button, its keys, what it asks, and the service call it makes."""

    key: str  # close | follow_up | reopen | pause | resume | extend | withdraw
    step: Step
    text: str
    keys: str
    fields: tuple[Field, ...]
    call: Callable[[CaseHandlingService, str, dict[str, Any]], CaseFile]
    done: str

    def allowed(self, file: CaseFile) -> bool:
        """Offered now: the state allows the step (and pause/resume as the clock stands)."""
        if not file.can(self.step):
            return False
        if self.key == "pause":
            return not file.deadline.paused and file.deadline.due_on is not None
        if self.key == "resume":
            return file.deadline.paused
        if self.key == "extend":
            return file.deadline.due_on is not None and not file.deadline.paused
        return True


HELD = (("yes", "协议已履行"), ("no", "协议未履行（重新调解）"), ("none", "无协议"))


def _follow_up(h: CaseHandlingService, case_no: str, v: dict[str, Any]) -> CaseFile:
    return h.follow_up(
        case_no,
        method=v["method"],
        agreement_held={"yes": True, "no": False}.get(v["held"]),
        satisfaction=v["satisfaction"],
        note=v["note"],
    )


ACTIONS: tuple[CaseAction, ...] = (
    CaseAction(
        "close",
        Step.CLOSE,
        "办结 (Ctrl+J)",
        "Ctrl+J",
        (Field("summary", "办结摘要", placeholder="可不填，如：协议已当场履行"),),
        lambda h, c, v: h.close(c, v["summary"]),
        "案件已办结，已安排回访",
    ),
    CaseAction(
        "follow_up",
        Step.FOLLOW_UP,
        "回访 (Ctrl+U)",
        "Ctrl+U",
        (
            Field("method", "方式", "choice", choices=(("phone", "电话回访"), ("visit", "上门回访"))),
            Field("held", "协议履行", "choice", choices=HELD),
            Field(
                "satisfaction",
                "满意度",
                "choice",
                choices=(("satisfied", "满意"), ("basically", "基本满意"), ("dissatisfied", "不满意")),
            ),
            Field("note", "备注", placeholder="可不填"),
        ),
        _follow_up,
        "回访已记录",
    ),
    CaseAction(
        "reopen",
        Step.REOPEN,
        "重新调解",
        "",
        (Field("reason", "理由", placeholder="如：被申请人未按协议清理杂物"),),
        lambda h, c, v: h.reopen(c, v["reason"]),
        "案件已重新进入调解",
    ),
    CaseAction(
        "pause",
        Step.PAUSE,
        "期限中止",
        "",
        (Field("reason", "理由", placeholder="如：等待房屋安全鉴定结论"),),
        lambda h, c, v: h.pause(c, v["reason"]),
        "办理期限已中止",
    ),
    CaseAction(
        "resume",
        Step.RESUME,
        "期限恢复",
        "",
        (),
        lambda h, c, v: h.resume(c),
        "办理期限已恢复计算",
    ),
    CaseAction(
        "extend",
        Step.EXTEND,
        "延长期限",
        "",
        (
            Field("amount", "延长", "int"),
            Field("approved_by", "批准人", placeholder="如：中心主任 王强"),
            Field("reason", "理由"),
        ),
        lambda h, c, v: h.extend(c, int(v["amount"]), v["approved_by"], v["reason"]),
        "办理期限已延长",
    ),
    CaseAction(
        "withdraw",
        Step.WITHDRAW,
        "撤回",
        "",
        (Field("reason", "理由", placeholder="如：申请人自愿撤回申请"),),
        lambda h, c, v: h.withdraw(c, v["reason"]),
        "案件已撤回",
    ),
)
ACTIONS_BY_KEY = {a.key: a for a in ACTIONS}


def allowed_actions(file: CaseFile) -> list[CaseAction]:
    return [a for a in ACTIONS if a.allowed(file)]


class StepDialog(QDialog):
    """What one step needs, for one case: Enter (or the button) asks for the step (`sig_submitted`); the dialog
    stays open until the caller says it was taken (`accept`) or refused (`show_error`: the text stays)."""

    sig_submitted = Signal(dict)
    """The inputs, by field name."""

    def __init__(
        self, action: CaseAction, case_no: str, *, unit_label: str = "", parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.action = action
        title = action.text.split(" (")[0]
        self.setWindowTitle(self.tr("{step} · 案件 {case_no}").format(step=title, case_no=case_no))
        layout = QVBoxLayout(self)
        form = QFormLayout()
        self.inputs: dict[str, QLineEdit | QComboBox | QSpinBox] = {}
        for f in action.fields:
            widget: QLineEdit | QComboBox | QSpinBox
            if f.kind == "choice":
                combo = QComboBox(self)
                for value, label in f.choices:
                    combo.addItem(label, value)
                widget = combo
            elif f.kind == "int":
                spin = QSpinBox(self)
                spin.setRange(f.minimum, 366)
                if unit_label:
                    spin.setSuffix(f" {unit_label}")
                widget = spin
            else:
                edit = QLineEdit(self)
                edit.setPlaceholderText(f.placeholder)
                widget = edit
            self.inputs[f.name] = widget
            form.addRow(f.label, widget)
        if not action.fields:
            layout.addWidget(QLabel(self.tr("确认{step}？按回车确认，Esc 取消").format(step=title), self))
        layout.addLayout(form)
        self.message = QLabel(self)
        self.message.setWordWrap(True)
        self.message.setTextFormat(Qt.TextFormat.PlainText)
        self.message.setStyleSheet("color: #c62828;")
        layout.addWidget(self.message)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.ok_button = buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText(title)
        buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(self.tr("取消"))
        buttons.accepted.connect(self.submit)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.busy = False

    def values(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, widget in self.inputs.items():
            if isinstance(widget, QComboBox):
                out[name] = str(widget.currentData())
            elif isinstance(widget, QSpinBox):
                out[name] = widget.value()
            else:
                out[name] = widget.text().strip()
        return out

    def set_values(self, values: dict[str, Any]) -> None:
        """Fill the inputs (tests; a choice by its value)."""
        for name, value in values.items():
            widget = self.inputs[name]
            if isinstance(widget, QComboBox):
                widget.setCurrentIndex(max(0, widget.findData(value)))
            elif isinstance(widget, QSpinBox):
                widget.setValue(int(value))
            else:
                widget.setText(str(value))

    def submit(self) -> None:
        if self.busy:  # Enter pressed twice takes the step once
            return
        self.busy = True
        self.message.clear()
        self.sig_submitted.emit(self.values())

    def show_error(self, text: str) -> None:
        self.busy = False
        self.message.setText(text)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt's name
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.submit()
            return
        super().keyPressEvent(event)
