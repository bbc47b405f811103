"""The citizen's view of a case: stages in plain Chinese, nothing personal, unknown and malformed tokens alike."""

from __future__ import annotations

import dataclasses

import pytest

from desk.core.clock import FixedClock
from desk.services.queue import QueueService
from desk.services.registration import RegistrationService
from desk.services.status import StatusService, token_from_scan
from desk.store.session import Store
from tests.conftest import staff, valid_id, visit


@pytest.fixture
def status(store: Store, clock: FixedClock) -> StatusService:
    return StatusService(store, clock)


def test_stages_follow_the_queue(
    service: RegistrationService, store: Store, clock: FixedClock, status: StatusService
) -> None:
    queue = QueueService(store, clock, principal=staff())
    first = service.register(visit(parties=[{"role": "applicant", "name": "李四", "phone": "13800000001"}]))
    r = service.register(visit())
    token = service.case(r.case_no).status_token
    s = status.status(token)
    assert s is not None and s.stage == "已受理" and s.ticket is None
    queue.issue_ticket(first.case_no, room_code="R01")
    t = queue.issue_ticket(r.case_no, room_code="R01").ticket
    s = status.status(token)
    assert s is not None and (s.stage, s.ticket, s.ahead, s.room, s.location) == (
        "排队中",
        "A002",
        1,
        "1号人民调解室",
        "一楼东侧",
    )
    assert "前面还有 1 人" in s.detail and s.case_no_tail == r.case_no[-6:]
    queue.call_ticket(t.id, reason="预约")
    assert "正在叫号" in status.status(token).detail  # type: ignore[union-attr]
    queue.claim(t.id)
    assert status.status(token).stage == "调解中"  # type: ignore[union-attr]


def test_nothing_personal(service: RegistrationService, status: StatusService) -> None:
    idn = valid_id("62070219850101123")
    r = service.register(visit())
    s = status.status(service.case(r.case_no).status_token)
    flat = repr(dataclasses.asdict(s))  # type: ignore[call-overload]
    for secret in ("张三", idn, "13912345678", "甘州区东街街道1号", "堆放杂物", r.case_no):
        assert secret not in flat


@pytest.mark.parametrize(
    "token", ["", "x", "A" * 22, "A" * 23, "'; DROP TABLE cases; --", "../../etc/passwd"]
)
def test_unknown_or_malformed_token_is_none(status: StatusService, token: str) -> None:
    assert status.status(token) is None


def test_token_from_scan() -> None:
    assert (
        token_from_scan(" https://zz.example.gov.cn/s/abcDEF_-123456789012345/\n")
        == "abcDEF_-123456789012345"
    )
    assert token_from_scan("abc?utm=x") == "abc"
