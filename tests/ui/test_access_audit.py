"""The supervisor's audit panel: the last week on opening, filters by person, case, kind and date (China time, both
ends included), and the export to CSV through the file dialog."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pytest
from PySide6.QtCore import QDate, Qt
from pytestqt.qtbot import QtBot

from desk.core.audit import AuditAction
from desk.core.clock import FixedClock
from desk.ui.access.audit_panel import AuditPanel
from desk.ui.models.access_tables import AuditTableModel
from tests.ui.access_fakes import NOW, FakeAudit, sample_audit
from tests.ui.waiting import settle


@pytest.fixture
def audit() -> FakeAudit:
    return sample_audit()


@pytest.fixture
def panel(qtbot: QtBot, audit: FakeAudit) -> AuditPanel:
    p = AuditPanel(audit, clock=FixedClock(NOW))
    qtbot.addWidget(p)
    p.resize(1200, 600)
    p.show()
    qtbot.waitExposed(p)
    settle(qtbot)
    return p


def column(p: AuditPanel, col: int) -> list[str]:
    return [p.model.index(r, col).data() for r in range(p.model.rowCount())]


def test_opens_on_the_last_week(panel: AuditPanel, audit: FakeAudit) -> None:
    first = audit.searches[0]
    assert first["since"] == dt.date(2026, 11, 21)  # China-time days, both included
    assert first["until"] == dt.date(2026, 11, 27)
    assert first["login"] is None and first["limit"] == 500
    assert panel.model.rowCount() == 9 and panel.count_label.text() == "共 9 条"
    assert panel.model.index(0, AuditTableModel.AT).data() == "2026-11-27 09:52"  # newest first
    assert panel.model.index(0, AuditTableModel.WHO).data() == "张三（zhangsan）"
    assert panel.model.index(0, AuditTableModel.ACTION).data() == "补打"


def test_filter_by_person_and_case(qtbot: QtBot, panel: AuditPanel, audit: FakeAudit) -> None:
    qtbot.keyClicks(panel.person_edit, "liuxy")
    qtbot.keyClicks(panel.case_edit, "620702001-2026-000481")
    with qtbot.waitSignal(panel.sig_searched) as searched:
        qtbot.keyClick(panel.case_edit, Qt.Key.Key_Return)
    assert searched.args == [2]
    assert audit.searches[-1]["login"] == "liuxy"
    assert audit.searches[-1]["case_no"] == "620702001-2026-000481"
    assert column(panel, AuditTableModel.ACTION) == ["修改", "查看完整信息"]
    assert column(panel, AuditTableModel.TERMINAL) == ["调解一室", "调解一室"]


def test_filter_by_kind_and_day(qtbot: QtBot, panel: AuditPanel, audit: FakeAudit) -> None:
    panel.action_combo.setCurrentIndex(panel.action_combo.findData(AuditAction.SIGN_IN))
    panel.since_edit.setDate(QDate(2026, 11, 27))
    with qtbot.waitSignal(panel.sig_searched):
        panel.search_button.click()
    assert audit.searches[-1]["action"] is AuditAction.SIGN_IN
    assert column(panel, AuditTableModel.WHO) == ["刘秀英（liuxy）", "张三（zhangsan）"]
    panel.since_edit.setDate(QDate(2026, 11, 28))  # after the end
    assert panel.search() is None and panel.message.text() == "开始日期晚于结束日期"


def test_export_through_the_file_dialog(
    qtbot: QtBot, panel: AuditPanel, audit: FakeAudit, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from PySide6.QtWidgets import QFileDialog

    offered: list[str] = []

    def ask(_parent: object, _title: str, default: str, _filter: str) -> tuple[str, str]:
        offered.append(default)
        return str(tmp_path / "审计"), "CSV 文件 (*.csv)"

    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(ask))
    panel.person_edit.setText("zhangsan")
    with qtbot.waitSignal(panel.sig_exported) as exported:
        panel.export_button.click()
    assert exported.args == [4]
    assert offered[0].endswith("审计日志_20261121-20261127.csv")
    path, filters = audit.exports[0]
    assert path == tmp_path / "审计.csv" and filters["login"] == "zhangsan"
    with path.open(encoding="utf-8-sig") as f:
        rows = list(csv.reader(f))
    assert len(rows) == 5 and rows[0][0] == "时间"
    assert panel.message.text() == "已导出 4 条到 审计.csv"


def test_a_cancelled_file_dialog_exports_nothing(
    panel: AuditPanel, audit: FakeAudit, monkeypatch: pytest.MonkeyPatch
) -> None:
    from PySide6.QtWidgets import QFileDialog

    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *_a: ("", "")))
    panel.export_button.click()
    assert audit.exports == []


def test_a_full_page_says_so(qtbot: QtBot, audit: FakeAudit) -> None:
    many = FakeAudit([audit.entries[0]] * 500)
    p = AuditPanel(many, clock=FixedClock(NOW))
    qtbot.addWidget(p)
    with qtbot.waitSignal(p.sig_searched):
        p.search()
    assert p.count_label.text().startswith("显示最近 500 条")


def test_failed_sign_ins_stand_out() -> None:
    model = AuditTableModel(sample_audit().entries)
    failed = next(i for i, e in enumerate(model.rows()) if e.action is AuditAction.SIGN_IN_FAILED)
    assert model.index(failed, AuditTableModel.ACTION).data(Qt.ItemDataRole.ForegroundRole) is not None
    assert model.index(0, AuditTableModel.CASE).data() == ""
    assert model.headerData(AuditTableModel.DETAIL, Qt.Orientation.Horizontal) == "说明"
