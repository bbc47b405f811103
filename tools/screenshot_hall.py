"""Screenshots of the hall for docs/: a room terminal mid-morning, and the hall's calling screen.

    QT_QPA_PLATFORM=offscreen .venv/bin/python tools/screenshot_hall.py [--out docs/screenshots]

Offscreen, on a seeded temporary store with a fixed clock: a morning of walk-ins registered and routed through the
services the windows use, some called, received and finished. The voice is the `mock` engine: nothing is spoken.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from desk.app import build_services, install_translators  # noqa: E402
from desk.core.clock import CHINA_TZ, FixedClock  # noqa: E402
from desk.core.permissions import operator as staff
from desk.core.synthetic import id_check_char, make_visit  # noqa: E402
from desk.security.keys import save_keyset
from desk.security.vault import KeySet
from desk.services.display import DisplayService  # noqa: E402
from desk.services.queue import QueueService, TicketView  # noqa: E402
from desk.services.setup import init_hall  # noqa: E402
from desk.store.session import open_store  # noqa: E402
from desk.ui.display.hall_display import HallDisplay  # noqa: E402
from desk.ui.fonts import use_cjk_font  # noqa: E402
from desk.ui.ops import wait_all_idle  # noqa: E402
from desk.ui.room.terminal import RoomTerminal  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DAY = dt.date(2026, 11, 27)


def _at(hour: int, minute: int) -> dt.datetime:
    return dt.datetime.combine(DAY, dt.time(hour, minute), CHINA_TZ)


def _id(body17: str) -> str:
    return body17 + id_check_char(body17)


def seed_morning(services: object, clock: FixedClock) -> dict[str, list[TicketView]]:
    """08:30–10:12: twenty walk-ins, routed as proposed; the early ones served, a few being received now."""
    from desk.app import Services

    assert isinstance(services, Services)
    reg, queue = services.registration, services.queue
    names = {c.code: c.name for c in reg.categories()}
    rng = random.Random(20261127)
    minutes = sorted(rng.uniform(0, 100) for _ in range(20))
    tickets: dict[str, list[TicketView]] = {}
    for i, m in enumerate(minutes):
        clock.set(_at(8, 30) + dt.timedelta(minutes=m))
        data = make_visit(rng, categories=names)
        data["risk_flags"] = []
        data["headcount"] = min(int(data["headcount"]), 3)
        if i == 13:  # a 76-year-old with a neighbour dispute
            data = {
                "category": "邻里纠纷",
                "channel": "walk_in",
                "headcount": 1,
                "narrative": "邻居在两家院墙之间的公共通道上堆放柴草，占用通道，电动车无法通行，多次沟通未果。",
                "parties": [
                    {
                        "role": "applicant",
                        "name": "马桂兰",
                        "id_number": _id("62070219500312202"),
                        "phone": "13909368812",
                        "address": "甘州区东街街道南关社区3组27号",
                    },
                    {"role": "respondent", "name": "李建国", "phone": "13893657702"},
                ],
            }
        case = reg.register(data, new_case=True)
        if queue.propose(case.case_no).room_code is None:
            continue
        issued = queue.issue_ticket(case.case_no, declared_priority=("pregnant",) if i == 16 else ())
        tickets.setdefault(issued.room.code, []).append(issued.ticket)
    return tickets


def serve_some(queue: QueueService, clock: FixedClock, room: str, *, finished: int, called: int) -> None:
    for _ in range(finished):
        clock.advance(minutes=2)
        t = queue.call_next(room, take_over=False)
        if t is None:
            return
        clock.advance(minutes=1)
        queue.claim(t.id)
        clock.advance(minutes=12)
        queue.finish(t.id)
    for _ in range(called):
        clock.advance(minutes=1)
        queue.call_next(room, take_over=False)


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
        clock = FixedClock(_at(8, 30))
        services = build_services(store, clock, principal=staff("前台一号窗口", "前台1"))
        tickets = seed_morning(services, clock)
        clock.set(_at(9, 5))
        for room, finished, called in (
            ("R02", 1, 1),
            ("R04", 1, 0),
            ("R05", 1, 1),
            ("R07", 1, 1),
            ("R06", 0, 1),
        ):
            if room in tickets:
                serve_some(
                    QueueService(store, clock, principal=staff("值班调解员", f"{room}终端")),
                    clock,
                    room,
                    finished=finished,
                    called=called,
                )

        # Room 1: two served this morning, one being received now (with the whole history on the right).
        room_queue = QueueService(store, clock, principal=staff("功能室终端", "R01终端"))
        terminal = RoomTerminal(
            "R01",
            queue=room_queue,
            rooms=services.rooms,
            display=services.display,
            registration=services.registration,
            poll_ms=400,
        )
        wait_all_idle()  # each step runs off the UI thread: let it land before the clock moves on
        terminal.set_on_duty(staff("刘秀英", "R01终端"))
        clock.set(_at(9, 10))
        serve_some(room_queue, clock, "R01", finished=2, called=0)
        clock.set(_at(10, 2))
        terminal.refresh(force=True)
        first = terminal.call_next()
        wait_all_idle()
        clock.advance(minutes=1)
        if first is not None and first.error is None:
            terminal.claim_selected()
            wait_all_idle()
        clock.set(_at(10, 9))
        terminal.call_next()
        wait_all_idle()
        clock.set(_at(10, 11))
        terminal.recall()
        wait_all_idle()
        clock.set(_at(10, 12))
        terminal.refresh(force=True)
        wait_all_idle()
        terminal.resize(1360, 820)
        terminal.show()
        QTest.qWait(200)
        terminal.grab().save(str(args.out / "room-terminal.png"))

        display = HallDisplay(
            DisplayService(store, clock),
            hall_name=services.registration.hall.name,
            flash_ms=60_000,
            hold_ms=10,
        )
        display.resize(1920, 1080)
        display.show()
        QTest.qWait(200)
        clock.set(_at(10, 12))
        serve_next = QueueService(store, clock, principal=staff("张立新", "R02终端"))
        called = serve_next.call_next("R02", take_over=False) or serve_next.call_next("R04", take_over=False)
        for _ in range(
            100
        ):  # the display's poll sees the new call (a read may wait behind the store's checkpoint)
            if called is None or (display.current is not None and display.current.ticket == called.label):
                break
            QTest.qWait(50)
        display._on_flash_ended()  # as after FLASH_MS: the flash is over, the call stays on screen
        QTest.qWait(100)
        display.grab().save(str(args.out / "hall-display.png"))
        print(f"now calling {display.ticket_label.text()}; screenshots in {args.out}")
        display.close()
        terminal.close()
        store.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
