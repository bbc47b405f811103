"""New cases per China-time registration day and category, filtered (the trend chart's raw counts)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from desk.store.models import CaseRow


def _china_day(session: Session) -> sa.ColumnElement[str]:
    """The China-time day of `cases.registered_at` (stored as UTC), as ISO text, in the store's own SQL."""
    if session.get_bind().dialect.name == "postgresql":
        return sa.func.to_char(CaseRow.registered_at + sa.text("interval '8 hours'"), "YYYY-MM-DD")
    return sa.func.date(CaseRow.registered_at, "+8 hours")


def _filtered(
    q: Any,
    *,
    halls: Sequence[str],
    channels: Sequence[str],
    categories: Sequence[str],
    grids: Sequence[str],
) -> Any:
    for column, wanted in (
        (CaseRow.hall_code, halls),
        (CaseRow.channel, channels),
        (CaseRow.category_code, categories),
        (CaseRow.grid_code, grids),
    ):
        if wanted:
            q = q.where(column.in_(list(wanted)))
    return q


def case_ids(
    session: Session,
    start: dt.datetime,
    end: dt.datetime,
    *,
    halls: Sequence[str] = (),
    channels: Sequence[str] = (),
    categories: Sequence[str] = (),
    grids: Sequence[str] = (),
    limit: int = 500,
) -> list[str]:
    """The ids of the cases behind one point of the chart: registered in [start, end), passing the filters,
    newest first."""
    q = sa.select(CaseRow.id).where(CaseRow.registered_at >= start, CaseRow.registered_at < end)
    q = _filtered(q, halls=halls, channels=channels, categories=categories, grids=grids)
    return list(session.scalars(q.order_by(CaseRow.registered_at.desc()).limit(limit)))


def daily_counts(
    session: Session,
    start: dt.datetime,
    end: dt.datetime,
    *,
    halls: Sequence[str] = (),
    channels: Sequence[str] = (),
    categories: Sequence[str] = (),
    grids: Sequence[str] = (),
) -> list[tuple[dt.date, str, str, int]]:
    """(China day, hall, category, cases) of the cases registered in [start, end) that pass the filters (each
    empty filter passes everything)."""
    day = _china_day(session).label("day")
    q = (
        sa.select(day, CaseRow.hall_code, CaseRow.category_code, sa.func.count())
        .where(CaseRow.registered_at >= start, CaseRow.registered_at < end)
        .group_by(day, CaseRow.hall_code, CaseRow.category_code)
    )
    q = _filtered(q, halls=halls, channels=channels, categories=categories, grids=grids)
    return [
        (dt.date.fromisoformat(str(d)[:10]), str(h), str(c), int(str(n))) for d, h, c, n in session.execute(q)
    ]
