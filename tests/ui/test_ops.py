"""The runner of the windows' service calls: off the UI thread, back on it, one failure path, nothing called back
into a window that is gone, one poll at a time."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
import shiboken6
from PySide6.QtCore import QThread
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget
from pytestqt.qtbot import QtBot

from desk.errors import DeskError, NotFound, ValidationError
from desk.ui import ops
from desk.ui.ops import OpRunner, all_idle
from tests.ui.waiting import finish, settle

WAIT_S = 5  # a worker blocked on the test's say-so gives up after this (the test failed by then)


@pytest.fixture
def window(qtbot: QtBot) -> QWidget:
    w = QWidget()
    qtbot.addWidget(w)
    return w


@pytest.fixture
def reported() -> list[str]:
    return []


@pytest.fixture
def runner(window: QWidget, reported: list[str]) -> Iterator[OpRunner]:
    yield OpRunner(window, report=reported.append)


def test_the_call_runs_on_a_worker_and_its_result_comes_back_on_the_ui_thread(
    qtbot: QtBot, runner: OpRunner
) -> None:
    ui = QThread.currentThread()
    ran_on: list[QThread] = []
    got: list[tuple[int, QThread]] = []

    def call() -> int:
        ran_on.append(QThread.currentThread())
        return 42

    op = finish(qtbot, runner.run(call, success=lambda v: got.append((v, QThread.currentThread()))))
    assert op is not None and op.done and op.value == 42 and op.error is None
    assert ran_on and ran_on[0] is not ui
    assert got == [(42, ui)]


def test_an_expected_failure_goes_to_the_callers_failure_else_to_the_one_default_handler(
    qtbot: QtBot, runner: OpRunner, reported: list[str]
) -> None:
    def refuse() -> None:
        raise ValidationError.single("name", "请填写姓名")

    mine: list[DeskError] = []
    finish(qtbot, runner.run(refuse, failure=mine.append))
    assert [e.message for e in mine] == ["请填写姓名"] and reported == []

    def missing() -> None:
        raise NotFound("案件 X 不存在")

    finish(qtbot, runner.run(missing, success=lambda _v: pytest.fail("no success after a failure")))
    assert reported == ["案件 X 不存在"]


def test_without_a_sink_the_default_handler_is_a_message_box_over_the_window(
    qtbot: QtBot, window: QWidget
) -> None:
    runner = OpRunner(window)
    window.show()

    def missing() -> None:
        raise NotFound("案件 X 不存在")

    finish(qtbot, runner.run(missing))
    finish(qtbot, runner.run(missing))  # a second failure reuses the box
    boxes = [w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox) and w.isVisible()]
    assert len(boxes) == 1 and boxes[0].text() == "案件 X 不存在"
    assert boxes[0].parent() is window
    boxes[0].close()


def test_an_unexpected_exception_reaches_the_excepthook_on_the_ui_thread(
    qtbot: QtBot, runner: OpRunner, reported: list[str]
) -> None:
    def broken() -> None:
        raise RuntimeError("a bug")

    with qtbot.captureExceptions() as exceptions:
        finish(qtbot, runner.run(broken))
    assert [str(e[1]) for e in exceptions] == ["a bug"]
    assert reported == []  # a bug is not a refusal: the excepthook's dialog, not the message line

    handled: list[BaseException] = []
    with qtbot.captureExceptions() as exceptions:
        finish(qtbot, runner.run(broken, unexpected=handled.append))  # a poll keeps the last state instead
    assert exceptions == [] and [str(e) for e in handled] == ["a bug"]


def test_finished_runs_whatever_the_outcome(qtbot: QtBot, runner: OpRunner) -> None:
    ends: list[str] = []

    def fail() -> None:
        raise DeskError("不行")

    def crash() -> None:
        raise RuntimeError("a bug")

    finish(qtbot, runner.run(lambda: 1, finished=lambda: ends.append("ok")))
    finish(qtbot, runner.run(fail, finished=lambda: ends.append("refused")))
    with qtbot.captureExceptions():
        finish(qtbot, runner.run(crash, finished=lambda: ends.append("crashed")))
    assert ends == ["ok", "refused", "crashed"]


def test_a_runners_ops_run_one_at_a_time_in_the_order_asked(qtbot: QtBot, runner: OpRunner) -> None:
    release = threading.Event()
    running: list[int] = []
    done: list[int] = []

    def step(n: int) -> int:
        running.append(n)
        if n == 0:
            assert release.wait(WAIT_S)
        return n

    for n in range(4):
        runner.run(lambda n=n: step(n), success=done.append)
    qtbot.waitUntil(lambda: running == [0])
    assert runner.pending == 4 and not runner.is_idle()
    release.set()
    with qtbot.waitSignal(runner.sig_idle):
        pass
    assert running == done == [0, 1, 2, 3]


def test_a_keyed_op_is_skipped_while_another_with_its_key_is_pending(qtbot: QtBot, runner: OpRunner) -> None:
    release = threading.Event()
    polls: list[int] = []

    def poll() -> None:
        polls.append(1)
        assert release.wait(WAIT_S)

    first = runner.run(poll, key="poll")
    assert first is not None
    assert runner.run(poll, key="poll") is None  # the poll under way makes this one unnecessary
    assert runner.run(lambda: None) is not None  # other ops still queue behind it
    release.set()
    finish(qtbot, first)
    assert polls == [1]
    assert finish(qtbot, runner.run(poll, key="poll")) is not None  # once it is back, polling goes on
    assert polls == [1, 1]


def test_ops_of_a_window_that_is_gone_call_nothing_back(qtbot: QtBot) -> None:
    window = QWidget()
    runner = OpRunner(window)
    release = threading.Event()
    started: list[str] = []
    called: list[str] = []

    def slow() -> str:
        started.append("slow")
        assert release.wait(WAIT_S)
        return "late"

    first = runner.run(slow, success=called.append, finished=lambda: called.append("finished"))
    runner.run(lambda: started.append("queued"), success=called.append)
    qtbot.waitUntil(lambda: started == ["slow"])
    shiboken6.delete(window)  # the window, and its runner with it
    assert not shiboken6.isValid(runner)
    release.set()
    qtbot.waitUntil(lambda: first is not None and first.done)
    settle(qtbot)
    assert called == [] and started == ["slow"]  # nothing called back, the queued op never ran
    assert all_idle()


def test_wait_idle_runs_the_event_loop_until_the_runner_is_done(runner: OpRunner) -> None:
    got: list[int] = []
    runner.run(lambda: 1, success=lambda v: runner.run(lambda: v + 1, success=got.append))
    assert runner.wait_idle(5000)
    assert got == [2]  # what a callback asked for is part of "done"
    assert ops.wait_all_idle(5000)


def test_a_slow_op_says_so(qtbot: QtBot, window: QWidget, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ops, "PROGRESS_AFTER_MS", 20)
    runner = OpRunner(window)
    release = threading.Event()
    said: list[str] = []
    runner.sig_progress.connect(said.append)

    def slow() -> None:
        assert release.wait(WAIT_S)

    with qtbot.waitSignal(runner.sig_progress):
        runner.run(slow, progress_text="正在登记……")
    release.set()
    with qtbot.waitSignal(runner.sig_idle):
        pass
    assert said == ["正在登记……", ""]  # and says when it is over
