"""Printed documents' data: the receipt, the registration sheet, the agreement; printing is recorded as an event."""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Session

from desk.config import (
    DEMO_STATUS_BASE_URL,
    STATUS_URL_EXAMPLE,
    SettingError,
    Settings,
    check_status_base_url,
)
from desk.core.audit import AuditAction
from desk.core.cases import CHANNEL_LABELS, RISK_LABELS, Channel, RiskFlag
from desk.core.clock import Clock, local_date
from desk.core.documents import AgreementData, CaseSheetData, PartyParticulars, ReceiptData
from desk.core.events import DocumentPrinted
from desk.core.parties import PartyRole, mask_id_number, mask_name
from desk.core.permissions import ANONYMOUS, Action, Principal, actor_name
from desk.errors import NotFound
from desk.services import sealing
from desk.services.base import HallUseCases
from desk.store import repositories as repo
from desk.store.events import append_event
from desk.store.models import RoomRow, TicketRow
from desk.store.session import Store

if TYPE_CHECKING:
    from desk.security.vault import Vault

logger = logging.getLogger(__name__)

RECEIPT_FORMATS = ("80mm", "a5")
DOCUMENT_FORMATS = (*RECEIPT_FORMATS, "a4-sheet", "agreement")


def status_url(base: str, token: str) -> str:
    """The QR code's content: the configured base URL and the case's random status token."""
    return base if base.endswith(token) else base.rstrip("/") + "/" + token


