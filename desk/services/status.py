"""A case's status as a citizen sees it (status page and kiosk): stage, ticket, room, next step — nothing personal."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from desk.core.clock import Clock
from desk.store.models import CaseEvent, CaseRow, RoomRow, TicketRow
from desk.store.session import Store

# secrets.token_urlsafe(16): 22 characters of the URL-safe base64 alphabet. Anything else is not looked up.
TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{22}$")
HOTLINE = "12345"


@dataclass(frozen=True)
class CaseStatus:
    stage: str  # 已受理 / 排队中 / 调解中 / 已化解 / 部分化解 / 未化解 / 已转办 / 已撤回 / 已终止 / 已办结 / 已回访
    detail: str  # e.g. "排队号 A012，前面还有 3 人" or "正在叫号：请到 3号人民调解室"
    next_step: str
    ticket: str | None
    ahead: int | None
    room: str | None
    location: str | None
    updated_at: dt.datetime
    case_no_tail: str  # the last 6 digits of the case number, to match the receipt; never the whole record
    hotline: str = HOTLINE


def token_from_scan(text: str) -> str:
    """The token in a scanned receipt QR (the whole status URL) or a typed token."""
    return text.strip().rstrip("/").rsplit("/", 1)[-1].split("?", 1)[0]


class StatusService:
    def __init__(self, store: Store, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    def status(self, token: str) -> CaseStatus | None:
        """The case's status, or None for a malformed or unknown token (callers answer both the same way)."""
        if not TOKEN_RE.match(token):
            return None
        with self._store.read() as s:
            case = s.scalars(sa.select(CaseRow).where(CaseRow.status_token == token)).first()
            if case is None:
                return None
            where = _transferred_to(s, case.id) if case.state == "transferred" else ""
            ticket = s.scalars(
                sa.select(TicketRow)
                .where(TicketRow.case_id == case.id)
                .order_by(TicketRow.updated_at.desc(), TicketRow.number.desc())
            ).first()
            room = None
            ahead = None
            if ticket is not None:
                room = s.scalars(
                    sa.select(RoomRow).where(
                        RoomRow.hall_code == ticket.hall_code, RoomRow.code == ticket.room_code
                    )
                ).first()
                if ticket.state == "waiting":
                    ahead = int(
                        s.scalar(
                            sa.select(sa.func.count())
                            .select_from(TicketRow)
                            .where(
                                TicketRow.hall_code == ticket.hall_code,
                                TicketRow.room_code == ticket.room_code,
                                TicketRow.state == "waiting",
                                sa.or_(
                                    TicketRow.queue_key < ticket.queue_key,
                                    sa.and_(
                                        TicketRow.queue_key == ticket.queue_key,
                                        TicketRow.number < ticket.number,
                                    ),
                                ),
                            )
                        )
                        or 0
                    )
        digits = "".join(ch for ch in room.code if ch.isdigit()) if room else ""
        room_name = (f"{int(digits)}号{room.name}" if digits else room.name) if room else None
        location = room.location if room else None
        label = ticket.label if ticket else None
        stage, detail, next_step = _describe(
            case.state, ticket.state if ticket else None, label, ahead, room_name, transferred_to=where
        )
        updated = max(case.updated_at, ticket.updated_at) if ticket else case.updated_at
        return CaseStatus(
            stage, detail, next_step, label, ahead, room_name, location, updated, case.case_no[-6:]
        )


def _transferred_to(s: Session, case_id: str) -> str:
    """Where a transferred case went, from its latest TransferredOut event: 例 诉讼（甘州区人民法院）. Names a
    court or a department, never a person."""
    from desk.core.events import TransferredOut, decode
    from desk.services.handling import TRANSFER_KINDS
    from desk.store.projections import event_order

    row = s.execute(
        sa.select(CaseEvent.kind, CaseEvent.payload)
        .where(CaseEvent.case_id == case_id, CaseEvent.kind == "transferred_out")
        .order_by(*(c.desc() for c in event_order(s)))
        .limit(1)
    ).first()
    if row is None:
        return ""
    body = decode(row.kind, row.payload)
    if not isinstance(body, TransferredOut):
        return ""
    kind = TRANSFER_KINDS.get(body.to_kind, "")
    return f"{kind}（{body.to_name}）" if kind and body.to_name else kind or body.to_name


def _describe(
    state: str,
    ticket_state: str | None,
    ticket: str | None,
    ahead: int | None,
    room: str | None,
    *,
    transferred_to: str = "",
) -> tuple[str, str, str]:
    if state == "closed":
        return "已办结", "您的矛盾纠纷已办结", "工作人员将回访了解协议履行情况，如有问题请拨打 12345"
    if state == "followed_up":
        return "已回访", "已完成回访", "感谢您的配合；如有新的问题，请到中心或拨打 12345"
    if state == "transferred":
        if transferred_to:
            return (
                "已转办",
                f"您的事项已转交{transferred_to}办理",
                "承办单位将依法办理并联系您；如有疑问请拨打 12345",
            )
        return "已转办", "您的事项已转交相关部门办理", "承办部门将在规定时限内联系您"
    if state == "resolved":
        return "已化解", "调解已达成协议", "请按协议约定履行；中心办结后将回访了解履行情况"
    if state == "partly_resolved":
        return (
            "部分化解",
            "调解就部分事项达成协议",
            "已达成的部分请按协议履行；其余事项工作人员将告知您办理途径",
        )
    if state == "not_resolved":
        return "未化解", "调解未能达成协议", "工作人员将告知您其他解决途径（如诉讼、仲裁、信访）"
    if state == "withdrawn":
        return "已撤回", "您已撤回申请，本事项不再办理", "如有新的问题，请到中心或拨打 12345"
    if state == "terminated":
        return "已终止", "本次调解已终止", "工作人员将告知您其他解决途径；如有疑问请拨打 12345"
    if state == "in_mediation" or ticket_state == "serving":
        return "调解中", f"正在{room or '功能室'}调解", "请配合调解员工作；调解结果将在此更新"
    if ticket_state == "called":
        return (
            "排队中",
            f"正在叫号：请持 {ticket} 号到{room or '功能室'}",
            "请立即前往；过号后可到前台重新排队",
        )
    if ticket_state == "parked":
        return "排队中", f"排队号 {ticket} 暂离，已为您保留位置", "回到大厅后请告知工作人员"
    if ticket_state == "waiting":
        who = f"前面还有 {ahead} 人" if ahead else "下一位就是您"
        return "排队中", f"排队号 {ticket}，{who}", f"请留意大厅叫号屏，叫号后到{room or '功能室'}"
    if ticket_state == "no_show":
        return "排队中", f"排队号 {ticket} 已过号", "请到前台说明，重新排队"
    if state == "diverted":
        return "已受理", "您的事项已分流至属地综治中心办理", "属地综治中心将安排调解室并联系您"
    return "已受理", "您的来访已登记受理", "工作人员正在为您分派功能室"
