"""The case's state machine: every state × every step, against a table written here by hand."""

from __future__ import annotations

import itertools
import re

import pytest

from desk.core.cases import CaseState
from desk.core.lifecycle import (
    REFUSALS,
    START,
    TRANSITIONS,
    FinishChoice,
    Step,
    advance,
    allowed_steps,
    finish_choices,
)
from desk.errors import DeskError, Refused

# The expected table, written out in full (not derived from desk.core.lifecycle): for each state, every allowed
# step and the state it leads to. Every step not listed is refused.
S = CaseState
_SAME = object()  # the step leaves the state as it is
_OPEN_EXTRAS = {
    "whistle": _SAME,
    "withdraw": S.WITHDRAWN,
    "pause": _SAME,
    "resume": _SAME,
    "extend": _SAME,
}
EXPECTED: dict[CaseState, dict[str, object]] = {
    S.REGISTERED: {
        "divert": S.DIVERTED,
        "ticket": S.WAITING,
        "transfer_out": S.TRANSFERRED,
        **_OPEN_EXTRAS,
    },
    S.DIVERTED: {
        "divert": S.DIVERTED,
        "ticket": S.WAITING,
        "transfer_out": S.TRANSFERRED,
        **_OPEN_EXTRAS,
    },
    S.WAITING: {
        "divert": S.DIVERTED,
        "ticket": S.WAITING,
        "claim": S.IN_MEDIATION,
        "transfer_out": S.TRANSFERRED,
        **_OPEN_EXTRAS,
    },
    S.IN_MEDIATION: {
        "divert": S.DIVERTED,
        "ticket": S.WAITING,
        "finish_reception": _SAME,
        "record_session": _SAME,
        "book": _SAME,
        "record_outcome_resolved": S.RESOLVED,
        "record_outcome_partly": S.PARTLY_RESOLVED,
        "record_outcome_not_resolved": S.NOT_RESOLVED,
        "transfer_out": S.TRANSFERRED,
        "terminate": S.TERMINATED,
        **_OPEN_EXTRAS,
    },
    S.RESOLVED: {"finish_reception": _SAME, "close": S.CLOSED, **_OPEN_EXTRAS},
    S.PARTLY_RESOLVED: {
        "finish_reception": _SAME,
        "close": S.CLOSED,
        "transfer_out": S.TRANSFERRED,
        **_OPEN_EXTRAS,
    },
    S.NOT_RESOLVED: {
        "finish_reception": _SAME,
        "close": S.CLOSED,
        "transfer_out": S.TRANSFERRED,
        **_OPEN_EXTRAS,
    },
    S.TRANSFERRED: {"finish_reception": _SAME, "follow_up": _SAME},
    S.CLOSED: {"finish_reception": _SAME, "follow_up": S.FOLLOWED_UP, "reopen": S.IN_MEDIATION},
    S.FOLLOWED_UP: {"follow_up": _SAME, "reopen": S.IN_MEDIATION},
    S.WITHDRAWN: {"finish_reception": _SAME},
    S.TERMINATED: {"finish_reception": _SAME},
}

ALL_PAIRS = list(itertools.product(CaseState, Step))
CJK = re.compile(r"[\u4e00-\u9fff]")


def test_the_expected_table_names_every_state_and_only_real_steps() -> None:
    assert set(EXPECTED) == set(CaseState)
    step_values = {s.value for s in Step}
    for allowed in EXPECTED.values():
        assert set(allowed) <= step_values


@pytest.mark.parametrize(("state", "step"), ALL_PAIRS, ids=[f"{s.value}-{t.value}" for s, t in ALL_PAIRS])
def test_every_state_and_step(state: CaseState, step: Step) -> None:
    expected = EXPECTED[state].get(step.value)
    if expected is None:
        with pytest.raises(Refused) as refused:
            advance(state, step)
        message = refused.value.message
        assert message and CJK.search(message) and message == str(refused.value)
        assert step not in allowed_steps(state)
    else:
        target = state if expected is _SAME else expected
        assert advance(state, step) is target
        assert advance(state.value, step) is target  # the stored string works the same
        assert step in allowed_steps(state)


def test_table_and_refusals_cover_every_pair_once() -> None:
    assert set(TRANSITIONS) | set(REFUSALS) == set(ALL_PAIRS)
    assert not set(TRANSITIONS) & set(REFUSALS)


