"""Screenshots of case handling for docs/: the room terminal's handling pane, and the case view's timeline.

    QT_QPA_PLATFORM=offscreen .venv/bin/python tools/screenshot_handling.py [--out docs/screenshots]

Offscreen, at 1366x768, on a seeded temporary store with a fixed clock: a neighbours' dispute registered on
27 November, a first session, a whistle to the housing bureau signed late, 结束接待 booking 17 December;
on 17 December the mediator receives the case again and types the second session (handling_pane.png). The case
is then resolved, its agreement numbered, and the case view shows the timeline and the steps allowed now
(timeline.png).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtWidgets import QApplication  # noqa: E402

from desk.app import (  # noqa: E402
    Services,
    build_agreements,
    build_room_terminal,
    build_services,
    install_translators,
)
from desk.core.clock import CHINA_TZ, FixedClock  # noqa: E402
from desk.core.events import Attendee, Statement  # noqa: E402
from desk.core.lifecycle import FinishChoice  # noqa: E402
from desk.core.permissions import operator as staff
from desk.core.synthetic import id_check_char  # noqa: E402
from desk.security.keys import save_keyset
from desk.security.vault import KeySet
from desk.services.handling import Booking  # noqa: E402
from desk.services.setup import init_hall  # noqa: E402
from desk.store.models import DepartmentRow  # noqa: E402
from desk.store.session import Store, open_store  # noqa: E402
from desk.ui.case_history import CaseHistoryDialog  # noqa: E402
from desk.ui.fonts import use_cjk_font  # noqa: E402
from desk.ui.ops import wait_all_idle  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SIZE = (1366, 768)


def _at(day: dt.date, hour: int, minute: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), CHINA_TZ)


def _id(body17: str) -> str:
    return body17 + id_check_char(body17)


def seed_departments(store: Store) -> None:
    """The department catalog, as the county's sync brings it."""
    with store.unit_of_work() as s:
        for i, (code, name) in enumerate(
            (("ZJJ", "区住建局"), ("ZRZY", "区自然资源局"), ("CGJ", "区城管局"), ("DJJD", "东街街道办事处")),
            1,
        ):
            s.add(DepartmentRow(code=code, name=name, phone=f"0936-821100{i}", position=i, active=True))


