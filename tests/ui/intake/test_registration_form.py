"""The registration form, driven as a clerk drives it: typing, Enter, Tab, F2 and Ctrl+Enter."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QInputMethodEvent
from PySide6.QtWidgets import QApplication, QLabel, QWidget
from pytestqt.qtbot import QtBot

from desk.core.clock import FixedClock
from desk.core.parties import PartyRole
from desk.core.synthetic import id_check_char
from desk.errors import FieldProblem
from desk.forms.registration import RegistrationForm
from desk.services.registration import RegistrationResult, RegistrationService
from desk.ui.intake.flow import IntakeFlow
from tests.conftest import valid_id, visit
from tests.ui.waiting import settle

# The offscreen platform warns about every top-level window it shows; nothing to do with the form.

APPLICANT_ID = valid_id("62070219850101123")


def type_text(qtbot: QtBot, widget: QWidget, text: str) -> None:
    """Type as a clerk does: ASCII on the keyboard, Chinese (and full-width forms) through the input method."""
    widget.setFocus()
    if text.isascii():
        qtbot.keyClicks(widget, text)
        return
    event = QInputMethodEvent("", [])
    event.setCommitString(text)
    QApplication.sendEvent(widget, event)


def focused() -> QWidget | None:
    return QApplication.focusWidget()


@pytest.fixture
def flow(qtbot: QtBot, sqlite_service: RegistrationService, clock: FixedClock) -> Iterator[IntakeFlow]:
    f = IntakeFlow(sqlite_service, clock=clock)
    qtbot.addWidget(f)
    f.resize(1100, 800)
    with qtbot.waitActive(f):
        f.show()
    yield f


@pytest.fixture
def form(flow: IntakeFlow) -> RegistrationForm:
    return flow.form


def fill(
    qtbot: QtBot,
    form: RegistrationForm,
    *,
    name: str = "张三",
    id_number: str = APPLICANT_ID,
    phone: str = "13912345678",
    address: str = "甘州区东街街道1号",
    category: str = "ljjf",
    narrative: str = "邻居在院墙外堆放杂物占用通道，多次沟通未果。",
) -> None:
    type_text(qtbot, form.name_edit, name)
    if id_number:
        type_text(qtbot, form.id_edit, id_number)
    if phone:
        type_text(qtbot, form.phone_edit, phone)
    type_text(qtbot, form.address_edit, address)
    type_text(qtbot, form.category_edit, category)
    type_text(qtbot, form.narrative_edit, narrative)
    settle(qtbot)  # the applicant's earlier cases, looked up as the ID number was typed


def submit_with_enter(qtbot: QtBot, flow: IntakeFlow) -> RegistrationResult:
    with qtbot.waitSignal(flow.sig_registered, timeout=3000) as blocker:
        qtbot.keyClick(flow.form.address_edit, Qt.Key.Key_Return)
    result = blocker.args[0]
    assert isinstance(result, RegistrationResult)
    return result


def refuse(qtbot: QtBot, form: RegistrationForm, key_target: QWidget | None = None) -> list[FieldProblem]:
    with qtbot.waitSignal(form.sig_refused, timeout=3000) as blocker:
        qtbot.keyClick(key_target or form.address_edit, Qt.Key.Key_Return)
    problems = blocker.args[0]
    assert isinstance(problems, list) and all(isinstance(p, FieldProblem) for p in problems)
    return problems


# --- registering --------------------------------------------------------------------------------------


def test_enter_registers_shows_the_number_large_and_clears(
    qtbot: QtBot, form: RegistrationForm, flow: IntakeFlow, sqlite_service: RegistrationService
) -> None:
    fill(qtbot, form)
    result = submit_with_enter(qtbot, flow)

    found = sqlite_service.search(APPLICANT_ID)
    assert [c.case_no for c in found] == [result.case_no]
    assert not result.is_repeat
    assert found[0].category_code == "neighbour"

    assert flow.banner.isVisible()
    assert flow.banner.case_no_label.text() == result.case_no
    font: QFont = flow.banner.case_no_label.font()
    assert font.pointSizeF() >= 28 and font.bold()
    assert "邻里纠纷" in flow.banner.summary.text() and "张三" in flow.banner.summary.text()
    assert flow.banner.caption.text() == "登记成功，案件编号"

    # Ready for the next visitor.
    assert form.name_edit.text() == form.id_edit.text() == form.category_edit.text() == ""
    assert form.narrative_edit.toPlainText() == ""
    assert form.narrative_counter.text() == "0/2000"
    assert not form.has_unsaved_text()
    qtbot.waitUntil(lambda: focused() is form.name_edit)


def test_a_second_enter_on_the_empty_form_does_nothing(
    qtbot: QtBot, form: RegistrationForm, flow: IntakeFlow, sqlite_service: RegistrationService
) -> None:
    fill(qtbot, form)
    result = submit_with_enter(qtbot, flow)
    qtbot.keyClick(form.name_edit, Qt.Key.Key_Return)
    assert flow.banner.case_no_label.text() == result.case_no
    assert not form.form_message.isVisible()
    assert form.error_text("parties[0].name") == ""


def test_ctrl_enter_submits_from_the_narrative_where_enter_is_a_newline(
    qtbot: QtBot, form: RegistrationForm, flow: IntakeFlow, sqlite_service: RegistrationService
) -> None:
    fill(qtbot, form, narrative="第一行")
    qtbot.keyClick(form.narrative_edit, Qt.Key.Key_Return)
    type_text(qtbot, form.narrative_edit, "第二行")
    assert form.narrative_edit.toPlainText() == "第一行\n第二行"
    assert sqlite_service.search(APPLICANT_ID) == []

    with qtbot.waitSignal(flow.sig_registered, timeout=3000) as blocker:
        qtbot.keyClick(form.narrative_edit, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    detail = sqlite_service.case(blocker.args[0].case_no)
    assert detail.narrative == "第一行\n第二行"


# --- refusing, field by field ------------------------------------------------------------------------


def test_bad_id_checksum_is_shown_next_to_the_id_and_nothing_is_stored(
    qtbot: QtBot, form: RegistrationForm, flow: IntakeFlow, sqlite_service: RegistrationService
) -> None:
    good = APPLICANT_ID
    bad = good[:17] + ("0" if good[17] != "0" else "1")
    fill(qtbot, form, id_number=bad)

    problems = refuse(qtbot, form)

    assert [p.field for p in problems] == ["parties[0].id_number"]
    message = form.error_text("parties[0].id_number")
    assert "校验位不符" in message
    assert form.messages["id_number"].isVisible()
    assert form.message_level("parties[0].id_number") == "error"
    assert "1 处" in form.form_message.text()
    assert sqlite_service.search("张三") == []
    assert sqlite_service.search(bad) == []
    # Everything typed is still there, and the cursor is in the bad field.
    assert form.id_edit.text() == bad
    assert form.name_edit.text() == "张三"
    assert form.narrative_edit.toPlainText() == "邻居在院墙外堆放杂物占用通道，多次沟通未果。"
    assert form.selected_category() == "邻里纠纷"
    assert not flow.banner.isVisible()
    qtbot.waitUntil(lambda: focused() is form.id_edit)

    # Correcting the number clears the message as it is edited, and the visit then registers.
    form.id_edit.setFocus()
    qtbot.keyClick(form.id_edit, Qt.Key.Key_Backspace)
    assert form.error_text("parties[0].id_number") == ""
    qtbot.keyClicks(form.id_edit, good[17])
    result = submit_with_enter(qtbot, flow)
    assert sqlite_service.search(good)[0].case_no == result.case_no


def test_a_field_is_checked_when_focus_leaves_it(qtbot: QtBot, form: RegistrationForm) -> None:
    type_text(qtbot, form.id_edit, APPLICANT_ID[:17] + ("0" if APPLICANT_ID[17] != "0" else "1"))
    assert form.error_text("parties[0].id_number") == ""  # not while typing
    qtbot.keyClick(form.id_edit, Qt.Key.Key_Tab)
    assert focused() is form.phone_edit
    assert "校验位不符" in form.error_text("parties[0].id_number")

    type_text(qtbot, form.phone_edit, "1391234567")
    qtbot.keyClick(form.phone_edit, Qt.Key.Key_Tab)
    assert form.error_text("parties[0].phone") == "手机号码应为11位，现为10位"


def test_unknown_region_code_is_an_orange_warning_that_does_not_block(
    qtbot: QtBot, form: RegistrationForm, flow: IntakeFlow, sqlite_service: RegistrationService
) -> None:
    odd = valid_id("99999919850101123")
    fill(qtbot, form, id_number=odd)
    form.id_edit.setFocus()
    qtbot.keyClick(form.id_edit, Qt.Key.Key_Tab)
    assert form.message_level("parties[0].id_number") == "warning"
    assert "999999" in form.messages["id_number"].text()
    assert "#b45309" in form.messages["id_number"].styleSheet()

    result = submit_with_enter(qtbot, flow)
    assert result.warnings
    assert flow.banner.warnings.isVisible()
    assert "999999" in flow.banner.warnings.text()
    assert sqlite_service.search(odd)


def test_full_width_digits_and_lower_case_x_are_accepted(
    qtbot: QtBot, form: RegistrationForm, flow: IntakeFlow, sqlite_service: RegistrationService
) -> None:
    body = next(b for b in (f"62070219850101{n:03d}" for n in range(1000)) if id_check_char(b) == "X")
    typed = "".join(chr(ord(c) + 0xFEE0) for c in body) + "x"  # ６２０７…x as some input methods give it
    fill(qtbot, form, id_number=typed)

    result = submit_with_enter(qtbot, flow)

    detail = sqlite_service.case(result.case_no, reveal=True)
    assert detail.parties[0].id_number == body + "X"
    assert sqlite_service.search(body + "X")[0].case_no == result.case_no


def test_id_is_shown_normalised_when_leaving_the_field(qtbot: QtBot, form: RegistrationForm) -> None:
    typed = "".join(chr(ord(c) + 0xFEE0) for c in APPLICANT_ID)
    type_text(qtbot, form.id_edit, typed)
    qtbot.keyClick(form.id_edit, Qt.Key.Key_Tab)
    assert form.id_edit.text() == APPLICANT_ID
    assert form.error_text("parties[0].id_number") == ""


def test_minority_name_typed_with_a_bullet_is_stored_with_the_middle_dot(
    qtbot: QtBot, form: RegistrationForm, flow: IntakeFlow, sqlite_service: RegistrationService
) -> None:
    fill(qtbot, form, name="阿依古丽\u2022买买提")
    result = submit_with_enter(qtbot, flow)
    assert sqlite_service.case(result.case_no).parties[0].name == "阿依古丽\u00b7买买提"


def test_name_with_a_character_outside_the_bmp_is_accepted(
    qtbot: QtBot, form: RegistrationForm, flow: IntakeFlow, sqlite_service: RegistrationService
) -> None:
    fill(qtbot, form, name="𠮷祥")
    result = submit_with_enter(qtbot, flow)
    assert sqlite_service.case(result.case_no).parties[0].name == "𠮷祥"


def test_name_length_counts_code_points_not_utf16_units(
    qtbot: QtBot, form: RegistrationForm, flow: IntakeFlow, sqlite_service: RegistrationService
) -> None:
    # Fifty 𠮷 are 100 UTF-16 units: a QLineEdit limit would count them double.
    fill(qtbot, form, name="𠮷" * 51)
    refuse(qtbot, form)
    assert form.error_text("parties[0].name") == "姓名最多50个字，现为51个字"
    assert form.name_edit.text() == "𠮷" * 51

    form.name_edit.setFocus()
    qtbot.keyClick(form.name_edit, Qt.Key.Key_Backspace)
    assert form.name_edit.text() == "𠮷" * 50
    result = submit_with_enter(qtbot, flow)
    assert sqlite_service.case(result.case_no).parties[0].name == "𠮷" * 50


def test_pasted_control_character_in_the_narrative_is_refused(
    qtbot: QtBot, form: RegistrationForm, sqlite_service: RegistrationService
) -> None:
    fill(qtbot, form, narrative="")
    QApplication.clipboard().setText("邻居占道\u0007，多次沟通未果。")
    form.narrative_edit.setFocus()
    qtbot.keyClick(form.narrative_edit, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    assert "\u0007" in form.narrative_edit.toPlainText()

    problems = refuse(qtbot, form)

    assert [p.field for p in problems] == ["narrative"]
    assert "U+0007" in form.error_text("narrative")
    assert "第5个字符" in form.error_text("narrative")
    assert form.narrative_message.isVisible()
    assert sqlite_service.search(APPLICANT_ID) == []
    assert form.narrative_edit.toPlainText() == "邻居占道\u0007，多次沟通未果。"
    qtbot.waitUntil(lambda: focused() is form.narrative_edit)


def test_narrative_counter_counts_code_points(qtbot: QtBot, form: RegistrationForm) -> None:
    type_text(qtbot, form.narrative_edit, "𠮷" * 3 + "abc")
    assert form.narrative_counter.text() == "6/2000"
    type_text(qtbot, form.narrative_edit, "字" * 1995)
    assert form.narrative_counter.text() == "2001/2000"
    assert "#c62828" in form.narrative_counter.styleSheet()


def test_every_problem_is_shown_and_the_first_field_on_screen_gets_focus(
    qtbot: QtBot, form: RegistrationForm, sqlite_service: RegistrationService
) -> None:
    type_text(qtbot, form.address_edit, "甘州区")
    type_text(qtbot, form.category_edit, "zzz")
    problems = refuse(qtbot, form)

    fields = {p.field for p in problems}
    assert {"parties[0].name", "category", "narrative"} <= fields
    assert form.error_text("parties[0].name") == "请填写姓名"
    assert form.error_text("category") == "纠纷类别“zzz”不在类别目录中"
    assert form.error_text("narrative") == "请填写纠纷事由"
    qtbot.waitUntil(lambda: focused() is form.name_edit)
    # Leaving the empty name field does not take back what the submit said.
    qtbot.keyClick(form.name_edit, Qt.Key.Key_Tab)
    assert form.error_text("parties[0].name") == "请填写姓名"


# --- category picker -----------------------------------------------------------------------------------


def test_pinyin_initials_select_the_category(qtbot: QtBot, form: RegistrationForm) -> None:
    form.category_edit.setFocus()
    qtbot.keyClicks(form.category_edit, "ljjf")
    assert form.category_list.item(0).text() == "邻里纠纷"
    assert form.selected_category() == "邻里纠纷"
    # Leaving the field shows the chosen name.
    qtbot.keyClick(form.category_edit, Qt.Key.Key_Tab)
    assert form.category_edit.text() == "邻里纠纷"
    assert form.error_text("category") == ""


def test_up_and_down_in_the_category_field_move_the_selection(qtbot: QtBot, form: RegistrationForm) -> None:
    form.category_edit.setFocus()
    assert form.selected_category() is None
    assert form.category_list.count() > 3
    names = [form.category_list.item(i).text() for i in range(form.category_list.count())]
    qtbot.keyClick(form.category_edit, Qt.Key.Key_Down)
    assert form.selected_category() == names[0]
    qtbot.keyClick(form.category_edit, Qt.Key.Key_Down)
    qtbot.keyClick(form.category_edit, Qt.Key.Key_Down)
    assert form.selected_category() == names[2]
    qtbot.keyClick(form.category_edit, Qt.Key.Key_Up)
    assert form.selected_category() == names[1]
    assert focused() is form.category_edit


def test_chinese_text_filters_the_categories(qtbot: QtBot, form: RegistrationForm) -> None:
    type_text(qtbot, form.category_edit, "欠薪")
    assert form.selected_category() == "劳动争议纠纷"


# --- parties -----------------------------------------------------------------------------------------


def test_f2_adds_a_party_that_is_registered_with_the_visit(
    qtbot: QtBot, form: RegistrationForm, flow: IntakeFlow, sqlite_service: RegistrationService
) -> None:
    fill(qtbot, form)
    form.name_edit.setFocus()
    qtbot.keyClick(form.name_edit, Qt.Key.Key_F2)
    assert len(form.party_rows) == 1
    row = form.party_rows[0]
    qtbot.waitUntil(lambda: focused() is row.name_edit)
    assert row.role_combo.currentData() == PartyRole.RESPONDENT.value
    type_text(qtbot, row.name_edit, "李四")
    type_text(qtbot, row.phone_edit, "13898765432")

    org = form.add_party(PartyRole.OTHER)
    org.org_box.setChecked(True)
    assert not org.id_edit.isEnabled()
    type_text(qtbot, org.name_edit, "张掖市某某物业管理有限公司")

    result = submit_with_enter(qtbot, flow)
    parties = sqlite_service.case(result.case_no, reveal=True).parties
    assert [(p.role, p.name, p.is_organisation) for p in parties] == [
        ("applicant", "张三", False),
        ("respondent", "李四", False),
        ("other", "张掖市某某物业管理有限公司", True),
    ]
    assert parties[1].phone == "13898765432"
    assert form.party_rows == []


def test_a_bad_field_in_a_further_party_is_shown_in_that_row(
    qtbot: QtBot, form: RegistrationForm, sqlite_service: RegistrationService
) -> None:
    fill(qtbot, form)
    first = form.add_party()
    type_text(qtbot, first.name_edit, "李四")
    second = form.add_party()
    type_text(qtbot, second.name_edit, "王五")
    type_text(qtbot, second.id_edit, "12345")

    refuse(qtbot, form)

    assert form.error_text("parties[2].id_number") == "身份证号码应为18位，现为5位"
    assert second.messages["id_number"].isVisible()
    assert form.error_text("parties[1].id_number") == ""
    qtbot.waitUntil(lambda: focused() is second.id_edit)
    assert sqlite_service.search(APPLICANT_ID) == []


def test_removing_a_party_row(qtbot: QtBot, form: RegistrationForm) -> None:
    first = form.add_party()
    second = form.add_party()
    qtbot.mouseClick(first.remove_button, Qt.MouseButton.LeftButton)
    assert form.party_rows == [second]
    qtbot.waitUntil(lambda: focused() is second.name_edit)


def test_same_id_twice_among_the_parties_is_refused(
    qtbot: QtBot, form: RegistrationForm, sqlite_service: RegistrationService
) -> None:
    fill(qtbot, form)
    row = form.add_party()
    type_text(qtbot, row.name_edit, "李四")
    type_text(qtbot, row.id_edit, APPLICANT_ID)
    refuse(qtbot, form)
    assert form.error_text("parties") == "同一身份证号码在当事人中出现了两次"
    assert sqlite_service.search(APPLICANT_ID) == []


# --- known person ------------------------------------------------------------------------------------


def test_known_person_panel_and_choosing_a_repeat_visit(
    qtbot: QtBot, form: RegistrationForm, flow: IntakeFlow, sqlite_service: RegistrationService
) -> None:
    earlier = sqlite_service.register(visit())  # 邻里纠纷, open
    other = sqlite_service.register(visit(category="劳动争议纠纷"), new_case=True)
    assert not form.known_panel.isVisible()

    type_text(qtbot, form.name_edit, "张三")
    type_text(qtbot, form.id_edit, APPLICANT_ID)

    qtbot.waitUntil(form.known_panel.isVisible)  # looked up off the UI thread
    assert form.known_panel.title.text() == "此人已有 2 件案件"
    assert set(form.known_panel.repeat_boxes) == {earlier.case_no, other.case_no}
    texts = [w.text() for w in form.known_panel.findChildren(QLabel) if w.isVisible()]
    assert earlier.case_no in texts and "2026-11-27" in texts and "邻里纠纷" in texts and "已受理" in texts

    # This visit is about a different kind of dispute, but the clerk records it on the earlier case.
    fill(qtbot, form, name="", id_number="", category="hyjt", narrative="再次来访，询问调解进度。")
    form.known_panel.repeat_boxes[earlier.case_no].click()
    result = submit_with_enter(qtbot, flow)

    assert result.is_repeat
    assert result.case_no == earlier.case_no
    assert sqlite_service.case(earlier.case_no).repeat_visits == 1
    assert flow.banner.caption.text().startswith(f"已记为案件 {earlier.case_no} 的重复访")
    assert flow.banner.case_no_label.text() == earlier.case_no
    assert not form.known_panel.isVisible()


def test_a_repeat_choice_and_a_new_case_exclude_each_other(
    qtbot: QtBot, form: RegistrationForm, sqlite_service: RegistrationService
) -> None:
    earlier = sqlite_service.register(visit())
    type_text(qtbot, form.id_edit, APPLICANT_ID)
    settle(qtbot)
    box = form.known_panel.repeat_boxes[earlier.case_no]
    box.click()
    form.known_panel.new_case_box.click()
    assert not box.isChecked()
    box.click()
    assert not form.known_panel.new_case_box.isChecked()
    assert form.known_panel.repeat_of() == earlier.case_no


def test_same_category_open_case_is_recorded_as_a_repeat_visit_and_said_so(
    qtbot: QtBot, form: RegistrationForm, flow: IntakeFlow, sqlite_service: RegistrationService
) -> None:
    earlier = sqlite_service.register(visit())
    fill(qtbot, form)
    result = submit_with_enter(qtbot, flow)
    assert result.is_repeat and result.case_no == earlier.case_no
    assert f"已记为案件 {earlier.case_no} 的重复访" in flow.banner.caption.text()
    assert "另立新案" in flow.banner.caption.text()


def test_new_case_box_opens_a_new_case(
    qtbot: QtBot, form: RegistrationForm, flow: IntakeFlow, sqlite_service: RegistrationService
) -> None:
    earlier = sqlite_service.register(visit())
    fill(qtbot, form)
    form.known_panel.new_case_box.click()
    result = submit_with_enter(qtbot, flow)
    assert not result.is_repeat
    assert result.case_no != earlier.case_no
    assert flow.banner.caption.text() == "登记成功，案件编号"


def test_known_person_is_found_by_phone_without_an_id(
    qtbot: QtBot, form: RegistrationForm, sqlite_service: RegistrationService
) -> None:
    sqlite_service.register(visit())
    type_text(qtbot, form.phone_edit, "139 1234 5678")
    settle(qtbot)
    assert form.known_panel.title.text() == "此人已有 1 件案件"
    form.phone_edit.clear()
    assert not form.known_panel.isVisible()


# --- the rest of the visit ---------------------------------------------------------------------------


def test_headcount_of_five_shows_the_group_visit_hint_and_flags_it(
    qtbot: QtBot, form: RegistrationForm, flow: IntakeFlow, sqlite_service: RegistrationService
) -> None:
    form.headcount_spin.setValue(4)
    assert not form.group_hint.isVisible()
    form.headcount_spin.setValue(5)
    assert form.group_hint.isVisible()
    assert "集体访" in form.group_hint.text()

    fill(qtbot, form)
    form.risk_boxes[next(iter(form.risk_boxes))].setChecked(True)
    form.channel_combo.setCurrentIndex(form.channel_combo.findData("hotline_12345"))
    result = submit_with_enter(qtbot, flow)
    detail = sqlite_service.case(result.case_no)
    assert detail.headcount == 5
    assert detail.channel == "hotline_12345"
    assert set(detail.risk_flags) == {"group_visit", "civil_to_criminal"}


def test_enter_in_the_headcount_submits(
    qtbot: QtBot, form: RegistrationForm, flow: IntakeFlow, sqlite_service: RegistrationService
) -> None:
    fill(qtbot, form)
    form.headcount_spin.setFocus()
    with qtbot.waitSignal(flow.sig_registered, timeout=3000):
        qtbot.keyClick(form.headcount_spin, Qt.Key.Key_Return)


def test_tab_follows_the_visual_order(qtbot: QtBot, form: RegistrationForm) -> None:
    row = form.add_party()
    form.name_edit.setFocus()
    qtbot.waitUntil(lambda: focused() is form.name_edit)
    expected = [
        form.id_edit,
        form.phone_edit,
        form.address_edit,
        form.add_party_button,
        row.role_combo,
        row.org_box,
        row.name_edit,
        row.id_edit,
        row.phone_edit,
        row.address_edit,
        row.remove_button,
        form.category_edit,
        form.channel_combo,
        form.headcount_spin,
        form.narrative_edit,
        *form.risk_boxes.values(),
        *form.priority_boxes.values(),
        form.submit_button,
    ]
    seen = []
    for _ in expected:
        current = focused()
        assert current is not None
        qtbot.keyClick(current, Qt.Key.Key_Tab)
        seen.append(focused())
    assert seen == expected


def test_all_user_facing_strings_are_chinese(form: RegistrationForm) -> None:
    assert form.submit_button.text() == "登记 (Ctrl+Enter)"
    assert form.add_party_button.text() == "添加当事人 (F2)"
    assert [form.channel_combo.itemText(i) for i in range(form.channel_combo.count())][:2] == [
        "来访",
        "12345热线",
    ]
    assert [b.text() for b in form.risk_boxes.values()] == ["民转刑苗头", "极端行为倾向", "心理危机"]
