"""A TCP proxy between a hall's Syncer and PostgreSQL that cuts connections where sync is most fragile.

It forwards 127.0.0.1:<port> to the server and reads just enough of the PostgreSQL wire protocol (client side)
to know which statement a message runs: a simple query (`Q`), or the statement a `Bind` executes (its text is
remembered from the `Parse`, so server-side prepared statements are recognised too). With that it can cut every
open connection

- on command (`cut()`);
- before a statement reaches the server (`cut_when(..., moment=BEFORE)`: e.g. the pull's outbox SELECT);
- after the server has done a statement, before its answer reaches the client (`moment=REPLY`: a COMMIT after a
  COPY — the county committed, the hall never hears it);
- a number of bytes after a statement (`moment=AFTER_BYTES`: in the middle of the COPY data);
- after a number of bytes in either direction (`cut_after`), drawn from a seeded RNG (`cut_at_random`);

or, instead of cutting, run a callback when the statement passes (`then=`: e.g. terminate the county's backends,
as if the county server restarted). A trigger fires once; connections opened afterwards pass untouched, so the
next round can succeed. SSL and GSS encryption requests are answered "no" by the proxy itself, so the stream it
reads is always plain.
"""

from __future__ import annotations

import contextlib
import enum
import logging
import random
import socket
import struct
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.engine import make_url

logger = logging.getLogger(__name__)

SSL_REQUEST = 80877103
GSSENC_REQUEST = 80877104
PROTOCOL_3 = 196608


class Moment(enum.Enum):
    BEFORE = "before"  # the statement never reaches the server
    REPLY = "reply"  # the server runs it; the connection is cut before its answer reaches the client
    AFTER_BYTES = "after_bytes"  # the statement passes; the cut comes `nbytes` client bytes later


BEFORE, REPLY, AFTER_BYTES = Moment.BEFORE, Moment.REPLY, Moment.AFTER_BYTES

Matcher = Callable[[str], bool]


def statement(*words: str) -> Matcher:
    """A matcher: the statement's text contains every one of these words (case-insensitive)."""
    wanted = [w.upper() for w in words]
    return lambda sql: all(w in sql.upper() for w in wanted)


def starts_with(prefix: str) -> Matcher:
    return lambda sql: sql.lstrip().upper().startswith(prefix.upper())


# The statements of a sync round worth cutting at.
COPY_EVENTS = statement("COPY case_events")


def OUTBOX_SELECT(sql: str) -> bool:  # noqa: N802 - a matcher, named like the others
    return sql.lstrip().upper().startswith("SELECT") and "FROM COUNTY_OUTBOX" in sql.upper()


COMMIT = starts_with("COMMIT")


@dataclass
class Trigger:
    match: Matcher
    moment: Moment
    nth: int = 1  # fire at the nth matching statement
    within: Matcher | None = None  # ...counting only statements in a transaction that ran one like this
    nbytes: int = 0
    then: Callable[[], None] | None = None  # run this (and let the traffic pass) instead of cutting
    seen: int = 0
    fired: threading.Event = field(default_factory=threading.Event)


class _Conn:
    """One proxied connection: the client's socket, the server's, and what the client side has sent."""

    def __init__(self, client: socket.socket, server: socket.socket) -> None:
        self.client = client
        self.server = server
        self.closed = False
        self.started = False  # the StartupMessage went by: from now on messages carry a type byte
        self.statements: dict[str, str] = {}  # prepared statement name -> text
        self.txn: list[str] = []  # statements of the current transaction
        self.on_reply: Trigger | None = None  # fires at the server's next bytes
        self.after_bytes: tuple[Trigger, int] | None = None  # fires once this many more client bytes passed

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        for sock in (self.client, self.server):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()


