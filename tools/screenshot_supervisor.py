"""A screenshot of the supervisor's window (督办) for docs/: its warnings panel on a November morning.

    QT_QPA_PLATFORM=offscreen .venv/bin/python tools/screenshot_supervisor.py [--out docs/screenshots]

Offscreen, 1366×768, on a seeded temporary store with a fixed clock: a month of cases registered, claimed, one
closed, a whistle blown, the sweep run, some warnings read; then, this morning, a visitor in crisis (重大) and a
group visit registered at the desk. Everything goes through the services the windows use.
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

from desk.app import Services, build_services, build_supervisor_window, install_translators  # noqa: E402
from desk.core.clock import CHINA_TZ, FixedClock  # noqa: E402
from desk.core.permissions import operator as staff
from desk.core.synthetic import make_visit  # noqa: E402
from desk.security.keys import save_keyset
from desk.security.vault import KeySet
from desk.services.county import seed_departments  # noqa: E402
from desk.services.setup import init_hall  # noqa: E402
from desk.store.session import open_store  # noqa: E402
from desk.ui.fonts import use_cjk_font  # noqa: E402
from desk.ui.ops import wait_all_idle  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def _at(day: dt.date, hour: int, minute: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), CHINA_TZ)


def _claimed(services: Services, data: dict[str, object]) -> str:
    case_no = services.registration.register(data, new_case=True).case_no
    ticket = services.queue.issue_ticket(case_no).ticket
    services.queue.claim(ticket.id)
    return case_no


def seed(services: Services, supervisor: Services, clock: FixedClock) -> None:
    rng = random.Random(20261127)
    names = {c.code: c.name for c in services.registration.categories()}

    def visit(**overrides: object) -> dict[str, object]:
        data = make_visit(rng, categories=names)
        data["risk_flags"] = []
        data["headcount"] = 1
        data.update(overrides)
        return data

    # Late October: four cases taken into mediation; by 27 November some are past their time limit.
    for day, hour in ((16, 9), (20, 10), (23, 15), (28, 9)):
        clock.set(_at(dt.date(2026, 10, day), hour, 10))
        _claimed(services, visit())
    # Mid November: one mediated, agreed and closed on the 20th; its follow-up is due today.
    clock.set(_at(dt.date(2026, 11, 12), 9, 40))
    closed = _claimed(services, visit())
    clock.set(_at(dt.date(2026, 11, 20), 16, 0))
    services.handling.record_outcome(closed, "resolved", terms=("被申请人于十日内支付拖欠工资 8,600 元",))
    services.handling.close(closed)
    # Two days ago: a land dispute, the 自然资源局 and the 信访局 summoned; one signed, neither came.
    clock.set(_at(dt.date(2026, 11, 25), 14, 30))
    land = _claimed(services, visit())
    departments = [d.code for d in services.whistles.departments()][:2]
    whistle = services.whistles.blow(land, departments, "宅基地界址争议，需现场核查确权资料")
    clock.set(_at(dt.date(2026, 11, 25), 15, 5))
    services.whistles.sign(whistle.whistle_id, departments[0], "赵科长")
    # This morning's first sweep; the supervisor reads the deadline warnings of two cases.
    clock.set(_at(dt.date(2026, 11, 27), 8, 30))
    supervisor.warnings.sweep()
    clock.set(_at(dt.date(2026, 11, 27), 8, 50))
    for w in [w for w in supervisor.warnings.open_warnings() if w.kind == "deadline"][:2]:
        supervisor.warnings.acknowledge(w.id)
    # 10:05 a group visit, 10:12 a visitor in crisis, both registered at the desk.
    clock.set(_at(dt.date(2026, 11, 27), 10, 5))
    services.registration.register(visit(headcount=9, narrative="村里九户村民因征地补偿款分配不均集体来访。"))
    clock.set(_at(dt.date(2026, 11, 27), 10, 12))
    services.registration.register(
        visit(narrative="因婚姻纠纷长期争吵，情绪低落，说自己不想活了，家属陪同来访。")
    )


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
        clock = FixedClock(_at(dt.date(2026, 11, 20), 9, 0))
        services = build_services(store, clock, principal=staff("前台一号窗口", "前台1"))
        supervisor = build_services(store, clock, principal=staff("值班主任王敏", "督办"))
        seed(services, supervisor, clock)
        clock.set(_at(dt.date(2026, 11, 27), 10, 13))

        window = build_supervisor_window(supervisor)
        window.resize(1366, 768)
        window.show()
        wait_all_idle()
        QTest.qWait(300)
        wait_all_idle()
        window.banner._blink.stop()  # as after the blinking: the banner stays lit red
        window.banner._paint(lit=False)
        QTest.qWait(100)
        window.grab().save(str(args.out / "warnings_panel.png"))
        assert window.dashboard is not None
        window.tabs.setCurrentWidget(window.dashboard)  # 今日概况
        QTest.qWait(100)
        window.grab().save(str(args.out / "dashboard.png"))
        assert window.trend is not None
        window.tabs.setCurrentWidget(window.trend)  # 纠纷走势, read when shown
        wait_all_idle()
        QTest.qWait(200)
        if window.trend.trend is not None and window.trend.trend.by_category:
            busiest = max(
                window.trend.trend.by_category, key=lambda c: sum(window.trend.trend.by_category[c])
            )
            window.trend.sig_point.emit(busiest, window.trend.trend.periods[-1])
            wait_all_idle()
            QTest.qWait(200)
        window.grab().save(str(args.out / "trend.png"))
        print(
            f"{window.open_model.rowCount()} unread, {window.acknowledged_model.rowCount()} read, "
            f"{window.overdue_model.rowCount()} overdue, {window.whistle_model.rowCount()} late whistle rows, "
            f"{window.follow_up_model.rowCount()} follow-ups due; screenshot in {args.out}"
        )
        window.close()
        wait_all_idle()
        store.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
