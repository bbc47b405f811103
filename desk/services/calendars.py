"""The holiday calendar and the deadline rules as the services read them (from the resources, once per process),
and the deadline a new case gets at registration.

`desk.services.root.Services` hands them to the services it builds; a service built without them (a test, the
county's registration) reads the bundled ones through these functions, which load each file once.
"""

from __future__ import annotations

import datetime as dt
import functools
from pathlib import Path
from typing import TYPE_CHECKING

from desk.config import RESOURCES
from desk.core import deadlines as dl
from desk.core import events as ev
from desk.core.calendar import CalendarGap, WorkCalendar
from desk.core.clock import local_date
from desk.core.deadlines import DeadlineRules, load_deadline_rules
from desk.core.ids import new_id
from desk.store.events import append_event

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

CALENDAR_DIR = RESOURCES / "calendar"
DEADLINE_RULES_FILE = RESOURCES / "catalog" / "deadline_rules.json"


@functools.cache
def load_calendar(directory: Path = CALENDAR_DIR) -> WorkCalendar:
    """The working-day calendar of `directory` (every year file there, checked)."""
    return WorkCalendar.load(directory)


@functools.cache
def load_rules(path: Path = DEADLINE_RULES_FILE) -> DeadlineRules:
    """The deadline rules of `path`, checked."""
    return load_deadline_rules(path)


CALENDAR_GAP_REMINDER = dt.timedelta(days=7)  # a missing year's warning is raised again after this long

# --- the deadline at registration (called by RegistrationService.register) -----------------------------


def set_deadline(
    s: Session,
    *,
    hall_code: str,
    case_id: str,
    channel: str,
    category_code: str,
    now: dt.datetime,
    actor: str,
    calendar: WorkCalendar,
    rules: dl.DeadlineRules,
) -> ev.DeadlineSet:
    """Append the case's `DeadlineSet` by its rule (`rule_for`), counted from the registration's day (China
    time). A calendar that lacks the last day's year never blocks a registration: the raw count is written
    (holidays not applied, noted in the event) with a serious deadline warning saying which year to enter."""
    rule = dl.rule_for(channel, category_code, rules)
    start = local_date(now)
    note = ""
    gap: CalendarGap | None = None
    try:
        due = dl.due_date(start, rule, calendar)
    except CalendarGap as e:
        gap = e
        due = raw_due(start, rule.amount, rule.unit)
        note = f"{e.year} 年节假日安排尚未录入，到期日按自然日粗算（未计节假日），录入后请核对"
    body = ev.DeadlineSet(rule.code, start, due, rule.unit.value, rule.amount, note)
    append_event(s, hall_code=hall_code, case_id=case_id, body=body, occurred_at=now, actor=actor)
    if gap is not None:
        raise_calendar_gap(s, hall_code, case_id, gap, now, actor)
    return body


def raise_calendar_gap(
    s: Session, hall_code: str, case_id: str, gap: CalendarGap, now: dt.datetime, actor: str
) -> None:
    """The loud warning of a deadline counted without the holidays of a year not entered (重大, kind deadline):
    raised on the first such case, and again a week after the last one while the year is still missing -- one
    reminder for the administrator, not one for every visitor of December."""
    import sqlalchemy as sa

    from desk.store.models import WarningRow

    ref = f"calendar:{gap.year}"
    recent = s.scalar(
        sa.select(sa.func.count())
        .select_from(WarningRow)
        .where(
            WarningRow.hall_code == hall_code,
            WarningRow.ref == ref,
            WarningRow.raised_at > now - CALENDAR_GAP_REMINDER,
        )
    )
    if recent:
        return
    body = ev.WarningRaised(
        warning_id=new_id(),
        kind="deadline",
        level="serious",
        message=(
            f"{gap.year} 年节假日安排尚未录入，办理期限按自然日粗算（未计节假日）："
            f"请管理员在 resources/calendar/ 加入 {gap.year}.json 后核对各案期限"
        ),
        ref=ref,
    )
    append_event(s, hall_code=hall_code, case_id=case_id, body=body, occurred_at=now, actor=actor)


def raw_due(start: dt.date, amount: int, unit: dl.DeadlineUnit | str) -> dt.date:
    """The last day counted without a holiday calendar: months and days as they fall (no moving off a rest
    day), working days as Monday to Friday."""
    unit = dl.DeadlineUnit(unit)
    if unit is dl.DeadlineUnit.MONTHS:
        return dl.add_months(start, amount)
    if unit is dl.DeadlineUnit.DAYS:
        return start + dt.timedelta(days=amount)
    day, left = start, amount
    while left:
        day += dt.timedelta(days=1)
        if day.weekday() < 5:
            left -= 1
    return day
