"""Table models about cases: a list of cases, the parties of one case, and one case's event history."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QCoreApplication, QModelIndex, QPersistentModelIndex

from desk.core import events as ev
from desk.core.cases import CHANNEL_LABELS, CaseState, Channel, RiskFlag
from desk.core.clock import CHINA_TZ
from desk.core.parties import PartyRole, mask_id_number
from desk.core.parties import mask_phone as core_mask_phone
from desk.core.queue import PriorityReason
from desk.ui.models.base import ListModel

if TYPE_CHECKING:
    from desk.services.views import CaseSummary, EventView, PartyView

logger = logging.getLogger(__name__)

# The row's dataclass, for views and dialogs that act on a row (open, copy).

_Index = QModelIndex | QPersistentModelIndex

# What a `document_printed` event printed: 打印回执, or 补打回执 for a reprint.
DOCUMENT_LABELS = {
    "receipt": "回执",
    "sheet": "登记表",
    "registration_sheet": "登记表",
    "agreement": "调解协议书",
    "whistle_notice": "吹哨通知单",
}


def event_label(body: ev.EventBody) -> str:
    """The event's kind in Chinese (translated); a print names the document and whether it was a reprint (补打)."""
    if isinstance(body, ev.DocumentPrinted):
        what = DOCUMENT_LABELS.get(body.document, body.document or "文书")
        return ("补打" if body.reprint else "打印") + what
    return QCoreApplication.translate(ev.LABEL_CONTEXT, ev.label_of(body))


def china_time(moment: dt.datetime) -> str:
    """`2026-11-27 10:00` in China time, however the moment was stored."""
    return moment.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M")


def state_label(state: str) -> str:
    try:
        return CaseState(state).label
    except ValueError:
        return state


def risk_labels(flags: Sequence[str]) -> str:
    out = []
    for f in flags:
        try:
            out.append(RiskFlag(f).label)
        except ValueError:
            out.append(f)
    return "、".join(out)


def channel_label(channel: str) -> str:
    try:
        return CHANNEL_LABELS[Channel(channel)]
    except ValueError:
        return channel


def role_label(role: str) -> str:
    try:
        return PartyRole(role).label
    except ValueError:
        return role


def mask_phone(phone: str | None) -> str:
    """`139****5678`: screens at the window face the queue too (the services hand out masked numbers already;
    masking one again leaves it as it is)."""
    return core_mask_phone(phone)


class _ListModel(ListModel[Any]):
    """A read-only table over a list of frozen dataclasses, its rows numbered and its cells repeated as tooltips;
    subclasses name the columns and the cells."""

    ROW_NUMBERS = True
    TOOLTIPS = True


class CaseTableModel(_ListModel):
    """Cases found by a search or a person look-up, newest first as the service returns them."""

    def __init__(
        self,
        cases: Sequence[CaseSummary] = (),
        *,
        category_names: Mapping[str, str] | None = None,
        parent: Any = None,
    ) -> None:
        super().__init__(parent)
        self._category_names = dict(category_names or {})
        self._rows = list(cases)

    def _headers(self) -> list[str]:
        return [
            self.tr("案件编号"),
            self.tr("登记时间"),
            self.tr("状态"),
            self.tr("类别"),
            self.tr("申请人"),
            self.tr("身份证号"),
        ]

    def set_cases(self, cases: Sequence[CaseSummary]) -> None:
        self.beginResetModel()
        self._rows = list(cases)
        self.endResetModel()

    def case_at(self, row: int) -> CaseSummary:
        c: CaseSummary = self._rows[row]
        return c

    def _cell(self, item: Any, column: int) -> str:
        c: CaseSummary = item
        if column == 0:
            return c.case_no
        if column == 1:
            return china_time(c.registered_at)
        if column == 2:
            return state_label(c.state)
        if column == 3:
            return self._category_names.get(c.category_code, c.category_code)
        if column == 4:
            return c.applicant_name
        if column == 5:
            return c.applicant_id_masked  # the service hands out masked numbers only
        return ""


