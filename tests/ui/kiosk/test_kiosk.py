"""The hall's kiosk, driven as a citizen drives it: the scanner types the receipt's status URL and Enter."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from desk.app import Services, build_kiosk
from desk.app import main as app_main
from desk.config import default_db_url
from desk.services.documents import status_url
from desk.ui.kiosk.kiosk import NOT_FOUND, STATUS, WELCOME, Kiosk
from tests.conftest import valid_id
from tests.receipt_settings import STATUS_BASE_URL
from tests.ui.room.test_room_terminal import NAMES, arrive

KioskFactory = Callable[..., Kiosk]


@pytest.fixture
def make_kiosk(qtbot: QtBot, services: Services) -> KioskFactory:
    def make(**kwargs: object) -> Kiosk:
        options: dict[str, object] = {"hall_name": "甘州区东街街道综治中心"}
        options.update(kwargs)
        k = Kiosk(services.status, **options)  # type: ignore[arg-type]
        qtbot.addWidget(k)
        k.resize(1920, 1080)
        with qtbot.waitActive(k):
            k.show()
        return k

    return make


@pytest.fixture
def kiosk(make_kiosk: KioskFactory) -> Kiosk:
    return make_kiosk()


def receipt_url(services: Services, case_no: str) -> str:
    """What the receipt's QR code holds, as the desk prints it."""
    return status_url(STATUS_BASE_URL, services.registration.case(case_no).status_token)


def scan(qtbot: QtBot, kiosk: Kiosk, text: str) -> None:
    """The scanner, a keyboard wedge: it types what it read, then Enter — into whatever has the focus."""
    assert kiosk.scan_input.hasFocus()
    qtbot.keyClicks(kiosk.scan_input, text)
    qtbot.keyClick(kiosk.scan_input, Qt.Key.Key_Return)


def test_welcome_asks_for_the_receipt(kiosk: Kiosk) -> None:
    assert kiosk.page == WELCOME
    assert kiosk.hall_label.text() == "甘州区东街街道综治中心"
    assert kiosk.welcome_prompt.text() == "请将回执上的二维码对准扫码器"
    assert "12345" in kiosk.welcome_hotline.text()
    assert "前台" in kiosk.footer_label.text()
    assert kiosk.scan_input.hasFocus()


def test_scanning_a_receipt_shows_its_queue_place(qtbot: QtBot, kiosk: Kiosk, services: Services) -> None:
    arrive(services, 1)
    second = arrive(services, 2)
    with qtbot.waitSignal(kiosk.sig_status_shown) as shown:
        scan(qtbot, kiosk, receipt_url(services, second.ticket.case_no))
    assert kiosk.page == STATUS
    assert shown.args is not None and shown.args[0].ticket == "A002"
    assert kiosk.stage_label.text() == "排队中"
    assert kiosk.ticket_label.text() == "A002"
    assert "前面还有 1 人" in kiosk.detail_label.text()
    assert kiosk.room_label.text() == "1号人民调解室　一楼东侧"
    assert "叫号屏" in kiosk.next_label.text()
    # 02:00 UTC is 10:00 in China.
    assert "2026-11-27 10:00" in kiosk.updated_label.text()
    assert second.ticket.case_no[-6:] in kiosk.updated_label.text()
    assert "12345" in kiosk.footer_label.text()
    assert kiosk.scan_input.text() == "" and kiosk.scan_input.hasFocus()


def test_a_case_without_a_ticket_shows_no_empty_ticket(
    qtbot: QtBot, kiosk: Kiosk, services: Services
) -> None:
    case = services.registration.register(
        {
            "category": "邻里纠纷",
            "channel": "walk_in",
            "headcount": 1,
            "narrative": "院墙外堆放杂物。",
            "parties": [{"role": "applicant", "name": "王秀兰", "phone": "13900000001"}],
        },
        new_case=True,
    )
    with qtbot.waitSignal(kiosk.sig_status_shown):
        scan(qtbot, kiosk, receipt_url(services, case.case_no))
    assert kiosk.stage_label.text() == "已受理"
    assert kiosk.ticket_label.isHidden() and kiosk.room_label.isHidden()


