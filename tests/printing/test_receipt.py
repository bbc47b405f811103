"""The receipt PDF: its fields read back, masking holds, the QR code decodes at thermal-printer resolution."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest

from desk.core.clock import FixedClock
from desk.core.documents import ReceiptData
from desk.errors import DeskError
from desk.printing.receipt import PRIVACY_NOTE, render_receipt
from desk.services.documents import DocumentService
from desk.services.queue import QueueService
from desk.services.registration import RegistrationService
from desk.store.session import Store
from tests.conftest import staff, valid_id, visit
from tests.printing.pdftools import compact, decode_qr, embedded_fonts, pdftotext
from tests.receipt_settings import PRINTING_SETTINGS

APPLICANT_ID = valid_id("62070219850101123")
PHONE = "13912345678"
ADDRESS = "甘州区东街街道1号"
NARRATIVE = "邻居在院墙外堆放杂物占用通道，多次沟通未果。"


@pytest.fixture
def docs(store: Store, clock: FixedClock) -> DocumentService:
    return DocumentService(store, clock, PRINTING_SETTINGS, principal=staff())


@pytest.fixture
def receipt(
    service: RegistrationService, store: Store, clock: FixedClock, docs: DocumentService
) -> ReceiptData:
    r = service.register(
        visit(
            parties=[
                {
                    "role": "applicant",
                    "name": "张三丰",
                    "id_number": APPLICANT_ID,
                    "phone": PHONE,
                    "address": ADDRESS,
                }
            ],
            narrative=NARRATIVE,
        )
    )
    QueueService(store, clock, principal=staff()).issue_ticket(r.case_no)
    return docs.receipt_data(r.case_no)


@pytest.mark.parametrize("fmt", ["80mm", "a5"])
def test_receipt_shows_its_fields_masked(receipt: ReceiptData, fmt: str, tmp_path: Path) -> None:
    pdf = render_receipt(receipt, fmt=fmt)
    text = pdftotext(pdf, tmp_path)
    flat = compact(text)
    for shown in (
        "甘州区东街街道综治中心",
        "受理回执",
        receipt.case_no,
        "A001",
        "请到 1号人民调解室 等候叫号",
        "位置：一楼东侧",
        "2026-11-27 10:00",  # 02:00 UTC is 10:00 China time
        "张*丰",
        "620702********" + APPLICANT_ID[-4:],
        "邻里纠纷",
        "扫码查询办理进度",
        "服务热线 12345",
        "0936-8212335",
        PRIVACY_NOTE,
    ):
        assert shown in text, shown
    assert "预计等候" in flat and "补打" not in flat
    for secret in (APPLICANT_ID, PHONE, ADDRESS, "张三丰", NARRATIVE[:6], "院墙"):
        assert secret not in flat, secret
    fonts = embedded_fonts(pdf, tmp_path)
    assert fonts and all("WenQuanYi" in name and emb for name, emb in fonts), fonts


@pytest.mark.parametrize("fmt", ["80mm", "a5"])
def test_qr_code_decodes_to_the_status_url_at_203_dpi(receipt: ReceiptData, fmt: str, tmp_path: Path) -> None:
    assert decode_qr(render_receipt(receipt, fmt=fmt), tmp_path) == [receipt.status_url]


def _page_size(pdf: bytes) -> tuple[float, float]:
    import re

    m = re.search(rb"/MediaBox\s*\[\s*0\s+0\s+([\d.]+)\s+([\d.]+)\s*\]", pdf)
    assert m is not None
    return float(m.group(1)), float(m.group(2))


def test_page_sizes(receipt: ReceiptData) -> None:
    from reportlab.lib.pagesizes import A5
    from reportlab.lib.units import mm

    w, h = _page_size(render_receipt(receipt, fmt="80mm"))
    assert w == pytest.approx(80 * mm, abs=0.01) and 100 * mm < h < 200 * mm
    shorter = dataclasses.replace(receipt, ticket=None, room_name=None, room_location=None)
    assert _page_size(render_receipt(shorter, fmt="80mm"))[1] < h  # fitted to the content
    assert _page_size(render_receipt(receipt, fmt="a5")) == pytest.approx(A5, abs=0.01)


def test_reprint_is_marked(receipt: ReceiptData, tmp_path: Path) -> None:
    again = dataclasses.replace(
        receipt, reprint=True, printed_at=dt.datetime(2026, 11, 27, 3, 5, tzinfo=dt.UTC)
    )
    text = pdftotext(render_receipt(again), tmp_path)
    assert "补打 · 2026-11-27 11:05 重新打印" in text


def test_without_ticket_it_says_to_wait(receipt: ReceiptData, tmp_path: Path) -> None:
    data = dataclasses.replace(
        receipt, ticket=None, room_name=None, room_location=None, estimated_wait_minutes=None
    )
    text = pdftotext(render_receipt(data), tmp_path)
    assert "请在大厅等候区稍候" in text and "预计等候" not in text and "排队号" not in text
    assert decode_qr(render_receipt(data), tmp_path) == [receipt.status_url]


def test_names_with_middle_dot_and_extension_b_read_back(receipt: ReceiptData, tmp_path: Path) -> None:
    # 𠮷 (U+20BB7) is outside WenQuanYi Micro Hei: drawn as □, but the text extracts as the real character
    for name in ("阿***·***", "𠮷*", "&<b>*"):
        text = pdftotext(render_receipt(dataclasses.replace(receipt, applicant_masked_name=name)), tmp_path)
        assert name in text, name


def test_unknown_format_is_refused(receipt: ReceiptData) -> None:
    with pytest.raises(DeskError, match="a4"):
        render_receipt(receipt, fmt="a4")


def test_long_status_url_still_decodes(receipt: ReceiptData, tmp_path: Path) -> None:
    url = "https://zhzx.ganzhou-district.gzq.gov.cn/status/case/" + "Xq3vB0kT9mZpL2rW8sYdQA" * 2
    assert decode_qr(render_receipt(dataclasses.replace(receipt, status_url=url)), tmp_path) == [url]


def test_a5_stays_a5_when_the_content_is_long(receipt: ReceiptData, tmp_path: Path) -> None:
    from reportlab.lib.pagesizes import A5

    where = "办公楼二楼东侧走廊尽头左手第三间（电梯旁，请沿地面黄色指示线前行）" * 3
    data = dataclasses.replace(receipt, room_location=where, reprint=True)
    pdf = render_receipt(data, fmt="a5")
    assert _page_size(pdf) == pytest.approx(A5, abs=0.01)
    assert decode_qr(pdf, tmp_path) == [receipt.status_url]
    assert "补打" in pdftotext(pdf, tmp_path)
