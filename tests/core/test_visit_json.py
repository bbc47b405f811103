"""Visit JSON: every bad file refused with the field named, in Chinese, echoing nothing raw; good encodings read."""

from __future__ import annotations

import codecs
import datetime as dt
import json

import pytest

from desk.config import RESOURCES
from desk.core.cases import Visit, parse_visit
from desk.core.catalog import Category
from desk.core.visit_json import MAX_BYTES, MAX_DEPTH, LoadedVisit, load_visit
from desk.errors import ValidationError
from tests.conftest import valid_id, visit

TODAY = dt.date(2026, 11, 27)
CATALOG = [
    Category(c["code"], c["name"], c["deadline_class"], tuple(c["aliases"]))
    for c in json.loads((RESOURCES / "catalog" / "categories.json").read_text(encoding="utf-8"))["categories"]
]
ID = valid_id("62070219850101123")
SOURCE = "visit.json"


def utf8(data: object) -> bytes:
    return json.dumps(data, ensure_ascii=False).encode("utf-8")


def load(raw: bytes) -> LoadedVisit:
    return load_visit(raw, source=SOURCE)


def register(raw: bytes) -> Visit:
    """What `desk register --file` does with the bytes, short of the store: load, then check."""
    return parse_visit(load(raw).data, categories=CATALOG, today=TODAY)


def refusals(raw: bytes) -> dict[str, str]:
    with pytest.raises(ValidationError) as e:
        register(raw)
    return {p.field: p.message for p in e.value.problems}


def with_party(**fields: object) -> bytes:
    party: dict[str, object] = {"role": "applicant", "name": "张三", "id_number": ID, "phone": "13912345678"}
    party.update(fields)
    return utf8(visit(parties=[party]))


def test_a_valid_file_loads_and_checks() -> None:
    loaded = load(utf8(visit()))
    assert loaded.warnings == () and loaded.data == visit()
    assert register(utf8(visit())).applicant.name == "张三"


# --- encodings ----------------------------------------------------------------------------------------------


def test_utf8_bom_from_notepad_is_accepted() -> None:
    assert register(codecs.BOM_UTF8 + utf8(visit())).applicant.name == "张三"


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be", "utf-32"])
def test_utf16_and_utf32_with_their_bom_are_accepted(encoding: str) -> None:
    raw = json.dumps(visit(), ensure_ascii=False).encode(encoding)
    if encoding == "utf-16-be":
        raw = codecs.BOM_UTF16_BE + raw
    assert register(raw).narrative == visit()["narrative"]


def test_gbk_file_is_refused_with_save_as_utf8() -> None:
    raw = json.dumps(visit(), ensure_ascii=False).encode("gbk")
    msg = refusals(raw)[SOURCE]
    assert "GBK/GB18030" in msg and "UTF-8" in msg and "另存为" in msg


def test_gb18030_only_characters_also_refused() -> None:
    raw = json.dumps(visit(narrative="𠮷祥的邻居堵了路"), ensure_ascii=False).encode("gb18030")
    assert "GBK/GB18030" in refusals(raw)[SOURCE]


def test_bytes_of_no_known_encoding() -> None:
    msg = refusals(b'{"narrative": "\xff\xfe\xfd\xfc"}')[SOURCE]
    assert "不是 UTF-8 编码" in msg and "第16个字节" in msg


def test_utf16_without_bom_is_refused_not_misread() -> None:
    msg = refusals(json.dumps(visit(), ensure_ascii=False).encode("utf-16-le"))[SOURCE]
    assert "NUL" in msg and "UTF-16" in msg


# --- the file as a whole --------------------------------------------------------------------------------------


@pytest.mark.parametrize("raw", [b"", b"   \n\t ", codecs.BOM_UTF8, codecs.BOM_UTF8 + b"\r\n"])
def test_empty_file(raw: bytes) -> None:
    assert refusals(raw) == {SOURCE: "文件是空的，应为一个来访 JSON 对象 {...}"}


@pytest.mark.parametrize(
    ("raw", "kind"),
    [(b"[]", "列表"), (b'"visit"', "文本"), (b"42", "数字"), (b"null", "空值"), (b"true", "布尔值")],
)
def test_a_file_that_is_not_an_object(raw: bytes, kind: str) -> None:
    assert refusals(raw) == {SOURCE: f"内容应为一个 JSON 对象 {{...}}，现为{kind}"}


@pytest.mark.parametrize(
    ("raw", "where"),
    [
        (b"{not json", "第1行第2列，此处应为用双引号括起的字段名"),
        (b'{"narrative": "abc}', "第1行第15列，字符串缺少结尾的双引号"),
        (b'{"headcount": 1,}', "第1行第17列，此处应为用双引号括起的字段名"),
        (b'{"headcount": 1}\n{"headcount": 2}', "第2行第1列，JSON 结束后还有多余的内容"),
        (b"{'headcount': 1}", "此处应为用双引号括起的字段名"),
    ],
)
def test_syntax_errors_give_line_and_column_in_chinese(raw: bytes, where: str) -> None:
    msg = refusals(raw)[SOURCE]
    assert msg.startswith("不是有效的 JSON：") and where in msg


