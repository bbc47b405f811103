"""The case's state machine: the steps of handling a case, the one table of allowed steps, and why any other
step is refused.

Every service that changes a case's state asks `advance(state, step)` first; a refused step raises
`desk.errors.Refused` with the reason in Chinese, and nothing is written. The table is the whole truth:
`TRANSITIONS` lists every allowed (state, step) pair with the state it leads to (a step that does not change
the state maps to the state itself); every other pair is refused, with the reason `refusal(state, step)` gives.

Decisions the table makes (docs/ARCHITECTURE.md, "Case lifecycle"):
- `register` creates a case in `REGISTERED` (`START`); on an existing case it is refused.
- An outcome (resolved, partly resolved, not resolved) keeps the case open until it is closed (办结); no further
  session, ticket or claim is recorded after it. An agreement that is not performed reopens a closed case.
- A transferred case (转办, to a court, a department, ...) is finished for this hall: it is not closed again,
  it can be followed up (the state stays `TRANSFERRED`, so the status page keeps saying where it went).
- Transfer out is allowed before any outcome too (分流转办: a matter for the court or the petition office can be
  sent on from the desk or the room), and from partly resolved and not resolved; not from resolved.
- Withdrawal: any open state. Termination: only while in mediation.
- Finishing a reception (结束接待) ends the ticket, never the case; it is allowed wherever a reception can be
  under way: in mediation, or just after an outcome, a transfer, a withdrawal, a termination or a closure
  recorded during that reception.
- Deadline steps (pause, resume, extend) and whistles are allowed in every open state. Whether the clock is
  already paused is not a state: the service checks it.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType

from desk.core.cases import CaseState
from desk.errors import Refused


class Step(StrEnum):
    REGISTER = "register"
    DIVERT = "divert"
    TICKET = "ticket"  # routed to a room and a ticket issued
    CLAIM = "claim"
    FINISH_RECEPTION = "finish_reception"
    RECORD_SESSION = "record_session"
    BOOK = "book"
    WHISTLE = "whistle"
    RECORD_OUTCOME_RESOLVED = "record_outcome_resolved"
    RECORD_OUTCOME_PARTLY = "record_outcome_partly"
    RECORD_OUTCOME_NOT_RESOLVED = "record_outcome_not_resolved"
    TRANSFER_OUT = "transfer_out"
    WITHDRAW = "withdraw"
    TERMINATE = "terminate"
    CLOSE = "close"
    FOLLOW_UP = "follow_up"
    REOPEN = "reopen"  # the agreement was not performed
    PAUSE = "pause"
    RESUME = "resume"
    EXTEND = "extend"

    @property
    def label(self) -> str:
        return STEP_LABELS[self]


STEP_LABELS: Mapping[Step, str] = {
    Step.REGISTER: "登记受理",
    Step.DIVERT: "上级分流",
    Step.TICKET: "取号",
    Step.CLAIM: "接待",
    Step.FINISH_RECEPTION: "结束接待",
    Step.RECORD_SESSION: "调解笔录",
    Step.BOOK: "预约",
    Step.WHISTLE: "吹哨",
    Step.RECORD_OUTCOME_RESOLVED: "调解成功",
    Step.RECORD_OUTCOME_PARTLY: "部分达成",
    Step.RECORD_OUTCOME_NOT_RESOLVED: "调解不成",
    Step.TRANSFER_OUT: "转办",
    Step.WITHDRAW: "撤回",
    Step.TERMINATE: "终止调解",
    Step.CLOSE: "办结",
    Step.FOLLOW_UP: "回访",
    Step.REOPEN: "重新调解",
    Step.PAUSE: "期限中止",
    Step.RESUME: "期限恢复",
    Step.EXTEND: "期限延长",
}

# What a refusal says one cannot do ("不能再{verb}").
_VERBS: Mapping[Step, str] = {
    Step.REGISTER: "登记",
    Step.DIVERT: "分流",
    Step.TICKET: "取号",
    Step.CLAIM: "接待",
    Step.FINISH_RECEPTION: "结束接待",
    Step.RECORD_SESSION: "记录调解笔录",
    Step.BOOK: "预约调解",
    Step.WHISTLE: "吹哨",
    Step.RECORD_OUTCOME_RESOLVED: "记录调解结果",
    Step.RECORD_OUTCOME_PARTLY: "记录调解结果",
    Step.RECORD_OUTCOME_NOT_RESOLVED: "记录调解结果",
    Step.TRANSFER_OUT: "转办",
    Step.WITHDRAW: "撤回",
    Step.TERMINATE: "终止调解",
    Step.CLOSE: "办结",
    Step.FOLLOW_UP: "回访",
    Step.REOPEN: "重新调解",
    Step.PAUSE: "中止期限",
    Step.RESUME: "恢复期限",
    Step.EXTEND: "延长期限",
}

START = CaseState.REGISTERED  # the state `register` creates a case in

_S = CaseState
_OPEN = tuple(s for s in CaseState if s.is_open)
_BEFORE_CLAIM = (_S.REGISTERED, _S.DIVERTED, _S.WAITING)
_OUTCOMES = (_S.RESOLVED, _S.PARTLY_RESOLVED, _S.NOT_RESOLVED)
_OUTCOME_OF = {
    Step.RECORD_OUTCOME_RESOLVED: _S.RESOLVED,
    Step.RECORD_OUTCOME_PARTLY: _S.PARTLY_RESOLVED,
    Step.RECORD_OUTCOME_NOT_RESOLVED: _S.NOT_RESOLVED,
}


def _table() -> dict[tuple[CaseState, Step], CaseState]:
    t: dict[tuple[CaseState, Step], CaseState] = {}
    for s in (_S.REGISTERED, _S.DIVERTED, _S.WAITING, _S.IN_MEDIATION):
        t[s, Step.DIVERT] = _S.DIVERTED
    # A waiting case may be ticketed again (after a no-show); one in mediation for its next session.
    for s in (_S.REGISTERED, _S.DIVERTED, _S.WAITING, _S.IN_MEDIATION):
        t[s, Step.TICKET] = _S.WAITING
    t[_S.WAITING, Step.CLAIM] = _S.IN_MEDIATION
    for s in (
        _S.IN_MEDIATION,
        *_OUTCOMES,
        _S.TRANSFERRED,
        _S.WITHDRAWN,
        _S.TERMINATED,
        _S.CLOSED,
    ):
        t[s, Step.FINISH_RECEPTION] = s
    for step in (Step.RECORD_SESSION, Step.BOOK):
        t[_S.IN_MEDIATION, step] = _S.IN_MEDIATION
    for step, outcome in _OUTCOME_OF.items():
        t[_S.IN_MEDIATION, step] = outcome
    for s in (*_BEFORE_CLAIM, _S.IN_MEDIATION, _S.PARTLY_RESOLVED, _S.NOT_RESOLVED):
        t[s, Step.TRANSFER_OUT] = _S.TRANSFERRED
    t[_S.IN_MEDIATION, Step.TERMINATE] = _S.TERMINATED
    for s in _OUTCOMES:
        t[s, Step.CLOSE] = _S.CLOSED
    t[_S.CLOSED, Step.FOLLOW_UP] = _S.FOLLOWED_UP
    t[_S.FOLLOWED_UP, Step.FOLLOW_UP] = _S.FOLLOWED_UP  # a second visit, e.g. after the performance date
    t[_S.TRANSFERRED, Step.FOLLOW_UP] = _S.TRANSFERRED  # keeps saying where it went
    for s in (_S.CLOSED, _S.FOLLOWED_UP):
        t[s, Step.REOPEN] = _S.IN_MEDIATION
    for s in _OPEN:
        t[s, Step.WITHDRAW] = _S.WITHDRAWN
        for step in (Step.WHISTLE, Step.PAUSE, Step.RESUME, Step.EXTEND):
            t[s, step] = s
    return t


TRANSITIONS: Mapping[tuple[CaseState, Step], CaseState] = MappingProxyType(_table())

# How a finished case is described in a refusal.
_DONE_PHRASE = {
    _S.CLOSED: "案件已办结",
    _S.FOLLOWED_UP: "案件已办结并已回访",
    _S.TRANSFERRED: "案件已转办",
    _S.WITHDRAWN: "案件已撤回",
    _S.TERMINATED: "案件已终止调解",
}
_AFTER_OUTCOME = {
    _S.RESOLVED: "请办结",
    _S.PARTLY_RESOLVED: "请办结或转办",
    _S.NOT_RESOLVED: "请办结或转办",
}
_SAME_AGAIN = {Step.TRANSFER_OUT: _S.TRANSFERRED, Step.WITHDRAW: _S.WITHDRAWN, Step.TERMINATE: _S.TERMINATED}
_NEEDS_CLAIM = frozenset(
    {
        Step.FINISH_RECEPTION,
        Step.RECORD_SESSION,
        Step.BOOK,
        Step.TERMINATE,
        *_OUTCOME_OF,
    }
)


def refusal(state: CaseState, step: Step) -> str:
    """Why `step` is refused in `state` (the pair must not be in `TRANSITIONS`)."""
    if (state, step) in TRANSITIONS:
        raise ValueError(f"{state.value} --{step.value}--> is allowed")
    verb = _VERBS[step]
    if step is Step.REGISTER:
        return f"案件已登记（{state.label}），不能重复登记；同一事项再次来访请记为重复访"
    if state.is_open:
        if step is Step.CLOSE and state in _BEFORE_CLAIM:
            return "案件尚无人认领，不能办结"
        if step is Step.CLOSE:
            return "案件尚未记录调解结果，不能办结"
        if step is Step.FOLLOW_UP:
            return "案件尚未办结，不能回访"
        if step is Step.REOPEN:
            return "案件尚未办结，无需重新调解"
        if state in _OUTCOMES:
            if step is Step.TRANSFER_OUT:
                return f"案件{state.label}，无需转办；{_AFTER_OUTCOME[state]}"
            return f"案件已记录调解结果（{state.label}），不能再{verb}；{_AFTER_OUTCOME[state]}"
        if state is _S.IN_MEDIATION and step is Step.CLAIM:
            return "案件正在调解中，没有待接待的排队号；下次调解请先取号"
        if step is Step.CLAIM:
            return "案件尚未取号排队，不能接待"
        if step is Step.TERMINATE:
            return "案件尚未接待，不能终止调解；申请人不再要求调解的，请记为撤回"
        if step in _NEEDS_CLAIM:
            return f"案件尚未接待，不能{verb}"
        raise AssertionError(f"no refusal for {state.value} --{step.value}-->")  # pragma: no cover
    done = _DONE_PHRASE[state]
    if step is Step.CLOSE:
        if state is _S.TRANSFERRED:
            return "案件已转办，转办即本中心办结，无需再办结"
        if state in (_S.WITHDRAWN, _S.TERMINATED):
            return f"{done}，无需办结"
        return f"{done}，不能重复办结"
    if step is Step.FOLLOW_UP:
        return f"{done}，无需回访"
    if step is Step.REOPEN:
        if state is _S.TRANSFERRED:
            return "案件已转办，由承办单位办理，不能在本中心重新调解"
        return f"{done}，不能重新调解；如有新的问题，请重新登记"
    if step is Step.FINISH_RECEPTION:
        return f"{done}，没有进行中的接待"
    if _SAME_AGAIN.get(step) is state:
        return f"{done}，不能重复{verb}"
    return f"{done}，不能再{verb}"


REFUSALS: Mapping[tuple[CaseState, Step], str] = MappingProxyType(
    {(s, step): refusal(s, step) for s in CaseState for step in Step if (s, step) not in TRANSITIONS}
)


def _state_of(state: CaseState | str) -> CaseState:
    try:
        return CaseState(state)
    except ValueError:
        raise Refused(f"案件状态“{state}”本软件不认识（可能由较新版本写入），不能办理；请升级软件") from None


def advance(state: CaseState | str, step: Step) -> CaseState:
    """The state `step` leads to from `state`, or `Refused` with the reason."""
    s = _state_of(state)
    try:
        return TRANSITIONS[s, step]
    except KeyError:
        raise Refused(REFUSALS[s, step]) from None


def allowed_steps(state: CaseState | str) -> tuple[Step, ...]:
    """The steps allowed now, in `Step`'s order (what the case view offers); none for an unknown state."""
    try:
        s = CaseState(state)
    except ValueError:
        return ()
    return tuple(step for step in Step if (s, step) in TRANSITIONS)


