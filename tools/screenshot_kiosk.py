"""Screenshot of the hall's kiosk for docs/: a citizen's receipt scanned while the case waits in the queue.

    QT_QPA_PLATFORM=offscreen .venv/bin/python tools/screenshot_kiosk.py [--out docs/screenshots]

Offscreen, on a seeded temporary store with a fixed clock: three walk-ins with tickets for room 1; the third
visitor's receipt URL is typed into the kiosk as the scanner types it.
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
from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from desk.app import build_kiosk, build_services, install_translators  # noqa: E402
from desk.config import Settings  # noqa: E402
from desk.core.clock import CHINA_TZ, FixedClock  # noqa: E402
from desk.core.permissions import operator as staff
from desk.core.synthetic import id_check_char  # noqa: E402
from desk.security.keys import save_keyset
from desk.security.vault import KeySet
from desk.services.documents import status_url  # noqa: E402
from desk.services.setup import init_hall  # noqa: E402
from desk.store.session import open_store  # noqa: E402
from desk.ui.fonts import use_cjk_font  # noqa: E402
from desk.ui.ops import wait_all_idle  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
NAMES = ("王秀兰", "李建国", "马桂兰")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = p.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)

    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    install_translators(app, "zh_CN")
    if not use_cjk_font(app):
        print("CJK font not loaded", file=sys.stderr)
        return 1

    with tempfile.TemporaryDirectory() as tmp:
        os.environ["DESK_KEY_FILE"] = os.path.join(tmp, "keys", "keyset.json")  # data keys of its own

        os.environ["DESK_KEYRING"] = "0"

        save_keyset(KeySet.generate())
        store = open_store(f"sqlite:///{Path(tmp) / 'desk.db'}")
        init_hall(store)
        clock = FixedClock(dt.datetime(2026, 11, 27, 9, 40, tzinfo=CHINA_TZ))
        services = build_services(store, clock, principal=staff("前台一号窗口", "前台1"))
        case_no = ""
        for n, name in enumerate(NAMES, start=1):
            clock.advance(minutes=4)
            body = f"62070219600312{n:03d}"
            case = services.registration.register(
                {
                    "category": "邻里纠纷",
                    "channel": "walk_in",
                    "headcount": 1,
                    "narrative": "邻居在院墙之间的公共通道上堆放柴草，占用通道。",
                    "parties": [
                        {
                            "role": "applicant",
                            "name": name,
                            "id_number": body + id_check_char(body),
                            "phone": f"139093688{n:02d}",
                        }
                    ],
                },
                new_case=True,
            )
            services.queue.issue_ticket(case.case_no, room_code="R01")
            case_no = case.case_no
        clock.advance(minutes=2)
        kiosk = build_kiosk(services)
        kiosk.resize(1920, 1080)
        kiosk.show()
        QTest.qWait(100)
        url = status_url(Settings().status_base_url, services.registration.case(case_no).status_token)
        QTest.keyClicks(kiosk.scan_input, url)
        QTest.keyClick(kiosk.scan_input, Qt.Key.Key_Return)
        wait_all_idle()  # looked up off the UI thread
        QTest.qWait(200)
        kiosk.grab().save(str(args.out / "kiosk.png"))
        print(f"kiosk shows {kiosk.stage_label.text()} {kiosk.ticket_label.text()}; screenshot in {args.out}")
        kiosk.close()
        store.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
