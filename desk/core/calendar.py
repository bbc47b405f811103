"""The working-day calendar: weekends, statutory holidays and make-up working days (调休), read from year files.

Each year's schedule is published by the State Council every November, so it is data (`resources/calendar/YYYY.json`)
that an admin adds, never a rule in code. A day in a year without a file raises `CalendarGap`: a deadline is never
guessed (the `holidays` library, for one, extends later years by rule and misses their make-up days).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from desk.errors import DeskError

logger = logging.getLogger(__name__)

FILE_KEYS = frozenset({"_comment", "year", "source", "working_days", "holidays"})
HOLIDAY_KEYS = frozenset({"name", "days_off", "makeup_workdays"})
# A safety net for a day that is never a working day however far the holidays run (a year has under 30 days off).
_MAX_SCAN_DAYS = 400


class CalendarGap(DeskError):
    """A day in a year whose holiday schedule has not been entered: the deadline cannot be counted."""

    def __init__(self, year: int, directory: str) -> None:
        self.year = year
        super().__init__(
            f"{year} 年的节假日安排尚未录入，期限无法准确计算：请管理员在 {directory} 加入 {year}.json"
            f"（按国务院办公厅当年的放假通知填写，格式同已有年份的文件）"
        )


@dataclass(frozen=True)
class Holiday:
    """One line of the State Council's notice: the holiday, its days off and its make-up working days."""

    name: str
    days_off: tuple[dt.date, ...]
    makeup_workdays: tuple[dt.date, ...] = ()


@dataclass(frozen=True)
class YearSchedule:
    year: int
    source: str
    holidays: tuple[Holiday, ...]
    working_days: int | None = None  # the total the file states, checked against the count


class WorkCalendar:
    """Which days are working days, for the years it has schedules of."""

    def __init__(self, schedules: Iterable[YearSchedule], *, directory: str = "resources/calendar/") -> None:
        self._directory = directory
        self._schedules: dict[int, YearSchedule] = {}
        self._off: dict[dt.date, str] = {}
        self._makeup: dict[dt.date, str] = {}
        for s in schedules:
            if s.year in self._schedules:
                raise DeskError(f"节假日日历中 {s.year} 年出现了两次")
            self._schedules[s.year] = s
            for h in s.holidays:
                for d in h.days_off:
                    self._off[d] = h.name
                for d in h.makeup_workdays:
                    self._makeup[d] = h.name
        clash = sorted(set(self._off) & set(self._makeup))
        if clash:
            raise DeskError(f"节假日日历中 {clash[0].isoformat()} 既是放假日又是调休上班日")

    @classmethod
    def load(cls, directory: Path) -> WorkCalendar:
        """Every `YYYY.json` in `directory`, each checked; a bad file is refused with its name."""
        if not directory.is_dir():
            raise DeskError(f"找不到节假日日历目录 {directory}：请重新安装一厅通，或由管理员恢复该目录")
        schedules = [load_year_file(p) for p in sorted(directory.glob("*.json"))]
        shown = f"{directory}/"
        calendar = cls(schedules, directory=shown)
        for s in schedules:
            if s.working_days is not None:
                counted = calendar.working_days_in(s.year)
                if counted != s.working_days:
                    raise DeskError(
                        f"节假日日历文件 {directory / f'{s.year}.json'} 写明全年 {s.working_days} 个工作日，"
                        f"按其放假和调休日期数得 {counted} 个：请核对日期"
                    )
        logger.info("calendar loaded: years %s", ",".join(str(y) for y in calendar.years))
        return calendar

    @property
    def years(self) -> tuple[int, ...]:
        return tuple(sorted(self._schedules))

    def schedule(self, year: int) -> YearSchedule:
        self._check(year)
        return self._schedules[year]

    def covers(self, day: dt.date) -> bool:
        return day.year in self._schedules

    def _check(self, year: int) -> None:
        if year not in self._schedules:
            raise CalendarGap(year, self._directory)

    def is_holiday(self, day: dt.date) -> bool:
        """A day off of a statutory holiday (the weekend days inside its span too)."""
        self._check(day.year)
        return day in self._off

    def holiday_name(self, day: dt.date) -> str | None:
        self._check(day.year)
        return self._off.get(day)

    def is_makeup_workday(self, day: dt.date) -> bool:
        self._check(day.year)
        return day in self._makeup

    def is_working_day(self, day: dt.date) -> bool:
        self._check(day.year)
        if day in self._makeup:
            return True
        if day in self._off:
            return False
        return day.weekday() < 5

    def next_working_day(self, day: dt.date) -> dt.date:
        """The first working day after `day`."""
        return self.add_working_days(day, 1)

    def add_working_days(self, start: dt.date, n: int) -> dt.date:
        """The n-th working day after `start` (the first day is not counted); `start` itself when n is 0."""
        if n < 0:
            raise ValueError("n must not be negative")
        day = start
        left = n
        scanned = 0
        while left:
            day += dt.timedelta(days=1)
            scanned += 1
            if self.is_working_day(day):
                left -= 1
                scanned = 0
            elif (
                scanned > _MAX_SCAN_DAYS
            ):  # pragma: no cover - a calendar file cannot switch off a whole year
                raise DeskError("节假日日历中找不到下一个工作日：请核对日历文件")
        return day

    def working_days_between(self, after: dt.date, until: dt.date) -> int:
        """Working days d with after < d <= until (0 when until is not later)."""
        count = 0
        day = after
        while day < until:
            day += dt.timedelta(days=1)
            if self.is_working_day(day):
                count += 1
        return count

    def working_days_in(self, year: int) -> int:
        return self.working_days_between(dt.date(year - 1, 12, 31), dt.date(year, 12, 31))


