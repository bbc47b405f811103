"""uvicorn's h11 protocol with the status app's security headers on the 400 it answers a malformed request with.

uvicorn parses HTTP itself and answers a request it cannot parse (a bad request line, a space in a header
name, an oversized header block) with `400 Bad Request` before the app ever sees it, so no ASGI middleware can
add headers there. That one response is written by `send_400_response`; this protocol writes it again, with the
same security headers as every other response and a Chinese body. The protocol is named explicitly (never
uvicorn's "auto"), so installing httptools changes nothing here.

uvicorn's other answers of its own never happen here: its bare 500 (the app raised, or returned without
answering) is pre-empted by `StatusGate`, which always answers; its 503 needs `limit_concurrency`, which
`serve` does not set (set it, and that 503 goes out without these headers).
"""

from __future__ import annotations

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

BAD_REQUEST_BODY = "请求格式无效".encode()


class SecureH11Protocol(H11Protocol):
    def send_400_response(self, msg: str) -> None:
        from desk.status.app import with_security_headers

        headers = with_security_headers(
            [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(BAD_REQUEST_BODY)).encode("ascii")),
                (b"connection", b"close"),
            ]
        )
        for event in (
            h11.Response(status_code=400, headers=headers, reason=b"Bad Request"),
            h11.Data(data=BAD_REQUEST_BODY),
            h11.EndOfMessage(),
        ):
            self.transport.write(self.conn.send(event) or b"")
        self.transport.close()
