"""A case's status as a citizen sees it (status page and kiosk): stage, ticket, room, next step — nothing personal."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import sqlalchemy as sa

from desk.core.clock import Clock
from desk.store.session import Store
from desk.store.stages import case_stages

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
    """Reads the `case_stages` view only (`desk.store.stages`): on PostgreSQL the status server's role may read
    that view and nothing else, so nothing here may touch a table."""

    def __init__(self, store: Store, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    def status(self, token: str) -> CaseStatus | None:
        """The case's status, or None for a malformed or unknown token (callers answer both the same way)."""
        if not TOKEN_RE.match(token):
            return None
        with self._store.read() as s:
            row = s.execute(sa.select(case_stages).where(case_stages.c.status_token == token)).first()
        if row is None:
            return None
        where = _transferred_to(row.transfer_kind, row.transfer_to) if row.state == "transferred" else ""
        room_name: str | None = None
        if row.room_code is not None and row.room_name is not None:
            digits = "".join(ch for ch in row.room_code if ch.isdigit())
            room_name = f"{int(digits)}号{row.room_name}" if digits else row.room_name
        location = row.room_location if row.room_code is not None else None
        ahead = int(row.ahead) if row.ticket_state == "waiting" and row.ahead is not None else None
        stage, detail, next_step = _describe(
            row.state, row.ticket_state, row.ticket, ahead, room_name, transferred_to=where
        )
        updated: dt.datetime = row.updated_at
        if row.ticket_updated_at is not None:
            updated = max(updated, row.ticket_updated_at)
        return CaseStatus(
            stage, detail, next_step, row.ticket, ahead, room_name, location, updated, row.case_no[-6:]
        )


def _transferred_to(to_kind: str | None, to_name: str | None) -> str:
    """Where a transferred case went, from its latest TransferredOut: 例 诉讼（甘州区人民法院）. Names a court or
    a department, never a person."""
    from desk.services.handling import TRANSFER_KINDS

    kind = TRANSFER_KINDS.get(to_kind or "", "")
    name = to_name or ""
    return f"{kind}（{name}）" if kind and name else kind or name


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
