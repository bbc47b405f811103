"""Field widgets and checks every data-entry form shares: the message line under a field, and checking one field
with the same core functions the services use."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget

from desk.core.cases import parse_narrative
from desk.core.parties import parse_address, parse_id_number, parse_org_name, parse_person_name, parse_phone
from desk.errors import ValidationError

logger = logging.getLogger(__name__)

ERROR_COLOUR = "#c62828"
WARNING_COLOUR = "#b45309"
DONE_COLOUR = "#2e7d32"


# --- checking one field as the clerk leaves it ------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    """What a field check says: the normalised text if accepted, else an error; warnings never block."""

    value: str | None = None
    error: str = ""
    warning: str = ""


def check_field(field: str, raw: str, *, today: dt.date, organisation: bool = False) -> Verdict:
    """Check one field with the same core functions registration uses. An empty field says nothing here:
    whether it is required is for the whole visit to decide, on submit."""
    if not raw.strip():
        return Verdict()
    try:
        if field == "name":
            return Verdict(parse_org_name(raw) if organisation else parse_person_name(raw))
        if field == "id_number":
            idn = parse_id_number(raw, today=today)
            return Verdict(idn.value, warning="；".join(idn.warnings))
        if field == "phone":
            return Verdict(parse_phone(raw).value)
        if field == "address":
            return Verdict(parse_address(raw))
        if field == "narrative":
            return Verdict(parse_narrative(raw))
    except ValidationError as e:
        return Verdict(error="；".join(p.message for p in e.problems))
    return Verdict(raw)


# --- small widgets ----------------------------------------------------------------------------------


class FieldMessage(QLabel):
    """The line under a field: a refusal in red, a warning in orange; hidden when there is nothing to say."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.level = ""
        self.setWordWrap(True)
        self.setTextFormat(Qt.TextFormat.PlainText)
        # Ignored width: a long message wraps within its field's column instead of widening the column.
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Minimum)
        self.hide()

    def show_error(self, text: str) -> None:
        self._show("error", ERROR_COLOUR, text)

    def show_warning(self, text: str) -> None:
        self._show("warning", WARNING_COLOUR, text)

    def _show(self, level: str, colour: str, text: str) -> None:
        self.level = level
        self.setStyleSheet(f"color: {colour};")
        self.setText(text)
        self.setVisible(bool(text))

    def clear_message(self) -> None:
        self.level = ""
        self.setText("")
        self.hide()


def set_point_size(widget: QWidget, size: float, *, bold: bool = False) -> None:
    font = QFont(widget.font())
    font.setPointSizeF(size)
    font.setBold(bold)
    widget.setFont(font)
