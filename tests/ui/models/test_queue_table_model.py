"""The queue table model, without a view: cells, waiting minutes, priority, state, and finding rows."""

from __future__ import annotations

import dataclasses
import datetime as dt

from PySide6.QtCore import QModelIndex, Qt
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot

from desk.services.queue import TicketView
from desk.ui.models.queue_table import (
    COL_ARRIVAL,
    COL_CASE,
    COL_PRIORITY,
    COL_STATE,
    COL_TICKET,
    COL_WAITED,
    COLUMNS,
    TICKET_ROLE,
    QueueTableModel,
)

T0 = dt.datetime(2026, 11, 27, 2, 0, tzinfo=dt.UTC)  # 10:00 China time


def ticket(
    label: str,
    *,
    minutes_before: float = 0,
    state: str = "waiting",
    reasons: tuple[str, ...] = (),
    recalls: int = 0,
) -> TicketView:
    arrival = T0 - dt.timedelta(minutes=minutes_before)
    return TicketView(
        id=f"id-{label}",
        case_id=f"case-{label}",
        case_no=f"620702001-2026-{label}",
        label=label,
        room_code="R01",
        state=state,
        priority_reasons=reasons,
        arrival_at=arrival,
        queue_key=arrival,
        recalls=recalls,
        called_at=None,
        called_by=None,
        terminal=None,
    )


def cells(model: QueueTableModel, row: int) -> list[str]:
    return [model.index(row, c).data() for c in range(model.columnCount())]


def test_columns_and_cells() -> None:
    model = QueueTableModel(
        [ticket("A001", minutes_before=25.5), ticket("A002", reasons=("elderly", "disabled"))], now=T0
    )
    assert model.rowCount() == 2 and model.columnCount() == len(COLUMNS)
    headers = [model.headerData(c, Qt.Orientation.Horizontal) for c in range(model.columnCount())]
    assert headers == ["排队号", "等候", "优先", "状态", "到达", "案件编号"]
    assert cells(model, 0) == ["A001", "25 分钟", "", "等候中", "09:34", "620702001-2026-A001"]
    assert model.index(1, COL_PRIORITY).data() == "70岁以上老人、残疾人"
    assert model.index(1, COL_PRIORITY).data(Qt.ItemDataRole.ForegroundRole) is not None
    assert model.index(0, COL_TICKET).data(Qt.ItemDataRole.FontRole).bold()
    assert model.index(1, 0).data(TICKET_ROLE).label == "A002"
    assert model.rowCount(model.index(0, 0)) == 0  # a table: no children


def test_states_in_chinese_with_recalls_and_a_colour_for_called_and_serving() -> None:
    model = QueueTableModel(
        [
            ticket("A001", state="called", recalls=2),
            ticket("A002", state="serving"),
            ticket("A003", state="no_show"),
            ticket("A004"),
        ],
        now=T0,
    )
    assert [model.index(r, COL_STATE).data() for r in range(4)] == [
        "已叫号（重呼2次）",
        "接待中",
        "过号",
        "等候中",
    ]
    assert model.index(0, 0).data(Qt.ItemDataRole.BackgroundRole) is not None
    assert model.index(1, 0).data(Qt.ItemDataRole.BackgroundRole) is not None
    assert model.index(3, 0).data(Qt.ItemDataRole.BackgroundRole) is None
    assert model.waiting_count() == 1
    assert model.index(1, COL_WAITED).data() == ""  # being received: no longer waiting


def test_moving_the_clock_repaints_the_waiting_column_only_when_a_minute_passed(qtbot: QtBot) -> None:
    model = QueueTableModel([ticket("A001", minutes_before=3)], now=T0)
    changed: list[tuple[int, int]] = []
    model.dataChanged.connect(lambda a, b, *_: changed.append((a.column(), b.column())))
    model.set_now(T0 + dt.timedelta(seconds=30))
    assert changed == []
    model.set_now(T0 + dt.timedelta(seconds=61))
    assert changed == [(COL_WAITED, COL_WAITED)]
    assert model.index(0, COL_WAITED).data() == "4 分钟"


def test_a_transferred_ticket_counts_from_its_first_arrival() -> None:
    moved = dataclasses.replace(ticket("F001", minutes_before=40), room_code="R06")
    model = QueueTableModel([moved], now=T0)
    assert model.index(0, COL_WAITED).data() == "40 分钟"


def test_finding_rows_and_replacing_the_tickets(qtbot: QtBot) -> None:
    model = QueueTableModel([ticket("A001"), ticket("A002")], now=T0)
    assert model.row_of("id-A002") == 1
    assert model.row_of("nope") == -1
    assert model.ticket_at(0).label == "A001"
    with qtbot.waitSignal(model.modelReset):
        model.set_tickets([ticket("A003")], now=T0 + dt.timedelta(minutes=5))
    assert model.tickets()[0].label == "A003"
    assert model.index(0, COL_WAITED).data() == "5 分钟"
    assert model.index(0, COL_ARRIVAL).data() == "10:00"
    assert model.index(0, COL_CASE).data() == "620702001-2026-A003"
    assert model.data(QModelIndex()) is None
    assert model.index(5, 0).data() is None


def test_the_model_keeps_qts_rules(qtmodeltester: ModelTester) -> None:
    model = QueueTableModel(
        [ticket("A001", state="called", recalls=1), ticket("A002", reasons=("pregnant",))], now=T0
    )
    qtmodeltester.check(model)
