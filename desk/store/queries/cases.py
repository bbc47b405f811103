"""Cases as the hall's queue sees them: what routing needs of a case, and the cases the county diverted here."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from desk.core import events as ev
from desk.store.models import CaseEvent, CaseRow, CategoryRow, PartyRow
from desk.store.repositories import stored_masked_id

DIVERTED = "diverted"  # the case state of a case diverted to a hall and not yet routed to a room
_CHUNK = 500  # ids per IN (...) list


@dataclass(frozen=True)
class RoutingCase:
    """What routing and the ticket need of a case."""

    id: str
    case_no: str
    category_code: str
    headcount: int
    risk_flags: tuple[str, ...]
    state: str = ""
    hall_code: str = ""  # the hall that holds the case now (a diversion moves it)


@dataclass(frozen=True)
class DivertedCase:
    """A case the county diverted to this hall (上级分流), waiting to be routed to one of its rooms."""

    case_no: str
    category_code: str
    category_name: str
    applicant_name: str
    applicant_id_masked: str
    headcount: int
    registered_at: dt.datetime
    diverted_at: dt.datetime | None
    diverted_by: str
    from_hall: str
    reason: str


def routing_case(session: Session, case_no: str) -> RoutingCase | None:
    row = session.execute(
        sa.select(
            CaseRow.id,
            CaseRow.case_no,
            CaseRow.category_code,
            CaseRow.headcount,
            CaseRow.risk_flags,
            CaseRow.state,
            CaseRow.hall_code,
        )
        .where(CaseRow.case_no == case_no)
        .limit(1)
    ).first()
    return None if row is None else RoutingCase(row[0], row[1], row[2], row[3], tuple(row[4]), row[5], row[6])


def applicant_age(session: Session, case_id: str) -> tuple[dt.date | None, str | None]:
    """The case's first applicant's birth date (records from before encryption only) and age band (derived at
    registration from the ID number), if known."""
    row = session.execute(
        sa.select(PartyRow.birth_date, PartyRow.age_band)
        .where(PartyRow.case_id == case_id, PartyRow.role == "applicant")
        .order_by(PartyRow.position)
        .limit(1)
    ).first()
    return (None, None) if row is None else (row[0], row[1])


def diverted_count(session: Session, hall_code: str) -> int:
    """How many diverted cases wait to be routed in the hall: one indexed count."""
    return int(
        session.scalar(
            sa.select(sa.func.count())
            .select_from(CaseRow)
            .where(CaseRow.state == DIVERTED, CaseRow.hall_code == hall_code)
        )
        or 0
    )


def diverted_cases(session: Session, hall_code: str) -> list[DivertedCase]:
    """The cases diverted to the hall that no room has taken yet, longest waiting first; the reason is the one
    given with the latest diversion."""
    cases = session.execute(
        sa.select(CaseRow, CategoryRow.name)
        .outerjoin(CategoryRow, CategoryRow.code == CaseRow.category_code)
        .where(CaseRow.state == DIVERTED, CaseRow.hall_code == hall_code)
    ).all()
    ids = [c.id for c, _ in cases]
    applicants: dict[str, PartyRow] = {}
    diversions: dict[str, CaseEvent] = {}
    for chunk in (ids[i : i + _CHUNK] for i in range(0, len(ids), _CHUNK)):
        for p in session.scalars(
            sa.select(PartyRow)
            .where(PartyRow.case_id.in_(chunk), PartyRow.role == "applicant")
            .order_by(PartyRow.position)
        ):
            applicants.setdefault(p.case_id, p)
        for e in session.scalars(
            sa.select(CaseEvent)
            .where(CaseEvent.case_id.in_(chunk), CaseEvent.kind == "diverted")
            .order_by(CaseEvent.hlc, CaseEvent.hall_code, CaseEvent.hall_seq)
        ):
            diversions[e.case_id] = e  # the latest (in causal order) wins
    out = []
    for c, category in cases:
        a, d = applicants.get(c.id), diversions.get(c.id)
        body = ev.decode(d.kind, d.payload) if d is not None else None
        diverted = body if isinstance(body, ev.Diverted) else ev.Diverted(to_hall=hall_code)
        out.append(
            DivertedCase(
                case_no=c.case_no,
                category_code=c.category_code,
                category_name=category or c.category_code,
                applicant_name=a.name if a else "",
                applicant_id_masked=stored_masked_id(a.id_number if a else None),
                headcount=c.headcount,
                registered_at=c.registered_at,
                diverted_at=d.occurred_at if d is not None else None,
                diverted_by=d.actor if d is not None else "",
                from_hall=diverted.from_hall,
                reason=diverted.reason,
            )
        )
    return sorted(out, key=lambda x: (x.diverted_at or x.registered_at, x.case_no))
