"""The 重大 (serious) warning banner: a red line naming the latest unread serious warning, shown at once on every
desk window and on the supervisor's; a new serious alert (raised, or alerted again while unread) beeps."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QApplication, QHBoxLayout, QLabel, QSizePolicy, QWidget

from desk.ui.models.case_table import china_time
from desk.ui.ops import OpRunner

if TYPE_CHECKING:
    from desk.errors import DeskError
    from desk.services.alerts import WarningService, WarningView

logger = logging.getLogger(__name__)

WATCH_MS = 1000  # a serious warning raised anywhere in the hall shows on a desk window within this
BLINK_MS = 500
BLINKS = 10  # a new alert blinks this many times, then stays lit

SERIOUS_BACKGROUND = "#c92a2a"
SERIOUS_BLINK = "#fab005"
SERIOUS_TEXT = "#ffffff"


def _alert_key(w: WarningView) -> tuple[str, dt.datetime]:
    """A warning alerted again is the same warning with a later `raised_at`: a new alert, to beep for."""
    return (w.id, w.raised_at)


class SeriousWarningBanner(QWidget):
    """Shows the unread 重大 warnings it is given (`show_warnings`): hidden when there are none, else the latest
    one's case and message and how many are unread. A new alert beeps (`QApplication.beep`) and blinks."""

    sig_alerted = Signal(object)
    """A serious warning was raised or alerted again since the last look; carries the `WarningView`."""

    def __init__(self, *, hint: str = "", parent: QWidget | None = None) -> None:
        """`hint` says where to read them (a desk window points to the supervisor's window)."""
        super().__init__(parent)
        self._hint = hint
        self._seen: set[tuple[str, dt.datetime]] = set()
        self.serious: list[WarningView] = []
        self.alerts = 0  # new alerts shown (each beeped)
        self.setObjectName("seriousWarningBanner")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 6, 12, 6)
        self.label = QLabel(self)
        self.label.setTextFormat(Qt.TextFormat.PlainText)
        self.label.setWordWrap(True)
        font = self.label.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.25)
        self.label.setFont(font)
        layout.addWidget(self.label, 1)
        self._blinks_left = 0
        self._blink = QTimer(self)
        self._blink.setInterval(BLINK_MS)
        self._blink.timeout.connect(self._on_blink)
        self._paint(lit=False)
        self.hide()

    def show_warnings(self, open_warnings: Sequence[WarningView]) -> list[WarningView]:
        """Show the serious ones among the unread `open_warnings`; returns those that are new alerts (each is
        announced by `sig_alerted`, and the banner beeps once for them)."""
        serious = sorted((w for w in open_warnings if w.serious), key=lambda w: w.raised_at, reverse=True)
        new = [w for w in serious if _alert_key(w) not in self._seen]
        self._seen |= {_alert_key(w) for w in serious}
        self.serious = serious
        if not serious:
            self._blink.stop()
            self.hide()
            return []
        latest = serious[0]
        text = self.tr("重大预警（{n} 条未阅）　{time}　{message}").format(
            n=len(serious), time=china_time(latest.raised_at)[5:], message=latest.message
        )
        if self._hint:
            text += "　" + self._hint
        self.label.setText(text)
        self.setToolTip("\n".join(f"{china_time(w.raised_at)}  {w.message}" for w in serious))
        self.show()
        if new:
            self.alerts += 1
            logger.info("serious warning alert: %d new", len(new))
            QApplication.beep()
            self._blinks_left = BLINKS
            self._blink.start()
            for w in new:
                self.sig_alerted.emit(w)
        return new

    def _on_blink(self) -> None:
        self._blinks_left -= 1
        self._paint(lit=self._blinks_left % 2 == 1)
        if self._blinks_left <= 0:
            self._blink.stop()
            self._paint(lit=False)

    def _paint(self, *, lit: bool) -> None:
        background = SERIOUS_BLINK if lit else SERIOUS_BACKGROUND
        colour = "#000000" if lit else SERIOUS_TEXT
        self.setStyleSheet(
            f"QWidget#seriousWarningBanner {{ background: {background}; border-radius: 4px; }}"
            f" QLabel {{ color: {colour}; }}"
        )


class WarningWatch(QObject):
    """Polls the hall's change mark (`WarningService.change_mark`, cheap) every `poll_ms` off the UI thread and,
    only when it moved, reads the unread warnings into the banner. A store away keeps the last state."""

    sig_read = Signal(int)
    """The unread warnings were read; carries the change mark they reflect."""

    def __init__(
        self,
        warnings: WarningService,
        banner: SeriousWarningBanner,
        *,
        poll_ms: int = WATCH_MS,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._warnings = warnings
        self.banner = banner
        self._mark = -1
        self._store_down = False
        self.ops = OpRunner(self, report=lambda message: logger.info("warning watch: %s", message))
        self._timer = QTimer(self)
        self._timer.setInterval(poll_ms)
        self._timer.timeout.connect(self._on_poll)

    def start(self) -> None:
        self._timer.start()
        self.poll()

    def stop(self) -> None:
        self._timer.stop()

    def poll(self) -> None:
        """Look at the change mark; read the unread warnings if it moved."""
        warnings, known = self._warnings, self._mark

        def read() -> tuple[int, list[WarningView]] | None:
            mark = warnings.change_mark()
            return None if mark == known else (mark, warnings.open_warnings())

        self.ops.run(
            read,
            key="warning watch",
            name="warning watch",
            success=self._on_read,
            failure=self._on_failed,
            unexpected=self._on_store_away,
        )

    def _on_poll(self) -> None:
        self.poll()

    def _on_read(self, read: tuple[int, list[WarningView]] | None) -> None:
        self._store_down = False
        if read is None:
            return
        self._mark, found = read
        self.banner.show_warnings(found)
        self.sig_read.emit(self._mark)

    def _on_failed(self, error: DeskError) -> None:
        logger.info("warning watch not read: %s", type(error).__name__)

    def _on_store_away(self, error: BaseException) -> None:
        if not self._store_down:
            logger.error("warning watch: cannot read the store; retrying", exc_info=error)
        self._store_down = True
