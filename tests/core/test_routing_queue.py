"""Routing rules and the queue's priority rule, without a database."""

from __future__ import annotations

import datetime as dt

from desk.core import queue as q
from desk.core.routing import RoomLoad, handling_minutes, propose_room


def room(
    code: str,
    kind: str = "人民调解室",
    cats: tuple[str, ...] = ("neighbour",),
    *,
    waiting: int = 0,
    minutes: float = 20.0,
    capacity: int = 6,
    is_open: bool = True,
    position: int = 0,
    serving: int = 0,
    servers: int = 1,
    primary: tuple[str, ...] = (),
) -> RoomLoad:
    return RoomLoad(
        code,
        f"{code}室",
        kind,
        frozenset(cats),
        capacity,
        is_open,
        waiting,
        minutes,
        position,
        serving,
        servers,
        frozenset(primary),
    )


def propose(
    rooms: list[RoomLoad], category: str = "neighbour", headcount: int = 1, flags: tuple[str, ...] = ()
):  # noqa: ANN201
    return propose_room(category_code=category, headcount=headcount, risk_flags=flags, rooms=rooms)


def test_shortest_expected_wait_among_open_rooms_that_handle_the_category() -> None:
    rooms = [
        room("R01", waiting=3, position=1),
        room("R06", waiting=1, position=6),
        room("R02", cats=("contract",), position=2),
    ]
    p = propose(rooms)
    assert p.room_code == "R06" and p.candidates == ("R06", "R01")
    assert "预计等候最短" in p.reason and "20分钟" in p.reason


def test_expected_wait_uses_each_rooms_handling_time() -> None:
    rooms = [room("R01", waiting=2, minutes=10, position=1), room("R06", waiting=1, minutes=30, position=6)]
    assert propose(rooms).room_code == "R01"  # 20 min against 30 min


def test_tie_goes_to_the_dedicated_room_then_the_more_specialised_then_the_first_listed() -> None:
    general = room("R01", cats=("neighbour", "contract", "labour"), position=1)
    legal = room("R02", cats=("contract", "labour"), position=2)
    labour = room("R07", cats=("labour",), position=7, primary=("labour",))
    p = propose([general, legal, labour], category="labour")
    assert p.room_code == "R07" and "专门调解室" in p.reason
    assert propose([general, legal], category="labour").room_code == "R02"  # fewer categories
    assert propose([room("R06", position=6), room("R01", position=1)]).room_code == "R01"


def test_expected_wait_counts_visitors_in_service_and_mediators() -> None:
    assert room("R", waiting=0, serving=1).expected_wait_minutes == 20  # the only mediator is busy
    assert room("R", waiting=0, serving=1, servers=2).expected_wait_minutes == 0  # the second one is free
    assert room("R", waiting=3, serving=2, servers=2).expected_wait_minutes == 40  # 4 ahead, 2 at a time
    busy = room("R01", serving=1, position=1)
    idle = room("R06", position=6)
    assert propose([busy, idle]).room_code == "R06"


def test_counselling_room_is_kept_for_persons_in_crisis() -> None:
    counselling = room("R03", kind="心理咨询室", cats=("marriage_family",), position=3)
    busy = room("R01", cats=("marriage_family",), waiting=4, position=1)
    assert propose([busy, counselling], category="marriage_family").room_code == "R01"
    closed = room("R01", cats=("marriage_family",), is_open=False, position=1)
    assert propose([closed, counselling], category="marriage_family").room_code == "R03"  # no other room fits


def test_closed_rooms_are_not_proposed() -> None:
    rooms = [room("R01", is_open=False, position=1), room("R06", waiting=5, position=6)]
    assert propose(rooms).room_code == "R06"
    p = propose([room("R01", is_open=False)])
    assert p.room_code is None and "均未开放" in p.reason


def test_no_room_handles_the_category() -> None:
    p = propose([room("R01")], category="labour")
    assert p.room_code is None and "没有功能室受理此类纠纷" in p.reason


