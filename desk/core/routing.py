"""Routing a new case to a room of "one hall + N rooms": the proposal and its one-line reason (为何分到此室)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from desk.core.cases import RiskFlag

COUNSELLING_KIND = "心理咨询室"
# The kinds of room of "one hall + N rooms" (DOMAIN.md), and how staff are stationed in them.
ROOM_KINDS = (
    "人民调解室",
    "法律援助室",
    "心理咨询室",
    "信访接待室",
    "诉调对接室",
    "警调对接室",
    "劳动争议调解室",
    "视频会商室",
    "研判分析室",
)
STATION_MODES = {"resident": "常驻", "rotating": "轮驻", "on_call": "随叫随驻"}
# Before a room has handled anything today, its expected handling time (minutes) by kind.
DEFAULT_HANDLING_MINUTES = {
    "人民调解室": 25.0,
    "法律援助室": 30.0,
    "心理咨询室": 40.0,
    "信访接待室": 30.0,
    "诉调对接室": 35.0,
    "警调对接室": 25.0,
    "劳动争议调解室": 30.0,
}
FALLBACK_HANDLING_MINUTES = 30.0
# A room's mean handling time is over its last RECENT_SERVICES finished services among the hall's last
# RECENT_WINDOW (so a room that has been idle for days does not keep a stale mean for ever).
RECENT_SERVICES = 10
RECENT_WINDOW = RECENT_SERVICES * 20


@dataclass(frozen=True)
class RoomLoad:
    """What routing needs to know of a room now."""

    code: str
    name: str
    kind: str
    categories: frozenset[str]
    capacity: int
    is_open: bool
    waiting: int  # tickets waiting (not parked) now
    mean_handling_minutes: float  # recent mean, or the kind's default
    position: int = 0
    serving: int = 0  # visitors called or being received now
    servers: int = 1  # mediators who receive visitors here at once (resident and rotating staff)
    primary_for: frozenset[str] = frozenset()  # categories this room is the dedicated room for

    @property
    def expected_wait_minutes(self) -> float:
        return expected_wait(self.waiting, self)


def expected_wait(ahead: int, room: RoomLoad) -> float:
    """Minutes until a newcomer with `ahead` people before them is called: the busy mediators finish, then
    those ahead are received `servers` at a time."""
    servers = max(1, room.servers)
    return max(0, ahead + room.serving - servers + 1) * room.mean_handling_minutes / servers


@dataclass(frozen=True)
class Proposal:
    room_code: str | None  # None: no open room fits; the desk must choose
    reason: str
    expected_wait_minutes: float | None
    candidates: tuple[str, ...]  # every room that would fit, best first


def handling_minutes(kind: str, recent: Sequence[float]) -> float:
    """Mean of the room's recent handling times, or the kind's default when it has none yet."""
    if recent:
        return sum(recent) / len(recent)
    return DEFAULT_HANDLING_MINUTES.get(kind, FALLBACK_HANDLING_MINUTES)


def propose_room(
    *, category_code: str, headcount: int, risk_flags: Iterable[str], rooms: Sequence[RoomLoad]
) -> Proposal:
    """Propose a room: a psychological crisis goes to an open counselling room first; otherwise, among open
    rooms that handle the category (and, for a group visit, hold the headcount), the shortest expected wait.
    The counselling room is kept for persons in crisis while another room fits. Ties go to the category's
    dedicated room, then to the room with fewer categories, then to the hall's order.

    Measured by bench/hall_day.py against a fixed category → room table (see bench/RESULTS.md)."""
    flags = {str(f) for f in risk_flags}
    if RiskFlag.PSYCHOLOGICAL_CRISIS.value in flags:
        crisis = crisis_room(rooms)
        if crisis.room is None:
            return Proposal(None, crisis.warning or "", None, ())
        counselling = [r for r in rooms if r.kind == COUNSELLING_KIND and r.is_open]
        return Proposal(
            crisis.room.code,
            crisis.warning or f"心理危机：先到{crisis.room.name}疏导",
            crisis.room.expected_wait_minutes,
            tuple(r.code for r in counselling) or (crisis.room.code,),
        )
    handling = [r for r in rooms if category_code in r.categories]
    if not handling:
        return Proposal(None, "没有功能室受理此类纠纷，请手动选择", None, ())
    open_rooms = [r for r in handling if r.is_open]
    if not open_rooms:
        return Proposal(None, "受理此类纠纷的功能室现均未开放，请手动选择", None, ())
    fitting = [r for r in open_rooms if r.capacity >= headcount]
    if not fitting:
        biggest = max(r.capacity for r in open_rooms)
        return Proposal(
            None, f"来访{headcount}人，开放的功能室最多容纳{biggest}人，请手动选择或改到大厅接待", None, ()
        )
    others = [r for r in fitting if r.kind != COUNSELLING_KIND]
    if others:
        fitting = others  # the counsellor stays free for the next person in crisis
    ranked = sorted(
        fitting,
        key=lambda r: (
            r.expected_wait_minutes,
            category_code not in r.primary_for,
            len(r.categories),
            r.position,
        ),
    )
    best = ranked[0]
    wait = best.expected_wait_minutes
    if len(ranked) == 1:
        why = f"唯一开放且受理此类纠纷的功能室，预计等候{wait:.0f}分钟"
    elif wait < ranked[1].expected_wait_minutes:
        why = f"受理此类纠纷的开放功能室中预计等候最短（{wait:.0f}分钟，前面{best.waiting}人）"
    else:
        why = (
            f"预计等候{wait:.0f}分钟，与其他可选功能室相同；此室是该类纠纷的专门调解室"
            if category_code in best.primary_for
            else f"预计等候{wait:.0f}分钟，与其他可选功能室相同，此室更专门"
        )
    if headcount >= 5:
        why += f"；可容纳{best.capacity}人"
    return Proposal(best.code, why, wait, tuple(r.code for r in ranked))


@dataclass(frozen=True)
class CrisisRoom:
    """Where a person in crisis goes now, and the warning to raise when it is not the counselling room."""

    room: RoomLoad | None  # None: no room is open at all
    warning: str | None


def crisis_room(rooms: Sequence[RoomLoad]) -> CrisisRoom:
    """A person in crisis goes to an open counselling room (the one free soonest); if none is open, to the open
    room free soonest (shortest expected wait, then the hall's order), whatever it handles, with a warning
    saying so, since the person must not wait for a category's room."""
    counselling = [r for r in rooms if r.kind == COUNSELLING_KIND and r.is_open]
    if counselling:
        return CrisisRoom(min(counselling, key=lambda r: (r.expected_wait_minutes, r.position)), None)
    open_rooms = [r for r in rooms if r.is_open]
    if not open_rooms:
        return CrisisRoom(
            None, "心理咨询室未开放，也没有其他开放的功能室：请立即安排人员在大厅陪护并报告带班领导"
        )
    best = min(open_rooms, key=lambda r: (r.expected_wait_minutes, r.position))
    return CrisisRoom(best, f"心理咨询室未开放，已改派至{best.name}")
