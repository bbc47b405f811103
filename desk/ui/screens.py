"""What the hall's unattended screens (calling display, kiosk) share: full-screen keys and no pointer in full screen."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QWidget


def toggle_full_screen(widget: QWidget) -> None:
    if widget.isFullScreen():
        widget.showNormal()
    else:
        widget.showFullScreen()


def install_screen_keys(widget: QWidget) -> None:
    """F11 toggles full screen, Esc leaves it, Ctrl+Q closes the screen."""
    for keys, slot in (
        ("F11", lambda: toggle_full_screen(widget)),
        ("Esc", widget.showNormal),
        ("Ctrl+Q", widget.close),
    ):
        QShortcut(QKeySequence(keys), widget).activated.connect(slot)


def follow_full_screen_cursor(widget: QWidget) -> None:
    """Call on a window-state change: full screen is the hall's screen, with no mouse pointer in the middle of it."""
    if widget.isFullScreen():
        widget.setCursor(Qt.CursorShape.BlankCursor)
    else:
        widget.unsetCursor()
