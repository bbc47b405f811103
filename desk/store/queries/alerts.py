"""Whistles, warnings and the department catalog as the alert services read them (rows of the projections)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from desk.core.events import Event
from desk.store.events import EVENT_COLUMNS, event_of
from desk.store.models import CaseEvent, CaseRow, DepartmentRow, PartyRow, WarningRow, WhistleRow


@dataclass(frozen=True)
class Department:
    code: str
    name: str
    phone: str
    active: bool


@dataclass(frozen=True)
class CaseRef:
    """What the alert services need of a case."""

    id: str
    case_no: str
    hall_code: str
    category_code: str
    state: str
    headcount: int
    risk_flags: tuple[str, ...]
    risk_level: str | None
    registered_at: dt.datetime
    due_on: dt.date | None
    paused_at: dt.datetime | None


@dataclass(frozen=True)
class WhistleRecord:
    """A row of `whistles`, with its case's number."""

    id: str
    whistle_id: str
    case_id: str
    case_no: str
    hall_code: str
    department: str
    matter: str
    complex: bool
    blown_at: dt.datetime
    sign_by: dt.datetime
    arrive_by: dt.datetime
    report_by: dt.datetime
    signed_at: dt.datetime | None
    signed_by: str | None
    arrived_at: dt.datetime | None
    arrived_by: str | None
    reported_at: dt.datetime | None
    result: str | None
    rating: str | None


@dataclass(frozen=True)
class WarningRecord:
    """A row of `warnings`, with its case's number."""

    id: str
    case_id: str
    case_no: str
    hall_code: str
    kind: str
    level: str
    message: str
    ref: str
    raised_at: dt.datetime
    acknowledged_at: dt.datetime | None
    acknowledged_by: str | None


# --- departments ---------------------------------------------------------------------------------------------


def departments(session: Session) -> list[Department]:
    """The department catalog (synced from the county), in its order."""
    rows = session.scalars(sa.select(DepartmentRow).order_by(DepartmentRow.position, DepartmentRow.code))
    return [Department(r.code, r.name, r.phone, r.active) for r in rows]


def department(session: Session, code: str) -> Department | None:
    r = session.get(DepartmentRow, code)
    return None if r is None else Department(r.code, r.name, r.phone, r.active)


# --- cases ----------------------------------------------------------------------------------------------------

_CASE_COLUMNS = (
    CaseRow.id,
    CaseRow.case_no,
    CaseRow.hall_code,
    CaseRow.category_code,
    CaseRow.state,
    CaseRow.headcount,
    CaseRow.risk_flags,
    CaseRow.risk_level,
    CaseRow.registered_at,
    CaseRow.due_on,
    CaseRow.paused_at,
)


def _case(r: Any) -> CaseRef:
    v = list(r)
    v[6] = tuple(v[6] or ())
    return CaseRef(*v)


def case_by_no(session: Session, case_no: str) -> CaseRef | None:
    r = session.execute(sa.select(*_CASE_COLUMNS).where(CaseRow.case_no == case_no)).first()
    return None if r is None else _case(r)


def case_by_id(session: Session, case_id: str) -> CaseRef | None:
    r = session.execute(sa.select(*_CASE_COLUMNS).where(CaseRow.id == case_id)).first()
    return None if r is None else _case(r)


def running_deadlines(session: Session, hall_code: str, open_states: Collection[str]) -> list[CaseRef]:
    """The hall's open cases whose deadline runs (a due day, not paused)."""
    rows = session.execute(
        sa.select(*_CASE_COLUMNS).where(
            CaseRow.hall_code == hall_code,
            CaseRow.state.in_(open_states),
            CaseRow.due_on.is_not(None),
            CaseRow.paused_at.is_(None),
        )
    )
    return [_case(r) for r in rows]


def case_events(session: Session, case_id: str, kinds: Collection[str]) -> list[Event]:
    """The case's events of these kinds, in causal order."""
    cols = [getattr(CaseEvent, c) for c in EVENT_COLUMNS]
    rows = session.execute(sa.select(*cols).where(CaseEvent.case_id == case_id, CaseEvent.kind.in_(kinds)))
    return sorted((event_of(r) for r in rows), key=Event.order)


def visits_since(
    session: Session, *, id_index: str | None, phone_index: str | None, since: dt.datetime
) -> int:
    """How many visits (registrations and repeat visits) of cases where this person (by the blind index of the
    ID number, else of the phone) is a party were made since `since`."""
    if not (id_index or phone_index):
        return 0
    cond = PartyRow.id_index == id_index if id_index else PartyRow.phone_index == phone_index
    case_ids = sa.select(PartyRow.case_id).where(cond).distinct().scalar_subquery()
    return int(
        session.scalar(
            sa.select(sa.func.count())
            .select_from(CaseEvent)
            .where(
                CaseEvent.case_id.in_(case_ids),
                CaseEvent.kind.in_(("registered", "repeat_visit")),
                CaseEvent.occurred_at >= since,
            )
        )
        or 0
    )


def open_cases_of_person(
    session: Session,
    *,
    id_index: str | None,
    phone_index: str | None,
    category_code: str,
    open_states: Collection[str],
    other_than: str,
) -> int:
    """How many open cases of the category, other than `other_than`, this person (by blind index) is a party
    of."""
    if not (id_index or phone_index):
        return 0
    cond = PartyRow.id_index == id_index if id_index else PartyRow.phone_index == phone_index
    return int(
        session.scalar(
            sa.select(sa.func.count(sa.distinct(CaseRow.id)))
            .join(PartyRow, PartyRow.case_id == CaseRow.id)
            .where(
                cond,
                CaseRow.category_code == category_code,
                CaseRow.state.in_(open_states),
                CaseRow.id != other_than,
            )
        )
        or 0
    )


