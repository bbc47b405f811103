"""The intake at the front desk: the registration form with what happens around it — the visit registered, the
room proposed and confirmed (or overridden), the ticket issued, the result banner, and the receipt printed."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QVBoxLayout, QWidget

from desk.errors import DeskError, ValidationError
from desk.forms.registration import RegistrationForm, VisitDraft
from desk.ui.intake.banner import ResultBanner
from desk.ui.intake.routing import RouteRead, RouteServices, RoutingPanel, override_rooms, read_route
from desk.ui.ops import Op, OpRunner

if TYPE_CHECKING:
    from desk.core.clock import Clock
    from desk.core.routing import Proposal
    from desk.services.queue import IssuedTicket, QueueService, RoomView
    from desk.services.registration import RegistrationResult, RegistrationService
    from desk.services.rooms import RoomsService
    from desk.services.views import CaseSummary
    from desk.ui.printing import CaseReceipts, PreviewDialog

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class _PendingRoute:
    """A registered case waiting for the desk to confirm or override its room."""

    case_no: str
    proposal: Proposal
    declared_priority: tuple[str, ...]


class IntakeFlow(QWidget):
    """Register a walk-in visit, route it and give the ticket: the result banner, the routing step and the form.

    Keyboard first: the form's keys (Enter, Ctrl+Enter, F2, Up/Down), then Enter confirms the proposed room, one
    click overrides, Esc leaves the case without a ticket for now; F9 prints the registered case's receipt and
    Shift+F9 previews it. Without `queue` and `rooms` (at the county) a registration is not routed.
    """

    sig_registered = Signal(object)
    """A visit was registered and committed; carries the `RegistrationResult`."""

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
        queue: QueueService | None = None,
        rooms: RoomsService | None = None,
        clock: Clock | None = None,
        receipts: CaseReceipts | None = None,
        parent: QWidget | None = None,
    ) -> None:
        """`queue` (routing, the ticket) and `rooms` (the rooms to override to) route a registered case: both or
        neither. `clock` is the form's (today, the time registered); by default the registration service's.
        `receipts` prints the receipt of the case just registered; without it the desk offers no printing."""
        if (queue is None) != (rooms is None):
            raise ValueError("IntakeFlow routes with both a queue and a rooms service, or neither")
        super().__init__(parent)
        self._service = service
        self._route_services = (
            RouteServices(queue, rooms) if queue is not None and rooms is not None else None
        )
        self._receipts = receipts
        self._receipt_case: str | None = None
        self._route: _PendingRoute | None = None
        self._awaiting_route = False  # the proposal for the case just registered is on its way
        self.ops = OpRunner(self, report=self._say)

        outer = QVBoxLayout(self)
        outer.setContentsMargins(12, 10, 12, 10)
        self.banner = ResultBanner(self)
        outer.addWidget(self.banner)
        self.routing = RoutingPanel(self)
        outer.addWidget(self.routing)
        # The service's clock, not the wall's, when none is given: DESK_NOW's in a drill.
        self.form = RegistrationForm(
            service.categories(), clock=clock if clock is not None else service, parent=self
        )
        outer.addWidget(self.form, 1)

        self.form.sig_submitted.connect(self._on_submitted)
        self.form.sig_applicant_identified.connect(self._on_applicant_identified)
        self.routing.sig_confirmed.connect(self._on_route_confirmed)
        self.routing.sig_override_requested.connect(self._on_route_overridden)
        self.routing.sig_skipped.connect(self._on_route_skipped)
        for keys, slot in (("F9", self._on_print_requested), ("Shift+F9", self._on_preview_requested)):
            shortcut = QShortcut(QKeySequence(keys), self)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(slot)
        self.banner.print_button.clicked.connect(self._on_print_requested)
        self.banner.preview_button.clicked.connect(self._on_preview_requested)

    # --- registering --------------------------------------------------------------------------------

    def _on_submitted(self, draft: VisitDraft) -> None:
        service = self._service
        self.ops.run(
            lambda: service.register(draft.data, repeat_of=draft.repeat_of, new_case=draft.new_case),
            name="register",
            progress_text=self.tr("正在登记……"),
            success=lambda result: self._on_registered(draft, result),
            failure=self._on_register_refused,
            finished=self.form.submit_ended,
        )

    def _on_register_refused(self, error: DeskError) -> None:
        # Kept local: a refusal is shown field by field on the form, which keeps every character typed.
        if isinstance(error, ValidationError):
            self.form.refuse(error.problems)
        else:
            self.form.refuse_all(error.message)

    def _on_registered(self, draft: VisitDraft, result: RegistrationResult) -> None:
        self.form.registered()
        self.banner.show_result(result, draft.summary, chosen=draft.repeat_of is not None)
        self._receipt_case = result.case_no
        self.sig_registered.emit(result)
        if self._route_services is not None:
            self.offer_route(
                result.case_no, headcount=draft.headcount, declared_priority=draft.declared_priority
            )
        self._update_print_actions()

    def _on_applicant_identified(self, key: tuple[str, str] | None) -> None:
        if key is None:
            return
        service, (field, value) = self._service, key

        def show(cases: list[CaseSummary]) -> None:
            self.form.show_known_cases(key, cases)

        if field == "id_number":
            self.ops.run(lambda: service.person_cases(id_number=value), name="known person", success=show)
        else:
            self.ops.run(lambda: service.person_cases(phone=value), name="known person", success=show)

    def _say(self, message: str) -> None:
        """The flow's one place for a failure nobody handled nearer: the form's message line."""
        self.form.form_message.show_error(message)

    # --- routing and the ticket ---------------------------------------------------------------------

    def offer_route(
        self, case_no: str, *, headcount: int = 1, declared_priority: Sequence[str] = ()
    ) -> Op[RouteRead] | None:
        """Show where the case should go and why; Enter confirms, one click on another room overrides.
        A case that already holds a ticket (a repeat visit while still queued) keeps it."""
        services = self._route_services
        assert services is not None
        self._route = None
        self.routing.hide()
        self._awaiting_route = True
        declared = tuple(declared_priority)

        def arrived() -> None:
            self._awaiting_route = False
            self._update_print_actions()

        def show(read: RouteRead) -> None:
            if read.held is not None:
                room = next((r for r in read.rooms if r.code == read.held.room_code), None)
                self.banner.show_held_ticket(read.held, room)
            elif read.proposal is not None:
                self._show_proposal(case_no, read.proposal, read.rooms, headcount, declared)

        return self.ops.run(
            lambda: read_route(services, case_no), name=f"route {case_no}", success=show, finished=arrived
        )

    def _show_proposal(
        self,
        case_no: str,
        proposal: Proposal,
        rooms: list[RoomView],
        headcount: int,
        declared_priority: tuple[str, ...],
    ) -> None:
        proposed = next((r for r in rooms if r.code == proposal.room_code), None)
        self._route = _PendingRoute(case_no, proposal, declared_priority)
        self.routing.show_proposal(proposal, proposed, override_rooms(rooms, proposal, headcount))
        self._update_print_actions()
        target = (
            self.routing.confirm_button
            if proposed is not None
            else next(iter(self.routing.override_buttons.values()), None)
        )
        if target is not None:
            target.setFocus(Qt.FocusReason.OtherFocusReason)
        else:
            self.form.focus_first_field()
        self.sig_route_proposed.emit(proposal)

    def issue_ticket(self, room_code: str | None = None, *, reason: str = "") -> Op[IssuedTicket] | None:
        """Give the pending case its ticket: to the proposed room, or to `room_code` (an override, recorded).
        None when there is no case waiting for its room, or its ticket is being issued already."""
        services, route = self._route_services, self._route
        if services is None or route is None:
            return None
        queue = services.queue
        return self.ops.run(
            lambda: queue.issue_ticket(
                route.case_no,
                room_code=room_code,
                override_reason=reason,
                declared_priority=route.declared_priority,
            ),
            key="ticket",  # Enter pressed twice gives one ticket
            name=f"ticket {route.case_no}",
            success=self._on_ticket_issued,
            failure=self._on_ticket_refused,
        )

    def _on_ticket_issued(self, issued: IssuedTicket) -> None:
        self._route = None
        self.routing.hide()
        self.banner.show_ticket(issued)
        self._update_print_actions()
        self.form.focus_first_field()
        self.sig_ticket_issued.emit(issued)

    def _on_ticket_refused(self, error: DeskError) -> None:
        # Kept local: said in the routing step, which stays open for another choice.
        self.routing.show_error(error.message)

    def skip_route(self) -> None:
        """No ticket now: the case stays registered; a later repeat visit offers the route again."""
        if self._route is not None:
            logger.info("no ticket for %s for now", self._route.case_no)
        self._route = None
        self.routing.hide()
        self._update_print_actions()
        self.form.focus_first_field()

    @property
    def pending_route(self) -> Proposal | None:
        return self._route.proposal if self._route is not None else None

    def _on_route_confirmed(self) -> None:
        self.issue_ticket()

    def _on_route_overridden(self, room_code: str, reason: str) -> None:
        self.issue_ticket(room_code, reason=reason)

    def _on_route_skipped(self) -> None:
        self.skip_route()

    # --- the receipt --------------------------------------------------------------------------------

    @property
    def receipt_case(self) -> str | None:
        """The case whose receipt F9 prints: the one in the banner."""
        return self._receipt_case

    def _update_print_actions(self) -> None:
        if self._receipts is None or self._receipt_case is None:
            self.banner.print_row.hide()
            return
        # While the room is still to be confirmed the receipt would lack the ticket: print after Enter or Esc.
        self.banner.show_print_actions(enabled=self._route is None and not self._awaiting_route)

    def _can_print(self) -> str | None:
        if self._receipts is None or self._receipt_case is None:
            return None
        if self._route is not None or self._awaiting_route:
            self.banner.show_print_hint(self.tr("请先确认功能室（回车）或暂不取号（Esc），再打印回执"))
            return None
        return self._receipt_case

    def print_receipt(self) -> Op[bytes] | None:
        """Print the banner's case's receipt on the default printer (F9). A failure is shown in the banner, the
        case stays shown and registered, and F9 tries again. None when there is nothing to print yet."""
        case_no = self._can_print()
        if case_no is None or self._receipts is None:
            return None

        def printed(printer: str) -> None:
            self.banner.show_print_done(self.tr("回执已送到打印机“{printer}”").format(printer=printer))
            self.sig_receipt_printed.emit(case_no)

        def failed(error: DeskError) -> None:
            # Kept local: said in the banner, next to the case and its print buttons.
            self.banner.show_print_error(self.tr("回执未打印：{why}").format(why=error.message))
            self.sig_print_failed.emit(error.message)

        return self._receipts.print_receipt(self.ops, case_no, success=printed, failure=failed)

    def preview_receipt(self) -> Op[bytes] | None:
        """Open the print preview of the banner's case's receipt (Shift+F9); printing from it is recorded."""
        case_no = self._can_print()
        if case_no is None or self._receipts is None:
            return None

        def failed(error: DeskError) -> None:
            self.banner.show_print_error(self.tr("无法预览回执：{why}").format(why=error.message))
            self.sig_print_failed.emit(error.message)

        return self._receipts.preview_receipt(
            self.ops, case_no, parent=self, success=self._on_preview_opened, failure=failed
        )

    def _on_preview_opened(self, dialog: PreviewDialog) -> None:
        logger.info("receipt preview open")

    def _on_print_requested(self) -> None:
        self.print_receipt()

    def _on_preview_requested(self) -> None:
        self.preview_receipt()

    # --- starting over ------------------------------------------------------------------------------

    def new_visit(self) -> None:
        """Start over: an empty form with no banner, the cursor in the applicant's name."""
        self.form.clear()
        self.banner.hide()
        self.skip_route()
        self._receipt_case = None
        self.banner.print_row.hide()

    def focus_first_field(self) -> None:
        self.form.focus_first_field()

    def has_unsaved_text(self) -> bool:
        return self.form.has_unsaved_text()
