"""The whole walk-in from the command line: `desk register --queue` routes as the desk's Enter does (or overrides,
with a reason), `desk ticket` gives a ticket to a case registered without one, and `desk call` then calls it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from desk.cli import EXIT_INVALID, EXIT_REGISTERED_NO_TICKET
from desk.core.clock import SystemClock
from desk.errors import Conflict
from desk.services.queue import QueueService
from desk.services.registration import RegistrationService
from desk.services.rooms import RoomsService
from desk.services.setup import init_hall
from desk.store.session import open_store
from tests.conftest import add_tester, staff, visit


def desk(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "desk", *args],
        capture_output=True,
        text=True,
        timeout=120,
        input=stdin,
        env=dict(os.environ),
    )


@pytest.fixture
def hall(store_url: str) -> str:
    store = open_store(store_url)
    init_hall(store)
    add_tester(store)
    store.dispose()
    return store_url


@pytest.fixture
def visit_file(tmp_path: Path) -> Path:
    path = tmp_path / "visit.json"
    path.write_text(json.dumps(visit(), ensure_ascii=False), encoding="utf-8")
    return path


def _kinds(url: str, case_no: str) -> list[str]:
    store = open_store(url)
    try:
        detail = RegistrationService(store, SystemClock(), principal=staff()).case(case_no)
        # the deadline's events (DeadlineSet; WarningRaised when the calendar lacks next year) depend on the
        # day the test runs: tests/services/test_handling.py checks them
        deadline = ("DeadlineSet", "WarningRaised")
        return [type(e.body).__name__ for e in detail.events if type(e.body).__name__ not in deadline]
    finally:
        store.dispose()


def _routed(url: str, case_no: str) -> dict[str, object]:
    store = open_store(url)
    try:
        with store.read() as s:
            payload = s.execute(
                sa.text(
                    "SELECT e.payload FROM case_events e JOIN cases c ON c.id = e.case_id "
                    "WHERE c.case_no = :c AND e.kind = 'routed'"
                ),
                {"c": case_no},
            ).scalar_one()
        return payload if isinstance(payload, dict) else json.loads(payload)
    finally:
        store.dispose()


def test_register_queue_routes_to_the_proposed_room_and_call_then_calls_it(
    hall: str, visit_file: Path
) -> None:
    out = desk("register", "--file", str(visit_file), "--queue", "--db", hall)
    assert out.returncode == 0, out.stderr
    case_no, ticket = out.stdout.splitlines()
    assert case_no.startswith("620702001-") and ticket == "A001 → R01 人民调解室"
    assert "请到1号人民调解室（一楼东侧）等候，前面 0 人" in out.stderr
    assert _kinds(hall, case_no) == ["Registered", "Routed", "TicketIssued"]
    routed = _routed(hall, case_no)
    assert (routed["room"], routed["proposed"], routed["overridden"]) == ("R01", "R01", False)
    # what the desk's Enter would have proposed: the same service call
    called = desk("call", "--room", "R01", "--terminal", "叫号器1", "--db", hall)
    assert (called.returncode, called.stdout.strip()) == (0, "A001")


def test_register_queue_from_stdin_as_a_self_service_kiosk_would(hall: str) -> None:
    out = desk(
        "register", "--file", "-", "--queue", "--db", hall, stdin=json.dumps(visit(), ensure_ascii=False)
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[1] == "A001 → R01 人民调解室"


def test_override_with_a_reason_is_recorded(hall: str, visit_file: Path) -> None:
    out = desk(
        "register", "--file", str(visit_file), "--queue", "--room", "r02", "--reason", "当事人要求律师调解",
        "--db", hall,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    case_no, ticket = out.stdout.splitlines()
    assert ticket == "B001 → R02 法律援助/律师调解室"
    assert "已改派（建议的功能室：R01）" in out.stderr
    routed = _routed(hall, case_no)
    assert routed["overridden"] is True and routed["override_reason"] == "当事人要求律师调解"


def test_override_without_a_reason_is_refused_before_anything_is_registered(
    hall: str, visit_file: Path
) -> None:
    for extra in (["--room", "R02"], ["--room", "R02", "--reason", "  "]):
        out = desk("register", "--file", str(visit_file), "--queue", *extra, "--db", hall)
        assert out.returncode == EXIT_INVALID and out.stdout == ""
        assert "改派到 R02 须用 --reason 说明理由" in out.stderr and "Traceback" not in out.stderr
    reason_alone = desk("register", "--file", str(visit_file), "--queue", "--reason", "x", "--db", hall)
    assert reason_alone.returncode == EXIT_INVALID and "须与 --room 一起使用" in reason_alone.stderr
    without_queue = desk(
        "register", "--file", str(visit_file), "--room", "R02", "--reason", "x", "--db", hall
    )
    assert without_queue.returncode == EXIT_INVALID and "须与 --queue 一起使用" in without_queue.stderr
    assert desk("cases", "--search", "张三", "--json", "--db", hall).stdout.strip() == "[]"


def test_unknown_and_closed_rooms_are_refused_in_chinese_before_registering(
    hall: str, visit_file: Path
) -> None:
    unknown = desk(
        "register", "--file", str(visit_file), "--queue", "--room", "R99", "--reason", "x", "--db", hall
    )
    assert unknown.returncode == 1 and unknown.stdout == ""
    assert unknown.stderr.strip() == "错误：功能室 R99 不存在"
    store = open_store(hall)
    RoomsService(store, SystemClock(), principal=staff()).set_room_open("R02", False)
    store.dispose()
    closed = desk(
        "register", "--file", str(visit_file), "--queue", "--room", "R02", "--reason", "x", "--db", hall
    )
    assert closed.returncode == EXIT_INVALID and closed.stdout == ""
    assert "功能室 R02 法律援助/律师调解室现未开放" in closed.stderr
    assert desk("cases", "--search", "张三", "--json", "--db", hall).stdout.strip() == "[]"


def test_a_repeat_visit_still_queued_keeps_its_ticket(hall: str, visit_file: Path) -> None:
    first = desk("register", "--file", str(visit_file), "--queue", "--db", hall)
    again = desk("register", "--file", str(visit_file), "--queue", "--db", hall)
    assert again.returncode == 0, again.stderr
    assert again.stdout.splitlines() == first.stdout.splitlines()  # the same case, the same ticket
    assert "重复访" in again.stderr and "此案已有排队号 A001，沿用原号" in again.stderr


def test_ticket_for_a_case_registered_without_one(hall: str, visit_file: Path) -> None:
    registered = desk("register", "--file", str(visit_file), "--db", hall)
    assert registered.returncode == 0 and len(registered.stdout.splitlines()) == 1
    case_no = registered.stdout.strip()
    assert desk("call", "--room", "R01", "--db", hall).returncode == 3  # nobody waits yet

    out = desk("ticket", case_no, "--db", hall)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "A001 → R01 人民调解室"
    assert _kinds(hall, case_no) == ["Registered", "Routed", "TicketIssued"]  # its history gets 取号
    called = desk("call", "--room", "R01", "--db", hall)
    assert (called.returncode, called.stdout.strip()) == (0, "A001")

    twice = desk("ticket", case_no, "--db", hall)
    assert twice.returncode == 1 and twice.stdout == ""
    assert f"案件 {case_no} 已有排队号 A001（人民调解室，已叫号），请勿重复取号" in twice.stderr


def test_ticket_with_an_override_and_its_refusals(hall: str, visit_file: Path) -> None:
    case_no = desk("register", "--file", str(visit_file), "--db", hall).stdout.strip()
    no_reason = desk("ticket", case_no, "--room", "R07", "--db", hall)
    assert no_reason.returncode == EXIT_INVALID and "改派到 R07 须用 --reason 说明理由" in no_reason.stderr
    unknown_case = desk("ticket", "620702001-2026-999999", "--db", hall)
    assert unknown_case.returncode == 1
    assert unknown_case.stderr.strip() == "错误：案件 620702001-2026-999999 不存在"
    out = desk(
        "ticket", case_no, "--room", "R07", "--reason", "涉及工资", "--priority", "pregnant", "--db", hall
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "G001 → R07 劳动争议调解室"
    store = open_store(hall)
    try:
        held = QueueService(store, SystemClock(), principal=staff()).active_ticket(case_no)
        assert held is not None and held.priority_reasons == ("pregnant",)
    finally:
        store.dispose()


def test_a_closed_or_diverted_case_gets_no_ticket(hall: str, visit_file: Path) -> None:
    closed = desk("register", "--file", str(visit_file), "--db", hall).stdout.strip()
    elsewhere = desk("register", "--file", str(visit_file), "--new-case", "--db", hall).stdout.strip()
    store = open_store(hall)
    with store.unit_of_work() as s:
        s.execute(sa.text("UPDATE cases SET state = 'closed' WHERE case_no = :c"), {"c": closed})
        s.execute(sa.text("UPDATE cases SET hall_code = '620702002' WHERE case_no = :c"), {"c": elsewhere})
    store.dispose()
    out = desk("ticket", closed, "--db", hall)
    assert out.returncode == 1 and out.stderr.strip() == f"错误：案件 {closed}：案件已办结，不能再取号"
    out = desk("ticket", elsewhere, "--db", hall)
    assert out.returncode == 1
    assert out.stderr.strip() == f"错误：案件 {elsewhere} 已分流至其他综治中心（620702002），不能在本中心取号"


def test_when_the_ticket_fails_after_the_commit_the_case_number_stands(hall: str, visit_file: Path) -> None:
    """Every room closed between the check and the ticket: no room fits. The case is registered; the command
    says so, exits 4, and `desk ticket` gives the ticket once a room opens."""
    store = open_store(hall)
    rooms = RoomsService(store, SystemClock(), principal=staff())
    codes = [r.code for r in rooms.rooms()]
    for code in codes:
        rooms.set_room_open(code, False)
    store.dispose()
    out = desk("register", "--file", str(visit_file), "--queue", "--db", hall)
    assert out.returncode == EXIT_REGISTERED_NO_TICKET
    lines = out.stdout.splitlines()
    assert len(lines) == 1 and lines[0].startswith("620702001-")
    case_no = lines[0]
    assert f"错误：案件 {case_no} 已登记，但未能取号" in out.stderr
    assert f"可用 desk ticket {case_no} 为其取号" in out.stderr and "Traceback" not in out.stderr
    store = open_store(hall)
    RoomsService(store, SystemClock(), principal=staff()).set_room_open("R01", True)
    store.dispose()
    later = desk("ticket", case_no, "--db", hall)
    assert (later.returncode, later.stdout.strip()) == (0, "A001 → R01 人民调解室")


def test_ticket_with_no_fitting_room_says_how_to_override(hall: str, visit_file: Path) -> None:
    case_no = desk("register", "--file", str(visit_file), "--db", hall).stdout.strip()
    store = open_store(hall)
    rooms = RoomsService(store, SystemClock(), principal=staff())
    for r in rooms.rooms():
        if r.code != "R09":
            rooms.set_room_open(r.code, False)
    store.dispose()
    out = desk("ticket", case_no, "--db", hall)
    assert out.returncode == EXIT_INVALID and out.stdout == ""
    assert "--room: 可用 --room 指定功能室并以 --reason 说明理由" in out.stderr


def test_the_service_refuses_a_second_ticket_whatever_the_path(store_url: str) -> None:
    store = open_store(store_url)
    try:
        init_hall(store)
        add_tester(store)
        reg = RegistrationService(store, SystemClock(), principal=staff())
        queue = QueueService(store, SystemClock(), principal=staff())
        case_no = reg.register(visit()).case_no
        queue.issue_ticket(case_no)
        with pytest.raises(Conflict, match="已有排队号 A001（人民调解室，等候中）"):
            queue.issue_ticket(case_no, room_code="R02", override_reason="x")
    finally:
        store.dispose()


@pytest.mark.postgres
def test_the_county_store_routes_to_no_room(county_url: str, visit_file: Path) -> None:
    out = desk("register", "--file", str(visit_file), "--queue", "--db", county_url)
    assert out.returncode == 1 and out.stdout == ""  # refused before anything is registered
    assert "此数据库是县级库：县级不分派功能室，请用 desk county divert 分流到综治中心" in out.stderr
    ticket = desk("ticket", "620702-2026-000001", "--db", county_url)
    assert ticket.returncode == 1 and "此数据库是县级库" in ticket.stderr
