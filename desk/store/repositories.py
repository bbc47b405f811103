"""Queries over the store; each returns plain frozen dataclasses, never ORM rows."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from desk.core import events as ev
from desk.core.catalog import Category
from desk.core.events import EventBody
from desk.core.ids import CASE_NO_RE
from desk.core.parties import mask_id_number, normalise_id_number, normalise_name, normalise_phone
from desk.core.text import collapse_spaces
from desk.security.vault import is_sealed
from desk.store.models import CaseEvent, CaseRow, CategoryRow, Hall, PartyRow, RoomRow
from desk.store.projections import PROJECTED_MODELS, event_order


@dataclass(frozen=True)
class HallInfo:
    code: str
    name: str
    phone: str


@dataclass(frozen=True)
class CaseSummary:
    id: str
    case_no: str
    category_code: str
    state: str
    registered_at: dt.datetime
    applicant_name: str
    applicant_id_masked: str
    repeat_visits: int
    risk_flags: tuple[str, ...]


@dataclass(frozen=True)
class PartyView:
    id: str
    role: str
    name: str
    is_organisation: bool
    id_number: str | None
    phone: str | None
    address: str
    birth_date: dt.date | None
    sex: str | None


@dataclass(frozen=True)
class EventView:
    """One event of a case's history as people read it: its typed payload, when (wall clock) and who."""

    id: str
    hall_seq: int
    kind: str
    occurred_at: dt.datetime
    actor: str
    body: EventBody


@dataclass(frozen=True)
class CaseDetail:
    id: str
    case_no: str
    hall_code: str
    category_code: str
    channel: str
    headcount: int
    narrative: str
    risk_flags: tuple[str, ...]
    state: str
    repeat_visits: int
    status_token: str
    registered_at: dt.datetime
    deadline_at: dt.datetime
    parties: tuple[PartyView, ...]
    events: tuple[EventView, ...]


def load_categories(session: Session) -> list[Category]:
    rows = session.scalars(sa.select(CategoryRow).where(CategoryRow.active).order_by(CategoryRow.position))
    return [Category(r.code, r.name, r.deadline_class, tuple(r.aliases)) for r in rows]


def local_hall(session: Session) -> HallInfo | None:
    row = session.scalars(sa.select(Hall).where(Hall.is_local)).first()
    return None if row is None else HallInfo(row.code, row.name, row.phone)


def room_count(session: Session, hall_code: str) -> int:
    return int(
        session.scalar(sa.select(sa.func.count()).select_from(RoomRow).where(RoomRow.hall_code == hall_code))
        or 0
    )


def stored_masked_id(id_number: str | None) -> str:
    """The applicant's ID number of a summary as the store can give it: masked if it is plaintext (a record from
    before encryption), else still sealed -- the store holds no key; the service opens and masks it
    (`desk.services.sealing.mask_summary`)."""
    if not id_number:
        return ""
    return id_number if is_sealed(id_number) else mask_id_number(id_number)


def summaries(session: Session, case_ids: Sequence[str]) -> list[CaseSummary]:
    """The cases' summaries, in the order of `case_ids` (their applicant's ID number as stored: sealed)."""
    return _summaries(session, case_ids)


def _summaries(session: Session, case_ids: Sequence[str]) -> list[CaseSummary]:
    if not case_ids:
        return []
    cases = session.scalars(
        sa.select(CaseRow).where(CaseRow.id.in_(case_ids)).order_by(CaseRow.registered_at.desc())
    ).all()
    applicants: dict[str, PartyRow] = {}
    for p in session.scalars(
        sa.select(PartyRow)
        .where(PartyRow.case_id.in_(case_ids), PartyRow.role == "applicant")
        .order_by(PartyRow.position)
    ):
        applicants.setdefault(p.case_id, p)
    out = []
    for c in cases:
        a = applicants.get(c.id)
        out.append(
            CaseSummary(
                id=c.id,
                case_no=c.case_no,
                category_code=c.category_code,
                state=c.state,
                registered_at=c.registered_at,
                applicant_name=a.name if a else "",
                applicant_id_masked=stored_masked_id(a.id_number if a else None),
                repeat_visits=c.repeat_visits,
                risk_flags=tuple(c.risk_flags),
            )
        )
    return out


def cases_of_person(
    session: Session, *, id_index: str | None = None, phone_index: str | None = None
) -> list[CaseSummary]:
    """Every case in which the person (by the blind index of the ID number, else of the phone) is a party,
    newest first."""
    conds = []
    if id_index:
        conds.append(PartyRow.id_index == id_index)
    if phone_index:
        conds.append(PartyRow.phone_index == phone_index)
    if not conds:
        return []
    ids = session.scalars(sa.select(PartyRow.case_id).where(sa.or_(*conds)).distinct().limit(200)).all()
    return _summaries(session, ids)


def open_cases_of_applicant(
    session: Session,
    *,
    id_index: str | None,
    phone_index: str | None,
    category_code: str,
    open_states: Sequence[str],
) -> list[CaseSummary]:
    """Open cases of the same category in which this person (by blind index) is a party: a return about one is
    a repeat visit."""
    if not (id_index or phone_index):
        return []
    cond = PartyRow.id_index == id_index if id_index else PartyRow.phone_index == phone_index
    ids = session.scalars(
        sa.select(CaseRow.id)
        .join(PartyRow, PartyRow.case_id == CaseRow.id)
        .where(cond, CaseRow.category_code == category_code, CaseRow.state.in_(open_states))
        .distinct()
    ).all()
    return _summaries(session, ids)


