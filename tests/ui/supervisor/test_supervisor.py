"""The supervisor's window (督办): a visitor in crisis registered at the desk is routed to the counselling room and
shows at once as a 重大 warning here and on the desk's window; reading it records who and when; left unread it
alerts again after 10 minutes; the overdue cases, the whistles past a clock and the follow-ups due are listed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from desk.app import Services, build_main_window, build_services, build_supervisor_window
from desk.core.clock import FixedClock
from desk.core.permissions import actor_name
from desk.services.alerts import WarningView
from desk.services.county import seed_departments
from desk.store.session import Store
from desk.ui.case_history import CaseHistoryDialog
from desk.ui.main_window import MainWindow
from desk.ui.models.warning_table import WarningTableModel
from desk.ui.supervisor.window import (
    TAB_FOLLOW_UPS,
    TAB_OVERDUE,
    TAB_WARNINGS,
    TAB_WHISTLES,
    SupervisionServices,
    SupervisorWindow,
)
from tests.conftest import NOW, staff, valid_id, visit
from tests.receipt_settings import PRINTING_SETTINGS
from tests.ui.intake.test_registration_form import fill
from tests.ui.waiting import settle, value

SUPERVISOR = "值班主任王敏"
CRISIS = "与家人争吵多年，实在不想活了，想来讨个说法。"


@pytest.fixture
def beeps(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Each `QApplication.beep` the windows make."""
    made: list[int] = []
    monkeypatch.setattr(QApplication, "beep", staticmethod(lambda: made.append(1)))
    return made


@pytest.fixture
def supervisor_services(sqlite_store: Store, clock: FixedClock) -> Services:
    """The supervisor's own process on the same store: readings are recorded in their name."""
    return build_services(
        sqlite_store, clock, settings=PRINTING_SETTINGS, principal=staff(SUPERVISOR, "督办")
    )


@pytest.fixture
def window(qtbot: QtBot, supervisor_services: Services) -> Iterator[SupervisorWindow]:
    s = supervisor_services
    w = SupervisorWindow(
        SupervisionServices(
            warnings=s.warnings,
            whistles=s.whistles,
            handling=s.handling,
            registration=s.registration,
            rooms=s.rooms,
        ),
        hall_name=s.registration.hall.name,
        poll_ms=50,
        sweep_ms=3_600_000,  # the tests sweep when the clock has moved (`sweep_now`)
    )
    qtbot.addWidget(w)
    with qtbot.waitActive(w):
        w.show()
    settle(qtbot)
    yield w


@pytest.fixture
def desk(qtbot: QtBot, services: Services, clock: FixedClock) -> Iterator[MainWindow]:
    w = build_main_window(services, clock=clock, speech_engine="mock")
    qtbot.addWidget(w)
    with qtbot.waitActive(w):
        w.show()
    settle(qtbot)
    yield w


def open_rows(window: SupervisorWindow) -> list[tuple[str, str, str]]:
    m = window.open_model
    return [
        (
            m.index(r, WarningTableModel.LEVEL).data(),
            m.index(r, WarningTableModel.KIND).data(),
            m.index(r, WarningTableModel.CASE).data(),
        )
        for r in range(m.rowCount())
    ]


def sweep(qtbot: QtBot, window: SupervisorWindow) -> None:
    op = window.sweep_now()
    assert op is not None
    value(qtbot, op)


def register_crisis(services: Services) -> str:
    return services.registration.register(visit(narrative=CRISIS)).case_no


# --- the crisis path ----------------------------------------------------------------------------------


