"""The hall's self-service kiosk: a citizen scans the receipt's QR code and reads the case's status in large type;
the screen goes back to its welcome after a while. It shows only what `StatusService` gives — nothing personal."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QFont, QResizeEvent, QShowEvent
from PySide6.QtWidgets import QFrame, QLabel, QLineEdit, QStackedWidget, QVBoxLayout, QWidget

from desk.core.clock import CHINA_TZ
from desk.services.status import HOTLINE, token_from_scan
from desk.ui.ops import OpRunner
from desk.ui.screens import follow_full_screen_cursor, install_screen_keys, toggle_full_screen

if TYPE_CHECKING:
    from desk.services.status import CaseStatus, StatusService

logger = logging.getLogger(__name__)

IDLE_MS = 30_000  # a status stays this long after the last scan, then the welcome comes back
STALE_MS = 3_000  # keystrokes without an Enter for this long are not a scan (a scanner types a URL in well under 1 s)
MAX_SCAN = 256  # a status URL is ~50 characters; anything longer is garbage

BACKGROUND = "#0d2440"
PANEL = "#12325a"
TEXT = "#ffffff"
MUTED = "#9fb7d6"
TICKET_COLOUR = "#ffd54f"
WHERE_COLOUR = "#80deea"
NOT_FOUND_COLOUR = "#ffab91"

WELCOME, STATUS, NOT_FOUND = 0, 1, 2


class Kiosk(QWidget):
    """Collects what the scanner types (a keyboard wedge: the status URL, then Enter) in an input that is
    invisible but always has the focus, looks the token up with `StatusService.status` and shows the answer;
    `idle_ms` after the last scan it returns to the welcome. An unknown and a malformed token get the same answer,
    so the kiosk tells nobody which tokens exist."""

    sig_status_shown = Signal(object)
    """A scan found a case; carries the `CaseStatus` shown."""

    sig_not_found = Signal()
    """A scan found nothing (or the store could not be read); the screen asks the citizen to see the front desk."""

    sig_welcome_shown = Signal()
    """The screen went back to its welcome (after `idle_ms`)."""

    def __init__(
        self,
        status: StatusService,
        *,
        hall_name: str = "",
        idle_ms: int = IDLE_MS,
        stale_ms: int = STALE_MS,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._status = status
        self.ops = OpRunner(self, report=logger.warning)
        self.current: CaseStatus | None = None
        self.setWindowTitle(self.tr("一厅通 · 自助查询"))
        self.setObjectName("kiosk")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.setStyleSheet(
            f"QWidget#kiosk {{ background: {BACKGROUND}; }} QLabel {{ color: {TEXT}; background: transparent; }}"
            f"QFrame#statusPanel, QFrame#notFoundPanel, QFrame#welcomePanel {{ background: {PANEL};"
            " border-radius: 16px; }"
        )

        # The scanner's keystrokes land here. A 1×1 transparent line edit rather than a hidden one: a hidden
        # widget cannot hold the focus. No input method: a Chinese IME would swallow the URL's letters.
        self.scan_input = QLineEdit(self)
        self.scan_input.setObjectName("scanInput")
        self.scan_input.setMaxLength(MAX_SCAN)
        self.scan_input.setFrame(False)
        self.scan_input.setGeometry(0, 0, 1, 1)
        self.scan_input.setStyleSheet("background: transparent; color: transparent; border: none;")
        self.scan_input.setAttribute(Qt.WidgetAttribute.WA_InputMethodEnabled, False)
        self.scan_input.setContextMenuPolicy(Qt.ContextMenuPolicy.NoContextMenu)
        self.scan_input.returnPressed.connect(self._on_scanned)
        self.scan_input.textEdited.connect(self._on_keystroke)
        self.setFocusProxy(self.scan_input)

        outer = QVBoxLayout(self)
        outer.setContentsMargins(60, 36, 60, 36)
        outer.setSpacing(24)
        self.hall_label = QLabel(hall_name, self)
        self.hall_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        outer.addWidget(self.hall_label)
        self.pages = QStackedWidget(self)
        outer.addWidget(self.pages, 1)
        self.footer_label = QLabel(self._footer(HOTLINE), self)
        self.footer_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.footer_label.setStyleSheet(f"color: {MUTED};")
        outer.addWidget(self.footer_label)

        # --- welcome
        welcome = QFrame(self.pages)
        welcome.setObjectName("welcomePanel")
        box = QVBoxLayout(welcome)
        box.setContentsMargins(48, 48, 48, 48)
        box.setSpacing(28)
        self.welcome_title = QLabel(self.tr("办理进度自助查询"), welcome)
        self.welcome_prompt = QLabel(self.tr("请将回执上的二维码对准扫码器"), welcome)
        self.welcome_hint = QLabel(self.tr("扫码后即可查看排队和办理进度\n不会显示任何个人信息"), welcome)
        self.welcome_hotline = QLabel(self.tr("服务热线 {hotline}").format(hotline=HOTLINE), welcome)
        self.welcome_title.setStyleSheet(f"color: {MUTED};")
        self.welcome_prompt.setStyleSheet(f"color: {TICKET_COLOUR};")
        self.welcome_hotline.setStyleSheet(f"color: {WHERE_COLOUR};")
        box.addStretch(1)
        for w in (self.welcome_title, self.welcome_prompt, self.welcome_hint, self.welcome_hotline):
            w.setAlignment(Qt.AlignmentFlag.AlignCenter)
            w.setWordWrap(True)
            box.addWidget(w)
        box.addStretch(1)
        self.pages.addWidget(welcome)

        # --- a case's status
        shown = QFrame(self.pages)
        shown.setObjectName("statusPanel")
        box = QVBoxLayout(shown)
        box.setContentsMargins(56, 36, 56, 36)
        box.setSpacing(14)
        self.stage_label = QLabel(shown)
        self.ticket_label = QLabel(shown)
        self.detail_label = QLabel(shown)
        self.room_label = QLabel(shown)
        self.next_label = QLabel(shown)
        self.updated_label = QLabel(shown)
        self.back_label = QLabel(
            self.tr("本页将在 {seconds} 秒后自动返回").format(seconds=max(1, round(idle_ms / 1000))), shown
        )
        self.stage_label.setStyleSheet(f"color: {TICKET_COLOUR};")
        self.ticket_label.setStyleSheet(f"color: {TICKET_COLOUR};")
        self.room_label.setStyleSheet(f"color: {WHERE_COLOUR};")
        for w in (self.updated_label, self.back_label):
            w.setStyleSheet(f"color: {MUTED};")
        box.addStretch(1)
        for w in (self.stage_label, self.ticket_label, self.detail_label, self.room_label, self.next_label):
            w.setAlignment(Qt.AlignmentFlag.AlignCenter)
            w.setWordWrap(True)
            box.addWidget(w)
        box.addStretch(1)
        for w in (self.updated_label, self.back_label):
            w.setAlignment(Qt.AlignmentFlag.AlignCenter)
            box.addWidget(w)
        self.pages.addWidget(shown)

        # --- nothing found
        missing = QFrame(self.pages)
        missing.setObjectName("notFoundPanel")
        box = QVBoxLayout(missing)
        box.setContentsMargins(48, 48, 48, 48)
        box.setSpacing(28)
        self.not_found_label = QLabel(self.tr("未找到该回执的办理信息，请到前台咨询"), missing)
        self.not_found_label.setStyleSheet(f"color: {NOT_FOUND_COLOUR};")
        self.not_found_hint = QLabel(
            self.tr("请确认扫描的是本中心出具的回执；也可拨打服务热线 {hotline}").format(hotline=HOTLINE),
            missing,
        )
        box.addStretch(1)
        for w in (self.not_found_label, self.not_found_hint):
            w.setAlignment(Qt.AlignmentFlag.AlignCenter)
            w.setWordWrap(True)
            box.addWidget(w)
        box.addStretch(1)
        self.pages.addWidget(missing)

        self._idle = QTimer(self)
        self._idle.setSingleShot(True)
        self._idle.setInterval(idle_ms)
        self._idle.timeout.connect(self._on_idle)
        self._stale = QTimer(self)
        self._stale.setSingleShot(True)
        self._stale.setInterval(stale_ms)
        self._stale.timeout.connect(self._on_stale)

        install_screen_keys(self)

        self._apply_scale()
        self.resize(1280, 720)

    # --- what the screen shows -----------------------------------------------------------------------

    @property
    def page(self) -> int:
        """WELCOME, STATUS or NOT_FOUND."""
        return self.pages.currentIndex()

    def labels(self) -> list[QLabel]:
        """Every label of the kiosk (for the tests: nothing personal in any of them)."""
        return self.findChildren(QLabel)

    def show_welcome(self) -> None:
        self._idle.stop()
        self.current = None
        self.scan_input.clear()
        self.pages.setCurrentIndex(WELCOME)
        self.scan_input.setFocus()
        self.sig_welcome_shown.emit()

    def show_scan(self, text: str) -> None:
        """Look up what the scanner read (the receipt's status URL, or a bare token), off the UI thread, and show
        the answer when it comes."""
        token = token_from_scan(text)
        status = self._status
        self.ops.run(
            lambda: status.status(token),
            name="kiosk lookup",
            success=self._show_status,
            failure=self._on_lookup_failed,
            unexpected=self._on_lookup_failed,
        )

    def _on_lookup_failed(self, _error: BaseException) -> None:
        # The store away for a moment: the citizen is sent to the desk. Never the token in the log: it opens the
        # case's status.
        logger.error("kiosk: cannot read the store", exc_info=_error)
        self._show_status(None)

    def _show_status(self, found: CaseStatus | None) -> None:
        self._idle.start()
        if found is None:
            logger.info("kiosk: scan not found")
            self.current = None
            self.pages.setCurrentIndex(NOT_FOUND)
            self.sig_not_found.emit()
            return
        logger.info("kiosk: status shown (%s)", found.stage)
        self.current = found
        self.stage_label.setText(found.stage)
        self.ticket_label.setText(found.ticket or "")
        self.ticket_label.setVisible(bool(found.ticket))
        self.detail_label.setText(found.detail)
        where = "　".join(part for part in (found.room, found.location) if part)
        self.room_label.setText(where)
        self.room_label.setVisible(bool(where))
        self.next_label.setText(found.next_step)
        self.updated_label.setText(
            self.tr("更新于 {time}　·　回执尾号 {tail}").format(
                time=found.updated_at.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M"), tail=found.case_no_tail
            )
        )
        self.footer_label.setText(self._footer(found.hotline))
        self.pages.setCurrentIndex(STATUS)
        self.sig_status_shown.emit(found)

    def _footer(self, hotline: str) -> str:
        return self.tr("如需帮助，请向前台工作人员咨询　·　服务热线 {hotline}").format(hotline=hotline)

    # --- looks ---------------------------------------------------------------------------------

    def _apply_scale(self) -> None:
        """Type sized by the screen's height (a 1080-line screen is the reference), never below readable."""
        scale = max(self.height(), 600) / 1080

        def font(px: float, *, bold: bool = False, floor: int = 24) -> QFont:
            f = QFont(self.font())
            f.setPixelSize(max(floor, int(px * scale)))
            f.setBold(bold)
            return f

        self.hall_label.setFont(font(52, bold=True))
        self.footer_label.setFont(font(36))
        self.welcome_title.setFont(font(56, bold=True))
        self.welcome_prompt.setFont(font(96, bold=True, floor=48))
        self.welcome_hint.setFont(font(44))
        self.welcome_hotline.setFont(font(52, bold=True))
        self.stage_label.setFont(font(80, bold=True, floor=48))
        self.ticket_label.setFont(font(200, bold=True, floor=64))
        self.detail_label.setFont(font(60, bold=True, floor=36))
        self.room_label.setFont(font(52, floor=32))
        self.next_label.setFont(font(44))
        self.updated_label.setFont(font(32))
        self.back_label.setFont(font(28))
        self.not_found_label.setFont(font(80, bold=True, floor=48))
        self.not_found_hint.setFont(font(44))

    # --- slots -----------------------------------------------------------------------------------

    def _on_scanned(self) -> None:
        self._stale.stop()
        text = self.scan_input.text()
        self.scan_input.clear()
        if text.strip():
            self.show_scan(text)

    def _on_keystroke(self, _text: str) -> None:
        self._stale.start()

    def _on_stale(self) -> None:
        """Keystrokes with no Enter: a misread or someone at the keyboard; start the next scan clean."""
        if self.scan_input.text():
            logger.info("kiosk: discarded %d keystrokes without Enter", len(self.scan_input.text()))
        self.scan_input.clear()

    def _on_idle(self) -> None:
        self.show_welcome()

    def _on_fullscreen_toggled(self) -> None:
        toggle_full_screen(self)

    # --- Qt ----------------------------------------------------------------------------------------

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        self._apply_scale()

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt's name
        super().showEvent(event)
        self.scan_input.setFocus()

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 - Qt's name
        super().changeEvent(event)
        if event.type() == QEvent.Type.ActivationChange and self.isActiveWindow():
            self.scan_input.setFocus()  # the kiosk has no mouse users to click their way back
        elif event.type() == QEvent.Type.WindowStateChange:
            follow_full_screen_cursor(self)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt's name
        self._idle.stop()
        self._stale.stop()
        super().closeEvent(event)
