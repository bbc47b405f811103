"""Creating a hall's store: the category catalog and the default "one hall + N rooms" layout from resources/."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from desk.config import RESOURCES
from desk.core.catalog import DEADLINE_DAYS
from desk.core.ids import new_id
from desk.errors import DeskError
from desk.store.models import CategoryRow, Hall, MediatorRow, RoomRow
from desk.store.session import Store

logger = logging.getLogger(__name__)

CATALOG = RESOURCES / "catalog"


@dataclass(frozen=True)
class InitReport:
    hall_code: str
    hall_name: str
    categories: int
    rooms: int
    created_hall: bool


def _load(name: str, path: Path | None = None) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((path or CATALOG / name).read_text(encoding="utf-8"))
    return data


def seed_categories(store: Store) -> int:
    """Insert catalog categories that are missing and update the names and deadlines of those present."""
    cats = _load("categories.json")["categories"]
    with store.unit_of_work() as s:
        existing = {c.code: c for c in s.scalars(sa.select(CategoryRow))}
        for i, c in enumerate(cats):
            if c["deadline_class"] not in DEADLINE_DAYS:
                raise DeskError(f"类别目录中“{c['name']}”的期限类别 {c['deadline_class']} 无效")
            row = existing.get(c["code"])
            if row is None:
                s.add(
                    CategoryRow(
                        code=c["code"],
                        name=c["name"],
                        deadline_class=c["deadline_class"],
                        aliases=c.get("aliases", []),
                        position=i,
                        active=True,
                    )
                )
            else:
                row.name, row.deadline_class, row.aliases, row.position = (
                    c["name"],
                    c["deadline_class"],
                    c.get("aliases", []),
                    i,
                )
    return len(cats)


def init_hall(store: Store, *, hall_code: str | None = None, hall_name: str | None = None) -> InitReport:
    """Make sure the store has its local hall, the categories and (for a new hall) the default rooms."""
    layout = _load("rooms.json")
    n_categories = seed_categories(store)
    with store.unit_of_work() as s:
        local = s.scalars(sa.select(Hall).where(Hall.is_local)).first()
        created = False
        if local is None:
            code = hall_code or layout["hall"]["code"]
            if not (code.isdigit() and 6 <= len(code) <= 12):
                raise DeskError(f"综治中心代码“{code}”无效：应为6至12位数字的行政区划代码，如 620702001")
            local = s.get(Hall, code)
            if local is None:
                local = Hall(
                    code=code,
                    name=hall_name or layout["hall"]["name"],
                    phone=layout["hall"]["phone"],
                    last_seq=0,
                    is_local=True,
                )
                s.add(local)
            else:
                local.is_local = True
            created = True
        elif hall_code and hall_code != local.code:
            raise DeskError(f"此数据库已属于综治中心 {local.code}，不能改为 {hall_code}")
        s.flush()
        n_rooms = s.scalar(
            sa.select(sa.func.count()).select_from(RoomRow).where(RoomRow.hall_code == local.code)
        )
        if not n_rooms:
            for i, r in enumerate(layout["rooms"]):
                s.add(
                    RoomRow(
                        id=new_id(),
                        hall_code=local.code,
                        code=r["code"],
                        name=r["name"],
                        kind=r["kind"],
                        prefix=r["prefix"],
                        capacity=r["capacity"],
                        location=r["location"],
                        categories=r["categories"],
                        primary_categories=r.get("primary", []),
                        is_open=True,
                        position=i,
                    )
                )
            n_rooms = len(layout["rooms"])
            s.flush()
            _seed_staff(s, local.code)
        report = InitReport(local.code, local.name, n_categories, int(n_rooms or 0), created)
    logger.info("hall %s ready: %d categories, %d rooms", report.hall_code, report.categories, report.rooms)
    return report


def _seed_staff(s: Any, hall_code: str) -> None:
    """The example mediators and stationed departments of a new hall (editable in the app)."""
    data = _load("mediators.json")
    rooms = {r.code: r for r in s.scalars(sa.select(RoomRow).where(RoomRow.hall_code == hall_code))}
    staff: dict[str, list[dict[str, str]]] = {}
    for m in data["mediators"]:
        mid = new_id()
        s.add(
            MediatorRow(
                id=mid,
                hall_code=hall_code,
                name=m["name"],
                grade=m["grade"],
                specialties=m["specialties"],
                phone=m["phone"],
                active=True,
            )
        )
        for placement in m["rooms"]:
            staff.setdefault(placement["room"], []).append({"mediator_id": mid, "mode": placement["mode"]})
    departments: dict[str, list[dict[str, str]]] = {}
    for d in data["departments"]:
        departments.setdefault(d["room"], []).append({"name": d["name"], "mode": d["mode"]})
    for code, room in rooms.items():
        room.staff = staff.get(code, [])
        room.departments = departments.get(code, [])