def test_the_three_refusals_the_issue_names() -> None:
    for unclaimed in (S.REGISTERED, S.DIVERTED, S.WAITING):
        with pytest.raises(Refused, match="^案件尚无人认领，不能办结$"):
            advance(unclaimed, Step.CLOSE)
    for open_state in (s for s in CaseState if s.is_open):
        with pytest.raises(Refused, match="^案件尚未办结，不能回访$"):
            advance(open_state, Step.FOLLOW_UP)
    with pytest.raises(Refused, match="^案件已办结，不能再记录调解笔录$"):
        advance(S.CLOSED, Step.RECORD_SESSION)


def test_refusals_say_what_was_refused_and_what_to_do() -> None:
    assert REFUSALS[S.IN_MEDIATION, Step.CLOSE] == "案件尚未记录调解结果，不能办结"
    assert REFUSALS[S.RESOLVED, Step.TRANSFER_OUT] == "案件已化解，无需转办；请办结"
    assert REFUSALS[S.NOT_RESOLVED, Step.RECORD_SESSION] == (
        "案件已记录调解结果（未化解），不能再记录调解笔录；请办结或转办"
    )
    assert REFUSALS[S.WITHDRAWN, Step.WITHDRAW] == "案件已撤回，不能重复撤回"
    assert REFUSALS[S.TRANSFERRED, Step.CLOSE] == "案件已转办，转办即本中心办结，无需再办结"
    assert "撤回" in REFUSALS[S.WAITING, Step.TERMINATE]  # points to the step that fits
    assert "重复访" in REFUSALS[S.IN_MEDIATION, Step.REGISTER]


def test_refusals_carry_nothing_but_the_states_label() -> None:
    """A refusal names no case, party or person: it is built from the state and the step alone."""
    assert all("{" not in m and "}" not in m for m in REFUSALS.values())


def test_refused_is_a_desk_error_and_an_unknown_state_is_refused_not_crashed() -> None:
    assert issubclass(Refused, DeskError)
    with pytest.raises(Refused, match="不认识"):
        advance("archived_by_a_newer_version", Step.CLOSE)
    assert allowed_steps("archived_by_a_newer_version") == ()


def test_open_states_are_exactly_those_that_can_be_withdrawn() -> None:
    assert {s for s in CaseState if s.is_open} == {s for s in CaseState if Step.WITHDRAW in allowed_steps(s)}
    assert not S.TRANSFERRED.is_open and S.RESOLVED.is_open and S.NOT_RESOLVED.is_open


def test_a_whole_case_from_registration_to_follow_up() -> None:
    state = START
    for step in (
        Step.TICKET,
        Step.CLAIM,
        Step.RECORD_SESSION,
        Step.BOOK,
        Step.FINISH_RECEPTION,
        Step.TICKET,
        Step.CLAIM,
        Step.RECORD_SESSION,
        Step.RECORD_OUTCOME_RESOLVED,
        Step.FINISH_RECEPTION,
        Step.CLOSE,
        Step.FOLLOW_UP,
        Step.REOPEN,
    ):
        state = advance(state, step)
    assert state is S.IN_MEDIATION  # the agreement was not performed: mediation again


def test_finishing_a_reception_never_closes_the_case() -> None:
    assert all(
        advance(s, Step.FINISH_RECEPTION) is s for s in CaseState if Step.FINISH_RECEPTION in allowed_steps(s)
    )
    assert finish_choices(S.IN_MEDIATION) == (
        FinishChoice.BOOKED,
        FinishChoice.OUTCOME,
        FinishChoice.TRANSFER,
    )
    assert finish_choices(S.NOT_RESOLVED) == (FinishChoice.TRANSFER,)
    assert finish_choices(S.RESOLVED) == ()
    assert [c.label for c in FinishChoice] == ["已预约下次调解", "记录调解结果", "转办"]
    assert FinishChoice.OUTCOME.steps == (
        Step.RECORD_OUTCOME_RESOLVED,
        Step.RECORD_OUTCOME_PARTLY,
        Step.RECORD_OUTCOME_NOT_RESOLVED,
    )


def test_every_state_and_step_has_a_chinese_label() -> None:
    assert all(CJK.search(s.label) for s in CaseState)
    assert all(CJK.search(s.label) for s in Step)
    assert [S(v).label for v in ("partly_resolved", "not_resolved", "withdrawn", "terminated")] == [
        "部分化解",
        "未化解",
        "已撤回",
        "已终止",
    ]
