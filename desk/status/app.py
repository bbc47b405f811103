"""The status page the receipt's QR code opens: `GET /s/{token}` → the case's stage, room and next step.

Privacy (DESIGN.md "Privacy and access"): the page shows only what `StatusService` gives (stage, ticket, room,
next step, update time, the last digits of the case number) -- never a name, ID number, phone, address or
narrative. A wrong, malformed or expired token and any other unknown path get one byte-identical 未找到 page
(404), so the answer says nothing about whether a case exists. `/s/` is rate limited per client IP (429 with
Retry-After); `X-Forwarded-For` counts only from the proxies in settings (`trusted_proxies`).

Hostile requests: `StatusGate`, outside everything else, gives every response the security headers (500s
too), resolves the client, and writes the access log itself, naming the matched route (`/s/{token:path}`) and
never the request's path, however that was spelled. uvicorn's own access log and proxy-header handling are off,
and its protocol (`SecureH11Protocol`) puts the same headers on the 400 it answers a malformed request with.
No response echoes the request's Host: there are no redirects (`redirect_slashes` is off).
"""

from __future__ import annotations

import collections
import contextlib
import html
import ipaddress
import logging
import math
import re
import sys
import threading
import time
import traceback
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from desk.config import check_trusted_proxies
from desk.core.clock import CHINA_TZ, Clock
from desk.core.redact import scrub_handlers
from desk.errors import StoreError
from desk.services.root import build_services
from desk.services.status import HOTLINE, CaseStatus
from desk.store.session import Store, open_store

logger = logging.getLogger(__name__)
access_logger = logging.getLogger("desk.status.access")

SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (
        b"content-security-policy",
        b"default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
        b"base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    ),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cache-control", b"no-store"),
)
STAGES = ("已受理", "排队中", "调解中", "调解结果", "已办结", "已回访")  # the usual path
# where an outcome sits on it (its step is named after the outcome); 已转办, 已撤回 and 已终止 leave the path
OUTCOME_STAGES = ("已化解", "部分化解", "未化解")
FINAL_STAGES = ("已办结", "已回访", "已转办", "已撤回", "已终止")
# any spelling of /s/<token> in a text: a backstop for logs the gate does not write (see redact)
TOKEN_IN_PATH = re.compile(r"(?i)(?:/|%2f)+(?:s|%73|%53)(?:/|%2f)+[^?\s\"]*")
UNMATCHED = "<unmatched>"  # the access log's route for a request no route took
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "CONNECT"})
REFRESH_S = 30  # a waiting visitor's page reloads itself; 2 requests a minute, far below the rate limit


# --- rate limit ------------------------------------------------------------------------------------------


