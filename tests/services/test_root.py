"""The composition root: one `Services` per process, each service built on first use."""

from __future__ import annotations

import subprocess
import sys

from desk.core.clock import FixedClock
from desk.services import Services, build_services
from desk.services.queue import QueueService
from desk.store.session import Store
from tests.conftest import staff


def test_each_service_is_built_once_over_the_same_store_and_clock(
    sqlite_store: Store, clock: FixedClock
) -> None:
    services = build_services(sqlite_store, clock, principal=staff("测试前台", "前台1"))
    assert isinstance(services, Services)
    assert services.queue is services.queue and services.registration is services.registration
    assert services.rooms is services.rooms and services.display is services.display
    assert services.queue.now() == clock.now() == services.registration.now() == services.display.now()
    own = services.new_queue()
    assert isinstance(own, QueueService) and own is not services.queue and own.terminal == "前台1"
    assert services.county is None  # a hall's store
    assert services.sync is not None and not services.sync.configured


def test_the_county_store_gets_county_services_and_no_sync(county: Store, clock: FixedClock) -> None:
    services = build_services(
        county, clock, county_url="postgresql://elsewhere/x", principal=staff("县综治中心")
    )
    assert services.county is not None and services.sync is None


LAZY = """
import sys
import desk.services.status
assert "desk.services.root" not in sys.modules, "a service module imported the composition root"
from desk.services import build_services
assert "desk.services.rooms" not in sys.modules and "desk.services.registration" not in sys.modules
from desk.core.clock import SystemClock
from desk.store.session import open_store
from desk.services.setup import init_hall
from desk.core.permissions import operator as staff
store = open_store(sys.argv[1])
init_hall(store)
services = build_services(store, SystemClock(), principal=staff())
services.status
assert "desk.services.rooms" not in sys.modules, "the status service built the rooms service"
assert "desk.services.queue" not in sys.modules, "the status service built the queue service"
services.rooms.rooms()
assert "desk.services.registration" not in sys.modules and "desk.sync" not in sys.modules
store.dispose()
print("ok")
"""


def test_services_and_their_modules_are_loaded_on_first_use(sqlite_url: str) -> None:
    r = subprocess.run([sys.executable, "-c", LAZY, sqlite_url], capture_output=True, text=True, timeout=60)
    assert r.stdout.strip() == "ok", r.stderr
