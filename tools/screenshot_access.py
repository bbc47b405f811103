"""Screenshots of the sign-in windows for docs/: the sign-in dialog after a refusal, the lock screen over a window,
the on-duty switch (F2, then 2), the users dialog and the audit panel.

    QT_QPA_PLATFORM=offscreen .venv/bin/python tools/screenshot_access.py [--out docs/screenshots]

Offscreen, over the small stand-in services of the tests (tests/ui/access_fakes.py): the windows are what is shown
here, the services have their own tests.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import QApplication, QLabel, QMainWindow, QVBoxLayout, QWidget  # noqa: E402

from desk.core.clock import FixedClock  # noqa: E402
from desk.errors import DeskError  # noqa: E402
from desk.ui.access.audit_panel import AuditPanel  # noqa: E402
from desk.ui.access.duty import OnDutySwitch  # noqa: E402
from desk.ui.access.lock import IdleLock  # noqa: E402
from desk.ui.access.sign_in import SignInDialog  # noqa: E402
from desk.ui.access.users_dialog import UsersDialog  # noqa: E402
from desk.ui.fonts import use_cjk_font  # noqa: E402
from desk.ui.ops import wait_all_idle  # noqa: E402
from tests.ui.access_fakes import NOW, hall_auth, sample_audit  # noqa: E402

ROOMS = {"R01": "1号人民调解室", "R02": "2号劳动争议调解室", "R03": "3号心理咨询室", "R04": "4号法律咨询室"}


def settle(app: QApplication) -> None:
    wait_all_idle()
    for _ in range(5):
        app.processEvents()


def _terminal() -> QMainWindow:
    w = QMainWindow()
    w.setWindowTitle("一厅通 · 1号人民调解室 · 功能室终端")
    body = QWidget(w)
    layout = QVBoxLayout(body)
    layout.addWidget(QLabel("1号人民调解室　排队 3 人", body))
    layout.addStretch(1)
    w.setCentralWidget(body)
    w.resize(1100, 640)
    return w


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = parser.parse_args()
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    use_cjk_font(app)
    auth = hall_auth(terminal="前台1")

    sign_in = SignInDialog(auth, hall_name="甘州区综治中心", terminal="前台1")
    sign_in.show()
    settle(app)
    QTest.keyClicks(sign_in.login_edit, "zhangsan")
    QTest.keyClick(sign_in.login_edit, Qt.Key.Key_Return)
    QTest.keyClicks(sign_in.password_edit, "wrong")
    QTest.keyClick(sign_in.password_edit, Qt.Key.Key_Return)
    settle(app)
    sign_in.grab().save(str(out / "sign-in.png"))
    sign_in.close()

    window = _terminal()
    window.show()
    principal = auth.switch_on_duty("liuxy", "1234")
    lock = IdleLock(window, auth, principal, minutes=10, hall_name="甘州区综治中心", on_switch_user=print)
    lock.lock_now()
    QTest.keyClicks(lock.panel.secret_edit, "0000")
    QTest.keyClick(lock.panel.secret_edit, Qt.Key.Key_Return)
    settle(app)
    window.grab().save(str(out / "lock-screen.png"))
    lock.release()

    switch = OnDutySwitch(window, auth, "R01", room_label="1号人民调解室", principal=principal)
    dialog = switch.open()
    settle(app)
    QTest.keyClick(dialog.list, Qt.Key.Key_2)
    QTest.keyClicks(dialog.secret_edit, "56")
    settle(app)
    dialog.grab().save(str(out / "on-duty-switch.png"))
    dialog.close()
    window.close()

    for _ in range(5):  # five refusals lock the account: the list shows one locked
        with contextlib.suppress(DeskError):
            auth.sign_in("zhangsan", "guess")
    users = UsersDialog(auth, ROOMS, clock=FixedClock(NOW))
    users.show()
    settle(app)
    users.select_user("majg")
    settle(app)
    users.grab().save(str(out / "users-dialog.png"))
    users.close()

    panel = AuditPanel(sample_audit(), clock=FixedClock(NOW))
    panel.resize(1280, 520)
    panel.show()
    settle(app)
    panel.grab().save(str(out / "audit-panel.png"))
    panel.close()
    print(f"saved to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
