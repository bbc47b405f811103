"""Registering a walk-in visit: check it, open a case (or record a repeat visit on an open one), find people."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from desk.core import events as ev
from desk.core.audit import AuditAction
from desk.core.cases import CaseState, Visit, parse_visit
from desk.core.catalog import Category, find_categories, name_initials
from desk.core.clock import CHINA_TZ, Clock, local_date
from desk.core.ids import case_number, new_id, status_token
from desk.core.permissions import ANONYMOUS, Action, Principal
from desk.core.text import search_key
from desk.errors import DeskError, NotFound, ValidationError
from desk.services import sealing
from desk.services.base import HallUseCases
from desk.store import repositories as repo
from desk.store.events import append_event, bump_counter
from desk.store.repositories import CaseDetail, CaseSummary
from desk.store.session import Store

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from desk.core.calendar import WorkCalendar
    from desk.core.deadlines import DeadlineRules
    from desk.security.vault import Vault

logger = logging.getLogger(__name__)

OPEN_STATES = tuple(s.value for s in CaseState if s.is_open)


@dataclass(frozen=True)
class RegistrationResult:
    case_id: str
    case_no: str
    is_repeat: bool  # the visit was recorded as a repeat visit on an open case
    warnings: tuple[str, ...]


class RegistrationService(HallUseCases):
    """The front desk's use cases. `actor` is who is signed in at this window."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        *,
        principal: Principal = ANONYMOUS,
        vault: Vault | None = None,
        calendar: WorkCalendar | None = None,
        rules: DeadlineRules | None = None,
    ) -> None:
        super().__init__(store, clock, principal=principal, vault=vault)
        self._calendar = calendar  # None: the bundled calendar and rules, loaded when first needed
        self._rules = rules
        self._categories: list[Category] | None = None
        self._hall: repo.HallInfo | None = None

    # --- reference data ---------------------------------------------------------------------------

    @property
    def hall(self) -> repo.HallInfo:
        if self._hall is None:
            with self._store.read() as s:
                self._hall = repo.local_hall(s)
            if self._hall is None:
                raise DeskError("数据库尚未初始化：请先运行 desk init")
        return self._hall

    def categories(self) -> list[Category]:
        if self._categories is None:
            with self._store.read() as s:
                self._categories = repo.load_categories(s)
        return self._categories

    def find_categories(self, query: str) -> list[Category]:
        return find_categories(self.categories(), query)

    def category(self, code: str) -> Category | None:
        return next((c for c in self.categories() if c.code == code), None)

    def today(self) -> dt.date:
        """Today in China time, by the service's clock (for checking birth dates)."""
        return local_date(self._clock.now())

    # --- checking and registering -------------------------------------------------------------------

    def check(self, data: Mapping[str, object]) -> Visit:
        """Validate a visit exactly as registration will; raises ValidationError listing every problem."""
        return parse_visit(data, categories=self.categories(), today=local_date(self._clock.now()))

    def register(
        self, data: Mapping[str, object], *, repeat_of: str | None = None, new_case: bool = False
    ) -> RegistrationResult:
        """Register a visit. It opens a new case, unless it is a return about an open case of the same
        category by the same applicant (or `repeat_of` names one): then it is a repeat visit on that case.
        `new_case=True` opens a new case even so (a second, different dispute). Returns after the commit."""
        self.guard(Action.REGISTER)
        visit = self.check(data)
        now = self._clock.now()
        hall = self.hall
        self._hall_code = hall.code
        vault = self.vault
        # the log and the projections get the visit sealed; the checks below use the plaintext `visit`
        record = sealing.seal_visit(visit_record(visit), vault, local_date(now))
        a = visit.applicant
        person = applicant_index(visit, vault)
        with self._store.unit_of_work() as s:
            target: CaseSummary | CaseDetail | None = None
            if repeat_of:
                target = repo.case_detail(s, case_no=repeat_of)
                if target is None:
                    raise NotFound(f"案件 {repeat_of} 不存在")
                if target.state not in OPEN_STATES:
                    raise ValidationError.single(
                        "repeat_of", f"案件 {repeat_of} 已办结，不能记为重复访；请另立新案"
                    )
            elif not new_case and (a.id_number or a.phone):
                earlier = repo.open_cases_of_applicant(
                    s,
                    **person,
                    category_code=visit.category.code,
                    open_states=OPEN_STATES,
                )
                target = earlier[0] if earlier else None
            if target is not None:
                append_event(
                    s,
                    hall_code=hall.code,
                    case_id=target.id,
                    body=ev.RepeatVisit(record, tuple(sorted(visit.risk_flags))),
                    occurred_at=now,
                    actor=self.actor,
                )
                result = RegistrationResult(target.id, target.case_no, True, visit.warnings)
            else:
                case_id = new_id()
                year = now.astimezone(CHINA_TZ).year
                no = case_number(hall.code, year, bump_counter(s, hall.code, f"case:{year}"))
                append_event(
                    s,
                    hall_code=hall.code,
                    case_id=case_id,
                    body=ev.Registered(
                        case_no=no,
                        visit=record,
                        status_token=status_token(),
                        deadline_at=now + dt.timedelta(days=visit.category.deadline_days),
                    ),
                    occurred_at=now,
                    actor=self.actor,
                )
                self._set_deadline(s, hall.code, case_id, visit, now)
                result = RegistrationResult(case_id, no, False, visit.warnings)
            assess_risk(
                s,
                hall_code=hall.code,
                case_id=result.case_id,
                visit=visit,
                now=now,
                actor=self.actor,
                person=person,
            )
            self.audit(
                s,
                AuditAction.CHANGE,
                case_id=result.case_id,
                case_no=result.case_no,
                detail="重复访" if result.is_repeat else "登记受理",
                at=now,
            )
        logger.info("registered %s (repeat=%s)", result.case_no, result.is_repeat)
        return result

    def _set_deadline(self, s: Session, hall_code: str, case_id: str, visit: Visit, now: dt.datetime) -> None:
        """The new case's time limit by its rule (DeadlineSet); a calendar lacking the year warns, never blocks."""
        from desk.services.calendars import load_calendar, load_rules, set_deadline

        self._calendar = self._calendar or load_calendar()
        self._rules = self._rules or load_rules()
        set_deadline(
            s,
            hall_code=hall_code,
            case_id=case_id,
            channel=visit.channel.value,
            category_code=visit.category.code,
            now=now,
            actor=self.actor,
            calendar=self._calendar,
            rules=self._rules,
        )

    # --- finding people and cases -------------------------------------------------------------------

    def person_cases(self, *, id_number: str | None = None, phone: str | None = None) -> list[CaseSummary]:
        """The known-person panel: every case of the person with this ID number or phone (by blind index)."""
        self.guard(Action.SEARCH)
        vault = self.vault
        with self._store.read() as s:
            found = repo.cases_of_person(
                s, id_index=sealing.id_index(vault, id_number), phone_index=sealing.phone_index(vault, phone)
            )
        return sealing.mask_summaries(found, vault)

    def search(self, text: str, *, limit: int = 50) -> list[CaseSummary]:
        """Cases by ID number, phone, case number, name or initials. The query is cleaned as stored text is
        (invisible characters and bidi controls dropped, NFC), so a name pasted with a zero-width space in it
        finds what the screen shows. An ID number or phone is looked up by its blind index."""
        self.guard(Action.SEARCH)
        query = search_key(text)
        kind, key = repo.classify_query(query)
        vault = self.vault
        index = vault.index(kind, key) if kind in ("id", "phone") else None
        with self._store.read() as s:
            found = repo.search_cases(s, query, limit=limit, blind_index=index)
        return sealing.mask_summaries(found, vault)

    def case(self, case_no: str, *, reveal: bool = False) -> CaseDetail:
        """A case's details, the parties' ID numbers, phones and addresses masked; `reveal` gives them in full
        (the full record: a mediator of the case's room or who claimed it, or a supervisor; audited)."""
        self.guard(Action.VIEW_FULL if reveal else Action.VIEW_CASE)
        with self._store.read() as s:
            detail = repo.case_detail(s, case_no=case_no)
        if detail is None:
            raise NotFound(f"案件 {case_no} 不存在")
        if reveal:
            self.record_full_view(detail.id, detail.case_no)
        return sealing.open_detail(detail, self.vault, reveal=reveal, today=self.today())