def load_year_file(path: Path) -> YearSchedule:
    """One year's file, checked; every problem names the file."""
    where = f"节假日日历文件 {path}"
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise DeskError(f"{where} 不是 UTF-8 编码的文本") from None
    except json.JSONDecodeError as e:
        raise DeskError(f"{where} 不是有效的 JSON（第 {e.lineno} 行第 {e.colno} 列）") from None
    except OSError:
        raise DeskError(f"{where} 无法读取") from None
    return parse_year(raw, where=where, expected_year=_year_of_name(path, where))


def _year_of_name(path: Path, where: str) -> int:
    stem = path.stem
    if not (len(stem) == 4 and stem.isascii() and stem.isdigit()):
        raise DeskError(f"{where} 的文件名应为四位年份，如 2027.json")
    return int(stem)


def parse_year(raw: object, *, where: str, expected_year: int | None = None) -> YearSchedule:
    """A year's schedule from its JSON; `where` names the file in messages."""
    if not isinstance(raw, Mapping):
        raise DeskError(f"{where} 的内容应为一个对象（{{…}}）")
    unknown = sorted(set(raw) - FILE_KEYS)
    if unknown:
        raise DeskError(f"{where} 中有未知的键“{unknown[0]}”")
    year = raw.get("year")
    if not isinstance(year, int) or isinstance(year, bool) or not 2000 <= year <= 2100:
        raise DeskError(f"{where} 的 year 应为年份数字，如 2027")
    if expected_year is not None and year != expected_year:
        raise DeskError(f"{where} 写的是 {year} 年，与文件名不符")
    source = raw.get("source")
    if not isinstance(source, str) or not source.strip():
        raise DeskError(f"{where} 缺少 source（放假通知的名称和发布日期）")
    total = raw.get("working_days")
    if total is not None and (
        not isinstance(total, int) or isinstance(total, bool) or not 200 <= total <= 366
    ):
        raise DeskError(f"{where} 的 working_days 应为全年工作日数，如 248")
    items = raw.get("holidays")
    if not isinstance(items, list) or not items:
        raise DeskError(f"{where} 缺少 holidays（节日列表）")
    holidays: list[Holiday] = []
    seen: dict[dt.date, str] = {}
    for i, item in enumerate(items):
        holidays.append(_parse_holiday(item, year=year, where=f"{where} 的第 {i + 1} 个节日", seen=seen))
    return YearSchedule(year, source.strip(), tuple(holidays), total)


def _parse_holiday(item: object, *, year: int, where: str, seen: dict[dt.date, str]) -> Holiday:
    if not isinstance(item, Mapping):
        raise DeskError(f"{where} 应为一个对象")
    unknown = sorted(set(item) - HOLIDAY_KEYS)
    if unknown:
        raise DeskError(f"{where} 中有未知的键“{unknown[0]}”")
    name = item.get("name")
    if not isinstance(name, str) or not name.strip():
        raise DeskError(f"{where} 缺少 name（节日名称）")
    name = name.strip()
    where = f"{where}（{name}）"
    days_off = _dates(item.get("days_off"), year=year, where=f"{where} 的 days_off", seen=seen)
    if not days_off:
        raise DeskError(f"{where} 的 days_off 不能为空")
    makeup = _dates(
        item.get("makeup_workdays", []), year=year, where=f"{where} 的 makeup_workdays", seen=seen
    )
    for d in makeup:
        if d.weekday() < 5:
            raise DeskError(
                f"{where} 的调休上班日 {d.isoformat()} 本来就是工作日（调休上班日应为周六或周日）"
            )
    return Holiday(name, days_off, makeup)


def _dates(value: Any, *, year: int, where: str, seen: dict[dt.date, str]) -> tuple[dt.date, ...]:
    if not isinstance(value, list):
        raise DeskError(f'{where} 应为日期列表，如 ["{year}-10-01"]')
    out: list[dt.date] = []
    for v in value:
        try:
            d = dt.date.fromisoformat(v) if isinstance(v, str) and len(v) == 10 else None
        except ValueError:
            d = None
        if d is None:
            raise DeskError(f"{where} 中“{v}”不是 YYYY-MM-DD 格式的日期")
        # A holiday may reach into the neighbouring year (元旦 2024 began on 2023-12-30), no further.
        if not dt.date(year - 1, 12, 1) <= d <= dt.date(year + 1, 1, 31):
            raise DeskError(f"{where} 中的 {d.isoformat()} 不在 {year} 年")
        if d in seen:
            raise DeskError(f"{where} 中的 {d.isoformat()} 重复出现")
        seen[d] = where
        out.append(d)
    return tuple(out)
