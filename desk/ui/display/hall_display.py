"""The hall's calling screen: the call being made now (ticket → room, and where the room is), the last calls and
how many wait at each open room, in type large enough to read from five metres; new calls flash and are spoken."""

from __future__ import annotations

import collections
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QFont, QFontMetrics, QResizeEvent, QShowEvent
from PySide6.QtWidgets import QFrame, QGridLayout, QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from desk.core.clock import CHINA_TZ
from desk.errors import DeskError
from desk.ui.ops import OpRunner
from desk.ui.screens import follow_full_screen_cursor, install_screen_keys, toggle_full_screen

if TYPE_CHECKING:
    from desk.services.display import CallView, DisplayService, RoomView
    from desk.ui.display.speech import Announcer

logger = logging.getLogger(__name__)

POLL_MS = 300  # a call made on any terminal shows within this (plus one read of the store)
FLASH_MS = 8000  # how long a new call flashes
HOLD_MS = 6000  # a call stays the big one at least this long, even when the next comes at once
BLINK_MS = 500
FULL_REFRESH_MS = 30_000
RECENT_SHOWN = 6
MIN_CALL_PX = 64  # the current call is never smaller than this, whatever the screen

BACKGROUND = "#0d2440"
PANEL = "#12325a"
FLASH = "#ffd54f"
TEXT = "#ffffff"
TICKET_COLOUR = "#ffd54f"
MUTED = "#9fb7d6"
WHERE_COLOUR = "#80deea"


@dataclass(frozen=True)
class _HallRead:
    """What one look at the hall found (read on a worker thread)."""

    mark: int
    calls: list[CallView]
    rooms: list[RoomView]


def _read_hall(display: DisplayService, known: int) -> _HallRead | None:
    """On a worker: the calls and rooms, unless the change mark is still `known` (then None)."""
    mark = display.change_mark()
    if mark == known:
        return None
    return _HallRead(mark, display.recent_calls(limit=RECENT_SHOWN + 4), display.rooms())


def _call_key(c: CallView) -> tuple[str, str, str, int]:
    """A call as the display tells calls apart: a recall of the same ticket is a new call."""
    return (c.ticket, c.room_code, c.called_at.isoformat(), c.recalls)


