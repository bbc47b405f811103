"""HLC stamps and typed events, without a database: stamps order causally; every payload round-trips its JSON."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from desk.core import events as ev
from desk.core import hlc
from desk.core.fold import fold
from tests.core.test_handling_events import HANDLING_SAMPLES

T0 = dt.datetime(2026, 12, 7, 1, 0, tzinfo=dt.UTC)


def test_a_stamp_is_past_the_wall_clock_and_everything_seen() -> None:
    wall = hlc.wall_stamp(T0)
    assert hlc.next_stamp(T0) == wall
    assert hlc.next_stamp(T0, wall) == wall + 1  # the same millisecond: the counter moves
    ahead = hlc.wall_stamp(T0 + dt.timedelta(hours=3))
    assert hlc.next_stamp(T0, ahead) == ahead + 1  # a clock behind follows the one ahead by counting
    assert hlc.split(ahead + 1) == (hlc.physical_ms(T0 + dt.timedelta(hours=3)), 1)
    assert hlc.as_datetime(ahead) == T0 + dt.timedelta(hours=3)
    with pytest.raises(ValueError):
        hlc.wall_stamp(T0.replace(tzinfo=None))


@given(st.lists(st.integers(-(10**7), 10**7), min_size=1, max_size=40))
def test_stamps_strictly_increase_whatever_the_clock_does(offsets_ms: list[int]) -> None:
    last = None
    for off in offsets_ms:
        stamp = hlc.next_stamp(T0 + dt.timedelta(milliseconds=off), last)
        assert last is None or stamp > last
        assert stamp >= hlc.wall_stamp(T0 + dt.timedelta(milliseconds=off))
        last = stamp


PARTY = ev.PartyRecord(
    id="p1",
    role="applicant",
    name="阿卜杜拉·买买提",
    name_initials="abdl",
    id_number="62070219850101123X",
    phone="13912345678",
    address="甘州区",
    birth_date=dt.date(1985, 1, 1),
    sex="male",
)
VISIT = ev.VisitRecord("neighbour", "walk_in", 2, "院墙", ("group_visit",), (PARTY,))
TICKET = {
    "ticket_id": "t1",
    "room": "R01",
    "day": dt.date(2026, 12, 7),
    "number": 12,
    "label": "A012",
    "arrival_at": T0,
    "queue_key": T0 - dt.timedelta(minutes=15),
    "priority_reasons": ("elderly",),
}
SAMPLES: list[ev.EventBody] = [
    ev.Registered("620702001-2026-000001", VISIT, "tok", T0 + dt.timedelta(days=30)),
    ev.RepeatVisit(VISIT, ("repeat_visit",)),
    ev.RiskFlagged(("extreme",)),
    ev.Diverted("620702002", "620702", "属地"),
    ev.Routed("R01", "R06", "专门调解室", True, "当事人要求"),
    ev.TicketIssued(**TICKET),  # type: ignore[arg-type]
    ev.Called("t1", "R01-终端1", "老人优先"),
    ev.Recalled("t1", "R01-终端1", 2),
    ev.Parked("t1"),
    ev.Unparked("t1"),
    ev.NoShow("t1"),
    ev.Requeued("t1", T0),
    ev.Claimed("t1", None),
    ev.Transferred(**TICKET, from_ticket_id="t0", from_room="R02", reason="涉及治安"),  # type: ignore[arg-type]
    ev.Abandoned("t1"),
    ev.ServiceFinished("t1"),
    ev.DocumentPrinted("receipt", True),
    *HANDLING_SAMPLES,
]


def test_every_kind_has_a_sample_a_label_and_round_trips_its_json() -> None:
    assert {ev.kind_of(b) for b in SAMPLES} == {k.value for k in ev.EventKind}
    for body in SAMPLES:
        kind = ev.kind_of(body)
        assert ev.decode(kind, body.to_json()) == body
        assert ev.label_of(body) and not ev.label_of(body).isascii()  # a Chinese label


def test_older_payloads_without_optional_keys_still_decode() -> None:
    called = ev.decode("called", {"ticket_id": "t1"})
    assert called == ev.Called("t1", None, "")
    registered = ev.decode(
        "registered",
        {
            "case_no": "620702001-2026-000009",
            "status_token": "x",
            "category": "neighbour",
            "channel": "walk_in",
            "headcount": 1,
            "narrative": "",
            "risk_flags": [],
            "parties": [{"id": "p", "role": "applicant", "name": "张三"}],
        },
    )
    assert isinstance(registered, ev.Registered) and registered.deadline_at is None
    assert registered.visit.parties[0].birth_date is None


def test_an_unknown_kind_is_kept_and_never_folded() -> None:
    body = ev.decode("mediation_session_recorded", {"minutes": "…"})
    assert isinstance(body, ev.Unknown) and body.to_json() == {"minutes": "…"}
    e = ev.Event("e1", "620702001", 1, "c1", body, T0, "x", hlc.wall_stamp(T0))
    assert e.kind == "mediation_session_recorded"
    assert fold([e]).case is None


def _event(n: int, body: ev.EventBody, stamp: int, *, hall: str = "620702001") -> ev.Event:
    return ev.Event(f"e{n}", hall, n, "c1", body, T0 - dt.timedelta(hours=n), "x", stamp)


def test_the_fold_follows_stamps_not_wall_clocks() -> None:
    """The call is stamped after the ticket although its PC's clock said hours earlier."""
    base = hlc.wall_stamp(T0)
    log = [
        _event(1, SAMPLES[0], base),
        _event(2, SAMPLES[5], base + 1),
        _event(3, ev.Called("t1", "T"), base + 2),  # occurred_at: 3 hours "before" the registration
    ]
    state = fold(reversed(log))
    assert state.case is not None and state.tickets["t1"]["state"] == "called"
