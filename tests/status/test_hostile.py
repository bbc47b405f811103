"""The status server against hostile requests, over real HTTP to the real uvicorn server in a subprocess: raw
sockets send exactly the bytes under test (no client normalises the path). The token never reaches the log
however the path is spelled; X-Forwarded-For counts only from a trusted proxy; every response, the server's own
400 and a failing handler's 500 included, carries the security headers; a 405 says what is allowed; nothing
echoes the request's Host."""

from __future__ import annotations

import json
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from desk.core.clock import SystemClock
from desk.services.queue import QueueService
from desk.services.registration import RegistrationService
from desk.services.setup import init_hall
from desk.store.session import open_store
from tests.conftest import add_tester, staff, visit
from tests.status.browser import free_port

SECURITY = {
    "content-security-policy": (
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; base-uri 'none'; "
        "form-action 'none'; frame-ancestors 'none'"
    ),
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "cache-control": "no-store",
}
EVIL_HOST = b"evil-host.attacker.test"


@dataclass
class Raw:
    status: int
    headers: dict[str, str]
    body: bytes
    data: bytes  # everything the server sent


def send(port: int, request: bytes) -> Raw:
    """Send `request` as it is and read the answer until the server closes the connection."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    data = b"".join(chunks)
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        assert name.lower() not in headers, f"duplicate header {name}"
        headers[name.lower()] = value.strip()
    return Raw(int(lines[0].split()[1]), headers, body, data)


def get(port: int, target: str, *, method: str = "GET", headers: dict[str, str] | None = None) -> Raw:
    fields = {"Host": EVIL_HOST.decode(), "Connection": "close", **(headers or {})}
    head = f"{method} {target} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in fields.items()) + "\r\n"
    return send(port, head.encode("latin-1"))


@contextmanager
def server(db_url: str, log: Path, **options: object) -> Iterator[int]:
    """`desk.status.app.serve` (uvicorn, configured as `desk status-server` configures it) on a free port, its
    standard output and error -- the access log and uvicorn's own log -- written to `log`."""
    port = free_port()
    code = (
        "import json, sys; from desk.status.app import serve; "
        "serve(sys.argv[1], port=int(sys.argv[2]), **json.loads(sys.argv[3]))"
    )
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-c", code, db_url, str(port), json.dumps(options)],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_until_up(proc, port, log)
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@contextmanager
def cli_server(db_url: str, log: Path) -> Iterator[int]:
    """`desk status-server` itself (its settings from the test's settings file)."""
    port = free_port()
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "desk", "status-server", "--db", db_url, "--port", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_until_up(proc, port, log)
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _wait_until_up(proc: subprocess.Popen[bytes], port: int, log: Path) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            if get(port, "/healthz").status == 200:
                return
        except (OSError, IndexError, ValueError):
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            raise AssertionError(f"status server did not start:\n{log.read_text(errors='replace')}")
        time.sleep(0.1)


@pytest.fixture
def hall(tmp_path: Path) -> tuple[str, str]:
    """A hall store on SQLite with one waiting visitor: its URL and the visitor's status token."""
    url = f"sqlite:///{tmp_path / 'desk.db'}"
    store = open_store(url)
    init_hall(store)
    add_tester(store)
    reg = RegistrationService(store, SystemClock(), principal=staff())
    case_no = reg.register(visit()).case_no
    QueueService(store, SystemClock(), principal=staff()).issue_ticket(case_no, room_code="R01")
    token = reg.case(case_no).status_token
    store.dispose()
    return url, token


def _pieces(token: str) -> list[str]:
    """Every 8-character run of the token, lower-cased: none may appear in a log, in any case."""
    return [token[i : i + 8].lower() for i in range(len(token) - 7)]


def _encoded(text: str) -> str:
    return "".join(f"%{ord(c):02X}" for c in text)


# --- the access log --------------------------------------------------------------------------------------