class DocumentService(HallUseCases):
    """Assembles what each document shows from the store; `desk/printing` turns it into a PDF."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        settings: Settings,
        *,
        principal: Principal = ANONYMOUS,
        vault: Vault | None = None,
    ) -> None:
        super().__init__(store, clock, principal=principal, vault=vault)
        self._settings = settings

    def receipt_data(self, case_no: str, *, reprint: bool = False) -> ReceiptData:
        self.guard(Action.PRINT)
        base, demo = self.status_base()  # before anything else: a hall without the setting prints nothing
        with self._store.read() as s:
            detail, hall, categories, ticket, room = self._load(s, case_no)
            detail = sealing.open_detail(detail, self.vault)  # the receipt shows masked numbers only
            wait = None
            if ticket is not None and ticket.state == "waiting":
                ahead = (
                    s.scalar(
                        sa.select(sa.func.count())
                        .select_from(TicketRow)
                        .where(
                            TicketRow.hall_code == ticket.hall_code,
                            TicketRow.room_code == ticket.room_code,
                            TicketRow.state == "waiting",
                            TicketRow.queue_key < ticket.queue_key,
                        )
                    )
                    or 0
                )
                wait = self._wait_minutes(int(ahead), ticket.room_code)
        applicant = next(
            (p for p in detail.parties if p.role == PartyRole.APPLICANT.value), detail.parties[0]
        )
        number = "".join(ch for ch in room.code if ch.isdigit()) if room else ""
        return ReceiptData(
            center_name=hall.name if hall else "",
            center_phone=hall.phone if hall else "",
            case_no=detail.case_no,
            category=categories.get(detail.category_code, detail.category_code),
            registered_at=detail.registered_at,
            applicant_masked_name=mask_name(applicant.name)
            if not applicant.is_organisation
            else applicant.name,
            applicant_masked_id=mask_id_number(applicant.id_number) if applicant.id_number else "",
            ticket=ticket.label if ticket is not None else None,
            room_name=(f"{int(number)}号{room.name}" if number else room.name) if room else None,
            room_location=room.location if room else None,
            estimated_wait_minutes=wait,
            status_url=status_url(base, detail.status_token),
            reprint=reprint,
            printed_at=self._clock.now(),
            demo=demo,
        )

    def status_base(self) -> tuple[str, bool]:
        """The receipt QR code's base URL and whether the receipt is a demo's. A real hall's receipt needs a
        valid `status_base_url` (a placeholder host would send citizens nowhere): without one, printing is refused
        with `SettingError` saying how to set it. The demo store prints the example host, marked 演示."""
        from desk.services.demo import is_demo_store

        try:
            return check_status_base_url(self._settings.status_base_url), is_demo_store(self._store)
        except SettingError as e:
            if is_demo_store(self._store):
                return DEMO_STATUS_BASE_URL, True
            how = (
                ""
                if "desk settings set" in e.message
                else f"；设置方法：desk settings set status_base_url {STATUS_URL_EXAMPLE}"
            )
            raise SettingError(e.message + how) from None

    def _load(
        self, s: Session, case_no: str
    ) -> tuple[repo.CaseDetail, repo.HallInfo | None, dict[str, str], TicketRow | None, RoomRow | None]:
        """The case, its hall, the category names, and its latest ticket with that ticket's room."""
        detail = repo.case_detail(s, case_no=case_no)
        if detail is None:
            raise NotFound(f"案件 {case_no} 不存在")
        categories = {c.code: c.name for c in repo.load_categories(s)}
        ticket = s.scalars(
            sa.select(TicketRow)
            .where(TicketRow.case_id == detail.id)
            .order_by(TicketRow.updated_at.desc(), TicketRow.number.desc())
        ).first()
        room = None
        if ticket is not None:
            room = s.scalars(
                sa.select(RoomRow).where(
                    RoomRow.hall_code == ticket.hall_code, RoomRow.code == ticket.room_code
                )
            ).first()
        return detail, repo.local_hall(s), categories, ticket, room

    def _wait_minutes(self, ahead: int, room_code: str) -> int | None:
        from desk.core.routing import expected_wait
        from desk.services.queue import QueueService

        if not self.principal.may(Action.ROUTE):
            return None  # the estimate reads the rooms' loads, which routing sees
        loads = QueueService(self._store, self._clock, principal=self.principal).loads()
        load = next((x for x in loads if x.code == room_code), None)
        return None if load is None else round(expected_wait(ahead, load))

    def sheet_data(self, case_no: str) -> CaseSheetData:
        """The registration sheet's full particulars (the case file: full ID number, phone and address).
        Printing it is recorded in the audit log (`record_printed`)."""
        self.guard(Action.PRINT)
        with self._store.read() as s:
            detail, hall, categories, ticket, room = self._load(s, case_no)
        # the case file's sheet: the full particulars (birth date from the ID number, which is all that holds it)
        # printing it is audited as a print (`record_printed`, which the print's caller makes)
        detail = sealing.open_detail(detail, self.vault, reveal=True, today=local_date(self._clock.now()))
        registered = next((e for e in detail.events if e.kind == "registered"), None)
        return CaseSheetData(
            center_name=hall.name if hall else "",
            case_no=detail.case_no,
            category=categories.get(detail.category_code, detail.category_code),
            channel=CHANNEL_LABELS.get(Channel(detail.channel), detail.channel),
            headcount=detail.headcount,
            registered_at=detail.registered_at,
            registered_by=actor_name(registered.actor) if registered else "",
            narrative=detail.narrative,
            risk_flags=tuple(
                RISK_LABELS[RiskFlag(f)] for f in detail.risk_flags if f in RiskFlag._value2member_map_
            ),
            parties=tuple(
                PartyParticulars(
                    role=PartyRole(p.role).label,
                    name=p.name,
                    sex=p.sex,
                    birth_date=p.birth_date,
                    id_number=p.id_number,
                    phone=p.phone,
                    address=p.address,
                    is_organisation=p.is_organisation,
                )
                for p in detail.parties
            ),
            room_name=room.name if room else None,
            ticket=ticket.label if ticket else None,
        )

    def agreement_data(
        self,
        case_no: str,
        *,
        terms: tuple[str, ...] = (),
        performance: str = "",
        performance_deadline: dt.date | None = None,
        mediators: tuple[str, ...] = (),
    ) -> AgreementData:
        sheet = self.sheet_data(case_no)
        return AgreementData(
            sheet=sheet,
            facts=sheet.narrative,
            terms=terms,
            performance=performance,
            performance_deadline=performance_deadline,
            mediators=mediators,
        )

    def record_printed(self, case_no: str, *, document: str, reprint: bool) -> None:
        """Printing is a case event and an audit entry; a reprint (补打) is marked as one."""
        self.guard(Action.PRINT)
        now = self._clock.now()
        with self._store.unit_of_work() as s:
            detail = repo.case_detail(s, case_no=case_no)
            if detail is None:
                raise NotFound(f"案件 {case_no} 不存在")
            append_event(
                s,
                hall_code=detail.hall_code,
                case_id=detail.id,
                body=DocumentPrinted(document, reprint),
                occurred_at=now,
                actor=self.actor,
            )
            self._hall_code = detail.hall_code
            self.audit(
                s,
                AuditAction.REPRINT if reprint else AuditAction.PRINT,
                case_id=detail.id,
                case_no=detail.case_no,
                detail=document,
                at=now,
            )
        logger.info("printed %s for %s (reprint=%s)", document, case_no, reprint)

    def was_printed(self, case_no: str, document: str) -> bool:
        """Has this document been printed for the case before (so the next one is a 补打)?"""
        self.guard(Action.PRINT)
        with self._store.read() as s:
            detail = repo.case_detail(s, case_no=case_no)
        if detail is None:
            raise NotFound(f"案件 {case_no} 不存在")
        return any(isinstance(e.body, DocumentPrinted) and e.body.document == document for e in detail.events)
