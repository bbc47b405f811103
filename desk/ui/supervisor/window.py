"""The supervisor's window (`desk --role supervisor`, 督办): the hall's warnings to read (预警), the cases past their
time limit (逾期案件), the whistles whose department let a clock run out (吹哨超时) and the follow-ups due today
(今日回访). It re-reads them whenever the hall's change mark moves, runs the warnings' sweep every minute (deadline
stages, whistle clocks, an unread 重大 warning alerted again after 10 minutes), and a new 重大 alert lights the red
banner and beeps. Enter (or Ctrl+K) on an unread warning records that it was read, by whom and when; a double click
(or Ctrl+O, or Enter in the other lists) opens the case's history."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QAbstractTableModel, QEvent, QModelIndex, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QKeyEvent, QKeySequence, QShortcut, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMainWindow,
    QPushButton,
    QSplitter,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from desk.core.cases import CHANNEL_LABELS
from desk.core.clock import CHINA_TZ, local_date
from desk.core.grids import bundled_grids
from desk.core.permissions import actor_name
from desk.ui.case_history import CaseHistoryDialog, full_record
from desk.ui.models.base import ITEM_ROLE
from desk.ui.models.case_table import china_time
from desk.ui.models.supervision_tables import (
    FollowUpDueTableModel,
    LateWhistleTableModel,
    OverdueTableModel,
    RowsModel,
)
from desk.ui.models.warning_table import WarningTableModel
from desk.ui.ops import Op, OpRunner
from desk.ui.supervisor.banner import SeriousWarningBanner
from desk.ui.supervisor.dashboard import DashboardPanel
from desk.ui.supervisor.trend import TrendPanel, window_of

if TYPE_CHECKING:
    from desk.errors import DeskError
    from desk.services.alerts import SweepReport, WarningService, WarningView, WhistleService, WhistleView
    from desk.services.handling import CaseHandlingService, FollowUpDue, OverdueCase
    from desk.services.registration import RegistrationService
    from desk.services.reports import Dashboard, ReportService
    from desk.services.rooms import RoomsService
    from desk.services.views import CaseDetail

logger = logging.getLogger(__name__)

POLL_MS = 1000  # the change mark is looked at this often: a warning raised anywhere shows within it
SWEEP_MS = 60_000  # the sweep (and a full re-read: days pass without an event) this often
ACKNOWLEDGED_SHOWN = 100
ACK_KEYS = "Ctrl+K"
OPEN_KEYS = "Ctrl+O"
TAB_WARNINGS, TAB_OVERDUE, TAB_WHISTLES, TAB_FOLLOW_UPS = range(4)


@dataclass(frozen=True)
class SupervisionRead:
    """One look at the hall, read on a worker thread: the change mark it reflects and `now` the lists were
    read at."""

    mark: int
    now: dt.datetime
    open_warnings: list[WarningView]
    acknowledged: list[WarningView]
    overdue: list[OverdueCase]
    late: list[WhistleView]
    follow_ups: list[FollowUpDue]
    room_names: dict[str, str]
    dashboard: Dashboard | None = None


@dataclass(frozen=True)
class SupervisionServices:
    """What the supervisor's window reads and does."""

    warnings: WarningService
    whistles: WhistleService
    handling: CaseHandlingService
    registration: RegistrationService
    rooms: RoomsService
    reports: ReportService | None = None
    """The day's figures (今日概况); None: the window has no such tab."""


def read_supervision(services: SupervisionServices, known: int) -> SupervisionRead | None:
    """On a worker: every list, unless the change mark is still `known` (then None). The mark is read first: an
    event landing meanwhile makes the next look read again."""
    mark = services.warnings.change_mark()
    if mark == known:
        return None
    now = services.warnings.now()
    return SupervisionRead(
        mark=mark,
        now=now,
        open_warnings=services.warnings.open_warnings(),
        acknowledged=services.warnings.acknowledged(ACKNOWLEDGED_SHOWN),
        overdue=services.handling.overdue(now),
        late=services.whistles.late(now),
        follow_ups=services.handling.follow_ups_due(local_date(now)),
        room_names={r.code: f"{r.number}号{r.name}" for r in services.rooms.rooms()},
        dashboard=services.reports.dashboard() if services.reports is not None else None,
    )


