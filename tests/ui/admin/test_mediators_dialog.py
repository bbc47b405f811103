"""The mediator roster dialog: add, correct, refuse with reasons per field, retire with a confirmation."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot

from desk.app import Services
from desk.ui.admin.mediators_dialog import MediatorsDialog
from tests.ui.waiting import settle, value


@pytest.fixture
def dialog(qtbot: QtBot, services: Services) -> MediatorsDialog:
    d = MediatorsDialog(services.rooms, services.registration.categories())
    qtbot.addWidget(d)
    d.show()
    settle(qtbot)  # the roster is read off the UI thread
    return d


def names(d: MediatorsDialog) -> list[str]:
    return [d.roster.item(i).data(Qt.ItemDataRole.UserRole).name for i in range(d.roster.count())]


def test_roster_lists_the_seeded_mediators(dialog: MediatorsDialog) -> None:
    assert "刘秀英" in names(dialog) and len(names(dialog)) == 8
    assert dialog.name_edit.text() == names(dialog)[0]


def test_adding_a_mediator_with_enter(qtbot: QtBot, dialog: MediatorsDialog, services: Services) -> None:
    dialog.start_new()
    assert dialog.name_edit.hasFocus() or dialog.name_edit.text() == ""
    dialog.name_edit.setText("扎西•次仁")
    dialog.grade_edit.setText("二级调解员")
    dialog.phone_edit.setText("１３９０９３６１２３４")
    dialog.specialty_boxes["grassland"].setChecked(True)
    with qtbot.waitSignal(dialog.sig_saved) as saved:
        qtbot.keyClick(dialog.phone_edit, Qt.Key.Key_Return)
    assert saved.args[0].name == "扎西·次仁" and saved.args[0].phone == "13909361234"
    assert "扎西·次仁" in [m.name for m in services.rooms.mediators()]
    assert dialog.status.text() == "已保存：扎西·次仁"


def test_refusals_are_shown_per_field_and_nothing_is_stored(
    qtbot: QtBot, dialog: MediatorsDialog, services: Services
) -> None:
    dialog.start_new()
    dialog.name_edit.setText("张3")
    dialog.phone_edit.setText("123")
    assert value(qtbot, dialog.save()) is None
    assert "不能含有数字" in dialog.messages["name"].text() and not dialog.messages["name"].isHidden()
    assert dialog.messages["phone"].text() != ""
    assert dialog.name_edit.text() == "张3"  # kept as typed
    assert dialog.status.text() == "未保存：有 2 处需要更正"
    assert len(services.rooms.mediators()) == 8


def test_retire_asks_first_and_removes_from_rooms(
    qtbot: QtBot, dialog: MediatorsDialog, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    liu = names(dialog).index("刘秀英")
    dialog.roster.setCurrentRow(liu)
    answers = [QMessageBox.StandardButton.No, QMessageBox.StandardButton.Yes]
    monkeypatch.setattr(QMessageBox, "question", staticmethod(lambda *_a: answers.pop(0)))
    dialog.retire_button.click()
    settle(qtbot)
    assert "刘秀英" in names(dialog)  # "No" keeps her
    dialog.roster.setCurrentRow(names(dialog).index("刘秀英"))
    dialog.retire_button.click()
    settle(qtbot)
    assert "刘秀英" not in names(dialog)
    assert [m.name for m, _ in services.rooms.room_mediators("R01")] == ["马建国"]
