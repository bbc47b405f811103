"""Waiting for the windows' service calls (desk.ui.ops) in tests: they run on worker threads and come back through
the event loop, so a test waits for them as for a signal, never with a sleep."""

from __future__ import annotations

from typing import Any, TypeVar

from pytestqt.qtbot import QtBot

from desk.ui.ops import Op, all_idle

T = TypeVar("T")
TIMEOUT_MS = 5000


def settle(qtbot: QtBot, timeout: int = TIMEOUT_MS) -> None:
    """Wait until every service call asked for came back and its callbacks ran (and what they asked for, too)."""
    qtbot.waitUntil(all_idle, timeout=timeout)


def finish(qtbot: QtBot, op: Op[T] | None, timeout: int = TIMEOUT_MS) -> Op[T] | None:
    """Wait for `op` and whatever its callbacks started; returns it (None, an op that never started, stays None)."""
    if op is not None:
        qtbot.waitUntil(lambda: op.done, timeout=timeout)
    settle(qtbot, timeout)
    return op


def value(qtbot: QtBot, op: Op[T] | None, timeout: int = TIMEOUT_MS) -> Any:
    """What `op` returned once it came back; None when it did not start or was refused."""
    done = finish(qtbot, op, timeout)
    return None if done is None or done.error is not None else done.value
