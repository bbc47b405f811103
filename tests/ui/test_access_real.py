"""The sign-in windows over the real services (the other tests of desk/ui/access use fakes): the sign-in dialog
against Argon2 hashes in the store, the idle lock unlocked only by the same person, F2 at a room terminal handing
over to a mediator by PIN, and the audit they leave."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMainWindow
from pytestqt.qtbot import QtBot

from desk.app import Services, build_room_terminal, build_services
from desk.core.clock import FixedClock
from desk.core.permissions import ANONYMOUS, Role
from desk.store.models import AuditRow
from desk.store.session import Store
from desk.ui.access.lock import IdleLock
from desk.ui.access.sign_in import SignInDialog
from tests.conftest import TESTER, TESTER_PASSWORD, staff
from tests.receipt_settings import PRINTING_SETTINGS
from tests.ui.waiting import settle

PIN = "4826"


@pytest.fixture
def public(sqlite_store: Store, clock: FixedClock) -> Services:
    return build_services(sqlite_store, clock, settings=PRINTING_SETTINGS, principal=ANONYMOUS.at("前台1"))


def audit_actions(store: Store) -> list[tuple[str, str]]:
    with store.read() as s:
        return [(r.action, r.login) for r in s.scalars(sa.select(AuditRow).order_by(AuditRow.hall_seq))]


def test_signing_in_against_the_store(qtbot: QtBot, public: Services, sqlite_store: Store) -> None:
    dialog = SignInDialog(public.auth, hall_name="甘州区东街街道综治中心", terminal="前台1")
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    qtbot.keyClicks(dialog.login_edit, TESTER)
    qtbot.keyClick(dialog.login_edit, Qt.Key.Key_Return)
    qtbot.keyClicks(dialog.password_edit, "not-the-password")
    qtbot.keyClick(dialog.password_edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: dialog.message.text() == "用户名或密码不正确", timeout=10_000)
    assert dialog.principal is None and dialog.login_edit.text() == TESTER
    qtbot.keyClicks(dialog.password_edit, TESTER_PASSWORD)
    with qtbot.waitSignal(dialog.sig_signed_in, timeout=10_000) as signed:
        qtbot.keyClick(dialog.password_edit, Qt.Key.Key_Return)
    who = signed.args[0]
    assert (who.login, who.terminal) == (TESTER, "前台1") and Role.SUPERVISOR in who.roles
    assert audit_actions(sqlite_store) == [("sign_in_failed", TESTER), ("sign_in", TESTER)]


def test_the_idle_lock_opens_for_the_same_person_only(
    qtbot: QtBot, public: Services, sqlite_store: Store
) -> None:
    admin = public.signed_in(staff("测试员"))
    admin.auth.add_user("lisi", "李四", {Role.DESK}, (), "lisi-pass-99")
    who = public.auth.sign_in(TESTER, TESTER_PASSWORD)
    window = QMainWindow()
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    lock = IdleLock(window, public.auth, who, minutes=10)
    lock.lock_now()
    assert lock.is_locked()
    qtbot.keyClicks(lock.panel.secret_edit, "lisi-pass-99")  # another person's password
    qtbot.keyClick(lock.panel.secret_edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: lock.panel.message.text() != "", timeout=10_000)
    assert lock.is_locked()
    with qtbot.waitSignal(lock.sig_unlocked, timeout=10_000):
        qtbot.keyClicks(lock.panel.secret_edit, TESTER_PASSWORD)
        qtbot.keyClick(lock.panel.secret_edit, Qt.Key.Key_Return)
    assert not lock.is_locked()
    assert ("unlock", TESTER) in audit_actions(sqlite_store)


def test_f2_hands_a_room_terminal_over_by_pin(
    qtbot: QtBot, public: Services, sqlite_store: Store, clock: FixedClock
) -> None:
    admin = public.signed_in(staff("测试员"))
    admin.auth.add_user("majianguo", "马建国", {Role.MEDIATOR}, ("R01",), "ma-pass-2026", pin=PIN)
    services = public.signed_in(public.auth.sign_in(TESTER, TESTER_PASSWORD))
    terminal = build_room_terminal(services, "R01")
    qtbot.addWidget(terminal)
    with qtbot.waitActive(terminal):
        terminal.show()
    settle(qtbot)
    assert terminal.duty_switch is not None
    qtbot.keyClick(terminal, Qt.Key.Key_F2)
    qtbot.waitUntil(lambda: terminal.duty_switch is not None and terminal.duty_switch.dialog is not None)
    dialog = terminal.duty_switch.dialog
    assert dialog is not None
    qtbot.waitUntil(lambda: dialog.list.count() >= 1, timeout=10_000)
    index = next(i for i in range(dialog.list.count()) if "马建国" in dialog.list.item(i).text())
    qtbot.keyClick(QApplication.focusWidget() or dialog, str(index + 1))
    qtbot.keyClicks(dialog.secret_edit, PIN)
    with qtbot.waitSignal(terminal.duty_switch.sig_switched, timeout=10_000):
        qtbot.keyClick(dialog.secret_edit, Qt.Key.Key_Return)
    assert terminal.on_duty() == "马建国" and terminal.on_duty_label.text() == "马建国"
    assert terminal._queue.principal.login == "majianguo" and terminal._queue.principal.rooms == {"R01"}
    assert ("switch", "majianguo") in audit_actions(sqlite_store)


def test_the_case_view_shows_the_full_record_only_when_asked_and_audits_it(
    qtbot: QtBot, public: Services, sqlite_store: Store
) -> None:
    from desk.core.permissions import Principal
    from desk.ui.case_history import CaseHistoryDialog, full_record
    from tests.conftest import visit

    supervisor = public.signed_in(staff("督办甲", "督办1"))
    case_no = supervisor.registration.register(visit()).case_no
    id_number = visit()["parties"][0]["id_number"]  # type: ignore[index]
    registration = supervisor.registration
    dialog = CaseHistoryDialog(
        registration.case(case_no), reload=registration.case, reveal=full_record(registration)
    )
    qtbot.addWidget(dialog)
    dialog.show()
    masked = dialog.party_model.index(0, 2).data()
    assert masked != id_number and masked.endswith(id_number[-4:]) and "*" in masked
    assert dialog.reveal_button.isVisible()
    assert ("view_full", TESTER) not in audit_actions(sqlite_store)
    op = dialog.reveal_full(confirm=False)
    assert op is not None
    qtbot.waitUntil(lambda: dialog.party_model.revealed, timeout=10_000)
    assert dialog.party_model.index(0, 2).data() == id_number
    assert dialog.party_model.index(0, 3).data() == "13912345678"
    assert ("view_full", TESTER) in audit_actions(sqlite_store)

    # the desk clerk who registered it sees it masked, with no button to unmask
    clerk = public.signed_in(Principal("u-c", "clerk", "前台乙", frozenset({Role.DESK}), "前台2"))
    assert full_record(clerk.registration) is None


def test_changing_ones_own_password(qtbot: QtBot, public: Services, sqlite_store: Store) -> None:
    from desk.ui.access.password_dialog import PasswordDialog

    me = public.signed_in(public.auth.sign_in(TESTER, TESTER_PASSWORD))
    dialog = PasswordDialog(me.auth.change_own_password)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    dialog.activateWindow()
    qtbot.waitUntil(dialog.old_edit.hasFocus)
    # from the keyboard: each Enter moves on, the last one submits
    for edit, text in (
        (dialog.old_edit, TESTER_PASSWORD),
        (dialog.new_edit, "new-pass-2027"),
        (dialog.again_edit, "new-pass-2028"),
    ):
        assert edit.hasFocus()
        qtbot.keyClicks(edit, text)
        qtbot.keyClick(edit, Qt.Key.Key_Return)
    assert dialog.message.text() == "两次输入的新密码不一致" and dialog.isVisible()
    assert dialog.new_edit.text() == "" and dialog.again_edit.text() == ""
    dialog.old_edit.setText(TESTER_PASSWORD)
    dialog.new_edit.setText("12345678")
    dialog.again_edit.setText("12345678")
    dialog.submit()
    qtbot.waitUntil(lambda: "全是数字" in dialog.message.text(), timeout=10_000)
    assert dialog.old_edit.text() == ""  # nothing secret left behind a refusal
    dialog.old_edit.setText(TESTER_PASSWORD)
    dialog.new_edit.setText("new-pass-2027")
    dialog.again_edit.setText("new-pass-2027")
    with qtbot.waitSignal(dialog.accepted, timeout=10_000):
        dialog.submit()
    assert public.auth.sign_in(TESTER, "new-pass-2027").login == TESTER
