"""What the hall display shows: the latest calls, each room and how many wait in it, and the change mark that tells
it when to read them again."""

from __future__ import annotations

import datetime as dt

from desk.core.clock import CHINA_TZ, local_date
from desk.services.base import HallUseCases
from desk.store.queries import calls as calls_q
from desk.store.queries import hall as hall_q
from desk.store.queries import rooms as rooms_q
from desk.store.queries.calls import CallView
from desk.store.queries.rooms import RoomView

__all__ = ["CallView", "DisplayService", "RoomView", "local_time"]


class DisplayService(HallUseCases):
    """Reads only: the display never changes the hall. Cheap enough to poll every 300-400 ms."""

    def recent_calls(self, limit: int = 8) -> list[CallView]:
        """Today's calls, newest first (a recall counts as a new call)."""
        today = local_date(self._clock.now())
        with self._store.read() as s:
            return calls_q.recent_calls(s, self.hall_code, today, limit)

    def rooms(self) -> list[RoomView]:
        """The rooms in the hall's order, each with how many wait in it and whether it is open."""
        with self._store.read() as s:
            return rooms_q.rooms(s, self.hall_code)

    def waiting(self) -> dict[str, int]:
        """How many wait in each room (rooms with nobody waiting are left out)."""
        with self._store.read() as s:
            return rooms_q.waiting_by_room(s, self.hall_code)

    def change_mark(self) -> int:
        """A number that grows with every event and every room edit in the hall: cheap to poll, to know when
        to refresh."""
        with self._store.read() as s:
            return hall_q.change_mark(s, self.hall_code)


def local_time(moment: dt.datetime) -> str:
    """A moment as the display shows it: China time, hours and minutes."""
    return moment.astimezone(CHINA_TZ).strftime("%H:%M")