def visit_record(visit: Visit) -> ev.VisitRecord:
    """A checked visit as the log records it; each party gets its id here."""
    return ev.VisitRecord(
        category=visit.category.code,
        channel=visit.channel.value,
        headcount=visit.headcount,
        narrative=visit.narrative,
        risk_flags=tuple(sorted(visit.risk_flags)),
        parties=tuple(
            ev.PartyRecord(
                id=new_id(),
                role=p.role.value,
                name=p.name,
                name_initials=name_initials(p.name) if not p.is_organisation else "",
                is_organisation=p.is_organisation,
                id_number=p.id_number,
                phone=p.phone,
                address=p.address,
                birth_date=p.birth_date,
                sex=p.sex,
            )
            for p in visit.parties
        ),
    )


def applicant_index(visit: Visit, vault: Vault) -> dict[str, str | None]:
    """How the applicant is looked up for repeat visits: the blind index of the ID number, else of the phone."""
    a = visit.applicant
    idx = sealing.id_index(vault, a.id_number)
    return {"id_index": idx, "phone_index": None if idx else sealing.phone_index(vault, a.phone)}


def visit_as_dict(visit: Visit) -> dict[str, Any]:
    """A checked visit back in the JSON shape `desk register` reads."""
    return {
        "category": visit.category.name,
        "channel": visit.channel.value,
        "headcount": visit.headcount,
        "narrative": visit.narrative,
        "risk_flags": sorted(visit.risk_flags),
        "parties": [
            {
                k: v
                for k, v in dataclasses.asdict(p).items()
                if k in ("role", "name", "id_number", "phone", "address")
            }
            for p in visit.parties
        ],
    }


