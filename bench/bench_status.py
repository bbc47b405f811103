"""Status page benchmark: requests/s and latency of `GET /s/{token}` on the real server over loopback.

`python -m bench.bench_status [--seconds 10] [--connections 16] [--write-results]`

The server is `desk.status.app.serve` (uvicorn, one process, its access log on (by route, never the path), output
discarded; rate limit raised out of the way -- the limiter still runs) on bench/data/search-1m.db (1,000,000
cases; if it is missing, a 100,000-case store is generated with bench.generate and the section says so). The
load generator is another process: asyncio raw sockets, HTTP/1.1 keep-alive, `--connections` connections, each
sending its next request when the previous answer is read (closed loop). Valid tokens are drawn at random
from the store. Baseline: `/healthz` on the same server in the same run. Budget: ≥ 1,000 req/s and p99 ≤ 50 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import random
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path

from bench.common import Timing, data_dir

START_MARKER = "<!-- bench_status:start -->"
END_MARKER = "<!-- bench_status:end -->"
RPS_BUDGET = 1000.0
P99_BUDGET_MS = 50.0
BIG_STORE = "search-1m.db"  # in bench/data/ (common.data_dir)
FALLBACK_STORE = "status-100k.db"

SERVER = """
import sys
from desk.status.app import serve
serve(sys.argv[1], port=int(sys.argv[2]), rate_limit=10**9)
"""


@dataclass(frozen=True)
class Phase:
    path: str
    requests: int
    seconds: float
    rps: float
    errors: int
    latency: Timing


@dataclass(frozen=True)
class StatusResult:
    store: str
    cases: int
    generated_fallback: bool
    connections: int
    status: Phase
    healthz: Phase

    @property
    def passed(self) -> bool:
        return self.status.rps >= RPS_BUDGET and self.status.latency.p99 <= P99_BUDGET_MS


async def _connection(
    port: int, paths: list[str], deadline: float, samples: list[int], errors: list[int], rng: random.Random
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while time.perf_counter() < deadline:
            path = paths[rng.randrange(len(paths))]
            t0 = time.perf_counter_ns()
            writer.write(f"GET {path} HTTP/1.1\r\nHost: bench\r\n\r\n".encode("ascii"))
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            await reader.readexactly(length)
            samples.append(time.perf_counter_ns() - t0)
            if not head.startswith(b"HTTP/1.1 200"):
                errors[0] += 1
    finally:
        writer.close()
        await writer.wait_closed()


def drive(port: int, paths: list[str], seconds: float, connections: int) -> Phase:
    samples: list[int] = []
    errors = [0]
    rng = random.Random(7)

    async def main() -> float:
        t0 = time.perf_counter()
        deadline = t0 + seconds
        await asyncio.gather(
            *(_connection(port, paths, deadline, samples, errors, rng) for _ in range(connections))
        )
        return time.perf_counter() - t0

    elapsed = asyncio.run(main())
    return Phase(
        "/s/{token}" if len(paths) > 1 else paths[0],
        len(samples),
        elapsed,
        len(samples) / elapsed,
        errors[0],
        Timing.of(samples),
    )


LOADER = """
import json, sys
from bench.bench_status import drive
port, seconds, conns = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
paths = json.loads(sys.stdin.read())
from dataclasses import asdict
print(json.dumps(asdict(drive(port, paths, seconds, conns))))
"""


def _load(port: int, paths: list[str], seconds: float, connections: int) -> Phase:
    out = subprocess.run(
        [sys.executable, "-c", LOADER, str(port), str(seconds), str(connections)],
        input=json.dumps(paths),
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    d = json.loads(out)
    return Phase(d["path"], d["requests"], d["seconds"], d["rps"], d["errors"], Timing(**d["latency"]))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _store() -> tuple[Path, bool]:
    big, fallback = data_dir() / BIG_STORE, data_dir() / FALLBACK_STORE
    if big.exists():
        return big, False
    if not fallback.exists():
        from bench.generate import generate

        print(f"{big} missing: generating 100,000 cases", flush=True)
        generate(f"sqlite:///{fallback}", cases=100_000, replace=True)
    return fallback, True


def run(
    *, seconds: float = 10.0, connections: int = 16, warmup: float = 2.0, store: Path | None = None
) -> StatusResult:
    """`seconds` of status pages (and half as long of /healthz) after `warmup` seconds; on `store` if given,
    else the 1M-case store of bench/data."""
    path, fallback = (store, False) if store is not None else _store()
    with sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True) as c:
        cases = int(c.execute("SELECT count(*) FROM cases").fetchone()[0])
        tokens = [
            r[0]
            for r in c.execute(
                "SELECT status_token FROM cases WHERE rowid IN "
                "(SELECT abs(random()) % (SELECT max(rowid) FROM cases) FROM cases "
                "LIMIT 5000)"
            )
        ]
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-c", SERVER, f"sqlite:///{path}", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                    break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("status server did not start") from None
                time.sleep(0.2)
        status_paths = [f"/s/{t}" for t in tokens]
        _load(port, status_paths, warmup, connections)  # warm-up: page cache, connection pool
        healthz = _load(port, ["/healthz"], seconds / 2, connections)
        status = _load(port, status_paths, seconds, connections)
    finally:
        server.terminate()
        server.wait(timeout=10)
    return StatusResult(path.name, cases, fallback, connections, status, healthz)


def describe(r: StatusResult) -> str:
    s, h = r.status, r.healthz
    return (
        f"status page on {r.cases:,} cases, {r.connections} connections: {s.rps:,.0f} req/s, p50 "
        f"{s.latency.p50:.2f} ms, p99 {s.latency.p99:.2f} ms ({s.errors} non-200); /healthz {h.rps:,.0f} req/s, "
        f"p99 {h.latency.p99:.2f} ms; status/healthz throughput {s.rps / h.rps:.2f}"
    )


def render(r: StatusResult) -> str:
    s, h = r.status, r.healthz
    ok = "PASS" if r.passed else "**FAIL**"
    store = (
        f"a {r.cases:,}-case store generated for this benchmark (bench/data/search-1m.db was missing)"
        if r.generated_fallback
        else f"bench/data/{r.store} ({r.cases:,} cases)"
    )
    lines = [
        START_MARKER,
        "## The status page (`bench/bench_status.py`)",
        "",
        f"Written by `python -m bench.bench_status --write-results` on {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC "
        f"(same machine as above). Server: `desk.status.app.serve` -- uvicorn, one process, access log on (token "
        f"filter, output discarded), rate limiter running with its limit raised -- on {store}. Load: another "
        f"process, asyncio raw-socket HTTP/1.1 keep-alive client, {r.connections} connections in a closed loop, "
        "random valid tokens; latency from writing the request to reading the whole answer. `/healthz` on the same "
        "server in the same run is the baseline (the framework and the loopback without the page).",
        "",
        "| path | requests | seconds | req/s | p50 ms | p95 ms | p99 ms | max ms | non-200 | budget | result |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
        f"| /s/{{valid token}} | {s.requests:,} | {s.seconds:.1f} | {s.rps:,.0f} | {s.latency.p50:.2f} | "
        f"{s.latency.p95:.2f} | {s.latency.p99:.2f} | {s.latency.max:.2f} | {s.errors} | ≥ 1,000 req/s, p99 ≤ 50 ms "
        f"| {ok} |",
        f"| /healthz (baseline) | {h.requests:,} | {h.seconds:.1f} | {h.rps:,.0f} | {h.latency.p50:.2f} | "
        f"{h.latency.p95:.2f} | {h.latency.p99:.2f} | {h.latency.max:.2f} | {h.errors} | — | — |",
        "",
        f"Status page throughput is {s.rps / h.rps:.2f}× that of /healthz (p99 {s.latency.p99 / h.latency.p99:.1f}×"
        "). The load generator shares the machine's cores with the server.",
        END_MARKER,
    ]
    return "\n".join(lines)


def write_section(section: str, path: Path) -> None:
    import re

    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmark results\n"
    pattern = re.compile(re.escape(START_MARKER) + r".*?" + re.escape(END_MARKER), re.S)
    if pattern.search(text):
        text = pattern.sub(lambda _: section, text, count=1)
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    path.write_text(text, encoding="utf-8")


def update_results(
    path: Path,
    *,
    seconds: float = 10.0,
    connections: int = 16,
    warmup: float = 2.0,
    store: Path | None = None,
) -> StatusResult:
    r = run(seconds=seconds, connections=connections, warmup=warmup, store=store)
    write_section(render(r), path)
    return r


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--seconds", type=float, default=10.0)
    p.add_argument("--connections", type=int, default=16)
    p.add_argument("--json", type=Path)
    p.add_argument("--write-results", action="store_true", help="(re)write its section of bench/RESULTS.md")
    args = p.parse_args(argv)
    r = run(seconds=args.seconds, connections=args.connections)
    print(describe(r))
    if args.json:
        args.json.write_text(json.dumps(asdict(r), indent=2, default=str), encoding="utf-8")
    if args.write_results:
        write_section(render(r), Path(__file__).with_name("RESULTS.md"))
    return 0 if r.passed else 1


if __name__ == "__main__":
    raise SystemExit(main())
