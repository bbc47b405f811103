"""The admin's users dialog: the list, adding an account (password twice, a PIN), refusals per field, changing
one, unlocking a locked account, disabling after a confirmation."""

from __future__ import annotations

import datetime as dt

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot

from desk.core.clock import FixedClock
from desk.core.permissions import Role
from desk.ui.access.users_dialog import UsersDialog
from desk.ui.models.access_tables import UserTableModel
from tests.ui.access_fakes import NOW, FakeAuth, hall_auth
from tests.ui.waiting import settle, value

ROOMS = {"R01": "1号人民调解室", "R02": "2号劳动争议调解室", "R03": "3号心理咨询室"}


@pytest.fixture
def auth() -> FakeAuth:
    return hall_auth()


@pytest.fixture
def dialog(qtbot: QtBot, auth: FakeAuth) -> UsersDialog:
    d = UsersDialog(auth, ROOMS, clock=FixedClock(NOW))
    qtbot.addWidget(d)
    d.show()
    qtbot.waitExposed(d)
    settle(qtbot)
    return d


def cells(d: UsersDialog, login: str) -> list[str]:
    row = d.model.row_of(login)
    assert row is not None
    return [d.model.index(row, c).data() for c in range(d.model.columnCount())]


def test_lists_the_accounts(dialog: UsersDialog) -> None:
    assert dialog.model.rowCount() == 6
    assert cells(dialog, "majg") == ["majg", "马建国", "调解员", "R01、R02", "正常"]
    assert dialog.login_edit.hasFocus() or not dialog.login_edit.isReadOnly()  # opens on a new account


