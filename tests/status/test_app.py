"""The status page over HTTP (in process): stages, one not-found page for every bad token, the rate limit,
security headers, nothing personal, tokens kept out of the logs."""

from __future__ import annotations

import datetime as dt
import logging
import subprocess
import sys
from typing import Any

import pytest

from desk.core.clock import FixedClock
from desk.services.queue import QueueService
from desk.services.registration import RegistrationService
from desk.services.status import CaseStatus
from desk.status.app import (
    NOT_FOUND_PAGE,
    RateLimiter,
    TokenLogFilter,
    client_key,
    create_app,
    redact,
    render_status,
)
from desk.store.session import Store
from tests.conftest import staff, valid_id, visit
from tests.status.asgi import get, request

CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'"
)
SECRETS = ("张三", valid_id("62070219850101123"), "13912345678", "甘州区东街街道1号", "堆放杂物", "邻居")


class Tick:
    """A monotonic clock for the rate limiter that tests move by hand."""

    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def app(store: Store, clock: FixedClock) -> Any:
    return create_app(store, clock=clock)


def _token(service: RegistrationService, case_no: str) -> str:
    return service.case(case_no).status_token


def test_stages_over_http(app: Any, service: RegistrationService, store: Store, clock: FixedClock) -> None:
    hall = QueueService(store, clock, principal=staff())
    first = service.register(visit(parties=[{"role": "applicant", "name": "李四", "phone": "13800000001"}]))
    r = service.register(visit())
    token = _token(service, r.case_no)

    page = get(app, f"/s/{token}")
    assert page.status == 200 and page.headers["content-type"] == "text/html; charset=utf-8"
    assert "已受理" in page.text and "12345" in page.text and r.case_no[-6:] in page.text
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page.text
    assert '<meta charset="utf-8">' in page.text and 'lang="zh-CN"' in page.text
    assert "2026年11月27日 10:00" in page.text  # updated_at shown in China time (UTC+8)

    hall.issue_ticket(first.case_no, room_code="R01")
    t = hall.issue_ticket(r.case_no, room_code="R01").ticket
    page = get(app, f"/s/{token}")
    assert page.status == 200
    for shown in ("排队中", "A002", "前面还有 1 人", "1号人民调解室", "一楼东侧", "下一步"):
        assert shown in page.text
    assert 'http-equiv="refresh"' in page.text  # a waiting visitor's page updates itself

    hall.call_ticket(t.id, reason="预约")
    assert "正在叫号" in get(app, f"/s/{token}").text
    hall.claim(t.id)
    page = get(app, f"/s/{token}")
    assert "调解中" in page.text and "1号人民调解室" in page.text
    for secret in (*SECRETS, r.case_no, "李四", "13800000001"):
        assert secret not in page.text


STAGE_OF_STATE = {
    "transferred": ("已转办", "承办部门"),
    "closed": ("已办结", "回访"),
    "followed_up": ("已回访", "感谢"),
    "registered": ("已受理", "分派"),
    "resolved": ("已化解", "履行"),
    "partly_resolved": ("部分化解", "其余事项"),
    "not_resolved": ("未化解", "诉讼"),
    "withdrawn": ("已撤回", "撤回"),
    "terminated": ("已终止", "其他解决途径"),
}


@pytest.mark.parametrize(("state", "stage", "shown"), [(k, *v) for k, v in STAGE_OF_STATE.items()])
def test_every_stage_renders(state: str, stage: str, shown: str) -> None:
    from desk.services.status import _describe

    got_stage, detail, next_step = _describe(state, None, None, None, None)
    s = CaseStatus(
        got_stage,
        detail,
        next_step,
        None,
        None,
        None,
        None,
        dt.datetime(2026, 11, 27, 15, 59, tzinfo=dt.UTC),
        "000123",
    )
    html = render_status(s)
    assert got_stage == stage and stage in html and shown in html
    assert "2026年11月27日 23:59" in html and "http-equiv" not in html


@pytest.mark.parametrize(
    ("stage", "on", "off"),
    [
        ("调解中", ["已受理", "排队中", "调解中"], ["调解结果", "已办结"]),
        ("部分化解", ["调解中", "部分化解"], ["已办结", "已回访"]),
        ("已化解", ["已化解"], ["已办结"]),
        ("已办结", ["调解结果", "已办结"], ["已回访"]),
    ],
)
def test_the_path_shows_how_far_the_case_has_come(stage: str, on: list[str], off: list[str]) -> None:
    when = dt.datetime(2026, 11, 27, 2, 0, tzinfo=dt.UTC)
    html = render_status(CaseStatus(stage, "", "", None, None, None, None, when, "000123"))
    for name in on:
        assert f"<li class=on>{name}</li>" in html, name
    for name in off:
        assert f"<li>{name}</li>" in html, name
    if stage in ("部分化解", "已化解"):
        assert "调解结果" not in html  # the step is named after the outcome


