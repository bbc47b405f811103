"""The registration form: a clerk types a walk-in visit here, keyboard first, and gets a case number back."""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QFont, QKeyEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from desk.core.cases import (
    CHANNEL_LABELS,
    GROUP_VISIT_HEADCOUNT,
    HEADCOUNT_MAX,
    MANUAL_RISK_FLAGS,
    NARRATIVE_MAX,
    RISK_LABELS,
    CaseState,
    Channel,
    RiskFlag,
    parse_narrative,
)
from desk.core.clock import CHINA_TZ, Clock, SystemClock, local_date
from desk.core.parties import (
    PartyRole,
    parse_address,
    parse_id_number,
    parse_org_name,
    parse_person_name,
    parse_phone,
)
from desk.core.queue import PriorityReason, TicketState
from desk.errors import DeskError, FieldProblem, ValidationError
from desk.forms.routing import RoutingPanel, override_rooms, room_title

if TYPE_CHECKING:
    from desk.core.routing import Proposal
    from desk.services.hall import HallService, IssuedTicket, RoomView, TicketView
    from desk.services.registration import RegistrationResult, RegistrationService
    from desk.store.repositories import CaseSummary

logger = logging.getLogger(__name__)

ERROR_COLOUR = "#c62828"
WARNING_COLOUR = "#b45309"
DONE_COLOUR = "#2e7d32"
KNOWN_CASES_SHOWN = 6
_PARTY_PATH = re.compile(r"^parties\[(\d+)\](?:\.(\w+))?$")
_RETURN_KEYS = (Qt.Key.Key_Return, Qt.Key.Key_Enter)
# Needs the desk declares; age (70+) comes from the ID number and high risk from the flags, in the service.
DECLARED_PRIORITIES = (PriorityReason.DISABLED, PriorityReason.PREGNANT)
_HOLDING_STATES = (TicketState.WAITING, TicketState.CALLED, TicketState.PARKED)


class ReceiptPrinting(Protocol):
    """How the form prints a case's receipt (`desk.ui.printing.CaseReceipts` above this layer). Both record the
    print as an event of the case; failures are `DeskError`s with a message for the clerk."""

    def print_receipt(self, case_no: str, *, reprint: bool = False) -> str:
        """Print on the default printer without a dialog; returns the printer's name."""
        ...

    def preview_receipt(
        self, case_no: str, *, reprint: bool = False, parent: QWidget | None = None
    ) -> QWidget:
        """Open the print preview (not blocking) and return it."""
        ...


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


def _set_point_size(widget: QWidget, size: float, *, bold: bool = False) -> None:
    font = QFont(widget.font())
    font.setPointSizeF(size)
    font.setBold(bold)
    widget.setFont(font)


ROLE_CHOICES = (PartyRole.APPLICANT, PartyRole.RESPONDENT, PartyRole.OTHER)


class PartyRow(QFrame):
    """One further party: role, organisation or person, name, ID number, phone, address, and a remove button."""

    sig_remove_requested = Signal(object)
    """The clerk pressed this row's remove button; carries the row."""

    FIELDS = ("role", "name", "id_number", "phone", "address")

    def __init__(self, *, role: PartyRole = PartyRole.RESPONDENT, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("partyRow")
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 2, 0, 2)
        grid.setHorizontalSpacing(8)
        grid.setVerticalSpacing(2)

        self.role_combo = QComboBox(self)
        for r in ROLE_CHOICES:
            self.role_combo.addItem(self.tr(r.label), r.value)
        self.role_combo.setCurrentIndex(ROLE_CHOICES.index(role))
        self.role_combo.setAccessibleName(self.tr("当事人身份"))
        self.org_box = QCheckBox(self.tr("单位"), self)
        self.org_box.setToolTip(self.tr("当事人是单位（公司、物业、村委会等）"))
        self.name_edit = QLineEdit(self)
        self.name_edit.setPlaceholderText(self.tr("姓名或单位名称"))
        self.id_edit = QLineEdit(self)
        self.id_edit.setPlaceholderText(self.tr("身份证号"))
        self.phone_edit = QLineEdit(self)
        self.phone_edit.setPlaceholderText(self.tr("联系电话"))
        self.address_edit = QLineEdit(self)
        self.address_edit.setPlaceholderText(self.tr("住址"))
        self.remove_button = QPushButton(self.tr("删除"), self)
        self.remove_button.setToolTip(self.tr("删除这名当事人"))
        self.remove_button.setAutoDefault(False)
        for w, label in (
            (self.name_edit, "姓名"),
            (self.id_edit, "身份证号"),
            (self.phone_edit, "联系电话"),
            (self.address_edit, "住址"),
        ):
            w.setAccessibleName(self.tr(label))

        self.messages = {f: FieldMessage(self) for f in self.FIELDS}
        columns: list[tuple[QWidget, str | None]] = [
            (self.role_combo, "role"),
            (self.org_box, None),
            (self.name_edit, "name"),
            (self.id_edit, "id_number"),
            (self.phone_edit, "phone"),
            (self.address_edit, "address"),
            (self.remove_button, None),
        ]
        widths = party_column_widths(self.fontMetrics().horizontalAdvance("0"))
        for col, (widget, field) in enumerate(columns):
            if col < len(widths):
                widget.setFixedWidth(widths[col])
            grid.addWidget(widget, 0, col)
            if field:
                grid.addWidget(self.messages[field], 1, col)
        grid.setColumnStretch(5, 1)

        self.org_box.toggled.connect(self._on_org_toggled)
        self.remove_button.clicked.connect(self._on_remove_clicked)

    def editors(self) -> dict[str, QWidget]:
        return {
            "role": self.role_combo,
            "name": self.name_edit,
            "id_number": self.id_edit,
            "phone": self.phone_edit,
            "address": self.address_edit,
        }

    def focus_chain(self) -> list[QWidget]:
        return [
            self.role_combo,
            self.org_box,
            self.name_edit,
            self.id_edit,
            self.phone_edit,
            self.address_edit,
            self.remove_button,
        ]

    def line_edits(self) -> list[QLineEdit]:
        return [self.name_edit, self.id_edit, self.phone_edit, self.address_edit]

    def data(self) -> dict[str, object]:
        return {
            "role": self.role_combo.currentData(),
            "is_organisation": self.org_box.isChecked(),
            "name": self.name_edit.text(),
            "id_number": "" if self.org_box.isChecked() else self.id_edit.text(),
            "phone": self.phone_edit.text(),
            "address": self.address_edit.text(),
        }

    def has_text(self) -> bool:
        return any(e.text().strip() for e in self.line_edits())

    def _on_org_toggled(self, checked: bool) -> None:
        # An organisation has no resident ID number; the field stays, disabled, so columns keep their place.
        self.id_edit.setEnabled(not checked)
        if checked:
            self.id_edit.clear()
            self.messages["id_number"].clear_message()

    def _on_remove_clicked(self) -> None:
        self.sig_remove_requested.emit(self)