@pytest.mark.parametrize(
    "text",
    [
        "https://zz.example.gov.cn/s/AAAAAAAAAAAAAAAAAAAAAA",  # well-formed, unknown
        "https://zz.example.gov.cn/s/not-a-token",
        "'; DROP TABLE cases; --",
        "12345",
    ],
)
def test_a_bad_token_sends_the_citizen_to_the_front_desk(qtbot: QtBot, kiosk: Kiosk, text: str) -> None:
    with qtbot.waitSignal(kiosk.sig_not_found):
        scan(qtbot, kiosk, text)
    assert kiosk.page == NOT_FOUND
    assert kiosk.not_found_label.text() == "未找到该回执的办理信息，请到前台咨询"
    assert kiosk.current is None


def test_returns_to_welcome_after_idle(qtbot: QtBot, make_kiosk: KioskFactory, services: Services) -> None:
    kiosk = make_kiosk(idle_ms=150)
    first = arrive(services, 1)
    with qtbot.waitSignal(kiosk.sig_status_shown):
        scan(qtbot, kiosk, receipt_url(services, first.ticket.case_no))
    qtbot.keyClicks(kiosk.scan_input, "half a scan")
    with qtbot.waitSignal(kiosk.sig_welcome_shown, timeout=2000):
        pass
    assert kiosk.page == WELCOME and kiosk.current is None
    assert kiosk.scan_input.text() == "" and kiosk.scan_input.hasFocus()
    # The next citizen's scan works from the welcome again, and a bad one times out the same way.
    with qtbot.waitSignal(kiosk.sig_not_found):
        scan(qtbot, kiosk, "garbage")
    with qtbot.waitSignal(kiosk.sig_welcome_shown, timeout=2000):
        pass


def test_a_scan_without_enter_is_discarded(
    qtbot: QtBot, make_kiosk: KioskFactory, services: Services
) -> None:
    kiosk = make_kiosk(stale_ms=100)
    first = arrive(services, 1)
    qtbot.keyClicks(kiosk.scan_input, "https://zz.exa")  # a misread: the scanner gave up half way
    qtbot.waitUntil(lambda: kiosk.scan_input.text() == "", timeout=2000)
    assert kiosk.page == WELCOME
    with qtbot.waitSignal(kiosk.sig_status_shown):
        scan(qtbot, kiosk, receipt_url(services, first.ticket.case_no))
    assert kiosk.ticket_label.text() == "A001"


def test_an_empty_enter_does_nothing(qtbot: QtBot, kiosk: Kiosk) -> None:
    with qtbot.assertNotEmitted(kiosk.sig_not_found), qtbot.assertNotEmitted(kiosk.sig_status_shown):
        qtbot.keyClick(kiosk.scan_input, Qt.Key.Key_Return)
    assert kiosk.page == WELCOME


def test_nothing_personal_on_screen(qtbot: QtBot, kiosk: Kiosk, services: Services) -> None:
    first = arrive(services, 1)
    case = services.registration.case(first.ticket.case_no)
    secrets = (
        NAMES[0],
        valid_id("62070219850101001"),
        "13900000001",
        "堆放杂物",
        case.case_no,
        case.status_token,
    )
    for page_shown in ("status", "not found", "welcome"):
        if page_shown == "status":
            with qtbot.waitSignal(kiosk.sig_status_shown):
                scan(qtbot, kiosk, receipt_url(services, case.case_no))
        elif page_shown == "not found":
            with qtbot.waitSignal(kiosk.sig_not_found):
                scan(qtbot, kiosk, "https://zz.example.gov.cn/s/BBBBBBBBBBBBBBBBBBBBBB")
        else:
            kiosk.show_welcome()
        shown = " ".join(label.text() for label in kiosk.labels()) + kiosk.windowTitle()
        for secret in secrets:
            assert secret not in shown, (page_shown, secret)


def test_the_kiosk_role_builds_the_kiosk(qtbot: QtBot, services: Services) -> None:
    k = build_kiosk(services)
    qtbot.addWidget(k)
    assert k.hall_label.text() == services.registration.hall.name
    assert k.page == WELCOME


def test_role_kiosk_opens_full_screen(qapp: QApplication, tmp_path: Path) -> None:
    seen: list[Kiosk] = []

    def look_and_close() -> None:
        for w in QApplication.topLevelWidgets():
            if isinstance(w, Kiosk) and w.isVisible():
                seen.append(w)
                w.close()
        qapp.quit()

    QTimer.singleShot(0, look_and_close)
    assert app_main(db_url=default_db_url(), role="kiosk") == 0
    assert len(seen) == 1
    assert seen[0].windowState() & Qt.WindowState.WindowFullScreen


def test_the_cli_offers_the_kiosk_role() -> None:
    from desk import app, cli

    assert "kiosk" in cli.ROLES and "kiosk" in app.ROLES
