"""A visit as a whole: category, channel, headcount, narrative, risk flags, parties."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from desk.config import RESOURCES
from desk.core.cases import Channel, RiskFlag, parse_visit
from desk.core.catalog import Category, find_categories, name_initials, pinyin_keys
from desk.errors import ValidationError
from tests.conftest import visit

TODAY = dt.date(2026, 11, 27)
CATALOG = [
    Category(c["code"], c["name"], c["deadline_class"], tuple(c["aliases"]))
    for c in json.loads((RESOURCES / "catalog" / "categories.json").read_text(encoding="utf-8"))["categories"]
]


def check(**overrides: object) -> object:
    return parse_visit(visit(**overrides), categories=CATALOG, today=TODAY)


def problems(**overrides: object) -> dict[str, str]:
    with pytest.raises(ValidationError) as e:
        check(**overrides)
    return {p.field: p.message for p in e.value.problems}


def test_valid_visit() -> None:
    v = check()
    assert v.category.name == "邻里纠纷" and v.channel is Channel.WALK_IN and v.headcount == 1
    assert v.applicant.name == "张三" and v.risk_flags == frozenset()


def test_catalog_has_domain_categories_with_deadlines() -> None:
    names = {c.name for c in CATALOG}
    for required in [
        "婚姻家庭纠纷",
        "邻里纠纷",
        "房屋宅基地纠纷",
        "合同纠纷",
        "生产经营纠纷",
        "损害赔偿纠纷",
        "山林土地纠纷",
        "征地拆迁纠纷",
        "环境污染纠纷",
        "劳动争议纠纷",
        "医疗纠纷",
        "道路交通事故纠纷",
        "物业纠纷",
        "消费纠纷",
        "水利灌溉纠纷",
        "草原纠纷",
        "其他纠纷",
    ]:
        assert required in names
    assert all(c.deadline_days in (15, 30, 60) for c in CATALOG)


def test_category_by_alias_and_code() -> None:
    assert check(category="欠薪").category.code == "labour"  # type: ignore[attr-defined]
    assert check(category="irrigation").category.name == "水利灌溉纠纷"  # type: ignore[attr-defined]


def test_pinyin_initials_find_categories() -> None:
    assert find_categories(CATALOG, "lljf")[0].name == "邻里纠纷"  # lín lǐ jiū fēn
    assert find_categories(CATALOG, "ljjf")[0].name == "邻里纠纷"  # 邻居纠纷, as people also say
    assert find_categories(CATALOG, "LJ")[0].name == "邻里纠纷"
    assert find_categories(CATALOG, "linli")[0].name == "邻里纠纷"
    assert find_categories(CATALOG, "邻里")[0].name == "邻里纠纷"
    assert find_categories(CATALOG, "tdcb")[0].name == "山林土地纠纷"  # 土地承包 is an alias
    assert find_categories(CATALOG, "qwerty") == []
    assert len(find_categories(CATALOG, "")) == len(CATALOG)


def test_name_initials() -> None:
    assert name_initials("张三") == "zs"
    assert name_initials("阿依古丽·买买提") == "aygl" + "mmt"
    assert pinyin_keys("邻里纠纷") == ("lljf", "linlijiufen")


@pytest.mark.parametrize(
    ("name", "initials"),
    [
        ("曾国藩", "zgf"),
        ("单雄信", "sxx"),
        ("尉迟恭", "ycg"),
        ("𠮷祥", "jx"),
        ("王𠮷", "wj"),
        ("John Smith", "js"),
        ("长孙无忌", "zswj"),
        ("解缙", "xj"),
        ("仇英", "qy"),
    ],
)
def test_surname_readings_and_rare_characters(name: str, initials: str) -> None:
    assert name_initials(name) == initials


def test_unknown_category_and_channel() -> None:
    p = problems(category="吵架", channel="fax")
    assert p["category"] == "纠纷类别“吵架”不在类别目录中"
    assert "来源渠道“fax”无效" in p["channel"]


def test_every_channel_by_code_and_label() -> None:
    for ch in Channel:
        assert check(channel=ch.value).channel is ch  # type: ignore[attr-defined]
        assert check(channel=ch.label).channel is ch  # type: ignore[attr-defined]


@pytest.mark.parametrize("n", [5, 30])
def test_five_or_more_is_a_group_visit(n: int) -> None:
    assert RiskFlag.GROUP_VISIT in check(headcount=n).risk_flags  # type: ignore[attr-defined]


def test_four_is_not_a_group_visit() -> None:
    assert RiskFlag.GROUP_VISIT not in check(headcount=4).risk_flags  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("raw", "msg"),
    [
        (0, "至少为1"),
        (-3, "至少为1"),
        ("abc", "须为整数"),
        (1.5, "须为整数"),
        (10000, "不能超过9999"),
        (True, "须为整数"),
    ],
)
def test_bad_headcount(raw: object, msg: str) -> None:
    assert msg in problems(headcount=raw)["headcount"]


def test_full_width_headcount() -> None:
    assert check(headcount="６").headcount == 6  # type: ignore[attr-defined]


def test_narrative_rules() -> None:
    assert problems(narrative="   ")["narrative"] == "请填写纠纷事由"
    assert "最多2000字，现为2001字" in problems(narrative="纠" * 2001)["narrative"]
    assert check(narrative="𠮷" * 2000).narrative == "𠮷" * 2000  # type: ignore[attr-defined]
    msg = problems(narrative="对方\x00拒绝")["narrative"]
    assert "第3个字符" in msg and "U+0000" in msg
    assert "U+001B" in problems(narrative="欠薪\x1b[31m")["narrative"]
    assert "U+0009" in problems(narrative="欠薪\t三个月")["narrative"]


def test_narrative_keeps_line_breaks_emoji_and_sql_exactly() -> None:
    text = "第一行\n第二行😡\n'); DROP TABLE cases; --"
    assert check(narrative=text).narrative == text  # type: ignore[attr-defined]
    assert check(narrative="一\r\n二").narrative == "一\n二"  # type: ignore[attr-defined]


def test_risk_flags_by_code_and_label_and_bad_flag() -> None:
    v = check(risk_flags=["psychological_crisis", "民转刑苗头"])
    assert v.risk_flags == {RiskFlag.PSYCHOLOGICAL_CRISIS, RiskFlag.CIVIL_TO_CRIMINAL}  # type: ignore[attr-defined]
    assert "风险标记“angry”无效" in problems(risk_flags=["angry"])["risk_flags[0]"]


def test_parties_rules() -> None:
    assert problems(parties=[])["parties"] == "请至少登记一名申请人"
    only_resp = [{"role": "respondent", "name": "李四"}]
    assert problems(parties=only_resp)["parties"] == "当事人中须至少有一名申请人"
    p = visit()["parties"][0]  # type: ignore[index]
    assert "出现了两次" in problems(parties=[p, dict(p, role="respondent")])["parties"]


def test_all_problems_at_once_with_party_paths() -> None:
    p = problems(
        category="",
        narrative="",
        parties=[
            {"role": "applicant", "name": "张三", "id_number": "123"},
            {"role": "respondent", "name": "李4"},
        ],
    )
    assert set(p) == {"category", "narrative", "parties[0].id_number", "parties[1].name"}