def test_a_file_too_large_is_refused_before_parsing() -> None:
    raw = b'{"narrative": "' + b"a" * MAX_BYTES + b'"}'
    assert "超过 1 MB" in refusals(raw)[SOURCE]


# --- numbers ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("literal", "reason"),
    [
        ("Infinity", "Infinity 不是有效的数值"),
        ("-Infinity", "-Infinity 不是有效的数值"),
        ("NaN", "NaN 不是有效的数值"),
        ("1e400", "超出了可以表示的范围"),
        ("-1e400", "超出了可以表示的范围"),
        ("9" * 5000, "整数位数过多（5000位"),
        ("-" + "1" * 19, "整数位数过多（19位"),
    ],
)
def test_numbers_no_store_can_hold_are_refused_at_their_field(literal: str, reason: str) -> None:
    raw = utf8(visit()).replace(b'"headcount": 1', b'"headcount": ' + literal.encode())
    assert reason in refusals(raw)["headcount"]
    deep = utf8(visit()).replace(b'"phone": "13912345678"', b'"phone": ' + literal.encode())
    assert reason in refusals(deep)["parties[0].phone"]


def test_a_long_integer_never_reaches_pythons_digit_limit() -> None:
    # 5000 digits would raise Python's own ValueError (int max str digits) in a plain json.loads
    raw = b'{"x": ' + b"1" * 5000 + b', "narrative": ' + b"2" * 4301 + b"}"
    assert set(refusals(raw)) == {"x", "narrative"}


def test_a_number_where_a_number_belongs_is_fine() -> None:
    assert register(utf8(visit(headcount=6))).headcount == 6
    assert register(utf8(visit(headcount=3.0))).headcount == 3  # an integer, as JSON Schema counts it


# --- nesting, repeated keys, lone surrogates --------------------------------------------------------------


def test_deeply_nested_arrays() -> None:
    assert "嵌套层数过深" in refusals(b"[" * 100_000 + b"]" * 100_000)[SOURCE]
    assert "嵌套层数过深" in refusals(b'{"parties": ' + b"[" * 100_000 + b"]" * 100_000 + b"}")[SOURCE]
    just_too_deep = b'{"x": ' + b"[" * MAX_DEPTH + b"]" * MAX_DEPTH + b"}"
    (field,) = refusals(just_too_deep)
    assert field == "x" + "[0]" * (MAX_DEPTH - 1)


def test_a_key_given_twice_is_refused() -> None:
    raw = b'{"narrative": "a", "narrative": "b"}'
    assert refusals(raw)["narrative"] == "字段“narrative”出现了不止一次"


def test_a_lone_surrogate_is_refused_at_its_field() -> None:
    raw = utf8(visit()).replace("张三".encode(), b"\\ud800\\u5f20")
    msg = refusals(raw)["parties[0].name"]
    assert "第1个字符" in msg and "U+D800" in msg


# --- unknown keys -----------------------------------------------------------------------------------------


def test_unknown_keys_are_ignored_with_a_warning() -> None:
    data = visit(source_system="12345平台", parties=[{**visit()["parties"][0], "wechat": "x"}])  # type: ignore[index]
    loaded = load(utf8(data))
    assert "source_system" in loaded.data
    assert loaded.warnings == (
        "来访中不认识的字段 “source_system” 已忽略",
        "第1名当事人中不认识的字段 “wechat” 已忽略",
    )
    assert register(utf8(data)).applicant.name == "张三"


@pytest.mark.parametrize(
    ("key", "field", "shown", "meant"),
    [
        ("risk_flag", "risk_flag", "risk_flag", "risk_flags"),
        ("narative", "narative", "narrative", "narrative"),
        ("Headcount", "Headcount", "Headcount", "headcount"),
        ("category\u200b", '["category[U+200B]"]', "category[U+200B]", "category"),
    ],
)
def test_a_misspelt_key_is_refused_not_dropped(key: str, field: str, shown: str, meant: str) -> None:
    data = visit()
    data[key] = data.pop(meant) if meant in data else ["psychological_crisis"]
    shown = key if key.isascii() else shown
    assert refusals(utf8(data))[field] == f"不认识的字段“{shown}”，是否应为“{meant}”？"


def test_a_misspelt_party_key() -> None:
    raw = utf8(visit(parties=[{"role": "applicant", "Name": "张三", "phone": "13912345678"}]))
    assert refusals(raw)["parties[0].Name"] == "不认识的字段“Name”，是否应为“name”？"


