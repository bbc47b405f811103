"""The case-handling events (issue 12), without a database: each payload round-trips its JSON, tolerates keys it
does not know and defaults the ones older writers left out; and each folds into the case's rows as designed."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from typing import Any

import pytest

from desk.core import events as ev
from desk.core import hlc
from desk.core.clock import CHINA_TZ
from desk.core.fold import CaseState, end_of_day, fold

T0 = dt.datetime(2026, 12, 7, 1, 0, tzinfo=dt.UTC)
H = dt.timedelta(hours=1)

SESSION = ev.SessionRecorded(
    session_id="s1",
    started_at=T0,
    ended_at=T0 + H,
    room="R01",
    attendees=(
        ev.Attendee("张三", "party", party_id="p1"),
        ev.Attendee("李调解", "mediator"),
        ev.Attendee("王科员", "department", department="rsj"),
    ),
    statements=(ev.Statement("张三", "要求对方清理杂物"), ev.Statement("李四", "同意三日内清理")),
    agreed="三日内清理院墙外杂物",
    terms=("李四于12月10日前清理杂物", "双方不再就此事争执"),
)
WHISTLE = ev.WhistleBlown(
    whistle_id="w1",
    departments=("rsj", "zjj"),
    matter="欠薪",
    complex=True,
    sign_by=T0 + H,
    arrive_by=T0 + 24 * H,
    report_by=T0 + 5 * 24 * H,
)
HANDLING_SAMPLES: list[ev.EventBody] = [
    SESSION,
    ev.AppointmentBooked("b1", dt.date(2026, 12, 9), "09:30", "R01", "第二次调解"),
    ev.OutcomeRecorded(
        "resolved",
        agreement_no="甘调〔2026〕12号",
        terms=("李四于12月10日前清理杂物",),
        performance="自行清理",
        performance_deadline=dt.date(2026, 12, 10),
        mediator="李调解",
    ),
    ev.TransferredOut("litigation", "甘州区人民法院", "调解不成，当事人选择诉讼"),
    ev.Withdrawn("申请人撤回"),
    ev.CaseClosed("已履行"),
    ev.FollowUpScheduled("f1", dt.date(2026, 12, 17)),
    ev.FollowedUp("f1", "phone", True, "satisfied", "协议已履行"),
    ev.CaseReopened("对方未按协议清理"),
    ev.DeadlineSet("people_mediation", dt.date(2026, 12, 7), dt.date(2027, 1, 7), "month", 1, "人民调解"),
    ev.DeadlinePaused("等待鉴定"),
    ev.DeadlineResumed(dt.date(2027, 1, 20)),
    ev.DeadlineExtended(30, "day", dt.date(2027, 2, 19), "主任", "案情复杂"),
    WHISTLE,
    ev.WhistleSigned("w1", "rsj", "赵签收"),
    ev.WhistleArrived("w1", "rsj", "钱报到", T0 + 3 * H),
    ev.WhistleReported("w1", "rsj", "已督促企业支付"),
    ev.WhistleRated("w1", "rsj", "basically"),
    ev.WarningRaised("wn1", "crisis", "serious", "心理危机：已分派心理疏导室", "R05"),
    ev.WarningAcknowledged("wn1", "值班主任"),
    ev.RiskAssessed("major", ("civil_to_criminal",), "民转刑苗头：较大"),
]


@pytest.mark.parametrize("body", HANDLING_SAMPLES, ids=ev.kind_of)
def test_a_payload_round_trips_through_stored_json(body: ev.EventBody) -> None:
    stored = json.loads(json.dumps(body.to_json(), ensure_ascii=False))  # as the log holds it
    assert ev.decode(ev.kind_of(body), stored) == body
    assert ev.label_of(body) and not ev.label_of(body).isascii()


@pytest.mark.parametrize("body", HANDLING_SAMPLES, ids=ev.kind_of)
def test_keys_a_newer_writer_added_are_ignored(body: ev.EventBody) -> None:
    stored = {**body.to_json(), "added_by_a_newer_version": {"x": [1, 2]}}
    assert ev.decode(ev.kind_of(body), stored) == body


def test_nested_records_ignore_unknown_keys_too() -> None:
    stored = SESSION.to_json()
    stored["attendees"][0]["seat"] = 3
    stored["statements"][1]["tone"] = "calm"
    assert ev.decode("session_recorded", stored) == SESSION


def test_optional_keys_left_out_take_their_defaults() -> None:
    assert ev.decode("session_recorded", {"session_id": "s", "started_at": T0.isoformat()}) == (
        ev.SessionRecorded("s", T0, None, "", (), (), "", ())
    )
    assert ev.decode("outcome_recorded", {"outcome": "not_resolved"}) == ev.OutcomeRecorded(
        "not_resolved", "", "", (), "", None, ""
    )
    attendee = ev.decode(
        "session_recorded",
        {"session_id": "s", "started_at": T0.isoformat(), "attendees": [{"name": "甲", "role": "mediator"}]},
    )
    assert isinstance(attendee, ev.SessionRecorded)
    assert attendee.attendees == (ev.Attendee("甲", "mediator", None, None),)
    # a field that may be None and has no default: None when left out
    followed = ev.decode("followed_up", {"follow_up_id": "f", "method": "visit", "satisfaction": "satisfied"})
    assert followed == ev.FollowedUp("f", "visit", None, "satisfied", "")
    assert ev.decode("risk_assessed", {}) == ev.RiskAssessed(None, (), "")
    assert ev.decode("outcome_recorded", {"outcome": "resolved", "performance_deadline": ""}) == (
        ev.OutcomeRecorded("resolved")
    )


def test_dates_and_times_are_iso_text_and_tuples_lists() -> None:
    j = WHISTLE.to_json()
    assert j["departments"] == ["rsj", "zjj"]
    assert j["sign_by"] == (T0 + H).isoformat()
    assert ev.FollowUpScheduled("f", dt.date(2026, 12, 17)).to_json() == {
        "follow_up_id": "f",
        "due_on": "2026-12-17",
    }
    assert SESSION.to_json()["attendees"][2] == {
        "name": "王科员",
        "role": "department",
        "party_id": None,
        "department": "rsj",
    }


def test_a_required_key_left_out_is_an_error_not_a_guess() -> None:
    with pytest.raises(KeyError):
        ev.decode("whistle_blown", {"whistle_id": "w"})


def test_every_new_kind_has_its_payload_type() -> None:
    handled = {ev.kind_of(b) for b in HANDLING_SAMPLES}
    assert len(handled) == len(HANDLING_SAMPLES) == 21
    for kind in handled:
        assert ev.PAYLOAD_TYPES[ev.EventKind(kind)].KIND.value == kind


# --- the fold ------------------------------------------------------------------------------------------------

VISIT = ev.VisitRecord("neighbour", "walk_in", 1, "院墙", (), (ev.PartyRecord("p1", "applicant", "张三"),))
REGISTERED = ev.Registered("620702001-2026-000001", VISIT, "tok", T0 + 30 * 24 * H)


def _fold(*bodies: ev.EventBody, start: dt.datetime = T0) -> CaseState:
    """The case registered at `start`, then these events a minute apart."""
    base = hlc.wall_stamp(start)
    log = [
        ev.Event(f"e{i}", "620702001", i + 1, "c1", b, start + i * dt.timedelta(minutes=1), "甲", base + i)
        for i, b in enumerate((REGISTERED, *bodies))
    ]
    return fold(log)


def _case(*bodies: ev.EventBody) -> dict[str, Any]:
    case = _fold(*bodies).case
    assert case is not None
    return case


def test_registration_takes_its_own_deadline_as_due_day_under_legacy() -> None:
    case = _case()
    assert case["deadline_rule"] == "legacy"
    assert case["due_on"] == (T0 + 30 * 24 * H).astimezone(CHINA_TZ).date()
    assert (case["risk_level"], case["outcome"], case["closed_at"], case["paused_at"]) == (None,) * 4
    assert case["follow_up_due_on"] is None


@pytest.mark.parametrize("outcome", ["resolved", "partly_resolved", "not_resolved", "terminated"])
def test_an_outcome_is_the_state(outcome: str) -> None:
    case = _case(ev.Claimed("t1"), ev.OutcomeRecorded(outcome, reason="x"))
    assert (case["state"], case["outcome"]) == (outcome, outcome)


@pytest.mark.parametrize(
    ("body", "state"),
    [
        (ev.TransferredOut("arbitration", "劳动仲裁委", "调解不成"), "transferred"),
        (ev.Withdrawn("撤回"), "withdrawn"),
        (ev.CaseReopened("未履行"), "in_mediation"),
    ],
)
def test_steps_that_set_the_state(body: ev.EventBody, state: str) -> None:
    assert _case(body)["state"] == state


def test_a_session_changes_only_when_the_case_was_last_worked_on() -> None:
    before = _case(ev.Claimed("t1"))
    after = _case(ev.Claimed("t1"), SESSION)
    assert after["updated_at"] > before["updated_at"]
    assert {k: v for k, v in after.items() if k != "updated_at"} == {
        k: v for k, v in before.items() if k != "updated_at"
    }


def test_closure_follow_up_and_reopening() -> None:
    closed = _case(ev.OutcomeRecorded("resolved"), ev.CaseClosed("办结"))
    assert closed["state"] == "closed"
    assert closed["closed_at"] == T0 + dt.timedelta(minutes=2)
    assert closed["outcome"] == "resolved"
    scheduled = _case(
        ev.OutcomeRecorded("resolved"), ev.CaseClosed(), ev.FollowUpScheduled("f1", dt.date(2026, 12, 14))
    )
    assert scheduled["follow_up_due_on"] == dt.date(2026, 12, 14)
    assert scheduled["state"] == "closed"
    followed = _case(
        ev.OutcomeRecorded("resolved"),
        ev.CaseClosed(),
        ev.FollowUpScheduled("f1", dt.date(2026, 12, 14)),
        ev.FollowedUp("f1", "phone", False, "dissatisfied"),
    )
    assert (followed["state"], followed["follow_up_due_on"]) == ("followed_up", None)
    reopened = _case(
        ev.OutcomeRecorded("resolved"),
        ev.CaseClosed(),
        ev.FollowUpScheduled("f1", dt.date(2026, 12, 14)),
        ev.FollowedUp("f1", "phone", False, "dissatisfied"),
        ev.CaseReopened("对方未履行"),
    )
    assert reopened["state"] == "in_mediation"
    assert (reopened["outcome"], reopened["closed_at"], reopened["follow_up_due_on"]) == (None, None, None)


def test_the_deadline_set_paused_resumed_and_extended() -> None:
    rule = ev.DeadlineSet("people_mediation", dt.date(2026, 12, 7), dt.date(2027, 1, 7), "month", 1)
    case = _case(rule)
    assert (case["deadline_rule"], case["due_on"], case["paused_at"]) == (
        "people_mediation",
        dt.date(2027, 1, 7),
        None,
    )
    # the end of the due day in China time, as aware UTC: 2027-01-07 23:59:59 +08:00
    assert case["deadline_at"] == dt.datetime(2027, 1, 7, 15, 59, 59, tzinfo=dt.UTC)
    assert case["deadline_at"] == end_of_day(dt.date(2027, 1, 7))
    paused = _case(rule, ev.DeadlinePaused("等待鉴定"))
    assert paused["paused_at"] == T0 + dt.timedelta(minutes=2)
    assert paused["due_on"] == dt.date(2027, 1, 7)
    resumed = _case(rule, ev.DeadlinePaused("等待鉴定"), ev.DeadlineResumed(dt.date(2027, 1, 21)))
    assert (resumed["paused_at"], resumed["due_on"]) == (None, dt.date(2027, 1, 21))
    assert resumed["deadline_at"] == end_of_day(dt.date(2027, 1, 21))
    assert resumed["deadline_rule"] == "people_mediation"
    extended = _case(rule, ev.DeadlineExtended(30, "day", dt.date(2027, 2, 8), "主任", "复杂"))
    assert (extended["due_on"], extended["deadline_at"]) == (
        dt.date(2027, 2, 8),
        end_of_day(dt.date(2027, 2, 8)),
    )
    # extended while paused: still paused, with the new due day
    both = _case(
        rule, ev.DeadlinePaused("鉴定"), ev.DeadlineExtended(30, "day", dt.date(2027, 2, 8), "主任", "复杂")
    )
    assert both["paused_at"] is not None and both["due_on"] == dt.date(2027, 2, 8)


def test_a_whistle_is_a_row_per_department_with_its_answers() -> None:
    state = _fold(
        WHISTLE,
        ev.WhistleSigned("w1", "rsj", "赵"),
        ev.WhistleArrived("w1", "rsj", "钱", T0 + 3 * H),
        ev.WhistleReported("w1", "rsj", "已处理"),
        ev.WhistleRated("w1", "rsj", "satisfied"),
        ev.WhistleSigned("w1", "unknown-dept", "孙"),  # not summoned: nothing to fold onto
    )
    assert set(state.whistles) == {"w1:rsj", "w1:zjj"}
    rsj, zjj = state.whistles["w1:rsj"], state.whistles["w1:zjj"]
    minute = dt.timedelta(minutes=1)
    assert rsj == {
        "id": "w1:rsj",
        "whistle_id": "w1",
        "case_id": "c1",
        "hall_code": "620702001",
        "department": "rsj",
        "matter": "欠薪",
        "complex": True,
        "blown_at": T0 + minute,
        "sign_by": T0 + H,
        "arrive_by": T0 + 24 * H,
        "report_by": T0 + 5 * 24 * H,
        "signed_at": T0 + 2 * minute,
        "signed_by": "赵",
        "arrived_at": T0 + 3 * H,
        "arrived_by": "钱",
        "reported_at": T0 + 4 * minute,
        "result": "已处理",
        "rating": "satisfied",
    }
    assert (zjj["signed_at"], zjj["arrived_at"], zjj["reported_at"], zjj["rating"]) == (None,) * 4


def test_warnings_are_rows_the_first_acknowledgement_counts() -> None:
    state = _fold(
        ev.WarningRaised("wn1", "deadline", "general", "期限已过60%", "60"),
        ev.WarningAcknowledged("wn1", "甲"),
        ev.WarningAcknowledged("wn1", "乙"),
        ev.WarningAcknowledged("missing", "丙"),
    )
    assert state.warnings == {
        "wn1": {
            "id": "wn1",
            "case_id": "c1",
            "hall_code": "620702001",
            "kind": "deadline",
            "level": "general",
            "message": "期限已过60%",
            "ref": "60",
            "raised_at": T0 + dt.timedelta(minutes=1),
            "acknowledged_at": T0 + dt.timedelta(minutes=2),
            "acknowledged_by": "甲",
        }
    }


def test_a_booking_is_a_row() -> None:
    state = _fold(ev.AppointmentBooked("b1", dt.date(2026, 12, 9), "09:30", "R01", "第二次"))
    assert state.bookings == {
        "b1": {
            "id": "b1",
            "case_id": "c1",
            "hall_code": "620702001",
            "day": dt.date(2026, 12, 9),
            "time": "09:30",
            "room": "R01",
            "note": "第二次",
            "booked_at": T0 + dt.timedelta(minutes=1),
        }
    }


def test_the_risk_level_is_what_was_assessed_last() -> None:
    assert _case(ev.RiskAssessed("serious", ("psychological_crisis",), "心理危机"))["risk_level"] == "serious"
    assert _case(ev.RiskAssessed("serious"), ev.RiskAssessed(None))["risk_level"] is None


def test_the_fold_applies_what_was_written_without_judging_it() -> None:
    """Closing a case nobody claimed is refused by the service; a log that has it folds as written."""
    assert _case(ev.CaseClosed())["state"] == "closed"


def test_events_without_their_case_change_nothing() -> None:
    base = hlc.wall_stamp(T0)
    log = [
        ev.Event(f"e{i}", "620702001", i + 1, "c1", b, T0, "甲", base + i)
        for i, b in enumerate(HANDLING_SAMPLES)
    ]
    state = fold(log)
    assert state == CaseState()


def test_payloads_are_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        SESSION.room = "R02"  # type: ignore[misc]
