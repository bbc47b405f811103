"""The working-day calendar: the shipped 2025 and 2026 schedules, make-up days, gaps and bad year files."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from desk.config import RESOURCES
from desk.core.calendar import CalendarGap, WorkCalendar
from desk.errors import DeskError

D = dt.date
CAL = WorkCalendar.load(RESOURCES / "calendar")


def test_the_shipped_years_and_their_totals() -> None:
    assert CAL.years == (2025, 2026)
    # 2026: 261 weekdays - 19 weekdays off + 6 make-up days; 2025: 261 - 18 + 5.
    assert CAL.working_days_in(2026) == 248
    assert CAL.working_days_in(2025) == 248
    assert "2025年11月4日" in CAL.schedule(2026).source


@pytest.mark.parametrize(
    "day", [D(2026, 1, 4), D(2026, 2, 14), D(2026, 2, 28), D(2026, 5, 9), D(2026, 9, 20), D(2026, 10, 10)]
)
def test_make_up_weekend_days_are_working_days(day: dt.date) -> None:
    assert day.weekday() >= 5
    assert CAL.is_working_day(day)
    assert CAL.is_makeup_workday(day)
    assert not CAL.is_holiday(day)


def test_spring_festival_and_national_day_2026_are_off() -> None:
    for d in range(15, 24):
        assert CAL.is_holiday(D(2026, 2, d)) and not CAL.is_working_day(D(2026, 2, d))
        assert CAL.holiday_name(D(2026, 2, d)) == "春节"
    for d in range(1, 8):
        assert CAL.is_holiday(D(2026, 10, d)) and not CAL.is_working_day(D(2026, 10, d))
    assert CAL.is_working_day(D(2026, 2, 24)) and CAL.is_working_day(D(2026, 10, 8))
    # An ordinary weekend is a rest day but not a holiday.
    assert not CAL.is_working_day(D(2026, 3, 7)) and not CAL.is_holiday(D(2026, 3, 7))
    assert CAL.holiday_name(D(2026, 3, 9)) is None


def test_add_working_days_across_a_weekend() -> None:
    assert CAL.add_working_days(D(2026, 3, 6), 1) == D(2026, 3, 9)  # Friday + 1 = Monday
    assert CAL.add_working_days(D(2026, 3, 7), 1) == D(2026, 3, 9)  # from a Saturday
    assert CAL.add_working_days(D(2026, 3, 6), 0) == D(2026, 3, 6)
    assert CAL.next_working_day(D(2026, 3, 9)) == D(2026, 3, 10)
    with pytest.raises(ValueError):
        CAL.add_working_days(D(2026, 3, 6), -1)


def test_add_working_days_across_spring_festival_counts_the_make_up_saturdays() -> None:
    assert CAL.add_working_days(D(2026, 2, 13), 1) == D(2026, 2, 14)  # Friday → make-up Saturday
    assert CAL.add_working_days(D(2026, 2, 14), 1) == D(2026, 2, 24)  # then nine days off
    assert CAL.add_working_days(D(2026, 2, 13), 5) == D(2026, 2, 27)
    assert CAL.add_working_days(D(2026, 2, 13), 6) == D(2026, 2, 28)  # make-up Saturday
    assert CAL.add_working_days(D(2026, 2, 13), 7) == D(2026, 3, 2)


def test_add_working_days_across_national_day() -> None:
    assert CAL.add_working_days(D(2026, 9, 18), 1) == D(2026, 9, 20)  # Friday → make-up Sunday
    assert CAL.add_working_days(D(2026, 9, 30), 1) == D(2026, 10, 8)
    assert CAL.add_working_days(D(2026, 10, 9), 1) == D(2026, 10, 10)  # make-up Saturday
    assert CAL.add_working_days(D(2026, 10, 10), 1) == D(2026, 10, 12)


def test_across_the_new_year_into_the_next_file() -> None:
    # 2026-01-01..03 are off and Sunday 01-04 is a make-up working day.
    assert CAL.add_working_days(D(2025, 12, 31), 1) == D(2026, 1, 4)
    assert CAL.working_days_between(D(2025, 12, 30), D(2026, 1, 5)) == 3


def test_a_day_past_the_calendar_raises_a_loud_gap_never_a_guess() -> None:
    assert CAL.covers(D(2026, 12, 31)) and not CAL.covers(D(2027, 1, 4)) and not CAL.covers(D(2024, 12, 31))
    with pytest.raises(CalendarGap) as e:
        CAL.is_working_day(D(2027, 1, 4))
    assert e.value.year == 2027
    assert "2027 年的节假日安排尚未录入" in e.value.message and "2027.json" in e.value.message
    assert str(RESOURCES / "calendar") in e.value.message
    with pytest.raises(CalendarGap):
        CAL.add_working_days(D(2026, 12, 31), 1)
    with pytest.raises(CalendarGap):
        CAL.is_holiday(D(2024, 10, 1))
    assert isinstance(e.value, DeskError)


DAYS = st.dates(min_value=D(2025, 1, 1), max_value=D(2026, 9, 30))  # 60 working days stay inside 2026


@settings(database=None, max_examples=200, deadline=None)
@given(start=DAYS, n=st.integers(0, 30), m=st.integers(0, 30))
def test_add_working_days_invariants(start: dt.date, n: int, m: int) -> None:
    end = CAL.add_working_days(start, n)
    assert CAL.working_days_between(start, end) == n
    if n:
        assert end > start and CAL.is_working_day(end)
        # Nothing between the (n-1)-th and the n-th is a working day.
        prev = CAL.add_working_days(start, n - 1)
        assert CAL.working_days_between(prev, end - dt.timedelta(days=1)) == 0
    assert CAL.add_working_days(end, m) == CAL.add_working_days(start, n + m)


# --- the admin's files ------------------------------------------------------------------------------------------


def year_file(year: int = 2027, **changes: object) -> dict[str, object]:
    data: dict[str, object] = {
        "year": year,
        "source": "国务院办公厅关于2027年部分节假日安排的通知",
        "holidays": [
            {"name": "元旦", "days_off": [f"{year}-01-01"], "makeup_workdays": []},
            {
                "name": "国庆节",
                "days_off": [f"{year}-10-01", f"{year}-10-04"],
                "makeup_workdays": [f"{year}-10-09"],
            },
        ],
    }
    data.update(changes)
    return data


def write(tmp_path: Path, name: str, data: object) -> Path:
    (tmp_path / name).write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return tmp_path


def test_an_admin_adds_a_year(tmp_path: Path) -> None:
    # 2027-10-09 is a Saturday; 10-04 a Monday.
    cal = WorkCalendar.load(write(tmp_path, "2027.json", year_file()))
    assert cal.years == (2027,)
    assert cal.is_working_day(D(2027, 10, 9)) and not cal.is_working_day(D(2027, 10, 4))
    assert cal.add_working_days(D(2027, 10, 1), 1) == D(2027, 10, 5)


def test_an_empty_directory_covers_nothing(tmp_path: Path) -> None:
    cal = WorkCalendar.load(tmp_path)
    assert cal.years == ()
    with pytest.raises(CalendarGap):
        cal.is_working_day(D(2026, 3, 2))


@pytest.mark.parametrize(
    ("name", "data", "says"),
    [
        ("2027.json", "{not json", "不是有效的 JSON"),
        ("2027.json", [], "应为一个对象"),
        ("next.json", year_file(), "文件名应为四位年份"),
        ("2028.json", year_file(), "与文件名不符"),
        ("2027.json", year_file(extra=1), "未知的键“extra”"),
        ("2027.json", year_file(source=""), "缺少 source"),
        ("2027.json", year_file(holidays=[]), "缺少 holidays"),
        ("2027.json", year_file(holidays=[{"name": "春节", "days_off": ["2027-02-30"]}]), "“2027-02-30”不是"),
        ("2027.json", year_file(holidays=[{"name": "春节", "days_off": ["2029-02-01"]}]), "不在 2027 年"),
        ("2027.json", year_file(holidays=[{"name": "春节", "days_off": []}]), "days_off 不能为空"),
        (
            "2027.json",
            year_file(
                holidays=[{"name": "春节", "days_off": ["2027-02-08"], "makeup_workdays": ["2027-02-10"]}]
            ),
            "本来就是工作日",
        ),
        (
            "2027.json",
            year_file(
                holidays=[
                    {"name": "a", "days_off": ["2027-02-08"]},
                    {"name": "b", "days_off": ["2027-02-08"]},
                ]
            ),
            "重复出现",
        ),
        ("2027.json", year_file(working_days=250), "按其放假和调休日期数得"),
    ],
)
def test_a_bad_year_file_is_refused_with_its_name(tmp_path: Path, name: str, data: object, says: str) -> None:
    write(tmp_path, name, data)
    with pytest.raises(DeskError) as e:
        WorkCalendar.load(tmp_path)
    assert says in e.value.message
    assert name in e.value.message or "2027.json" in e.value.message


def test_a_day_off_in_one_file_and_a_make_up_day_in_another_is_refused(tmp_path: Path) -> None:
    late = {"name": "元旦", "days_off": ["2027-12-24"], "makeup_workdays": ["2027-12-25"]}
    write(tmp_path, "2027.json", year_file(holidays=[late]))
    # The 2028 file reaches back into 2027 (as 元旦 2024 began on 2023-12-30) and contradicts it.
    clash = year_file(2028, holidays=[{"name": "元旦", "days_off": ["2027-12-25", "2028-01-01"]}])
    with pytest.raises(DeskError, match="2027-12-25 既是放假日又是调休上班日"):
        WorkCalendar.load(write(tmp_path, "2028.json", clash))


def test_a_missing_directory_is_named(tmp_path: Path) -> None:
    with pytest.raises(DeskError, match="找不到节假日日历目录"):
        WorkCalendar.load(tmp_path / "nowhere")
