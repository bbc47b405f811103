"""DESK_NOW sets the clock of every command and window (drills, tests); a malformed value is refused."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from desk.core.clock import RunningClock, SystemClock
from desk.errors import ValidationError
from desk.services.root import build_services, clock_from_environment
from desk.store.models import TicketRow
from desk.store.session import Store, open_store
from tests.conftest import staff, visit

DRILL = "2025-03-14T09:30:00+08:00"  # a Friday, well before this machine's date
DRILL_AT = dt.datetime(2025, 3, 14, 1, 30, tzinfo=dt.UTC)
# the demo day fills 08:30-17:30 of DESK_NOW's day
EARLY = "2025-03-14T07:50:00+08:00"
EVENING = "2025-03-14T17:45:00+08:00"
EVENING_AT = dt.datetime(2025, 3, 14, 9, 45, tzinfo=dt.UTC)


def desk(
    *args: str, db: str, now: str | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env.pop("DESK_NOW", None)
    if now is not None:
        env["DESK_NOW"] = now
    return subprocess.run(
        [sys.executable, "-m", "desk", *args, "--db", db],
        capture_output=True,
        text=True,
        input=stdin,
        env=env,
        timeout=120,
    )


def test_a_registration_is_stamped_at_desk_now(sqlite_url: str) -> None:
    assert desk("init", db=sqlite_url, now=DRILL).returncode == 0
    r = desk(
        "register", "--file", "-", db=sqlite_url, now=DRILL, stdin=json.dumps(visit(), ensure_ascii=False)
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "620702001-2025-000001"  # the year of DESK_NOW, not of this machine
    [case] = json.loads(desk("cases", "--search", "张三", "--json", db=sqlite_url).stdout)
    registered = dt.datetime.fromisoformat(case["registered_at"])
    assert DRILL_AT <= registered < DRILL_AT + dt.timedelta(seconds=30)  # the clock runs on from DESK_NOW


def test_tickets_are_numbered_on_the_day_of_desk_now(sqlite_url: str) -> None:
    r = desk("init", "--demo", db=sqlite_url, now=DRILL)
    assert r.returncode == 0, r.stderr
    store = open_store(sqlite_url)
    try:
        with store.read() as s:
            days = set(s.scalars(sa.select(TicketRow.day)))
            first = s.scalars(sa.select(TicketRow.label).where(TicketRow.number == 1)).all()
    finally:
        store.dispose()
    assert days == {dt.date(2025, 3, 14)}
    assert first and all(label.endswith("001") for label in first)

    called = desk("call", "--room", "R01", "--terminal", "演练叫号器", db=sqlite_url, now=EVENING)
    assert called.returncode == 0, called.stderr
    store = open_store(sqlite_url)
    try:
        with store.read() as s:
            ticket = s.scalars(sa.select(TicketRow).where(TicketRow.label == called.stdout.strip())).one()
    finally:
        store.dispose()
    assert ticket.day == dt.date(2025, 3, 14) and ticket.state == "called"
    assert ticket.called_at is not None and EVENING_AT <= ticket.called_at < EVENING_AT + dt.timedelta(
        seconds=30
    )


def test_the_demo_made_before_opening_then_two_calls_call_two_visitors(sqlite_url: str) -> None:
    """The issue's reproduction: `desk init --demo` before 08:30 China time (the demo's tickets are stamped
    later that day), then `desk call --room R01` twice. Folded by wall clock, both calls printed the same
    ticket and the first call was lost; in causal order each call takes the next visitor and stays made."""
    assert desk("init", "--demo", db=sqlite_url, now=EARLY).returncode == 0
    labels = []
    for _ in range(2):
        r = desk("call", "--room", "R01", "--terminal", "叫号器", db=sqlite_url, now=EARLY)
        assert r.returncode == 0, r.stderr
        labels.append(r.stdout.strip())
    assert labels[0] != labels[1]
    store = open_store(sqlite_url)
    try:
        with store.read() as s:
            states = dict(
                s.execute(
                    sa.select(TicketRow.label, TicketRow.state).where(TicketRow.label.in_(labels))
                ).all()
            )
    finally:
        store.dispose()
    assert states == {labels[0]: "called", labels[1]: "called"}


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("next tuesday", "不是 ISO 8601 时间"),
        ("2026-12-07T09:30:00", "缺少时区偏移"),
        ("2026-12-07", "缺少时区偏移"),
        ("2026-13-07T09:30:00+08:00", "不是 ISO 8601 时间"),
    ],
)
def test_a_malformed_desk_now_is_refused_with_exit_2(sqlite_url: str, value: str, why: str) -> None:
    for args in (("rooms", "--json"), ("register", "--file", "-")):
        r = desk(*args, db=sqlite_url, now=value, stdin="{}")
        assert r.returncode == 2, r.stderr
        assert (
            r.stderr.startswith("DESK_NOW: ") and why in r.stderr and "2026-12-07T09:30:00+08:00" in r.stderr
        )
        assert "Traceback" not in r.stderr and r.stdout == ""
    assert not Path(sqlite_url.removeprefix("sqlite:///")).exists()  # refused before the store was opened


def test_the_gui_refuses_a_malformed_desk_now_before_opening_a_window(sqlite_url: str) -> None:
    r = desk("--role", "display", db=sqlite_url, now="garbage")
    assert r.returncode == 2 and r.stderr.startswith("DESK_NOW: ") and "Traceback" not in r.stderr


def test_the_composition_root_picks_the_clock() -> None:
    assert isinstance(clock_from_environment({}), SystemClock)
    assert isinstance(clock_from_environment({"DESK_NOW": "  "}), SystemClock)
    clock = clock_from_environment({"DESK_NOW": DRILL})
    assert isinstance(clock, RunningClock)
    assert DRILL_AT <= clock.now() < DRILL_AT + dt.timedelta(seconds=5)
    assert clock_from_environment({"DESK_NOW": "2025-03-14T01:30:00Z"}).now() >= DRILL_AT
    with pytest.raises(ValidationError) as e:
        clock_from_environment({"DESK_NOW": "2025-03-14 09:30"})
    assert e.value.problems[0].field == "DESK_NOW"


def test_build_services_takes_desk_now_unless_given_a_clock(
    sqlite_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DESK_NOW", DRILL)
    services = build_services(sqlite_store, principal=staff())
    assert services.clock.now().date() == DRILL_AT.date()
    assert services.queue.now().date() == DRILL_AT.date()
    given = SystemClock()
    assert build_services(sqlite_store, given, principal=staff()).clock is given


def test_a_running_clock_starts_at_its_moment_and_runs_at_real_speed() -> None:
    ticks = iter([100.0, 100.0, 160.5])
    clock = RunningClock(DRILL_AT, monotonic=lambda: next(ticks))
    assert clock.now() == DRILL_AT
    assert clock.now() == DRILL_AT + dt.timedelta(seconds=60.5)
    with pytest.raises(ValueError):
        RunningClock(dt.datetime(2025, 3, 14, 9, 30))
