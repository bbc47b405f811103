"""`desk rooms` and `desk call`, including 100 concurrent calls over 50 waiting tickets."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from desk.core.clock import SystemClock
from desk.services.queue import QueueService
from desk.services.registration import RegistrationService
from desk.services.setup import init_hall
from desk.store.session import open_store
from tests.conftest import add_tester, staff, visit


def desk(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "desk", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=dict(os.environ),
    )


def fill_queue(url: str, n: int, room: str = "R01") -> list[str]:
    store = open_store(url)
    init_hall(store)
    add_tester(store)
    reg = RegistrationService(store, SystemClock(), principal=staff())
    hall = QueueService(store, SystemClock(), principal=staff())
    labels = []
    for i in range(n):
        case_no = reg.register(
            visit(parties=[{"role": "applicant", "name": "排队", "phone": f"1380000{i:04d}"}]), new_case=True
        ).case_no
        labels.append(hall.issue_ticket(case_no, room_code=room).ticket.label)
    store.dispose()
    return labels


def test_rooms_lists_rooms_with_waiting_counts(store_url: str) -> None:
    fill_queue(store_url, 2)
    out = desk("rooms", "--db", store_url)
    assert out.returncode == 0
    first = out.stdout.splitlines()[0]
    assert first.startswith("R01") and "人民调解室" in first and "开放" in first and "等候2人" in first
    rows = json.loads(desk("rooms", "--json", "--db", store_url).stdout)
    assert rows[0] == {
        "id": "R01",
        "name": "人民调解室",
        "kind": "人民调解室",
        "prefix": "A",
        "open": True,
        "waiting": 2,
        "location": "一楼东侧",
        "capacity": 6,
    }
    assert len(rows) == 9


def test_call_prints_ticket_then_exit_3_when_nobody_waits(store_url: str) -> None:
    fill_queue(store_url, 1)
    first = desk("call", "--room", "R01", "--terminal", "叫号器1", "--db", store_url)
    assert (first.returncode, first.stdout.strip()) == (0, "A001")
    again = desk("call", "--room", "R01", "--db", store_url)
    assert again.returncode == 3 and again.stdout == "" and "无人等候" in again.stderr
    unknown = desk("call", "--room", "R99", "--db", store_url)
    assert unknown.returncode == 1 and "R99 不存在" in unknown.stderr


@pytest.mark.slow
def test_100_concurrent_calls_over_50_tickets_call_each_exactly_once(store_url: str) -> None:
    labels = fill_queue(store_url, 50)
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "desk", "call", "--room", "R01", "--terminal", f"T{i}", "--db", store_url],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=dict(os.environ),
        )
        for i in range(100)
    ]
    results = [(p.wait(timeout=300), p.stdout.read().strip(), p.stderr.read()) for p in procs]  # type: ignore[union-attr]
    for p in procs:
        p.stdout.close()  # type: ignore[union-attr]
        p.stderr.close()  # type: ignore[union-attr]
    codes = [code for code, _, _ in results]
    assert sorted(set(codes)) == [0, 3], [err for code, _, err in results if code not in (0, 3)][:3]
    called = [out for code, out, _ in results if code == 0]
    assert sorted(called) == sorted(labels)  # every ticket exactly once
    assert codes.count(3) == 50


def test_the_call_button_runs_as_a_terminal_account_that_may_only_call(
    sqlite_url: str, tmp_path: Path, tester_hash: str
) -> None:
    """`desk call` for a hardware button signs in as a `caller` account (its password in a 0600 file): it calls
    the next visitor, and every other command refuses it; a wrong password or nobody named refuses the call."""
    from desk.core.permissions import Role

    fill_queue(sqlite_url, 1)
    store = open_store(sqlite_url)
    add_tester(store, tester_hash, login="button1", roles=frozenset({Role.CALLER}))
    store.dispose()
    env = {**os.environ, "DESK_USER": "button1"}

    def as_button(*args: str, **extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "desk", *args, "--db", sqlite_url],
            capture_output=True, text=True, timeout=120, env={**env, **extra},
        )  # fmt: skip

    called = as_button("call", "--room", "R01", "--terminal", "叫号器1")
    assert (called.returncode, called.stdout.strip()) == (0, "A001"), called.stderr
    refused = as_button("cases", "--search", "排队")
    assert refused.returncode == 1 and "无权查询案件" in refused.stderr
    nobody = as_button("call", "--room", "R01", DESK_USER="")
    assert nobody.returncode == 1 and "请先登录" in nobody.stderr
    wrong = tmp_path / "wrong"
    wrong.write_text("not-it\n")
    wrong.chmod(0o600)
    bad = as_button("call", "--room", "R01", DESK_PASSWORD_FILE=str(wrong))
    assert bad.returncode == 1 and "用户名或密码不正确" in bad.stderr
    wrong.chmod(0o644)
    loose = as_button("call", "--room", "R01", DESK_PASSWORD_FILE=str(wrong))
    assert loose.returncode == 1 and "chmod 600" in loose.stderr
