"""Fixtures of the hall's services (rooms, queue, display) over the per-test store, and helpers to fill the queue."""

from __future__ import annotations

import pytest

from desk.core.clock import FixedClock
from desk.services.display import DisplayService
from desk.services.queue import QueueService
from desk.services.registration import RegistrationService
from desk.services.rooms import RoomsService
from desk.store import repositories as repo
from desk.store.session import Store
from tests.conftest import staff, visit


@pytest.fixture
def queue(store: Store, clock: FixedClock) -> QueueService:
    return QueueService(store, clock, principal=staff("刘秀英", "R01-终端1"))


@pytest.fixture
def rooms(store: Store, clock: FixedClock) -> RoomsService:
    return RoomsService(store, clock, principal=staff())


@pytest.fixture
def display(store: Store, clock: FixedClock) -> DisplayService:
    return DisplayService(store, clock)


def walk_in(
    service: RegistrationService, n: int, *, id_number: str | None = None, **overrides: object
) -> str:
    party: dict[str, object] = {"role": "applicant", "name": "来访人", "phone": f"1390000{n:04d}"}
    if id_number:
        party["id_number"] = id_number
    return service.register(visit(parties=[party], **overrides), new_case=True).case_no


def kinds(store: Store, case_no: str) -> list[str]:
    with store.read() as s:
        detail = repo.case_detail(s, case_no=case_no)
        assert detail is not None
        return [e.kind for e in detail.events]
