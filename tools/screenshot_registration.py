"""Screenshots of the registration form for docs/: filled in, the routing proposal just after the submit, and the
ticket once the desk confirmed it with Enter.

    QT_QPA_PLATFORM=offscreen .venv/bin/python tools/screenshot_registration.py [--out docs/screenshots]

Offscreen, on a seeded temporary store, with the shipped CJK font and a fixed clock; nothing else is touched.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtGui import QInputMethodEvent  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import QApplication, QWidget  # noqa: E402

from desk.app import Services, build_main_window, build_services, install_translators  # noqa: E402
from desk.core.clock import CHINA_TZ, FixedClock  # noqa: E402
from desk.core.parties import PartyRole  # noqa: E402
from desk.core.permissions import operator as staff
from desk.core.synthetic import id_check_char  # noqa: E402
from desk.security.keys import save_keyset
from desk.security.vault import KeySet
from desk.services.setup import init_hall  # noqa: E402
from desk.store.session import open_store  # noqa: E402
from desk.ui.fonts import use_cjk_font  # noqa: E402
from desk.ui.ops import wait_all_idle  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def _type(edit: QWidget, text: str) -> None:
    """Type as a clerk does: ASCII on the keyboard, Chinese committed by the input method."""
    edit.setFocus()
    if text.isascii():
        QTest.keyClicks(edit, text)
        return
    event = QInputMethodEvent("", [])
    event.setCommitString(text)
    QApplication.sendEvent(edit, event)


def _id(body17: str) -> str:
    return body17 + id_check_char(body17)


def _queue_two_visitors(services: Services) -> None:
    """Two earlier visitors already wait in room 1, so the proposal and the wait are not all zeros."""
    for name, body in (("赵春花", "62070219790521304"), ("杨德胜", "62070219660910201")):
        case = services.registration.register(
            {
                "category": "婚姻家庭纠纷",
                "channel": "walk_in",
                "headcount": 1,
                "narrative": "夫妻双方因赡养老人问题发生争执，请求调解。",
                "parties": [
                    {"role": "applicant", "name": name, "id_number": _id(body), "phone": "13909360000"}
                ],
            }
        )
        services.queue.issue_ticket(case.case_no)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = p.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)

    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    install_translators(app, "zh_CN")
    family = use_cjk_font(app)
    if not family:
        print("CJK font not loaded", file=sys.stderr)
        return 1

    with tempfile.TemporaryDirectory() as tmp:
        os.environ["DESK_KEY_FILE"] = os.path.join(tmp, "keys", "keyset.json")  # data keys of its own

        os.environ["DESK_KEYRING"] = "0"

        save_keyset(KeySet.generate())
        store = open_store(f"sqlite:///{Path(tmp) / 'desk.db'}")
        init_hall(store)
        clock = FixedClock(dt.datetime(2026, 11, 27, 10, 12, tzinfo=CHINA_TZ))
        services = build_services(store, clock, principal=staff("前台一号窗口", "前台1"))
        _queue_two_visitors(services)
        window = build_main_window(
            services, store_label="数据库：本机 SQLite（示例）", clock=clock, speech_engine="mock"
        )
        window.resize(1180, 820)
        window.show()
        QTest.qWaitForWindowActive(window)  # focus moves (and fields are checked) only in an active window
        form, intake = window.form, window.intake

        _type(form.name_edit, "王秀兰")
        _type(form.id_edit, _id("62070219680314202"))
        _type(form.phone_edit, "139 0936 2817")
        _type(form.address_edit, "甘州区东街街道南关社区3组27号")
        row = form.add_party(PartyRole.RESPONDENT)
        _type(row.name_edit, "李建国")
        _type(row.phone_edit, "13893657702")
        _type(row.address_edit, "甘州区东街街道南关社区3组29号")
        _type(form.category_edit, "ljjf")
        _type(
            form.narrative_edit,
            "邻居李建国在两家院墙之间的公共通道上堆放柴草和建筑材料，"
            "占用通道约两米，电动车无法通行。多次当面沟通未果，请求中心协调，"
            "恢复通道通行。",
        )
        wait_all_idle()  # the applicant's earlier cases, looked up off the UI thread
        QTest.qWait(100)  # let the layouts settle before the grab
        window.grab().save(str(args.out / "registration.png"))

        QTest.keyClick(form.narrative_edit, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
        wait_all_idle()  # registered and routed off the UI thread
        QTest.qWait(100)
        if not intake.routing.isVisible():
            print("the visit was not registered:", form.form_message.text(), file=sys.stderr)
            return 1
        window.grab().save(str(args.out / "registration-route.png"))

        QTest.keyClick(intake.routing.confirm_button, Qt.Key.Key_Return)  # Enter confirms the proposed room
        wait_all_idle()
        QTest.qWait(100)
        if not intake.banner.ticket_label.text():
            print("no ticket:", intake.routing.message.text(), file=sys.stderr)
            return 1
        window.grab().save(str(args.out / "registration-done.png"))
        print(
            f"registered {intake.banner.case_no_label.text()}, ticket {intake.banner.ticket_label.text()}; "
            f"screenshots in {args.out}"
        )
        window.close()
        store.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
