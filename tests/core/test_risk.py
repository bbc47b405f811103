"""Risk flags, crisis words, risk levels and where a person in crisis goes."""

from __future__ import annotations

from pathlib import Path

import pytest

from desk.config import RESOURCES
from desk.core.cases import RiskFlag
from desk.core.risk import (
    BUNDLED_RESOURCES,
    LEVEL_RULE,
    RiskLevel,
    auto_flags,
    bundled_crisis_words,
    crisis_words,
    load_crisis_words,
    parse_crisis_words,
    risk_level,
)
from desk.core.routing import crisis_room
from desk.errors import DeskError
from tests.core.test_routing_queue import room

F = RiskFlag
REQUIRED_WORDS = (
    "自杀",
    "轻生",
    "不想活",
    "活不下去",
    "同归于尽",
    "报复",
    "跳楼",
    "喝农药",
    "寻死",
    "一了百了",
    "杀了他",
    "弄死",
)


# --- the word list ------------------------------------------------------------------------------------------


def test_the_bundled_list_holds_the_words_the_issue_names() -> None:
    assert BUNDLED_RESOURCES == RESOURCES
    words = bundled_crisis_words()
    assert set(REQUIRED_WORDS) <= set(words)
    assert all(w and "#" not in w and w == w.strip() for w in words)


def test_parsing_skips_comments_blank_lines_and_repeats() -> None:
    text = "# 注释\n\n自杀  # 行尾注释\n  轻生\n自杀\n自 杀\n"
    assert parse_crisis_words(text) == ("自杀", "轻生")


def test_loading_names_the_file_when_it_is_missing_empty_or_not_text(tmp_path: Path) -> None:
    with pytest.raises(DeskError, match="找不到心理危机词表 .*crisis_words.txt"):
        load_crisis_words(tmp_path)
    (tmp_path / "risk").mkdir()
    path = tmp_path / "risk" / "crisis_words.txt"
    path.write_text("# 只有注释\n", encoding="utf-8")
    with pytest.raises(DeskError, match="中没有词语"):
        load_crisis_words(tmp_path)
    path.write_bytes("自杀".encode("gbk"))
    with pytest.raises(DeskError, match="UTF-8"):
        load_crisis_words(tmp_path)
    path.write_text("想不开\n", encoding="utf-8")
    assert load_crisis_words(tmp_path) == ("想不开",)


# --- matching -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("narrative", "found"),
    [
        ("因欠薪三个月，申请人称活不下去了，要去跳楼", ("活不下去", "跳楼")),
        ("申请人称没有想过自杀，只想要回工钱", ("自杀",)),  # a negation still raises: a person judges
        ("他说不会轻生", ("轻生",)),
        ("对方扬言要报复，还说要杀了他全家", ("报复", "杀了他")),
        ("说要 喝 农 药", ("喝农药",)),  # spaces typed in between
        ("邻居家漏水，要求赔偿维修费用", ()),
    ],
)
def test_crisis_words_in_a_narrative(narrative: str, found: tuple[str, ...]) -> None:
    assert crisis_words(narrative) == found


def test_crisis_words_are_listed_once_in_the_order_they_appear() -> None:
    words = ("同归于尽", "自杀", "想死")
    assert crisis_words("想死，想自杀，再自杀，同归于尽", words) == ("想死", "自杀", "同归于尽")
    assert crisis_words("ＡＢＣ 自杀", ("abc",)) == ("abc",)  # full-width and case do not matter
    assert crisis_words("任何事由", ("",)) == ()  # an empty word never matches


# --- automatic flags ----------------------------------------------------------------------------------------


def test_group_visit_from_five_people() -> None:
    assert auto_flags(4, "邻里纠纷", False, 1) == frozenset()
    assert auto_flags(5, "邻里纠纷", False, 1) == {F.GROUP_VISIT}