def seed_case(services: Services, clock: FixedClock) -> str:
    """27 Nov: registered and received; session 1 books 17 Dec; a whistle the bureau signs late."""
    day = dt.date(2026, 11, 27)
    clock.set(_at(day, 9, 12))
    data = {
        "category": "邻里纠纷",
        "channel": "walk_in",
        "headcount": 2,
        "narrative": "邻居在院墙外堆放建筑材料占用通道，雨天积水流入申请人院内，多次沟通未果。",
        "parties": [
            {
                "role": "applicant",
                "name": "王秀兰",
                "id_number": _id("62070219650314202"),
                "phone": "13993612345",
            },
            {
                "role": "respondent",
                "name": "李建国",
                "id_number": _id("62070219700821301"),
                "phone": "13893654321",
            },
        ],
    }
    case_no = services.registration.register(data, new_case=True).case_no
    queue, handling = services.queue, services.handling
    ticket = queue.issue_ticket(case_no, room_code="R01").ticket
    clock.set(_at(day, 9, 40))
    for service in (queue, handling, services.whistles):
        service.act_for(staff("刘秀英", "R01终端"))
    queue.call_next("R01")
    queue.claim(ticket.id)
    file = handling.view(case_no)
    ids = {p.name: p.id for p in file.parties}
    clock.set(_at(day, 10, 30))
    handling.record_session(
        case_no,
        attendees=[
            Attendee("王秀兰", "party", ids["王秀兰"], None),
            Attendee("李建国", "party", ids["李建国"], None),
            Attendee("刘秀英", "mediator", None, None),
        ],
        statements=[
            Statement("王秀兰", "建筑材料堆放两个多月，雨天积水流进院里，要求清走并修排水沟"),
            Statement("李建国", "材料是翻修房子用的，月底前用完，排水沟不是我堵的"),
        ],
        agreed="请住建局核实是否违章搭建，下次调解前李建国清走剩余材料",
        started_at=_at(day, 9, 45),
        ended_at=_at(day, 10, 25),
    )
    whistle = services.whistles.blow(case_no, ["ZJJ", "DJJD"], "核实院墙外搭建物是否违章，疏通排水沟")
    clock.set(_at(day, 12, 5))
    services.whistles.sign(whistle.whistle_id, "ZJJ", "住建局张科长")
    services.whistles.sign(whistle.whistle_id, "DJJD", "街道李主任")
    clock.set(_at(day, 12, 10))
    # 结束接待: 1, the next session booked for 17 December
    handling.finish_reception(
        case_no, FinishChoice.BOOKED, booking=Booking(dt.date(2026, 12, 17), "09:30", "R01")
    )
    clock.set(_at(dt.date(2026, 11, 28), 9, 0))
    services.whistles.arrive(whistle.whistle_id, "ZJJ", "住建局王工")
    services.whistles.arrive(whistle.whistle_id, "DJJD", "街道李主任")
    clock.set(_at(dt.date(2026, 12, 1), 16, 0))
    services.whistles.report(whistle.whistle_id, "ZJJ", "已现场核实：为临时堆放，不属违章搭建")
    return case_no


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
        seed_departments(store)
        clock = FixedClock(_at(dt.date(2026, 11, 27), 9, 0))
        services = build_services(store, clock, principal=staff("前台一号窗口", "前台1"))
        case_no = seed_case(services, clock)

        # 17 December, 09:25: the booked visit, and two other visitors waiting.
        day = dt.date(2026, 12, 17)
        clock.set(_at(day, 9, 25))
        queue = services.queue
        booked = queue.issue_ticket(case_no, room_code="R01").ticket
        for n, (name, body) in enumerate(
            (("赵春花", "62070219781105402"), ("周凤英", "62070219880712203")), 1
        ):
            clock.set(_at(day, 9, 26 + n))
            other = services.registration.register(
                {
                    "category": "邻里纠纷",
                    "channel": "walk_in",
                    "headcount": 1,
                    "narrative": "楼上漏水，协商赔偿未果。" if n == 1 else "宅基地界址争议。",
                    "parties": [{"role": "applicant", "name": name, "id_number": _id(body)}],
                },
                new_case=True,
            )
            queue.issue_ticket(other.case_no, room_code="R01")
        clock.set(_at(day, 9, 32))

        terminal = build_room_terminal(services, "R01")
        terminal.resize(*SIZE)
        terminal.show()
        wait_all_idle()
        terminal.set_on_duty(staff("刘秀英", "R01终端"))
        terminal.claim_by_scan(booked.label)
        wait_all_idle()
        wait_all_idle()
        pane = terminal.pane
        assert pane is not None and pane.file is not None
        form = pane.session_form
        form.department_edit.setText("王工（区住建局）")
        form.statement_edits[0][1].setPlainText("排水沟已疏通，同意李建国在12月31日前清走剩余材料")
        form.statement_edits[1][1].setPlainText("同意月底前清走，清走后通知王秀兰确认")
        form.agreed_edit.setPlainText("双方就清理期限和排水沟维护达成一致")
        form.terms_edit.setPlainText(
            "李建国于2026年12月31日前清走院墙外全部建筑材料\n排水沟由双方共同维护，保持畅通"
        )
        form.agreed_edit.setFocus()
        app.processEvents()
        terminal.grab().save(str(args.out / "handling_pane.png"))

        # The session saved, 调解成功 recorded: the case view with its timeline and the steps allowed now.
        pane.record_session()
        wait_all_idle()
        clock.set(_at(day, 10, 40))
        services.handling.act_for(staff("刘秀英", "R01终端"))
        services.handling.record_outcome(
            case_no,
            "resolved",
            performance="李建国自行清理，王秀兰现场确认",
            performance_deadline=dt.date(2026, 12, 31),
        )
        view = CaseHistoryDialog(
            services.registration.case(case_no),
            category_names={c.code: c.name for c in services.registration.categories()},
            reload=services.registration.case,
            handling=services.handling,
            agreements=build_agreements(services),
        )
        view.resize(*SIZE)
        view.show()
        wait_all_idle()
        app.processEvents()
        view.view.timeline_view.scrollToBottom()
        app.processEvents()
        view.grab().save(str(args.out / "timeline.png"))
        print(f"{case_no}: screenshots in {args.out}")
        view.close()
        terminal.close()
        wait_all_idle()
        store.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