class PgProxy:
    """Listens on 127.0.0.1:<free port> and forwards to a PostgreSQL server; see the module docstring."""

    def __init__(self, target: tuple[str, int] = ("127.0.0.1", 5432)) -> None:
        self.target = target
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._lock = threading.RLock()
        self._conns: list[_Conn] = []
        self._threads: list[threading.Thread] = []
        self._triggers: list[Trigger] = []
        self._random_budget: int | None = None  # bytes (both directions) still to pass before a random cut
        self._refusing = False
        self._closing = False
        self.cuts = 0  # how many times connections were cut
        self.connections = 0  # how many connections were accepted
        self.bytes_up = self.bytes_down = 0  # client -> server, server -> client
        self.log: list[str] = []  # statements seen (the first 80 characters), for failure messages
        self._acceptor = threading.Thread(target=self._accept, name=f"pg-proxy:{self.port}", daemon=True)
        self._acceptor.start()

    # --- control ---------------------------------------------------------------------------------------------

    def url(self, db_url: str) -> str:
        """The same database, reached through the proxy (and never over SSL, whose bytes could not be read)."""
        u = make_url(db_url).set(host="127.0.0.1", port=self.port)
        return u.update_query_dict({"sslmode": "disable", "gssencmode": "disable"}).render_as_string(
            hide_password=False
        )

    def cut(self) -> None:
        """Cut every open connection now."""
        with self._lock:
            conns, self._conns = self._conns, []
            if conns:
                self.cuts += 1
        for c in conns:
            c.close()

    def cut_when(
        self,
        match: Matcher,
        *,
        moment: Moment = BEFORE,
        nth: int = 1,
        within: Matcher | None = None,
        nbytes: int = 0,
        then: Callable[[], None] | None = None,
    ) -> Trigger:
        """Arm a one-shot trigger on the nth statement matching `match`; returns it (`trigger.fired` tells)."""
        t = Trigger(match, moment, nth, within, nbytes, then)
        with self._lock:
            self._triggers.append(t)
        return t

    def cut_after(self, nbytes: int) -> None:
        """Cut everything once `nbytes` more bytes have passed (either way, any connection)."""
        with self._lock:
            self._random_budget = max(1, nbytes)

    def cut_at_random(self, rng: random.Random, max_bytes: int) -> int:
        """`cut_after(n)`, `n` drawn from `rng` in [1, max_bytes]; returns n."""
        n = rng.randint(1, max_bytes)
        self.cut_after(n)
        return n

    def disarm(self) -> None:
        with self._lock:
            self._triggers.clear()
            self._random_budget = None

    @property
    def armed(self) -> bool:
        with self._lock:
            return bool(self._triggers) or self._random_budget is not None

    def refuse(self, refusing: bool = True) -> None:
        """Link down: new connections are closed at once (open ones are left alone; `cut()` them too)."""
        self._refusing = refusing

    def close(self) -> None:
        self._closing = True
        self.disarm()
        try:
            # closing a listening socket does not wake a thread blocked in accept(): a connection does
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), timeout=1):
                pass
            self._acceptor.join(5)
            self._listener.close()
        finally:
            with self._lock:
                conns, self._conns = self._conns, []
            for c in conns:
                c.close()
            self._acceptor.join(5)
            for t in list(self._threads):
                t.join(5)

    def __enter__(self) -> PgProxy:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- the plumbing ----------------------------------------------------------------------------------------

    def _accept(self) -> None:
        while not self._closing:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if self._refusing or self._closing:
                client.close()
                continue
            try:
                server = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            for sock in (client, server):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            conn = _Conn(client, server)
            with self._lock:
                self._conns.append(conn)
                self.connections += 1
                self._threads = [t for t in self._threads if t.is_alive()]
                for target, name in ((self._client_to_server, "c2s"), (self._server_to_client, "s2c")):
                    t = threading.Thread(
                        target=target, args=(conn,), name=f"pg-proxy:{self.port}:{name}", daemon=True
                    )
                    self._threads.append(t)
                    t.start()

    def _spend_random(self, n: int) -> int | None:
        """Charge n bytes to the random budget; how many of them may still pass if the cut comes now."""
        with self._lock:
            if self._random_budget is None:
                return None
            if n < self._random_budget:
                self._random_budget -= n
                return None
            allowed, self._random_budget = self._random_budget, None
            return allowed

    def _server_to_client(self, conn: _Conn) -> None:
        try:
            while True:
                data = conn.server.recv(65536)
                if not data:
                    break
                self.bytes_down += len(data)
                if conn.on_reply is not None:
                    t, conn.on_reply = conn.on_reply, None
                    if t.then is None:
                        self.cut()
                        return
                    t.then()
                allowed = self._spend_random(len(data))
                if allowed is not None:
                    conn.client.sendall(data[:allowed])
                    self.cut()
                    return
                conn.client.sendall(data)
        except OSError:
            pass
        finally:
            self._drop(conn)

    def _client_to_server(self, conn: _Conn) -> None:
        buf = b""
        try:
            while True:
                data = conn.client.recv(65536)
                if not data:
                    break
                self.bytes_up += len(data)
                buf += data
                while True:
                    msg, buf = _split(buf, conn.started)
                    if msg is None:
                        break
                    if not self._forward(conn, msg):
                        return
        except OSError:
            pass
        finally:
            self._drop(conn)

    def _forward(self, conn: _Conn, msg: bytes) -> bool:
        """Pass one client message on (or not); False once the connection is cut."""
        if not conn.started:
            code = struct.unpack("!i", msg[4:8])[0] if len(msg) >= 8 else 0
            if code in (SSL_REQUEST, GSSENC_REQUEST):
                conn.client.sendall(b"N")  # no encryption: the client goes on in plain text
                return True
            if code == PROTOCOL_3:
                conn.started = True
        sql = self._statement(conn, msg) if conn.started else None
        if sql is not None:
            self.log.append(sql[:80])
            for t in self._fired_by(conn, sql):
                if t.moment is BEFORE:
                    if t.then is None:
                        self.cut()
                        return False
                    t.then()
                elif t.moment is REPLY:
                    conn.on_reply = t
                else:
                    conn.after_bytes = (t, t.nbytes)
            if sql.lstrip().upper().startswith(("COMMIT", "ROLLBACK")):
                conn.txn = []
            else:
                conn.txn.append(sql)
        if conn.after_bytes is not None:
            t, left = conn.after_bytes
            if len(msg) >= left:
                conn.after_bytes = None
                if t.then is None:
                    conn.server.sendall(msg[:left])
                    self.cut()
                    return False
                conn.server.sendall(msg[:left])
                t.then()
                msg = msg[left:]
            else:
                conn.after_bytes = (t, left - len(msg))
        allowed = self._spend_random(len(msg))
        if allowed is not None:
            conn.server.sendall(msg[:allowed])
            self.cut()
            return False
        conn.server.sendall(msg)
        return True

    def _fired_by(self, conn: _Conn, sql: str) -> list[Trigger]:
        fired = []
        with self._lock:
            for t in list(self._triggers):
                if not t.match(sql):
                    continue
                if t.within is not None and not any(t.within(q) for q in conn.txn):
                    continue
                t.seen += 1
                if t.seen >= t.nth:
                    self._triggers.remove(t)
                    t.fired.set()
                    fired.append(t)
        return fired

    @staticmethod
    def _statement(conn: _Conn, msg: bytes) -> str | None:
        """The text of the statement this message runs, if it runs one."""
        kind, body = msg[:1], msg[5:]
        if kind == b"Q":
            return body.split(b"\0", 1)[0].decode("utf-8", "replace")
        if kind == b"P":  # Parse: remember the text; it runs at the Bind
            name, rest = body.split(b"\0", 1)
            conn.statements[name.decode()] = rest.split(b"\0", 1)[0].decode("utf-8", "replace")
            return None
        if kind == b"B":  # Bind: portal name, statement name, ...
            _portal, rest = body.split(b"\0", 1)
            return conn.statements.get(rest.split(b"\0", 1)[0].decode(), "")
        return None

    def _drop(self, conn: _Conn) -> None:
        conn.close()
        with self._lock:
            if conn in self._conns:
                self._conns.remove(conn)


def _split(buf: bytes, started: bool) -> tuple[bytes | None, bytes]:
    """The first complete message of the client's stream, and the rest."""
    head = 5 if started else 4
    if len(buf) < head:
        return None, buf
    length = struct.unpack("!i", buf[head - 4 : head])[0]
    end = head - 4 + length
    if len(buf) < end:
        return None, buf
    return buf[:end], buf[end:]
