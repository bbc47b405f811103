"""Legal time limits: where a case's limit comes from, and counting it by the Civil Code (art. 201–203).

Counting, as the law says and as this module does it:
- the first day is not counted (art. 201): a period starts on the day after `start_day`;
- a period in months ends on the corresponding day of the last month, or that month's last day if it has none
  (art. 202: Jan 31 + 1 month = Feb 28);
- a period whose last day is a statutory rest day ends on the first working day after it (art. 203). 法定休假日
  there is read as in Chinese legal practice (the Supreme People's Court's reading of 节假日 in procedure): the
  weekly rest days and the holidays alike, so a limit ending on an ordinary Saturday also moves to Monday, while a
  make-up Saturday (调休上班日) is a working day and ends it;
- a period in working days skips weekends and holidays and counts make-up working days.
A last day in a year the calendar has no schedule for raises `CalendarGap`; callers turn it into a loud warning.
"""

from __future__ import annotations

import calendar as _gregorian
import datetime as dt
import enum
import json
import logging
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, NamedTuple

from desk.core.calendar import WorkCalendar
from desk.core.cases import Channel
from desk.core.clock import CHINA_TZ
from desk.errors import DeskError

logger = logging.getLogger(__name__)


class DeadlineUnit(enum.StrEnum):
    MONTHS = "months"
    DAYS = "days"
    WORKING_DAYS = "working_days"

    @property
    def label(self) -> str:
        return UNIT_LABELS[self]


UNIT_LABELS = {DeadlineUnit.MONTHS: "个月", DeadlineUnit.DAYS: "日", DeadlineUnit.WORKING_DAYS: "个工作日"}


@dataclass(frozen=True)
class DeadlineRule:
    """A time limit with its own unit; `extension_max` (0: none) is how much may be added on approval."""

    code: str
    label: str
    amount: int
    unit: DeadlineUnit
    extension_max: int = 0
    extension_unit: DeadlineUnit | None = None  # None: the rule's own unit
    basis: str = ""  # where the limit comes from, for people (a regulation and article, or 本中心规定)

    @property
    def extends_in(self) -> DeadlineUnit:
        return self.extension_unit or self.unit

    def describe(self) -> str:
        """例：信访事项办理 60日（经批准可延长不超过30日）."""
        text = f"{self.label} {self.amount}{self.unit.label}"
        if self.extension_max:
            text += f"（经批准可延长不超过{self.extension_max}{self.extends_in.label}）"
        return text


@dataclass(frozen=True)
class RuleOverride:
    """A category's own rule, on the channels listed (empty: every channel)."""

    category: str
    rule: str
    channels: tuple[str, ...] = ()


@dataclass(frozen=True)
class WhistleRules:
    """The whistle's three clocks (吹哨报到): no national rule, so local defaults an admin can change."""

    sign_hours: int = 1
    arrive_hours: int = 24
    report_working_days: int = 3
    report_working_days_complex: int = 5


@dataclass(frozen=True)
class DeadlineRules:
    """The configured rules: one by code, the channel defaults, the category overrides and the whistle clocks."""

    rules: Mapping[str, DeadlineRule]
    default: str
    channels: Mapping[str, str]
    overrides: tuple[RuleOverride, ...] = ()
    whistle: WhistleRules = WhistleRules()


def rule_for(
    channel: str,
    category_code: str | None,
    rules: DeadlineRules,
    *,
    order_limit: tuple[int, DeadlineUnit] | None = None,
) -> DeadlineRule:
    """The rule a case is counted by: a category override for its channel, else the channel's, else the default.

    `order_limit` is a 12345 work order's own limit (amount, unit): when given it replaces the amount and unit of
    the rule found, which keeps its code with `.order` added so the case shows where the number came from."""
    channel = str(channel)
    code = None
    if category_code is not None:
        specific = [o for o in rules.overrides if o.category == category_code and channel in o.channels]
        general = [o for o in rules.overrides if o.category == category_code and not o.channels]
        if specific or general:
            code = (specific or general)[0].rule
    if code is None:
        code = rules.channels.get(channel, rules.default)
    rule = rules.rules[code]
    if order_limit is not None:
        amount, unit = order_limit
        if amount <= 0:
            raise DeskError("工单自带的办理时限应为正整数")
        rule = replace(
            rule, code=f"{rule.code}.order", label=f"{rule.label}（工单时限）", amount=amount, unit=unit
        )
    return rule