class FinishChoice(StrEnum):
    """What happened in a reception that is being finished (结束接待 asks; it never closes the case)."""

    BOOKED = "booked"  # another session booked (预约办)
    OUTCOME = "outcome"  # an outcome to record
    TRANSFER = "transfer"  # the case goes out (转办)

    @property
    def label(self) -> str:
        return FINISH_LABELS[self]

    @property
    def steps(self) -> tuple[Step, ...]:
        """The steps the choice leads to (the form the desk opens next)."""
        return FINISH_STEPS[self]


FINISH_LABELS: Mapping[FinishChoice, str] = {
    FinishChoice.BOOKED: "已预约下次调解",
    FinishChoice.OUTCOME: "记录调解结果",
    FinishChoice.TRANSFER: "转办",
}
FINISH_STEPS: Mapping[FinishChoice, tuple[Step, ...]] = {
    FinishChoice.BOOKED: (Step.BOOK,),
    FinishChoice.OUTCOME: tuple(_OUTCOME_OF),
    FinishChoice.TRANSFER: (Step.TRANSFER_OUT,),
}


def finish_choices(state: CaseState | str) -> tuple[FinishChoice, ...]:
    """The choices 结束接待 offers in `state`: those whose steps are allowed now."""
    allowed = set(allowed_steps(state))
    return tuple(c for c in FinishChoice if allowed.intersection(c.steps))