# --- whistles -------------------------------------------------------------------------------------------------


def _whistles(session: Session, *where: sa.ColumnElement[bool]) -> list[WhistleRecord]:
    rows = session.execute(
        sa.select(WhistleRow, CaseRow.case_no)
        .join(CaseRow, CaseRow.id == WhistleRow.case_id)
        .where(*where)
        .order_by(WhistleRow.blown_at.desc(), WhistleRow.id)
    )
    return [
        WhistleRecord(
            w.id,
            w.whistle_id,
            w.case_id,
            case_no,
            w.hall_code,
            w.department,
            w.matter,
            w.complex,
            w.blown_at,
            w.sign_by,
            w.arrive_by,
            w.report_by,
            w.signed_at,
            w.signed_by,
            w.arrived_at,
            w.arrived_by,
            w.reported_at,
            w.result,
            w.rating,
        )
        for w, case_no in rows
    ]


def whistle(session: Session, whistle_id: str) -> list[WhistleRecord]:
    """The rows of one whistle (one per department)."""
    return _whistles(session, WhistleRow.whistle_id == whistle_id)


def case_whistles(session: Session, case_id: str) -> list[WhistleRecord]:
    return _whistles(session, WhistleRow.case_id == case_id)


def department_whistles(session: Session, code: str) -> list[WhistleRecord]:
    return _whistles(session, WhistleRow.department == code)


def late_whistles(session: Session, hall_code: str, now: dt.datetime) -> list[WhistleRecord]:
    """The hall's whistle rows not yet reported with a clock run out and not done."""
    return _whistles(
        session,
        WhistleRow.hall_code == hall_code,
        WhistleRow.reported_at.is_(None),
        sa.or_(
            sa.and_(WhistleRow.signed_at.is_(None), WhistleRow.sign_by < now),
            sa.and_(WhistleRow.arrived_at.is_(None), WhistleRow.arrive_by < now),
            WhistleRow.report_by < now,
        ),
    )


# --- warnings -------------------------------------------------------------------------------------------------


def _warnings(
    session: Session, *where: sa.ColumnElement[bool], newest_first: bool = True, limit: int | None = None
) -> list[WarningRecord]:
    q = (
        sa.select(WarningRow, CaseRow.case_no)
        .join(CaseRow, CaseRow.id == WarningRow.case_id)
        .where(*where)
        .order_by(
            (WarningRow.acknowledged_at.desc() if not newest_first else WarningRow.raised_at.desc()),
            WarningRow.id,
        )
    )
    if limit is not None:
        q = q.limit(limit)
    return [
        WarningRecord(
            w.id,
            w.case_id,
            case_no,
            w.hall_code,
            w.kind,
            w.level,
            w.message,
            w.ref,
            w.raised_at,
            w.acknowledged_at,
            w.acknowledged_by,
        )
        for w, case_no in session.execute(q)
    ]


def open_warnings(session: Session, hall_code: str) -> list[WarningRecord]:
    """The hall's unread warnings, newest alert first (the service puts the gravest first)."""
    return _warnings(session, WarningRow.hall_code == hall_code, WarningRow.acknowledged_at.is_(None))


def acknowledged_warnings(session: Session, hall_code: str, limit: int) -> list[WarningRecord]:
    """The hall's read warnings, the latest read first."""
    return _warnings(
        session,
        WarningRow.hall_code == hall_code,
        WarningRow.acknowledged_at.is_not(None),
        newest_first=False,
        limit=limit,
    )


def case_warnings(session: Session, case_id: str) -> list[WarningRecord]:
    return _warnings(session, WarningRow.case_id == case_id)


def warning(session: Session, warning_id: str) -> WarningRecord | None:
    found = _warnings(session, WarningRow.id == warning_id)
    return found[0] if found else None


def raised_since(session: Session, hall_code: str, since: dt.datetime) -> list[WarningRecord]:
    """The hall's unread warnings alerted after `since`."""
    return _warnings(
        session,
        WarningRow.hall_code == hall_code,
        WarningRow.acknowledged_at.is_(None),
        WarningRow.raised_at > since,
    )


def refs(session: Session, case_ids: Sequence[str], kind: str) -> dict[str, set[str]]:
    """The refs of the warnings of one kind raised on these cases, by case."""
    out: dict[str, set[str]] = {}
    for i in range(0, len(case_ids), 500):
        chunk = case_ids[i : i + 500]
        for case_id, ref in session.execute(
            sa.select(WarningRow.case_id, WarningRow.ref).where(
                WarningRow.case_id.in_(chunk), WarningRow.kind == kind
            )
        ):
            out.setdefault(case_id, set()).add(ref)
    return out


def due_realerts(session: Session, hall_code: str, before: dt.datetime) -> list[WarningRecord]:
    """The hall's unread 重大 warnings whose latest alert was at or before `before`."""
    return _warnings(
        session,
        WarningRow.hall_code == hall_code,
        WarningRow.acknowledged_at.is_(None),
        WarningRow.level == "serious",
        WarningRow.raised_at <= before,
    )