# --- counting ---------------------------------------------------------------------------------------------------


def add_months(day: dt.date, months: int) -> dt.date:
    """The corresponding day `months` later, or that month's last day if it has none (Civil Code art. 202)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return dt.date(year, month, min(day.day, _gregorian.monthrange(year, month)[1]))


def last_day_rule(day: dt.date, calendar: WorkCalendar) -> dt.date:
    """Art. 203: a last day that is a rest day (weekend or holiday, not a make-up working day) moves to the next
    working day."""
    return day if calendar.is_working_day(day) else calendar.next_working_day(day)


def _count(start: dt.date, amount: int, unit: DeadlineUnit, calendar: WorkCalendar) -> dt.date:
    if unit is DeadlineUnit.WORKING_DAYS:
        return calendar.add_working_days(start, amount)
    last = add_months(start, amount) if unit is DeadlineUnit.MONTHS else start + dt.timedelta(days=amount)
    return last_day_rule(last, calendar)


def due_date(start_day: dt.date, rule: DeadlineRule, calendar: WorkCalendar) -> dt.date:
    """The last day of the period that starts after `start_day` (the first day is not counted)."""
    return _count(start_day, rule.amount, rule.unit, calendar)


def end_of_day(day: dt.date) -> dt.datetime:
    """The last second of `day` in China time, as an aware UTC datetime: the moment a due day runs out."""
    return dt.datetime.combine(day, dt.time(23, 59, 59), CHINA_TZ).astimezone(dt.UTC)


# --- changing the clock -----------------------------------------------------------------------------------------


def resume(
    due_on: dt.date, paused_on: dt.date, resumed_on: dt.date, rule: DeadlineRule, calendar: WorkCalendar
) -> dt.date:
    """The due day after a pause (中止) from `paused_on` to `resumed_on`: the time that was left at the pause is
    given again from the resumption. In calendar days for day and month limits (the last day again under
    art. 203), in working days for working-day limits. A limit already run out when paused stays as it was."""
    if resumed_on < paused_on:
        raise DeskError(
            f"恢复日期 {resumed_on.isoformat()} 早于中止日期 {paused_on.isoformat()}：请核对恢复日期"
        )
    if paused_on > due_on:
        return due_on
    if rule.unit is DeadlineUnit.WORKING_DAYS:
        left = calendar.working_days_between(paused_on, due_on)
        return calendar.add_working_days(resumed_on, left) if left else last_day_rule(resumed_on, calendar)
    return last_day_rule(due_on + (resumed_on - paused_on), calendar)


def check_extension(rule: DeadlineRule, amount: int, *, already: int = 0) -> None:
    """Refuse an extension the rule does not allow: none at all, or more than its maximum in total."""
    if amount <= 0:
        raise DeskError("延长期限应为正整数")
    if not rule.extension_max:
        raise DeskError(f"“{rule.label}”的期限不能延长")
    if already + amount > rule.extension_max:
        unit = rule.extends_in.label
        raise DeskError(
            f"“{rule.label}”最多可延长 {rule.extension_max}{unit}，"
            f"已延长 {already}{unit}，本次最多 {rule.extension_max - already}{unit}"
        )


def extend(due_on: dt.date, amount: int, unit: DeadlineUnit, calendar: WorkCalendar) -> dt.date:
    """The due day after an approved extension of `amount` units counted on from `due_on`."""
    if amount <= 0:
        raise DeskError("延长期限应为正整数")
    return _count(due_on, amount, unit, calendar)


# --- warnings ---------------------------------------------------------------------------------------------------


class DeadlineAlert(enum.StrEnum):
    """Stages of a running limit that raise a warning."""

    PCT60 = "pct60"
    PCT80 = "pct80"
    PCT90 = "pct90"
    OVERDUE = "overdue"

    @property
    def label(self) -> str:
        return ALERT_LABELS[self]

    @property
    def warning_level(self) -> str:
        """The warning's level: general 一般 / major 较大 / serious 重大."""
        return ALERT_LEVELS[self]


ALERT_THRESHOLDS = {
    DeadlineAlert.PCT60: 0.6,
    DeadlineAlert.PCT80: 0.8,
    DeadlineAlert.PCT90: 0.9,
    DeadlineAlert.OVERDUE: 1.0,
}
ALERT_LABELS = {
    DeadlineAlert.PCT60: "办理期限已用去60%",
    DeadlineAlert.PCT80: "办理期限已用去80%",
    DeadlineAlert.PCT90: "办理期限已用去90%",
    DeadlineAlert.OVERDUE: "已超过办理期限",
}
ALERT_LEVELS = {
    DeadlineAlert.PCT60: "general",
    DeadlineAlert.PCT80: "general",
    DeadlineAlert.PCT90: "major",
    DeadlineAlert.OVERDUE: "serious",
}

