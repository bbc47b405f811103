"""Legal time limits counted by the Civil Code over the 2026 calendar: months, days, working days, pauses,
extensions, warnings and the whistle's clocks."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from desk.config import RESOURCES
from desk.core.calendar import CalendarGap, WorkCalendar
from desk.core.clock import CHINA_TZ
from desk.core.deadlines import (
    DeadlineAlert,
    DeadlineRule,
    DeadlineUnit,
    add_months,
    check_extension,
    due_date,
    end_of_day,
    extend,
    load_deadline_rules,
    progress,
    resume,
    rule_for,
    thresholds_crossed,
    whistle_clocks,
)
from desk.errors import DeskError

D = dt.date
CAL = WorkCalendar.load(RESOURCES / "calendar")
RULES = load_deadline_rules(
    RESOURCES / "catalog" / "deadline_rules.json",
    categories=[
        c["code"] for c in json.loads((RESOURCES / "catalog" / "categories.json").read_text())["categories"]
    ],
)
MEDIATION = RULES.rules["people_mediation"]
PETITION = RULES.rules["petition"]
COURT = RULES.rules["court_pre_litigation"]
HOTLINE = RULES.rules["hotline_12345"]


def china(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, second, tzinfo=CHINA_TZ)


# --- where the limit comes from ---------------------------------------------------------------------------------


def test_the_default_rules_have_their_own_units() -> None:
    assert (MEDIATION.amount, MEDIATION.unit) == (1, DeadlineUnit.MONTHS)
    assert (PETITION.amount, PETITION.unit, PETITION.extension_max) == (60, DeadlineUnit.DAYS, 30)
    assert (COURT.amount, COURT.unit) == (30, DeadlineUnit.DAYS)
    assert (HOTLINE.amount, HOTLINE.unit) == (15, DeadlineUnit.WORKING_DAYS)
    assert "第三十三条" in MEDIATION.basis
    assert PETITION.describe() == "信访事项办理 60日（经批准可延长不超过30日）"


def test_rule_for_channel_then_category() -> None:
    assert rule_for("walk_in", "neighbour", RULES) is MEDIATION
    assert rule_for("petition", "neighbour", RULES) is PETITION
    assert rule_for("court_pre_litigation", None, RULES) is COURT
    assert rule_for("hotline_12345", "consumer", RULES) is HOTLINE
    # A labour dispute at the hall: the Labour Dispute Mediation and Arbitration Law's 15 days; as a petition,
    # still the petition rule, since the override names its channels.
    assert rule_for("walk_in", "labour", RULES).code == "labour_mediation"
    assert rule_for("petition", "labour", RULES) is PETITION


def test_a_work_order_brings_its_own_limit() -> None:
    rule = rule_for("hotline_12345", "consumer", RULES, order_limit=(5, DeadlineUnit.WORKING_DAYS))
    assert (rule.code, rule.amount, rule.unit) == ("hotline_12345.order", 5, DeadlineUnit.WORKING_DAYS)
    with pytest.raises(DeskError, match="正整数"):
        rule_for("hotline_12345", None, RULES, order_limit=(0, DeadlineUnit.DAYS))


# --- counting: months -------------------------------------------------------------------------------------------


def test_month_arithmetic_by_art_202() -> None:
    assert add_months(D(2026, 1, 31), 1) == D(2026, 2, 28)
    assert add_months(D(2028, 1, 31), 1) == D(2028, 2, 29)  # leap year: arithmetic alone, no calendar needed
    assert add_months(D(2026, 3, 31), 1) == D(2026, 4, 30)
    assert add_months(D(2026, 12, 15), 1) == D(2027, 1, 15)
    assert add_months(D(2026, 8, 31), 6) == D(2027, 2, 28)


def test_jan_31_plus_one_month_ends_on_feb_28_a_make_up_saturday() -> None:
    # 2026-02-28 is a Saturday, but a make-up working day: the period ends there.
    assert due_date(D(2026, 1, 31), MEDIATION, CAL) == D(2026, 2, 28)


def test_a_month_ending_on_a_holiday_moves_to_the_next_working_day() -> None:
    assert due_date(D(2026, 1, 16), MEDIATION, CAL) == D(2026, 2, 24)  # 02-16 is 春节
    assert due_date(D(2026, 9, 1), MEDIATION, CAL) == D(2026, 10, 8)  # 10-01 is 国庆
    assert due_date(D(2026, 3, 15), MEDIATION, CAL) == D(2026, 4, 15)  # an ordinary Wednesday


# --- counting: days ---------------------------------------------------------------------------------------------


def test_the_first_day_is_not_counted() -> None:
    assert due_date(D(2026, 3, 2), COURT, CAL) == D(2026, 4, 1)  # 30 days after a Monday: a Wednesday


def test_a_limit_ending_on_an_ordinary_saturday_ends_on_monday() -> None:
    # Art. 203's 法定休假日 includes the weekly rest days.
    assert D(2026, 7, 4).weekday() == 5
    assert due_date(D(2026, 6, 4), COURT, CAL) == D(2026, 7, 6)


def test_a_limit_ending_in_spring_festival_ends_after_it() -> None:
    assert due_date(D(2026, 1, 17), COURT, CAL) == D(2026, 2, 24)  # 02-16 → the day after 02-15..23


def test_a_petition_ending_on_national_day_ends_on_oct_8() -> None:
    assert due_date(D(2026, 8, 2), PETITION, CAL) == D(2026, 10, 8)  # 60 days → 10-01


def test_a_limit_ending_on_a_make_up_sunday_ends_there() -> None:
    assert D(2026, 9, 20).weekday() == 6
    assert due_date(D(2026, 8, 21), COURT, CAL) == D(2026, 9, 20)


# --- counting: working days -------------------------------------------------------------------------------------


def test_working_days_across_spring_festival_count_the_make_up_days() -> None:
    # Feb 11 12 13 14(Sat, 调休) 24 25 26 27 28(Sat, 调休), Mar 2 3 4 5 6 9.
    assert due_date(D(2026, 2, 10), HOTLINE, CAL) == D(2026, 3, 9)


def test_working_days_across_national_day() -> None:
    # Sep 28 29 30, Oct 8 9 10(Sat, 调休) 12 13 14 15 16 19 20 21 22.
    assert due_date(D(2026, 9, 25), HOTLINE, CAL) == D(2026, 10, 22)


# --- past the calendar ------------------------------------------------------------------------------------------


def test_a_deadline_past_the_calendar_raises_calendar_gap() -> None:
    with pytest.raises(CalendarGap) as e:
        due_date(D(2026, 12, 15), MEDIATION, CAL)
    assert "2027" in e.value.message
    with pytest.raises(CalendarGap):
        due_date(D(2026, 12, 14), HOTLINE, CAL)  # 13 working days left in 2026
    with pytest.raises(CalendarGap):
        due_date(D(2026, 11, 5), PETITION, CAL)


def test_a_start_before_the_calendar_is_fine_when_the_end_is_inside() -> None:
    assert due_date(D(2024, 12, 20), COURT, CAL) == D(2025, 1, 20)  # 01-19 is a Sunday


# --- pause and resume -------------------------------------------------------------------------------------------


def test_a_paused_day_limit_gets_the_paused_days_back() -> None:
    due = due_date(D(2026, 3, 2), COURT, CAL)  # 04-01
    # Waiting 10 days for an appraisal: the 04-11 that follows is a Saturday, so Monday.
    assert resume(due, D(2026, 3, 10), D(2026, 3, 20), COURT, CAL) == D(2026, 4, 13)
    # Paused and resumed the same day: nothing changes.
    assert resume(due, D(2026, 3, 10), D(2026, 3, 10), COURT, CAL) == due


def test_a_paused_month_limit_counts_calendar_days() -> None:
    due = due_date(D(2026, 3, 15), MEDIATION, CAL)  # 04-15
    assert resume(due, D(2026, 4, 1), D(2026, 4, 8), MEDIATION, CAL) == D(2026, 4, 22)


def test_a_paused_working_day_limit_gets_the_working_days_that_were_left() -> None:
    due = due_date(D(2026, 2, 2), HOTLINE, CAL)  # Feb 3..13 (9), 14 (调休), 24..27, 28 (调休)
    assert due == D(2026, 2, 28)
    # Paused on 02-11 with 02-12 13 14 24 25 26 27 28 left (8); resumed 03-02: 03 04 05 06 09 10 11 12.
    assert resume(due, D(2026, 2, 11), D(2026, 3, 2), HOTLINE, CAL) == D(2026, 3, 12)


def test_a_limit_already_run_out_when_paused_is_not_given_time_back() -> None:
    assert resume(D(2026, 4, 1), D(2026, 4, 3), D(2026, 4, 20), COURT, CAL) == D(2026, 4, 1)


def test_resuming_before_the_pause_is_refused() -> None:
    with pytest.raises(DeskError, match="早于中止日期"):
        resume(D(2026, 4, 1), D(2026, 3, 10), D(2026, 3, 9), COURT, CAL)


# --- extension --------------------------------------------------------------------------------------------------


def test_a_petition_extended_by_30_days() -> None:
    due = due_date(D(2026, 3, 2), PETITION, CAL)  # 05-01 is 劳动节 → 05-06
    assert due == D(2026, 5, 6)
    check_extension(PETITION, 30)
    assert extend(due, 30, PETITION.extends_in, CAL) == D(2026, 6, 5)
    # An extension ending in the Dragon Boat holiday (06-19..21) moves to 06-22.
    assert extend(D(2026, 6, 9), 10, DeadlineUnit.DAYS, CAL) == D(2026, 6, 22)


def test_extensions_in_months_and_working_days() -> None:
    assert extend(D(2026, 1, 31), 1, DeadlineUnit.MONTHS, CAL) == D(2026, 2, 28)
    assert extend(D(2026, 2, 13), 2, DeadlineUnit.WORKING_DAYS, CAL) == D(2026, 2, 24)


def test_an_extension_the_rule_does_not_allow_is_refused() -> None:
    with pytest.raises(DeskError, match="最多可延长 30日，已延长 20日，本次最多 10日"):
        check_extension(PETITION, 15, already=20)
    with pytest.raises(DeskError, match="“劳动争议调解”的期限不能延长"):
        check_extension(RULES.rules["labour_mediation"], 5)
    with pytest.raises(DeskError, match="正整数"):
        check_extension(PETITION, 0)
    with pytest.raises(DeskError, match="正整数"):
        extend(D(2026, 3, 2), 0, DeadlineUnit.DAYS, CAL)


# --- warnings ---------------------------------------------------------------------------------------------------

START = china(2026, 3, 2, 9)
DUE = china(2026, 3, 12, 9)  # ten days


def test_progress_of_a_running_limit() -> None:
    assert progress(START, DUE, START) == 0.0
    assert progress(START, DUE, china(2026, 3, 8, 9)) == pytest.approx(0.6)
    assert progress(START, DUE, DUE) == pytest.approx(1.0)
    assert progress(START, DUE, china(2026, 3, 17, 9)) == pytest.approx(1.5)
    assert progress(START, DUE, china(2026, 3, 1)) == 0.0


def test_a_running_pause_stops_the_clock_and_a_finished_one_is_taken_off() -> None:
    paused = [(china(2026, 3, 4, 9), None)]
    assert progress(START, DUE, china(2026, 3, 10, 9), paused) == pytest.approx(0.2)
    # Resumed after 4 days, and the service moved the due date on by them: 6 of 10 days used.
    finished = [(china(2026, 3, 4, 9), china(2026, 3, 8, 9))]
    later_due = DUE + dt.timedelta(days=4)
    assert progress(START, later_due, china(2026, 3, 12, 9), finished) == pytest.approx(0.6)


def test_thresholds_crossed() -> None:
    assert thresholds_crossed(0.0, 0.59) == ()
    assert thresholds_crossed(0.5, 0.85) == (DeadlineAlert.PCT60, DeadlineAlert.PCT80)
    assert thresholds_crossed(0.6, 0.7) == ()  # 60% was raised by the reading that reached it
    assert thresholds_crossed(0.95, 1.0) == ()  # the due moment itself is not yet overdue
    assert thresholds_crossed(0.95, 1.01) == (DeadlineAlert.OVERDUE,)
    assert thresholds_crossed(0.0, 3.0) == tuple(DeadlineAlert)
    assert DeadlineAlert.OVERDUE.warning_level == "serious" and DeadlineAlert.PCT60.warning_level == "general"
    assert DeadlineAlert.PCT90.label == "办理期限已用去90%"


def test_the_due_day_runs_out_at_its_end_china_time() -> None:
    assert end_of_day(D(2026, 3, 12)) == dt.datetime(2026, 3, 12, 15, 59, 59, tzinfo=dt.UTC)


# --- the whistle's clocks ---------------------------------------------------------------------------------------


def test_whistle_clocks_across_a_weekend() -> None:
    blown = china(2026, 3, 6, 15)  # a Friday afternoon
    sign_by, arrive_by, report_by = whistle_clocks(blown, False, CAL, RULES)
    assert sign_by == china(2026, 3, 6, 16) and sign_by.tzinfo is dt.UTC
    assert arrive_by == china(2026, 3, 7, 15)  # hours run through the weekend
    assert report_by == china(2026, 3, 11, 23, 59, 59)  # Mon, Tue, Wed
    assert whistle_clocks(blown, True, CAL, RULES).report_by == china(2026, 3, 13, 23, 59, 59)


def test_whistle_clocks_across_national_day_count_the_make_up_saturday() -> None:
    clocks = whistle_clocks(china(2026, 9, 30, 10), False, CAL, RULES)
    assert clocks.report_by == china(2026, 10, 10, 23, 59, 59)  # Oct 8, 9, 10 (调休)
    assert whistle_clocks(china(2026, 9, 30, 10), True, CAL, RULES).report_by == china(
        2026, 10, 13, 23, 59, 59
    )


def test_whistle_report_counts_from_the_china_day_it_was_blown() -> None:
    # 17:30 UTC on 02-13 is 01:30 on Saturday 02-14 in China, a make-up working day: Feb 24, 25, 26.
    blown = dt.datetime(2026, 2, 13, 17, 30, tzinfo=dt.UTC)
    assert whistle_clocks(blown, False, CAL, RULES).report_by == china(2026, 2, 26, 23, 59, 59)


def test_whistle_clocks_past_the_calendar_raise_calendar_gap() -> None:
    with pytest.raises(CalendarGap):
        whistle_clocks(china(2026, 12, 29, 10), True, CAL, RULES)


# --- the rules file ---------------------------------------------------------------------------------------------


def rules_file(tmp_path: Path, data: object) -> Path:
    path = tmp_path / "deadline_rules.json"
    path.write_text(data if isinstance(data, str) else json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def minimal(**changes: object) -> dict[str, object]:
    data: dict[str, object] = {
        "rules": [{"code": "m", "label": "人民调解", "amount": 1, "unit": "months"}],
        "default": "m",
    }
    data.update(changes)
    return data


def test_a_minimal_rules_file_takes_the_whistle_defaults(tmp_path: Path) -> None:
    rules = load_deadline_rules(rules_file(tmp_path, minimal()))
    assert rule_for("petition", "labour", rules) == DeadlineRule("m", "人民调解", 1, DeadlineUnit.MONTHS)
    assert (rules.whistle.sign_hours, rules.whistle.arrive_hours) == (1, 24)
    assert (rules.whistle.report_working_days, rules.whistle.report_working_days_complex) == (3, 5)


@pytest.mark.parametrize(
    ("data", "says"),
    [
        ("{", "不是有效的 JSON"),
        (minimal(rule=[]), "未知的键“rule”"),
        (minimal(rules=[]), "缺少 rules"),
        (
            minimal(rules=[{"code": "m", "label": "x", "amount": 1, "unit": "weeks"}]),
            "unit 应为 months、days",
        ),
        (minimal(rules=[{"code": "m", "label": "x", "amount": 0, "unit": "days"}]), "amount 应为正整数"),
        (minimal(rules=[{"code": "m", "label": "x", "amount": True, "unit": "days"}]), "amount 应为正整数"),
        (minimal(rules=[{"code": "m", "label": "", "amount": 1, "unit": "days"}]), "label 不能为空"),
        (minimal(default="x"), "引用的规则“x”不存在"),
        (minimal(channels={"walkin": "m"}), "来源渠道“walkin”无效"),
        (minimal(channels={"walk_in": "n"}), "channels.walk_in 引用的规则“n”不存在"),
        (minimal(overrides=[{"category": "nosuch", "rule": "m"}]), "类别“nosuch”不在类别目录中"),
        (
            minimal(overrides=[{"category": "labour", "rule": "m", "channels": ["x"]}]),
            "channels 应为来源渠道列表",
        ),
        (minimal(whistle={"sign_hours": -1}), "whistle.sign_hours 应为正整数"),
        (minimal(whistle={"sign_minutes": 30}), "未知的键“sign_minutes”"),
    ],
)
def test_a_bad_rules_file_is_refused_with_its_name(tmp_path: Path, data: object, says: str) -> None:
    with pytest.raises(DeskError) as e:
        load_deadline_rules(rules_file(tmp_path, data), categories=["labour"])
    assert says in e.value.message
    assert "deadline_rules.json" in e.value.message


def test_a_missing_rules_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(DeskError, match="找不到期限规则文件"):
        load_deadline_rules(tmp_path / "deadline_rules.json")
