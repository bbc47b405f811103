"""Service calls off the UI thread: a window hands a call to its `OpRunner`, a worker thread makes it, and the result
— or the error — comes back on the UI thread to the callbacks the window gave, unless the window is gone by then.

In the spirit of Anki's `CollectionOp`::

    self.ops.run(lambda: hall.call_next(room), success=self._on_called, failure=self._on_refused)

- `success(value)` gets what the call returned, on the UI thread.
- An expected failure (`DeskError`) goes to `failure(error)` when the caller gives one (a refusal shown next to
  its field, say), else to the runner's one default handler: the window's `report` sink (its status line, its
  message line), or a message box with the Chinese message.
- Anything else is a bug or an outage: it goes to `sys.excepthook` (the app's `ErrorReporter`) on the UI thread,
  unless the caller handles it (`unexpected=`: a poll that keeps showing the last state while the store is away).
- `finished()` runs after either, for what must happen whatever the outcome (a form that takes submits again).

A runner runs its ops one at a time, in the order they were asked for (a window's refresh never overtakes the action
before it), on a shared pool of worker threads. An op with a `key` is skipped while another op with that key is
still queued or running (a poll every 300 ms never piles up behind a slow store). Workers never touch a widget:
what they return crosses to the UI thread through one bridge object's signal.
"""

from __future__ import annotations

import collections
import gc
import inspect
import itertools
import logging
import sys
import weakref
from collections.abc import Callable
from typing import Any, Generic, TypeVar

import shiboken6
from PySide6.QtCore import QCoreApplication, QEventLoop, QObject, QRunnable, QThreadPool, QTimer, Signal, Slot
from PySide6.QtWidgets import QMessageBox, QWidget

from desk.errors import DeskError

logger = logging.getLogger(__name__)

T = TypeVar("T")

MAX_WORKERS = 8  # ops wait on the store (disk, network), not on the CPU: more workers than cores is right
PROGRESS_AFTER_MS = 400  # an op still running after this says so (`sig_progress`), so a slow store is visible
_ids = itertools.count(1)
_started = 0  # ops asked for in this process (benchmarks count them)
_unfreeze_at_quit = False


def _tr(text: str) -> str:
    return QCoreApplication.translate("desk.ui.ops", text)


class Op(Generic[T]):
    """One service call: what to run, what to call back, and, once `done`, its `value` or its `error`."""

    def __init__(
        self,
        fn: Callable[[], T],
        *,
        success: Callable[[T], object] | None,
        failure: Callable[[DeskError], object] | None,
        unexpected: Callable[[BaseException], object] | None,
        finished: Callable[[], object] | None,
        key: str | None,
        name: str,
        progress_text: str,
    ) -> None:
        self.id = next(_ids)
        self.fn = fn
        self.key = key
        self.name = name
        self.progress_text = progress_text
        self._success = success
        self._failure = failure
        self._unexpected = unexpected
        self._finished = finished
        self.done = False
        self.value: T | None = None
        self.error: BaseException | None = None
        self._lane: _Lane | None = None

    def __repr__(self) -> str:
        return f"<Op {self.id} {self.name}{' done' if self.done else ''}>"


class _Lane:
    """A runner's ops, queued and in flight, kept in plain Python so they outlive the runner's QObject: a worker
    that finishes after its window was destroyed finds the lane closed and calls nobody back."""

    def __init__(self, runner: OpRunner) -> None:
        self.runner = runner
        self.alive = True
        self.queue: collections.deque[Op[Any]] = collections.deque()
        self.current: Op[Any] | None = None

    def ops(self) -> list[Op[Any]]:
        return ([self.current] if self.current is not None else []) + list(self.queue)

    def close(self) -> None:
        self.alive = False
        dropped = len(self.queue)
        self.queue.clear()
        _bridge().forget(dropped)


class _Job(QRunnable):
    """Runs one op on a worker thread and hands it to the bridge; touches no widget."""

    def __init__(self, op: Op[Any], bridge: _Bridge) -> None:
        super().__init__()
        self._op = op
        self._bridge = bridge
        self.setAutoDelete(True)

    def run(self) -> None:
        op = self._op
        try:
            op.value = op.fn()
        except BaseException as e:  # noqa: BLE001 - every outcome crosses back to the UI thread, to be dealt with there
            op.error = e
        self._bridge.sig_done.emit(op)


