"""The receipt's QR base URL: a required setting, checked when set (`desk settings set status_base_url`); a real
hall's receipt is refused without it (the window's refusal: tests/ui/test_receipt_url.py) and never prints an
example host; the demo store's receipts say 演示."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from desk.config import (
    DEMO_STATUS_BASE_URL,
    SettingError,
    Settings,
    check_status_base_url,
    config_file,
    load_settings,
    save_settings,
)
from desk.core.clock import Clock, FixedClock, SystemClock
from desk.errors import DeskError
from desk.printing.receipt import render_receipt
from desk.services.demo import add_demo_day
from desk.services.documents import DocumentService
from desk.services.queue import QueueService
from desk.services.registration import RegistrationService
from desk.services.setup import init_hall
from desk.store.session import Store, open_store
from tests.conftest import add_tester, staff, visit
from tests.printing.pdftools import compact, decode_qr, pdftotext
from tests.receipt_settings import PRINTING_SETTINGS, STATUS_BASE_URL


def desk(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "desk", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=dict(os.environ),
    )


# --- the check -------------------------------------------------------------------------------------------------

GOOD = [
    "https://zz.gzq.gov.cn/s/",
    "https://zz.gzq.gov.cn:8443/s/",
    "https://status.example-hall.cn/zz/s/",  # "example-hall" is a name, not the reserved "example"
    "https://综治.甘州.中国/s/",
    "https://8.8.8.8/s/",
    "  https://zz.gzq.gov.cn/s/  ",
]
BAD = {
    "": "未设置",
    "   ": "未设置",
    "zz.gzq.gov.cn/s/": "https://",
    "http://zz.gzq.gov.cn/s/": "https://",
    "ftp://zz.gzq.gov.cn/s/": "https://",
    "https://zz.example.gov.cn/s/": "示例地址",  # the old default
    "https://www.example.com/s/": "示例地址",
    "https://status.hall.test/s/": "示例地址",
    "https://status.invalid/s/": "示例地址",
    "https://localhost/s/": "完整的域名",
    "https://hall/s/": "完整的域名",
    "https://127.0.0.1/s/": "内网或本机",
    "https://192.168.1.10/s/": "内网或本机",
    "https://[::1]/s/": "内网或本机",
    "https://zz.gzq.gov.cn/": "/s/ 结尾",
    "https://zz.gzq.gov.cn/s": "/s/ 结尾",
    "https://zz.gzq.gov.cn/s/?a=1": "? 或 #",
    "https://zz.gzq.gov.cn/s/#x": "? 或 #",
    "https://admin:pw@zz.gzq.gov.cn/s/": "用户名或密码",
    "https://zz.gzq.gov.cn:99999/s/": "端口",
    "https://zz.gzq.gov.cn:abc/s/": "端口",
    "https://zz.gzq.gov.cn:0/s/": "端口",
    "https:///s/": "缺少主机名",
    "https://zz..gov.cn/s/": "主机名",
    "https://-zz.gov.cn/s/": "主机名",
    "https://zz.gzq.gov.cn/s /": "空白",
    "https://zz.gzq.gov.cn/s/\x00": "控制字符",
    "https://zz.gzq.gov.cn/" + "x" * 200 + "/s/": "过长",
}


@pytest.mark.parametrize("url", GOOD)
def test_a_real_https_url_ending_in_s_is_accepted(url: str) -> None:
    assert check_status_base_url(url) == url.strip()


@pytest.mark.parametrize(("url", "says"), BAD.items())
def test_a_bad_url_is_refused_in_chinese_naming_the_setting(url: str, says: str) -> None:
    with pytest.raises(SettingError) as refused:
        check_status_base_url(url)
    assert says in refused.value.message and "status_base_url" in refused.value.message
    assert "\x00" not in refused.value.message


def test_hand_edited_settings_of_the_wrong_type_are_messages_not_tracebacks(tmp_path: Path) -> None:
    config_file().parent.mkdir(parents=True, exist_ok=True)
    config_file().write_text(json.dumps({"status_base_url": 5, "trusted_proxies": 7}), encoding="utf-8")
    r = desk("status-server", "--db", f"sqlite:///{tmp_path / 'x.db'}")
    assert r.returncode == 1 and "trusted_proxies" in r.stderr and "应为列表" in r.stderr
    with pytest.raises(SettingError, match="应为文本"):
        check_status_base_url(load_settings().status_base_url)


def test_desk_settings_set_checks_then_saves() -> None:
    r = desk("settings", "set", "status_base_url", "http://zz.gzq.gov.cn/s/")
    assert r.returncode == 2 and "status_base_url" in r.stderr and "https://" in r.stderr
    assert "Traceback" not in r.stderr and not config_file().exists()
    r = desk("settings", "set", "status_base_url", "https://zz.example.gov.cn/s/")
    assert r.returncode == 2 and "示例地址" in r.stderr
    r = desk("settings", "set", "status_base_url", STATUS_BASE_URL)
    assert r.returncode == 0, r.stderr
    assert f"已设置 status_base_url = {STATUS_BASE_URL}" in r.stdout
    assert load_settings().status_base_url == STATUS_BASE_URL
    r = desk("settings", "show")
    assert r.returncode == 0 and f"status_base_url = {STATUS_BASE_URL}" in r.stdout


def test_desk_settings_set_keeps_the_other_settings_and_refuses_a_broken_file() -> None:
    save_settings(Settings(actor="前台二号", sync_interval_s=45))
    assert desk("settings", "set", "status_base_url", STATUS_BASE_URL).returncode == 0
    kept = load_settings()
    assert (kept.actor, kept.sync_interval_s, kept.status_base_url) == ("前台二号", 45, STATUS_BASE_URL)
    config_file().write_text("{not json", encoding="utf-8")
    r = desk("settings", "set", "status_base_url", STATUS_BASE_URL)
    assert r.returncode == 1 and "不是有效的 JSON" in r.stderr and "Traceback" not in r.stderr
    assert config_file().read_text(encoding="utf-8") == "{not json"  # not overwritten with defaults


# --- printing --------------------------------------------------------------------------------------------------


def _case(store: Store, clock: Clock) -> str:
    case_no = RegistrationService(store, clock, principal=staff()).register(visit()).case_no
    QueueService(store, clock, principal=staff()).issue_ticket(case_no)
    return case_no


@pytest.mark.parametrize("base", ["", "https://zz.example.gov.cn/s/", "http://zz.gzq.gov.cn/s/"])
def test_a_real_hall_without_a_valid_base_url_prints_no_receipt(
    store: Store, clock: FixedClock, base: str
) -> None:
    case_no = _case(store, clock)
    docs = DocumentService(store, clock, Settings(status_base_url=base), principal=staff())
    with pytest.raises(SettingError) as refused:
        docs.receipt_data(case_no)
    assert "status_base_url" in refused.value.message
    assert "desk settings set status_base_url https://" in refused.value.message
    docs.sheet_data(case_no)  # the case file's sheets need no URL


def test_the_renderer_refuses_an_example_host_outside_the_demo(
    sqlite_store: Store, clock: FixedClock
) -> None:
    import dataclasses

    data = DocumentService(sqlite_store, clock, PRINTING_SETTINGS, principal=staff()).receipt_data(
        _case(sqlite_store, clock)
    )
    for url in ("https://zz.example.gov.cn/s/x", "https://a.test/s/x", "https://localhost/s/x", "/s/x"):
        with pytest.raises(DeskError, match="示例地址"):
            render_receipt(dataclasses.replace(data, status_url=url))
    render_receipt(dataclasses.replace(data, status_url="https://zz.example.gov.cn/s/x", demo=True))


def test_the_command_refuses_with_how_to_set_it_and_records_nothing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'desk.db'}"
    store = open_store(url)
    init_hall(store)
    add_tester(store)
    case_no = _case(store, SystemClock())
    store.dispose()
    out = tmp_path / "r.pdf"
    config_file().parent.mkdir(parents=True, exist_ok=True)
    config_file().write_text(
        json.dumps({"status_base_url": "https://zz.example.gov.cn/s/"}), encoding="utf-8"
    )
    r = desk("receipt", case_no, "--out", str(out), "--db", url)
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert "示例地址" in r.stderr and "desk settings set status_base_url" in r.stderr
    assert not out.exists()
    assert desk("receipt", case_no, "--out", str(out), "--format", "a4-sheet", "--db", url).returncode == 0


def test_the_demo_store_prints_receipts_marked_as_a_demo(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    assert desk("init", "--demo", "--db", url).returncode == 0
    with sqlite3.connect(tmp_path / "demo.db") as db:
        [(case_no,)] = db.execute("SELECT case_no FROM cases ORDER BY case_no LIMIT 1").fetchall()
    out = tmp_path / "demo.pdf"
    r = desk("receipt", case_no, "--out", str(out), "--db", url)  # no status_base_url set
    assert r.returncode == 0, r.stderr
    text = compact(pdftotext(out, tmp_path))
    assert "受理回执（演示）" in text and "演示回执" in text and "示例地址" in text
    [scanned] = decode_qr(out, tmp_path)
    assert scanned.startswith(DEMO_STATUS_BASE_URL)


def test_a_demo_store_with_a_real_url_prints_it_still_marked(sqlite_store: Store, clock: FixedClock) -> None:
    init = add_demo_day(sqlite_store, visitors=2)
    assert init == 2
    data = DocumentService(sqlite_store, clock, PRINTING_SETTINGS, principal=staff()).receipt_data(
        _case(sqlite_store, clock)
    )
    assert data.demo and data.status_url.startswith(STATUS_BASE_URL)
