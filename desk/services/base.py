"""What every use case of one hall's store starts from: the store, the clock and the local hall's code."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from desk.errors import DeskError
from desk.store.queries.hall import local_hall_code

if TYPE_CHECKING:
    from desk.core.clock import Clock
    from desk.store.session import Store


class HallUseCases:
    """A service over the local hall of `store`; the hall's code is read once, when first needed."""

    def __init__(self, store: Store, clock: Clock) -> None:
        self._store = store
        self._clock = clock
        self._hall_code: str | None = None

    @property
    def hall_code(self) -> str:
        if self._hall_code is None:
            with self._store.read() as s:
                self._hall_code = local_hall_code(s)
            if self._hall_code is None:
                raise DeskError("数据库尚未初始化：请先运行 desk init")
        return self._hall_code

    def now(self) -> dt.datetime:
        return self._clock.now()
