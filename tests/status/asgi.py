"""A minimal in-process HTTP client for an ASGI app (Starlette's TestClient needs httpx, which is not a
dependency): one GET, the status, headers and body bytes."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")


def request(
    app: Any,
    target: str,
    *,
    method: str = "GET",
    client: str = "203.0.113.7",
    headers: list[tuple[bytes, bytes]] | None = None,
) -> Reply:
    parts = urlsplit(target)
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": unquote(parts.path),
        "raw_path": parts.path.encode("ascii"),
        "query_string": parts.query.encode("ascii"),
        "root_path": "",
        "headers": [(b"host", b"status.test"), (b"user-agent", b"test"), *(headers or [])],
        "client": (client, 50000),
        "server": ("status.test", 80),
    }
    messages: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        messages.append(message)

    asyncio.run(app(scope, receive, send))
    start = next(m for m in messages if m["type"] == "http.response.start")
    got: dict[str, str] = {}
    for k, v in start["headers"]:
        assert k.decode("latin-1").lower() not in got, f"duplicate header {k!r}"
        got[k.decode("latin-1").lower()] = v.decode("latin-1")
    body = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.response.body")
    return Reply(start["status"], got, body)


def get(app: Any, target: str, **kw: Any) -> Reply:
    return request(app, target, **kw)