class _Bridge(QObject):
    """Lives in the UI thread for the life of the process: the workers' results cross to the UI thread through its
    signal (queued), and it counts the ops not yet delivered, so tests and benchmarks can wait for all of them."""

    sig_done = Signal(object)
    """A worker finished an op (emitted in the worker thread; delivered in the UI thread)."""

    sig_idle = Signal()
    """No op is queued or running in any runner of the process."""

    def __init__(self) -> None:
        super().__init__()
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(MAX_WORKERS)
        self.pending = 0
        self.sig_done.connect(self._on_done)

    def accept(self) -> None:
        self.pending += 1

    def forget(self, n: int) -> None:
        if n:
            self.pending -= n
            if self.pending == 0:
                self.sig_idle.emit()

    def start(self, op: Op[Any]) -> None:
        self.pool.start(_Job(op, self))

    @Slot(object)
    def _on_done(self, op: Op[Any]) -> None:
        lane = op._lane
        assert lane is not None
        lane.current = None
        op.done = True
        try:
            if lane.alive and shiboken6.isValid(lane.runner):
                lane.runner._deliver(op)
        finally:
            if lane.alive and shiboken6.isValid(lane.runner):
                lane.runner._start_next()
            self.forget(1)


_the_bridge: _Bridge | None = None


def _bridge() -> _Bridge:
    """The process's bridge, made on first use (which is on the UI thread: ops are asked for there)."""
    global _the_bridge
    if _the_bridge is None or not shiboken6.isValid(_the_bridge):
        _the_bridge = _Bridge()
    return _the_bridge


def freeze_heap() -> None:
    """Once the windows are up: collect, then move every object that survived into the collector's permanent
    generation. A full collection holds the GIL, and so the UI thread, for as long as it takes to walk every
    object; the modules, the Qt wrappers and the ORM's metadata made at start need not be walked again and again
    (measured: 50-80 ms per full pass in a test process, well over the 50 ms a window may stall). Undone when the
    application quits (a test process runs the desk more than once)."""
    global _unfreeze_at_quit
    gc.collect()
    gc.freeze()
    app = QCoreApplication.instance()
    if app is not None and not _unfreeze_at_quit:
        app.aboutToQuit.connect(gc.unfreeze)
        _unfreeze_at_quit = True


def ops_started() -> int:
    """How many ops were asked for (and not skipped) in this process so far (for benchmarks)."""
    return _started


def all_idle() -> bool:
    """No op is queued or running anywhere in the process (for tests and benchmarks)."""
    return _the_bridge is None or _the_bridge.pending == 0


def wait_all_idle(timeout_ms: int = 5000) -> bool:
    """Run the event loop until no op is queued or running anywhere, or `timeout_ms` passed; True when idle."""
    if all_idle():
        return True
    return _wait(_bridge().sig_idle, all_idle, timeout_ms)


def wait_for_workers(timeout_ms: int = 5000) -> bool:
    """Block until the worker threads are done (at exit, before the store closes); their results are not delivered.
    True when none is left running."""
    return _the_bridge is None or _the_bridge.pool.waitForDone(timeout_ms)


def _wait(signal: Any, done: Callable[[], bool], timeout_ms: int) -> bool:
    loop = QEventLoop()
    signal.connect(loop.quit)
    QTimer.singleShot(timeout_ms, loop.quit)
    try:
        if not done():
            loop.exec()
    finally:
        signal.disconnect(loop.quit)
    return done()


