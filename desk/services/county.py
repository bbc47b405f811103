"""The county store: setting it up, its halls registry, and diverting cases down to a hall (上级分流)."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from dataclasses import dataclass

import sqlalchemy as sa

from desk.core.clock import Clock
from desk.core.events import Diverted
from desk.core.permissions import ANONYMOUS, Action, Principal, check
from desk.errors import DeskError, NotFound, ValidationError
from desk.services.registration import RegistrationService
from desk.services.setup import _load, seed_categories
from desk.store import county
from desk.store.events import append_event
from desk.store.models import CaseEvent, CaseRow, DepartmentRow, Hall, SyncAlert
from desk.store.roles import RoleEntry, create_roles
from desk.store.session import Store

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class CountyReport:
    code: str
    name: str
    categories: int
    departments: int
    reference_version: int
    roles: tuple[RoleEntry, ...] = ()
    """The PostgreSQL roles of least privilege granted in this database (`desk.store.roles`); () when skipped."""


def seed_departments(store: Store) -> int:
    deps = _load("departments.json")["departments"]
    with store.unit_of_work() as s:
        existing = {d.code: d for d in s.scalars(sa.select(DepartmentRow))}
        for i, d in enumerate(deps):
            row = existing.get(d["code"])
            if row is None:
                s.add(
                    DepartmentRow(
                        code=d["code"], name=d["name"], phone=d.get("phone", ""), position=i, active=True
                    )
                )
            else:
                row.name, row.phone, row.position = d["name"], d.get("phone", ""), i
    return len(deps)


def init_county(
    store: Store,
    *,
    code: str,
    name: str,
    roles: bool = True,
    role_passwords: Mapping[str, str] | None = None,
) -> CountyReport:
    """Make this (PostgreSQL) store the county's: its own hall row, the reference data, role "county", and
    (with `roles`) the database roles of least privilege with their grants in this database (`role_passwords`:
    role name -> password, for password authentication). Running it again upgrades, refreshes the reference
    data (the halls then pull the new version) and grants afresh."""
    if store.dialect != "postgresql":
        raise DeskError("县级库须为 PostgreSQL 数据库")
    if not (code.isdigit() and 6 <= len(code) <= 12):
        raise DeskError(f"县级代码“{code}”无效：应为6至12位数字的行政区划代码，如 620702")
    with store.unit_of_work() as s:
        role = county.get_meta(s, county.ROLE)
        local = s.scalars(sa.select(Hall).where(Hall.is_local)).first()
        if role != "county" and (
            local is not None or s.scalar(sa.select(sa.func.count()).select_from(CaseEvent))
        ):
            raise DeskError("此数据库已是某综治中心的本地库，不能改作县级库")
        if local is None:
            if s.get(Hall, code) is not None:
                raise DeskError(f"代码 {code} 已是登记的下级综治中心，不能作为县级代码")
            s.add(Hall(code=code, name=name, phone="", last_seq=0, is_local=True, acked_seq=0))
        elif local.code != code:
            raise DeskError(f"此县级库的代码是 {local.code}，不能改为 {code}")
        county.set_meta(s, county.ROLE, "county")
    n_categories = seed_categories(store)
    n_departments = seed_departments(store)
    with store.unit_of_work() as s:
        version = int(county.get_meta(s, county.REFERENCE_VERSION) or 0) + 1
        county.set_meta(s, county.REFERENCE_VERSION, str(version))
    county.install(store)
    granted: tuple[RoleEntry, ...] = ()
    if roles:
        database = store.engine.url.database or ""
        granted = tuple(create_roles(store.engine, database=database, passwords=role_passwords))
    logger.info("county store %s ready (reference data v%d)", code, version)
    return CountyReport(
        code, name if local is None else local.name, n_categories, n_departments, version, granted
    )


@dataclass(frozen=True)
class HallEntry:
    code: str
    name: str
    acked_seq: int
    registered_at: dt.datetime | None
    last_push_at: dt.datetime | None
    alerts: int


@dataclass(frozen=True)
class Diversion:
    case_no: str
    case_id: str
    to_hall: str
    to_hall_name: str


class CountyService:
    """What a supervisor does at the county store."""

    def __init__(self, store: Store, clock: Clock, *, principal: Principal = ANONYMOUS) -> None:
        self._store = store
        self._clock = clock
        self.principal = principal
        self.actor = principal.actor

    def is_county(self) -> bool:
        return county.store_role(self._store) == "county"

    def _require_county(self) -> None:
        if not self.is_county():
            raise DeskError("此数据库不是县级库：上级分流须在县级库进行（desk county init）")

    def halls(self) -> list[HallEntry]:
        """The halls registry: every hall that has synced, with what the county holds of it."""
        check(self.principal, Action.REPORTS)
        with self._store.read() as s:
            alerts = dict(
                s.execute(sa.select(SyncAlert.hall_code, sa.func.count()).group_by(SyncAlert.hall_code)).all()
            )
            return [
                HallEntry(
                    h.code,
                    h.name,
                    int(h.acked_seq),
                    h.registered_at,
                    h.last_push_at,
                    int(alerts.get(h.code, 0)),
                )
                for h in s.scalars(sa.select(Hall).where(Hall.is_local.is_(False)).order_by(Hall.code))
            ]

    def alerts(self, limit: int = 50) -> list[tuple[dt.datetime, str, str, str]]:
        check(self.principal, Action.REPORTS)
        with self._store.read() as s:
            return [
                (a.at, a.hall_code, a.kind, a.detail)
                for a in s.scalars(sa.select(SyncAlert).order_by(SyncAlert.at.desc()).limit(limit))
            ]

    def divert_visit(self, data: Mapping[str, object], *, to_hall: str, reason: str = "") -> Diversion:
        """Register a visit at the county (the same checks as at a window) and divert it to a hall."""
        check(self.principal, Action.DIVERT)
        self._require_county()
        self._hall(to_hall)  # refuse an unknown hall before registering anything
        reg = RegistrationService(self._store, self._clock, principal=self.principal).register(
            data, new_case=True
        )
        return self.divert(reg.case_no, to_hall=to_hall, reason=reason)

    def divert(self, case_no: str, *, to_hall: str, reason: str = "") -> Diversion:
        """Divert an existing case to a hall; the hall pulls it and routes it to one of its rooms."""
        check(self.principal, Action.DIVERT)
        self._require_county()
        with self._store.unit_of_work() as s:
            hall = self._hall(to_hall, s)
            case = s.scalar(sa.select(CaseRow).where(CaseRow.case_no == case_no))
            if case is None:
                raise NotFound(f"案件 {case_no} 不存在")
            if case.hall_code == to_hall and case.state == "diverted":
                raise ValidationError.single("to_hall", f"案件 {case_no} 已分流至{hall.name}")
            append_event(
                s,
                hall_code=self._local_code(s),
                case_id=case.id,
                body=Diverted(to_hall=to_hall, from_hall=case.hall_code, reason=reason.strip()),
                occurred_at=self._clock.now(),
                actor=self.actor,
            )
            result = Diversion(case_no, case.id, to_hall, hall.name)
        logger.info("case %s diverted to hall %s", case_no, to_hall)
        return result

    def _hall(self, code: str, s: sa.orm.Session | None = None) -> Hall:
        if s is None:
            with self._store.read() as rs:
                return self._hall(code, rs)
        hall = s.get(Hall, code)
        if hall is None or hall.is_local:
            raise ValidationError.single(
                "to_hall", f"综治中心 {code} 尚未在县级库登记（它首次同步时自动登记）"
            )
        return hall

    @staticmethod
    def _local_code(s: sa.orm.Session) -> str:
        code = s.scalar(sa.select(Hall.code).where(Hall.is_local))
        if code is None:
            raise DeskError("县级库尚未初始化：请先运行 desk county init")
        return str(code)
