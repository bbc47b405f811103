"""Resident ID numbers, phones, names and parties: every bad input accepted correctly or refused precisely."""

from __future__ import annotations

import datetime as dt

import pytest

from desk.core.parties import (
    IdNumber,
    PartyRole,
    mask_id_number,
    parse_id_number,
    parse_party,
    parse_person_name,
    parse_phone,
    region_name,
)
from desk.errors import ValidationError
from tests.conftest import valid_id

TODAY = dt.date(2026, 11, 27)
GANZHOU_1985 = valid_id("62070219850101123")  # a real-shaped Ganzhou number of a man born before 2002
X_ENDING = next(n for i in range(1000) if (n := valid_id(f"62070219850101{i:03d}")).endswith("X"))


def refused(fn: object, *args: object, **kw: object) -> str:
    with pytest.raises(ValidationError) as e:
        fn(*args, **kw)  # type: ignore[operator]
    assert len(e.value.problems) == 1
    return e.value.problems[0].message


class TestIdNumber:
    def test_valid_number_gives_birth_date_sex_and_region(self) -> None:
        idn = parse_id_number(GANZHOU_1985, today=TODAY)
        assert idn == IdNumber(GANZHOU_1985, dt.date(1985, 1, 1), "男", "620702")
        assert idn.warnings == ()
        assert idn.age_on(TODAY) == 41

    def test_even_sequence_is_female(self) -> None:
        assert parse_id_number(valid_id("62072219900315002"), today=TODAY).sex == "女"

    def test_region_code_newer_than_birth_year_is_accepted_without_warning(self) -> None:
        # python-stdnum's own validate() refuses this real number: 620702 dates from 2002.
        from stdnum.cn import ric

        with pytest.raises(ric.ValidationError):
            ric.validate(GANZHOU_1985)
        assert parse_id_number(GANZHOU_1985, today=TODAY).warnings == ()

    def test_lowercase_x_is_upper_cased(self) -> None:
        n = X_ENDING
        assert parse_id_number(n.lower(), today=TODAY).value == n

    def test_full_width_digits_and_x_spaces_and_zero_width_are_normalised(self) -> None:
        full = "".join(chr(ord(c) + 0xFEE0) for c in GANZHOU_1985)
        messy = " " + full[:6] + "\u200b " + full[6:] + "\ufeff"
        assert parse_id_number(messy, today=TODAY).value == GANZHOU_1985
        n = X_ENDING
        assert parse_id_number(n[:-1] + "Ｘ", today=TODAY).value == n
        assert parse_id_number(n[:-1] + "ｘ", today=TODAY).value == n

    def test_wrong_checksum_refused(self) -> None:
        bad = GANZHOU_1985[:-1] + ("0" if GANZHOU_1985[-1] != "0" else "1")
        assert "校验位不符" in refused(parse_id_number, bad, today=TODAY)

    def test_swapped_digits_refused(self) -> None:
        swapped = GANZHOU_1985[:14] + GANZHOU_1985[15] + GANZHOU_1985[14] + GANZHOU_1985[16:]
        assert swapped != GANZHOU_1985
        assert "校验位" in refused(parse_id_number, swapped, today=TODAY)

    @pytest.mark.parametrize(
        ("raw", "expected"),
        [
            ("", "请填写身份证号码"),
            ("62070219850101", "应为18位，现为14位"),
            ("6207021985010112345", "应为18位，现为19位"),
            ("620702850101123", "15位的一代身份证"),
            ("62070219850101A23X", "非法字符“A”"),
            ("620702198501011X3X", "非法字符“X”"),
        ],
    )
    def test_malformed_refused_with_reason(self, raw: str, expected: str) -> None:
        assert expected in refused(parse_id_number, raw, today=TODAY)

    def test_impossible_birth_date_refused(self) -> None:
        assert "19850230 不是有效日期" in refused(parse_id_number, valid_id("62070219850230123"), today=TODAY)

    def test_future_birth_date_refused(self) -> None:
        assert "晚于今天" in refused(parse_id_number, valid_id("62070220990101123"), today=TODAY)
        assert "晚于今天" in refused(parse_id_number, valid_id("62070220261128123"), today=TODAY)

    def test_born_today_accepted(self) -> None:
        assert parse_id_number(valid_id("62070220261127123"), today=TODAY).birth_date == TODAY

    def test_unknown_region_is_a_warning_not_a_refusal(self) -> None:
        idn = parse_id_number(valid_id("99070219850101123"), today=TODAY)
        assert idn.region_code == "990702"
        assert any("990702" in w for w in idn.warnings)

    def test_mask_shows_region_and_last_four_only(self) -> None:
        assert mask_id_number("62070219850101123X") == "620702********123X"
        assert parse_id_number(GANZHOU_1985, today=TODAY).masked() == "620702********" + GANZHOU_1985[-4:]

    def test_zhangye_region_names(self) -> None:
        assert region_name("620721") == "肃南裕固族自治县"
        assert region_name("620702") == "甘州区"


