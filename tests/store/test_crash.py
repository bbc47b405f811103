"""Durability: a registering process killed with SIGKILL loses no acknowledged visit and leaves nothing half-written."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time

import pytest
import sqlalchemy as sa

from desk.services.setup import init_hall
from desk.store import projections
from desk.store import repositories as repo
from desk.store.models import CaseEvent, CaseRow, PartyRow
from desk.store.session import open_store
from tests.conftest import add_tester

# Registers synthetic visitors forever; prints each case number only after its commit returned.
LOOP = """
import random, sys
from desk.core.clock import SystemClock
from desk.core.synthetic import make_visit
from desk.services.registration import RegistrationService
from desk.store.session import open_store
from tests.conftest import add_tester, staff
store = open_store(sys.argv[1])
svc = RegistrationService(store, SystemClock(), principal=staff())
names = {c.code: c.name for c in svc.categories()}
rng = random.Random(int(sys.argv[2]))
print("ready", flush=True)
while True:
    r = svc.register(make_visit(rng, categories=names), new_case=True)
    print(r.case_no, flush=True)
"""


@pytest.mark.slow
def test_sigkill_loses_no_acknowledged_visit(store_url: str) -> None:
    store = open_store(store_url)
    init_hall(store)
    add_tester(store)
    store.dispose()
    acknowledged: list[str] = []
    rng = random.Random(20261127)
    for round_ in range(3):
        proc = subprocess.Popen(
            [sys.executable, "-c", LOOP, store_url, str(round_)],
            stdout=subprocess.PIPE,
            text=True,
            env=dict(os.environ),
        )
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
        deadline = time.monotonic() + rng.uniform(0.3, 1.5)
        while time.monotonic() < deadline:
            line = proc.stdout.readline().strip()
            if line:
                acknowledged.append(line)
        os.kill(proc.pid, signal.SIGKILL)  # mid-transaction, most likely
        rest, _ = proc.communicate()
        acknowledged += [x for x in rest.split() if x]  # printed before the kill: committed
        assert proc.returncode == -signal.SIGKILL

    assert len(acknowledged) > 10
    store = open_store(store_url)
    with store.unit_of_work() as s:
        stored = set(s.scalars(sa.select(CaseRow.case_no)))
        assert set(acknowledged) <= stored
        # nothing half-written: every case has its event and its parties, every event its case
        n_cases = s.scalar(sa.select(sa.func.count()).select_from(CaseRow))

        def n_events(kind: str) -> int | None:
            return s.scalar(sa.select(sa.func.count()).select_from(CaseEvent).where(CaseEvent.kind == kind))

        # each with its deadline (DeadlineSet), written in the same transaction as its registration
        assert n_cases == n_events("registered") == n_events("deadline_set") == len(stored)
        orphan = s.scalar(
            sa.select(sa.func.count())
            .select_from(CaseRow)
            .where(~sa.exists().where(PartyRow.case_id == CaseRow.id))
        )
        assert orphan == 0
        seqs = sorted(s.scalars(sa.select(CaseEvent.hall_seq)))
        assert seqs == list(range(1, len(seqs) + 1))
        live = repo.projection_snapshot(s)
    with store.unit_of_work() as s:
        projections.rebuild(s)
        assert repo.projection_snapshot(s) == live
    store.dispose()
