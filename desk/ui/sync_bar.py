"""Sync with the county as the hall sees it: rounds run off the GUI thread (`SyncRunner`), and a status-bar
widget (`SyncStatusBar`) says when the last round succeeded, how many events wait to go up, what went wrong,
and offers "立即同步"."""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Callable
from typing import TYPE_CHECKING

import shiboken6
from PySide6.QtCore import QCoreApplication, QObject, Qt, QThread, QTimer, Signal, Slot
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QWidget

from desk.core.clock import CHINA_TZ, Clock, SystemClock, local_date
from desk.sync.engine import RoundReport, SyncError
from desk.ui.ops import OpRunner

if TYPE_CHECKING:
    from desk.sync.engine import Syncer, SyncStatus

logger = logging.getLogger(__name__)

STATUS_POLL_MS = 5000  # the waiting count follows other terminals' work this often (one cheap local read)
SHUTDOWN_WAIT_MS = 15_000  # a round cut short by closing: the county connection gives up within its timeout
ERROR_WIDTH_CHARS = (
    20  # the error's first clause is shown at most this wide (elided); the tooltip has all of it
)
ERROR_COLOUR = "#c62828"


class _Rounds:
    """The syncer a worker thread uses, made on the first round (connecting is the worker's job, not the GUI's)
    and kept between rounds so the county connection is reused."""

    def __init__(self, make_syncer: Callable[[], Syncer]) -> None:
        self._make = make_syncer
        self._syncer: Syncer | None = None

    def run(self) -> RoundReport:
        if self._syncer is None:
            self._syncer = self._make()
        return self._syncer.run_once()

    def close(self) -> None:
        syncer, self._syncer = self._syncer, None
        if syncer is not None:
            syncer.close()


class _SyncWorker(QObject):
    """Lives in the sync thread; runs one round per request and reports it. Never touches a widget."""

    sig_done = Signal(object)
    """A round ended; carries the `RoundReport`, or the message (str) of a failed round."""

    def __init__(self, rounds: _Rounds) -> None:
        super().__init__()
        self._rounds = rounds
        self._failing = False

    @Slot()
    def run_round(self) -> None:
        try:
            result: object = self._rounds.run()
        except SyncError as e:
            # A county down all day fails a round every interval: warn when it starts, not every time.
            logger.log(logging.INFO if self._failing else logging.WARNING, "sync failed: %s", e.message)
            result = e.message
        except Exception:  # noqa: BLE001 - a worker thread has no excepthook dialog: log it and say so
            logger.exception("sync round failed unexpectedly")
            result = QCoreApplication.translate(
                "desk.ui.sync_bar", "同步时出现意外错误，已记入日志；本机继续工作，稍后自动重试"
            )
        if isinstance(result, RoundReport) and self._failing:
            logger.info("sync works again")
        self._failing = not isinstance(result, RoundReport)
        self.sig_done.emit(result)


class SyncRunner(QObject):
    """Rounds of sync with the county in a thread of their own: every `interval_s` seconds once `start()`ed, and
    whenever asked (`request_round`); one round at a time. `shutdown()` (on closing the window, or when the
    application quits) waits for a round in flight and closes the county connection."""

    sig_started = Signal()
    """A round began in the sync thread."""

    sig_finished = Signal(object)
    """A round succeeded; carries the `RoundReport`."""

    sig_failed = Signal(str)
    """A round failed; carries its message (plain Chinese, no password)."""

    _sig_run = Signal()

    def __init__(
        self, make_syncer: Callable[[], Syncer], *, interval_s: float = 30, parent: QObject | None = None
    ) -> None:
        """`make_syncer` is called in the sync thread, on the first round."""
        super().__init__(parent)
        self._rounds = _Rounds(make_syncer)
        self._running = False
        self._thread: QThread | None = None
        self._worker: _SyncWorker | None = None
        self._stopped = False
        self._timer = QTimer(self)
        self._timer.setInterval(max(1, round(interval_s * 1000)))
        self._timer.timeout.connect(self._on_tick)
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)

    @property
    def running(self) -> bool:
        """A round is in flight."""
        return self._running

    @property
    def interval_ms(self) -> int:
        return self._timer.interval()

    def start(self) -> None:
        """Sync every interval from now on (the first round one interval from now; `request_round` for one now)."""
        if not self._stopped:
            self._timer.start()

    def request_round(self) -> bool:
        """Start a round now, unless one is running (or the runner was shut down); True if one was started."""
        if self._running or self._stopped:
            return False
        if self._thread is None:
            self._start_thread()
        self._running = True
        self.sig_started.emit()
        self._sig_run.emit()
        return True

    def shutdown(self) -> None:
        """Stop the timer and the thread (letting a round in flight end), then close the county connection."""
        if self._stopped:
            return
        self._stopped = True
        self._timer.stop()
        thread, self._thread = self._thread, None
        if thread is not None:
            _stop_thread(thread)
        self._worker = None
        self._rounds.close()

    def _start_thread(self) -> None:
        thread = QThread()
        thread.setObjectName("county-sync")
        worker = _SyncWorker(self._rounds)
        worker.moveToThread(thread)
        thread.finished.connect(worker.deleteLater)
        # Queued both ways, said explicitly: the round runs in the sync thread, its result is taken in here.
        self._sig_run.connect(worker.run_round, Qt.ConnectionType.QueuedConnection)
        worker.sig_done.connect(self._on_done, Qt.ConnectionType.QueuedConnection)
        self._thread, self._worker = thread, worker
        rounds = self._rounds

        def on_destroyed(_obj: object = None) -> None:
            # Dropped without shutdown() (its window deleted, not closed): a running QThread must not be freed.
            # At interpreter exit Qt may have deleted the thread first: nothing is left to stop then.
            if shiboken6.isValid(thread):
                _stop_thread(thread)
            rounds.close()

        self.destroyed.connect(on_destroyed)
        thread.start()

    def _on_tick(self) -> None:
        self.request_round()

    @Slot(object)
    def _on_done(self, result: object) -> None:
        self._running = False
        if self._stopped:  # the window is closing: nobody to tell
            return
        if isinstance(result, RoundReport):
            self.sig_finished.emit(result)
        else:
            self.sig_failed.emit(str(result))


