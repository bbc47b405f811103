"""The stall scenario, shared by tests/ui/test_stall.py and bench/bench_ui_stall.py: the desk's window with a room
terminal and the hall display open (all three polling the store), on PostgreSQL far away (every round trip through
a proxy that adds a delay), while the clerk registers visitors, routes them and gives them tickets, and the room
calls them. Meanwhile a 5 ms timer measures how long the UI thread's event loop goes without turning.

Only the gaps while service calls are in flight count (that is what the issue is about), and the windows' first
show and paint are done before measuring starts. Each gap is also given net of the time the operating system kept
the UI thread waiting for a CPU while it was ready to run (its run-queue wait, /proc/thread-self/schedstat): on a
machine whose other processes keep the cores busy, that wait is theirs, not the windows'. Waiting for the GIL, a
lock or a socket is not run-queue wait: a window that blocked on the store, or behind a worker holding the GIL,
still counts in full.
"""

from __future__ import annotations

import gc
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PySide6.QtCore import QCoreApplication, QEventLoop, QObject, Qt, QTimer, SignalInstance

from desk.app import build_main_window, build_services
from desk.core.clock import SystemClock
from desk.store.session import Store
from desk.ui import ops
from desk.ui.display.hall_display import HallDisplay
from desk.ui.room.terminal import RoomTerminal
from tests.conftest import staff, valid_id

TICK_MS = 5
# Time-outs, not timings: the first reads through a slow link open the connections (several round trips each),
# and on a loaded 2-core machine they took over 120 s once.
SETTLE_MS = 300_000
STEP_MS = 120_000


SCHEDSTAT = Path("/proc/thread-self/schedstat")


def run_queue_wait_ms() -> float:
    """How long the calling thread has waited, ready to run, for a CPU (0 where the kernel does not say)."""
    try:
        return int(SCHEDSTAT.read_text().split()[1]) / 1e6
    except (OSError, IndexError, ValueError):
        return 0.0


class GapMeter(QObject):
    """A 5 ms timer on the UI thread; the time between its ticks is how long the event loop was kept from turning.
    A gap counts when service calls were in flight at either end of it; `net_gaps_ms` are the same gaps less the
    UI thread's run-queue wait during each."""

    def __init__(self) -> None:
        super().__init__()
        self.gaps_ms: list[float] = []
        self.net_gaps_ms: list[float] = []
        self._last: float | None = None
        self._last_wait = 0.0
        self._busy = False
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(TICK_MS)
        self._timer.timeout.connect(self._on_tick)

    def start(self) -> None:
        self._last = time.perf_counter()
        self._last_wait = run_queue_wait_ms()
        self._busy = not ops.all_idle()
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    def _on_tick(self) -> None:
        now, waited = time.perf_counter(), run_queue_wait_ms()
        busy = not ops.all_idle()
        if self._last is not None and (busy or self._busy):
            gap = (now - self._last) * 1000
            self.gaps_ms.append(gap)
            self.net_gaps_ms.append(max(0.0, gap - (waited - self._last_wait)))
        self._last, self._last_wait, self._busy = now, waited, busy


def _p99(values: list[float]) -> float:
    ordered = sorted(values)
    if not ordered:
        return math.nan
    return ordered[max(1, math.ceil(0.99 * len(ordered))) - 1]


@dataclass(frozen=True)
class StallRun:
    gaps_ms: list[float] = field(repr=False)
    net_gaps_ms: list[float] = field(repr=False)
    ops: int  # service calls made while measuring
    registrations: int
    calls: int
    seconds: float
    load: float  # the machine's load average (1 min) at the end

    @property
    def longest_ms(self) -> float:
        return max(self.gaps_ms, default=math.nan)

    @property
    def p99_ms(self) -> float:
        return _p99(self.gaps_ms)

    @property
    def longest_net_ms(self) -> float:
        return max(self.net_gaps_ms, default=math.nan)

    @property
    def p99_net_ms(self) -> float:
        return _p99(self.net_gaps_ms)

    def describe(self) -> str:
        return (
            f"longest gap {self.longest_net_ms:.1f} ms net of run-queue wait ({self.longest_ms:.1f} ms wall), "
            f"p99 {self.p99_net_ms:.1f} ms ({self.p99_ms:.1f} wall) over {len(self.gaps_ms)} ticks; "
            f"{self.ops} service calls in {self.seconds:.1f} s; load average {self.load:.1f}"
        )


