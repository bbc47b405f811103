"""The case table models, checked without a view."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QModelIndex, Qt
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot

from desk.services.registration import RegistrationService
from desk.ui.models.base import ITEM_ROLE
from desk.ui.models.case_table import CaseEventTableModel, CaseTableModel, PartyTableModel
from tests.conftest import valid_id, visit

APPLICANT_ID = valid_id("62070219850101123")
MASKED_ID = APPLICANT_ID[:6] + "********" + APPLICANT_ID[-4:]


@pytest.fixture
def names(sqlite_service: RegistrationService) -> dict[str, str]:
    return {c.code: c.name for c in sqlite_service.categories()}


def test_case_rows_without_a_view(sqlite_service: RegistrationService, names: dict[str, str]) -> None:
    r1 = sqlite_service.register(visit())
    r2 = sqlite_service.register(visit(category="劳动争议纠纷"), new_case=True)
    model = CaseTableModel(sqlite_service.search(APPLICANT_ID), category_names=names)

    assert model.rowCount() == 2
    assert model.columnCount() == 6
    assert model.rowCount(model.index(0, 0)) == 0  # a table, not a tree
    headers = [model.headerData(c, Qt.Orientation.Horizontal) for c in range(6)]
    assert headers == ["案件编号", "登记时间", "状态", "类别", "申请人", "身份证号"]
    assert model.headerData(0, Qt.Orientation.Horizontal, Qt.ItemDataRole.DecorationRole) is None
    assert model.headerData(0, Qt.Orientation.Vertical) == 1

    rows = [[model.index(r, c).data() for c in range(6)] for r in range(2)]
    assert sorted(row[0] for row in rows) == sorted([r1.case_no, r2.case_no])
    by_no = {row[0]: row for row in rows}
    # NOW in conftest is 02:00 UTC: 10:00 in China.
    assert by_no[r1.case_no][1:] == ["2026-11-27 10:00", "已受理", "邻里纠纷", "张三", MASKED_ID]
    assert by_no[r2.case_no][3] == "劳动争议纠纷"
    assert all(APPLICANT_ID not in str(cell) for row in rows for cell in row)

    assert model.index(0, 0).data(ITEM_ROLE) == model.case_at(0)
    assert model.index(0, 0).data(Qt.ItemDataRole.ToolTipRole) == model.case_at(0).case_no
    assert model.index(0, 0).data(Qt.ItemDataRole.DecorationRole) is None
    assert model.data(QModelIndex()) is None
    assert model.index(5, 0).data() is None


def test_set_cases_resets_the_model(qtbot: QtBot, sqlite_service: RegistrationService) -> None:
    sqlite_service.register(visit())
    model = CaseTableModel()
    assert model.rowCount() == 0
    with qtbot.waitSignal(model.modelReset):
        model.set_cases(sqlite_service.search("张三"))
    assert model.rowCount() == 1
    assert model.index(0, 3).data() == "neighbour"  # no names given: the code


def test_case_model_passes_the_model_tester(
    qtmodeltester: ModelTester, sqlite_service: RegistrationService, names: dict[str, str]
) -> None:
    sqlite_service.register(visit())
    model = CaseTableModel(sqlite_service.search("张三"), category_names=names)
    qtmodeltester.check(model)


def test_party_rows_mask_id_and_phone(sqlite_service: RegistrationService) -> None:
    result = sqlite_service.register(
        visit(
            parties=[
                {"role": "applicant", "name": "张三", "id_number": APPLICANT_ID, "phone": "13912345678"},
                {
                    "role": "respondent",
                    "name": "某某物业公司",
                    "is_organisation": True,
                    "phone": "0936-8212345",
                },
            ]
        )
    )
    model = PartyTableModel(sqlite_service.case(result.case_no).parties)
    rows = [[model.index(r, c).data() for c in range(model.columnCount())] for r in range(model.rowCount())]
    assert rows[0] == ["申请人", "张三", MASKED_ID, "139****5678", ""]
    assert rows[1][:4] == ["被申请人（单位）", "某某物业公司", "", "0936-****345"]


def test_event_rows_say_what_happened_in_chinese(
    sqlite_service: RegistrationService, names: dict[str, str]
) -> None:
    first = sqlite_service.register(visit())
    sqlite_service.register(visit(headcount=6, risk_flags=["psychological_crisis"]), repeat_of=first.case_no)
    model = CaseEventTableModel(sqlite_service.case(first.case_no).events, category_names=names)
    rows = [[model.index(r, c).data() for c in range(4)] for r in range(model.rowCount())]
    assert [model.headerData(c, Qt.Orientation.Horizontal) for c in range(4)] == [
        "时间",
        "事项",
        "经办人",
        "说明",
    ]
    assert rows[0] == ["2026-11-27 10:00", "登记受理", "测试前台（tester）", "邻里纠纷，来访，1人"]
    assert rows[1][1] == "期限"  # the deadline the registration set
    assert rows[2][1] == "重复访"
    assert rows[2][3] == "再次来访，6人；风险：集体访、心理危机"
