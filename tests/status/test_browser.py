"""End to end: a receipt's QR code, decoded from the rendered PDF, opens the status page of the real server
in headless Chromium; a wrong token and a flood get their own pages; the token never reaches the log."""

from __future__ import annotations

import urllib.error
import urllib.request
from pathlib import Path

import pytest

from desk.core.clock import SystemClock
from desk.services.documents import DocumentService
from desk.services.queue import QueueService
from desk.services.registration import RegistrationService
from desk.services.setup import init_hall
from desk.store.session import open_store
from tests.conftest import add_tester, staff, valid_id, visit
from tests.printing.pdftools import decode_qr, need_poppler
from tests.receipt_settings import PRINTING_SETTINGS, STATUS_BASE_URL
from tests.status.browser import chromium, dump_dom, free_port, status_server

pytestmark = pytest.mark.slow
SECRETS = ("张三", valid_id("62070219850101123"), "13912345678", "甘州区东街街道1号", "堆放杂物")


def test_receipt_qr_opens_the_status_page(tmp_path: Path) -> None:
    chromium()
    need_poppler()
    from desk.printing.receipt import render_receipt

    url = f"sqlite:///{tmp_path / 'desk.db'}"
    store = open_store(url)
    init_hall(store)
    add_tester(store)
    clock = SystemClock()
    reg = RegistrationService(store, clock, principal=staff("测试前台"))
    r = reg.register(visit())
    QueueService(store, clock, principal=staff()).issue_ticket(r.case_no, room_code="R01")
    token = reg.case(r.case_no).status_token
    port = free_port()
    docs = DocumentService(store, clock, PRINTING_SETTINGS, principal=staff())
    pdf = render_receipt(docs.receipt_data(r.case_no))
    store.dispose()
    [scanned] = decode_qr(pdf, tmp_path)
    assert scanned == f"{STATUS_BASE_URL}{token}"

    log = tmp_path / "server.log"
    with status_server(url, port, log) as base:
        # the hall's reverse proxy: https://<the hall's host>/s/... reaches the server's /s/...
        scanned = scanned.replace(STATUS_BASE_URL.removesuffix("/s/"), base)
        page = dump_dom(scanned, tmp_path / "profile")
        assert "排队中" in page and "A001" in page and "1号人民调解室" in page and "12345" in page
        assert "更新时间" in page
        for secret in (*SECRETS, r.case_no):
            assert secret not in page

        wrong = dump_dom(f"{base}/s/{token[:-1]}{'B' if token[-1] != 'B' else 'C'}", tmp_path / "profile")
        assert "未找到" in wrong and "排队中" not in wrong

        # the browser counts against the same per-IP limit (30 a minute): use the rest up, then it is refused
        for _ in range(28):
            try:
                urllib.request.urlopen(f"{base}/s/{'A' * 22}", timeout=5).close()
            except urllib.error.HTTPError as e:
                e.close()
                assert e.code == 404
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"{base}/s/{'A' * 22}", timeout=5)
        refused.value.close()
        assert refused.value.code == 429 and int(refused.value.headers["Retry-After"]) > 0
        limited = dump_dom(scanned, tmp_path / "profile")
        assert "查询过于频繁" in limited and "排队中" not in limited
    text = log.read_text(encoding="utf-8", errors="replace")
    assert '"GET /s/{token:path} HTTP/1.1" 200' in text and " 429" in text  # the access log is on ...
    assert token not in text and "A" * 22 not in text  # ... and shows no token