def test_a_crisis_registered_at_the_desk_goes_to_counselling_and_warns_everywhere_at_once(
    qtbot: QtBot,
    desk: MainWindow,
    window: SupervisorWindow,
    services: Services,
    beeps: list[int],
) -> None:
    assert window.open_model.rowCount() == 0 and not window.banner.isVisible()
    assert not desk.warning_bar.isVisible()
    with qtbot.waitActive(desk):
        desk.activateWindow()

    # At the desk: the narrative says 不想活了; the queue proposes the counselling room, Enter takes it.
    fill(qtbot, desk.form, narrative=CRISIS)
    with (
        qtbot.waitSignal(window.banner.sig_alerted, timeout=5000) as alerted,
        qtbot.waitSignal(desk.intake.sig_route_proposed, timeout=3000) as proposed,
    ):
        qtbot.keyClick(desk.form.address_edit, Qt.Key.Key_Return)
    assert proposed.args[0].room_code == "R03"
    assert proposed.args[0].reason.startswith("心理危机")
    qtbot.waitUntil(lambda: QApplication.focusWidget() is desk.intake.routing.confirm_button)
    with qtbot.waitSignal(desk.intake.sig_ticket_issued, timeout=3000) as issued:
        qtbot.keyClick(desk.intake.routing.confirm_button, Qt.Key.Key_Return)
    case_no = issued.args[0].ticket.case_no
    assert issued.args[0].room.code == "R03"

    # The supervisor's window (another process on the same store, not restarted) shows it, red, and beeps.
    warning = alerted.args[0]
    assert isinstance(warning, WarningView)
    assert (warning.case_no, warning.kind, warning.level) == (case_no, "crisis", "serious")
    qtbot.waitUntil(lambda: open_rows(window) == [("重大", "心理危机", case_no)])
    level = window.open_model.index(0, WarningTableModel.LEVEL)
    assert level.data(Qt.ItemDataRole.BackgroundRole).color().name() == "#c92a2a"
    assert window.banner.isVisible()
    assert window.banner.label.text().startswith("重大预警（1 条未阅）")
    assert case_no in window.banner.label.text()
    assert window.tabs.tabText(TAB_WARNINGS) == "预警（1）"

    # And the desk's own window shows the banner too, at once.
    qtbot.waitUntil(lambda: desk.warning_bar.isVisible(), timeout=5000)
    assert case_no in desk.warning_banner.label.text()
    assert "督办窗口" in desk.warning_banner.label.text()
    assert len(beeps) == 2  # one per window

    # Nothing personal on the banners.
    for text in (window.banner.label.text(), desk.warning_banner.label.text()):
        assert "张三" not in text and "13912345678" not in text and "不想活" not in text


def test_enter_acknowledges_and_records_who_and_when(
    qtbot: QtBot,
    window: SupervisorWindow,
    services: Services,
    clock: FixedClock,
    beeps: list[int],
) -> None:
    case_no = register_crisis(services)
    qtbot.waitUntil(lambda: window.open_model.rowCount() == 1)
    clock.advance(minutes=3)
    window.tabs.setCurrentIndex(TAB_WARNINGS)
    window.open_view.setFocus()
    window.open_view.selectRow(0)
    with qtbot.waitSignal(window.sig_acknowledged, timeout=3000) as acked:
        qtbot.keyClick(window.open_view, Qt.Key.Key_Return)
    read = acked.args[0]
    assert actor_name(read.acknowledged_by or "") == SUPERVISOR
    assert read.acknowledged_at == NOW + dt.timedelta(minutes=3)
    assert (
        f"已确认 {case_no} 的重大预警：{SUPERVISOR} 于 2026-11-27 10:03"
        in window.statusBar().currentMessage()
    )

    # The read one moves down, with who and when; the banner goes out.
    qtbot.waitUntil(lambda: window.acknowledged_model.rowCount() == 1)
    assert window.open_model.rowCount() == 0
    m = window.acknowledged_model
    assert actor_name(m.index(0, WarningTableModel.BY).data()) == SUPERVISOR
    assert m.index(0, WarningTableModel.AT).data() == "2026-11-27 10:03"
    assert not window.banner.isVisible()
    assert services.warnings.open_warnings() == []

    # Read: no alert again after 10 minutes.
    clock.advance(minutes=15)
    sweep(qtbot, window)
    settle(qtbot)
    assert window.banner.alerts == 1 and len(beeps) == 1


def test_ctrl_k_acknowledges_too(qtbot: QtBot, window: SupervisorWindow, services: Services) -> None:
    register_crisis(services)
    qtbot.waitUntil(lambda: window.open_model.rowCount() == 1)
    window.open_view.selectRow(0)
    with qtbot.waitSignal(window.sig_acknowledged, timeout=3000):
        qtbot.keyClick(window, Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier)


