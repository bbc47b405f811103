"""Names and texts that look like one thing and are another: invisible characters dropped, bidi controls and
piles of combining marks refused, NFC applied; `·`, 𠮷 and new ideographs still accepted."""

from __future__ import annotations

import datetime as dt

import pytest

from desk.core import text
from desk.core.cases import parse_narrative
from desk.core.parties import normalise_name, parse_address, parse_org_name, parse_party, parse_person_name
from desk.errors import ValidationError

TODAY = dt.date(2026, 11, 27)

INVISIBLE = {
    "\u3164": "Hangul filler",
    "\u115f": "Hangul choseong filler",
    "\u1160": "Hangul jungseong filler",
    "\uffa0": "halfwidth Hangul filler",
    "\u034f": "combining grapheme joiner",
    "\ufe00": "variation selector 1",
    "\ufe0f": "variation selector 16",
    "\U000e0100": "variation selector 17",
    "\U000e01ef": "variation selector 256",
    "\u200b": "zero width space",
    "\u200c": "zero width non-joiner",
    "\u200d": "zero width joiner",
    "\u2060": "word joiner",
    "\ufeff": "BOM / zero width no-break space",
    "\u00ad": "soft hyphen",
    "\u180e": "Mongolian vowel separator",
    "\U000e0001": "language tag",
    "\U000e0041": "tag latin capital A",
}
BIDI = [
    "\u202a",
    "\u202b",
    "\u202c",
    "\u202d",
    "\u202e",
    "\u2066",
    "\u2067",
    "\u2068",
    "\u2069",
    "\u200e",
    "\u200f",
    "\u061c",
]


def refused(fn: object, *args: object, **kw: object) -> str:
    with pytest.raises(ValidationError) as e:
        fn(*args, **kw)  # type: ignore[operator]
    assert len(e.value.problems) == 1
    return e.value.problems[0].message


@pytest.mark.parametrize("ch", list(INVISIBLE), ids=list(INVISIBLE.values()))
def test_an_invisible_character_in_a_name_is_dropped(ch: str) -> None:
    assert parse_person_name(f"张{ch}三") == "张三"
    assert parse_person_name(f"{ch}张三{ch}") == "张三"
    assert parse_person_name(f"阿依古丽{ch}·买买提") == "阿依古丽·买买提"
    assert normalise_name(f"张{ch}三") == "张三"  # the search box's side


def test_a_name_of_invisible_characters_only_is_empty() -> None:
    assert refused(parse_person_name, "\u3164\u200b\u3164") == "请填写姓名"


@pytest.mark.parametrize("ch", BIDI)
def test_a_bidi_control_in_a_name_is_refused_with_its_position(ch: str) -> None:
    msg = refused(parse_person_name, f"张三{ch}丰")
    assert msg == f"姓名第3个字符是文字方向控制字符 {text.describe(ch)}（多为粘贴带入），请删除后重新输入"


def test_position_counts_the_text_as_given() -> None:
    # the zero-width space before it is dropped later, but the position is where the person can find it
    assert "第4个字符" in refused(parse_person_name, "张\u200b三\u202e丰")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Jose\u0301", "Jos\u00e9"),  # NFC: e + combining acute is é
        ("Nguye\u0323\u0302n", "Nguy\u1ec7n"),  # two marks on one letter compose into ệ
        ("\uf900", "\u8c48"),  # a CJK compatibility ideograph is its unified ideograph
        ("𠮷祥", "𠮷祥"),
        ("\U00031350\u6587", "\U00031350\u6587"),  # a plane-3 ideograph newer than Python's tables
        ("\U0002a6d6\u4e09", "\U0002a6d6\u4e09"),  # plane 2
        ("བསྒྲུབས", "བསྒྲུབས"),  # Tibetan: subjoined letters and a vowel sign, three marks on one letter
    ],
)
def test_nfc_and_real_scripts_kept(raw: str, expected: str) -> None:
    assert parse_person_name(raw) == expected


