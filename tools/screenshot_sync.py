"""Screenshots of sync with the county for docs/: the desk's status bar after a round (last success, events waiting,
cases diverted here), the list of diverted cases with one being routed, the status bar after a failed round, and
the county's divert dialog.

    QT_QPA_PLATFORM=offscreen .venv/bin/python tools/screenshot_sync.py [--out docs/screenshots] [--pg URL]

Needs the PostgreSQL server (`--pg`: an admin URL, default DESK_TEST_PG_URL or postgres@127.0.0.1:5432): a county
store is made in a temporary database, dropped at the end. The halls are temporary SQLite stores; the clock is
fixed; the windows sync through the same background runner as the desk. Nothing else is touched.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
import uuid
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import sqlalchemy as sa  # noqa: E402
from PySide6.QtCore import QEventLoop, QTimer, SignalInstance  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from desk.app import build_main_window, build_services, install_translators  # noqa: E402
from desk.core.clock import CHINA_TZ, FixedClock  # noqa: E402
from desk.core.permissions import operator as staff
from desk.core.synthetic import id_check_char  # noqa: E402
from desk.security.keys import save_keyset
from desk.security.vault import KeySet
from desk.services.county import CountyService, init_county  # noqa: E402
from desk.services.registration import RegistrationService  # noqa: E402
from desk.services.setup import init_hall  # noqa: E402
from desk.store.session import Store, open_store  # noqa: E402
from desk.sync.engine import Syncer  # noqa: E402
from desk.ui.fonts import use_cjk_font  # noqa: E402
from desk.ui.main_window import MainWindow  # noqa: E402
from desk.ui.ops import wait_all_idle  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DAY = dt.date(2026, 11, 27)
HALL = "620702001"  # the seeded hall: 甘州区东街街道综治中心
OTHER_HALLS = (
    ("620702002", "甘州区西街街道综治中心"),
    ("620702103", "甘州区梁家墩镇综治中心"),
    ("620702104", "甘州区党寨镇综治中心"),
)
UNREACHABLE = "postgresql+psycopg://zongzhi:example-password@127.0.0.1:1/county"  # nothing listens there


def _at(hour: int, minute: int) -> dt.datetime:
    return dt.datetime.combine(DAY, dt.time(hour, minute), CHINA_TZ)


def _id(body17: str) -> str:
    return body17 + id_check_char(body17)


def _wait(signal: SignalInstance, timeout_ms: int = 30_000) -> None:
    """Run the event loop until `signal` (a round ends in the sync thread, which needs the loop running)."""
    loop = QEventLoop()
    signal.connect(loop.quit)
    QTimer.singleShot(timeout_ms, loop.quit)
    loop.exec()
    signal.disconnect(loop.quit)


def _visit(
    category: str, name: str, id_body: str, narrative: str, *, respondent: str = ""
) -> dict[str, object]:
    parties: list[dict[str, object]] = [
        {"role": "applicant", "name": name, "id_number": _id(id_body), "phone": "13909360000"}
    ]
    if respondent:
        parties.append({"role": "respondent", "name": respondent, "phone": "13893650000"})
    return {
        "category": category,
        "channel": "walk_in",
        "headcount": 1,
        "narrative": narrative,
        "parties": parties,
    }


DIVERTED = (
    (
        _visit(
            "山林土地纠纷",
            "王建军",
            "62070219710402101",
            "与邻组村民因承包地界址发生争执，对方在界址处种植树木，多次协商未果，到县综治中心反映。",
            respondent="刘永福",
        ),
        "纠纷发生地属东街街道南关社区，由属地中心调处",
    ),
    (
        _visit(
            "物业纠纷",
            "陈丽萍",
            "62070219880917202",
            "小区物业公司未按约定维修漏水的屋顶，业主拒交物业费，双方矛盾激化。",
        ),
        "涉及辖区内小区，请属地中心组织物业、业主调解",
    ),
    (
        _visit(
            "婚姻家庭纠纷",
            "杨秀英",
            "62070219620130204",
            "子女对赡养老人的费用分担有分歧，老人来县综治中心求助。",
        ),
        "",
    ),
)


def _drop(admin: str, name: str) -> None:
    eng = sa.create_engine(admin, isolation_level="AUTOCOMMIT")
    with eng.connect() as c:
        c.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    eng.dispose()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    p.add_argument(
        "--pg",
        default=os.environ.get("DESK_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"),
    )
    args = p.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)

    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    install_translators(app, "zh_CN")
    if not use_cjk_font(app):
        print("CJK font not loaded", file=sys.stderr)
        return 1

    name = f"desk_screenshot_{uuid.uuid4().hex[:8]}"
    eng = sa.create_engine(args.pg, isolation_level="AUTOCOMMIT")
    with eng.connect() as c:
        c.exec_driver_sql(f'CREATE DATABASE "{name}"')
    eng.dispose()
    county_url = make_url(args.pg).set(database=name).render_as_string(hide_password=False)
    stores: list[Store] = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            os.environ["DESK_KEY_FILE"] = os.path.join(tmp, "keys", "keyset.json")  # data keys of its own
            os.environ["DESK_KEYRING"] = "0"
            save_keyset(KeySet.generate())
            return _shoot(args.out, county_url, Path(tmp), stores)
    finally:
        for s in stores:
            s.dispose()
        _drop(args.pg, name)


def _shoot(out: Path, county_url: str, tmp: Path, stores: list[Store]) -> int:
    clock = FixedClock(_at(8, 40))
    county = open_store(county_url)
    stores.append(county)
    init_county(county, code="620702", name="甘州区综治中心")

    # The county's other halls, each with a visit of its own, synced once: they are in its registry.
    for code, hall_name in OTHER_HALLS:
        store = open_store(f"sqlite:///{tmp / f'{code}.db'}")
        stores.append(store)
        init_hall(store, hall_code=code, hall_name=hall_name)
        RegistrationService(store, clock, principal=staff()).register(
            _visit("邻里纠纷", "张三", "62070219850101123", "邻里之间因通道发生争执。")
        )
        clock.advance(minutes=7)
        syncer = Syncer(store, county_url, clock=clock)
        syncer.run_once()
        syncer.close()

    hall = open_store(f"sqlite:///{tmp / 'desk.db'}")
    stores.append(hall)
    init_hall(hall)
    clock.set(_at(9, 0))
    services = build_services(hall, clock, county_url=county_url, principal=staff("前台一号窗口", "前台1"))
    reg = services.registration
    for i, (who, body) in enumerate(
        (("赵春花", "62070219790521304"), ("杨德胜", "62070219660910201"), ("李桂芳", "62070219750612208"))
    ):
        clock.advance(minutes=9 + i)
        case = reg.register(_visit("婚姻家庭纠纷", who, body, "夫妻双方因赡养老人问题发生争执，请求调解。"))
        services.queue.issue_ticket(case.case_no)

    window = build_main_window(
        services, store_label="数据库：本机 SQLite（示例）", clock=clock, speech_engine="mock"
    )
    window.resize(1180, 820)
    window.show()
    QTest.qWaitForWindowActive(window)
    bar = window.sync_bar
    assert bar is not None and bar.runner is not None
    clock.set(_at(9, 58))
    bar.sync_now()  # the hall's first round: it registers with the county
    _wait(bar.runner.sig_finished)

    # The county diverts three cases here (registered there); the next round brings them down.
    supervisor = CountyService(county, clock, principal=staff("县综治中心 王主任"))
    for i, (data, reason) in enumerate(DIVERTED):
        clock.set(_at(10, 1 + 3 * i))
        supervisor.divert_visit(data, to_hall=HALL, reason=reason)
    clock.set(_at(10, 12))
    bar.sync_now()
    _wait(bar.runner.sig_finished)
    # Two walk-ins registered since: waiting to go up at the next round.
    for who, body in (("马桂兰", "62070219500312202"), ("周文斌", "62070219830228101")):
        clock.advance(minutes=1)
        reg.register(_visit("邻里纠纷", who, body, "邻居在公共通道堆放杂物，多次沟通未果。"))
    bar.refresh()
    window.update_diverted_count()
    wait_all_idle()  # read off the UI thread
    QTest.qWait(100)
    window.grab().save(str(out / "sync-status.png"))

    dialog = window.open_diverted_cases()
    dialog.resize(1280, 860)
    wait_all_idle()
    QTest.qWait(100)
    dialog.grab().save(str(out / "diverted.png"))
    dialog.close()

    county_window = _county_window(county, clock)
    case = RegistrationService(county, clock, principal=staff("县综治中心")).register(
        _visit("征地拆迁纠纷", "孙立平", "62070219690815103", "对征地补偿标准有异议，多次到县里反映。")
    )
    divert = county_window.open_divert_dialog(
        case.case_no, summary="征地拆迁纠纷 · 申请人 孙立平 · 10:12 登记"
    )
    assert divert is not None
    wait_all_idle()  # the county's halls
    divert.reason_edit.setText("涉及梁家墩镇征地项目，由属地中心会同镇政府调处")
    divert.select_hall("620702103")
    QTest.qWait(100)
    divert.grab().save(str(out / "sync-divert.png"))
    divert.close()
    county_window.close()

    # The same desk when the county cannot be reached (a wrong address; the password is never shown).
    window.close()
    unreachable = build_services(
        hall, clock, county_url=UNREACHABLE, principal=staff("前台一号窗口", "前台1")
    )
    failing = build_main_window(
        unreachable, store_label="数据库：本机 SQLite（示例）", clock=clock, speech_engine="mock"
    )
    failing.resize(1180, 820)
    failing.show()
    QTest.qWaitForWindowActive(failing)
    fbar = failing.sync_bar
    assert fbar is not None and fbar.runner is not None
    clock.set(_at(10, 20))
    fbar.sync_now()
    _wait(fbar.runner.sig_failed)
    wait_all_idle()
    QTest.qWait(100)
    failing.grab().save(str(out / "sync-error.png"))
    print(f"status: {fbar.state_label.text()} · {fbar.waiting_label.text()} · {fbar.error_label.toolTip()}")
    failing.close()
    print(f"screenshots in {out}")
    return 0


def _county_window(county: Store, clock: FixedClock) -> MainWindow:
    services = build_services(county, clock, principal=staff("县综治中心"))
    window = build_main_window(
        services, store_label="数据库：县级 PostgreSQL（示例）", clock=clock, speech_engine="mock"
    )
    window.resize(1180, 820)
    window.show()
    return window


if __name__ == "__main__":
    raise SystemExit(main())