PausedSpan = tuple[dt.datetime, dt.datetime | None]


def progress(
    start: dt.datetime, due: dt.datetime, now: dt.datetime, paused: Sequence[PausedSpan] = ()
) -> float:
    """How much of the limit has been used, 0.0 at `start`, 1.0 at `due` (more once overdue).

    Paused time does not count as used. A finished pause is taken off the whole too, since resuming moved `due`
    on by it; a pause still running stops the clock and leaves the whole as it is."""
    used = now - start
    whole = due - start
    for paused_at, resumed_at in paused:
        if paused_at >= now:
            continue
        if resumed_at is None or resumed_at > now:
            used -= now - paused_at
        else:
            used -= resumed_at - paused_at
            whole -= resumed_at - paused_at
    if whole <= dt.timedelta(0):
        return 1.0 if used <= dt.timedelta(0) else float("inf")
    return max(0.0, used / whole)


def thresholds_crossed(prev: float, now: float) -> tuple[DeadlineAlert, ...]:
    """The alerts reached between two readings of `progress`: 60%, 80%, 90% when reached, overdue once past 100%."""
    out: list[DeadlineAlert] = []
    for alert, at in ALERT_THRESHOLDS.items():
        if alert is DeadlineAlert.OVERDUE:
            if prev <= at < now:
                out.append(alert)
        elif prev < at <= now:
            out.append(alert)
    return tuple(out)


class WhistleClocks(NamedTuple):
    sign_by: dt.datetime
    arrive_by: dt.datetime
    report_by: dt.datetime


def whistle_clocks(
    blown_at: dt.datetime, complex: bool, calendar: WorkCalendar, rules: DeadlineRules
) -> WhistleClocks:
    """When each summoned department must sign (签收), arrive (报到) and report (反馈).

    Signing and arriving run in plain hours, weekends included (a whistle is blown for a matter that will not
    wait); the report is due at the end of the 3rd (complex: 5th) working day after the day it was blown, China
    time. Times are aware UTC."""
    if blown_at.tzinfo is None:
        raise ValueError("blown_at must be timezone-aware")
    w = rules.whistle
    blown_day = blown_at.astimezone(CHINA_TZ).date()
    days = w.report_working_days_complex if complex else w.report_working_days
    return WhistleClocks(
        sign_by=(blown_at + dt.timedelta(hours=w.sign_hours)).astimezone(dt.UTC),
        arrive_by=(blown_at + dt.timedelta(hours=w.arrive_hours)).astimezone(dt.UTC),
        report_by=end_of_day(calendar.add_working_days(blown_day, days)),
    )


# --- the rules file ---------------------------------------------------------------------------------------------

RULES_KEYS = frozenset({"_comment", "rules", "default", "channels", "overrides", "whistle"})
RULE_KEYS = frozenset({"code", "label", "amount", "unit", "extension_max", "extension_unit", "basis"})
OVERRIDE_KEYS = frozenset({"category", "rule", "channels"})
WHISTLE_KEYS = frozenset({"sign_hours", "arrive_hours", "report_working_days", "report_working_days_complex"})


def load_deadline_rules(path: Path, *, categories: Collection[str] | None = None) -> DeadlineRules:
    """The rules file, checked; every problem names the file (and `categories`, when given, are the known codes)."""
    where = f"期限规则文件 {path}"
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DeskError(f"找不到{where}：请重新安装一厅通，或由管理员恢复该文件") from None
    except UnicodeDecodeError:
        raise DeskError(f"{where} 不是 UTF-8 编码的文本") from None
    except json.JSONDecodeError as e:
        raise DeskError(f"{where} 不是有效的 JSON（第 {e.lineno} 行第 {e.colno} 列）") from None
    except OSError:
        raise DeskError(f"{where} 无法读取") from None
    return parse_deadline_rules(raw, where=where, categories=categories)


def _positive(value: Any, where: str, *, zero: bool = False) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < (0 if zero else 1) or value > 10000:
        raise DeskError(f"{where} 应为{'非负' if zero else '正'}整数")
    return value


