"""The rooms' settings dialog: editing a room, stationing mediators and departments, and refusals per field."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QLineEdit, QMessageBox
from pytestqt.qtbot import QtBot

from desk.app import Services
from desk.ui.admin.rooms_dialog import ROOM_KINDS, RoomsDialog
from tests.ui.waiting import finish, settle, value


@pytest.fixture
def asked(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Answer "discard?" with Yes (and record it), so closing a dirty dialog never waits for a click."""
    questions: list[str] = []

    def question(_parent: object, _title: str, text: str, *_args: object) -> QMessageBox.StandardButton:
        questions.append(text)
        return QMessageBox.StandardButton.Yes

    monkeypatch.setattr(QMessageBox, "question", staticmethod(question))
    return questions


@pytest.fixture
def dialog(qtbot: QtBot, services: Services, asked: list[str]) -> RoomsDialog:
    d = RoomsDialog(services.rooms, services.registration.categories())
    qtbot.addWidget(d)
    with qtbot.waitActive(d):
        d.show()
    settle(qtbot)  # the rooms are read off the UI thread
    return d


def checked_categories(d: RoomsDialog) -> list[str]:
    return [box.text() for box in d.category_boxes.values() if box.isChecked()]


def test_the_rooms_are_listed_and_the_first_is_shown(dialog: RoomsDialog) -> None:
    assert dialog.room_list.count() == 9
    assert dialog.room_list.item(0).text() == "R01  1号人民调解室（开放）"
    assert dialog.name_edit.text() == "人民调解室"
    assert dialog.kind_combo.currentData() == "人民调解室"
    assert [dialog.kind_combo.itemText(i) for i in range(dialog.kind_combo.count())] == list(ROOM_KINDS)
    assert dialog.prefix_edit.text() == "A"
    assert dialog.capacity_spin.value() == 6
    assert dialog.location_edit.text() == "一楼东侧"
    assert dialog.open_box.isChecked()
    assert "邻里纠纷" in checked_categories(dialog) and "劳动争议纠纷" not in checked_categories(dialog)
    assert [row.who.currentText() for row in dialog.staff_rows if isinstance(row.who, QComboBox)] == [
        "刘秀英（金牌调解员）",
        "马建国（一级调解员）",
    ]
    assert [row.mode_combo.currentText() for row in dialog.staff_rows] == ["常驻", "常驻"]
    assert not dialog.is_dirty()


def test_editing_a_room_stores_it(qtbot: QtBot, dialog: RoomsDialog, services: Services) -> None:
    dialog.select_room("R03")
    assert dialog.name_edit.text() == "心理咨询室"
    dialog.name_edit.setText("心理疏导室")
    dialog.location_edit.setText("二楼左侧 203")
    dialog.capacity_spin.setValue(3)
    assert not dialog.primary_boxes["neighbour"].isEnabled()  # only a handled category can be its speciality
    dialog.category_boxes["neighbour"].setChecked(True)
    dialog.primary_boxes["neighbour"].setChecked(True)
    staff = dialog.add_staff(mode="on_call")
    assert isinstance(staff.who, QComboBox)
    staff.who.setCurrentIndex(staff.who.findText("刘秀英（金牌调解员）"))
    dept = dialog.add_department("县卫健局", mode="rotating")
    assert isinstance(dept.who, QLineEdit)
    dialog.open_box.setChecked(False)
    assert dialog.is_dirty()

    with qtbot.waitSignal(dialog.sig_saved) as blocker:
        qtbot.keyClick(dialog.name_edit, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    saved = blocker.args[0]
    room = services.rooms.room("R03")
    assert saved == room
    assert (room.name, room.location, room.capacity, room.is_open) == ("心理疏导室", "二楼左侧 203", 3, False)
    assert "neighbour" in room.categories and "neighbour" in room.primary_categories
    liu = next(m for m in services.rooms.mediators() if m.name == "刘秀英")
    assert {"mediator_id": liu.id, "mode": "on_call"} in room.staff
    assert room.departments == ({"name": "县卫健局", "mode": "rotating"},)
    assert dialog.message.text() == "已保存 3号心理疏导室"
    assert dialog.room_list.item(2).text() == "R03  3号心理疏导室（关闭）"
    assert not dialog.is_dirty()
    # A closed room is no longer proposed, the rest of the hall carries on.
    assert "R03" not in [r.code for r in services.rooms.rooms() if r.is_open]


def test_removing_a_stationed_mediator(qtbot: QtBot, dialog: RoomsDialog, services: Services) -> None:
    first = dialog.staff_rows[0]
    first.remove_button.click()
    assert len(dialog.staff_rows) == 1
    assert value(qtbot, dialog.save()) is not None
    assert len(services.rooms.room("R01").staff) == 1


def test_every_refused_field_says_why_and_nothing_is_stored(
    qtbot: QtBot, dialog: RoomsDialog, services: Services
) -> None:
    dialog.name_edit.setText("")
    dialog.prefix_edit.setText("B")  # already the legal aid room's
    dialog.capacity_spin.setValue(0)
    dialog.location_edit.setText("很" * 61)

    assert value(qtbot, dialog.save()) is None

    assert dialog.error_text("name") == "功能室名称应为1至40个字"
    assert dialog.error_text("prefix") == "前缀 B 已由“法律援助/律师调解室”使用"
    assert dialog.error_text("capacity") == "容纳人数应为1至500"
    assert dialog.error_text("location") == "位置说明最多60个字"
    assert dialog.messages["name"].isVisible()
    assert dialog.message.text().startswith("未保存：有 4 处需要更正")
    assert dialog.name_edit.hasFocus()  # the first refused field on screen
    room = services.rooms.room("R01")
    assert (room.name, room.prefix, room.capacity) == ("人民调解室", "A", 6)

    dialog.prefix_edit.setText("1")
    finish(qtbot, dialog.save())
    assert dialog.error_text("prefix") == "排队号前缀应为一个大写字母 A–Z"


def test_switching_rooms_with_unsaved_edits_asks_first(dialog: RoomsDialog, asked: list[str]) -> None:
    dialog.select_room("R02")
    assert asked == []
    dialog.location_edit.setText("一楼西侧 105")
    dialog.select_room("R04")
    assert asked == ["当前功能室有未保存的修改，确定放弃吗？"]
    assert dialog.name_edit.text() == "信访接待室"


def test_answering_no_keeps_the_edits(dialog: RoomsDialog, monkeypatch: pytest.MonkeyPatch) -> None:
    dialog.location_edit.setText("一楼东侧 101")
    monkeypatch.setattr(QMessageBox, "question", staticmethod(lambda *_a: QMessageBox.StandardButton.No))
    dialog.select_room("R04")
    assert dialog.location_edit.text() == "一楼东侧 101"
    assert dialog.room_list.currentRow() == 0
    dialog.reject()
    assert dialog.isVisible()
    dialog.location_edit.setText("一楼东侧")  # back as loaded: closing no longer asks
    dialog.reject()
    assert not dialog.isVisible()