class TestPhone:
    @pytest.mark.parametrize(
        ("raw", "value"),
        [
            ("13912345678", "13912345678"),
            ("139 1234 5678", "13912345678"),
            ("139-1234-5678", "13912345678"),
            ("+86 13912345678", "13912345678"),
            ("008613912345678", "13912345678"),
            ("１３９１２３４５６７８", "13912345678"),
            ("0936-8212345", "0936-8212345"),
            ("09368212345", "0936-8212345"),
            ("(0936)8212345", "0936-8212345"),
            ("010-12345678", "010-12345678"),
        ],
    )
    def test_accepted_and_normalised(self, raw: str, value: str) -> None:
        assert parse_phone(raw).value == value

    @pytest.mark.parametrize(
        ("raw", "expected"),
        [
            ("1391234567", "应为11位，现为10位"),
            ("12912345678", "第二位应为3至9"),
            ("0936-12345", "座机号码应为区号加7至8位号码"),
            ("8212345", "请填写11位手机号码"),
            ("139abc45678", "只能包含数字"),
        ],
    )
    def test_refused_with_reason(self, raw: str, expected: str) -> None:
        assert expected in refused(parse_phone, raw)

    def test_masked(self) -> None:
        assert parse_phone("13912345678").masked() == "139****5678"


class TestName:
    @pytest.mark.parametrize(
        "name", ["张三", "欧阳娜娜", "𠮷祥", "阿依古丽·买买提", "John Smith", "才让·多杰·扎西"]
    )
    def test_accepted_exactly(self, name: str) -> None:
        assert parse_person_name(name) == name

    @pytest.mark.parametrize("dot", ["\u2022", "\u2219", "\u30fb", "\uff65", "\u2027", "\uff0e", "."])
    def test_dot_lookalikes_become_middle_dot(self, dot: str) -> None:
        assert parse_person_name(f"阿依古丽{dot}买买提") == "阿依古丽·买买提"

    def test_spaces_around_dot_and_edges_dropped(self) -> None:
        assert parse_person_name("  阿依古丽 · 买买提 ") == "阿依古丽·买买提"

    def test_length_counts_code_points(self) -> None:
        fifty = "𠮷" * 50  # 100 UTF-16 units, 50 characters
        assert parse_person_name(fifty) == fifty
        assert "最多50个字，现为51个字" in refused(parse_person_name, "𠮷" * 51)

    @pytest.mark.parametrize(
        ("raw", "expected"),
        [
            ("", "请填写姓名"),
            ("张3", "不能含有数字"),
            ("张\u0007三", "控制字符 U+0007"),
            ("张\u202e三", "控制字符 U+202E"),
            ("张三!", "不能含有符号“!”"),
            ("·张三", "只能用在姓名中间"),
            ("张··三", "连续使用两个间隔号"),
            ("'; DROP TABLE cases; --", "不能含有符号"),
        ],
    )
    def test_refused_with_reason(self, raw: str, expected: str) -> None:
        assert expected in refused(parse_person_name, raw)


class TestParty:
    def test_applicant_needs_id_or_phone(self) -> None:
        with pytest.raises(ValidationError) as e:
            parse_party({"role": "applicant", "name": "张三"}, today=TODAY)
        assert e.value.problems[0].field == "id_number"

    def test_respondent_may_be_name_only_and_roles_take_chinese(self) -> None:
        p = parse_party({"role": "被申请人", "name": "李四"}, today=TODAY)
        assert p.role is PartyRole.RESPONDENT and p.id_number is None

    def test_organisation_party_may_have_digits(self) -> None:
        p = parse_party(
            {"role": "respondent", "name": "张掖市第3建筑有限公司", "is_organisation": True}, today=TODAY
        )
        assert p.name == "张掖市第3建筑有限公司"

    def test_every_problem_reported_with_its_field(self) -> None:
        with pytest.raises(ValidationError) as e:
            parse_party({"role": "boss", "name": "张3", "id_number": "123", "phone": "1"}, today=TODAY)
        assert {p.field for p in e.value.problems} == {"role", "name", "id_number", "phone"}


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("张三", "张*"),
        ("张小三", "张*三"),
        ("欧阳娜娜", "欧阳**"),
        ("欧阳娜", "欧阳*"),
        ("𠮷祥", "𠮷*"),
        ("阿依古丽·买买提", "阿***·***"),
        ("王", "王"),
        ("诸葛亮", "诸葛*"),
    ],
)
def test_mask_name(name: str, masked: str) -> None:
    from desk.core.parties import mask_name

    assert mask_name(name) == masked