def _unit(value: Any, where: str) -> DeadlineUnit:
    try:
        return DeadlineUnit(value)
    except ValueError:
        raise DeskError(f"{where} 应为 months、days 或 working_days 之一") from None


def _object(value: Any, keys: frozenset[str], where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise DeskError(f"{where} 应为一个对象（{{…}}）")
    unknown = sorted(set(value) - keys)
    if unknown:
        raise DeskError(f"{where} 中有未知的键“{unknown[0]}”")
    return value


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise DeskError(f"{where} 不能为空")
    return value.strip()


def parse_deadline_rules(
    raw: object, *, where: str = "期限规则", categories: Collection[str] | None = None
) -> DeadlineRules:
    top = _object(raw, RULES_KEYS, where)
    items = top.get("rules")
    if not isinstance(items, list) or not items:
        raise DeskError(f"{where} 缺少 rules（期限规则列表）")
    rules: dict[str, DeadlineRule] = {}
    for i, item in enumerate(items):
        at = f"{where} 的第 {i + 1} 条规则"
        r = _object(item, RULE_KEYS, at)
        code = _text(r.get("code"), f"{at} 的 code")
        at = f"{where} 的规则“{code}”"
        if code in rules:
            raise DeskError(f"{at} 重复出现")
        unit = _unit(r.get("unit"), f"{at} 的 unit")
        ext_max = _positive(r.get("extension_max", 0), f"{at} 的 extension_max", zero=True)
        ext_unit = r.get("extension_unit")
        basis = r.get("basis", "")
        if not isinstance(basis, str):
            raise DeskError(f"{at} 的 basis 应为文字")
        rules[code] = DeadlineRule(
            code=code,
            label=_text(r.get("label"), f"{at} 的 label"),
            amount=_positive(r.get("amount"), f"{at} 的 amount"),
            unit=unit,
            extension_max=ext_max,
            extension_unit=None if ext_unit is None else _unit(ext_unit, f"{at} 的 extension_unit"),
            basis=basis.strip(),
        )

    def known_rule(code: Any, at: str) -> str:
        if not isinstance(code, str) or code not in rules:
            raise DeskError(f"{at} 引用的规则“{code}”不存在")
        return code

    channel_codes = {c.value for c in Channel}
    default = known_rule(top.get("default"), f"{where} 的 default")
    channels_raw = top.get("channels", {})
    if not isinstance(channels_raw, Mapping):
        raise DeskError(f"{where} 的 channels 应为“来源渠道: 规则”的对象")
    channels: dict[str, str] = {}
    for ch, code in channels_raw.items():
        if ch not in channel_codes:
            raise DeskError(f"{where} 的 channels 中来源渠道“{ch}”无效")
        channels[ch] = known_rule(code, f"{where} 的 channels.{ch}")

    overrides_raw = top.get("overrides", [])
    if not isinstance(overrides_raw, list):
        raise DeskError(f"{where} 的 overrides 应为列表")
    overrides: list[RuleOverride] = []
    for i, item in enumerate(overrides_raw):
        at = f"{where} 的第 {i + 1} 条类别规则（overrides）"
        o = _object(item, OVERRIDE_KEYS, at)
        category = _text(o.get("category"), f"{at} 的 category")
        if categories is not None and category not in categories:
            raise DeskError(f"{at} 的类别“{category}”不在类别目录中")
        chs = o.get("channels", [])
        if not isinstance(chs, list) or any(c not in channel_codes for c in chs):
            raise DeskError(f'{at} 的 channels 应为来源渠道列表（如 ["walk_in"]）')
        overrides.append(RuleOverride(category, known_rule(o.get("rule"), at), tuple(chs)))

    w = _object(top.get("whistle", {}), WHISTLE_KEYS, f"{where} 的 whistle")
    d = WhistleRules()
    whistle = WhistleRules(
        sign_hours=_positive(w.get("sign_hours", d.sign_hours), f"{where} 的 whistle.sign_hours"),
        arrive_hours=_positive(w.get("arrive_hours", d.arrive_hours), f"{where} 的 whistle.arrive_hours"),
        report_working_days=_positive(
            w.get("report_working_days", d.report_working_days), f"{where} 的 whistle.report_working_days"
        ),
        report_working_days_complex=_positive(
            w.get("report_working_days_complex", d.report_working_days_complex),
            f"{where} 的 whistle.report_working_days_complex",
        ),
    )
    return DeadlineRules(rules, default, channels, tuple(overrides), whistle)
