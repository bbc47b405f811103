"""One case's details: its parties (numbers masked), the narrative, and its whole event history — as a panel
(the room terminal shows the claimed case in one) and as a dialog (case search opens one), from which a case left
without a ticket (暂不取号) gets one later through the desk's routing step. With the handling service, the dialog
is the case view: the full timeline (time, who, what changed), only the steps allowed now (办结, 回访, 重新调解,
期限中止/恢复/延长, 撤回) and the printed agreement."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QFont, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QSizePolicy,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from desk.core.cases import CaseState
from desk.core.permissions import Action
from desk.core.queue import TicketState
from desk.errors import DeskError
from desk.ui.case_actions import ACTIONS, ACTIONS_BY_KEY, StepDialog
from desk.ui.intake.routing import (
    RouteRead,
    RouteServices,
    RoutingPanel,
    override_rooms,
    read_route,
    room_title,
)
from desk.ui.models.case_table import (
    CaseEventTableModel,
    PartyTableModel,
    channel_label,
    china_time,
    risk_labels,
    state_label,
)
from desk.ui.models.handling_tables import TimelineTableModel
from desk.ui.ops import Op, OpRunner

if TYPE_CHECKING:
    from desk.services.handling import CaseFile, CaseHandlingService
    from desk.services.queue import IssuedTicket
    from desk.services.registration import RegistrationService
    from desk.services.views import CaseDetail
    from desk.ui.printing import CaseAgreements, CaseReceipts, PreviewDialog

logger = logging.getLogger(__name__)


def _table(model: PartyTableModel | CaseEventTableModel | TimelineTableModel, parent: QWidget) -> QTableView:
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
        self,
        detail: CaseDetail | None = None,
        *,
        category_names: Mapping[str, str] | None = None,
        room_names: Mapping[str, str] | None = None,
        parent: QWidget | None = None,
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
        captions = [
            self.tr("纠纷类别"),
            self.tr("来源渠道"),
            self.tr("登记时间"),
            self.tr("办理期限"),
            self.tr("来访人数"),
            self.tr("重复访"),
            self.tr("风险标记"),
        ]
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
        # The case file's timeline (with the handling service): what changed at each step, in causal order.
        self.timeline_model = TimelineTableModel(parent=self)
        self.timeline_view = _table(self.timeline_model, self)
        self.timeline_view.hide()
        layout.addWidget(self.timeline_view, 1)
        self.file: CaseFile | None = None
        if detail is not None:
            self.show_case(detail)

    def show_case(self, detail: CaseDetail) -> None:
        self.detail = detail
        self.heading.setText(
            self.tr("{case_no}　{state}").format(case_no=detail.case_no, state=state_label(detail.state))
        )
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
        self.party_view.setFixedHeight(
            self.party_view.horizontalHeader().sizeHint().height()
            + self.party_view.verticalHeader().defaultSectionSize() * shown
            + 2 * self.party_view.frameWidth()
        )
        self.narrative.setPlainText(detail.narrative)
        self.event_model.set_events(detail.events)
        self.event_view.scrollToBottom()
        if self.file is not None and self.file.case_no == detail.case_no:
            self.show_file(self.file)

    def show_file(self, file: CaseFile) -> None:
        """The case file's state, deadline and timeline (time, who, what, what changed) over the event list."""
        self.file = file
        self.heading.setText(
            self.tr("{case_no}　{state}").format(case_no=file.case_no, state=file.state_label)
        )
        d = file.deadline
        if d.due_on is not None:
            due = self.tr("{rule}，{y}年{m}月{d}日到期").format(
                rule=d.rule_label, y=d.due_on.year, m=d.due_on.month, d=d.due_on.day
            )
            if d.paused:
                due += self.tr("（已中止）")
            elif d.overdue:
                due += self.tr("（已超期）")
            self._fact_values[3].setText(due)
        self.timeline_model.set_entries(file.timeline)
        self.event_view.hide()
        self.timeline_view.show()
        # Once the view has its rows laid out (it may have been hidden until now): the latest step in sight.
        QTimer.singleShot(0, self.timeline_view.scrollToBottom)


TICKET_KEYS = "Ctrl+T"  # 取号 from a case's history, and from the case search's results
ROUTING_HEIGHT = 860  # the dialog's height while its routing step is shown


