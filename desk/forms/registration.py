"""The registration form: a clerk types a walk-in visit here, keyboard first, and submits it. The form checks each
field as the clerk leaves it and shows what the service refused where it belongs; what happens to a submitted
visit (registering it, routing, the ticket, the receipt) is the intake flow's (`desk.ui.intake`)."""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QKeyEvent, QKeySequence, QShortcut
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
)
from desk.core.catalog import Category, find_categories
from desk.core.clock import CHINA_TZ, Clock, SystemClock, local_date
from desk.core.parties import PartyRole, parse_person_name
from desk.core.queue import PriorityReason
from desk.errors import FieldProblem, ValidationError
from desk.forms.fields import ERROR_COLOUR, WARNING_COLOUR, FieldMessage, Verdict, check_field, set_point_size

if TYPE_CHECKING:
    from desk.services.views import CaseSummary

logger = logging.getLogger(__name__)

KNOWN_CASES_SHOWN = 6
_PARTY_PATH = re.compile(r"^parties\[(\d+)\](?:\.(\w+))?$")
_RETURN_KEYS = (Qt.Key.Key_Return, Qt.Key.Key_Enter)
# Needs the desk declares; age (70+) comes from the ID number and high risk from the flags, in the service.
DECLARED_PRIORITIES = (PriorityReason.DISABLED, PriorityReason.PREGNANT)


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
        set_point_size(self.title, self.title.font().pointSizeF(), bold=True)
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


# --- the form ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class VisitDraft:
    """A visit as the clerk submitted it: the service's dict shape (nothing checked yet), the choice made in the
    known-person panel, the needs declared for the queue, and a one-line summary for the result banner."""

    data: dict[str, Any]
    repeat_of: str | None
    new_case: bool
    declared_priority: tuple[str, ...]
    summary: str

    @property
    def headcount(self) -> int:
        return int(self.data["headcount"])


@dataclass
class _FieldSpec:
    """How to check an editor when the clerk leaves it, and where to say what is wrong."""

    kind: str  # name, id_number, phone, address, narrative
    message: FieldMessage
    organisation: Callable[[], bool] = lambda: False


class RegistrationForm(QWidget):
    """A walk-in visit: applicant, further parties, category, channel, headcount, narrative, risks, needs.

    Keyboard first: Enter in a line edit or Ctrl+Enter anywhere submits, F2 adds a party, Up/Down pick the
    category while typing it. The form hands a submitted visit on (`sig_submitted`) and waits for the answer:
    `registered()` clears it for the next visitor; `refuse()` shows every problem under its field and keeps every
    character typed.
    """

    sig_submitted = Signal(object)
    """The clerk submitted the visit; carries the `VisitDraft`. Until it is answered (`registered`, `refuse`,
    `refuse_all` or `submit_ended`) a second submit is ignored."""

    sig_refused = Signal(object)
    """A submit was refused; carries the list of `FieldProblem`s (or of one form-level problem)."""

    sig_applicant_identified = Signal(object)
    """The applicant's ID number (else phone) became complete and valid, or stopped being so; carries the key
    to look the person up by, ``("id_number", value)`` or ``("phone", value)``, or None. The answer comes back
    through `show_known_cases`."""

    def __init__(
        self,
        categories: Sequence[Category],
        *,
        clock: Clock | None = None,
        parent: QWidget | None = None,
    ) -> None:
        """`categories` is the hall's category catalog (`RegistrationService.categories()`)."""
        super().__init__(parent)
        self._categories = list(categories)
        self._clock = clock or SystemClock()
        self._specs: dict[QObject, _FieldSpec] = {}
        self._known_key: tuple[str, str] | None = None
        self._submitting = False
        self.party_rows: list[PartyRow] = []
        self.category_names = {c.code: c.name for c in self._categories}

        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
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
        set_point_size(self.submit_button, self.font().pointSizeF() * 1.1, bold=True)
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
        for c in find_categories(self._categories, text):
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
        """Ask for the applicant's cases as soon as the ID number (else the phone) is complete and valid."""
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
            self._update_tab_order()
        self.sig_applicant_identified.emit(key)

    @property
    def applicant_key(self) -> tuple[str, str] | None:
        """What the applicant is looked up by now (see `sig_applicant_identified`)."""
        return self._known_key

    def show_known_cases(self, key: tuple[str, str], cases: Sequence[CaseSummary]) -> None:
        """The applicant's earlier cases, found by `key`; an answer for a key typed over meanwhile is dropped."""
        if key != self._known_key:
            return
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

    @property
    def submitting(self) -> bool:
        """A submitted visit waits for its answer."""
        return self._submitting

    def submit(self) -> VisitDraft | None:
        """Hand the visit as typed on (`sig_submitted`) and return it; None when there is nothing to submit or
        the last submit is still unanswered. Refusals of the last submit are cleared; warnings stay."""
        if self._submitting:
            return None
        if not self.has_unsaved_text():
            # A second Enter after a registration must not paint an empty form red.
            self._focus(self.name_edit)
            return None
        data = self.visit_data()
        shown = self.known_panel.isVisibleTo(self)
        draft = VisitDraft(
            data=data,
            repeat_of=self.known_panel.repeat_of() if shown else None,
            new_case=self.known_panel.new_case_box.isChecked() and shown,
            declared_priority=tuple(r.value for r, box in self.priority_boxes.items() if box.isChecked()),
            summary=self._summary(data),
        )
        self._clear_errors()
        self._submitting = True
        self.sig_submitted.emit(draft)
        return draft

    def registered(self) -> None:
        """The submitted visit was registered: empty the form for the next visitor, the cursor in the name."""
        self._submitting = False
        self.clear()
        self._focus(self.name_edit)

    def refuse(self, problems: Sequence[FieldProblem]) -> None:
        """The submitted visit was refused: every problem under its field, the first bad field focused, every
        character typed kept."""
        self._submitting = False
        logger.info("registration refused: %s", ", ".join(p.field for p in problems))
        self._show_problems(problems)
        self.sig_refused.emit(list(problems))

    def refuse_all(self, message: str) -> None:
        """The submitted visit was refused as a whole (the store, a case chosen meanwhile closed): said on the
        form's message line, everything typed kept."""
        self._submitting = False
        self.form_message.show_error(message)
        self.sig_refused.emit([FieldProblem("", message)])

    def submit_ended(self) -> None:
        """The submit came to no answer (an unexpected failure, reported elsewhere): the form takes submits again."""
        self._submitting = False

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
        """Empty every field for the next visitor."""
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