def test_an_unread_serious_warning_alerts_again_after_10_minutes(
    qtbot: QtBot,
    window: SupervisorWindow,
    services: Services,
    clock: FixedClock,
    beeps: list[int],
) -> None:
    case_no = register_crisis(services)
    qtbot.waitUntil(lambda: window.banner.alerts == 1)
    first = window.open_model.warning_at(0)

    clock.advance(minutes=9, seconds=59)
    sweep(qtbot, window)
    settle(qtbot)
    assert window.banner.alerts == 1 and len(beeps) == 1

    clock.advance(seconds=1)
    with qtbot.waitSignal(window.banner.sig_alerted, timeout=3000) as again:
        sweep(qtbot, window)
    assert again.args[0].id == first.id  # the same warning, alerted again: one line on the panel
    assert again.args[0].raised_at == NOW + dt.timedelta(minutes=10)
    assert window.banner.alerts == 2 and len(beeps) == 2
    qtbot.waitUntil(lambda: window.open_model.warning_at(0).raised_at == NOW + dt.timedelta(minutes=10))
    assert window.open_model.rowCount() == 1
    assert window.open_model.index(0, WarningTableModel.RAISED).data() == "2026-11-27 10:10"
    assert case_no in window.banner.label.text()


# --- the lists ----------------------------------------------------------------------------------------


def other_visit(body17: str, name: str) -> dict[str, object]:
    return visit(
        parties=[
            {
                "role": "applicant",
                "name": name,
                "id_number": valid_id(body17),
                "phone": "13900001111",
                "address": "甘州区东街街道2号",
            }
        ]
    )


def in_mediation(services: Services, data: dict[str, object]) -> str:
    case_no = services.registration.register(data).case_no
    ticket = services.queue.issue_ticket(case_no).ticket
    services.queue.claim(ticket.id)
    return case_no


def test_overdue_whistles_and_follow_ups_are_listed(
    qtbot: QtBot,
    window: SupervisorWindow,
    services: Services,
    sqlite_store: Store,
    clock: FixedClock,
) -> None:
    seed_departments(sqlite_store)
    # Closed today: its follow-up is due in 7 days.
    closed = in_mediation(services, visit())
    services.handling.record_outcome(closed, "resolved", terms=("李四于三日内清理杂物",))
    services.handling.close(closed)
    # In mediation, with the 信访局 summoned: its clock to sign runs out within the hour.
    summoned = in_mediation(services, other_visit("62070219900101123", "李四"))
    services.whistles.blow(summoned, ["xinfang"], "协调清理占道杂物")
    # Paused: never overdue.
    paused = in_mediation(services, other_visit("62070219920202123", "王五"))
    services.handling.pause(paused, "当事人住院")

    # 2 hours later: the whistle is late to sign; nothing overdue, no follow-up due yet.
    clock.advance(hours=2)
    sweep(qtbot, window)
    qtbot.waitUntil(lambda: window.whistle_model.rowCount() == 1)
    w = window.whistle_model
    row = [w.index(0, c).data() for c in range(w.columnCount())]
    assert row[:4] == [summoned, "区信访局", "协调清理占道杂物", "未签收"]
    assert row[4] == "2026-11-27 11:00" and row[5] == "1小时"
    assert window.tabs.tabText(TAB_WHISTLES) == "吹哨超时（1）"
    assert window.overdue_model.rowCount() == 0 and window.follow_up_model.rowCount() == 0

    # 7 days on (2026-12-04): the follow-up is due today.
    clock.set(dt.datetime(2026, 12, 4, 1, 0, tzinfo=dt.UTC))
    sweep(qtbot, window)
    qtbot.waitUntil(lambda: window.follow_up_model.case_numbers() == [closed])
    f = window.follow_up_model
    assert f.index(0, f.DUE).data() == "2026-12-04"
    assert f.index(0, f.WHEN).data() == "今日到期"
    assert f.index(0, f.OUTCOME).data() == "已化解"
    assert window.tabs.tabText(TAB_FOLLOW_UPS) == "今日回访（1）"

    # 2027-01-05: the case in mediation is 8 days past its due day (2026-12-28); the paused one is not listed;
    # the follow-up not made is a month late.
    clock.set(dt.datetime(2027, 1, 5, 2, 0, tzinfo=dt.UTC))
    sweep(qtbot, window)
    qtbot.waitUntil(lambda: window.overdue_model.case_numbers() == [summoned])
    o = window.overdue_model
    assert [o.index(0, c).data() for c in range(o.columnCount())][:6] == [
        summoned,
        "邻里纠纷",
        "调解中",
        "1号人民调解室",
        "2026-12-28",
        "8 天",
    ]
    assert window.tabs.tabText(TAB_OVERDUE) == "逾期案件（1）"
    assert f.index(0, f.WHEN).data() == "逾期 32 天"
    # The sweep raised the deadline's and the clocks' warnings for the panel.
    kinds = {(lvl, kind) for lvl, kind, _case in open_rows(window)}
    assert ("重大", "期限") in kinds and ("较大", "吹哨") in kinds