def test_cases_off_the_path_show_no_steps_and_read_as_finished() -> None:
    when = dt.datetime(2026, 11, 27, 2, 0, tzinfo=dt.UTC)
    for stage in ("已转办", "已撤回", "已终止"):
        html = render_status(CaseStatus(stage, "", "", None, None, None, None, when, "000123"))
        assert 'class="steps"' not in html and 'class="stage done"' in html


def test_every_case_state_has_its_stage() -> None:
    """A new state must be given a stage here: the states the queue describes (by the ticket) aside."""
    from desk.core.cases import CaseState

    by_ticket = {"diverted", "waiting", "in_mediation"}
    assert set(STAGE_OF_STATE) | by_ticket == {s.value for s in CaseState}


def test_nothing_personal_in_the_page(app: Any, service: RegistrationService) -> None:
    r = service.register(visit())
    page = get(app, f"/s/{_token(service, r.case_no)}").text
    for secret in (*SECRETS, r.case_no):
        assert secret not in page
    assert "<script" not in page and "src=" not in page  # nothing loaded from anywhere


BAD_TOKENS = [
    "A" * 22,  # well-formed, unknown
    "zZ09_-zZ09_-zZ09_-zZ09",  # well-formed, unknown
    "x",
    "A" * 23,
    "A" * 200,
    "%27%3B%20DROP%20TABLE%20cases%3B%20--",
    "..%2F..%2Fetc%2Fpasswd",
    "a/b/c",
    "%E4%B8%AD%E6%96%87",
    "%00",
    "",
]


def test_every_bad_token_gets_the_same_page(app: Any, service: RegistrationService) -> None:
    real = _token(service, service.register(visit()).case_no)
    near = real[:-1] + ("A" if real[-1] != "A" else "B")  # one character off a real token
    replies = [
        get(app, f"/s/{t}") for t in [*BAD_TOKENS, near, real.lower() if real.lower() != real else near]
    ]
    replies.append(get(app, "/nothing-here"))
    replies.append(get(app, f"/S/{real}"))  # paths are case-sensitive: not the status page
    first = replies[0]
    assert first.status == 404 and "未找到" in first.text and first.body == NOT_FOUND_PAGE
    for reply in replies:
        assert (reply.status, reply.body) == (404, first.body)
        assert reply.headers == first.headers
    assert real not in first.text


def test_rate_limit_per_ip(store: Store, clock: FixedClock) -> None:
    tick = Tick()
    app = create_app(store, clock=clock, rate_limit=3, rate_window_s=60, now=tick)
    for _ in range(3):
        assert get(app, "/s/" + "A" * 22).status == 404
        tick.t += 1
    refused = get(app, "/s/" + "A" * 22)
    assert refused.status == 429 and refused.headers["retry-after"] == "57"
    assert "查询过于频繁" in refused.text and refused.headers["content-security-policy"] == CSP
    assert get(app, "/s/" + "A" * 22, client="198.51.100.9").status == 404  # another address is not limited
    assert get(app, "/healthz").status == 200  # monitoring is not limited
    tick.t += 57
    assert get(app, "/s/" + "A" * 22).status == 404  # the first request has left the window


def test_rate_limiter_keys_are_capped() -> None:
    tick = Tick()
    rl = RateLimiter(1, 60, max_keys=100, now=tick)
    for i in range(1000):
        assert rl.hit(f"10.0.{i // 256}.{i % 256}") is None
    assert len(rl._hits) == 100


def test_security_headers_everywhere(app: Any, service: RegistrationService) -> None:
    token = _token(service, service.register(visit()).case_no)
    replies = [
        get(app, f"/s/{token}"),
        get(app, "/s/nope"),
        get(app, "/healthz"),
        get(app, "/"),
        request(app, f"/s/{token}", method="POST"),
        request(app, "/healthz", method="POST"),
    ]
    assert [r.status for r in replies] == [200, 404, 200, 404, 405, 405]
    for r in replies[-2:]:
        assert {m.strip() for m in r.headers["allow"].split(",")} == {"GET", "HEAD"}
    for r in replies:
        assert r.headers["content-security-policy"] == CSP
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["referrer-policy"] == "no-referrer"
        assert r.headers["cache-control"] == "no-store"
        assert r.headers["x-frame-options"] == "DENY"


def test_healthz(app: Any) -> None:
    r = get(app, "/healthz")
    assert (r.status, r.body) == (200, b"ok")


def test_head_is_answered(app: Any, service: RegistrationService) -> None:
    token = _token(service, service.register(visit()).case_no)
    assert request(app, f"/s/{token}", method="HEAD").status == 200


def test_log_filter_hides_tokens() -> None:
    token = "abcDEF_-1234567890abcd"
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", f"/s/{token}?x=1", "1.1", 200),
        None,
    )
    assert TokenLogFilter().filter(record)
    assert token not in record.getMessage() and '"GET /s/***?x=1 HTTP/1.1" 200' in record.getMessage()
    other = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", "/healthz", "1.1", 200),
        None,
    )
    assert TokenLogFilter().filter(other) and "/healthz" in other.getMessage()
    assert redact(f"GET /s/{token} and /s/{token}/x") == "GET /s/*** and /s/***"
    for spelled in (f"/S/{token}", f"/%73/{token}", f"/s%2F{token}", f"//s//{token}", f"/%53%2f{token}"):
        assert token not in redact(f'"GET {spelled} HTTP/1.1"'), spelled