# --- field types (checked by parse_visit / parse_party, the same for the form) -----------------------------


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"category": 3}, "category", "纠纷类别须为文本（JSON 中用双引号括起），现为数字"),
        ({"channel": ["walk_in"]}, "channel", "来源渠道须为文本（JSON 中用双引号括起），现为列表"),
        ({"narrative": ["a"]}, "narrative", "纠纷事由须为文本（JSON 中用双引号括起），现为列表"),
        ({"narrative": {"text": "a"}}, "narrative", "纠纷事由须为文本（JSON 中用双引号括起），现为对象"),
        ({"narrative": True}, "narrative", "纠纷事由须为文本（JSON 中用双引号括起），现为布尔值"),
        ({"headcount": "3人"}, "headcount", "来访人数须为整数"),
        ({"headcount": [3]}, "headcount", "来访人数须为整数，现为列表"),
        ({"headcount": True}, "headcount", "来访人数须为整数，现为布尔值"),
        ({"headcount": 2.5}, "headcount", "来访人数须为整数"),
        ({"risk_flags": "psychological_crisis"}, "risk_flags", "风险标记须为列表"),
        ({"risk_flags": [1]}, "risk_flags[0]", "风险标记须为文本，现为数字"),
        ({"risk_flags": ["civil_to_criminal", "angry"]}, "risk_flags[1]", "风险标记“angry”无效"),
        ({"parties": {"name": "张三"}}, "parties", "当事人须为列表 [...]，现为对象"),
        ({"parties": ["张三"]}, "parties[0]", "第1名当事人须为对象 {...}，现为文本"),
    ],
)
def test_each_visit_field_has_its_type(overrides: dict[str, object], field: str, message: str) -> None:
    assert message in refusals(utf8(visit(**overrides)))[field]


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"name": 123}, "parties[0].name", "姓名须为文本（JSON 中用双引号括起），现为数字"),
        ({"name": ["张三"]}, "parties[0].name", "姓名须为文本（JSON 中用双引号括起），现为列表"),
        ({"id_number": 620702198501011230}, "parties[0].id_number", "身份证号码须为文本"),
        ({"phone": 13912345678}, "parties[0].phone", "联系电话须为文本（JSON 中用双引号括起），现为数字"),
        ({"address": 1}, "parties[0].address", "住址须为文本"),
        ({"role": 0}, "parties[0].role", "当事人身份须为文本"),
        (
            {"is_organisation": "false"},
            "parties[0].is_organisation",
            "须为 true 或 false（JSON 布尔值，不加引号），现为文本“false”",
        ),
        ({"is_organisation": 0}, "parties[0].is_organisation", "现为数字"),
    ],
)
def test_each_party_field_has_its_type(fields: dict[str, object], field: str, message: str) -> None:
    assert message in refusals(with_party(**fields))[field]


def test_type_refusals_never_echo_the_number() -> None:
    msgs = refusals(with_party(id_number=620702198501011230, phone=13912345678))
    assert not any("13912345678" in m or "620702198501011230" in m for m in msgs.values())


def test_null_is_absent() -> None:
    v = register(utf8(visit(risk_flags=None, headcount=None, channel=None)))
    assert v.headcount == 1 and v.risk_flags == frozenset() and v.channel.value == "walk_in"
    v = register(with_party(address=None, is_organisation=None))
    assert v.applicant.address == "" and not v.applicant.is_organisation


def test_real_booleans_accepted() -> None:
    org = {"role": "respondent", "name": "张掖市第3建筑有限公司", "is_organisation": True}
    v = register(utf8(visit(parties=[visit()["parties"][0], org])))  # type: ignore[index]
    assert v.parties[1].is_organisation


# --- what a refusal echoes -----------------------------------------------------------------------------------


def test_refusals_escape_control_characters() -> None:
    msgs = refusals(utf8(visit(category="邻里\u0007纠纷\u001b[31m", channel="\u202ewalk_in")))
    assert msgs["category"] == "纠纷类别“邻里[U+0007]纠纷[U+001B][31m”不在类别目录中"
    assert msgs["channel"] == "来源渠道“[U+202E]walk_in”无效"
    assert all(ch.isprintable() for m in msgs.values() for ch in m)


def test_escaped_keys_and_long_values_are_cut() -> None:
    raw = b'{"a\\u0007b": 1, ' + utf8(visit())[1:]
    assert load(raw).warnings == ("来访中不认识的字段 “a[U+0007]b” 已忽略",)
    msg = refusals(utf8(visit(category="类" * 500)))["category"]
    assert len(msg) < 60 and "…" in msg


def test_file_name_with_a_control_character_is_escaped() -> None:
    with pytest.raises(ValidationError) as e:
        load_visit(b"", source="a\nb.json")
    assert e.value.problems[0].field == "a[U+000A]b.json"