def test_enter_on_a_listed_case_opens_its_history(
    qtbot: QtBot, window: SupervisorWindow, services: Services, clock: FixedClock
) -> None:
    case_no = in_mediation(services, visit())
    clock.set(dt.datetime(2027, 1, 5, 2, 0, tzinfo=dt.UTC))
    sweep(qtbot, window)
    qtbot.waitUntil(lambda: window.overdue_model.rowCount() == 1)
    window.tabs.setCurrentIndex(TAB_OVERDUE)
    window.overdue_view.setFocus()
    window.overdue_view.selectRow(0)
    with qtbot.waitSignal(window.sig_case_opened, timeout=3000) as opened:
        qtbot.keyClick(window.overdue_view, Qt.Key.Key_Return)
    dialog = opened.args[0]
    assert isinstance(dialog, CaseHistoryDialog)
    assert dialog.detail.case_no == case_no
    dialog.close()


def test_the_supervisor_role_is_wired(qtbot: QtBot, supervisor_services: Services) -> None:
    from desk import app, cli

    assert "supervisor" in app.ROLES and "supervisor" in cli.ROLES
    w = build_supervisor_window(supervisor_services)
    qtbot.addWidget(w)
    assert w.windowTitle() == "一厅通 · 甘州区东街街道综治中心 · 督办"
    assert [w.tabs.tabText(i).split("（")[0] for i in range(w.tabs.count())] == [
        "预警",
        "逾期案件",
        "吹哨超时",
        "今日回访",
        "今日概况",
        "纠纷走势",
        "审计日志",
    ]
    assert w.actor_label.text() == f"值班：{SUPERVISOR}"
    settle(qtbot)


def test_the_days_figures_and_the_lists_behind_them(
    qtbot: QtBot, supervisor_services: Services, services: Services, clock: FixedClock
) -> None:
    """今日概况: the dashboard's figures as the service counts them, kept fresh by the change mark; a number with a
    list behind it opens that list's tab."""
    w = build_supervisor_window(supervisor_services)
    qtbot.addWidget(w)
    w.show()
    panel = w.dashboard
    assert panel is not None
    qtbot.waitUntil(lambda: panel.values["visits_today"].text() == "0")
    first = services.registration.register(visit(), new_case=True).case_no
    services.queue.issue_ticket(first, room_code="R01")
    qtbot.waitUntil(lambda: panel.values["visits_today"].text() == "1", timeout=5000)  # the next poll
    assert panel.values["waiting_now"].text() == "1" and "1号人民调解室 1 人" in panel.rooms_label.text()
    assert panel.values["wait_mean"].text() == "—"  # nobody called yet: no mean, never 0
    assert "首次叫号" in panel.values["wait_mean"].toolTip()
    panel.values["overdue"].click()
    assert w.tabs.currentIndex() == 1  # 逾期案件
    panel.values["warnings_open"].click()
    assert w.tabs.currentIndex() == 0  # 预警


def test_the_trend_chart_and_the_cases_behind_a_point(
    qtbot: QtBot, supervisor_services: Services, services: Services
) -> None:
    """纠纷走势: read when its tab is shown, drawn per category with the rising rule stated; a point lists its
    cases; a filter reads again."""
    for n in range(3):
        services.registration.register(
            visit(parties=[{"role": "applicant", "name": "赵钱孙"[n] + "某", "phone": f"1392222{n:04d}"}]),
            new_case=True,
        )
    w = build_supervisor_window(supervisor_services)
    qtbot.addWidget(w)
    w.show()
    panel = w.trend
    assert panel is not None
    w.tabs.setCurrentWidget(panel)
    qtbot.waitUntil(lambda: panel.trend is not None, timeout=5000)
    assert panel.trend is not None and panel.trend.grain == "day" and len(panel.trend.periods) == 30
    assert panel.trend.by_category["neighbour"][-1] == 3
    assert "30%" in panel.rule_label.text()
    assert len(panel.plot.getPlotItem().listDataItems()) == 1
    panel.sig_point.emit("neighbour", panel.trend.periods[-1])
    qtbot.waitUntil(lambda: panel.cases_model.rowCount() == 3, timeout=5000)
    assert "3 件" in panel.cases_label.text()
    panel.grain_combo.setCurrentIndex(2)  # by month
    qtbot.waitUntil(lambda: panel.trend is not None and panel.trend.grain == "month", timeout=5000)
    assert len(panel.trend.periods) == 12