class HallDisplay(QWidget):
    """Shows what `DisplayService.recent_calls` and `rooms` say, re-read whenever the hall's change mark moves
    (polled every `poll_ms`, so calls from other processes on the same store show too). A new call flashes for
    `flash_ms`, stays the big one at least `hold_ms`, and is announced (twice) by the `Announcer`, which the
    display owns and shuts down when it closes."""

    sig_call_shown = Signal(object)
    """A new call became the big one; carries its `CallView`."""

    sig_refreshed = Signal(int)
    """The display re-read the hall; carries the change mark it reflects."""

    def __init__(
        self,
        display: DisplayService,
        *,
        hall_name: str = "",
        announcer: Announcer | None = None,
        poll_ms: int = POLL_MS,
        flash_ms: int = FLASH_MS,
        hold_ms: int = HOLD_MS,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._display = display
        self.ops = OpRunner(self, report=logger.warning)
        self._announcer = announcer
        self._mark = -1
        self._stale = False
        self._store_down = False
        self._seen: set[tuple[str, str, str, int]] | None = None  # None until the first read
        self._pending: collections.deque[CallView] = collections.deque()
        self.current: CallView | None = None
        self.recent: list[CallView] = []
        self.rooms: list[RoomView] = []
        self._flash_on = False
        self.setWindowTitle(self.tr("一厅通 · 大厅叫号屏"))
        self.setObjectName("hallDisplay")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.setStyleSheet(f"QWidget#hallDisplay {{ background: {BACKGROUND}; }} QLabel {{ color: {TEXT}; }}")

        outer = QVBoxLayout(self)
        outer.setContentsMargins(40, 24, 40, 24)
        outer.setSpacing(18)

        top = QHBoxLayout()
        self.hall_label = QLabel(hall_name, self)
        self.clock_label = QLabel(self)
        self.clock_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        top.addWidget(self.hall_label, 1)
        top.addWidget(self.clock_label)
        outer.addLayout(top)

        middle = QHBoxLayout()
        middle.setSpacing(24)
        self.call_panel = QFrame(self)
        self.call_panel.setObjectName("callPanel")
        panel = QVBoxLayout(self.call_panel)
        panel.setContentsMargins(36, 24, 36, 24)
        panel.setSpacing(6)
        self.now_caption = QLabel(self.tr("正在呼叫"), self.call_panel)
        self.ticket_label = QLabel("—", self.call_panel)
        self.room_label = QLabel(self.tr("请留意叫号"), self.call_panel)
        self.where_label = QLabel(self.call_panel)
        for w in (self.ticket_label, self.room_label, self.where_label):
            w.setWordWrap(False)
        self.room_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        panel.addWidget(self.now_caption)
        panel.addStretch(1)
        panel.addWidget(self.ticket_label)
        panel.addWidget(self.room_label)
        panel.addWidget(self.where_label)
        panel.addStretch(1)
        middle.addWidget(self.call_panel, 62)

        recent_frame = QFrame(self)
        recent_frame.setObjectName("recentPanel")
        recent_box = QVBoxLayout(recent_frame)
        recent_box.setContentsMargins(28, 20, 28, 20)
        self.recent_caption = QLabel(self.tr("最近呼叫"), recent_frame)
        recent_box.addWidget(self.recent_caption)
        self.recent_labels: list[QLabel] = []
        for _ in range(RECENT_SHOWN):
            label = QLabel(recent_frame)
            label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
            recent_box.addWidget(label)
            self.recent_labels.append(label)
        recent_box.addStretch(1)
        middle.addWidget(recent_frame, 38)
        outer.addLayout(middle, 1)

        waiting_frame = QFrame(self)
        waiting_frame.setObjectName("waitingPanel")
        waiting_box = QVBoxLayout(waiting_frame)
        waiting_box.setContentsMargins(28, 14, 28, 14)
        self.waiting_caption = QLabel(self.tr("各室等候人数"), waiting_frame)
        waiting_box.addWidget(self.waiting_caption)
        self._waiting_grid = QGridLayout()
        self._waiting_grid.setHorizontalSpacing(36)
        self._waiting_grid.setVerticalSpacing(6)
        waiting_box.addLayout(self._waiting_grid)
        self.waiting_labels: dict[str, QLabel] = {}
        outer.addWidget(waiting_frame)
        self.recent_caption.setStyleSheet(f"color: {MUTED};")
        self.waiting_caption.setStyleSheet(f"color: {MUTED};")
        recent_frame.setStyleSheet(f"QFrame#recentPanel {{ background: {PANEL}; border-radius: 12px; }}")
        waiting_frame.setStyleSheet(f"QFrame#waitingPanel {{ background: {PANEL}; border-radius: 12px; }}")

        self._poll = QTimer(self)
        self._poll.setInterval(poll_ms)
        self._poll.timeout.connect(self._on_poll)
        self._full = QTimer(self)
        self._full.setInterval(FULL_REFRESH_MS)
        self._full.timeout.connect(self._on_full_refresh)
        self._blink = QTimer(self)
        self._blink.setInterval(BLINK_MS)
        self._blink.timeout.connect(self._on_blink)
        self._flash_end = QTimer(self)
        self._flash_end.setSingleShot(True)
        self._flash_end.setInterval(flash_ms)
        self._flash_end.timeout.connect(self._on_flash_ended)
        self._hold = QTimer(self)
        self._hold.setSingleShot(True)
        self._hold.setInterval(hold_ms)
        self._hold.timeout.connect(self._on_hold_ended)

        install_screen_keys(self)

        self._paint_panel(flash=False)
        self._apply_scale()
        self.resize(1280, 720)
        self.refresh(force=True)

    # --- reading the hall --------------------------------------------------------------------------

    def refresh(self, *, force: bool = False) -> None:
        """Re-read calls and rooms, off the UI thread, if the hall's change mark moved (always with `force`);
        `sig_refreshed` says when the screen shows them. A read still under way makes this one unnecessary."""
        self.clock_label.setText(self._display.now().astimezone(CHINA_TZ).strftime("%H:%M"))
        force = force or self._stale
        display, known = self._display, -1 if force else self._mark
        op = self.ops.run(
            lambda: _read_hall(display, known),
            key="refresh",
            name="display refresh",
            success=self._on_read,
            failure=self._on_read_failed,
            unexpected=self._on_store_away,
        )
        if op is not None and force:
            self._stale = False

    def _on_read(self, read: _HallRead | None) -> None:
        if self._store_down:
            logger.info("display: store readable again")
            self._store_down = False
        if read is None:  # nothing happened since the last look
            return
        self._mark = read.mark
        self.recent = read.calls
        self.rooms = read.rooms
        self._show_waiting()
        self._show_recent()
        self._take_new_calls(read.calls)
        self.sig_refreshed.emit(read.mark)

    def _on_read_failed(self, error: DeskError) -> None:
        # The store away for a moment: keep showing the last state. Nobody at the screen to tell.
        logger.warning("display refresh failed: %s", type(error).__name__)

    def _on_store_away(self, error: BaseException) -> None:
        # Not the excepthook's dialog every 300 ms on the hall's screen: keep the last state, log once per outage.
        if not self._store_down:
            logger.error("display: cannot read the store; retrying", exc_info=error)
        self._store_down = True

    def _take_new_calls(self, calls: list[CallView]) -> None:
        keys = {_call_key(c) for c in calls}
        if self._seen is None:
            # On start the latest call is shown quietly: an old call must not be announced again.
            self._seen = keys
            if calls:
                self._show_call(calls[0], fresh=False)
            return
        new = [c for c in reversed(calls) if _call_key(c) not in self._seen]  # oldest first
        self._seen |= keys
        self._pending.extend(new)
        if new and not self._hold.isActive():
            self._show_next()

    def _show_next(self) -> None:
        if self._pending:
            self._show_call(self._pending.popleft(), fresh=True)

    def _show_call(self, call: CallView, *, fresh: bool) -> None:
        self.current = call
        self.ticket_label.setText(call.ticket)
        self.room_label.setText(
            self.tr("→ {number}号{name}").format(number=call.room_number, name=call.room_name)
            if call.room_number
            else self.tr("→ {name}").format(name=call.room_name)
        )
        self.where_label.setText(call.location)
        self.where_label.setVisible(bool(call.location))
        self.call_panel.setAccessibleName(call.text)
        self._fit_room_label()
        self._show_recent()  # the call that was big until now joins the last calls
        if not fresh:
            return
        logger.info("display: calling %s to %s", call.ticket, call.room_code)
        self._flash_on = True
        self._paint_panel(flash=True)
        self._blink.start()
        self._flash_end.start()
        self._hold.start()
        if self._announcer is not None:
            self._announcer.announce(call.spoken)
        self.sig_call_shown.emit(call)

    def _show_recent(self) -> None:
        earlier = [c for c in self.recent if self.current is None or _call_key(c) != _call_key(self.current)]
        for label, call in zip(self.recent_labels, [*earlier, *[None] * RECENT_SHOWN], strict=False):
            if call is None:
                label.setText("")
                continue
            where = f"{call.room_number}号{call.room_name}" if call.room_number else call.room_name
            label.setText(f"{call.ticket}　{where}")

    def _show_waiting(self) -> None:
        while self._waiting_grid.count():
            item = self._waiting_grid.takeAt(0)
            w = item.widget() if item is not None else None
            if w is not None:
                w.deleteLater()
        self.waiting_labels = {}
        shown = [r for r in self.rooms if r.is_open and (r.categories or r.waiting)]
        columns = 3
        for i, r in enumerate(shown):
            label = QLabel(
                self.tr("{number}号{name}　{n} 人").format(number=r.number, name=r.name, n=r.waiting), self
            )
            label.setFont(self._waiting_font)
            self.waiting_labels[r.code] = label
            row, col = divmod(i, columns)
            self._waiting_grid.addWidget(label, row, col)

    # --- looks ---------------------------------------------------------------------------------

    def _paint_panel(self, *, flash: bool) -> None:
        background = FLASH if flash else PANEL
        ticket, room, where = (
            ("#0d2440", "#0d2440", "#12325a") if flash else (TICKET_COLOUR, TEXT, WHERE_COLOUR)
        )
        self.call_panel.setStyleSheet(
            f"QFrame#callPanel {{ background: {background}; border-radius: 16px; }}"
            f"QLabel {{ background: transparent; }}"
        )
        self.ticket_label.setStyleSheet(f"color: {ticket};")
        self.room_label.setStyleSheet(f"color: {room};")
        self.where_label.setStyleSheet(f"color: {where};")
        self.now_caption.setStyleSheet(f"color: {'#0d2440' if flash else MUTED};")

    @property
    def flashing(self) -> bool:
        return self._flash_end.isActive()

    def _apply_scale(self) -> None:
        """Type sized by the screen's height (a 1080-line screen is the reference), never below readable."""
        scale = max(self.height(), 600) / 1080

        def font(px: float, *, bold: bool = False, floor: int = 24) -> QFont:
            f = QFont(self.font())
            f.setPixelSize(max(floor, int(px * scale)))
            f.setBold(bold)
            return f

        self.ticket_label.setFont(font(270, bold=True, floor=MIN_CALL_PX))
        self.room_label.setFont(font(104, bold=True, floor=MIN_CALL_PX))  # _fit_room_label may shrink it
        self.where_label.setFont(font(64, floor=48))
        self.now_caption.setFont(font(44, bold=True))
        self.hall_label.setFont(font(44, bold=True))
        self.clock_label.setFont(font(44, bold=True))
        self.recent_caption.setFont(font(40, bold=True))
        for label in self.recent_labels:
            label.setFont(font(50))
        self.waiting_caption.setFont(font(36, bold=True))
        self._waiting_font = font(40)
        for label in self.waiting_labels.values():
            label.setFont(self._waiting_font)
        self._fit_room_label()

    def _fit_room_label(self) -> None:
        """A long room name ("法律援助/律师调解室") shrinks to fit the panel, down to the readable minimum."""
        font = QFont(self.room_label.font())
        full = max(MIN_CALL_PX, int(104 * max(self.height(), 600) / 1080))
        room_width = self.call_panel.contentsRect().width() - 80
        font.setPixelSize(full)
        text = self.room_label.text()
        while font.pixelSize() > MIN_CALL_PX and QFontMetrics(font).horizontalAdvance(text) > room_width:
            font.setPixelSize(font.pixelSize() - 4)
        self.room_label.setFont(font)

    # --- slots -----------------------------------------------------------------------------------

    def _on_poll(self) -> None:
        self.refresh()

    def _on_full_refresh(self) -> None:
        """Room settings (open/closed, names) change without an event in the hall: re-read them now and then."""
        self._stale = True  # also when a read is under way: the next one reads everything
        self.refresh()

    def _on_blink(self) -> None:
        self._flash_on = not self._flash_on
        self._paint_panel(flash=self._flash_on)

    def _on_flash_ended(self) -> None:
        self._blink.stop()
        self._flash_on = False
        self._paint_panel(flash=False)

    def _on_hold_ended(self) -> None:
        if self._pending:
            self._show_next()

    def _on_fullscreen_toggled(self) -> None:
        toggle_full_screen(self)

    # --- Qt ----------------------------------------------------------------------------------------

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        self._apply_scale()

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt's name
        super().showEvent(event)
        self._poll.start()
        self._full.start()

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 - Qt's name
        super().changeEvent(event)
        if event.type() == QEvent.Type.WindowStateChange:
            follow_full_screen_cursor(self)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt's name
        for timer in (self._poll, self._full, self._blink, self._flash_end, self._hold):
            timer.stop()
        if self._announcer is not None:
            self._announcer.shutdown()
        super().closeEvent(event)