def test_group_visit_needs_a_room_that_holds_the_headcount() -> None:
    rooms = [room("R01", capacity=6, position=1), room("R04", capacity=12, waiting=4, position=4)]
    p = propose(rooms, headcount=10)
    assert p.room_code == "R04" and "可容纳12人" in p.reason
    p = propose(rooms, headcount=20)
    assert p.room_code is None and "最多容纳12人" in p.reason


def test_psychological_crisis_goes_to_counselling_first() -> None:
    rooms = [
        room("R01", position=1),
        room("R03", kind="心理咨询室", cats=("marriage_family",), waiting=2, position=3),
    ]
    p = propose(rooms, flags=("psychological_crisis",))
    assert p.room_code == "R03" and "心理危机" in p.reason
    closed = [rooms[0], room("R03", kind="心理咨询室", is_open=False, position=3)]
    p = propose(closed, flags=("psychological_crisis",))
    assert p.room_code == "R01" and p.reason.startswith("心理咨询室未开放，已改派至")
    # a room that does not handle the category still takes the person in crisis: nobody waits for a category
    other = [room("R05", cats=("labour",), position=5), room("R03", kind="心理咨询室", is_open=False)]
    p = propose(other, category="marriage_family", flags=("psychological_crisis",))
    assert p.room_code == "R05" and p.reason.startswith("心理咨询室未开放，已改派至")
    nothing = [room("R01", is_open=False), room("R03", kind="心理咨询室", is_open=False)]
    p = propose(nothing, flags=("psychological_crisis",))
    assert p.room_code is None and "陪护" in p.reason


def test_handling_minutes_defaults_by_kind_then_recent_mean() -> None:
    assert handling_minutes("心理咨询室", []) == 40.0
    assert handling_minutes("未知室", []) == 30.0
    assert handling_minutes("人民调解室", [10, 20, 30]) == 20.0


T0 = dt.datetime(2026, 11, 27, 1, 0, tzinfo=dt.UTC)


def order(visitors: list[tuple[str, int, bool]]) -> list[str]:
    """Serving order of (name, arrival minute, priority) by the product's queue key and number."""
    keyed = [
        (q.queue_key(T0 + dt.timedelta(minutes=m), priority=p), i, name)
        for i, (name, m, p) in enumerate(visitors)
    ]
    return [name for _, _, name in sorted(keyed)]


def test_priority_goes_ahead_of_recent_arrivals_only() -> None:
    # ordinary A arrived at 0, B at 10; elderly P at 20: P overtakes B (10 min earlier), not A (20 min earlier)
    assert order([("A", 0, False), ("B", 10, False), ("P", 20, True)]) == ["A", "P", "B"]


def test_priority_never_starves_an_ordinary_visitor() -> None:
    # a stream of priority visitors every 5 minutes cannot keep overtaking someone who has waited 15 minutes
    visitors = [("O", 0, False)] + [(f"P{i}", 5 * i, True) for i in range(1, 20)]
    served = order(visitors)
    overtakers = served[: served.index("O")]
    assert set(overtakers) <= {"P1", "P2"}  # arrived less than 15 minutes after O
    assert all(int(p[1:]) * 5 < q.PRIORITY_HEAD_START.total_seconds() / 60 for p in overtakers)


def test_priority_reasons() -> None:
    today = dt.date(2026, 11, 27)
    assert q.priority_reasons(birth_date=dt.date(1956, 11, 27), today=today) == (q.PriorityReason.ELDERLY,)
    assert q.priority_reasons(birth_date=dt.date(1956, 11, 28), today=today) == ()
    assert q.priority_reasons(
        birth_date=None, today=today, declared=["pregnant"], risk_flags=["civil_to_criminal"]
    ) == (q.PriorityReason.PREGNANT, q.PriorityReason.HIGH_RISK)
    assert q.priority_reasons(birth_date=None, today=today, risk_flags=["group_visit"]) == ()


def test_ticket_labels_and_announcements() -> None:
    assert q.ticket_label("A", 12) == "A012"
    assert q.announcement("A012", "人民调解室", 3) == "请 A012 号到 3号人民调解室"
    assert q.spoken_ticket("A012") == "A零一二"
    assert q.spoken_announcement("A012", "人民调解室", 3) == "请 A零一二 号，到三号人民调解室"
    assert q.estimated_wait_minutes(3, 25.0) == 75