def _prefix(
    session: Session, column: sa.orm.InstrumentedAttribute[str], prefix: str
) -> sa.ColumnElement[bool]:
    """`column` starts with `prefix`, in a form each engine answers from its index."""
    if session.get_bind().dialect.name == "postgresql":
        escaped = re.sub(r"([\\%_])", r"\\\1", prefix)
        return column.like(escaped + "%", escape="\\")
    # SQLite compares text by code point (BINARY): a range is an index range scan.
    return sa.and_(column >= prefix, column < prefix + "\U0010ffff")


def classify_query(text: str) -> tuple[str, str]:
    """What a search box entry is: ('id', ...), ('phone', ...), ('case_no', ...), ('initials', ...) or ('name', ...)."""
    raw = text.strip()
    as_id = normalise_id_number(raw)
    if re.fullmatch(r"\d{17}[\dX]|\d{15}", as_id):
        return "id", as_id
    as_phone = normalise_phone(raw)
    if re.fullmatch(r"1\d{10}", as_phone):
        return "phone", as_phone
    if re.fullmatch(r"0\d{9,11}", as_phone):
        m = re.fullmatch(r"(0\d{2,3})(\d{7,8})", as_phone)
        if m:
            return "phone", f"{m.group(1)}-{m.group(2)}"
    compact = "".join(raw.split())
    if CASE_NO_RE.match(compact):
        return "case_no", compact
    if compact.isascii() and compact.isalpha():
        return "initials", compact.lower()
    return "name", normalise_name(raw)


def search_cases(
    session: Session, text: str, *, limit: int = 50, blind_index: str | None = None
) -> list[CaseSummary]:
    """Find cases by ID number, phone, case number, name (prefix) or pinyin initials (prefix). An ID number or
    phone is found by its blind index, which the caller computes from the key `classify_query` gives
    (`blind_index`: the store holds no key); without it such a search finds nothing."""
    kind, key = classify_query(text)
    if not key:
        return []
    if kind == "case_no":
        ids = list(session.scalars(sa.select(CaseRow.id).where(CaseRow.case_no == key)))
    elif kind in ("id", "phone"):
        if not blind_index:
            return []
        column = PartyRow.id_index if kind == "id" else PartyRow.phone_index
        ids = list(
            session.scalars(
                sa.select(PartyRow.case_id)
                .where(column == blind_index)
                .order_by(PartyRow.case_id.desc())
                .limit(limit)
            )
        )
    else:
        # Exact name (or initials) first, newest first from the (key, case_id) index; then longer names that
        # start with it. Case ids are UUIDv7, so descending id is newest registration first.
        column = PartyRow.name_initials if kind == "initials" else PartyRow.name
        # A person's name has `·` for its look-alikes; an organisation's keeps them (`X.Y 物业`): both spellings.
        keys = [key]
        if kind == "name":
            as_org = collapse_spaces(text.strip())
            if as_org != key:
                keys.append(as_org)
        ids = []
        for k in keys:
            ids += session.scalars(
                sa.select(PartyRow.case_id).where(column == k).order_by(PartyRow.case_id.desc()).limit(limit)
            )
        for k in keys:
            if len(ids) >= limit:
                break
            more = session.scalars(
                sa.select(PartyRow.case_id)
                .where(_prefix(session, column, k), column.not_in(keys))
                .order_by(PartyRow.case_id.desc())
                .limit(limit)
            )
            ids += list(more)
    ids = list(dict.fromkeys(ids))[:limit]
    found = {c.id: c for c in _summaries(session, ids)}
    return [found[i] for i in ids if i in found]


def case_detail(
    session: Session, *, case_no: str | None = None, case_id: str | None = None
) -> CaseDetail | None:
    stmt = sa.select(CaseRow)
    stmt = stmt.where(CaseRow.case_no == case_no) if case_no else stmt.where(CaseRow.id == case_id)
    c = session.scalars(stmt).first()
    if c is None:
        return None
    parties = session.scalars(sa.select(PartyRow).where(PartyRow.case_id == c.id).order_by(PartyRow.position))
    events = session.scalars(
        sa.select(CaseEvent).where(CaseEvent.case_id == c.id).order_by(*event_order(session))
    )
    return CaseDetail(
        id=c.id,
        case_no=c.case_no,
        hall_code=c.hall_code,
        category_code=c.category_code,
        channel=c.channel,
        headcount=c.headcount,
        narrative=c.narrative,
        risk_flags=tuple(c.risk_flags),
        state=c.state,
        repeat_visits=c.repeat_visits,
        status_token=c.status_token,
        registered_at=c.registered_at,
        deadline_at=c.deadline_at,
        parties=tuple(
            PartyView(
                p.id, p.role, p.name, p.is_organisation, p.id_number, p.phone, p.address, p.birth_date, p.sex
            )
            for p in parties
        ),
        events=tuple(
            EventView(e.id, e.hall_seq, e.kind, e.occurred_at, e.actor, ev.decode(e.kind, e.payload))
            for e in events
        ),
    )


def projection_snapshot(session: Session) -> list[tuple[Any, ...]]:
    """Every projected row as plain tuples, sorted: for comparing a rebuild with the live projections."""
    rows: list[tuple[Any, ...]] = []
    for model in PROJECTED_MODELS:
        cols = [c.key for c in sa.inspect(model).column_attrs]  # type: ignore[attr-defined]
        for r in session.scalars(sa.select(model)):
            rows.append((model.__tablename__, *(_plain(getattr(r, k)) for k in cols)))
    return sorted(rows, key=repr)


def _plain(v: Any) -> Any:
    return sorted(v) if isinstance(v, list) else v
