"""`desk receipt`: writes the PDF, records the print as an event, marks the second one 补打; unknown case → 1."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from desk.cli import DOCUMENT_FORMATS
from desk.config import save_settings
from desk.core.clock import SystemClock
from desk.services import documents
from desk.services.queue import QueueService
from desk.services.registration import RegistrationService
from desk.services.setup import init_hall
from desk.store.session import open_store
from tests.conftest import add_tester, staff, valid_id, visit
from tests.printing.pdftools import decode_qr, pdftotext
from tests.receipt_settings import PRINTING_SETTINGS, STATUS_BASE_URL

APPLICANT_ID = valid_id("62070219850101123")


@pytest.fixture(autouse=True)
def _status_base_url() -> None:
    """The hall's settings file names its status page (without one, receipts are refused: test_receipt_url)."""
    save_settings(PRINTING_SETTINGS)


def desk(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "desk", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=dict(os.environ),
    )


def a_case(url: str, *, ticket: bool = True) -> str:
    store = open_store(url)
    init_hall(store)
    add_tester(store)
    case_no = RegistrationService(store, SystemClock(), principal=staff()).register(visit()).case_no
    if ticket:
        QueueService(store, SystemClock(), principal=staff()).issue_ticket(case_no)
    store.dispose()
    return case_no


def printed_events(url: str, case_no: str) -> list[dict[str, object]]:
    store = open_store(url)
    try:
        case = RegistrationService(store, SystemClock(), principal=staff()).case(case_no)
        return [dict(e.body.to_json(), actor=e.actor) for e in case.events if e.kind == "document_printed"]
    finally:
        store.dispose()


def test_receipt_then_reprint(store_url: str, tmp_path: Path) -> None:
    case_no = a_case(store_url)
    out = tmp_path / "r.pdf"
    first = desk("receipt", case_no, "--out", str(out), "--db", store_url)
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == str(out) and out.stat().st_size > 1000
    text = pdftotext(out, tmp_path)
    assert case_no in text and "620702********" + APPLICANT_ID[-4:] in text and "补打" not in text
    assert APPLICANT_ID not in text and "13912345678" not in text
    [url] = decode_qr(out, tmp_path)
    assert url.startswith(STATUS_BASE_URL) and case_no not in url

    second = desk("receipt", case_no, "--out", str(out), "--db", store_url)
    assert second.returncode == 0, second.stderr
    assert "补打" in pdftotext(out, tmp_path) and "补打" in second.stderr
    events = printed_events(store_url, case_no)
    assert [(e["document"], e["reprint"], e["actor"]) for e in events] == [
        ("receipt", False, "测试员（tester）@命令行"),
        ("receipt", True, "测试员（tester）@命令行"),
    ]
    assert not list(tmp_path.glob(".r.pdf.*"))  # no temp file left behind


def test_formats_and_explicit_reprint(sqlite_url: str, tmp_path: Path) -> None:
    case_no = a_case(sqlite_url)
    for fmt, title in (("a5", "受理回执"), ("a4-sheet", "来访登记表"), ("agreement", "人民调解协议书")):
        out = tmp_path / f"{fmt}.pdf"
        r = desk("receipt", case_no, "--out", str(out), "--format", fmt, "--reprint", "--db", sqlite_url)
        assert r.returncode == 0, r.stderr
        text = pdftotext(out, tmp_path)
        assert title in text
        if fmt != "a5":
            assert APPLICANT_ID in text  # the case file's documents carry the full particulars
        else:
            assert "补打" in text
    docs = [(e["document"], e["reprint"]) for e in printed_events(sqlite_url, case_no)]
    assert docs == [("receipt", True), ("registration_sheet", True), ("agreement", True)]


def test_receipt_without_ticket(sqlite_url: str, tmp_path: Path) -> None:
    case_no = a_case(sqlite_url, ticket=False)
    out = tmp_path / "r.pdf"
    assert desk("receipt", case_no, "--out", str(out), "--db", sqlite_url).returncode == 0
    assert "请在大厅等候区稍候" in pdftotext(out, tmp_path)


def test_unknown_case_exits_1(sqlite_url: str, tmp_path: Path) -> None:
    a_case(sqlite_url)
    out = tmp_path / "r.pdf"
    r = desk("receipt", "620702001-2026-999999", "--out", str(out), "--db", sqlite_url)
    assert r.returncode == 1 and "案件 620702001-2026-999999 不存在" in r.stderr
    assert not out.exists()


def test_unwritable_output_exits_1_and_records_nothing(sqlite_url: str, tmp_path: Path) -> None:
    case_no = a_case(sqlite_url)
    r = desk("receipt", case_no, "--out", str(tmp_path / "missing" / "r.pdf"), "--db", sqlite_url)
    assert r.returncode == 1 and "无法写入文件" in r.stderr
    assert printed_events(sqlite_url, case_no) == []


def test_no_qt_is_imported(sqlite_url: str, tmp_path: Path) -> None:
    case_no = a_case(sqlite_url)
    code = (
        "import sys\nfrom desk.cli import main\n"
        f"rc = main(['receipt', {case_no!r}, '--out', {str(tmp_path / 'r.pdf')!r}, '--db', {sqlite_url!r}])\n"
        "assert rc == 0 and not any(m.startswith('PySide6') for m in sys.modules), rc\n"
    )
    r = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=dict(os.environ)
    )
    assert r.returncode == 0, r.stderr


@pytest.mark.parametrize("fmt", DOCUMENT_FORMATS)
def test_cli_formats_match_the_service(fmt: str) -> None:
    assert fmt in documents.DOCUMENT_FORMATS and len(DOCUMENT_FORMATS) == len(documents.DOCUMENT_FORMATS)