class OpRunner(QObject):
    """Runs a window's service calls off the UI thread, one at a time, and brings each result or error back.

    Give it the window (or dialog) as parent: when the window is destroyed, so is the runner, and ops still
    running then call nobody back (their queued successors never start). `report` is where an expected failure
    goes when the op's caller gave no `failure` of its own; by default a message box over the window.
    """

    sig_idle = Signal()
    """Nothing of this runner is queued or running any more (every callback has run)."""

    sig_progress = Signal(str)
    """The op in flight is taking a while; carries its `progress_text` (an empty text once it is over)."""

    def __init__(
        self, parent: QObject | None = None, *, report: Callable[[str], object] | None = None
    ) -> None:
        super().__init__(parent)
        # Weakly, when it is a method of the window: the window holds its runner, and the runner must not hold
        # the window back from being collected once Qt deleted it.
        self._report: Callable[[], Callable[[str], object] | None] = (
            weakref.WeakMethod(report) if inspect.ismethod(report) else lambda: report
        )
        self._lane = _Lane(self)
        self._box: QMessageBox | None = None
        self._progress = QTimer(self)
        self._progress.setSingleShot(True)
        self._progress.setInterval(PROGRESS_AFTER_MS)
        self._progress.timeout.connect(self._on_slow)
        self._slow = False
        lane = self._lane
        self.destroyed.connect(lambda _obj=None: lane.close())

    # --- asking ------------------------------------------------------------------------------------

    def run(
        self,
        fn: Callable[[], T],
        *,
        success: Callable[[T], object] | None = None,
        failure: Callable[[DeskError], object] | None = None,
        unexpected: Callable[[BaseException], object] | None = None,
        finished: Callable[[], object] | None = None,
        key: str | None = None,
        name: str = "",
        progress_text: str = "",
    ) -> Op[T] | None:
        """Queue `fn` (a service call: it runs on a worker thread and must not touch a widget); returns the op,
        or None when `key` names an op still queued or running (the new one is skipped)."""
        if not self._lane.alive:
            return None
        if key is not None and any(op.key == key for op in self._lane.ops()):
            return None
        op: Op[T] = Op(
            fn,
            success=success,
            failure=failure,
            unexpected=unexpected,
            finished=finished,
            key=key,
            name=name or getattr(fn, "__qualname__", "op"),
            progress_text=progress_text,
        )
        op._lane = self._lane
        global _started
        _started += 1
        _bridge().accept()
        self._lane.queue.append(op)
        if self._lane.current is None:
            self._start_next()
        return op

    def report(self, error: DeskError) -> None:
        """The default failure handler: the window's `report` sink, else a message box with the message."""
        report = self._report()
        if report is not None:
            report(error.message)
            return
        if self._box is not None:  # one box at a time: a failure repeating must not bury the screen
            self._box.setText(error.message)
            return
        parent = self.parent()
        box = QMessageBox(
            QMessageBox.Icon.Warning,
            _tr("一厅通"),
            error.message,
            QMessageBox.StandardButton.Ok,
            parent.window() if isinstance(parent, QWidget) else None,
        )
        box.finished.connect(self._on_box_closed)
        self._box = box
        box.open()

    def guard(self, fn: Callable[..., object]) -> Callable[..., None]:
        """`fn`, made safe to call from another runner's callback: it is not called once this runner (and so
        its window) is gone."""
        lane = self._lane

        def guarded(*args: object) -> None:
            if lane.alive and shiboken6.isValid(self):
                fn(*args)

        return guarded

    # --- waiting (tests, benchmarks) -----------------------------------------------------------------

    def is_idle(self) -> bool:
        return not self._lane.ops()

    @property
    def pending(self) -> int:
        """Ops queued or running."""
        return len(self._lane.ops())

    def wait_idle(self, timeout_ms: int = 5000) -> bool:
        """Run the event loop until this runner is idle or `timeout_ms` passed; True when idle."""
        return self.is_idle() or _wait(self.sig_idle, self.is_idle, timeout_ms)

    # --- the lane ----------------------------------------------------------------------------------

    def _start_next(self) -> None:
        lane = self._lane
        if lane.current is not None:
            return
        if not lane.queue:
            self._end_progress()
            self.sig_idle.emit()
            return
        op = lane.queue.popleft()
        lane.current = op
        if op.progress_text:
            self._progress.start()
        _bridge().start(op)

    def _deliver(self, op: Op[Any]) -> None:
        """On the UI thread, the runner alive: call the op's callbacks."""
        self._progress.stop()
        error = op.error
        try:
            if error is None:
                if op._success is not None:
                    op._success(op.value)
            elif isinstance(error, DeskError):
                logger.info("%s refused: %s", op.name, type(error).__name__)
                if op._failure is not None:
                    op._failure(error)
                else:
                    self.report(error)
            elif op._unexpected is not None:
                op._unexpected(error)
            elif isinstance(error, Exception):
                sys.excepthook(type(error), error, error.__traceback__)
            else:
                raise error  # KeyboardInterrupt, SystemExit: not ours to swallow
        finally:
            if op._finished is not None:
                op._finished()

    def _on_slow(self) -> None:
        op = self._lane.current
        if op is not None and op.progress_text:
            self._slow = True
            self.sig_progress.emit(op.progress_text)

    def _end_progress(self) -> None:
        self._progress.stop()
        if self._slow:
            self._slow = False
            self.sig_progress.emit("")

    def _on_box_closed(self, _result: int) -> None:
        self._box = None