def assess_risk(
    s: Session,
    *,
    hall_code: str,
    case_id: str,
    visit: Visit,
    now: dt.datetime,
    actor: str,
    person: Mapping[str, str | None],
) -> None:
    """The risk of a visit just recorded on a case (new or repeat), in the registration's unit of work.

    The automatic flags (`desk.core.risk.auto_flags`: group visit, a crisis word in the narrative, the same
    person's other open case of the same category or their third visit in 90 days) the case lacks are added
    (RiskFlagged); with the desk's own flags they give the level (RiskAssessed), and a 重大 level or a crisis
    raises an immediate warning the supervisor sees at once (`alerts.record_assessment`). `person` is the
    applicant's blind index (`applicant_index`); the crisis words are looked for in the plaintext narrative."""
    from desk.core.risk import REPEAT_WINDOW_DAYS, auto_flags
    from desk.services.alerts import record_assessment
    from desk.store.queries import alerts as alerts_q

    case = alerts_q.case_by_id(s, case_id)
    if case is None:
        return
    other_open = alerts_q.open_cases_of_person(
        s, **person, category_code=visit.category.code, open_states=OPEN_STATES, other_than=case_id
    )
    visits = alerts_q.visits_since(s, **person, since=now - dt.timedelta(days=REPEAT_WINDOW_DAYS))
    found = auto_flags(visit.headcount, visit.narrative, other_open > 0, visits)
    added = {f.value for f in found} - set(case.risk_flags)
    if added:
        append_event(
            s,
            hall_code=hall_code,
            case_id=case_id,
            body=ev.RiskFlagged(tuple(sorted(added))),
            occurred_at=now,
            actor=actor,
        )
    record_assessment(
        s,
        hall_code=hall_code,
        case_id=case_id,
        added=added | {f.value for f in visit.risk_flags},
        occurred_at=now,
        actor=actor,
    )
