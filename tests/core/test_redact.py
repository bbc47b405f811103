"""The net under the logs: ID numbers, phones and status tokens scrubbed from any text and any log record."""

from __future__ import annotations

import io
import logging

import pytest

from desk.core.ids import case_number, new_id, status_token
from desk.core.redact import ID_TAG, PHONE_TAG, TOKEN_TAG, ScrubFilter, scrub
from tests.conftest import valid_id

ID = valid_id("62070219850101123")


@pytest.mark.parametrize(
    "text",
    [
        ID,
        ID.lower(),
        f"{ID[:6]} {ID[6:14]} {ID[14:]}",
        "".join(chr(ord(c) + 0xFEE0) if c.isdigit() else c for c in ID),  # full-width, as typed
        "620702850101123",  # a first-generation number
        f"Key (id_number)=({ID}) already exists.",
    ],
)
def test_id_numbers_are_scrubbed_however_written(text: str) -> None:
    out = scrub(text)
    assert ID_TAG in out
    assert not any(ch.isdigit() for ch in out.replace("(id_number)", ""))


@pytest.mark.parametrize(
    "text",
    [
        "13912345678",
        "+86 139 1234 5678",
        "+8613912345678",
        "0936-8212345",
        "（0936）8212345",
        "１３９１２３４５６７８",
    ],
)
def test_phones_are_scrubbed(text: str) -> None:
    out = scrub(f"电话：{text}。")
    assert out == f"电话：{PHONE_TAG}。"


def test_tokens_are_scrubbed_in_paths_and_text() -> None:
    for _ in range(200):  # random tokens: every shape they take
        token = status_token()
        assert scrub(f"GET /s/{token} HTTP/1.1") == f"GET /s/{TOKEN_TAG} HTTP/1.1"
        assert scrub(f"token={token}&x=1") == f"token={TOKEN_TAG}&x=1"


def test_what_people_need_in_a_log_is_kept() -> None:
    """Case numbers, UUIDs, times, revisions and identifiers stay readable."""
    keep = [
        case_number("620702001", 2026, 123),
        case_number("6207020010", 2026, 123),  # a 22-character case number has no letter: not a token
        new_id(),
        "2026-12-07 23:35:52,123",
        "20261207_0006",
        "take_over_candidates",
        "sqlite:////var/lib/hall-desk/desk.db",
        "room R01: cannot read the store",
    ]
    for text in keep:
        assert scrub(text) == text


def test_the_filter_scrubs_messages_arguments_and_tracebacks() -> None:
    token = status_token()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    handler.addFilter(ScrubFilter())
    log = logging.getLogger("test.redact")
    log.addHandler(handler)
    log.propagate = False
    try:
        log.warning("registered %s with %s", ID, "13912345678")
        try:
            raise ValueError(f"bad row ({ID}, 13912345678, /s/{token})")
        except ValueError:
            log.exception("failed")
        log.error("stack", stack_info=True, extra={"x": 1})
        log.warning("%s %s", "only one")  # a bad format string is logged, not raised
    finally:
        log.removeHandler(handler)
        log.propagate = True
    out = stream.getvalue()
    assert ID not in out and "13912345678" not in out and token not in out
    assert out.count(ID_TAG) == 2 and TOKEN_TAG in out
    assert "ValueError: bad row" in out  # the traceback is there, scrubbed
    assert "only one" in out