def error_summary(message: str) -> str:
    """The first clause of a sync error ("无法连接县级数据库"), short enough for the status bar; the address and
    the driver's words follow in the tooltip."""
    head = re.split(r"[（(：:；;，,。]", message, maxsplit=1)[0].strip()
    return head or message


def _stop_thread(thread: QThread) -> None:
    """Let the thread end its round and stop; a round hung beyond any timeout is cut off."""
    thread.quit()
    if not thread.wait(SHUTDOWN_WAIT_MS):
        logger.warning("sync round did not end in %d ms; stopping its thread", SHUTDOWN_WAIT_MS)
        thread.terminate()
        thread.wait()


def sync_time(moment: dt.datetime, *, today: dt.date) -> str:
    """ "10:12" today, "11-26 10:12" on another day (China time)."""
    local = moment.astimezone(CHINA_TZ)
    return local.strftime("%H:%M") if local.date() == today else local.strftime("%m-%d %H:%M")


class SyncStatusBar(QWidget):
    """The status bar's sync corner: "已同步 10:12 · 待上传 3 条", the last error in red (all of it in the tooltip),
    and "立即同步". With no county configured it says so and how to configure one. Without a runner (a room
    terminal: the front desk syncs) it only shows the state."""

    sig_refreshed = Signal(object)
    """The widget shows a fresh state; carries the `SyncStatus` read."""

    def __init__(
        self,
        status: Callable[[], SyncStatus],
        *,
        runner: SyncRunner | None = None,
        configured: bool = True,
        clock: Clock | None = None,
        poll_ms: int = STATUS_POLL_MS,
        parent: QWidget | None = None,
    ) -> None:
        """`status` reads the hall's sync state from the local store (cheap); `runner` syncs, when this window
        does; `configured` is False when no county URL is set."""
        super().__init__(parent)
        self._status = status
        self.runner = runner
        self.configured = configured
        self._clock = clock or SystemClock()
        self._failure = ""  # a failure the store does not record (an unexpected error)
        self.status: SyncStatus | None = None

        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(10)
        self.state_label = QLabel(self)
        self.waiting_label = QLabel(self)
        self.error_label = QLabel(self)
        self.error_label.setStyleSheet(f"color: {ERROR_COLOUR};")
        self.error_label.setTextFormat(Qt.TextFormat.PlainText)
        self.error_label.setMaximumWidth(self.fontMetrics().horizontalAdvance("中") * ERROR_WIDTH_CHARS)
        self.error_label.hide()
        self.sync_button = QPushButton(self.tr("立即同步"), self)
        self.sync_button.setAutoDefault(False)
        self.sync_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # never steals the cursor from the form
        for w in (self.state_label, self.waiting_label, self.error_label, self.sync_button):
            layout.addWidget(w)
        self.sync_button.setVisible(runner is not None)
        self.sync_button.clicked.connect(self._on_sync_requested)
        if runner is not None:
            runner.sig_started.connect(self._on_round_started)
            runner.sig_finished.connect(self._on_round_finished)
            runner.sig_failed.connect(self._on_round_failed)
        self.ops = OpRunner(self, report=logger.warning)
        self._poll = QTimer(self)
        self._poll.setInterval(poll_ms)
        self._poll.timeout.connect(self._on_poll)
        self._poll.start()
        self._show()
        self.refresh()

    def sync_now(self) -> bool:
        """ "立即同步": a round now, in the background; False when none can start (not configured, running)."""
        if self.runner is None or not self.configured:
            return False
        return self.runner.request_round()

    def refresh(self) -> None:
        """Read the sync state again (after a round, a registration, a ticket), off the UI thread, and show it
        (`sig_refreshed`)."""
        self._read(key=None)

    def _on_poll(self) -> None:
        self._read(key="poll")  # a poll still under way makes the next one unnecessary

    def _read(self, *, key: str | None) -> None:
        self.ops.run(
            self._status,
            key=key,
            name="sync status",
            success=self._on_status_read,
            failure=self._on_status_not_read,
            unexpected=self._on_status_not_read,
        )

    def _on_status_not_read(self, error: BaseException) -> None:
        # The status is a nicety: a store hiccup is logged, the corner keeps what it showed.
        logger.warning("sync status not read: %s", type(error).__name__)

    def _on_status_read(self, status: SyncStatus) -> None:
        self.status = status
        if status.last_error:
            self._failure = ""  # the store has the latest word (another terminal may have synced since)
        self._show()
        self.sig_refreshed.emit(status)

    def _show(self) -> None:
        """Show the last state read, and whether a round is running now."""
        status = self.status
        running = self.runner is not None and self.runner.running
        if not self.configured:
            self.state_label.setText(self.tr("未配置县级库"))
            self.state_label.setStyleSheet("color: #555;")
            self.state_label.setToolTip(self._not_configured_hint())
        elif running:
            self.state_label.setText(self.tr("同步中…"))
            self.state_label.setStyleSheet("color: #1565c0;")
        elif status is not None and status.last_success_at is not None:
            when = sync_time(status.last_success_at, today=local_date(self._clock.now()))
            self.state_label.setText(self.tr("已同步 {time}").format(time=when))
            self.state_label.setStyleSheet("color: #2e7d32;" if not self._error(status) else "")
            self.state_label.setToolTip(
                self.tr("上次成功同步：{time}").format(
                    time=status.last_success_at.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M:%S")
                )
            )
        else:
            self.state_label.setText(self.tr("尚未同步"))
            self.state_label.setStyleSheet("color: #b45309;")
            self.state_label.setToolTip("")
        if status is not None:
            self.waiting_label.setText(self.tr("待上传 {n} 条").format(n=status.waiting))
            self.waiting_label.setToolTip(self.tr("本中心尚未被县级库确认收到的记录"))
            self._show_error(self._error(status) if self.configured else "")
        self.sync_button.setEnabled(self.configured and not running)
        self.sync_button.setToolTip(
            self.tr("现在与县级库同步一次（每 {s} 秒也会自动同步）").format(
                s=self.runner.interval_ms // 1000 if self.runner is not None else 0
            )
            if self.configured
            else self._not_configured_hint()
        )

    def shutdown(self) -> None:
        """Stop polling and the runner (the window is closing)."""
        self._poll.stop()
        if self.runner is not None:
            self.runner.shutdown()

    def _not_configured_hint(self) -> str:
        return self.tr(
            "未配置县级数据库：在设置文件中设置 county_db_url，或设置环境变量 DESK_COUNTY_URL，然后重新启动"
        )

    def _error(self, status: SyncStatus) -> str:
        return status.last_error or self._failure

    def _show_error(self, text: str) -> None:
        if not text:
            self.error_label.clear()
            self.error_label.setToolTip("")
            self.error_label.hide()
            return
        width = self.error_label.maximumWidth()
        short = self.fontMetrics().elidedText(error_summary(text), Qt.TextElideMode.ElideRight, width)
        self.error_label.setText(short)
        self.error_label.setToolTip(text)
        self.error_label.show()

    def _on_sync_requested(self) -> None:
        self.sync_now()

    def _on_round_started(self) -> None:
        self._show()  # "同步中…" at once; the store has nothing new to say yet
        self.refresh()

    def _on_round_finished(self, _report: RoundReport) -> None:
        self._failure = ""
        self._show()
        self.refresh()

    def _on_round_failed(self, message: str) -> None:
        # The engine records its failures in the store (other terminals see them too); anything else stays here.
        self._failure = message
        self._show()
        self.refresh()
