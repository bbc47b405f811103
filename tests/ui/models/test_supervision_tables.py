"""The supervisor's table models, without a view: the warnings (levels coloured, who read them and when), the
overdue cases, the whistles past a clock (a row per clock run out, how late) and the follow-ups due."""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import Qt
from pytestqt.modeltest import ModelTester

from desk.services.alerts import ClockState, ClockView, WarningView, WhistleClock, WhistleView
from desk.services.handling import FollowUpDue, OverdueCase
from desk.ui.models.base import ITEM_ROLE
from desk.ui.models.supervision_tables import (
    FollowUpDueTableModel,
    LateWhistleTableModel,
    OverdueTableModel,
    how_late,
)
from desk.ui.models.warning_table import WarningTableModel

T0 = dt.datetime(2026, 11, 27, 2, 0, tzinfo=dt.UTC)  # 10:00 China time
H = dt.timedelta(hours=1)


def warning(level: str, *, read_by: str | None = None) -> WarningView:
    return WarningView(
        id=f"w-{level}",
        case_id="c1",
        case_no="620702001-2026-000001",
        kind="crisis" if level == "serious" else "deadline",
        level=level,
        message=f"案件 620702001-2026-000001：{level}",
        ref="",
        raised_at=T0,
        acknowledged_at=T0 + H if read_by else None,
        acknowledged_by=read_by,
    )


def test_warnings_show_the_level_coloured_and_who_read_them(qtmodeltester: ModelTester) -> None:
    model = WarningTableModel([warning("serious"), warning("major"), warning("general")])
    qtmodeltester.check(model)
    assert model.columnCount() == 5
    cells = [[model.index(r, c).data() for c in range(3)] for r in range(3)]
    assert cells == [
        ["重大", "心理危机", "620702001-2026-000001"],
        ["较大", "期限", "620702001-2026-000001"],
        ["一般", "期限", "620702001-2026-000001"],
    ]
    colours = [
        model.index(r, model.LEVEL).data(Qt.ItemDataRole.BackgroundRole).color().name() for r in range(3)
    ]
    assert colours == ["#c92a2a", "#ff922b", "#ffe066"]
    assert model.index(0, model.MESSAGE).data(Qt.ItemDataRole.FontRole).bold()
    assert model.index(1, model.MESSAGE).data(Qt.ItemDataRole.FontRole) is None
    assert model.index(0, model.RAISED).data() == "2026-11-27 10:00"
    assert model.index(0, 0).data(ITEM_ROLE).id == "w-serious"
    assert model.row_of("w-general") == 2

    read = WarningTableModel([warning("serious", read_by="王敏")], acknowledged=True)
    qtmodeltester.check(read)
    assert [read.headerData(c, Qt.Orientation.Horizontal) for c in (read.BY, read.AT)] == [
        "已阅人",
        "已阅时间",
    ]
    assert read.index(0, read.BY).data() == "王敏"
    assert read.index(0, read.AT).data() == "2026-11-27 11:00"


def test_overdue_cases_name_the_room_and_the_days_over(qtmodeltester: ModelTester) -> None:
    model = OverdueTableModel(room_names={"R01": "1号人民调解室"})
    model.set_cases(
        [
            OverdueCase(
                "620702001-2026-000003",
                "in_mediation",
                "调解中",
                "邻里纠纷",
                dt.date(2026, 11, 9),
                18,
                "R01",
                "serious",
            ),
            OverdueCase(
                "620702001-2026-000004",
                "registered",
                "已受理",
                "劳动争议纠纷",
                dt.date(2026, 11, 20),
                7,
                None,
                None,
            ),
        ]
    )
    qtmodeltester.check(model)
    rows = [[model.index(r, c).data() for c in range(model.columnCount())] for r in range(2)]
    assert rows[0] == [
        "620702001-2026-000003",
        "邻里纠纷",
        "调解中",
        "1号人民调解室",
        "2026-11-09",
        "18 天",
        "重大",
    ]
    assert rows[1][3] == "—" and rows[1][6] == ""
    assert model.index(0, model.OVER).data(Qt.ItemDataRole.ForegroundRole).color().name() == "#a61e1e"
    assert model.case_numbers() == ["620702001-2026-000003", "620702001-2026-000004"]


def clock(which: WhistleClock, due: dt.datetime, state: ClockState) -> ClockView:
    return ClockView(which, due, None, state)


def test_late_whistles_give_a_row_per_clock_run_out(qtmodeltester: ModelTester) -> None:
    blown = T0 - 30 * H
    w = WhistleView(
        id="wh1:court",
        whistle_id="wh1",
        case_id="c6",
        case_no="620702001-2026-000006",
        department="court",
        department_name="区人民法院",
        matter="宅基地界址争议",
        complex=False,
        blown_at=blown,
        sign=clock(WhistleClock.SIGN, blown + H, ClockState.OVERDUE),
        arrive=clock(WhistleClock.ARRIVE, blown + 24 * H, ClockState.OVERDUE),
        report=clock(WhistleClock.REPORT, blown + 100 * H, ClockState.PENDING),
        signed_by=None,
        arrived_by=None,
        result=None,
        rating=None,
    )
    model = LateWhistleTableModel()
    model.set_whistles([w], now=T0)
    qtmodeltester.check(model)
    rows = [[model.index(r, c).data() for c in range(model.columnCount())] for r in range(model.rowCount())]
    assert [r[:4] for r in rows] == [
        ["620702001-2026-000006", "区人民法院", "宅基地界址争议", "未签收"],
        ["620702001-2026-000006", "区人民法院", "宅基地界址争议", "未报到"],
    ]
    assert [r[5] for r in rows] == ["1天5小时", "6小时"]
    assert model.case_at(1) == "620702001-2026-000006"


def test_follow_ups_say_due_today_or_how_late() -> None:
    def due(no: str, day: dt.date) -> FollowUpDue:
        return FollowUpDue(
            no, "closed", "已办结", "邻里纠纷", day, "resolved", T0 - 200 * H, "张三", "13912345678"
        )

    model = FollowUpDueTableModel()
    model.set_follow_ups(
        [due("A", dt.date(2026, 11, 20)), due("B", dt.date(2026, 11, 27))], today=dt.date(2026, 11, 27)
    )
    assert [model.index(r, model.WHEN).data() for r in range(2)] == ["逾期 7 天", "今日到期"]
    assert model.index(0, model.OUTCOME).data() == "已化解"
    assert model.index(0, model.PHONE).data() == "13912345678"


def test_how_late_reads_to_the_minute() -> None:
    assert how_late(dt.timedelta(minutes=40, seconds=59)) == "40分钟"
    assert how_late(dt.timedelta(hours=3, minutes=15)) == "3小时15分"
    assert how_late(dt.timedelta(hours=2)) == "2小时"
    assert how_late(dt.timedelta(days=2, hours=3, minutes=5)) == "2天3小时"
    assert how_late(dt.timedelta(days=1)) == "1天"
    assert how_late(dt.timedelta(minutes=-5)) == "0分钟"