@pytest.mark.parametrize(
    "dot",
    [
        "\u2022",
        "\u2219",
        "\u30fb",
        "\uff65",
        "\u2027",
        "\uff0e",
        ".",
        "\u22c5",
        "\u0387",
        "\u318d",
        "\ua78f",
        "\u2e31",
        "\u1427",
    ],
)
def test_middle_dot_lookalikes_are_the_middle_dot(dot: str) -> None:
    assert parse_person_name(f"阿依古丽{dot}买买提") == "阿依古丽·买买提"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("张\u0301\u0302\u0303三", "姓名第1个字符“张”上叠加了3个附加符号，不是正常的文字"),
        ("Zal\u0300\u0301\u0302\u0303\u0304go", "姓名第3个字符“l”上叠加了5个附加符号，不是正常的文字"),
        ("\u0301张三", "姓名第1个字符是附加符号 U+0301，前面没有可附着的字"),
        ("阿依古丽·\u0338买买提", "姓名第6个字符是附加符号 U+0338，前面没有可附着的字"),
        ("John \u0301Smith", "姓名第6个字符是附加符号 U+0301，前面没有可附着的字"),
        ("ཀ" + "\u0f90" * 9, "姓名第1个字符“ཀ”上叠加了9个附加符号，不是正常的文字"),
    ],
)
def test_piles_of_combining_marks_are_refused(raw: str, expected: str) -> None:
    assert refused(parse_person_name, raw) == expected


def test_marks_hidden_behind_a_grapheme_joiner_are_still_counted() -> None:
    # CGJ is dropped first, so it cannot split a pile into small runs
    assert "叠加了4个附加符号" in refused(parse_person_name, "张\u0301\u0302\u034f\u0303\u0304")


@pytest.mark.parametrize(
    ("fn", "what"),
    [(parse_address, "住址"), (parse_org_name, "单位名称"), (parse_narrative, "纠纷事由")],
)
def test_other_fields_drop_invisibles_and_refuse_bidi_with_position(fn: object, what: str) -> None:
    assert fn("甘州区\u200b东街\u3164街道\u2060", field_name="f") == "甘州区东街街道"  # type: ignore[operator]
    msg = refused(fn, "甘州区\u202e东街", field_name="f")
    assert msg == f"{what}第4个字符是文字方向控制字符 U+202E（多为粘贴带入），请删除后重新输入"
    assert "叠加了3个附加符号" in refused(fn, "甘州区\u0301\u0302\u0303", field_name="f")


def test_narrative_keeps_emoji_sequences() -> None:
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"
    heart = "\u2764\ufe0f"
    assert parse_narrative(f"一家人{family}{heart}来访\u200b") == f"一家人{family}{heart}来访"


def test_narrative_still_refuses_control_characters_with_position() -> None:
    assert "第3个字符是不可见的控制字符 U+0007" in refused(parse_narrative, "对方\u0007拒绝")
    assert parse_narrative("第一行\r\n第二行") == "第一行\n第二行"


def test_a_party_is_stored_clean_as_well() -> None:
    p = parse_party(
        {
            "role": "applicant",
            "name": "张\u3164三",
            "phone": "139\u200b1234\u20605678",
            "address": "东街\u00ad1号",
        },
        today=TODAY,
    )
    assert (p.name, p.phone, p.address) == ("张三", "13912345678", "东街1号")
    org = parse_party(
        {"role": "respondent", "name": "某某\u200b公司\ufe0f", "is_organisation": True}, today=TODAY
    )
    assert org.name == "某某公司"


def test_shown_escapes_what_would_not_show() -> None:
    assert (
        text.shown("a\u0007b\u202ec\u200bd\u3164e\u00a0f\u2028")
        == "a[U+0007]b[U+202E]c[U+200B]d[U+3164]e[U+00A0]f[U+2028]"
    )
    assert text.shown("\u0301x") == "[U+0301]x"
    assert text.shown("𠮷祥·张三") == "𠮷祥·张三"
    assert text.shown("x" * 30) == "x" * 20 + "…"


def test_search_key_drops_what_stored_text_cannot_hold() -> None:
    assert text.search_key("张\u200b三\u202e") == "张三"
    assert text.search_key("Jose\u0301") == "Jos\u00e9"
