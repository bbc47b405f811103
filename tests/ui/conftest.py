"""UI fixtures: the services a window is built from, over the per-test SQLite store and the fixed clock."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from desk.app import Services, build_services
from desk.core.clock import FixedClock
from desk.services.queue import QueueService
from desk.store.session import Store
from tests.receipt_settings import PRINTING_SETTINGS


@pytest.fixture
def services(sqlite_store: Store, clock: FixedClock) -> Services:
    return build_services(sqlite_store, clock, actor="测试前台", terminal="前台1", settings=PRINTING_SETTINGS)


@pytest.fixture
def terminal_queue(sqlite_store: Store, clock: FixedClock) -> Callable[[str], QueueService]:
    """A queue service for a named terminal (each room terminal has its own)."""

    def make(name: str) -> QueueService:
        return QueueService(sqlite_store, clock, actor="功能室终端", terminal=name)

    return make