class PartyTableModel(_ListModel):
    """The parties of one case; ID and phone numbers masked."""

    def __init__(self, parties: Sequence[PartyView] = (), parent: Any = None) -> None:
        super().__init__(parent)
        self._rows = list(parties)

    revealed = False
    """The parties come from the full record (a permitted role asked for it, audited): shown unmasked."""

    def set_parties(self, parties: Sequence[PartyView], *, revealed: bool = False) -> None:
        self.beginResetModel()
        self._rows = list(parties)
        self.revealed = revealed
        self.endResetModel()

    def _headers(self) -> list[str]:
        return [
            self.tr("身份"),
            self.tr("姓名/名称"),
            self.tr("身份证号"),
            self.tr("联系电话"),
            self.tr("住址"),
        ]

    def _cell(self, item: Any, column: int) -> str:
        p: PartyView = item
        if column == 0:
            return role_label(p.role) + (self.tr("（单位）") if p.is_organisation else "")
        if column == 1:
            return p.name
        if column == 2:
            return (
                (p.id_number or "") if self.revealed else mask_id_number(p.id_number) if p.id_number else ""
            )
        if column == 3:
            return (p.phone or "") if self.revealed else mask_phone(p.phone)
        if column == 4:
            return p.address
        return ""


class CaseEventTableModel(_ListModel):
    """A case's history, oldest first: when, what (in Chinese), who, and a short note."""

    def __init__(
        self,
        events: Sequence[EventView] = (),
        *,
        category_names: Mapping[str, str] | None = None,
        room_names: Mapping[str, str] | None = None,
        parent: Any = None,
    ) -> None:
        super().__init__(parent)
        self._category_names = dict(category_names or {})
        self._room_names = dict(room_names or {})
        self._rows = list(events)

    def set_events(self, events: Sequence[EventView]) -> None:
        self.beginResetModel()
        self._rows = list(events)
        self.endResetModel()

    def set_room_names(self, room_names: Mapping[str, str]) -> None:
        """The rooms' names, once they are read; the rows show them at once."""
        self._room_names = dict(room_names)
        if self._rows:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self._rows) - 1, self.columnCount() - 1))

    def _room(self, code: object) -> str:
        text = str(code or "")
        return self._room_names.get(text, text)

    def _headers(self) -> list[str]:
        return [self.tr("时间"), self.tr("事项"), self.tr("经办人"), self.tr("说明")]

    def _cell(self, item: Any, column: int) -> str:
        e: EventView = item
        if column == 0:
            return china_time(e.occurred_at)
        if column == 1:
            return event_label(e.body)
        if column == 2:
            return e.actor
        if column == 3:
            return self._note(e.body)
        return ""

    def _note(self, body: ev.EventBody) -> str:
        if isinstance(body, ev.Registered):
            v = body.visit
            category = self._category_names.get(v.category, v.category)
            return self.tr("{category}，{channel}，{n}人").format(
                category=category, channel=channel_label(v.channel), n=v.headcount
            )
        if isinstance(body, ev.RepeatVisit):
            note = self.tr("再次来访，{n}人").format(n=body.visit.headcount)
            flags = [f for f in body.risk_flags if f != RiskFlag.REPEAT_VISIT]
            return note + (self.tr("；风险：{flags}").format(flags=risk_labels(flags)) if flags else "")
        if isinstance(body, ev.RiskFlagged):
            return risk_labels(body.flags)
        return self._hall_note(body)

    def _hall_note(self, body: ev.EventBody) -> str:
        """Notes of the hall's events: where the case was sent and why, its ticket, calls, claims, transfers."""
        if isinstance(body, ev.Routed):
            room = self._room(body.room)
            if body.overridden:
                proposed = self._room(body.proposed) or self.tr("无")
                note = self.tr("{room}（前台改派，系统建议：{proposed}）").format(
                    room=room, proposed=proposed
                )
                reason = body.override_reason
                return note + (self.tr("，理由：{reason}").format(reason=reason) if reason else "")
            return self.tr("{room}：{reason}").format(room=room, reason=body.reason)
        if isinstance(body, (ev.TicketIssued, ev.Transferred)):
            note = self.tr("{label} 号，{room}").format(label=body.label, room=self._room(body.room))
            if isinstance(body, ev.Transferred):
                note = self.tr("自{source}转至 ").format(source=self._room(body.from_room)) + note
                if body.reason:
                    note += self.tr("，理由：{reason}").format(reason=body.reason)
            reasons = [PriorityReason(r).label for r in body.priority_reasons if r in _PRIORITY_VALUES]
            return note + (self.tr("；优先：{why}").format(why="、".join(reasons)) if reasons else "")
        if isinstance(body, ev.Called):
            note = self.tr("终端 {terminal}").format(terminal=body.terminal or "—")
            if body.out_of_order_reason:
                note += self.tr("；不按顺序，理由：{reason}").format(reason=body.out_of_order_reason)
            return note
        if isinstance(body, ev.Recalled):
            return self.tr("第 {n} 次重呼").format(n=body.recall)
        if isinstance(body, ev.Claimed):
            return self.tr("终端 {terminal}").format(terminal=body.terminal or "—")
        return ""


_PRIORITY_VALUES = frozenset(r.value for r in PriorityReason)
