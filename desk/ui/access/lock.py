"""The screen lock: after some idle minutes every window of the desk is covered, so nothing personal shows, until
the person signed in types their password (or PIN) again; "换人登录" hands the terminal to someone else.

`IdleLock` watches the application's input (an event filter on the QApplication) and locks after `minutes` without
any (0: never); `lock_now()` locks at once. 换人登录 opens the sign-in dialog over the lock; whoever signs in there
gets the terminal (`on_switch_user`), and Esc in it goes back to the lock. While locked, every visible window gets an opaque cover, windows that
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
from desk.ui.access.sign_in import SignInDialog
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
        """Gone at the next turn of the event loop; a child of its window until then (so never an orphan)."""
        parent = self.parentWidget()
        if parent is not None and shiboken6.isValid(parent):
            parent.removeEventFilter(self)
        self.hide()
        self.deleteLater()


class LockPanel(QFrame):
    """What the lock screen asks: who is signed in, their password or PIN, 解锁 and 换人登录."""

    sig_unlocked = Signal(object)
    """The person signed in typed their secret; carries the `Principal` the service gave back."""

    sig_switch_user_requested = Signal()
    """换人登录 was pressed."""

    def __init__(
        self, auth: AuthApi, principal: Principal, *, can_switch: bool, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
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

    `timeout_ms`, when given, replaces `minutes` (tests). With `on_switch_user`, the lock screen offers 换人登录:
    the sign-in dialog (`hall_name` at its top), and once someone signed in there the lock goes and
    `on_switch_user` gets their `Principal` (the owner hands it to the services). While the window is hidden the
    lock neither counts idle time nor holds input back; its covers stay, so it shows again locked.
    """

    sig_locked = Signal()
    """The screen was locked."""

    sig_unlocked = Signal(object)
    """The screen was unlocked; carries the `Principal` (the same person)."""

    sig_user_switched = Signal(object)
    """Someone else signed in through 换人登录; carries their `Principal`."""

    def __init__(
        self,
        window: QWidget,
        auth: AuthApi,
        principal: Principal,
        *,
        minutes: int = DEFAULT_MINUTES,
        timeout_ms: int | None = None,
        hall_name: str = "",
        on_switch_user: Callable[[Principal], object] | None = None,
    ) -> None:
        super().__init__(window)
        self._window = window
        self._auth = auth
        self._hall_name = hall_name
        self._on_switch_user = on_switch_user
        self.sign_in_dialog: SignInDialog | None = None
        self.principal = principal
        self._covers: dict[QWidget, _Cover] = {}
        self._host: QWidget | None = None
        self._return_focus: QWidget | None = None
        self.panel = self._make_panel()
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.lock_now)
        self._last_restart = 0.0
        self.set_timeout(timeout_ms if timeout_ms is not None else minutes * 60_000)
        app = QApplication.instance()
        assert app is not None
        app.installEventFilter(self)  # removed by Qt when this object goes with its window

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
        self._park_panel()
        self.panel.reset()
        if self.sign_in_dialog is not None and shiboken6.isValid(self.sign_in_dialog):
            self.sign_in_dialog.close()
        self.sign_in_dialog = None
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
        if not w.isWindow() or not w.isVisible() or w in self._covers or w is self.sign_in_dialog:
            return False
        kind = w.windowType()
        return kind not in (Qt.WindowType.Popup, Qt.WindowType.ToolTip, Qt.WindowType.SplashScreen)

    def _cover(self, w: QWidget) -> None:
        self._covers[w] = _Cover(w)
        w.destroyed.connect(self._on_covered_destroyed)

    def _on_covered_destroyed(self, _obj: object = None) -> None:
        # a window deleted while locked (the panel may have gone with it): settle once the deletion is over
        QTimer.singleShot(0, self._rehost)

    def _make_panel(self) -> LockPanel:
        """A child of the window while unused (hidden), of the cover it sits on while locked."""
        panel = LockPanel(
            self._auth, self.principal, can_switch=self._on_switch_user is not None, parent=self._window
        )
        panel.hide()
        panel.sig_unlocked.connect(self._on_unlocked)
        panel.sig_switch_user_requested.connect(self._on_switch_user_requested)
        return panel

    def _park_panel(self) -> None:
        if not shiboken6.isValid(self.panel):
            self.panel = self._make_panel()
            return
        self.panel.hide()
        self.panel.setParent(self._window)

    def _pick_host(self) -> QWidget:
        modal = QApplication.activeModalWidget()
        if modal is not None and modal in self._covers and modal.isVisible():
            return modal
        return self._window

    def _place_panel(self) -> None:
        if not shiboken6.isValid(self.panel):  # it sat on a window that was deleted
            self.panel = self._make_panel()
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
        try:
            if not self._window.isVisible():  # closed or put away: nothing to lock, nothing to hold back
                return False
        except RuntimeError:  # the window is being destroyed (its last events come after its wrapper went)
            return False
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
        """What may take input while locked: the panel, and the sign-in dialog of 换人登录."""
        if w is self.panel or self.panel.isAncestorOf(w):
            return True
        dialog = self.sign_in_dialog
        return dialog is not None and shiboken6.isValid(dialog) and (w is dialog or dialog.isAncestorOf(w))

    def _cover_late(self, w: QWidget) -> None:
        """A window that opened while locked (an error box, a poll's dialog): cover it; if it is modal, it is
        the only window that takes input now, so the panel moves onto it."""
        if (
            not self._covers
            or not shiboken6.isValid(self)
            or not shiboken6.isValid(w)
            or not self._coverable(w)
        ):
            return
        self._cover(w)
        if w.isModal() or w.windowModality() != Qt.WindowModality.NonModal:
            self._place_panel()

    def _rehost(self) -> None:
        """The window the panel sat on was closed or hidden: drop the covers of windows gone, and move the
        panel to the window that takes input now."""
        if not self._covers or not shiboken6.isValid(self) or not shiboken6.isValid(self._window):
            return
        for w in [w for w in self._covers if not shiboken6.isValid(w) or not w.isVisible()]:
            cover = self._covers.pop(w)
            if shiboken6.isValid(self.panel) and self.panel.parent() is cover:
                self._park_panel()
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
        """换人登录: the sign-in dialog over the lock (one at a time)."""
        dialog = self.sign_in_dialog
        if dialog is not None and shiboken6.isValid(dialog) and dialog.isVisible():
            dialog.raise_()
            return
        dialog = SignInDialog(
            self._auth, hall_name=self._hall_name, terminal=self.principal.terminal, parent=self._host
        )
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.sig_signed_in.connect(self._on_user_switched)
        dialog.rejected.connect(self._on_switch_cancelled)
        self.sign_in_dialog = dialog
        logger.info("switch of user asked at the lock screen")
        dialog.open()
        dialog.login_edit.setFocus()

    def _on_switch_cancelled(self) -> None:
        self.sign_in_dialog = None
        if self.is_locked():
            self.panel.secret_edit.setFocus()

    def _on_user_switched(self, principal: Principal) -> None:
        self.sign_in_dialog = None
        logger.info("another user took the terminal at the lock screen")
        self._return_focus = None  # the last person's place in the window is not the next one's
        self.release(principal)
        self.sig_user_switched.emit(principal)
        if self._on_switch_user is not None:
            self._on_switch_user(principal)