def test_adding_an_account(qtbot: QtBot, dialog: UsersDialog, auth: FakeAuth) -> None:
    qtbot.keyClick(dialog, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(dialog.login_edit, "lisi")
    dialog.name_edit.setText("李四")  # QTest types ASCII only
    dialog.role_boxes[Role.MEDIATOR].setChecked(True)
    dialog.role_boxes[Role.SUPERVISOR].setChecked(True)
    dialog.room_boxes["R03"].setChecked(True)
    qtbot.keyClicks(dialog.password_edit, "li-si-pass-9")
    qtbot.keyClicks(dialog.repeat_edit, "li-si-pass-9")
    qtbot.keyClicks(dialog.pin_edit, "2468")
    with qtbot.waitSignal(dialog.sig_saved) as saved:
        qtbot.keyClick(dialog.pin_edit, Qt.Key.Key_Return)
    settle(qtbot)
    assert saved.args == ["lisi"]
    assert (
        "add_user",
        ("lisi", "李四", frozenset({Role.MEDIATOR, Role.SUPERVISOR}), ("R03",), "2468"),
    ) in auth.calls
    assert cells(dialog, "lisi") == ["lisi", "李四", "调解员、督办主管", "R03", "正常"]
    assert dialog.status.text() == "已保存：lisi"
    assert dialog.login_edit.isReadOnly() and dialog.password_edit.text() == ""  # now showing the account
    assert auth.switch_on_duty("lisi", "2468").login == "lisi"


def test_passwords_that_differ_are_refused_here(qtbot: QtBot, dialog: UsersDialog, auth: FakeAuth) -> None:
    dialog.login_edit.setText("lisi")
    dialog.name_edit.setText("李四")
    dialog.role_boxes[Role.DESK].setChecked(True)
    dialog.password_edit.setText("li-si-pass-9")
    dialog.repeat_edit.setText("li-si-pass-8")
    assert dialog.save() is None
    assert dialog.error_text("password") == "两次输入的密码不一致"
    assert dialog.password_edit.text() == "" and dialog.repeat_edit.text() == ""
    assert dialog.password_edit.hasFocus()
    assert not [c for c, _ in auth.calls if c == "add_user"]


def test_missing_fields_are_named(dialog: UsersDialog, auth: FakeAuth) -> None:
    assert dialog.save() is None
    assert dialog.error_text("login") == "请填写用户名"
    assert dialog.error_text("name") == "请填写姓名"
    assert dialog.error_text("roles") == "至少选择一个角色"
    assert dialog.error_text("password") == "新用户需要设置密码"
    assert dialog.status.text() == "未保存：有 4 处需要更正"


def test_the_services_refusal_is_shown_at_its_field(qtbot: QtBot, dialog: UsersDialog) -> None:
    dialog.login_edit.setText("majg")  # taken
    dialog.name_edit.setText("马建国")
    dialog.role_boxes[Role.MEDIATOR].setChecked(True)
    dialog.password_edit.setText("short")
    dialog.repeat_edit.setText("short")
    assert value(qtbot, dialog.save()) is None
    assert dialog.error_text("login") == "用户名“majg”已被使用"
    assert dialog.login_edit.text() == "majg" and not dialog.login_edit.isReadOnly()


def test_changing_an_account(qtbot: QtBot, dialog: UsersDialog, auth: FakeAuth) -> None:
    dialog.select_user("liuxy")
    assert dialog.login_edit.text() == "liuxy" and dialog.login_edit.isReadOnly()
    assert dialog.role_boxes[Role.MEDIATOR].isChecked() and dialog.room_boxes["R01"].isChecked()
    assert dialog.clear_pin_box.isVisibleTo(dialog)  # she has a PIN
    dialog.room_boxes["R02"].setChecked(True)
    dialog.clear_pin_box.setChecked(True)
    assert value(qtbot, dialog.save()) is not None
    assert (
        "update_user",
        ("liuxy", "刘秀英", frozenset({Role.MEDIATOR}), ("R01", "R02"), None),
    ) in auth.calls
    assert ("set_pin", ("liuxy", True)) in auth.calls
    assert not [c for c, _ in auth.calls if c == "set_password"]  # left empty: unchanged
    assert cells(dialog, "liuxy")[3] == "R01、R02"


def test_unlocking_a_locked_account(qtbot: QtBot, dialog: UsersDialog, auth: FakeAuth) -> None:
    for _ in range(5):
        with pytest.raises(Exception, match="不正确|已锁定"):
            auth.sign_in("zhangsan", "guess")
    dialog.reload()
    settle(qtbot)
    assert cells(dialog, "zhangsan")[4] == "已锁定至 10:15"
    dialog.select_user("zhangsan")
    assert dialog.unlock_button.isEnabled()
    dialog.unlock_button.click()
    settle(qtbot)
    assert cells(dialog, "zhangsan")[4] == "正常" and dialog.status.text() == "已解除锁定：zhangsan"
    assert auth.sign_in("zhangsan", "desk-pass-1").login == "zhangsan"


def test_disabling_asks_first(
    qtbot: QtBot, dialog: UsersDialog, auth: FakeAuth, monkeypatch: pytest.MonkeyPatch
) -> None:
    answers = [QMessageBox.StandardButton.No, QMessageBox.StandardButton.Yes]
    asked: list[str] = []

    def question(_parent: object, _title: str, text: str, *_args: object) -> QMessageBox.StandardButton:
        asked.append(text)
        return answers.pop(0)

    monkeypatch.setattr(QMessageBox, "question", staticmethod(question))
    dialog.select_user("zhaxi")
    dialog.active_button.click()
    settle(qtbot)
    assert asked == ["停用 扎西·次仁（zhaxi）后，此人将不能再登录。确定停用吗？"]
    assert cells(dialog, "zhaxi")[4] == "正常"  # "No" keeps the account
    dialog.active_button.click()
    settle(qtbot)
    assert cells(dialog, "zhaxi")[4] == "已停用" and dialog.active_button.text() == "启用"
    dialog.active_button.click()  # enabling again asks nothing
    settle(qtbot)
    assert cells(dialog, "zhaxi")[4] == "正常" and len(asked) == 2


def test_user_model_without_a_view() -> None:
    auth = hall_auth()
    model = UserTableModel(auth.users(), now=NOW)
    assert model.headerData(0, Qt.Orientation.Horizontal) == "用户名"
    assert model.columnCount() == 5 and model.rowCount() == 6
    later = NOW + dt.timedelta(hours=1)
    locked = auth.update_user("admin", active=False)
    model.set_users([locked], now=later)
    assert model.index(0, UserTableModel.STATE).data() == "已停用"
    assert model.index(0, UserTableModel.STATE).data(Qt.ItemDataRole.ForegroundRole) is not None
