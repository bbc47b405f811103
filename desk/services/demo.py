"""A realistic day of visitors for `desk init --demo`, registered through the same service as the window."""

from __future__ import annotations

import datetime as dt
import random

from desk.core.clock import CHINA_TZ, FixedClock, SystemClock
from desk.core.synthetic import make_visit
from desk.services.registration import RegistrationService
from desk.store.session import Store


def add_demo_day(store: Store, *, visitors: int = 40, seed: int = 12335, day: dt.date | None = None) -> int:
    """Register `visitors` walk-ins spread over today's opening hours (08:30–17:30 China time)."""
    rng = random.Random(seed)
    day = day or SystemClock().now().astimezone(CHINA_TZ).date()
    opening = dt.datetime.combine(day, dt.time(8, 30), CHINA_TZ)
    clock = FixedClock(opening)
    svc = RegistrationService(store, clock, actor="示例数据")
    names = {c.code: c.name for c in svc.categories()}
    times = sorted(rng.uniform(0, 9 * 3600) for _ in range(visitors))
    for t in times:
        clock._at = (opening + dt.timedelta(seconds=t)).astimezone(dt.UTC)
        svc.register(make_visit(rng, categories=names), new_case=True)
    return visitors