def wait_for(done: Callable[[], bool], timeout_ms: int, what: str) -> None:
    """Run the event loop until `done()` (checked every 10 ms); TimeoutError after `timeout_ms`."""
    deadline = time.monotonic() + timeout_ms / 1000
    loop = QEventLoop()
    check = QTimer()
    check.setInterval(10)
    check.timeout.connect(lambda: loop.quit() if done() or time.monotonic() > deadline else None)
    check.start()
    if not done():
        loop.exec()
    check.stop()
    if not done():
        raise TimeoutError(f"{what}: not done within {timeout_ms} ms")


def wait_signal(signal: SignalInstance, action: Callable[[], Any], timeout_ms: int, what: str) -> list[Any]:
    """Do `action` and run the event loop until `signal` is emitted; its arguments."""
    got: list[list[Any]] = []

    def on_signal(*args: Any) -> None:
        got.append(list(args))

    signal.connect(on_signal)
    try:
        action()
        wait_for(lambda: bool(got), timeout_ms, what)
    finally:
        signal.disconnect(on_signal)
    return got[0]


def run_stall(
    store: Store, *, registrations: int, terminal_poll_ms: int = 400, display_poll_ms: int = 300
) -> StallRun:
    """The scenario on `store` (reached however the caller likes: through the latency proxy). The store must hold
    an initialised hall."""
    services = build_services(store, SystemClock(), principal=staff("前台", "前台1"))
    window = build_main_window(services, store_label="PostgreSQL（经延迟代理）", speech_engine="mock")
    window.resize(1180, 820)
    window.show()
    terminal = RoomTerminal(
        "R01",
        queue=services.new_queue(),
        rooms=services.rooms,
        display=services.display,
        registration=services.registration,
        poll_ms=terminal_poll_ms,
    )
    # No voice: a chime needs a sound server, and what is measured is the screen.
    display = HallDisplay(
        services.display, hall_name=services.registration.hall.name, poll_ms=display_poll_ms
    )
    for w in (terminal, display):
        w.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        w.show()
    meter = GapMeter()
    # While the first reads settle, the polls wait: polls that overlap on a slow link could keep some op in
    # flight at every moment, and "all idle" would never come.
    pollers = [(terminal._timer, terminal_poll_ms), (display._poll, display_poll_ms)]
    for timer, _ in pollers:
        timer.setInterval(3_600_000)
    try:
        wait_for(ops.all_idle, SETTLE_MS, "the windows' first reads")
        for timer, ms in pollers:
            timer.setInterval(ms)
        QCoreApplication.processEvents()  # the first show and paint are not measured
        ops.freeze_heap()  # as desk.app does once its window is up
        started = ops.ops_started()
        calls = 0
        t0 = time.perf_counter()
        meter.start()
        intake, form = window.intake, window.form
        for n in range(1, registrations + 1):
            form.name_edit.setText("王秀兰")
            form.id_edit.setText(valid_id(f"620702198501{n:02d}{n:03d}"))  # the known-person lookup starts
            form.phone_edit.setText(f"139{n:08d}")
            form.address_edit.setText("甘州区东街街道1号")
            form.category_edit.setText("邻里纠纷")
            form.narrative_edit.setPlainText("邻居在院墙外堆放杂物占用通道，多次沟通未果。")
            wait_signal(intake.sig_route_proposed, form.submit, STEP_MS, f"registration {n}")
            op = intake.issue_ticket()  # Enter on "确认取号"
            wait_for(lambda op=op: op is not None and op.done, STEP_MS, f"ticket {n}")
            call = terminal.call_next()
            wait_for(lambda call=call: call is not None and call.done, STEP_MS, f"call {n}")
            calls += 1
        wait_for(lambda: display.current is not None, STEP_MS, "the call on the display")
        meter.stop()
        seconds = time.perf_counter() - t0
        return StallRun(
            meter.gaps_ms,
            meter.net_gaps_ms,
            ops.ops_started() - started,
            registrations,
            calls,
            seconds,
            os.getloadavg()[0],
        )
    finally:
        meter.stop()
        gc.unfreeze()  # a test process goes on to other tests
        for w in (window, terminal, display):
            w.close()
        ops.wait_all_idle(SETTLE_MS)
        ops.wait_for_workers(SETTLE_MS)
        window.deleteLater()
