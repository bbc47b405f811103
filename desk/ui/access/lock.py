"""The screen lock: after some idle minutes every window of the desk is covered, so nothing personal shows, until
the person signed in types their password (or PIN) again; "换人登录" hands the terminal to someone else.

`IdleLock` watches the application's input (an event filter on the QApplication) and locks after `minutes` without
any (0: never); `lock_now()` locks at once. While locked, every visible window gets an opaque cover, windows that
open meanwhile are covered as they show, menus are closed, and no key, click or shortcut reaches anything but the
lock panel. The panel sits on the window that can take input: the topmost modal dialog if one is open (a modal
dialog blocks every other window), else the main window.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import shiboken6
from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFont, QKeyEvent, QPalette
from PySide6.QtWidgets import (
    QApplication,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desk.core.permissions import Principal
from desk.errors import DeskError
from desk.forms.fields import FieldMessage
from desk.ui.access.api import AuthApi
from desk.ui.access.widgets import BusyLine, secret_edit
from desk.ui.ops import Op, OpRunner

logger = logging.getLogger(__name__)

DEFAULT_MINUTES = 10
COVER_COLOUR = "#263238"

# what a person does: any of these resets the idle time, and while locked they reach only the lock panel
_INPUT = frozenset(
    {
        QEvent.Type.KeyPress,
        QEvent.Type.KeyRelease,
        QEvent.Type.MouseButtonPress,
        QEvent.Type.MouseButtonRelease,
        QEvent.Type.MouseButtonDblClick,
        QEvent.Type.MouseMove,
        QEvent.Type.Wheel,
        QEvent.Type.TouchBegin,
        QEvent.Type.TouchUpdate,
        QEvent.Type.TabletPress,
        QEvent.Type.ContextMenu,
    }
)
_SHORTCUTS = frozenset({QEvent.Type.Shortcut, QEvent.Type.ShortcutOverride})
_ACTIVITY = frozenset(
    {
        QEvent.Type.KeyPress,
        QEvent.Type.MouseButtonPress,
        QEvent.Type.MouseMove,
        QEvent.Type.Wheel,
        QEvent.Type.TouchBegin,
        QEvent.Type.TabletPress,
    }
)


class _Cover(QWidget):
    """An opaque sheet over the whole of a window (menus and status bar included), following its size."""

    def __init__(self, window: QWidget) -> None:
        super().__init__(window)
        self.setObjectName("lockCover")
        self.setAutoFillBackground(True)  # opaque even where the style sheet is not applied
        palette = self.palette()
        palette.setColor(QPalette.ColorRole.Window, QColor(COVER_COLOUR))
        self.setPalette(palette)
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.setStyleSheet(f"#lockCover {{ background: {COVER_COLOUR}; }}")
        layout = QVBoxLayout(self)
        layout.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.note = QLabel(self.tr("屏幕已锁定"), self)
        self.note.setStyleSheet("color: #cfd8dc;")
        layout.addWidget(self.note, 0, Qt.AlignmentFlag.AlignCenter)
        window.installEventFilter(self)
        self.setGeometry(window.rect())
        self.raise_()
        self.show()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        if watched is self.parent() and event.type() in (QEvent.Type.Resize, QEvent.Type.ChildAdded):
            # a child widget added later (a new pane) must not show above the sheet
            parent = self.parentWidget()
            if parent is not None:
                self.setGeometry(parent.rect())
            self.raise_()
        return False

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt's name
        event.accept()  # Esc must not reach the covered dialog (it would close it, and the lock with it)

    def remove(self) -> None:
        parent = self.parentWidget()
        if parent is not None and shiboken6.isValid(parent):
            parent.removeEventFilter(self)
        self.hide()
        self.setParent(None)
        self.deleteLater()


class LockPanel(QFrame):
    """What the lock screen asks: who is signed in, their password or PIN, 解锁 and 换人登录."""

    sig_unlocked = Signal(object)
    """The person signed in typed their secret; carries the `Principal` the service gave back."""

    sig_switch_user_requested = Signal()
    """换人登录 was pressed."""

    def __init__(self, auth: AuthApi, principal: Principal, *, can_switch: bool) -> None:
        super().__init__(None)
        self._auth = auth
        self.principal = principal
        self._busy = False
        self.setObjectName("lockPanel")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.setStyleSheet("#lockPanel { background: #fafafa; border-radius: 8px; }")
        self.setFixedWidth(self.fontMetrics().horizontalAdvance("0") * 56)

        title = QLabel(self.tr("屏幕已锁定"), self)
        font = QFont(title.font())
        font.setPointSizeF(font.pointSizeF() * 1.6)
        font.setBold(True)
        title.setFont(font)
        self.who_label = QLabel(self)
        self.who_label.setWordWrap(True)
        self.secret_edit = secret_edit(self, self.tr("密码或 PIN"))
        self.message = FieldMessage(self)
        self.busy = BusyLine(self.tr("正在验证…"), self)
        self.unlock_button = QPushButton(self.tr("解锁 (Enter)"), self)
        self.switch_button = QPushButton(self.tr("换人登录"), self)
        self.switch_button.setVisible(can_switch)
        for button in (self.unlock_button, self.switch_button):
            button.setAutoDefault(False)
        buttons = QHBoxLayout()
        buttons.addWidget(self.switch_button)
        buttons.addStretch(1)
        buttons.addWidget(self.unlock_button)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(28, 22, 28, 20)
        layout.addWidget(title)
        layout.addWidget(self.who_label)
        layout.addSpacing(8)
        layout.addWidget(self.secret_edit)
        layout.addWidget(self.message)
        layout.addWidget(self.busy)
        layout.addLayout(buttons)

        self.secret_edit.returnPressed.connect(self.submit)
        self.unlock_button.clicked.connect(self.submit)
        self.switch_button.clicked.connect(self.sig_switch_user_requested)
        self.ops = OpRunner(self, report=self.message.show_error)
        self.set_principal(principal)

    def set_principal(self, principal: Principal) -> None:
        self.principal = principal
        self.who_label.setText(
            self.tr(
                "当前登录：{name}（{login}）。请输入本人的密码或 PIN 解锁；其他人请点“换人登录”。"
            ).format(name=principal.name, login=principal.login)
        )

    def reset(self) -> None:
        self.secret_edit.clear()
        self.message.clear_message()

    def submit(self) -> Op[Principal] | None:
        if self._busy:
            return None
        secret = self.secret_edit.text()
        if not secret:
            self.message.show_error(self.tr("请输入密码或 PIN"))
            self.secret_edit.setFocus()
            return None
        self._set_busy(True)
        auth, principal = self._auth, self.principal
        return self.ops.run(
            lambda: auth.unlock(principal, secret),
            name="unlock",
            success=self._on_unlocked,
            failure=self._on_refused,
            finished=lambda: self._set_busy(False),
        )

    def _set_busy(self, busy: bool) -> None:
        self._busy = busy
        self.busy.set_busy(busy)
        self.secret_edit.setEnabled(not busy)
        self.unlock_button.setEnabled(not busy)

    def _on_unlocked(self, principal: Principal) -> None:
        self.reset()
        self.sig_unlocked.emit(principal)

    def _on_refused(self, error: DeskError) -> None:
        self.secret_edit.clear()
        self.secret_edit.setEnabled(True)
        self.message.show_error(error.message)
        self.secret_edit.setFocus()


class IdleLock(QObject):
    """Locks `window` (and every other window of the app) after `minutes` without input, or on `lock_now()`.

    `timeout_ms`, when given, replaces `minutes` (tests). `on_switch_user` is called when 换人登录 is pressed:
    the lock stays until the owner calls `release(principal)` for whoever signed in next (or closes the window).
    """

    sig_locked = Signal()
    """The screen was locked."""

    sig_unlocked = Signal(object)
    """The screen was unlocked; carries the `Principal` (the same person)."""

    sig_switch_user_requested = Signal()
    """换人登录 was pressed on the lock screen."""

    def __init__(
        self,
        window: QWidget,
        auth: AuthApi,
        principal: Principal,
        *,
        minutes: int = DEFAULT_MINUTES,
        timeout_ms: int | None = None,
        on_switch_user: Callable[[], object] | None = None,
    ) -> None:
        super().__init__(window)
        self._window = window
        self._on_switch_user = on_switch_user
        self.principal = principal
        self._covers: dict[QWidget, _Cover] = {}
        self._host: QWidget | None = None
        self._return_focus: QWidget | None = None
        self.panel = LockPanel(auth, principal, can_switch=on_switch_user is not None)
        self.panel.hide()
        self.panel.sig_unlocked.connect(self._on_unlocked)
        self.panel.sig_switch_user_requested.connect(self._on_switch_user_requested)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.lock_now)
        self._last_restart = 0.0
        self.set_timeout(timeout_ms if timeout_ms is not None else minutes * 60_000)
        app = QApplication.instance()
        assert app is not None
        app.installEventFilter(self)
        window.destroyed.connect(self._on_window_destroyed)

    # --- settings ------------------------------------------------------------------------------

    def set_timeout(self, timeout_ms: int) -> None:
        """Lock after this many idle milliseconds; 0 never locks by itself."""
        self._timer.setInterval(max(0, timeout_ms))
        self._restart_throttle = min(1.0, timeout_ms / 10_000)  # seconds between timer restarts
        if timeout_ms > 0 and not self.is_locked():
            self._timer.start()
        else:
            self._timer.stop()

    def timeout_ms(self) -> int:
        """The idle time before the lock, in milliseconds; 0: never."""
        return self._timer.interval()

    def set_principal(self, principal: Principal) -> None:
        """Someone else took the terminal (the mediator on duty switched): the lock names them from now on."""
        self.principal = principal
        self.panel.set_principal(principal)

    # --- locking -------------------------------------------------------------------------------

    def is_locked(self) -> bool:
        return bool(self._covers)

    def lock_now(self) -> None:
        if self.is_locked() or not shiboken6.isValid(self._window):
            return
        self._timer.stop()
        focus = QApplication.focusWidget()
        self._return_focus = focus
        while (popup := QApplication.activePopupWidget()) is not None:  # an open menu shows rows of data
            popup.close()
            if QApplication.activePopupWidget() is popup:
                break
        for w in QApplication.topLevelWidgets():
            if self._coverable(w):
                self._cover(w)
        if self._window not in self._covers:
            self._cover(self._window)
        self._place_panel()
        logger.info("screen locked")
        self.sig_locked.emit()

    def release(self, principal: Principal | None = None) -> None:
        """Take the covers away (after an unlock, or when the owner signed the next person in)."""
        if principal is not None:
            self.set_principal(principal)
        self.panel.hide()
        self.panel.setParent(None)
        self.panel.reset()
        for cover in self._covers.values():
            cover.remove()
        self._covers.clear()
        self._host = None
        focus, self._return_focus = self._return_focus, None
        if focus is not None and shiboken6.isValid(focus) and focus.isVisible():
            focus.setFocus()
        if self._timer.interval() > 0:
            self._timer.start()

    def stop(self) -> None:
        """No more locking (the window is closing, or the person signed out)."""
        self._timer.stop()
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self)

    def _coverable(self, w: QWidget) -> bool:
        if not w.isWindow() or not w.isVisible() or w in self._covers:
            return False
        kind = w.windowType()
        return kind not in (Qt.WindowType.Popup, Qt.WindowType.ToolTip, Qt.WindowType.SplashScreen)

    def _cover(self, w: QWidget) -> None:
        self._covers[w] = _Cover(w)

    def _pick_host(self) -> QWidget:
        modal = QApplication.activeModalWidget()
        if modal is not None and modal in self._covers and modal.isVisible():
            return modal
        return self._window

    def _place_panel(self) -> None:
        host = self._pick_host()
        cover = self._covers[host]
        self._host = host
        cover.note.hide()
        for other in self._covers.values():
            if other is not cover:
                other.note.show()
        self.panel.setParent(cover)
        layout = cover.layout()
        assert layout is not None
        layout.addWidget(self.panel)
        self.panel.show()
        host.activateWindow()
        self.panel.secret_edit.setFocus()

    # --- what happens while locked --------------------------------------------------------------

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        kind = event.type()
        if not self._covers:
            if kind in _ACTIVITY and (kind != QEvent.Type.MouseMove or event.spontaneous()):
                self._on_activity()
            return False
        if kind in _INPUT or kind in _SHORTCUTS:
            # Events reach the QWindow first and then its widgets: only widgets are judged here.
            if isinstance(watched, QWidget):
                return not self._in_panel(watched)
            return kind in _SHORTCUTS  # a QShortcut or QAction of a covered window
        if isinstance(watched, QWidget) and watched.isWindow():
            if kind == QEvent.Type.Show and self._coverable(watched):
                QTimer.singleShot(0, lambda w=watched: self._cover_late(w))
            elif kind == QEvent.Type.Close and event.spontaneous() and watched is self._host:
                return True  # the window the panel sits on stays while locked
            elif kind == QEvent.Type.Hide and watched is self._host:
                QTimer.singleShot(0, self._rehost)
        return False

    def _in_panel(self, w: QWidget) -> bool:
        return w is self.panel or self.panel.isAncestorOf(w)

    def _cover_late(self, w: QWidget) -> None:
        """A window that opened while locked (an error box, a poll's dialog): cover it; if it is modal, it is
        the only window that takes input now, so the panel moves onto it."""
        if not self._covers or not shiboken6.isValid(w) or not self._coverable(w):
            return
        self._cover(w)
        if w.isModal() or w.windowModality() != Qt.WindowModality.NonModal:
            self._place_panel()

    def _rehost(self) -> None:
        """The window the panel sat on was closed or hidden: drop the covers of windows gone, and move the
        panel to the window that takes input now."""
        if not self._covers:
            return
        for w in [w for w in self._covers if not shiboken6.isValid(w) or not w.isVisible()]:
            cover = self._covers.pop(w)
            if self.panel.parent() is cover:
                self.panel.setParent(None)
            if shiboken6.isValid(cover):
                cover.remove()
        if self._window not in self._covers and shiboken6.isValid(self._window):
            self._cover(self._window)
        self._place_panel()

    def _on_activity(self) -> None:
        if self._timer.interval() <= 0:
            return
        now = time.monotonic()
        if now - self._last_restart >= self._restart_throttle or not self._timer.isActive():
            self._last_restart = now
            self._timer.start()

    # --- the panel's answers ------------------------------------------------------------------

    def _on_unlocked(self, principal: Principal) -> None:
        logger.info("screen unlocked")
        self.release(principal)
        self.sig_unlocked.emit(principal)

    def _on_switch_user_requested(self) -> None:
        logger.info("switch of user asked at the lock screen")
        self.sig_switch_user_requested.emit()
        if self._on_switch_user is not None:
            self._on_switch_user()

    def _on_window_destroyed(self, _obj: object = None) -> None:
        self.stop()
        if shiboken6.isValid(self.panel):
            self.panel.deleteLater()
