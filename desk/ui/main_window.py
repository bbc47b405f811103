"""The front desk's main window: the intake (registration form, routing and tickets), a menu with the desk's
shortcuts, case search, the hall's other windows (room terminals, the calling screen, the rooms' settings), sync
with the county in the status bar and the cases the county diverted here. Opened on the county's store, it
diverts instead (上级分流): a registered case goes to a hall, not to a room."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QModelIndex, QObject, Qt, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeyEvent, QKeySequence, QShortcut, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QTableView,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from desk.ui.admin.mediators_dialog import MediatorsDialog
from desk.ui.admin.rooms_dialog import RoomsDialog
from desk.ui.case_history import TICKET_KEYS, CaseHistoryDialog, full_record
from desk.ui.county.divert_dialog import DivertDialog
from desk.ui.county.diverted import DivertedCasesDialog
from desk.ui.display.hall_display import HallDisplay
from desk.ui.display.speech import Announcer
from desk.ui.intake.flow import IntakeFlow
from desk.ui.intake.routing import RouteServices
from desk.ui.models.case_table import CaseTableModel
from desk.ui.ops import Op, OpRunner
from desk.ui.room.terminal import RoomTerminal
from desk.ui.supervisor.banner import SeriousWarningBanner, WarningWatch

if TYPE_CHECKING:
    from desk.core.clock import Clock
    from desk.services.alerts import WarningService, WhistleService
    from desk.services.county import CountyService, Diversion
    from desk.services.display import DisplayService
    from desk.services.handling import CaseHandlingService
    from desk.services.queue import IssuedTicket, QueueService
    from desk.services.registration import RegistrationResult, RegistrationService
    from desk.services.rooms import RoomsService, RoomView
    from desk.services.views import CaseDetail, CaseSummary
    from desk.sync.engine import RoundReport
    from desk.ui.printing import CaseAgreements, CaseReceipts
    from desk.ui.sync_bar import SyncStatusBar

logger = logging.getLogger(__name__)


class CaseSearchDialog(QDialog):
    """Find cases by ID number, phone, case number, name or pinyin initials; double click opens a case. With
    `route` (at a hall), Ctrl+T on a found case opens it at its routing step, for a case left without a ticket."""

    sig_case_opened = Signal(object)
    """A case's history dialog was opened; carries the `CaseHistoryDialog`."""

    sig_searched = Signal(int)
    """A search's rows are shown; carries how many were found."""

    sig_ticket_issued = Signal(object)
    """A case opened from here got its ticket (取号); carries the `IssuedTicket`."""

    def __init__(
        self,
        service: RegistrationService,
        *,
        receipts: CaseReceipts | None = None,
        route: RouteServices | None = None,
        handling: CaseHandlingService | None = None,
        agreements: CaseAgreements | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._service = service
        self._receipts = receipts
        self._route = route
        self._handling = handling  # the case view: the timeline and the steps allowed now
        self._agreements = agreements
        self.ops = OpRunner(self)  # a case that cannot be opened: a message box over the dialog
        self._category_names = {c.code: c.name for c in service.categories()}
        self.setWindowTitle(self.tr("查找案件"))
        self.resize(900, 520)

        layout = QVBoxLayout(self)
        row = QHBoxLayout()
        self.query_edit = QLineEdit(self)
        self.query_edit.setPlaceholderText(self.tr("身份证号、电话、案件编号、姓名或拼音首字母"))
        self.search_button = QPushButton(self.tr("查找"), self)
        self.search_button.setAutoDefault(False)
        row.addWidget(self.query_edit, 1)
        row.addWidget(self.search_button)
        layout.addLayout(row)

        self.model = CaseTableModel(category_names=self._category_names, parent=self)
        self.view = QTableView(self)
        self.view.setModel(self.model)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.verticalHeader().setVisible(False)
        self.view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.view.horizontalHeader().setStretchLastSection(True)
        layout.addWidget(self.view, 1)

        self.status = QLabel(self.tr("输入后按回车查找；双击案件查看全部记录"), self)
        layout.addWidget(self.status)
        bottom = QHBoxLayout()
        self.ticket_button = QPushButton(self.tr("为选中案件取号… (Ctrl+T)"), self)
        self.ticket_button.setToolTip(self.tr("登记时暂不取号的案件：打开它并分派功能室、取号"))
        self.ticket_button.setAutoDefault(False)
        self.ticket_button.setVisible(route is not None)
        bottom.addWidget(self.ticket_button)
        bottom.addStretch(1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        close = buttons.button(QDialogButtonBox.StandardButton.Close)
        close.setText(self.tr("关闭"))
        close.setAutoDefault(False)  # Enter belongs to the search box and the results
        buttons.rejected.connect(self.reject)
        bottom.addWidget(buttons)
        layout.addLayout(bottom)
        if route is not None:
            ticket_keys = QShortcut(QKeySequence(TICKET_KEYS), self)
            ticket_keys.activated.connect(self._on_ticket_requested)
        self.ticket_button.clicked.connect(self._on_ticket_requested)

        self.query_edit.returnPressed.connect(self._on_search_requested)
        self.search_button.clicked.connect(self._on_search_requested)
        # Double click or Enter opens a row; not `activated`, which some platforms emit on a single click
        # and others together with `doubleClicked` (two dialogs for one double click).
        self.view.doubleClicked.connect(self._on_row_activated)
        self.view.installEventFilter(self)
        self.history_dialogs: list[CaseHistoryDialog] = []

    def search(self, text: str) -> Op[list[CaseSummary]] | None:
        """Search (off the UI thread) and show the rows when found; None for an empty query."""
        if not text.strip():
            self.model.set_cases([])
            self.status.setText(self.tr("请输入查找内容"))
            return None
        service = self._service
        self.status.setText(self.tr("正在查找……"))
        return self.ops.run(lambda: service.search(text), name="case search", success=self._on_found)

    def _on_found(self, found: list[CaseSummary]) -> None:
        self.model.set_cases(found)
        if found:
            hint = (
                self.tr("找到 {n} 件；双击或回车查看全部记录，Ctrl+T 为暂不取号的案件取号")
                if self._route is not None
                else self.tr("找到 {n} 件；双击或回车查看全部记录")
            )
            self.status.setText(hint.format(n=len(found)))
            self.view.selectRow(0)
            self.view.setFocus()
        else:
            self.status.setText(self.tr("未找到匹配的案件"))
        self.sig_searched.emit(len(found))

    def open_case(self, case_no: str, *, ticket: bool = False) -> Op[CaseDetail] | None:
        """Open a case's full history in its own (non-modal) dialog, once it is read (`sig_case_opened`); with
        `ticket`, at its routing step (取号)."""
        service = self._service
        return self.ops.run(
            lambda: service.case(case_no),
            name=f"case {case_no}",
            success=lambda detail: self._show_case(detail, ticket=ticket),
        )

    def _show_case(self, detail: CaseDetail, *, ticket: bool = False) -> None:
        dialog = CaseHistoryDialog(
            detail,
            category_names=self._category_names,
            receipts=self._receipts,
            reload=self._service.case,
            route=self._route,
            handling=self._handling,
            agreements=self._agreements,
            reveal=full_record(self._service),
            parent=self,
        )
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.destroyed.connect(lambda _obj=None, d=dialog: self._forget(d))
        dialog.sig_ticket_issued.connect(self._on_ticket_issued)
        self.history_dialogs.append(dialog)
        dialog.show()
        self.sig_case_opened.emit(dialog)
        if ticket:
            dialog.offer_ticket()

    def ticket_selected(self) -> Op[CaseDetail] | None:
        """取号 for the selected case (Ctrl+T): its history opens at the routing step."""
        index = self.view.currentIndex()
        if self._route is None or not index.isValid():
            self.status.setText(self.tr("请先查找并选中要取号的案件"))
            return None
        return self.open_case(self.model.case_at(index.row()).case_no, ticket=True)

    def _on_ticket_requested(self) -> None:
        self.ticket_selected()

    def _on_ticket_issued(self, issued: IssuedTicket) -> None:
        self.sig_ticket_issued.emit(issued)
        if self.model.rowCount():  # the found cases' states may have changed (已受理 → 排队中)
            self.search(self.query_edit.text())

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        if (
            watched is self.view
            and event.type() == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
            and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
        ):
            self._on_row_activated(self.view.currentIndex())
            return True
        return super().eventFilter(watched, event)

    def _forget(self, dialog: CaseHistoryDialog) -> None:
        if dialog in self.history_dialogs:
            self.history_dialogs.remove(dialog)

    def _on_search_requested(self) -> None:
        self.search(self.query_edit.text())

    def _on_row_activated(self, index: QModelIndex) -> None:
        if index.isValid():
            self.open_case(self.model.case_at(index.row()).case_no)


class MainWindow(QMainWindow):
    """One window per desk: the registration form in the middle, the hall and the store in the status bar."""

    def __init__(
        self,
        service: RegistrationService,
        *,
        rooms: RoomsService,
        queue: QueueService,
        new_queue: Callable[[], QueueService],
        display: DisplayService,
        store_label: str = "",
        clock: Clock | None = None,
        speech_engine: str = "",
        receipts: CaseReceipts | None = None,
        sync_bar: SyncStatusBar | None = None,
        county: CountyService | None = None,
        handling: CaseHandlingService | None = None,
        whistles: WhistleService | None = None,
        agreements: CaseAgreements | None = None,
        warnings: WarningService | None = None,
        parent: QWidget | None = None,
    ) -> None:
        """`rooms` is the hall's rooms and roster (routing's overrides, the terminals, the settings dialogs);
        `queue` serves this desk (routing, tickets, the diverted cases); `new_queue` gives each room terminal
        opened from the menu a queue service of its own (its own on-duty mediator); `display` is what the
        calling screens and terminals read (calls, the change mark); `receipts` prints receipts
        (F9 after a registration, 补打 in a case's history); `sync_bar` shows (and runs) sync with the county;
        `county` is given when the store is the county's: registrations are then diverted to a hall. `handling`,
        `whistles` and `agreements` (printing the agreement) make the case view and the room terminals' handling
        pane; `warnings` (at a hall) feeds the red banner of unread 重大 warnings, watched through the change mark."""
        super().__init__(parent)
        self._handling = handling
        self._whistles = whistles
        self._agreements = agreements
        if agreements is not None:
            agreements.setParent(self)
        self.county = county
        self.sync_bar = sync_bar
        self._service = service
        self.receipts = receipts
        if receipts is not None:
            receipts.setParent(self)
            receipts.sig_printed.connect(self._on_receipt_printed)
        self._rooms = rooms
        self._queue = queue
        self._new_queue = new_queue
        self._display = display
        self.ops = OpRunner(self, report=self._say)
        self._progress_text = ""
        self._speech_engine = speech_engine
        hall_info = service.hall
        self.setWindowTitle(self.tr("一厅通 · {hall}").format(hall=hall_info.name))
        if county is not None:
            self.setWindowTitle(self.tr("一厅通 · {hall} · 县级").format(hall=hall_info.name))
        # At the county a registered case is diverted to a hall (the dialog), not routed to a room.
        self.intake = IntakeFlow(
            service,
            queue=queue if county is None else None,
            rooms=rooms if county is None else None,
            clock=clock,
            receipts=receipts,
            parent=self,
        )
        self.form = self.intake.form
        self.setCentralWidget(self.intake)
        self.search_dialog: CaseSearchDialog | None = None
        self.diverted_dialog: DivertedCasesDialog | None = None
        self.divert_dialog: DivertDialog | None = None
        self.rooms_dialog: RoomsDialog | None = None
        self.mediators_dialog: MediatorsDialog | None = None
        self.terminals: list[RoomTerminal] = []
        self.displays: list[HallDisplay] = []

        self.hall_label = QLabel(
            self.tr("{name}（{code}）").format(name=hall_info.name, code=hall_info.code), self
        )
        self.store_label = QLabel(store_label, self)
        # 上级分流 waiting here: a button in the status bar, shown while there are any (opens the list).
        self.diverted_button = QPushButton(self)
        self.diverted_button.setFlat(True)
        self.diverted_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.diverted_button.setStyleSheet(
            "QPushButton { color: #b45309; font-weight: bold; padding: 0 6px; }"
        )
        self.diverted_button.setToolTip(self.tr("县级分流到本中心、尚未分派功能室的案件（Ctrl+D）"))
        self.diverted_button.hide()
        self.diverted_button.clicked.connect(self._on_diverted_requested)
        self._diverted_known = (
            0  # the fewest diverted cases seen waiting since the last round: news is above it
        )
        self.statusBar().addPermanentWidget(self.diverted_button)
        if sync_bar is not None:
            sync_bar.setParent(self)
            self.statusBar().addPermanentWidget(sync_bar)
            sync_bar.sig_refreshed.connect(self._on_sync_status_refreshed)
            if sync_bar.runner is not None:
                sync_bar.runner.sig_finished.connect(self._on_sync_finished)
        self.statusBar().addPermanentWidget(self.hall_label)
        if store_label:
            self.statusBar().addPermanentWidget(self.store_label)
        self._build_menu()
        self._build_warning_banner(warnings)
        self.intake.ops.sig_progress.connect(self._on_progress)
        self.intake.sig_registered.connect(self._on_registered)
        self.intake.sig_ticket_issued.connect(self._on_ticket_issued)
        self.intake.sig_print_failed.connect(self._on_print_failed)
        self.update_diverted_count(then=self._remember_diverted)
        self._fit_to_screen(1180, 820)

    def _fit_to_screen(self, width: int, height: int) -> None:
        """The preferred size, but never larger than the screen (window PCs are often 1366×768)."""
        screen = self.screen()
        if screen is not None:
            avail = screen.availableGeometry()
            width, height = min(width, avail.width()), min(height, avail.height() - 40)
        self.resize(width, height)

    def _build_warning_banner(self, warnings: WarningService | None) -> None:
        """A 重大 warning raised anywhere in the hall shows at once above the form, and beeps (the supervisor's
        window reads it); the strip is hidden while there is none."""
        self.warning_banner = SeriousWarningBanner(hint=self.tr("请值班领导在督办窗口处理"), parent=self)
        self.warning_bar = QToolBar(self.tr("重大预警"), self)
        self.warning_bar.setObjectName("warningBar")
        self.warning_bar.setMovable(False)
        self.warning_bar.setFloatable(False)
        self.warning_bar.toggleViewAction().setVisible(False)  # not for the clerk to switch off
        self.warning_bar.addWidget(self.warning_banner)
        self.warning_bar.hide()
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, self.warning_bar)
        self.warning_watch: WarningWatch | None = None
        if warnings is not None and self.county is None:
            self.warning_watch = WarningWatch(warnings, self.warning_banner, parent=self)
            self.warning_watch.sig_read.connect(self._on_warnings_read)
            self.warning_watch.start()

    def _on_warnings_read(self, _mark: int) -> None:
        self.warning_bar.setVisible(bool(self.warning_banner.serious))

    def _build_menu(self) -> None:
        file_menu = self.menuBar().addMenu(self.tr("文件(&F)"))
        self.new_action = QAction(self.tr("新登记"), self)
        self.new_action.setShortcut(QKeySequence("Ctrl+N"))
        self.new_action.triggered.connect(self._on_new_requested)
        file_menu.addAction(self.new_action)
        file_menu.addSeparator()
        self.quit_action = QAction(self.tr("退出"), self)
        self.quit_action.setShortcut(QKeySequence("Ctrl+Q"))
        self.quit_action.triggered.connect(self._on_quit_requested)
        file_menu.addAction(self.quit_action)

        case_menu = self.menuBar().addMenu(self.tr("案件(&C)"))
        self.find_action = QAction(self.tr("查找案件"), self)
        self.find_action.setShortcut(QKeySequence("Ctrl+F"))
        self.find_action.triggered.connect(self._on_find_requested)
        case_menu.addAction(self.find_action)
        case_menu.addSeparator()
        if self.county is None:
            self.divert_action = QAction(self.tr("上级分流案件…"), self)
            self.divert_action.setToolTip(self.tr("县级分流到本中心的案件：查看并分派功能室"))
            self.divert_action.triggered.connect(self._on_diverted_requested)
        else:
            self.divert_action = QAction(self.tr("分流案件至下级中心…"), self)
            self.divert_action.triggered.connect(self._on_divert_requested)
        self.divert_action.setShortcut(QKeySequence("Ctrl+D"))
        case_menu.addAction(self.divert_action)

        hall_menu = self.menuBar().addMenu(self.tr("大厅(&H)"))
        hall_menu.menuAction().setVisible(self.county is None)  # the county has no rooms of its own
        self.terminal_action = QAction(self.tr("功能室终端…"), self)
        self.terminal_action.triggered.connect(self._on_terminal_requested)
        hall_menu.addAction(self.terminal_action)
        self.display_action = QAction(self.tr("大厅叫号屏"), self)
        self.display_action.triggered.connect(self._on_display_requested)
        hall_menu.addAction(self.display_action)
        hall_menu.addSeparator()
        self.rooms_action = QAction(self.tr("功能室设置…"), self)
        self.rooms_action.triggered.connect(self._on_rooms_requested)
        hall_menu.addAction(self.rooms_action)
        self.mediators_action = QAction(self.tr("调解员名册…"), self)
        self.mediators_action.triggered.connect(self.open_mediators_dialog)
        hall_menu.addAction(self.mediators_action)

    # --- actions ----------------------------------------------------------------------------------

    def confirm_discard(self) -> bool:
        """Ask before throwing away typed text; True when there is nothing to lose or the clerk agrees."""
        if not self.form.has_unsaved_text():
            return True
        answer = QMessageBox.question(
            self,
            self.tr("放弃未登记的内容"),
            self.tr("表单中有尚未登记的内容，确定要清空吗？"),
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,
        )
        return answer == QMessageBox.StandardButton.Yes

    def _on_new_requested(self) -> None:
        if self.confirm_discard():
            self.intake.new_visit()
            self.statusBar().showMessage(self.tr("新登记"), 3000)

    def _on_quit_requested(self) -> None:
        if self.confirm_discard():
            self.close()

    def open_search(self) -> CaseSearchDialog:
        """Show the case search dialog (one per window, reused) with the cursor in its search box."""
        if self.search_dialog is None:
            # At a hall, a case found here that has no ticket (暂不取号) gets one (Ctrl+T); not at the county.
            route = RouteServices(self._queue, self._rooms) if self.county is None else None
            self.search_dialog = CaseSearchDialog(
                self._service,
                receipts=self.receipts,
                route=route,
                handling=self._handling if self.county is None else None,
                agreements=self._agreements,
                parent=self,
            )
            self.search_dialog.sig_ticket_issued.connect(self._on_ticket_issued)
        if self.search_dialog.isVisible():
            self.search_dialog.raise_()  # behind the main window after a click there
        self.search_dialog.show()
        self.search_dialog.activateWindow()
        self.search_dialog.query_edit.setFocus()
        self.search_dialog.query_edit.selectAll()
        return self.search_dialog

    def _on_find_requested(self) -> None:
        self.open_search()

    # --- the hall's windows -----------------------------------------------------------------------

    def open_room_terminal(self, room_code: str) -> RoomTerminal:
        """A room's terminal in a window of its own, with its own queue service (and on-duty mediator)."""
        terminal = RoomTerminal(
            room_code,
            queue=self._new_queue(),
            rooms=self._rooms,
            display=self._display,
            registration=self._service,
            handling=self._handling,
            whistles=self._whistles,
            agreements=self._agreements,
        )
        terminal.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        terminal.destroyed.connect(lambda _obj=None, t=terminal: self._forget_window(t))
        self.terminals.append(terminal)
        terminal.show()
        return terminal

    def open_hall_display(self) -> HallDisplay:
        """The calling screen in a window (F11: full screen), e.g. on the hall's second monitor."""
        display = HallDisplay(
            self._display, hall_name=self._service.hall.name, announcer=Announcer(self._speech_engine)
        )
        display.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        display.destroyed.connect(lambda _obj=None, d=display: self._forget_window(d))
        self.displays.append(display)
        display.show()
        return display

    def open_rooms_dialog(self) -> RoomsDialog:
        if self.rooms_dialog is None:
            self.rooms_dialog = RoomsDialog(self._rooms, self._service.categories(), parent=self)
        else:
            self.rooms_dialog.reload()
        self.rooms_dialog.show()
        self.rooms_dialog.raise_()
        return self.rooms_dialog

    def open_mediators_dialog(self) -> MediatorsDialog:
        if self.mediators_dialog is None:
            self.mediators_dialog = MediatorsDialog(self._rooms, self._service.categories(), parent=self)
        else:
            self.mediators_dialog.reload()
        self.mediators_dialog.show()
        self.mediators_dialog.raise_()
        return self.mediators_dialog

    # --- 上级分流 ----------------------------------------------------------------------------------

    def open_diverted_cases(self) -> DivertedCasesDialog:
        """The cases the county diverted here (one dialog per window, read again each time it is opened)."""
        if self.diverted_dialog is None:
            self.diverted_dialog = DivertedCasesDialog(
                queue=self._queue,
                rooms=self._rooms,
                registration=self._service,
                receipts=self.receipts,
                parent=self,
            )
            self.diverted_dialog.sig_ticket_issued.connect(self._on_ticket_issued)
            self.diverted_dialog.sig_count_changed.connect(self._show_diverted_count)
        else:
            self.diverted_dialog.reload()
        self.diverted_dialog.show()
        self.diverted_dialog.raise_()
        self.diverted_dialog.activateWindow()
        self.diverted_dialog.view.setFocus()
        return self.diverted_dialog

    def open_divert_dialog(self, case_no: str = "", *, summary: str = "") -> DivertDialog | None:
        """At the county: divert `case_no` (just registered), or a case the supervisor types, to a hall."""
        if self.county is None:
            return None
        if self.divert_dialog is not None:
            self.divert_dialog.close()
        dialog = DivertDialog(self.county, case_no=case_no, summary=summary, parent=self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.sig_diverted.connect(self._on_diverted)
        if case_no:
            dialog.rejected.connect(lambda c=case_no: self._on_divert_cancelled(c))
        dialog.destroyed.connect(lambda _obj=None, d=dialog: self._forget_divert_dialog(d))
        self.divert_dialog = dialog
        dialog.open()
        return dialog

    def update_diverted_count(self, then: Callable[[int], object] | None = None) -> Op[int] | None:
        """Read (off the UI thread) how many diverted cases wait here and show it in the status bar (hidden when
        none); `then` gets the count. A count that cannot be read leaves the button as it was."""
        if self.county is not None:
            return None
        queue = self._queue

        def show(n: int) -> None:
            self._show_diverted_count(n)
            if then is not None:
                then(n)

        return self.ops.run(
            queue.diverted_count,
            key="diverted count",
            name="diverted count",
            success=show,
            failure=lambda e: logger.info("diverted count not read: %s", type(e).__name__),
        )

    def _remember_diverted(self, n: int) -> None:
        self._diverted_known = n

    def _on_progress(self, text: str) -> None:
        """A slow op of the intake says so in the status bar while it lasts (a slow store, a county away)."""
        if text:
            self._progress_text = text
            self.statusBar().showMessage(text)
        elif self.statusBar().currentMessage() == self._progress_text:
            self.statusBar().clearMessage()

    def _show_diverted_count(self, n: int) -> None:
        self._diverted_known = min(self._diverted_known, n)
        self.diverted_button.setText(self.tr("上级分流 {n} 件待分派").format(n=n))
        self.diverted_button.setVisible(n > 0 and self.county is None)

    def _forget_divert_dialog(self, dialog: DivertDialog) -> None:
        if self.divert_dialog is dialog:
            self.divert_dialog = None

    def _on_diverted_requested(self) -> None:
        self.open_diverted_cases()

    def _on_divert_requested(self) -> None:
        self.open_divert_dialog()

    def _on_diverted(self, diversion: Diversion) -> None:
        self.statusBar().showMessage(
            self.tr("已将 {case_no} 分流至{hall}（{code}）").format(
                case_no=diversion.case_no, hall=diversion.to_hall_name, code=diversion.to_hall
            ),
            15000,
        )
        self.form.focus_first_field()

    def _on_divert_cancelled(self, case_no: str) -> None:
        self.statusBar().showMessage(
            self.tr("已登记 {case_no}，未分流（可用 Ctrl+D 分流）").format(case_no=case_no), 15000
        )
        self.form.focus_first_field()

    def _on_sync_status_refreshed(self, _status: object) -> None:
        self.update_diverted_count()

    def _on_sync_finished(self, report: RoundReport) -> None:
        def counted(waiting: int) -> None:
            new, self._diverted_known = waiting - self._diverted_known, waiting
            if new > 0:
                self.statusBar().showMessage(self.tr("收到县级分流案件 {n} 件").format(n=new), 30000)
            elif report.pulled:
                self.statusBar().showMessage(
                    self.tr("已从县级库收到 {n} 条记录").format(n=report.pulled), 10000
                )
            if self.diverted_dialog is not None and self.diverted_dialog.isVisible():
                self.diverted_dialog.reload()

        queue = self._queue
        # Not skipped behind a status refresh's count: this one says what the round brought.
        self.ops.run(queue.diverted_count, name="diverted count after sync", success=counted)

    def _forget_window(self, window: QWidget) -> None:
        if window in self.terminals:
            self.terminals.remove(window)
        if window in self.displays:
            self.displays.remove(window)

    def _on_terminal_requested(self) -> None:
        self.ops.run(self._rooms.rooms, name="rooms for a terminal", success=self._choose_terminal)

    def _choose_terminal(self, all_rooms: list[RoomView]) -> None:
        rooms = [r for r in all_rooms if r.categories or r.staff]
        if not rooms:
            return
        labels = [f"{r.code}  {r.number}号{r.name}（{r.location}）" for r in rooms]
        chosen, ok = QInputDialog.getItem(
            self, self.tr("功能室终端"), self.tr("打开哪个功能室的终端："), labels, 0, False
        )
        if ok and chosen in labels:
            self.open_room_terminal(rooms[labels.index(chosen)].code)

    def _on_display_requested(self) -> None:
        self.open_hall_display()

    def _on_rooms_requested(self) -> None:
        self.open_rooms_dialog()

    def _on_ticket_issued(self, issued: IssuedTicket) -> None:
        self._refresh_sync_status()
        self.statusBar().showMessage(
            self.tr("{case_no}：排队号 {label}，{room}").format(
                case_no=issued.ticket.case_no,
                label=issued.ticket.label,
                room=f"{issued.room.number}号{issued.room.name}",
            ),
            10000,
        )

    def _on_receipt_printed(self, case_no: str, reprint: bool) -> None:
        text = self.tr("已补打 {case_no} 的回执") if reprint else self.tr("已打印 {case_no} 的回执")
        self.statusBar().showMessage(text.format(case_no=case_no), 10000)

    def _on_print_failed(self, _message: str) -> None:
        self.statusBar().showMessage(self.tr("回执未打印"), 10000)

    def _on_registered(self, result: RegistrationResult) -> None:
        self._refresh_sync_status()
        if result.is_repeat:
            text = self.tr("已记为案件 {case_no} 的重复访").format(case_no=result.case_no)
        else:
            text = self.tr("已登记 {case_no}").format(case_no=result.case_no)
        self.statusBar().showMessage(text, 10000)
        if self.county is not None:
            self.open_divert_dialog(result.case_no, summary=self.intake.banner.summary.text())

    def _say(self, message: str) -> None:
        """The window's one place for a failure nobody handled nearer: the status bar."""
        self.statusBar().showMessage(message, 15000)

    def _refresh_sync_status(self) -> None:
        if self.sync_bar is not None:
            self.sync_bar.refresh()

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt's name
        super().showEvent(event)
        self.form.focus_first_field()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt's name
        if self.warning_watch is not None:
            self.warning_watch.stop()
        if self.sync_bar is not None:
            self.sync_bar.shutdown()
        for dialog in (self.search_dialog, self.diverted_dialog, self.divert_dialog):
            if dialog is not None:
                dialog.close()
        for window in [*self.terminals, *self.displays]:
            window.close()
        super().closeEvent(event)
