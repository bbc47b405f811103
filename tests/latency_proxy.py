"""A TCP proxy that makes a nearby server look far away: every chunk the server sends is held back `delay_s` before
it reaches the client, so each round trip to PostgreSQL costs `delay_s` more (a hall PC on a slow link).

Chunks are delayed, not the connection: data that arrives while earlier data is held back waits its own `delay_s`
from its arrival, in order, so a round trip costs the delay once, not once per chunk. What the client sends goes
through at once.

Run it in a process of its own (`LatencyProxy.spawn`, or ``python -m tests.latency_proxy``), so its threads do not
compete with the process being measured for the GIL: the far-away server is not part of that process's work.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import logging
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy.engine import make_url

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[1]
CHUNK = 65536


class LatencyProxy:
    """Listens on 127.0.0.1:<port> (a free one by default) and forwards to `target`, delaying the answers."""

    def __init__(self, target: tuple[str, int], *, delay_s: float, port: int = 0) -> None:
        self.target = target
        self.delay_s = delay_s
        self._listener = socket.create_server(("127.0.0.1", port))
        self.port: int = self._listener.getsockname()[1]
        self._closed = threading.Event()
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()

    def serve_forever(self) -> None:
        while not self._closed.is_set():
            try:
                client, _addr = self._listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            for s in (client, server):
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._lock:
                self._sockets += [client, server]
            threading.Thread(target=self._pipe, args=(client, server), daemon=True).start()
            threading.Thread(target=self._delayed_pipe, args=(server, client), daemon=True).start()

    def start(self) -> LatencyProxy:
        threading.Thread(target=self.serve_forever, name="latency-proxy", daemon=True).start()
        return self

    def close(self) -> None:
        self._closed.set()
        with contextlib.suppress(OSError):
            self._listener.close()
        with self._lock:
            for s in self._sockets:
                with contextlib.suppress(OSError):
                    s.close()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(CHUNK):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

    def _delayed_pipe(self, src: socket.socket, dst: socket.socket) -> None:
        """Read from the server at once (a chunk's delay starts when it arrives); a second thread sends each chunk
        when its time has come."""
        held: collections.deque[tuple[float, bytes]] = collections.deque()
        ready = threading.Condition()
        done = False

        def send() -> None:
            while True:
                with ready:
                    while not held and not done:
                        ready.wait()
                    if not held:
                        break
                    due, data = held.popleft()
                wait = due - time.monotonic()
                if wait > 0:
                    time.sleep(wait)  # the proxy's own thread: this is the latency it adds
                try:
                    dst.sendall(data)
                except OSError:
                    break
            with contextlib.suppress(OSError):
                dst.shutdown(socket.SHUT_RDWR)

        sender = threading.Thread(target=send, daemon=True)
        sender.start()
        try:
            while data := src.recv(CHUNK):
                with ready:
                    held.append((time.monotonic() + self.delay_s, data))
                    ready.notify()
        except OSError:
            pass
        finally:
            with ready:
                done = True
                ready.notify()

    @staticmethod
    @contextlib.contextmanager
    def spawn(target: tuple[str, int], *, delay_s: float) -> Iterator[int]:
        """Run a proxy in a process of its own for the duration; yields its port."""
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.latency_proxy",
                "--target",
                f"{target[0]}:{target[1]}",
                "--delay",
                str(delay_s),
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert proc.stdout is not None
            line = proc.stdout.readline().strip()
            if not line.isdigit():
                raise RuntimeError(f"the latency proxy did not start: {line!r}")
            yield int(line)
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            if proc.stdout is not None:
                proc.stdout.close()


def proxied_url(db_url: str, port: int) -> str:
    """`db_url` reached through a proxy listening on 127.0.0.1:`port`."""
    return make_url(db_url).set(host="127.0.0.1", port=port).render_as_string(hide_password=False)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="A TCP proxy that delays every answer of the server.")
    p.add_argument("--target", default="127.0.0.1:5432", help="host:port of the server")
    p.add_argument("--delay", type=float, default=0.2, help="seconds added to each chunk from the server")
    p.add_argument("--port", type=int, default=0, help="port to listen on (default: a free one)")
    args = p.parse_args(argv)
    host, _, port = args.target.rpartition(":")
    proxy = LatencyProxy((host, int(port)), delay_s=args.delay, port=args.port)
    print(proxy.port, flush=True)  # the spawning process reads the port from here
    try:
        proxy.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        proxy.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