def _table(parent: QWidget, model: QAbstractTableModel, stretch: int) -> QTableView:
    view = QTableView(parent)
    view.setModel(model)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.verticalHeader().setVisible(False)
    view.setWordWrap(False)
    view.setAlternatingRowColors(True)
    header = view.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header.setSectionResizeMode(stretch, QHeaderView.ResizeMode.Stretch)
    return view


def _caption(text: str, parent: QWidget) -> QLabel:
    label = QLabel(text, parent)
    font = label.font()
    font.setBold(True)
    label.setFont(font)
    return label


class SupervisorWindow(QMainWindow):
    """督办: warnings, overdue cases, late whistles and follow-ups due, kept fresh by the change mark."""

    sig_refreshed = Signal(int)
    """The lists were re-read; carries the change mark they reflect."""

    sig_acknowledged = Signal(object)
    """A warning was read here; carries the `WarningView` with who read it and when."""

    sig_swept = Signal(object)
    """A sweep finished; carries its `SweepReport`."""

    sig_case_opened = Signal(object)
    """A case's history was opened from a list; carries the `CaseHistoryDialog`."""

    def __init__(
        self,
        services: SupervisionServices,
        *,
        hall_name: str = "",
        poll_ms: int = POLL_MS,
        sweep_ms: int = SWEEP_MS,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._services = services
        self.ops = OpRunner(self, report=self._say)
        self._mark = -1
        self._stale = False
        self._store_down = False
        self._first_read = True
        self._room_names: dict[str, str] = {}
        self.history_dialogs: list[CaseHistoryDialog] = []
        self.setWindowTitle(
            self.tr("一厅通 · {hall} · 督办").format(hall=hall_name)
            if hall_name
            else self.tr("一厅通 · 督办")
        )

        central = QWidget(self)
        outer = QVBoxLayout(central)
        outer.setContentsMargins(8, 8, 8, 4)
        self.banner = SeriousWarningBanner(parent=central)
        outer.addWidget(self.banner)
        self.tabs = QTabWidget(central)
        outer.addWidget(self.tabs, 1)
        self.setCentralWidget(central)

        # 预警: the unread on top (Enter reads one), the read below with who read each and when.
        page = QWidget(self.tabs)
        splitter = QSplitter(Qt.Orientation.Vertical, page)
        top = QWidget(splitter)
        top_layout = QVBoxLayout(top)
        top_layout.setContentsMargins(0, 0, 0, 0)
        top_layout.addWidget(_caption(self.tr("未阅预警（重大在前）"), top))
        self.open_model = WarningTableModel(parent=self)
        self.open_view = _table(top, self.open_model, WarningTableModel.MESSAGE)
        top_layout.addWidget(self.open_view, 1)
        buttons = QHBoxLayout()
        self.ack_button = QPushButton(self.tr("确认已阅（回车 / Ctrl+K）"), top)
        self.ack_button.setAutoDefault(False)
        self.open_button = QPushButton(self.tr("查看案件（双击 / Ctrl+O）"), top)
        self.open_button.setAutoDefault(False)
        buttons.addWidget(self.ack_button)
        buttons.addWidget(self.open_button)
        buttons.addStretch(1)
        top_layout.addLayout(buttons)
        bottom = QWidget(splitter)
        bottom_layout = QVBoxLayout(bottom)
        bottom_layout.setContentsMargins(0, 0, 0, 0)
        bottom_layout.addWidget(
            _caption(self.tr("已阅预警（最近 {n} 条）").format(n=ACKNOWLEDGED_SHOWN), bottom)
        )
        self.acknowledged_model = WarningTableModel(acknowledged=True, parent=self)
        self.acknowledged_view = _table(bottom, self.acknowledged_model, WarningTableModel.MESSAGE)
        bottom_layout.addWidget(self.acknowledged_view, 1)
        splitter.addWidget(top)
        splitter.addWidget(bottom)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        page_layout = QVBoxLayout(page)
        page_layout.addWidget(splitter)
        self.tabs.addTab(page, "")

        self.overdue_model = OverdueTableModel(parent=self)
        self.overdue_view = self._list_tab(
            self.overdue_model,
            OverdueTableModel.CATEGORY,
            self.tr("未办结且已过办理期限的案件（期限中止的不计），逾期最久的在前"),
        )
        self.whistle_model = LateWhistleTableModel(parent=self)
        self.whistle_view = self._list_tab(
            self.whistle_model,
            LateWhistleTableModel.MATTER,
            self.tr("被吹哨部门未在时限内签收、报到或反馈的，每个超时环节一行"),
        )
        self.follow_up_model = FollowUpDueTableModel(parent=self)
        self.follow_up_view = self._list_tab(
            self.follow_up_model, FollowUpDueTableModel.CATEGORY, self.tr("今日到期及逾期未回访的已办结案件")
        )
        # 今日概况: the day's figures; a number with a list behind it opens its tab
        self.dashboard: DashboardPanel | None = None
        if services.reports is not None:
            self.dashboard = DashboardPanel(self.tabs)
            self.tabs.addTab(self.dashboard, self.tr("今日概况"))
            tabs = {"warnings": TAB_WARNINGS, "overdue": TAB_OVERDUE, "whistles": TAB_WHISTLES}
            tabs["follow_ups"] = TAB_FOLLOW_UPS
            self.dashboard.sig_open.connect(lambda key: self.tabs.setCurrentIndex(tabs[key]))
        # 纠纷走势: the trend chart, read when shown and when its filters change
        self.trend: TrendPanel | None = None
        if services.reports is not None:
            self.trend = TrendPanel(
                {c.code: c.name for c in services.registration.categories()},
                {c.value: label for c, label in CHANNEL_LABELS.items()},
                [(g.code, g.name) for g in bundled_grids()],
                self.tabs,
            )
            self.tabs.addTab(self.trend, self.tr("纠纷走势"))
            self.trend.sig_filters_changed.connect(self.read_trend)
            self.trend.sig_point.connect(self._on_trend_point)
            self.trend.cases_view.doubleClicked.connect(self._on_trend_case)
            self.tabs.currentChanged.connect(
                lambda i: self.read_trend() if self.tabs.widget(i) is self.trend else None
            )
        self._update_tab_titles()

        self.actor_label = QLabel(
            self.tr("值班：{actor}").format(actor=services.warnings.principal.name), self
        )
        self.read_label = QLabel(self)
        self.sweep_label = QLabel(self)
        for label in (self.sweep_label, self.read_label, self.actor_label):
            self.statusBar().addPermanentWidget(label)

        self._views = (
            self.open_view,
            self.acknowledged_view,
            self.overdue_view,
            self.whistle_view,
            self.follow_up_view,
        )
        for view in self._views:
            view.installEventFilter(self)
            view.doubleClicked.connect(self._on_row_double_clicked)
        self.ack_button.clicked.connect(self._on_ack_requested)
        self.open_button.clicked.connect(self._on_open_requested)
        ack = QShortcut(QKeySequence(ACK_KEYS), self)
        ack.activated.connect(self._on_ack_requested)
        open_case = QShortcut(QKeySequence(OPEN_KEYS), self)
        open_case.activated.connect(self._on_open_requested)
        refresh = QShortcut(QKeySequence("F5"), self)
        refresh.activated.connect(self._on_refresh_requested)

        self._poll = QTimer(self)
        self._poll.setInterval(poll_ms)
        self._poll.timeout.connect(self._on_poll)
        self._sweep = QTimer(self)
        self._sweep.setInterval(sweep_ms)
        self._sweep.timeout.connect(self._on_sweep_due)
        self.resize(1280, 720)
        self.refresh(force=True)

    def _list_tab(self, model: QAbstractTableModel, stretch: int, hint: str) -> QTableView:
        page = QWidget(self.tabs)
        layout = QVBoxLayout(page)
        view = _table(page, model, stretch)
        layout.addWidget(view, 1)
        note = QLabel(hint + self.tr("；双击或回车查看案件"), page)
        note.setStyleSheet("color: #555;")
        layout.addWidget(note)
        self.tabs.addTab(page, "")
        return view

    # --- reading ---------------------------------------------------------------------------------

    def refresh(self, *, force: bool = False) -> Op[SupervisionRead | None] | None:
        """Re-read every list, off the UI thread, if the hall's change mark moved (always with `force`); a read
        still under way makes this one unnecessary (a forced one is then made at the next look)."""
        force = force or self._stale
        services, known = self._services, -1 if force else self._mark
        op = self.ops.run(
            lambda: read_supervision(services, known),
            key="refresh",
            name="supervision refresh",
            success=self._on_read,
            failure=self._on_read_failed,
            unexpected=self._on_store_away,
        )
        self._stale = force and op is None
        return op

    def _on_read(self, read: SupervisionRead | None) -> None:
        if self._store_down:
            logger.info("supervision: store readable again")
            self._store_down = False
            self.statusBar().clearMessage()
        if read is None:
            return
        self._mark = read.mark
        self._room_names = read.room_names
        self._keep_selection(self.open_view, lambda: self.open_model.set_warnings(read.open_warnings))
        self._keep_selection(
            self.acknowledged_view,
            lambda: self.acknowledged_model.set_warnings(read.acknowledged),
        )
        self._keep_selection(
            self.overdue_view,
            lambda: self.overdue_model.set_cases(read.overdue, room_names=read.room_names),
        )
        self._keep_selection(
            self.whistle_view, lambda: self.whistle_model.set_whistles(read.late, now=read.now)
        )
        self._keep_selection(
            self.follow_up_view,
            lambda: self.follow_up_model.set_follow_ups(read.follow_ups, today=local_date(read.now)),
        )
        if self.dashboard is not None and read.dashboard is not None:
            self.dashboard.show_dashboard(read.dashboard, read.room_names)
        self._update_tab_titles()
        self.banner.show_warnings(read.open_warnings)
        self.read_label.setText(
            self.tr("更新于 {time}").format(time=read.now.astimezone(CHINA_TZ).strftime("%H:%M:%S"))
        )
        if self._first_read:
            self._first_read = False
            if self.open_model.rowCount():
                self.open_view.selectRow(0)
        self.sig_refreshed.emit(read.mark)

    def _keep_selection(self, view: QTableView, reset: Callable[[], None]) -> None:
        """Reset a list, keeping the selected row's item selected when it is still there (else the row now in
        its place)."""
        index = view.currentIndex()
        key = _row_key(index.data(ITEM_ROLE)) if index.isValid() else None
        reset()
        if key is None:
            return
        table = view.model()
        for row in range(table.rowCount()):
            if _row_key(table.index(row, 0).data(ITEM_ROLE)) == key:
                view.selectRow(row)
                return
        if table.rowCount():
            view.selectRow(min(index.row(), table.rowCount() - 1))

    def _update_tab_titles(self) -> None:
        titles = (
            (self.tr("预警"), self.open_model.rowCount()),
            (self.tr("逾期案件"), self.overdue_model.rowCount()),
            (self.tr("吹哨超时"), self.whistle_model.rowCount()),
            (self.tr("今日回访"), self.follow_up_model.rowCount()),
        )
        for i, (title, n) in enumerate(titles):
            self.tabs.setTabText(i, f"{title}（{n}）")

    def _on_read_failed(self, error: DeskError) -> None:
        self._say(error.message)

    def _on_store_away(self, error: BaseException) -> None:
        if not self._store_down:
            logger.error("supervision: cannot read the store; retrying", exc_info=error)
            self.statusBar().showMessage(self.tr("暂时无法读取数据库，正在重试……"))
        self._store_down = True

    # --- the sweep -------------------------------------------------------------------------------

    def sweep_now(self) -> Op[SweepReport] | None:
        """Run the warnings' sweep off the UI thread (what time has brought: deadline stages, whistle clocks,
        an unread 重大 warning alerted again), then re-read everything (days pass without an event)."""
        warnings = self._services.warnings
        op = self.ops.run(warnings.sweep, key="sweep", name="warnings sweep", success=self._on_swept)
        self.refresh(force=True)
        return op

    def _on_swept(self, report: SweepReport) -> None:
        self.sweep_label.setText(
            self.tr("巡查于 {time}").format(
                time=self._services.warnings.now().astimezone(CHINA_TZ).strftime("%H:%M")
            )
        )
        if not report.empty:
            self.statusBar().showMessage(
                self.tr("巡查：新预警 {raised} 条，重大预警再次提醒 {again} 条").format(
                    raised=len(report.raised), again=len(report.realerted)
                ),
                30_000,
            )
        self.sig_swept.emit(report)

    # --- acting on a row -------------------------------------------------------------------------

    def selected_warning(self) -> WarningView | None:
        index = self.open_view.currentIndex()
        if not index.isValid() or not self.open_view.selectionModel().isRowSelected(
            index.row(), QModelIndex()
        ):
            return None
        return self.open_model.warning_at(index.row())

    def acknowledge_selected(self) -> Op[WarningView] | None:
        """确认已阅 the selected unread warning: the service records who (the signed-in supervisor) and when."""
        warning = self.selected_warning()
        if warning is None:
            self._say(self.tr("请先在“未阅预警”中选中要确认的预警"))
            return None
        warnings = self._services.warnings
        return self.ops.run(
            lambda: warnings.acknowledge(warning.id),
            name="acknowledge warning",
            success=self._on_acknowledged,
        )

    def _on_acknowledged(self, warning: WarningView) -> None:
        when = china_time(warning.acknowledged_at) if warning.acknowledged_at is not None else ""
        self.statusBar().showMessage(
            self.tr("已确认 {case_no} 的{level}预警：{by} 于 {when}").format(
                case_no=warning.case_no,
                level=warning.level_label,
                by=actor_name(warning.acknowledged_by or ""),
                when=when,
            ),
            15_000,
        )
        self.sig_acknowledged.emit(warning)
        self.refresh(force=True)

    # --- the trend chart --------------------------------------------------------------------------------

    def read_trend(self) -> Op[Any] | None:
        """Read the trend for the chart's period and filters, off the UI thread."""
        panel, reports = self.trend, self._services.reports
        if panel is None or reports is None:
            return None
        grain, filters = panel.grain, panel.filters()

        def read() -> Any:
            first, last = window_of(local_date(reports.now()), grain)
            return reports.trend(first, last, grain, **filters)

        return self.ops.run(
            read, key="trend", name="trend", success=panel.show_trend, failure=self._on_read_failed
        )

    def _on_trend_point(self, category: str, period: dt.date) -> None:
        panel, reports = self.trend, self._services.reports
        if panel is None or reports is None:
            return
        grain, filters = panel.grain, {**panel.filters(), "categories": (category,)}
        self.ops.run(
            lambda: reports.trend_cases(period, grain, **filters),
            name="trend cases",
            success=lambda cases: panel.show_cases(category, period, cases),
            failure=self._on_read_failed,
        )

    def _on_trend_case(self, index: QModelIndex) -> None:
        case = index.data(ITEM_ROLE)
        if case is not None:
            self.open_case(case.case_no)

    def open_case(self, case_no: str) -> Op[tuple[CaseDetail, dict[str, str]]] | None:
        """Open a case's history in its own (non-modal) dialog, once it is read (`sig_case_opened`)."""
        registration = self._services.registration

        def read() -> tuple[CaseDetail, dict[str, str]]:
            return registration.case(case_no), {c.code: c.name for c in registration.categories()}

        return self.ops.run(read, name=f"case {case_no}", success=self._show_case)

    def _show_case(self, read: tuple[CaseDetail, Mapping[str, str]]) -> None:
        detail, names = read
        dialog = CaseHistoryDialog(
            detail,
            category_names=names,
            room_names=self._room_names,
            reload=self._services.registration.case,
            reveal=full_record(self._services.registration),
            parent=self,
        )
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.destroyed.connect(lambda _obj=None, d=dialog: self._forget(d))
        self.history_dialogs.append(dialog)
        dialog.show()
        self.sig_case_opened.emit(dialog)

    def _forget(self, dialog: CaseHistoryDialog) -> None:
        if dialog in self.history_dialogs:
            self.history_dialogs.remove(dialog)

    def current_case_no(self) -> str | None:
        """The case of the selected row in the list on screen (the unread warnings on the 预警 tab, unless the
        read ones have the focus)."""
        view = self._current_view()
        index = view.currentIndex()
        if not index.isValid():
            return None
        return self._case_at(view, index.row())

    def _current_view(self) -> QTableView:
        tab = self.tabs.currentIndex()
        if tab == TAB_WARNINGS:
            return self.acknowledged_view if self.acknowledged_view.hasFocus() else self.open_view
        return (self.open_view, self.overdue_view, self.whistle_view, self.follow_up_view)[tab]

    def _case_at(self, view: QTableView, row: int) -> str:
        if view is self.open_view:
            return self.open_model.warning_at(row).case_no
        if view is self.acknowledged_view:
            return self.acknowledged_model.warning_at(row).case_no
        model = view.model()
        assert isinstance(model, RowsModel)
        return model.case_at(row)

    def _say(self, message: str) -> None:
        self.statusBar().showMessage(message, 15_000)

    # --- slots -----------------------------------------------------------------------------------

    def _on_poll(self) -> None:
        self.refresh()

    def _on_refresh_requested(self) -> None:
        self.refresh(force=True)

    def _on_sweep_due(self) -> None:
        self.sweep_now()

    def _on_ack_requested(self) -> None:
        if self.tabs.currentIndex() == TAB_WARNINGS:
            self.acknowledge_selected()

    def _on_open_requested(self) -> None:
        case_no = self.current_case_no()
        if case_no is None:
            self._say(self.tr("请先选中一行"))
            return
        self.open_case(case_no)

    def _on_row_double_clicked(self, index: QModelIndex) -> None:
        view = self.sender()
        if isinstance(view, QTableView) and index.isValid():
            self.open_case(self._case_at(view, index.row()))

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        if (
            watched in self._views
            and event.type() == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
            and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
        ):
            assert isinstance(watched, QTableView)
            if watched is self.open_view:
                self.acknowledge_selected()
            elif watched.currentIndex().isValid():
                self.open_case(self._case_at(watched, watched.currentIndex().row()))
            return True
        return super().eventFilter(watched, event)

    # --- Qt --------------------------------------------------------------------------------------

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt's name
        super().showEvent(event)
        if not self._poll.isActive():
            self._poll.start()
            self._sweep.start()
            self.sweep_now()
        self.open_view.setFocus()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt's name
        self._poll.stop()
        self._sweep.stop()
        for dialog in list(self.history_dialogs):
            dialog.close()
        super().closeEvent(event)


def _row_key(item: object) -> object:
    """What identifies a row across re-reads: a warning's id, a case's number, a whistle row and its clock."""
    if isinstance(item, tuple):
        return (item[0].id, item[1].clock)
    return getattr(item, "id", None) or getattr(item, "case_no", None)