def test_repeat_visit_about_an_open_case_or_the_third_visit_in_90_days() -> None:
    assert auto_flags(1, "邻里纠纷", True, 1) == {F.REPEAT_VISIT}
    assert auto_flags(1, "邻里纠纷", False, 2) == frozenset()
    assert auto_flags(1, "邻里纠纷", False, 3) == {F.REPEAT_VISIT}


def test_crisis_words_raise_psychological_crisis() -> None:
    assert auto_flags(1, "没有想过自杀", False, 0) == {F.PSYCHOLOGICAL_CRISIS}
    assert auto_flags(6, "大家都活不下去了", True, 0) == {
        F.GROUP_VISIT,
        F.REPEAT_VISIT,
        F.PSYCHOLOGICAL_CRISIS,
    }
    assert auto_flags(1, "想不开", False, 0, words=("想不开",)) == {F.PSYCHOLOGICAL_CRISIS}


def test_auto_flags_refuses_impossible_counts() -> None:
    with pytest.raises(ValueError):
        auto_flags(0, "x", False, 0)
    with pytest.raises(ValueError):
        auto_flags(1, "x", False, -1)


# --- levels -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("flags", "headcount", "level"),
    [
        ((), 1, None),
        ((F.REPEAT_VISIT,), 1, RiskLevel.GENERAL),
        ((F.GROUP_VISIT,), 5, RiskLevel.MAJOR),
        ((F.GROUP_VISIT,), 19, RiskLevel.MAJOR),
        ((F.GROUP_VISIT,), 20, RiskLevel.SERIOUS),
        ((F.GROUP_VISIT, F.REPEAT_VISIT), 5, RiskLevel.SERIOUS),
        ((F.CIVIL_TO_CRIMINAL,), 1, RiskLevel.SERIOUS),
        ((F.EXTREME_BEHAVIOUR,), 1, RiskLevel.SERIOUS),
        ((F.PSYCHOLOGICAL_CRISIS,), 1, RiskLevel.SERIOUS),
        ((F.REPEAT_VISIT, F.PSYCHOLOGICAL_CRISIS), 1, RiskLevel.SERIOUS),
        (("repeat_visit", "a_flag_from_a_newer_version"), 1, RiskLevel.GENERAL),
        (("a_flag_from_a_newer_version",), 1, None),
    ],
)
def test_risk_level(flags: tuple[str, ...], headcount: int, level: RiskLevel | None) -> None:
    assert risk_level(flags, headcount=headcount) == level


def test_the_level_rule_is_stated_in_chinese() -> None:
    assert [lv.label for lv in RiskLevel] == ["一般", "较大", "重大"]
    for words in ("重大", "较大", "一般", "民转刑", "极端行为", "心理危机", "20人", "重复访", "集体访"):
        assert words in LEVEL_RULE


# --- a person in crisis -------------------------------------------------------------------------------------


def test_crisis_goes_to_the_open_counselling_room_without_a_warning() -> None:
    rooms = [
        room("R01", position=1),
        room("R03", kind="心理咨询室", waiting=2, position=3),
        room("R09", kind="心理咨询室", waiting=0, position=9),
    ]
    got = crisis_room(rooms)
    assert got.room is not None and got.room.code == "R09" and got.warning is None


def test_crisis_goes_to_the_room_free_soonest_when_counselling_is_closed() -> None:
    rooms = [
        room("R01", waiting=3, position=1),
        room("R02", cats=("contract",), waiting=0, position=2),  # another category: still the freest room
        room("R03", kind="心理咨询室", is_open=False, position=3),
        room("R04", waiting=0, position=4, is_open=False),
    ]
    got = crisis_room(rooms)
    assert got.room is not None and got.room.code == "R02"
    assert got.warning == "心理咨询室未开放，已改派至R02室"


def test_crisis_with_no_open_room_says_what_to_do() -> None:
    got = crisis_room([room("R03", kind="心理咨询室", is_open=False)])
    assert got.room is None and got.warning is not None and "心理咨询室未开放" in got.warning
