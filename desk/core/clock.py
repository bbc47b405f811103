"""Clocks: services take one so tests can fix time."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from typing import Protocol


class Clock(Protocol):
    def now(self) -> dt.datetime:
        """The current time, timezone-aware, in UTC."""
        ...


class SystemClock:
    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)


class FixedClock:
    """A clock that stands still until told to move; for tests and simulations."""

    def __init__(self, at: dt.datetime) -> None:
        if at.tzinfo is None:
            raise ValueError("FixedClock needs an aware datetime")
        self._at = at.astimezone(dt.UTC)

    def now(self) -> dt.datetime:
        return self._at

    def advance(self, **delta: float) -> None:
        self._at += dt.timedelta(**delta)

    def set(self, at: dt.datetime) -> None:
        if at.tzinfo is None:
            raise ValueError("FixedClock needs an aware datetime")
        self._at = at.astimezone(dt.UTC)


class RunningClock:
    """A clock set to `start` that then runs at real speed: what `DESK_NOW` gives a drill. Windows that poll
    (the calling screen, the sync bar, waiting minutes) see time pass as usual, only on another day and hour;
    a short command reads `start` plus the few milliseconds it has been running."""

    def __init__(self, start: dt.datetime, *, monotonic: Callable[[], float] = time.monotonic) -> None:
        if start.tzinfo is None:
            raise ValueError("RunningClock needs an aware datetime")
        self._start = start.astimezone(dt.UTC)
        self._monotonic = monotonic
        self._t0 = monotonic()

    def now(self) -> dt.datetime:
        return self._start + dt.timedelta(seconds=self._monotonic() - self._t0)


# The hall works in China Standard Time; days (ticket numbers, "same day") are local days.
CHINA_TZ = dt.timezone(dt.timedelta(hours=8), "CST")


def local_date(moment: dt.datetime) -> dt.date:
    return moment.astimezone(CHINA_TZ).date()
