"""Hybrid logical clock stamps: the causal order of case events, whatever the PCs' clocks say.

A stamp is one sortable integer: the physical time in milliseconds since the epoch, shifted left by
`LOGICAL_BITS`, plus a logical counter. A new stamp is greater than the writer's wall clock and greater than
every stamp it has seen (`next_stamp`), so an event always sorts after everything its writer had seen: a call
made on a PC whose clock is minutes behind the one that issued the ticket still folds after the ticket. When a
clock runs ahead, the stamps of the others follow it by counting, not by waiting.
"""

from __future__ import annotations

import datetime as dt

LOGICAL_BITS = 16
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def physical_ms(moment: dt.datetime) -> int:
    """Milliseconds since the epoch of an aware moment."""
    if moment.tzinfo is None:
        raise ValueError("an HLC stamp needs an aware datetime")
    return (moment - _EPOCH) // dt.timedelta(milliseconds=1)


def wall_stamp(moment: dt.datetime) -> int:
    """The smallest stamp at this wall-clock moment (logical counter 0)."""
    return physical_ms(moment) << LOGICAL_BITS


def next_stamp(now: dt.datetime, *seen: int | None) -> int:
    """The stamp of an event written at `now` after the given stamps: greater than all of them, and at least the
    wall clock. (A counter that overflows its bits carries into the milliseconds: still strictly increasing.)"""
    floor = max((s for s in seen if s is not None), default=-1) + 1
    return max(wall_stamp(now), floor)


def split(stamp: int) -> tuple[int, int]:
    """(milliseconds, logical counter) of a stamp."""
    return stamp >> LOGICAL_BITS, stamp & ((1 << LOGICAL_BITS) - 1)


def as_datetime(stamp: int) -> dt.datetime:
    """The physical part of a stamp as a UTC moment (for diagnostics; people read `occurred_at`)."""
    return _EPOCH + dt.timedelta(milliseconds=split(stamp)[0])
