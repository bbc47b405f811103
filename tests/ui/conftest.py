"""UI fixtures: the services a window is built from, over the per-test SQLite store and the fixed clock."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from desk.app import Services, build_services
from desk.core.clock import FixedClock
from desk.services.queue import QueueService
from desk.store.session import Store
from tests.conftest import staff
from tests.receipt_settings import PRINTING_SETTINGS


@pytest.fixture
def services(sqlite_store: Store, clock: FixedClock) -> Services:
    return build_services(
        sqlite_store, clock, settings=PRINTING_SETTINGS, principal=staff("测试前台", "前台1")
    )


@pytest.fixture
def terminal_queue(sqlite_store: Store, clock: FixedClock) -> Callable[[str], QueueService]:
    """A queue service for a named terminal (each room terminal has its own)."""

    def make(name: str) -> QueueService:
        return QueueService(sqlite_store, clock, principal=staff("功能室终端", name))

    return make


@pytest.fixture(autouse=True)
def _signed_in(monkeypatch: pytest.MonkeyPatch) -> None:
    """`desk.app.main` asks who signs in with a modal dialog: in these tests the test user always has. The
    dialog itself, over the real AuthService, is tested in tests/ui/test_access_*.py."""
    import desk.app

    monkeypatch.setattr(desk.app, "sign_in", lambda _services, _role, terminal: staff("测试员", terminal))