def party_column_widths(digit: int) -> list[int]:
    """Fixed widths of the party rows' first columns (role, organisation, name, ID, phone), shared with their
    header so the columns line up; the address takes what is left."""
    return [digit * 11, digit * 9, digit * 19, digit * 20, digit * 14]


class KnownPersonPanel(QFrame):
    """ "此人已有 N 件案件": the applicant's earlier cases, with a choice to record this visit on an open one."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("knownPerson")
        self.setStyleSheet(
            "QFrame#knownPerson { background: #fff8e1; border: 1px solid #f0c36d; border-radius: 4px; }"
        )
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 6, 10, 6)
        layout.setSpacing(4)
        self.title = QLabel(self)
        _set_point_size(self.title, self.title.font().pointSizeF(), bold=True)
        layout.addWidget(self.title)
        self._rows = QWidget(self)
        self._grid = QGridLayout(self._rows)
        self._grid.setContentsMargins(0, 0, 0, 0)
        self._grid.setHorizontalSpacing(16)
        self._grid.setVerticalSpacing(2)
        layout.addWidget(self._rows)
        self.more_label = QLabel(self)
        self.more_label.hide()
        layout.addWidget(self.more_label)
        bottom = QHBoxLayout()
        self.new_case_box = QCheckBox(self.tr("另立新案"), self)
        self.new_case_box.setToolTip(self.tr("此次来访是另一件纠纷：即使有同类未结案件，也登记为新案件"))
        self.hint = QLabel(self.tr("未作选择时，同类未结案件自动记为重复访"), self)
        self.hint.setStyleSheet("color: #6b5b2e;")
        bottom.addWidget(self.new_case_box)
        bottom.addSpacing(16)
        bottom.addWidget(self.hint, 1)
        layout.addLayout(bottom)
        self.message = FieldMessage(self)
        layout.addWidget(self.message)
        self.repeat_boxes: dict[str, QCheckBox] = {}
        self.cases: list[CaseSummary] = []
        self.new_case_box.toggled.connect(self._on_new_case_toggled)
        self.hide()

    def show_cases(self, cases: Sequence[CaseSummary], *, category_names: dict[str, str]) -> None:
        """Show the person's cases, open ones first (they are the ones a visit can be recorded on)."""
        self.reset()
        if not cases:
            return
        self.cases = list(cases)
        ordered = sorted(cases, key=lambda c: not _is_open(c.state))  # stable: newest first within each group
        self.title.setText(self.tr("此人已有 {n} 件案件").format(n=len(cases)))
        for row, c in enumerate(ordered[:KNOWN_CASES_SHOWN]):
            cells = (
                c.case_no,
                f"{c.registered_at.astimezone(CHINA_TZ):%Y-%m-%d}",
                category_names.get(c.category_code, c.category_code),
                _state_label(c.state),
            )
            for col, text in enumerate(cells):
                label = QLabel(text, self._rows)
                label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
                self._grid.addWidget(label, row, col)
            if _is_open(c.state):
                box = QCheckBox(self.tr("记为此案重复访"), self._rows)
                box.toggled.connect(lambda checked, no=c.case_no: self._on_repeat_toggled(no, checked))
                self.repeat_boxes[c.case_no] = box
                self._grid.addWidget(box, row, 4)
        self._grid.setColumnStretch(5, 1)
        hidden = len(cases) - KNOWN_CASES_SHOWN
        if hidden > 0:
            self.more_label.setText(self.tr("另有 {n} 件较早的已结案件，可按 Ctrl+F 查找").format(n=hidden))
            self.more_label.show()
        self.hint.setVisible(bool(self.repeat_boxes))
        self.show()

    def reset(self) -> None:
        self.cases = []
        self.repeat_boxes = {}
        while self._grid.count():
            item = self._grid.takeAt(0)
            w = item.widget() if item is not None else None
            if w is not None:
                w.hide()
                w.deleteLater()
        self.new_case_box.setChecked(False)
        self.more_label.hide()
        self.message.clear_message()
        self.hide()

    def repeat_of(self) -> str | None:
        return next((no for no, box in self.repeat_boxes.items() if box.isChecked()), None)

    def focus_chain(self) -> list[QWidget]:
        return [*self.repeat_boxes.values(), self.new_case_box]

    def _on_repeat_toggled(self, case_no: str, checked: bool) -> None:
        if not checked:
            return
        for no, box in self.repeat_boxes.items():
            if no != case_no:
                box.setChecked(False)
        self.new_case_box.setChecked(False)
        self.message.clear_message()

    def _on_new_case_toggled(self, checked: bool) -> None:
        if checked:
            for box in self.repeat_boxes.values():
                box.setChecked(False)
            self.message.clear_message()


def _is_open(state: str) -> bool:
    try:
        return CaseState(state).is_open
    except ValueError:
        return False


def _state_label(state: str) -> str:
    try:
        return CaseState(state).label
    except ValueError:
        return state


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
        _set_point_size(self.case_no_label, 28, bold=True)
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
        _set_point_size(self.ticket_label, 34, bold=True)
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
        _set_point_size(self.room_line, self.room_line.font().pointSizeF() * 1.3, bold=True)
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


# --- the form ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _PendingRoute:
    """A registered case waiting for the desk to confirm or override its room."""

    case_no: str
    proposal: Proposal
    declared_priority: tuple[str, ...]


