"""A realistic day of visitors for `desk init --demo`, registered through the same service as the window."""

from __future__ import annotations

import datetime as dt
import random

from desk.core.clock import CHINA_TZ, FixedClock, SystemClock
from desk.core.permissions import operator
from desk.core.synthetic import make_visit
from desk.services.queue import QueueService
from desk.services.registration import RegistrationService
from desk.store.county import get_meta, set_meta
from desk.store.session import Store

DEMO_MARK = "demo"  # the store's meta key: set once the demo day is in, so its receipts say 演示


def is_demo_store(store: Store) -> bool:
    """The store holds the demo day (`desk init --demo`)."""
    with store.read() as s:
        return get_meta(s, DEMO_MARK) == "1"


def add_demo_day(store: Store, *, visitors: int = 40, seed: int = 12335, day: dt.date | None = None) -> int:
    """Register `visitors` walk-ins spread over today's opening hours (08:30–17:30 China time), each routed to a
    room with a ticket; the earlier ones have been called, received and finished, as by mid-afternoon."""
    rng = random.Random(seed)
    day = day or SystemClock().now().astimezone(CHINA_TZ).date()
    opening = dt.datetime.combine(day, dt.time(8, 30), CHINA_TZ)
    clock = FixedClock(opening)
    svc = RegistrationService(store, clock, principal=operator("示例数据"))
    queue = QueueService(store, clock, principal=operator("示例数据", "示例终端"))
    names = {c.code: c.name for c in svc.categories()}
    times = sorted(rng.uniform(0, 9 * 3600) for _ in range(visitors))
    tickets = []
    for t in times:
        clock.set((opening + dt.timedelta(seconds=t)).astimezone(dt.UTC))
        result = svc.register(make_visit(rng, categories=names), new_case=True)
        if queue.propose(result.case_no).room_code is not None:
            tickets.append(queue.issue_ticket(result.case_no).ticket)
    # The first two thirds have been served; the next few are being received; the rest wait.
    served, serving = (len(tickets) * 2) // 3, min(3, len(tickets) // 10)
    for i, ticket in enumerate(tickets[: served + serving]):
        clock.advance(minutes=1)
        queue.claim(ticket.id)
        if i < served:
            clock.advance(minutes=rng.uniform(8, 30))
            queue.finish(ticket.id)
    with store.unit_of_work() as s:
        set_meta(s, DEMO_MARK, "1")
    return visitors
