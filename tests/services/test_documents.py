"""What the printed documents show: the receipt carries masked identifiers only; printing is a case event."""

from __future__ import annotations

import dataclasses

import pytest

from desk.core.clock import FixedClock
from desk.core.permissions import actor_name
from desk.errors import NotFound
from desk.services.documents import DocumentService, status_url
from desk.services.queue import QueueService
from desk.services.registration import RegistrationService
from desk.store.session import Store
from tests.conftest import staff, valid_id, visit
from tests.receipt_settings import PRINTING_SETTINGS, STATUS_BASE_URL

APPLICANT = valid_id("62070219850101123")


@pytest.fixture
def docs(store: Store, clock: FixedClock) -> DocumentService:
    return DocumentService(store, clock, PRINTING_SETTINGS, principal=staff("前台一号"))


def test_receipt_shows_masked_identity_ticket_room_and_status_url(
    service: RegistrationService, store: Store, clock: FixedClock, docs: DocumentService
) -> None:
    r = service.register(
        visit(
            parties=[
                {
                    "role": "applicant",
                    "name": "欧阳娜娜",
                    "id_number": APPLICANT,
                    "phone": "13912345678",
                    "address": "东街1号",
                }
            ]
        )
    )
    QueueService(store, clock, principal=staff()).issue_ticket(r.case_no)
    data = docs.receipt_data(r.case_no)
    assert (data.applicant_masked_name, data.applicant_masked_id) == (
        "欧阳**",
        "620702********" + APPLICANT[-4:],
    )
    assert (data.ticket, data.room_name, data.room_location, data.estimated_wait_minutes) == (
        "A001",
        "1号人民调解室",
        "一楼东侧",
        0,
    )
    token = service.case(r.case_no).status_token
    assert data.status_url == f"{STATUS_BASE_URL}{token}" and r.case_no not in data.status_url
    flat = repr(dataclasses.asdict(data))
    for secret in (APPLICANT, "13912345678", "东街1号", "欧阳娜娜", "占用通道"):
        assert secret not in flat


def test_receipt_without_ticket_and_unknown_case(service: RegistrationService, docs: DocumentService) -> None:
    r = service.register(visit())
    data = docs.receipt_data(r.case_no)
    assert data.ticket is None and data.room_name is None and data.estimated_wait_minutes is None
    with pytest.raises(NotFound):
        docs.receipt_data("620702001-2026-999999")


def test_sheet_has_full_particulars(service: RegistrationService, docs: DocumentService) -> None:
    r = service.register(visit(risk_flags=["psychological_crisis"]))
    sheet = docs.sheet_data(r.case_no)
    assert sheet.parties[0].id_number == APPLICANT and sheet.parties[0].role == "申请人"
    assert sheet.channel == "来访" and sheet.risk_flags == ("心理危机",) and sheet.registered_by == "测试前台"


def test_printing_is_recorded_and_the_next_is_a_reprint(
    service: RegistrationService, docs: DocumentService
) -> None:
    r = service.register(visit())
    assert not docs.was_printed(r.case_no, "receipt")
    docs.record_printed(r.case_no, document="receipt", reprint=False)
    assert docs.was_printed(r.case_no, "receipt")
    docs.record_printed(r.case_no, document="receipt", reprint=True)
    printed = [e for e in service.case(r.case_no).events if e.kind == "document_printed"]
    assert [e.body.reprint for e in printed] == [False, True] and actor_name(printed[0].actor) == "前台一号"


def test_status_url_joins_base_and_token() -> None:
    assert status_url("https://x.cn/s", "abc") == "https://x.cn/s/abc"
    assert status_url("https://x.cn/s/", "abc") == "https://x.cn/s/abc"