def test_the_token_never_reaches_the_log_however_the_path_is_spelled(
    hall: tuple[str, str], tmp_path: Path
) -> None:
    url, token = hall
    served = [  # uvicorn decodes these to /s/<token>: the page is shown
        f"/s/{token}",
        f"/%73/{token}",
        f"/s/%{ord(token[0]):02X}{token[1:]}",
        f"/s/{_encoded(token)}",
        f"/s%2F{token}",
        f"/s%2f{token}",
        f"/%73%2F{token}",
        f"/s/{token}?x=1",
        f"/s/{token}?t={token}",
    ]
    other = [  # not the status page; still never logged
        f"/S/{token}",
        f"/%53/{token}",
        f"//s/{token}",
        f"/s//{token}",
        f"/./s/{token}",
        f"/s/../s/{token}",
        f"/s/{token}/",
        f"/x/{token}",
        f"/?token={token}",
        f"/{token}",
        f"http://127.0.0.1/s/{token}",
        f"/s/{token}%00",
        f"/s/{token.lower()}",
        f"/s/{token.upper()}",
    ]
    log = tmp_path / "server.log"
    with cli_server(url, log) as port:
        for target in served:
            r = get(port, target)
            assert r.status == 200 and "排队中".encode() in r.body, target
        for target in other:
            assert get(port, target).status in (400, 404), target
        assert get(port, f"/s/{token}", method="POST").status == 405
        assert get(port, "/s/x", method=token).status == 405  # the token as the method
        assert get(port, "/healthz", headers={"Referer": f"/s/{token}", "User-Agent": token}).status == 200
        # malformed requests, answered by uvicorn itself
        for raw in (
            f"GET /s/{token} HTTP/1.1\r\nHost: x\r\nBad Header: {token}\r\n\r\n",
            f"GET /s/ {token} HTTP/1.1\r\nHost: x\r\n\r\n",
            f"GET /s/{token}\r\n\r\n",
            f"GET /s/{token} HTTP/1.1\r\nHost: x\r\nContent-Length: {token}\r\n\r\n",
        ):
            assert send(port, raw.encode()).status == 400
        assert (
            send(port, f"GET /s/{token} HTTP/9.9\r\nHost: x\r\n\r\n".encode()).status == 200
        )  # h11 takes it
    text = log.read_text(encoding="utf-8", errors="replace")
    assert '"GET /s/{token:path} HTTP/1.1" 200' in text  # the access log is on and names the route...
    assert '"GET <unmatched> HTTP/1.1" 404' in text and '"POST /s/{token:path} HTTP/1.1" 405' in text
    assert '"OTHER /s/{token:path} HTTP/1.1" 405' in text
    assert "Invalid HTTP request" in text  # ... and uvicorn's own warnings are kept
    lowered = text.lower()
    for piece in _pieces(token):
        assert piece not in lowered, f"a piece of the token is in the log:\n{text}"


def test_a_failing_handler_answers_500_with_the_headers_and_logs_no_token(
    hall: tuple[str, str], tmp_path: Path
) -> None:
    url, token = hall
    log = tmp_path / "server.log"
    with server(url, log) as port:
        assert get(port, f"/s/{token}").status == 200
        with sqlite3.connect(tmp_path / "desk.db") as db:  # the store breaks under the running server
            # (the page reads the view case_stages; renaming a table it reads would be followed by the view)
            db.execute("DROP VIEW case_stages")
        r = get(port, f"/s/{token}")
        assert r.status == 500 and "暂时无法查询" in r.body.decode()
        for name, value in SECURITY.items():
            assert r.headers[name] == value
        assert EVIL_HOST not in r.data and token.encode() not in r.data
    text = log.read_text(encoding="utf-8", errors="replace")
    assert "status request failed: OperationalError" in text  # logged, by its type and stack
    assert '"GET /s/{token:path} HTTP/1.1" 500' in text
    for piece in _pieces(token):
        assert piece not in text.lower(), text


# --- X-Forwarded-For and the rate limit -------------------------------------------------------------------


def test_x_forwarded_for_from_an_untrusted_peer_does_not_bypass_the_limit(
    hall: tuple[str, str], tmp_path: Path
) -> None:
    """The default: no proxy is trusted, not even 127.0.0.1 (uvicorn's own default), so every request from
    this peer counts against it whatever X-Forwarded-For says."""
    url, _ = hall
    log = tmp_path / "server.log"
    with server(url, log, rate_limit=3) as port:
        spoofs = ["198.51.100.1", "198.51.100.2", "203.0.113.9, 198.51.100.3"]
        for i, spoof in enumerate(spoofs):
            assert get(port, "/s/" + "A" * 22, headers={"X-Forwarded-For": spoof}).status == 404, i
        for spoof in ("192.0.2.77", "::1", "garbage", "", "127.0.0.1"):
            r = get(port, "/s/" + "A" * 22, headers={"X-Forwarded-For": spoof, "Forwarded": f"for={spoof}"})
            assert r.status == 429 and int(r.headers["retry-after"]) > 0
    text = log.read_text(encoding="utf-8", errors="replace")
    assert "198.51.100" not in text and "192.0.2.77" not in text  # the log names the real peer
    assert '127.0.0.1 - "GET /s/{token:path} HTTP/1.1" 429' in text


