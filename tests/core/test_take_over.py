"""The take-over rule: whom a room with nobody waiting may receive from other rooms' queues, without a database."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from desk.core import queue as q
from desk.core.routing import COUNSELLING_KIND

T0 = dt.datetime(2026, 11, 27, 1, 0, tzinfo=dt.UTC)


@dataclass(frozen=True)
class Room:
    code: str = "R06"
    kind: str = "警调对接室"
    categories: frozenset[str] = frozenset({"neighbour", "public_order"})
    capacity: int = 6
    is_open: bool = True


@dataclass(frozen=True)
class Waiting:
    name: str
    minutes: float = 0.0  # queue key, minutes after T0
    number: int = 1
    room_code: str = "R01"
    category_code: str = "neighbour"
    headcount: int = 1
    risk_flags: tuple[str, ...] = ()

    @property
    def queue_key(self) -> dt.datetime:
        return T0 + dt.timedelta(minutes=self.minutes)


def names(room: Room, waiting: list[Waiting]) -> list[str]:
    return [w.name for w in q.take_over_candidates(room, waiting)]


def test_longest_queued_first_then_the_lower_number() -> None:
    waiting = [
        Waiting("late", minutes=20),
        Waiting("early-b", minutes=5, number=7),
        Waiting("priority", minutes=-10, room_code="R02"),  # a priority visitor's key is 15 minutes earlier
        Waiting("early-a", minutes=5, number=3),
    ]
    assert names(Room(), waiting) == ["priority", "early-a", "early-b", "late"]


def test_only_visitors_the_room_can_receive() -> None:
    waiting = [
        Waiting("own room", room_code="R06"),
        Waiting("other category", category_code="labour"),
        Waiting("group too big", headcount=7),
        Waiting("fits exactly", headcount=6, minutes=1),
    ]
    assert names(Room(), waiting) == ["fits exactly"]


def test_a_person_in_crisis_is_never_moved() -> None:
    waiting = [
        Waiting("crisis", risk_flags=("psychological_crisis",)),
        Waiting("high risk but not in crisis", minutes=1, risk_flags=("extreme_behaviour",)),
    ]
    assert names(Room(), waiting) == ["high risk but not in crisis"]
    assert not q.may_take_over(Room(), waiting[0]) and q.may_take_over(Room(), waiting[1])


def test_closed_counselling_or_idle_rooms_take_over_nobody() -> None:
    waiting = [Waiting("anyone")]
    assert names(Room(is_open=False), waiting) == []
    assert names(Room(kind=COUNSELLING_KIND), waiting) == []
    assert not q.may_take_over(Room(kind=COUNSELLING_KIND), waiting[0])
    assert names(Room(categories=frozenset()), waiting) == []  # a video conference room receives nobody
    assert not q.receives_take_overs(Room(is_open=False)) and q.receives_take_overs(Room())


def test_only_the_longest_queued_fitting_visitors_are_looked_at() -> None:
    crisis = [
        Waiting(f"crisis {i}", minutes=i, number=i, risk_flags=("psychological_crisis",))
        for i in range(q.TAKE_OVER_CANDIDATES)
    ]
    later = Waiting("after them", minutes=q.TAKE_OVER_CANDIDATES + 1)
    assert names(Room(), [*crisis, later]) == []
    assert names(Room(), [*crisis[1:], later]) == ["after them"]
    # the bound counts fitting visitors only: those the room cannot receive do not use it up
    others = [Waiting(f"labour {i}", minutes=-1, category_code="labour") for i in range(50)]
    assert names(Room(), [*others, later]) == ["after them"]