def full_record(registration: RegistrationService) -> Callable[[str], CaseDetail] | None:
    """The case view's "显示完整信息" for whoever may see full records (the service checks again, per case)."""
    if not registration.principal.may(Action.VIEW_FULL):
        return None
    return lambda case_no: registration.case(case_no, reveal=True)


class CaseHistoryDialog(QDialog):
    """The case history in its own window; with `receipts`, a reprint (补打) of the receipt from here, after which
    the history is read again (`reload`) and shows the print. With `route` (at a hall), 取号 (Ctrl+T) gives a case
    that has no ticket one, through the desk's routing step: Enter takes the proposed room, one click overrides,
    Esc leaves it; the history is then read again and shows 取号."""

    sig_ticket_issued = Signal(object)
    """The case got its ticket here; carries the `IssuedTicket`."""

    sig_case_changed = Signal(object)
    """A step was taken here (the case view); carries the `CaseFile` it came back with."""

    def __init__(
        self,
        detail: CaseDetail,
        *,
        category_names: Mapping[str, str] | None = None,
        room_names: Mapping[str, str] | None = None,
        receipts: CaseReceipts | None = None,
        reload: Callable[[str], CaseDetail] | None = None,
        route: RouteServices | None = None,
        handling: CaseHandlingService | None = None,
        agreements: CaseAgreements | None = None,
        reveal: Callable[[str], CaseDetail] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.detail = detail
        self._reveal = reveal
        self._handling = handling
        self._agreements = agreements
        self.file: CaseFile | None = None
        self.step_dialog: StepDialog | None = None
        self._receipts = receipts
        self._reload = reload
        self._route = route
        self._routing_case: str | None = None  # the case whose routing step is on screen
        self.last_issued: IssuedTicket | None = None
        self.ops = OpRunner(self, report=self._say_error)
        self.preview: PreviewDialog | None = None
        self.setWindowTitle(self.tr("案件 {case_no} 的全部记录").format(case_no=detail.case_no))
        self.resize(860, 640)
        layout = QVBoxLayout(self)
        self.view = CaseHistoryView(detail, category_names=category_names, room_names=room_names, parent=self)
        self.party_model = self.view.party_model
        self.event_model = self.view.event_model
        self.narrative = self.view.narrative
        layout.addWidget(self.view, 1)
        # The case view's steps: a button for each, shown only while the case's state allows it.
        actions_row = QHBoxLayout()
        self.action_buttons: dict[str, QPushButton] = {}
        for action in ACTIONS:
            button = QPushButton(self.tr(action.text), self)
            button.setAutoDefault(False)
            button.hide()
            button.clicked.connect(lambda _checked=False, key=action.key: self.take_action(key))
            if action.keys:
                keys = QShortcut(QKeySequence(action.keys), self)
                keys.activated.connect(lambda key=action.key: self.take_action(key))
            self.action_buttons[action.key] = button
            actions_row.addWidget(button)
        self.agreement_button = QPushButton(self.tr("打印协议书 (Ctrl+P)"), self)
        self.agreement_button.setAutoDefault(False)
        self.agreement_button.hide()
        self.agreement_button.clicked.connect(self._on_agreement_requested)
        if agreements is not None:
            print_keys = QShortcut(QKeySequence("Ctrl+P"), self)
            print_keys.activated.connect(self._on_agreement_requested)
        actions_row.addWidget(self.agreement_button)
        actions_row.addStretch(1)
        layout.addLayout(actions_row)
        self.routing = RoutingPanel(self)
        layout.addWidget(self.routing)
        bottom = QHBoxLayout()
        # The full record (ID number, phone, address unmasked): for a role that may see it, asked for, audited.
        self.reveal_button = QPushButton(self.tr("显示完整信息 (Ctrl+I)"), self)
        self.reveal_button.setToolTip(self.tr("显示当事人完整的身份证号、电话和住址；每次查看都记入审计日志"))
        self.reveal_button.setAutoDefault(False)
        self.reveal_button.setVisible(reveal is not None)
        self.reveal_button.clicked.connect(self.reveal_full)
        if reveal is not None:
            reveal_keys = QShortcut(QKeySequence("Ctrl+I"), self)
            reveal_keys.activated.connect(self.reveal_full)
        bottom.addWidget(self.reveal_button)
        self.ticket_button = QPushButton(self.tr("取号… (Ctrl+T)"), self)
        self.ticket_button.setToolTip(self.tr("为尚无排队号的案件分派功能室并取号（如登记时选了暂不取号）"))
        self.ticket_button.setAutoDefault(False)
        bottom.addWidget(self.ticket_button)
        self.reprint_button = QPushButton(self.tr("补打回执"), self)
        self.reprint_button.setToolTip(self.tr("在默认打印机上补打回执（回执上注明“补打”）"))
        self.preview_button = QPushButton(self.tr("预览补打…"), self)
        self.print_message = QLabel(self)
        self.print_message.setWordWrap(True)
        self.print_message.setTextFormat(Qt.TextFormat.PlainText)
        self.print_message.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        for b in (self.reprint_button, self.preview_button):
            b.setAutoDefault(False)
            b.setVisible(receipts is not None)
            bottom.addWidget(b)
        bottom.addWidget(self.print_message, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.button(QDialogButtonBox.StandardButton.Close).setText(self.tr("关闭"))
        buttons.rejected.connect(self.reject)
        bottom.addWidget(buttons)
        layout.addLayout(bottom)
        self.reprint_button.clicked.connect(self._on_reprint_requested)
        self.preview_button.clicked.connect(self._on_preview_requested)
        if receipts is not None:
            receipts.sig_printed.connect(self._on_printed)
        self.ticket_button.clicked.connect(self._on_ticket_requested)
        ticket_keys = QShortcut(QKeySequence(TICKET_KEYS), self)
        ticket_keys.activated.connect(self._on_ticket_requested)
        self.routing.sig_confirmed.connect(self._on_route_confirmed)
        self.routing.sig_override_requested.connect(self._on_route_overridden)
        self.routing.sig_skipped.connect(self._on_route_skipped)
        self._update_ticket_button()
        if handling is not None:
            self.resize(1000, 680)
            self.read_file()

    # --- the full record ----------------------------------------------------------------------------------

    def reveal_full(self, *, confirm: bool = True) -> Op[CaseDetail] | None:
        """Show the parties unmasked: after a confirmation that the look is recorded, read (off the UI thread)
        the full record -- the service checks the right and writes the audit entry -- and show it."""
        reveal = self._reveal
        if reveal is None or self.party_model.revealed:
            return None
        if confirm:
            answer = QMessageBox.question(
                self,
                self.tr("显示完整信息"),
                self.tr(
                    "将显示当事人完整的身份证号、电话和住址，并记入审计日志（查看人、时间、终端）。继续吗？"
                ),
            )
            if answer != QMessageBox.StandardButton.Yes:
                return None
        case_no = self.detail.case_no

        def shown(detail: CaseDetail) -> None:
            self.party_model.set_parties(detail.parties, revealed=True)
            self.reveal_button.setEnabled(False)
            self.reveal_button.setText(self.tr("已显示完整信息（已记入审计）"))

        return self.ops.run(lambda: reveal(case_no), name=f"full record {case_no}", success=shown)

    # --- the case view: the timeline and the steps allowed now ------------------------------------------

    def read_file(self) -> Op[CaseFile] | None:
        """Read (off the UI thread) the case file: the timeline and the steps allowed now."""
        handling = self._handling
        if handling is None:
            return None
        case_no = self.detail.case_no
        return self.ops.run(
            lambda: handling.view(case_no),
            key="file",
            name=f"case file {case_no}",
            success=self._show_file,
            failure=self._say_refusal,
        )

    def _show_file(self, file: CaseFile) -> None:
        self.file = file
        self.view.show_file(file)
        for action in ACTIONS:
            self.action_buttons[action.key].setVisible(action.allowed(file))
        has_agreement = file.outcome is not None and bool(file.outcome.agreement_no)
        self.agreement_button.setVisible(self._agreements is not None and has_agreement)
        self._update_ticket_button()

    def allowed_actions(self) -> list[str]:
        """The steps offered now (the visible buttons), by key."""
        return [key for key, button in self.action_buttons.items() if not button.isHidden()]

    def take_action(self, key: str) -> StepDialog | None:
        """Open the step's dialog (only when the step is allowed now); Enter there takes it."""
        action = ACTIONS_BY_KEY[key]
        file = self.file
        if self._handling is None or file is None or not action.allowed(file):
            return None
        unit = file.deadline.extension_unit_label if key == "extend" else ""
        dialog = StepDialog(action, file.case_no, unit_label=unit, parent=self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.sig_submitted.connect(lambda values, d=dialog: self._run_action(d, values))
        dialog.finished.connect(self._on_step_dialog_closed)
        self.step_dialog = dialog
        dialog.open()
        return dialog

    def _run_action(self, dialog: StepDialog, values: dict[str, object]) -> Op[CaseFile] | None:
        handling = self._handling
        if handling is None:
            return None
        action, case_no = dialog.action, self.detail.case_no

        def taken(file: CaseFile) -> None:
            dialog.accept()
            self._show_file(file)
            self._say(self.tr(action.done))
            self._read_again(case_no)
            self.sig_case_changed.emit(file)

        return self.ops.run(
            lambda: action.call(handling, case_no, values),
            name=f"{action.key} {case_no}",
            success=taken,
            failure=lambda e: dialog.show_error(e.message),
        )

    def _on_step_dialog_closed(self, _result: int) -> None:
        self.step_dialog = None

    def print_agreement(self) -> Op[tuple[bytes, bool]] | None:
        """The agreement of the case's outcome on the default printer (Ctrl+P); the print is recorded."""
        agreements, file = self._agreements, self.file
        if agreements is None or file is None or file.outcome is None or not file.outcome.agreement_no:
            return None
        no, case_no = file.outcome.agreement_no, file.case_no

        def printed(printer: str) -> None:
            self._say(self.tr("协议书 {no} 已送到打印机“{printer}”").format(no=no, printer=printer))
            self._read_again(case_no)

        return agreements.print_agreement(
            self.ops,
            case_no,
            success=printed,
            failure=lambda e: self._say(self.tr("协议书未打印：{why}").format(why=e.message), error=True),
        )

    def _on_agreement_requested(self) -> None:
        self.print_agreement()

    # --- 取号 ------------------------------------------------------------------------------------

    def _update_ticket_button(self) -> None:
        """Offered at a hall, for an open case (the routing step says why when it still cannot have one)."""
        self.ticket_button.setVisible(self._route is not None)
        open_states = {state.value for state in CaseState if state.is_open}
        self.ticket_button.setEnabled(self._route is not None and self.detail.state in open_states)

    def offer_ticket(self) -> Op[RouteRead] | None:
        """取号: read (off the UI thread) where the case would go and show the routing step, the proposed room
        focused; a case already in a queue keeps its ticket (said here). None when there is nothing to offer."""
        route = self._route
        if route is None or not self.ticket_button.isEnabled():
            return None
        case_no = self.detail.case_no

        def show(read: RouteRead) -> None:
            if read.held is not None:
                room = next((r for r in read.rooms if r.code == read.held.room_code), None)
                self._say(
                    self.tr("此案已有排队号 {label}（{room}，{state}），无需再取号").format(
                        label=read.held.label,
                        room=room_title(room) if room is not None else read.held.room_code,
                        state=TicketState(read.held.state).label,
                    )
                )
                return
            if read.proposal is None:
                return
            proposal = read.proposal
            proposed = next((r for r in read.rooms if r.code == proposal.room_code), None)
            self._routing_case = case_no
            self._make_room_for_routing()
            self.routing.show_proposal(
                proposal, proposed, override_rooms(read.rooms, proposal, self.detail.headcount)
            )
            target = (
                self.routing.confirm_button
                if proposed is not None
                else next(iter(self.routing.override_buttons.values()), None)
            )
            if target is not None:
                target.setFocus(Qt.FocusReason.OtherFocusReason)

        return self.ops.run(
            lambda: read_route(route, case_no),
            key="route",
            name=f"route {case_no}",
            success=show,
            failure=self._say_refusal,
        )

    def _make_room_for_routing(self) -> None:
        """The routing step takes about 240 px: grow the dialog so the history keeps a few rows (within the screen)."""
        screen = self.screen()
        limit = screen.availableGeometry().height() - 40 if screen is not None else ROUTING_HEIGHT
        if self.height() < ROUTING_HEIGHT:
            self.resize(self.width(), min(ROUTING_HEIGHT, limit))

    def issue_ticket(self, room_code: str | None = None, *, reason: str = "") -> Op[IssuedTicket] | None:
        """Give the case its ticket: the proposed room, or `room_code` (an override, with its reason recorded)."""
        route, case_no = self._route, self._routing_case
        if route is None or case_no is None:
            return None
        queue = route.queue
        return self.ops.run(
            lambda: queue.issue_ticket(case_no, room_code=room_code, override_reason=reason),
            key="ticket",  # Enter pressed twice gives one ticket
            name=f"late ticket {case_no}",
            success=self._on_ticket_issued,
            # Kept local: said in the routing step, which stays open for another choice.
            failure=lambda e: self.routing.show_error(e.message),
        )

    def _on_ticket_issued(self, issued: IssuedTicket) -> None:
        self.last_issued = issued
        self._routing_case = None
        self.routing.hide()
        room = issued.room
        self._say(
            self.tr("已取号 {label}：请到{room}{where}等候（前面 {ahead} 人）").format(
                label=issued.ticket.label,
                room=room_title(room),
                where=f"（{room.location}）" if room.location else "",
                ahead=issued.ahead,
            )
        )
        self.view.event_view.setFocus()
        self._read_again(issued.ticket.case_no)
        self.sig_ticket_issued.emit(issued)

    def _say_refusal(self, error: DeskError) -> None:
        self.routing.hide()
        self._say(error.message, error=True)

    def _on_ticket_requested(self) -> None:
        self.offer_ticket()

    def _on_route_confirmed(self) -> None:
        self.issue_ticket()

    def _on_route_overridden(self, room_code: str, reason: str) -> None:
        self.issue_ticket(room_code, reason=reason)

    def _on_route_skipped(self) -> None:
        self._routing_case = None
        self.routing.hide()
        self.ticket_button.setFocus()

    def reprint_receipt(self) -> Op[bytes] | None:
        """补打: print the receipt, marked as a reprint, on the default printer; a failure is said here."""
        if self._receipts is None:
            return None
        return self._receipts.print_receipt(
            self.ops,
            self.detail.case_no,
            reprint=True,
            success=lambda printer: self._say(
                self.tr("已补打回执（打印机“{printer}”）").format(printer=printer)
            ),
            failure=lambda e: self._say(self.tr("回执未补打：{why}").format(why=e.message), error=True),
        )

    def preview_reprint(self) -> Op[bytes] | None:
        """The reprint in the print preview; printing from there is recorded as a reprint."""
        if self._receipts is None:
            return None
        return self._receipts.preview_receipt(
            self.ops,
            self.detail.case_no,
            reprint=True,
            parent=self,
            success=self._on_preview_opened,
            failure=lambda e: self._say(self.tr("无法预览回执：{why}").format(why=e.message), error=True),
        )

    def _on_preview_opened(self, dialog: PreviewDialog) -> None:
        self.preview = dialog

    def _say_error(self, text: str) -> None:
        self._say(text, error=True)

    def _say(self, text: str, *, error: bool = False) -> None:
        """The dialog's one message line: what printing did, and any failure nobody handled nearer."""
        self.print_message.setStyleSheet(f"color: {'#c62828' if error else '#2e7d32'};")
        self.print_message.setText(text)

    def _on_printed(self, case_no: str, _reprint: bool) -> None:
        """A print of this case was recorded (here or anywhere in the window): read the history again."""
        if case_no != self.detail.case_no:
            return
        self._read_again(case_no)

    def _read_again(self, case_no: str) -> None:
        if self._reload is None:
            return
        reload = self._reload
        self.ops.run(
            lambda: reload(case_no),
            key="reload",
            name=f"case {case_no} history",
            success=self._on_reloaded,
            failure=lambda e: logger.warning("case %s not reloaded: %s", case_no, type(e).__name__),
        )

    def _on_reloaded(self, detail: CaseDetail) -> None:
        self.detail = detail
        self.view.show_case(detail)  # masked again: another look at the full record is another audit entry
        self.reveal_button.setEnabled(True)
        self.reveal_button.setText(self.tr("显示完整信息 (Ctrl+I)"))
        self._update_ticket_button()
        self.read_file()

    def _on_reprint_requested(self) -> None:
        self.reprint_receipt()

    def _on_preview_requested(self) -> None:
        self.preview_reprint()