def test_the_client_is_the_peer_unless_the_peer_is_a_trusted_proxy() -> None:
    import ipaddress

    proxies = [ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("127.0.0.1/32")]
    assert client_key("203.0.113.7", ["198.51.100.1"], []) == "203.0.113.7"
    assert client_key("203.0.113.7", ["198.51.100.1"], proxies) == "203.0.113.7"  # not a proxy of ours
    assert client_key("127.0.0.1", ["198.51.100.1"], []) == "127.0.0.1"  # nothing trusted by default
    assert client_key("127.0.0.1", ["198.51.100.1"], proxies) == "198.51.100.1"
    assert client_key("127.0.0.1", ["192.0.2.1, 198.51.100.1"], proxies) == "198.51.100.1"
    assert client_key("127.0.0.1", ["192.0.2.1", "198.51.100.1, 10.2.3.4"], proxies) == "198.51.100.1"
    assert client_key("127.0.0.1", ["198.51.100.1:5555"], proxies) == "198.51.100.1"
    assert client_key("127.0.0.1", ["[2001:db8::1]:443"], proxies) == "2001:db8::/64"
    assert client_key("127.0.0.1", ["garbage"], proxies) == "127.0.0.1"
    assert client_key("127.0.0.1", [], proxies) == "127.0.0.1"
    assert client_key("127.0.0.1", ["10.1.1.1"], proxies) == "10.1.1.1"  # only proxies: the left-most
    assert client_key("::ffff:203.0.113.7", [], proxies) == "203.0.113.7"
    assert client_key("2001:db8:0:1::5", [], proxies) == "2001:db8:0:1::/64"
    assert client_key(None, [], proxies) == "?"


def test_a_trusted_proxy_separates_its_clients_in_the_rate_limit(store: Store, clock: FixedClock) -> None:
    app = create_app(store, clock=clock, rate_limit=1, trusted_proxies=["203.0.113.0/24"])
    a = {"headers": [(b"x-forwarded-for", b"198.51.100.1")]}
    assert request(app, "/s/" + "A" * 22, **a).status == 404
    assert request(app, "/s/" + "A" * 22, **a).status == 429
    assert request(app, "/s/" + "A" * 22, headers=[(b"x-forwarded-for", b"198.51.100.2")]).status == 404


def test_a_bad_trusted_proxy_is_refused_in_chinese(store: Store) -> None:
    from desk.config import SettingError

    with pytest.raises(SettingError, match="trusted_proxies.*不是 IP 地址或网段"):
        create_app(store, trusted_proxies=["10.0.0.0/8", "proxy.lan"])


def test_cli_runs_the_server_on_the_resolved_store(monkeypatch: pytest.MonkeyPatch) -> None:
    from desk import cli
    from desk.status import app as status_app

    seen: dict[str, Any] = {}
    monkeypatch.setattr(status_app, "serve", lambda url, **kw: seen.update(url=url, **kw))
    monkeypatch.setenv("DESK_DB_URL", "sqlite:////tmp/x.db")
    assert cli.main(["status-server", "--port", "9123"]) == 0
    assert seen == {"url": "sqlite:////tmp/x.db", "host": "127.0.0.1", "port": 9123, "trusted_proxies": ()}
    assert cli.main(["settings", "set", "trusted_proxies", "10.0.0.5, 192.168.1.0/24"]) == 0
    assert cli.main(["status-server", "--db", "sqlite:////tmp/y.db", "--host", "0.0.0.0"]) == 0
    assert seen == {
        "url": "sqlite:////tmp/y.db",
        "host": "0.0.0.0",
        "port": 8080,
        "trusted_proxies": ("10.0.0.5/32", "192.168.1.0/24"),
    }


def test_a_bad_trusted_proxy_in_the_settings_file_is_a_message_not_a_start(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    from desk import cli
    from desk.config import config_file
    from desk.status import app as status_app

    monkeypatch.setattr(status_app, "serve", lambda url, **kw: pytest.fail("started"))
    config_file().parent.mkdir(parents=True, exist_ok=True)
    config_file().write_text(json.dumps({"trusted_proxies": ["10.0.0.1", "nginx"]}), encoding="utf-8")
    assert cli.main(["status-server"]) == 1
    err = capsys.readouterr().err
    assert "trusted_proxies" in err and "'nginx'" in err and "Traceback" not in err
    assert cli.main(["settings", "set", "trusted_proxies", "nginx"]) == 2
    assert "不是 IP 地址或网段" in capsys.readouterr().err


def test_no_qt_in_the_status_server() -> None:
    code = (
        "import sys, desk.status, desk.status.app, desk.cli; assert 'PySide6' not in sys.modules, 'Qt loaded'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
