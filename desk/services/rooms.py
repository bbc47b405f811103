"""The hall's rooms (list, open and close, edit) and its mediator roster."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from desk.core.audit import AuditAction
from desk.core.parties import parse_person_name, parse_phone
from desk.core.permissions import Action
from desk.core.routing import STATION_MODES
from desk.errors import FieldProblem, NotFound, ValidationError
from desk.services.base import HallUseCases
from desk.store.events import bump_counter
from desk.store.queries import rooms as rooms_q
from desk.store.queries.hall import ROOM_EDITS
from desk.store.queries.rooms import MediatorView, RoomView

__all__ = ["ROOM_EDITS", "MediatorView", "RoomView", "RoomsService"]

logger = logging.getLogger(__name__)


class RoomsService(HallUseCases):
    """Use cases of the hall's rooms and roster. Every edit moves the hall's change mark, so open windows refresh."""

    # --- rooms ------------------------------------------------------------------------------------------

    def rooms(self) -> list[RoomView]:
        """The hall's rooms in their order, each with how many wait in it."""
        with self._store.read() as s:
            return rooms_q.rooms(s, self.hall_code)

    def room(self, code: str) -> RoomView:
        with self._store.read() as s:
            found = rooms_q.room(s, self.hall_code, code)
        if found is None:
            raise NotFound(f"功能室 {code} 不存在")
        return found

    def set_room_open(self, code: str, is_open: bool) -> None:
        self.guard(Action.ROOMS)
        with self._store.unit_of_work() as s:
            if not rooms_q.set_room_open(s, self.hall_code, code, is_open):
                raise NotFound(f"功能室 {code} 不存在")
            bump_counter(s, self.hall_code, ROOM_EDITS)
            self.audit(s, AuditAction.CHANGE, detail="功能室开放状态")
        logger.info("room %s %s", code, "opened" if is_open else "closed")

    def update_room(
        self,
        code: str,
        *,
        name: str,
        kind: str,
        prefix: str,
        capacity: int,
        location: str,
        categories: Sequence[str],
        staff: Sequence[dict[str, str]] = (),
        departments: Sequence[dict[str, str]] = (),
        primary_categories: Sequence[str] | None = None,
    ) -> RoomView:
        """Edit a room; every field is checked and all problems are reported together."""
        problems: list[FieldProblem] = []
        name, location, prefix = name.strip(), location.strip(), prefix.strip().upper()
        if not 1 <= len(name) <= 40:
            problems.append(FieldProblem("name", "功能室名称应为1至40个字"))
        if not kind.strip():
            problems.append(FieldProblem("kind", "请选择功能室类型"))
        if len(prefix) != 1 or not ("A" <= prefix <= "Z"):
            problems.append(FieldProblem("prefix", "排队号前缀应为一个大写字母 A–Z"))
        if not 1 <= capacity <= 500:
            problems.append(FieldProblem("capacity", "容纳人数应为1至500"))
        if len(location) > 60:
            problems.append(FieldProblem("location", "位置说明最多60个字"))
        if any(st.get("mode") not in STATION_MODES for st in staff):
            problems.append(FieldProblem("staff", "驻室方式应为常驻、轮驻或随叫随驻"))
        ids = [st.get("mediator_id") for st in staff]
        if len(set(ids)) != len(ids):
            problems.append(FieldProblem("staff", "同一调解员在本室只能登记一次"))
        if any(d.get("mode") not in STATION_MODES for d in departments):
            problems.append(FieldProblem("departments", "驻室方式应为常驻、轮驻或随叫随驻"))
        if any(not str(d.get("name", "")).strip() or len(str(d.get("name"))) > 40 for d in departments):
            problems.append(FieldProblem("departments", "派驻部门名称应为1至40个字"))
        unique_categories = list(dict.fromkeys(categories))
        self.guard(Action.ROOMS)
        with self._store.unit_of_work() as s:
            if not rooms_q.room_exists(s, self.hall_code, code):
                raise NotFound(f"功能室 {code} 不存在")
            clash = rooms_q.prefix_holder(s, self.hall_code, prefix, other_than=code)
            if clash:
                problems.append(FieldProblem("prefix", f"前缀 {prefix} 已由“{clash}”使用"))
            known = rooms_q.mediator_ids(s, self.hall_code)
            if any(i not in known for i in ids):
                problems.append(FieldProblem("staff", "驻室人员中有不在调解员名册里的人"))
            if problems:
                raise ValidationError(problems)
            edited = rooms_q.update_room(
                s,
                self.hall_code,
                code,
                name=name,
                kind=kind.strip(),
                prefix=prefix,
                capacity=capacity,
                location=location,
                categories=unique_categories,
                primary_categories=None
                if primary_categories is None
                else [c for c in dict.fromkeys(primary_categories) if c in unique_categories],
                staff=staff,
                departments=departments,
            )
            assert edited is not None  # it exists: checked above, in this transaction
            bump_counter(s, self.hall_code, ROOM_EDITS)
            self.audit(s, AuditAction.CHANGE, detail="修改功能室")
        logger.info("room %s edited", code)
        return edited

    # --- the mediator roster ------------------------------------------------------------------------------

    def mediators(self) -> list[MediatorView]:
        """The hall's roster (active mediators), by name."""
        with self._store.read() as s:
            return rooms_q.mediators(s, self.hall_code)

    def save_mediator(
        self,
        mediator_id: str | None,
        *,
        name: str,
        grade: str = "",
        specialties: Sequence[str] = (),
        phone: str = "",
    ) -> MediatorView:
        """Add a mediator to the roster (`mediator_id` None) or correct one; every field is checked."""
        problems: list[FieldProblem] = []
        clean_name = clean_phone = ""
        try:
            clean_name = parse_person_name(name)
        except ValidationError as e:
            problems += e.problems
        if phone.strip():
            try:
                clean_phone = parse_phone(phone).value
            except ValidationError as e:
                problems += e.problems
        grade = grade.strip()
        if len(grade) > 20:
            problems.append(FieldProblem("grade", "等级最多20个字"))
        unique_specialties = list(dict.fromkeys(specialties))
        self.guard(Action.ROOMS)
        with self._store.unit_of_work() as s:
            known = rooms_q.category_codes(s)
            if any(c not in known for c in specialties):
                problems.append(FieldProblem("specialties", "擅长类别中有不在类别目录里的类别"))
            if problems:
                raise ValidationError(problems)
            if mediator_id is None:
                saved = rooms_q.add_mediator(
                    s,
                    self.hall_code,
                    name=clean_name,
                    grade=grade,
                    specialties=unique_specialties,
                    phone=clean_phone,
                )
            else:
                found = rooms_q.update_mediator(
                    s,
                    self.hall_code,
                    mediator_id,
                    name=clean_name,
                    grade=grade,
                    specialties=unique_specialties,
                    phone=clean_phone,
                )
                if found is None:
                    raise NotFound("调解员不存在")
                saved = found
            bump_counter(s, self.hall_code, ROOM_EDITS)
            self.audit(s, AuditAction.CHANGE, detail="保存调解员")
        return saved

    def retire_mediator(self, mediator_id: str) -> None:
        """Take a mediator off the roster and out of every room; their past work stays in the case events."""
        self.guard(Action.ROOMS)
        with self._store.unit_of_work() as s:
            if not rooms_q.retire_mediator(s, self.hall_code, mediator_id):
                raise NotFound("调解员不存在")
            bump_counter(s, self.hall_code, ROOM_EDITS)
            self.audit(s, AuditAction.CHANGE, detail="调解员离岗")

    def room_mediators(self, code: str) -> list[tuple[MediatorView, str]]:
        """The mediators stationed in a room, with their mode (resident / rotating / on_call)."""
        with self._store.read() as s:
            room = rooms_q.room(s, self.hall_code, code)
            if room is None:
                raise NotFound(f"功能室 {code} 不存在")
            by_id = {m.id: m for m in rooms_q.mediators(s, self.hall_code)}
        return [(by_id[x["mediator_id"]], x["mode"]) for x in room.staff if x.get("mediator_id") in by_id]