class RateLimiter:
    """A sliding-window log per key: at most `limit` hits in any `window_s` seconds. In memory, one process.

    The number of keys is capped (the least recently seen are dropped), so a flood of addresses cannot grow it
    without bound."""

    def __init__(
        self,
        limit: int,
        window_s: float,
        *,
        max_keys: int = 50_000,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit = limit
        self.window_s = window_s
        self._max_keys = max_keys
        self._now = now
        self._hits: collections.OrderedDict[str, collections.deque[float]] = collections.OrderedDict()
        self._lock = threading.Lock()

    def hit(self, key: str) -> float | None:
        """Count one request; None when allowed, else the seconds until the next one would be."""
        now = self._now()
        with self._lock:
            q = self._hits.get(key)
            if q is None:
                q = self._hits[key] = collections.deque()
                if len(self._hits) > self._max_keys:
                    self._hits.popitem(last=False)
            else:
                self._hits.move_to_end(key)
            while q and q[0] <= now - self.window_s:
                q.popleft()
            if len(q) >= self.limit:
                return q[0] + self.window_s - now
            q.append(now)
            return None


# --- pages -----------------------------------------------------------------------------------------------

CSS = """
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;background:#f2f4f7;color:#1d2433;font:19px/1.6 "Noto Sans CJK SC","Source Han Sans SC",
"PingFang SC","Microsoft YaHei","WenQuanYi Micro Hei",sans-serif}
header{background:#b7282e;color:#fff;padding:18px 20px 16px}
header h1{margin:0;font-size:22px;font-weight:700;letter-spacing:1px}
header p{margin:2px 0 0;font-size:15px;opacity:.9}
main{max-width:560px;margin:0 auto;padding:16px}
.card{background:#fff;border-radius:14px;padding:18px 20px;margin:0 0 14px;box-shadow:0 1px 3px rgba(0,0,0,.08)}
.stage{font-size:34px;font-weight:700;color:#b7282e;margin:0 0 4px}
.stage.done{color:#1f7a3d}
.detail{font-size:21px;margin:0}
.ticket{display:flex;align-items:baseline;gap:14px;margin:14px 0 0;padding:12px 14px;background:#fff6e5;
border-radius:10px}
.ticket b{font-size:44px;line-height:1;color:#1d2433;letter-spacing:2px}
.ticket span{font-size:19px}
.steps{display:flex;margin:18px 0 2px;padding:0;list-style:none}
.steps li{flex:1;text-align:center;font-size:14px;color:#8a93a3;position:relative;padding-top:22px}
.steps li::before{content:"";position:absolute;top:4px;left:50%;width:14px;height:14px;margin-left:-7px;
border-radius:50%;background:#d5d9e0}
.steps li::after{content:"";position:absolute;top:10px;left:-50%;width:100%;height:3px;background:#d5d9e0;z-index:0}
.steps li:first-child::after{display:none}
.steps li.on{color:#b7282e;font-weight:700}
.steps li.on::before,.steps li.on::after{background:#b7282e}
.steps li::before{z-index:1}
dl{margin:0}
dt{font-size:15px;color:#6b7385;margin-top:10px}
dt:first-child{margin-top:0}
dd{margin:0;font-size:20px}
.hotline{text-align:center;font-size:18px}
.hotline a{display:block;margin-top:8px;padding:12px;border-radius:10px;background:#b7282e;color:#fff;
font-size:24px;font-weight:700;text-decoration:none;letter-spacing:2px}
footer{text-align:center;font-size:13px;color:#8a93a3;padding:4px 16px 24px}
"""


def _page(title: str, body: str, *, refresh: bool = False) -> str:
    meta_refresh = f'<meta http-equiv="refresh" content="{REFRESH_S}">' if refresh else ""
    return (
        "<!DOCTYPE html>\n"
        '<html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="robots" content="noindex, nofollow">'
        f"{meta_refresh}<title>{html.escape(title)}</title><style>{CSS}</style></head><body>"
        "<header><h1>综治中心 · 办理进度</h1><p>矛盾纠纷调处化解 一站式受理</p></header>"
        f"<main>{body}</main>"
        "<footer>本页只显示办理进度，不显示个人信息。</footer></body></html>\n"
    )


def _hotline_card(text: str) -> str:
    return f'<section class="card hotline">{html.escape(text)}<a href="tel:{HOTLINE}">{HOTLINE}</a></section>'


def render_status(s: CaseStatus) -> str:
    e = html.escape
    stage_class = "stage done" if s.stage in FINAL_STAGES else "stage"
    waiting = s.stage == "排队中" and s.ticket is not None and s.ahead is not None
    detail = "" if waiting else f'<p class="detail">{e(s.detail)}</p>'  # the ticket box says it, larger
    parts = [f'<section class="card"><p class="{stage_class}">{e(s.stage)}</p>{detail}']
    if waiting and s.ticket:
        who = "下一位就是您" if not s.ahead else f"前面还有 {s.ahead} 人"
        parts.append(f'<div class="ticket"><b>{e(s.ticket)}</b><span>排队号<br>{e(who)}</span></div>')
    if s.stage in STAGES or s.stage in OUTCOME_STAGES:
        outcome = s.stage if s.stage in OUTCOME_STAGES else None
        reached = STAGES.index("调解结果") if outcome else STAGES.index(s.stage)
        names = [outcome if name == "调解结果" and outcome else name for name in STAGES]
        parts.append(
            '<ol class="steps">'
            + "".join(f"<li{' class=on' if i <= reached else ''}>{name}</li>" for i, name in enumerate(names))
            + "</ol>"
        )
    parts.append("</section>")
    rows = []
    if s.room:
        rows.append(("功能室", s.room))
    if s.location:
        rows.append(("位置", s.location))
    rows.append(("下一步", s.next_step))
    rows.append(("更新时间", s.updated_at.astimezone(CHINA_TZ).strftime("%Y年%m月%d日 %H:%M")))
    rows.append(("回执编号尾号", s.case_no_tail))
    parts.append(
        '<section class="card"><dl>'
        + "".join(f"<dt>{e(k)}</dt><dd>{e(v)}</dd>" for k, v in rows)
        + "</dl></section>"
    )
    parts.append(_hotline_card("咨询、投诉或查询进度，请拨打"))
    return _page(f"{s.stage} · 办理进度", "".join(parts), refresh=s.stage in ("排队中", "调解中"))


NOT_FOUND_PAGE = _page(
    "未找到",
    (
        '<section class="card"><p class="stage">未找到</p>'
        '<p class="detail">没有找到对应的办理进度。请核对回执上的二维码是否完整，重新扫描；'
        "或到中心前台查询。</p></section>" + _hotline_card("也可拨打热线查询")
    ),
).encode("utf-8")
SERVER_ERROR_PAGE = _page(
    "暂时无法查询",
    (
        '<section class="card"><p class="stage">暂时无法查询</p>'
        '<p class="detail">查询服务出现故障，请稍后再试。</p></section>' + _hotline_card("急事请拨打")
    ),
).encode("utf-8")
TOO_MANY_PAGE = _page(
    "查询过于频繁",
    (
        '<section class="card"><p class="stage">查询过于频繁</p>'
        '<p class="detail">请稍等一分钟后再刷新本页。</p></section>' + _hotline_card("急事请拨打")
    ),
).encode("utf-8")


def _html(body: bytes, status: int, headers: dict[str, str] | None = None) -> Response:
    return Response(body, status_code=status, headers=headers, media_type="text/html; charset=utf-8")


# --- who is asking ----------------------------------------------------------------------------------------


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """An address as a client or proxy gives it (`1.2.3.4`, `1.2.3.4:5678`, `[2001:db8::1]:443`), or None."""
    text = text.strip()
    if text.startswith("[") and "]" in text:
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # IPv4 with a port
        text = text.split(":", 1)[0]
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def client_key(peer: str | None, forwarded_for: Sequence[str], trusted: Sequence[Network]) -> str:
    """The address a request counts against in the rate limit.

    The TCP peer, unless it is one of the `trusted` proxies: then the right-most address in X-Forwarded-For that
    is not a trusted proxy (each proxy appends the address it took the request from, so the entries to its left
    are whatever the client wrote). An IPv6 client counts by its /64, which one subscriber usually holds whole.
    """
    ip = _ip(peer) if peer else None
    if ip is None:
        return peer or "?"

    def is_trusted(a: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
        return any(a in net for net in trusted)

    if trusted and is_trusted(ip):
        hops = [h for value in forwarded_for for h in value.split(",") if h.strip()]
        for hop in reversed(hops):
            hop_ip = _ip(hop)
            if hop_ip is None:
                break  # garbage where our proxy writes: count the request against the proxy itself
            ip = hop_ip
            if not is_trusted(hop_ip):
                break
    if isinstance(ip, ipaddress.IPv6Address):
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


# --- the gate: headers, client, access log, last-resort 500 ---------------------------------------------


class StatusGate:
    """The outermost layer of the status app, around Starlette's own error handling.

    - Every response gets the security headers, a 500 from a failing handler included.
    - `scope["client"]` becomes the client as `client_key` resolves it (the rate limit and the log use it).
    - One access-log line per request on `desk.status.access`, in uvicorn's format, naming the route the
      request matched (`/s/{token:path}`, `/healthz`, or `<unmatched>`) instead of its path: no spelling of a
      path (percent-encoded letters, `%2F`, upper case, double slashes, a query string) can put a token there.
    - An exception is answered with the 500 page if nothing was sent yet, and logged by its type and stack
      only: a driver's message may quote the statement's parameters (the token).
    """

    def __init__(self, app: ASGIApp, *, trusted_proxies: Iterable[str] = ()) -> None:
        self.app = app
        self.trusted: tuple[Network, ...] = tuple(
            ipaddress.ip_network(p) for p in check_trusted_proxies(tuple(trusted_proxies))
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        peer = scope.get("client")
        forwarded = [
            v.decode("latin-1") for k, v in scope.get("headers", []) if k.lower() == b"x-forwarded-for"
        ]
        client = client_key(peer[0] if peer else None, forwarded, self.trusted)
        scope["client"] = (client, peer[1] if peer else 0)
        status = 0

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                message["headers"] = with_security_headers(message.get("headers", []))
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception as e:  # noqa: BLE001 - the last resort: a page, and a log line without the message
            logger.error(
                "status request failed: %s\n%s",
                type(e).__name__,
                "".join(traceback.format_tb(e.__traceback__)),
            )
            if not status:
                await send_with_headers(
                    {
                        "type": "http.response.start",
                        "status": 500,
                        "headers": [(b"content-type", b"text/html; charset=utf-8")],
                    }
                )
                await send({"type": "http.response.body", "body": SERVER_ERROR_PAGE})
        if not status:  # the app returned without answering: uvicorn would send a bare 500
            await send_with_headers(
                {
                    "type": "http.response.start",
                    "status": 500,
                    "headers": [(b"content-type", b"text/html; charset=utf-8")],
                }
            )
            await send({"type": "http.response.body", "body": SERVER_ERROR_PAGE})
        route = scope.get("route")
        method = scope.get("method", "")
        access_logger.info(
            '%s - "%s %s HTTP/%s" %d',
            client,
            method if method in METHODS else "OTHER",
            route.path if isinstance(route, Route) else UNMATCHED,
            scope.get("http_version", "1.1") if scope.get("http_version") in ("1.0", "1.1", "2") else "?",
            status,
        )


def with_security_headers(headers: Iterable[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """`headers` with each security header added unless the response set it already."""
    out = list(headers)
    names = {k.lower() for k, _ in out}
    return out + [(k, v) for k, v in SECURITY_HEADERS if k not in names]


class StatusApp(Starlette):
    """Starlette with `StatusGate` outside its whole middleware stack (its ServerErrorMiddleware included)."""

    trusted_proxies: tuple[str, ...] = ()

    def build_middleware_stack(self) -> ASGIApp:
        return StatusGate(super().build_middleware_stack(), trusted_proxies=self.trusted_proxies)


# --- the app ---------------------------------------------------------------------------------------------


def open_status_store(url: str) -> Store:
    """The store as the status page reads it. SQLite: opened as every command opens it. PostgreSQL: connected
    to, never migrated nor inspected -- the status server's role (`desk_status`) may read the view
    `case_stages` and nothing else, not even the schema's revision -- then that view is read once, so a wrong
    address, role or grant is a `StoreError` in Chinese at start, not a 500 on the first visitor."""
    from sqlalchemy.engine import make_url

    from desk.store.checks import display_url, postgresql_open_error
    from desk.store.session import create_engine
    from desk.store.stages import case_stages

    try:
        backend = make_url(url).get_backend_name()
    except Exception:  # noqa: BLE001 - open_store says what is wrong with it
        backend = ""
    if backend != "postgresql":
        return open_store(url, create=False)
    store = Store(create_engine(url))
    try:
        with store.read() as s:
            s.execute(sa.select(case_stages.c.status_token).limit(0)).all()
    except sa.exc.DBAPIError as e:
        store.dispose()
        sqlstate = getattr(e.orig, "sqlstate", None) or ""
        where = display_url(url)
        if sqlstate == "42501":
            raise StoreError(
                f"状态查询服务的数据库账号无权读取办理进度视图 case_stages（{where}）："
                "请在县级库运行 desk county init 重新授权"
            ) from None
        if sqlstate == "42P01":
            raise StoreError(
                f"数据库 {where} 中没有办理进度视图 case_stages：库尚未初始化或版本较旧，"
                "请先运行 desk init（县级库：desk county init）"
            ) from None
        raise postgresql_open_error(e.orig if e.orig is not None else e, url) from None
    return store


def create_app(
    store_url_or_store: str | Store,
    *,
    clock: Clock | None = None,
    rate_limit: int = 30,
    rate_window_s: float = 60,
    trusted_proxies: Iterable[str] = (),
    now: Callable[[], float] = time.monotonic,
) -> Starlette:
    """The status web app on a store (an opened `Store`, or a URL that is opened here and closed on shutdown).
    `clock` defaults to the composition root's (the system clock, or DESK_NOW's). `trusted_proxies`: the
    reverse proxies (IPs, CIDRs) whose X-Forwarded-For names the client; a bad entry is a `SettingError`."""
    proxies = check_trusted_proxies(tuple(trusted_proxies))  # before the store is opened
    owned = isinstance(store_url_or_store, str)
    store = (
        open_status_store(store_url_or_store) if isinstance(store_url_or_store, str) else store_url_or_store
    )
    service = build_services(store, clock).status
    limiter = RateLimiter(rate_limit, rate_window_s, now=now)
    # A SQLite lookup by the unique index takes well under a millisecond: done on the event loop, it costs less
    # than a hop to the thread pool. A network database (PostgreSQL) is queried in the thread pool.
    inline = store.dialect == "sqlite"

    async def status_page(request: Request) -> Response:
        client = request.client.host if request.client else "?"  # as StatusGate resolved it
        wait = limiter.hit(client)
        if wait is not None:
            return _html(TOO_MANY_PAGE, 429, {"Retry-After": str(max(1, math.ceil(wait)))})
        token = request.path_params["token"]
        s = service.status(token) if inline else await run_in_threadpool(service.status, token)
        if s is None:
            return _html(NOT_FOUND_PAGE, 404)
        return HTMLResponse(render_status(s))

    async def healthz(request: Request) -> Response:
        return PlainTextResponse("ok")

    async def http_error(request: Request, exc: Exception) -> Response:
        code = exc.status_code if isinstance(exc, HTTPException) else 500
        if code == 404:
            return _html(NOT_FOUND_PAGE, 404)
        headers = exc.headers if isinstance(exc, HTTPException) else None  # a 405's Allow
        return PlainTextResponse(str(code), status_code=code, headers=headers)

    async def server_error(request: Request, exc: Exception) -> Response:
        return _html(SERVER_ERROR_PAGE, 500)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            if owned:
                store.dispose()

    routes: list[BaseRoute] = [
        Route("/s/{token:path}", status_page, methods=["GET", "HEAD"]),
        Route("/healthz", healthz, methods=["GET", "HEAD"]),
    ]
    app = StatusApp(
        routes=routes,
        exception_handlers={HTTPException: http_error, Exception: server_error},
        lifespan=lifespan,
    )
    app.router.redirect_slashes = False  # a redirect would be built from the request's Host header
    app.trusted_proxies = proxies
    app.state.store = store
    app.state.limiter = limiter
    return app


# --- logging and serving ---------------------------------------------------------------------------------


def redact(text: str) -> str:
    """A path or log line with every status token replaced by `***`, however the path was spelled. The gate
    never logs a path; this is the backstop for uvicorn's own loggers."""
    return TOKEN_IN_PATH.sub("/s/***", text)


class TokenLogFilter(logging.Filter):
    """Keeps status tokens out of a log record: its string arguments (or message) pass through `redact`."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.msg, str):
            record.msg = redact(record.msg)
        return True


def install_log_filter() -> None:
    """The backstop on uvicorn's loggers (its access log is off: `StatusGate` writes ours)."""
    for name in ("uvicorn.access", "uvicorn.error"):
        log = logging.getLogger(name)
        if not any(isinstance(f, TokenLogFilter) for f in log.filters):
            log.addFilter(TokenLogFilter())


def _log_access_to_stdout() -> None:
    """The access log on standard output, as uvicorn's would be (unless logging was configured already)."""
    if access_logger.handlers:
        return
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("%(levelname)s:     %(message)s"))
    access_logger.addHandler(handler)
    access_logger.setLevel(logging.INFO)
    access_logger.propagate = False


def uvicorn_config(app: ASGIApp, *, host: str, port: int, access_log: bool = True, **config: Any) -> Any:
    """uvicorn's configuration for the status app: our HTTP protocol, no proxy-header rewriting (trusted
    proxies are the gate's), no Server header, no access log of uvicorn's own."""
    import uvicorn

    from desk.status.protocol import SecureH11Protocol

    cfg = uvicorn.Config(
        app,
        host=host,
        port=port,
        http=SecureH11Protocol,
        access_log=False,
        proxy_headers=False,
        forwarded_allow_ips=[],
        server_header=False,
        **config,
    )
    install_log_filter()  # after Config: it (re)configures uvicorn's loggers
    if access_log:
        _log_access_to_stdout()
    else:
        access_logger.disabled = True
    # and every handler scrubs ID numbers, phones and tokens, as the desk's own do
    scrub_handlers(
        *(logging.getLogger(n) for n in ("", "uvicorn", "uvicorn.error", "uvicorn.access")), access_logger
    )
    return cfg


def serve(
    db_url: str,
    *,
    host: str = "127.0.0.1",
    port: int = 8080,
    access_log: bool = True,
    rate_limit: int = 30,
    trusted_proxies: Iterable[str] = (),
    **config: Any,
) -> None:
    """Run the status server (uvicorn, one process) until interrupted."""
    import uvicorn

    app = create_app(db_url, rate_limit=rate_limit, trusted_proxies=trusted_proxies)
    uvicorn.Server(uvicorn_config(app, host=host, port=port, access_log=access_log, **config)).run()