def test_x_forwarded_for_from_a_trusted_proxy_separates_clients(
    hall: tuple[str, str], tmp_path: Path
) -> None:
    url, _ = hall
    log = tmp_path / "server.log"
    with server(url, log, rate_limit=2, trusted_proxies=["127.0.0.1", "10.0.0.0/8"]) as port:

        def status(xff: str) -> int:
            return get(port, "/s/" + "A" * 22, headers={"X-Forwarded-For": xff}).status

        assert [status("198.51.100.1") for _ in range(2)] == [404, 404]
        assert status("198.51.100.1") == 429
        # the client writes a made-up address in front; the proxy appends the real one: still limited
        assert status("192.0.2.1, 198.51.100.1") == 429
        # a chain of trusted proxies: the right-most address that is not one of them is the client
        assert status("198.51.100.1, 10.1.2.3") == 429
        assert status("198.51.100.2") == 404  # another client behind the proxy
        assert status("198.51.100.2, 10.1.2.3") == 404
        assert status("198.51.100.2") == 429
        # an IPv6 client counts by its /64
        assert [status(f"2001:db8:1:2::{i}") for i in (1, 2, 3)] == [404, 404, 429]
        assert status("2001:db8:1:3::1") == 404
    text = log.read_text(encoding="utf-8", errors="replace")
    assert '198.51.100.2 - "GET /s/{token:path} HTTP/1.1" 404' in text


# --- headers, 405, 400, redirects ---------------------------------------------------------------------------


def test_every_response_carries_the_security_headers_and_never_echoes_the_host(
    hall: tuple[str, str], tmp_path: Path
) -> None:
    url, token = hall
    log = tmp_path / "server.log"
    with server(url, log, rate_limit=2) as port:
        replies = {
            "200": get(port, f"/s/{token}"),
            "404": get(port, "/s/" + "A" * 22),
            "429": get(port, "/s/" + "A" * 22),
            "healthz": get(port, "/healthz"),
            "unknown": get(port, "/nothing"),
            "root": get(port, "/"),
            "405 status": get(port, f"/s/{token}", method="POST"),
            "405 healthz": get(port, "/healthz", method="POST"),
            "405 delete": get(port, "/healthz", method="DELETE"),
            "405 options": get(port, "/healthz", method="OPTIONS"),
            "trailing slash": get(port, "/healthz/"),
            "no slash": get(port, "/s"),
            "absolute": get(port, "http://evil-host.attacker.test/healthz/"),
            "bad request line": send(port, b"GARBAGE\r\n\r\n"),
            "bad header": send(port, b"GET /healthz HTTP/1.1\r\nHost: x\r\nBad Header: y\r\n\r\n"),
            "bad length": send(port, b"GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: x\r\n\r\n"),
        }
    statuses = {name: r.status for name, r in replies.items()}
    assert statuses == {
        "200": 200,
        "404": 404,
        "429": 429,
        "healthz": 200,
        "unknown": 404,
        "root": 404,
        "405 status": 405,
        "405 healthz": 405,
        "405 delete": 405,
        "405 options": 405,
        "trailing slash": 404,
        "no slash": 404,
        "absolute": 404,
        "bad request line": 400,
        "bad header": 400,
        "bad length": 400,
    }
    for name, r in replies.items():
        for header, value in SECURITY.items():
            assert r.headers.get(header) == value, (name, header)
        assert "server" not in r.headers, name  # no server banner
        assert "location" not in r.headers, name  # no redirects at all...
        assert EVIL_HOST not in r.data, name  # ... and nothing built from the Host header
    for name in ("405 status", "405 healthz", "405 delete", "405 options"):
        allowed = {m.strip() for m in replies[name].headers["allow"].split(",")}
        assert allowed == {"GET", "HEAD"}, name
    assert replies["bad request line"].body.decode() == "请求格式无效"
    assert replies["404"].body == replies["trailing slash"].body == replies["no slash"].body
