"""What the printed documents show: plain data, assembled by desk/services/documents.py and rendered by desk/printing."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field


@dataclass(frozen=True)
class ReceiptData:
    """The citizen's receipt (受理回执). Only masked identifiers: no full ID number, phone, address or narrative."""

    center_name: str
    center_phone: str
    case_no: str
    category: str
    registered_at: dt.datetime  # aware; printed in China time
    applicant_masked_name: str  # 张*三 / 欧阳**
    applicant_masked_id: str  # 620702********123X, or "" when no ID number was given
    ticket: str | None  # A012, or None when the visit has no ticket (yet)
    room_name: str | None  # "3号人民调解室"
    room_location: str | None  # "二楼左侧"
    estimated_wait_minutes: int | None
    status_url: str  # status_base_url + the case's 128-bit status token: what the QR code holds
    hotline: str = "12345"
    reprint: bool = False  # 补打
    printed_at: dt.datetime | None = None
    demo: bool = (
        False  # printed from the demo store (`desk init --demo`): marked 演示, its QR may be an example
    )


@dataclass(frozen=True)
class PartyParticulars:
    role: str  # 申请人 / 被申请人 / 第三人
    name: str
    sex: str | None
    birth_date: dt.date | None
    id_number: str | None  # full: only on the case file's sheets (registration sheet, agreement)
    phone: str | None
    address: str
    is_organisation: bool = False


@dataclass(frozen=True)
class CaseSheetData:
    """The visitor registration sheet (来访登记表) and the basis of the agreement: the full particulars."""

    center_name: str
    case_no: str
    category: str
    channel: str
    headcount: int
    registered_at: dt.datetime
    registered_by: str
    narrative: str
    risk_flags: tuple[str, ...]  # Chinese labels
    parties: tuple[PartyParticulars, ...]
    room_name: str | None = None
    ticket: str | None = None


@dataclass(frozen=True)
class AgreementData:
    """人民调解协议书: parties with full particulars, facts and dispute, agreed terms, performance."""

    sheet: CaseSheetData
    facts: str  # 纠纷事实及争议事项 (defaults to the narrative)
    terms: tuple[str, ...] = ()  # 协议内容, one per numbered item; empty → blank lines to fill in by hand
    performance: str = ""  # 履行方式
    performance_deadline: dt.date | None = None  # 履行期限
    mediators: tuple[str, ...] = ()
    signed_on: dt.date | None = None
    document_no: str = ""  # the agreement's own number ({hall}-{year}-调{seq:04d}); "" before there is one
    reminder: str = ""  # printed under the terms: e.g. judicial confirmation (司法确认) within 30 days


@dataclass(frozen=True)
class WhistleNoticeData:
    """吹哨通知单: the center summons a department to report within a deadline."""

    center_name: str
    case_no: str
    category: str
    department: str
    matter: str
    report_by: dt.datetime
    issued_at: dt.datetime
    issued_by: str
    contact: str = ""
    notes: tuple[str, ...] = field(default_factory=tuple)
    # the whistle's other clocks (签收, 报到) and the rules they come from; None: a notice without them
    sign_by: dt.datetime | None = None
    arrive_by: dt.datetime | None = None
    sign_hours: int = 1
    arrive_hours: int = 24
    report_working_days: int = 3