@dataclass
class _FieldSpec:
    """How to check an editor when the clerk leaves it, and where to say what is wrong."""

    kind: str  # name, id_number, phone, address, narrative
    message: FieldMessage
    organisation: Callable[[], bool] = lambda: False


class RegistrationForm(QWidget):
    """Register a walk-in visit: applicant, further parties, category, channel, headcount, narrative, risks.

    Keyboard first: Enter in a line edit or Ctrl+Enter anywhere submits, F2 adds a party, Up/Down pick
    the category while typing it, F9 prints the registered case's receipt and Shift+F9 previews it.
    A refused submit stores nothing and keeps every character typed.
    """

    sig_registered = Signal(object)
    """A visit was registered and committed; carries the `RegistrationResult`."""

    sig_refused = Signal(object)
    """A submit was refused; carries the list of `FieldProblem`s (or of one form-level problem)."""

    sig_route_proposed = Signal(object)
    """The routing proposal for the registered case is on screen, waiting for Enter or an override;
    carries the `Proposal`."""

    sig_ticket_issued = Signal(object)
    """The visitor got a ticket (proposed room or an override); carries the `IssuedTicket`."""

    sig_receipt_printed = Signal(str)
    """The registered case's receipt went to the default printer and was recorded; carries the case number."""

    sig_print_failed = Signal(str)
    """Printing the receipt failed (the case stays registered); carries the message shown."""

    def __init__(
        self,
        service: RegistrationService,
        *,
        hall: HallService | None = None,
        clock: Clock | None = None,
        receipts: ReceiptPrinting | None = None,
        parent: QWidget | None = None,
    ) -> None:
        """`receipts` prints the receipt of the case just registered; without it the form offers no printing."""
        super().__init__(parent)
        self._service = service
        self._hall = hall
        self._receipts = receipts
        self._receipt_case: str | None = None
        self._route: _PendingRoute | None = None
        self._clock = clock or SystemClock()
        self._specs: dict[QObject, _FieldSpec] = {}
        self._known_key: tuple[str, str] | None = None
        self._submitting = False
        self.party_rows: list[PartyRow] = []
        self.category_names = {c.code: c.name for c in service.categories()}

        outer = QVBoxLayout(self)
        outer.setContentsMargins(12, 10, 12, 10)
        self.banner = ResultBanner(self)
        outer.addWidget(self.banner)
        self.routing = RoutingPanel(self)
        outer.addWidget(self.routing)
        self.routing.sig_confirmed.connect(self._on_route_confirmed)
        self.routing.sig_override_requested.connect(self._on_route_overridden)
        self.routing.sig_skipped.connect(self._on_route_skipped)

        self._scroll = QScrollArea(self)
        self._scroll.setWidgetResizable(True)
        self._scroll.setFrameShape(QFrame.Shape.NoFrame)
        body = QWidget(self._scroll)
        self._body = QVBoxLayout(body)
        self._body.setContentsMargins(0, 0, 4, 0)
        self._scroll.setWidget(body)
        outer.addWidget(self._scroll, 1)

        self._build_applicant(body)
        self._build_parties(body)
        self._build_visit(body)
        self._body.addStretch(1)

        bottom = QHBoxLayout()
        self.form_message = FieldMessage(self)
        self.submit_button = QPushButton(self.tr("登记 (Ctrl+Enter)"), self)
        self.submit_button.setAutoDefault(False)
        self.submit_button.setMinimumHeight(self.submit_button.sizeHint().height() + 10)
        self.submit_button.setMinimumWidth(self.fontMetrics().horizontalAdvance("0") * 22)
        _set_point_size(self.submit_button, self.font().pointSizeF() * 1.1, bold=True)
        bottom.addWidget(self.form_message, 1)
        bottom.addWidget(self.submit_button, 0, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        outer.addLayout(bottom)
        self.submit_button.clicked.connect(self._on_submit_requested)

        for keys in ("Ctrl+Return", "Ctrl+Enter"):
            shortcut = QShortcut(QKeySequence(keys), self)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(self._on_submit_requested)
        add = QShortcut(QKeySequence(Qt.Key.Key_F2), self)
        add.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        add.activated.connect(self._on_add_party_requested)
        for keys, slot in (("F9", self._on_print_requested), ("Shift+F9", self._on_preview_requested)):
            shortcut = QShortcut(QKeySequence(keys), self)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(slot)
        self.banner.print_button.clicked.connect(self._on_print_requested)
        self.banner.preview_button.clicked.connect(self._on_preview_requested)

        self._update_category_list("")
        # Whole rows only: five of them, so a half-cut name never suggests more than is there.
        rows = max(self.category_list.sizeHintForRow(0), 1) * 5
        self.category_list.setFixedHeight(rows + 2 * self.category_list.frameWidth())
        self._update_tab_order()

    # --- building ---------------------------------------------------------------------------------

    def _line(self, parent: QWidget, kind: str, message: FieldMessage, *, placeholder: str = "") -> QLineEdit:
        edit = QLineEdit(parent)
        if placeholder:
            edit.setPlaceholderText(placeholder)
        self._watch(edit, kind, message)
        return edit

    def _watch(
        self,
        edit: QLineEdit,
        kind: str,
        message: FieldMessage,
        organisation: Callable[[], bool] | None = None,
    ) -> None:
        """Check `edit` as focus leaves it, forget the verdict as soon as it is edited, submit on Enter."""
        self._specs[edit] = _FieldSpec(kind, message, organisation or (lambda: False))
        edit.installEventFilter(self)
        edit.textEdited.connect(lambda _text, m=message: m.clear_message())
        edit.returnPressed.connect(self._on_submit_requested)

    def _build_applicant(self, body: QWidget) -> None:
        group = QGroupBox(self.tr("申请人"), body)
        grid = QGridLayout(group)
        grid.setHorizontalSpacing(8)
        grid.setVerticalSpacing(2)
        self.messages: dict[str, FieldMessage] = {
            f: FieldMessage(group) for f in ("name", "id_number", "phone", "address")
        }
        m = self.messages
        self.name_edit = self._line(group, "name", m["name"])
        self.id_edit = self._line(group, "id_number", m["id_number"], placeholder=self.tr("18位，末位可为X"))
        self.phone_edit = self._line(group, "phone", m["phone"], placeholder=self.tr("手机或带区号的座机"))
        self.address_edit = self._line(group, "address", m["address"])
        fields = [
            (self.tr("姓名"), self.name_edit, "name"),
            (self.tr("身份证号"), self.id_edit, "id_number"),
            (self.tr("联系电话"), self.phone_edit, "phone"),
        ]
        for i, (text, edit, f) in enumerate(fields):
            label = QLabel(text, group)
            label.setBuddy(edit)
            grid.addWidget(label, 0, i * 2)
            grid.addWidget(edit, 0, i * 2 + 1)
            grid.addWidget(m[f], 1, i * 2 + 1)
        label = QLabel(self.tr("住址"), group)
        label.setBuddy(self.address_edit)
        grid.addWidget(label, 2, 0)
        grid.addWidget(self.address_edit, 2, 1, 1, 5)
        grid.addWidget(m["address"], 3, 1, 1, 5)
        grid.setColumnStretch(1, 2)
        grid.setColumnStretch(3, 3)
        grid.setColumnStretch(5, 2)
        self.known_panel = KnownPersonPanel(group)
        grid.addWidget(self.known_panel, 4, 0, 1, 6)
        self.id_edit.textChanged.connect(self._on_applicant_key_changed)
        self.phone_edit.textChanged.connect(self._on_applicant_key_changed)
        self._body.addWidget(group)

    def _build_parties(self, body: QWidget) -> None:
        group = QGroupBox(self.tr("其他当事人"), body)
        layout = QVBoxLayout(group)
        layout.setSpacing(4)
        top = QHBoxLayout()
        self.parties_hint = QLabel(self.tr("被申请人、第三人等，可添加任意多名"), group)
        self.parties_hint.setStyleSheet("color: #666;")
        self.add_party_button = QPushButton(self.tr("添加当事人 (F2)"), group)
        self.add_party_button.setAutoDefault(False)
        self.add_party_button.clicked.connect(self._on_add_party_requested)
        top.addWidget(self.parties_hint)
        top.addStretch(1)
        top.addWidget(self.add_party_button)
        layout.addLayout(top)

        self._party_header = QWidget(group)
        header = QGridLayout(self._party_header)
        header.setContentsMargins(0, 0, 0, 0)
        header.setHorizontalSpacing(8)
        widths = party_column_widths(self.fontMetrics().horizontalAdvance("0"))
        for col, text in enumerate(
            (
                self.tr("身份"),
                self.tr("是否单位"),
                self.tr("姓名/名称"),
                self.tr("身份证号"),
                self.tr("联系电话"),
                self.tr("住址"),
            )
        ):
            label = QLabel(text, self._party_header)
            label.setStyleSheet("color: #555;")
            if col < len(widths):
                label.setFixedWidth(widths[col])
            header.addWidget(label, 0, col)
        # An invisible twin of the rows' remove button keeps the header's columns in step with the rows'.
        twin = QPushButton(self.tr("删除"), self._party_header)
        policy = twin.sizePolicy()
        policy.setRetainSizeWhenHidden(True)
        twin.setSizePolicy(policy)
        twin.hide()
        header.addWidget(twin, 0, 6)
        header.setColumnStretch(5, 1)
        self._party_header.hide()
        layout.addWidget(self._party_header)

        self._party_box = QVBoxLayout()
        self._party_box.setSpacing(0)
        layout.addLayout(self._party_box)
        self.parties_message = FieldMessage(group)
        layout.addWidget(self.parties_message)
        self._body.addWidget(group)

    def _build_visit(self, body: QWidget) -> None:
        group = QGroupBox(self.tr("来访信息"), body)
        grid = QGridLayout(group)
        grid.setHorizontalSpacing(8)
        grid.setVerticalSpacing(4)

        self.category_message = FieldMessage(group)
        self.category_edit = QLineEdit(group)
        self.category_edit.setPlaceholderText(self.tr("输入汉字或拼音首字母，如 ljjf；↑↓选择"))
        self.category_edit.installEventFilter(self)
        self.category_edit.textChanged.connect(self._update_category_list)
        self.category_edit.textEdited.connect(lambda _t: self.category_message.clear_message())
        self.category_edit.returnPressed.connect(self._on_submit_requested)
        self.category_list = QListWidget(group)
        # The list never takes focus: the clerk keeps typing in the line edit and moves with Up/Down.
        self.category_list.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.category_list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.category_list.itemClicked.connect(self._on_category_clicked)
        label = QLabel(self.tr("纠纷类别"), group)
        label.setBuddy(self.category_edit)
        grid.addWidget(label, 0, 0)
        grid.addWidget(self.category_edit, 0, 1)
        grid.addWidget(self.category_list, 1, 1, 3, 1)
        grid.addWidget(self.category_message, 4, 1)

        self.channel_combo = QComboBox(group)
        for channel, text in CHANNEL_LABELS.items():
            self.channel_combo.addItem(self.tr(text), channel.value)
        self.channel_message = FieldMessage(group)
        self.headcount_spin = QSpinBox(group)
        self.headcount_spin.setRange(1, HEADCOUNT_MAX)
        self.headcount_spin.setSuffix(self.tr(" 人"))
        self.headcount_spin.setFixedWidth(self.fontMetrics().horizontalAdvance("0") * 12)
        self.headcount_spin.installEventFilter(self)
        self.headcount_spin.valueChanged.connect(self._on_headcount_changed)
        self.group_hint = QLabel(self.tr("5人及以上，将标记为集体访"), group)
        self.group_hint.setStyleSheet(f"color: {WARNING_COLOUR}; font-weight: bold;")
        self.group_hint.hide()
        self.headcount_message = FieldMessage(group)

        right = QGridLayout()
        right.setHorizontalSpacing(8)
        right.setVerticalSpacing(2)
        label = QLabel(self.tr("来源渠道"), group)
        label.setBuddy(self.channel_combo)
        right.addWidget(label, 0, 0)
        right.addWidget(self.channel_combo, 0, 1, Qt.AlignmentFlag.AlignLeft)
        right.addWidget(self.channel_message, 1, 1)
        label = QLabel(self.tr("来访人数"), group)
        label.setBuddy(self.headcount_spin)
        right.addWidget(label, 2, 0)
        count_row = QHBoxLayout()
        count_row.addWidget(self.headcount_spin)
        count_row.addWidget(self.group_hint)
        count_row.addStretch(1)
        right.addLayout(count_row, 2, 1)
        right.addWidget(self.headcount_message, 3, 1)
        right.setRowStretch(4, 1)
        right.setColumnStretch(1, 1)
        grid.addLayout(right, 0, 2, 5, 2)

        self.narrative_edit = QPlainTextEdit(group)
        self.narrative_edit.setTabChangesFocus(True)
        self.narrative_edit.setPlaceholderText(self.tr("纠纷事由：时间、地点、经过、诉求（Ctrl+Enter 登记）"))
        self.narrative_edit.setMinimumHeight(self.fontMetrics().height() * 5)
        self.narrative_edit.setMaximumHeight(self.fontMetrics().height() * 10)
        self.narrative_edit.installEventFilter(self)
        self.narrative_edit.textChanged.connect(self._on_narrative_changed)
        self.narrative_counter = QLabel(group)
        self.narrative_message = FieldMessage(group)
        self._specs[self.narrative_edit] = _FieldSpec("narrative", self.narrative_message)
        label = QLabel(self.tr("纠纷事由"), group)
        label.setBuddy(self.narrative_edit)
        grid.addWidget(label, 5, 0, Qt.AlignmentFlag.AlignTop)
        grid.addWidget(self.narrative_edit, 5, 1, 1, 3)
        under = QHBoxLayout()
        under.addWidget(self.narrative_message, 1)
        under.addWidget(self.narrative_counter, 0, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
        grid.addLayout(under, 6, 1, 1, 3)

        risks = QHBoxLayout()
        self.risk_boxes: dict[RiskFlag, QCheckBox] = {}
        for flag in MANUAL_RISK_FLAGS:
            box = QCheckBox(self.tr(RISK_LABELS[flag]), group)
            self.risk_boxes[flag] = box
            risks.addWidget(box)
        risks.addStretch(1)
        self.risk_message = FieldMessage(group)
        label = QLabel(self.tr("风险标记"), group)
        grid.addWidget(label, 7, 0)
        grid.addLayout(risks, 7, 1, 1, 3)
        grid.addWidget(self.risk_message, 8, 1, 1, 3)

        needs = QHBoxLayout()
        self.priority_boxes: dict[PriorityReason, QCheckBox] = {}
        for reason in DECLARED_PRIORITIES:
            box = QCheckBox(self.tr(reason.label), group)
            self.priority_boxes[reason] = box
            needs.addWidget(box)
        hint = QLabel(self.tr("70岁以上老人按身份证号自动优先"), group)
        hint.setStyleSheet("color: #666;")
        needs.addSpacing(12)
        needs.addWidget(hint)
        needs.addStretch(1)
        label = QLabel(self.tr("优先照顾"), group)
        grid.addWidget(label, 9, 0)
        grid.addLayout(needs, 9, 1, 1, 3)
        grid.setColumnStretch(1, 3)
        grid.setColumnStretch(3, 2)
        self._body.addWidget(group)
        self._on_narrative_changed()

    # --- parties ----------------------------------------------------------------------------------

    def add_party(self, role: PartyRole = PartyRole.RESPONDENT) -> PartyRow:
        """Add a further party row and return it; the caller decides where focus goes."""
        row = PartyRow(role=role, parent=self._party_header.parentWidget())
        row.sig_remove_requested.connect(self._on_remove_party_requested)
        for field, edit in (
            ("name", row.name_edit),
            ("id_number", row.id_edit),
            ("phone", row.phone_edit),
            ("address", row.address_edit),
        ):
            self._watch(edit, field, row.messages[field], organisation=row.org_box.isChecked)
        row.role_combo.currentIndexChanged.connect(lambda _i, m=row.messages["role"]: m.clear_message())
        self.party_rows.append(row)
        self._party_box.addWidget(row)
        row.show()  # now, not when the layout gets round to it: focus and Tab need a visible row
        self._party_header.show()
        self.parties_hint.hide()
        self._update_tab_order()
        return row

    def remove_party(self, row: PartyRow) -> None:
        if row not in self.party_rows:
            return
        index = self.party_rows.index(row)
        self.party_rows.remove(row)
        for edit in row.line_edits():
            self._specs.pop(edit, None)
            edit.removeEventFilter(self)
        self._party_box.removeWidget(row)
        row.hide()
        row.deleteLater()
        if not self.party_rows:
            self._party_header.hide()
            self.parties_hint.show()
        self._update_tab_order()
        # Focus goes to the row that took this one's place, else the button that adds rows.
        if index < len(self.party_rows):
            self._focus(self.party_rows[index].name_edit)
        elif self.party_rows:
            self._focus(self.party_rows[-1].name_edit)
        else:
            self._focus(self.add_party_button)

    def _on_add_party_requested(self) -> None:
        row = self.add_party()
        self._focus(row.name_edit)

    def _on_remove_party_requested(self, row: object) -> None:
        if isinstance(row, PartyRow):
            self.remove_party(row)

    # --- category picker --------------------------------------------------------------------------

    def _update_category_list(self, text: str) -> None:
        self.category_list.clear()
        for c in self._service.find_categories(text):
            item = QListWidgetItem(c.name, self.category_list)
            item.setData(Qt.ItemDataRole.UserRole, c.name)
        if text.strip() and self.category_list.count():
            self.category_list.setCurrentRow(0)

    def selected_category(self) -> str | None:
        item = self.category_list.currentItem()
        if item is None or not item.isSelected():
            return None
        value = item.data(Qt.ItemDataRole.UserRole)
        return str(value) if value is not None else None

    def _move_category(self, step: int) -> None:
        n = self.category_list.count()
        if not n:
            return
        row = self.category_list.currentRow()
        row = (
            0
            if row < 0 or not self.category_list.currentItem().isSelected()
            else max(0, min(n - 1, row + step))
        )
        self.category_list.setCurrentRow(row)
        self.category_list.scrollToItem(self.category_list.currentItem())
        self.category_message.clear_message()

    def _on_category_clicked(self, item: QListWidgetItem) -> None:
        self.category_edit.setText(str(item.data(Qt.ItemDataRole.UserRole)))
        self.category_message.clear_message()
        self.category_edit.setFocus(Qt.FocusReason.MouseFocusReason)

    def _complete_category(self) -> None:
        """On leaving the category field: show the chosen name, or say that nothing matches."""
        text = self.category_edit.text().strip()
        if not text:
            return
        chosen = self.selected_category()
        if chosen is None:
            self.category_message.show_error(self.tr("纠纷类别“{text}”不在类别目录中").format(text=text))
        elif chosen != self.category_edit.text():
            self.category_edit.setText(chosen)

    # --- other fields -----------------------------------------------------------------------------

    def _on_headcount_changed(self, value: int) -> None:
        self.group_hint.setVisible(value >= GROUP_VISIT_HEADCOUNT)
        self.headcount_message.clear_message()

    def _on_narrative_changed(self) -> None:
        n = len(self.narrative_edit.toPlainText())  # Python counts code points: 𠮷 is one character
        self.narrative_counter.setText(f"{n}/{NARRATIVE_MAX}")
        colour = ERROR_COLOUR if n > NARRATIVE_MAX else "#666"
        self.narrative_counter.setStyleSheet(f"color: {colour};")
        if self.narrative_message.level:
            self.narrative_message.clear_message()

    def _today(self) -> dt.date:
        return local_date(self._clock.now())

    def validate_editor(self, editor: QObject) -> Verdict | None:
        """Check one editor now, as when focus leaves it; shows and returns the verdict."""
        spec = self._specs.get(editor)
        if spec is None:
            return None
        if isinstance(editor, QPlainTextEdit):
            raw = editor.toPlainText()
        elif isinstance(editor, QLineEdit):
            raw = editor.text()
        else:
            return None
        verdict = check_field(spec.kind, raw, today=self._today(), organisation=spec.organisation())
        if not raw.strip():
            return verdict  # whether it may be empty is the submit's call; keep what the submit said
        if verdict.error:
            spec.message.show_error(verdict.error)
        elif verdict.warning:
            spec.message.show_warning(verdict.warning)
        else:
            spec.message.clear_message()
        if isinstance(editor, QLineEdit) and verdict.value is not None and verdict.value != raw:
            editor.setText(verdict.value)  # 阿依古丽•买买提 → 阿依古丽·买买提, full-width digits → ASCII
        return verdict

    # --- known person -----------------------------------------------------------------------------

    def _on_applicant_key_changed(self, _text: str = "") -> None:
        """Look the applicant up as soon as the ID number (else the phone) is complete and valid."""
        key: tuple[str, str] | None = None
        id_verdict = check_field("id_number", self.id_edit.text(), today=self._today())
        if id_verdict.value:
            key = ("id_number", id_verdict.value)
        else:
            phone_verdict = check_field("phone", self.phone_edit.text(), today=self._today())
            if phone_verdict.value:
                key = ("phone", phone_verdict.value)
        if key == self._known_key:
            return
        self._known_key = key
        if key is None:
            self.known_panel.reset()
        else:
            cases = self._service.person_cases(**{key[0]: key[1]})
            self.known_panel.show_cases(cases, category_names=self.category_names)
        self._update_tab_order()

    # --- submitting -------------------------------------------------------------------------------

    def visit_data(self) -> dict[str, Any]:
        """The visit as typed, in the service's dict shape; nothing is checked here."""
        parties: list[dict[str, object]] = [
            {
                "role": PartyRole.APPLICANT.value,
                "is_organisation": False,
                "name": self.name_edit.text(),
                "id_number": self.id_edit.text(),
                "phone": self.phone_edit.text(),
                "address": self.address_edit.text(),
            }
        ]
        parties += [row.data() for row in self.party_rows]
        return {
            "category": self.selected_category() or self.category_edit.text(),
            "channel": self.channel_combo.currentData() or Channel.WALK_IN.value,
            "headcount": self.headcount_spin.value(),
            "narrative": self.narrative_edit.toPlainText(),
            "risk_flags": [flag.value for flag, box in self.risk_boxes.items() if box.isChecked()],
            "parties": parties,
        }

    def has_unsaved_text(self) -> bool:
        edits = [self.name_edit, self.id_edit, self.phone_edit, self.address_edit, self.category_edit]
        return (
            any(e.text().strip() for e in edits)
            or bool(self.narrative_edit.toPlainText().strip())
            or any(row.has_text() for row in self.party_rows)
        )

    def submit(self) -> RegistrationResult | None:
        """Register the visit as typed. On success the form is cleared for the next visitor; when refused,
        every problem is shown under its field, the first bad field gets focus, and nothing is stored."""
        if self._submitting:
            return None
        if not self.has_unsaved_text():
            # A second Enter after a registration must not paint an empty form red.
            self._focus(self.name_edit)
            return None
        self._submitting = True
        try:
            return self._submit()
        finally:
            self._submitting = False

    def _submit(self) -> RegistrationResult | None:
        data = self.visit_data()
        repeat_of = self.known_panel.repeat_of() if self.known_panel.isVisibleTo(self) else None
        new_case = self.known_panel.new_case_box.isChecked() and self.known_panel.isVisibleTo(self)
        self._clear_errors()
        try:
            result = self._service.register(data, repeat_of=repeat_of, new_case=new_case)
        except ValidationError as e:
            logger.info("registration refused: %s", ", ".join(p.field for p in e.problems))
            self._show_problems(e.problems)
            self.sig_refused.emit(list(e.problems))
            return None
        except DeskError as e:
            logger.warning("registration failed: %s", type(e).__name__)
            self.form_message.show_error(e.message)
            self.sig_refused.emit([FieldProblem("", e.message)])
            return None
        summary = self._summary(data)
        declared = tuple(r.value for r, box in self.priority_boxes.items() if box.isChecked())
        self.clear()
        self.banner.show_result(result, summary, chosen=repeat_of is not None)
        self._receipt_case = result.case_no
        self._focus(self.name_edit)
        self.sig_registered.emit(result)
        if self._hall is not None:
            self.offer_route(result.case_no, headcount=int(data["headcount"]), declared_priority=declared)
        self._update_print_actions()
        return result

    # --- routing and the ticket -------------------------------------------------------------------

    def offer_route(self, case_no: str, *, headcount: int = 1, declared_priority: Sequence[str] = ()) -> None:
        """Show where the case should go and why; Enter confirms, one click on another room overrides.
        A case that already holds a ticket (a repeat visit while still queued) keeps it."""
        assert self._hall is not None
        self._route = None
        self.routing.hide()
        try:
            held = self._held_ticket(case_no)
            if held is not None:
                self.banner.show_held_ticket(held, self._room(held.room_code))
                return
            proposal = self._hall.propose(case_no)
            rooms = self._hall.rooms()
        except DeskError as e:
            self.form_message.show_error(e.message)
            return
        proposed = next((r for r in rooms if r.code == proposal.room_code), None)
        self._route = _PendingRoute(case_no, proposal, tuple(declared_priority))
        self.routing.show_proposal(proposal, proposed, override_rooms(rooms, proposal, headcount))
        target = (
            self.routing.confirm_button
            if proposed is not None
            else next(iter(self.routing.override_buttons.values()), self.name_edit)
        )
        self._focus(target)
        self.sig_route_proposed.emit(proposal)

    def issue_ticket(self, room_code: str | None = None, *, reason: str = "") -> IssuedTicket | None:
        """Give the pending case its ticket: to the proposed room, or to `room_code` (an override, recorded)."""
        if self._hall is None or self._route is None:
            return None
        route = self._route
        try:
            issued = self._hall.issue_ticket(
                route.case_no,
                room_code=room_code,
                override_reason=reason,
                declared_priority=route.declared_priority,
            )
        except DeskError as e:
            logger.info("ticket for %s refused: %s", route.case_no, type(e).__name__)
            self.routing.show_error(e.message)
            return None
        self._route = None
        self.routing.hide()
        self.banner.show_ticket(issued)
        self._update_print_actions()
        self._focus(self.name_edit)
        self.sig_ticket_issued.emit(issued)
        return issued

    def skip_route(self) -> None:
        """No ticket now: the case stays registered; a later repeat visit offers the route again."""
        if self._route is not None:
            logger.info("no ticket for %s for now", self._route.case_no)
        self._route = None
        self.routing.hide()
        self._update_print_actions()
        self._focus(self.name_edit)

    @property
    def pending_route(self) -> Proposal | None:
        return self._route.proposal if self._route is not None else None

    def _held_ticket(self, case_no: str) -> TicketView | None:
        assert self._hall is not None
        return self._hall.active_ticket(case_no)

    def _room(self, code: str) -> RoomView | None:
        assert self._hall is not None
        return next((r for r in self._hall.rooms() if r.code == code), None)

    def _on_route_confirmed(self) -> None:
        self.issue_ticket()

    def _on_route_overridden(self, room_code: str, reason: str) -> None:
        self.issue_ticket(room_code, reason=reason)

    def _on_route_skipped(self) -> None:
        self.skip_route()

    # --- the receipt ------------------------------------------------------------------------------

    @property
    def receipt_case(self) -> str | None:
        """The case whose receipt F9 prints: the one in the banner."""
        return self._receipt_case

    def _update_print_actions(self) -> None:
        if self._receipts is None or self._receipt_case is None:
            self.banner.print_row.hide()
            return
        # While the room is still to be confirmed the receipt would lack the ticket: print after Enter or Esc.
        self.banner.show_print_actions(enabled=self._route is None)

    def _can_print(self) -> str | None:
        if self._receipts is None or self._receipt_case is None:
            return None
        if self._route is not None:
            self.banner.show_print_hint(self.tr("请先确认功能室（回车）或暂不取号（Esc），再打印回执"))
            return None
        return self._receipt_case

    def print_receipt(self) -> bool:
        """Print the banner's case's receipt on the default printer (F9). A failure is shown in the banner, the
        case stays shown and registered, and F9 tries again."""
        case_no = self._can_print()
        if case_no is None or self._receipts is None:
            return False
        try:
            printer = self._receipts.print_receipt(case_no)
        except DeskError as e:
            logger.info("receipt for %s not printed: %s", case_no, type(e).__name__)
            self.banner.show_print_error(self.tr("回执未打印：{why}").format(why=e.message))
            self.sig_print_failed.emit(e.message)
            return False
        self.banner.show_print_done(self.tr("回执已送到打印机“{printer}”").format(printer=printer))
        self.sig_receipt_printed.emit(case_no)
        return True

    def preview_receipt(self) -> QWidget | None:
        """Open the print preview of the banner's case's receipt (Shift+F9); printing from it is recorded."""
        case_no = self._can_print()
        if case_no is None or self._receipts is None:
            return None
        try:
            return self._receipts.preview_receipt(case_no, parent=self)
        except DeskError as e:
            self.banner.show_print_error(self.tr("无法预览回执：{why}").format(why=e.message))
            self.sig_print_failed.emit(e.message)
            return None

    def _on_print_requested(self) -> None:
        self.print_receipt()

    def _on_preview_requested(self) -> None:
        self.preview_receipt()

    def _summary(self, data: dict[str, Any]) -> str:
        category = self.selected_category() or str(data["category"])
        parts = [
            category,
            self.tr("申请人 {name}").format(name=_display_name(self.name_edit.text())),
            self.tr("当事人 {n} 名").format(n=len(data["parties"])),
            self.tr("来访 {n} 人").format(n=data["headcount"]),
            self.tr("{time} 登记").format(time=f"{self._clock.now().astimezone(CHINA_TZ):%H:%M}"),
        ]
        return " · ".join(parts)

    def _on_submit_requested(self) -> None:
        self.submit()

    # --- showing problems -------------------------------------------------------------------------

    def _targets(self) -> list[tuple[str, QWidget, FieldMessage]]:
        """Every field path the service may name, in the order the fields appear on screen."""
        m = self.messages
        out: list[tuple[str, QWidget, FieldMessage]] = [
            ("parties[0].name", self.name_edit, m["name"]),
            ("parties[0].id_number", self.id_edit, m["id_number"]),
            ("parties[0].phone", self.phone_edit, m["phone"]),
            ("parties[0].address", self.address_edit, m["address"]),
            ("repeat_of", self.known_panel.new_case_box, self.known_panel.message),
            ("parties", self.add_party_button, self.parties_message),
        ]
        for i, row in enumerate(self.party_rows, start=1):
            editors = row.editors()
            out += [(f"parties[{i}].{f}", editors[f], row.messages[f]) for f in PartyRow.FIELDS]
        out += [
            ("category", self.category_edit, self.category_message),
            ("channel", self.channel_combo, self.channel_message),
            ("headcount", self.headcount_spin, self.headcount_message),
            ("narrative", self.narrative_edit, self.narrative_message),
            ("risk_flags", next(iter(self.risk_boxes.values())), self.risk_message),
        ]
        return out

    def _target_for(self, path: str) -> str:
        """The target path a problem is shown at: a whole-party problem is shown at that party's name."""
        m = _PARTY_PATH.match(path)
        if m and m.group(2) is None:
            return f"parties[{m.group(1)}].name"
        if m and m.group(2) == "is_organisation":
            return f"parties[{m.group(1)}].role"
        return path

    def _show_problems(self, problems: Sequence[FieldProblem]) -> None:
        targets = self._targets()
        by_path = {path: (widget, message) for path, widget, message in targets}
        shown: dict[str, list[str]] = {}
        unplaced: list[str] = []
        for p in problems:
            path = self._target_for(p.field)
            if path in by_path:
                shown.setdefault(path, []).append(p.message)
            else:
                unplaced.append(p.message)
        for path, messages in shown.items():
            by_path[path][1].show_error("；".join(dict.fromkeys(messages)))
        n = len(shown) + len(unplaced)
        summary = self.tr("未登记：有 {n} 处需要更正，已在相应位置标红").format(n=n)
        self.form_message.show_error("；".join([summary, *unplaced]))
        first = next((w for path, w, _m in targets if path in shown), None)
        if first is not None:
            self._focus(first)

    def error_text(self, path: str) -> str:
        """The message shown at a field path (`parties[0].id_number`, `narrative`, …); "" if none."""
        for p, _w, message in self._targets():
            if p == path:
                return message.text() if message.level else ""
        return ""

    def message_level(self, path: str) -> str:
        """ "error", "warning" or "" for the message at a field path."""
        for p, _w, message in self._targets():
            if p == path:
                return message.level
        return ""

    def _clear_errors(self) -> None:
        """Forget refusals before a new submit; warnings (unknown region code) stay, they do not block."""
        for _p, _w, message in self._targets():
            if message.level == "error":
                message.clear_message()
        self.form_message.clear_message()

    # --- clearing, focus, keyboard ----------------------------------------------------------------

    def clear(self) -> None:
        """Empty every field for the next visitor; the result banner stays until the next registration."""
        for row in list(self.party_rows):
            self.party_rows.remove(row)
            for edit in row.line_edits():
                self._specs.pop(edit, None)
            self._party_box.removeWidget(row)
            row.hide()
            row.deleteLater()
        self._party_header.hide()
        self.parties_hint.show()
        for edit in (self.name_edit, self.id_edit, self.phone_edit, self.address_edit, self.category_edit):
            edit.clear()
        self.channel_combo.setCurrentIndex(0)
        self.headcount_spin.setValue(1)
        self.narrative_edit.clear()
        for box in self.risk_boxes.values():
            box.setChecked(False)
        for box in self.priority_boxes.values():
            box.setChecked(False)
        self._known_key = None
        self.known_panel.reset()
        for _p, _w, message in self._targets():
            message.clear_message()
        self.form_message.clear_message()
        self._update_tab_order()

    def new_visit(self) -> None:
        """Start over: an empty form with no banner, the cursor in the applicant's name."""
        self.clear()
        self.banner.hide()
        self.skip_route()
        self._receipt_case = None
        self.banner.print_row.hide()

    def _focus(self, widget: QWidget) -> None:
        self._scroll.ensureWidgetVisible(widget)
        widget.setFocus(Qt.FocusReason.OtherFocusReason)

    def focus_first_field(self) -> None:
        self._focus(self.name_edit)

    def _update_tab_order(self) -> None:
        """Tab follows what the eye sees, also after rows and the known-person choices come and go."""
        chain: list[QWidget] = [
            self.name_edit,
            self.id_edit,
            self.phone_edit,
            self.address_edit,
            *self.known_panel.focus_chain(),
            self.add_party_button,
        ]
        for row in self.party_rows:
            chain += row.focus_chain()
        chain += [
            self.category_edit,
            self.channel_combo,
            self.headcount_spin,
            self.narrative_edit,
            *self.risk_boxes.values(),
            *self.priority_boxes.values(),
            self.submit_button,
        ]
        for a, b in zip(chain, chain[1:], strict=False):
            QWidget.setTabOrder(a, b)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        etype = event.type()
        if etype == QEvent.Type.FocusOut:
            if watched is self.category_edit:
                self._complete_category()
            elif watched in self._specs:
                self.validate_editor(watched)
        elif etype == QEvent.Type.KeyPress and isinstance(event, QKeyEvent):
            key, mods = event.key(), event.modifiers()
            plain = mods in (Qt.KeyboardModifier.NoModifier, Qt.KeyboardModifier.KeypadModifier)
            if watched is self.category_edit and key in (Qt.Key.Key_Up, Qt.Key.Key_Down) and plain:
                self._move_category(-1 if key == Qt.Key.Key_Up else 1)
                return True
            if watched is self.headcount_spin and key in _RETURN_KEYS and plain:
                self._on_submit_requested()
                return True
        return super().eventFilter(watched, event)


def _display_name(raw: str) -> str:
    try:
        return parse_person_name(raw)
    except ValidationError:
        return raw.strip()
