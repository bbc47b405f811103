"""A case and the visit that opens it: channels, states, risk flags, and checking a visit as a whole."""

from __future__ import annotations

import datetime as dt
import enum
import math
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from desk.core import text
from desk.core.catalog import Category
from desk.core.parties import Party, PartyRole, parse_party
from desk.errors import FieldProblem, ValidationError

NARRATIVE_MAX = 2000
HEADCOUNT_MAX = 9999
GROUP_VISIT_HEADCOUNT = 5  # 集体访: five or more people


class Channel(enum.StrEnum):
    WALK_IN = "walk_in"
    HOTLINE_12345 = "hotline_12345"
    GRID = "grid"
    POLICE = "police"
    PETITION = "petition"
    COURT_PRE_LITIGATION = "court_pre_litigation"
    DIVERTED = "diverted"

    @property
    def label(self) -> str:
        return CHANNEL_LABELS[self]


CHANNEL_LABELS = {
    Channel.WALK_IN: "来访",
    Channel.HOTLINE_12345: "12345热线",
    Channel.GRID: "网格",
    Channel.POLICE: "警情",
    Channel.PETITION: "信访",
    Channel.COURT_PRE_LITIGATION: "诉前调解",
    Channel.DIVERTED: "上级分流",
}


class RiskFlag(enum.StrEnum):
    GROUP_VISIT = "group_visit"
    REPEAT_VISIT = "repeat_visit"
    CIVIL_TO_CRIMINAL = "civil_to_criminal"
    EXTREME_BEHAVIOUR = "extreme_behaviour"
    PSYCHOLOGICAL_CRISIS = "psychological_crisis"

    @property
    def label(self) -> str:
        return RISK_LABELS[self]


RISK_LABELS = {
    RiskFlag.GROUP_VISIT: "集体访",
    RiskFlag.REPEAT_VISIT: "重复访",
    RiskFlag.CIVIL_TO_CRIMINAL: "民转刑苗头",
    RiskFlag.EXTREME_BEHAVIOUR: "极端行为倾向",
    RiskFlag.PSYCHOLOGICAL_CRISIS: "心理危机",
}
# Flags the desk sets by hand; the others follow from the facts (headcount, earlier visits).
MANUAL_RISK_FLAGS = (RiskFlag.CIVIL_TO_CRIMINAL, RiskFlag.EXTREME_BEHAVIOUR, RiskFlag.PSYCHOLOGICAL_CRISIS)


class CaseState(enum.StrEnum):
    REGISTERED = "registered"
    DIVERTED = "diverted"  # 上级分流: sent down to a hall, which routes it to a room
    WAITING = "waiting"
    IN_MEDIATION = "in_mediation"
    TRANSFERRED = "transferred"  # 转办: transferred OUT of the hall (to a court, a department, ...)
    RESOLVED = "resolved"
    PARTLY_RESOLVED = "partly_resolved"
    NOT_RESOLVED = "not_resolved"
    CLOSED = "closed"
    FOLLOWED_UP = "followed_up"
    WITHDRAWN = "withdrawn"
    TERMINATED = "terminated"

    @property
    def label(self) -> str:
        return STATE_LABELS[self]

    @property
    def is_open(self) -> bool:
        """Still the hall's to handle. An outcome (resolved, partly, not resolved) leaves the case open until it
        is closed (办结); a transferred case is finished for this hall."""
        return self not in DONE_STATES


STATE_LABELS = {
    CaseState.REGISTERED: "已受理",
    CaseState.DIVERTED: "已分流",
    CaseState.WAITING: "排队中",
    CaseState.IN_MEDIATION: "调解中",
    CaseState.TRANSFERRED: "已转办",
    CaseState.RESOLVED: "已化解",
    CaseState.PARTLY_RESOLVED: "部分化解",
    CaseState.NOT_RESOLVED: "未化解",
    CaseState.CLOSED: "已办结",
    CaseState.FOLLOWED_UP: "已回访",
    CaseState.WITHDRAWN: "已撤回",
    CaseState.TERMINATED: "已终止",
}
# The states in which the hall has nothing more to do on the case (follow-up aside).
DONE_STATES = frozenset(
    {
        CaseState.CLOSED,
        CaseState.FOLLOWED_UP,
        CaseState.WITHDRAWN,
        CaseState.TERMINATED,
        CaseState.TRANSFERRED,
    }
)


@dataclass(frozen=True)
class Visit:
    """A checked visit, ready to register: every field valid, names and numbers normalised."""

    category: Category
    channel: Channel
    headcount: int
    narrative: str
    parties: tuple[Party, ...]
    risk_flags: frozenset[RiskFlag]

    @property
    def applicant(self) -> Party:
        return next(p for p in self.parties if p.role is PartyRole.APPLICANT)

    @property
    def warnings(self) -> tuple[str, ...]:
        return tuple(w for p in self.parties for w in p.warnings)


def parse_narrative(raw: str, *, field_name: str = "narrative") -> str:
    s = raw.replace("\r\n", "\n").replace("\r", "\n")
    # Emoji sequences keep their joiners: nobody searches a narrative, and 👨‍👩‍👧 should stay one picture.
    s = text.clean(
        s, what="纠纷事由", field_name=field_name, allow_line_breaks=True, keep_joiners=True
    ).strip()
    if not s:
        raise ValidationError.single(field_name, "请填写纠纷事由")
    n = text.length(s)
    if n > NARRATIVE_MAX:
        raise ValidationError.single(
            field_name, f"纠纷事由最多{NARRATIVE_MAX}字，现为{n}字，请精简{n - NARRATIVE_MAX}字"
        )
    return s


def parse_headcount(raw: object, *, field_name: str = "headcount") -> int:
    """An integer, or (as a text box gives it) a string of digits, full-width ones included; absent is 1.
    A JSON number with a zero fraction (`3.0`) is an integer, as in JSON Schema."""

    def refuse(msg: str) -> ValidationError:
        return ValidationError.single(field_name, msg)

    if raw is None:
        return 1
    if isinstance(raw, str):
        s = unicodedata.normalize("NFKC", raw).strip()
        if not s:
            return 1
        if not re.fullmatch(r"[0-9]+", s):
            raise refuse("来访人数须为整数")
        if len(s) > len(str(HEADCOUNT_MAX)):
            raise refuse(f"来访人数不能超过{HEADCOUNT_MAX}")
        n = int(s)
    elif isinstance(raw, bool) or not isinstance(raw, int | float):
        raise refuse(f"来访人数须为整数，现为{text.value_kind(raw)}")
    elif isinstance(raw, float):
        if not math.isfinite(raw) or not raw.is_integer():
            raise refuse("来访人数须为整数")
        n = int(raw)
    else:
        n = raw
    if n < 1:
        raise refuse("来访人数至少为1")
    if n > HEADCOUNT_MAX:
        raise refuse(f"来访人数不能超过{HEADCOUNT_MAX}")
    return n


# The keys of a visit in visit JSON (`desk register --file`); others are ignored with a warning.
VISIT_KEYS = frozenset({"category", "channel", "headcount", "narrative", "risk_flags", "parties"})


def parse_visit(data: Mapping[str, object], *, categories: Sequence[Category], today: dt.date) -> Visit:
    """Check a whole visit (the form's fields, `desk register`'s JSON, any import); report every problem at
    once. Each field must have its JSON type: a number or a list where text is expected is refused, never
    turned into text."""
    if not isinstance(data, Mapping):
        raise ValidationError.single("visit", f"来访应为一个对象 {{...}}，现为{text.value_kind(data)}")
    problems: list[FieldProblem] = []

    def get(key: str, what: str) -> str | None:
        try:
            return text.as_text(data.get(key), what=what, field_name=key)
        except ValidationError as e:
            problems.extend(e.problems)
            return None

    category = None
    cat_raw = get("category", "纠纷类别")
    if cat_raw is not None:
        cat_key = text.lookup_key(cat_raw)
        category = next((c for c in categories if cat_key in (c.name, c.code, *c.aliases)), None)
        if not cat_key:
            problems.append(FieldProblem("category", "请选择纠纷类别"))
        elif category is None:
            problems.append(
                FieldProblem("category", f"纠纷类别“{text.shown(cat_raw.strip())}”不在类别目录中")
            )

    channel = None
    ch_raw = get("channel", "来源渠道")
    if ch_raw is not None:
        ch_key = text.lookup_key(ch_raw) or Channel.WALK_IN.value
        by_label = {v: k for k, v in CHANNEL_LABELS.items()}
        channel = by_label.get(ch_key)
        if channel is None:
            try:
                channel = Channel(ch_key)
            except ValueError:
                problems.append(FieldProblem("channel", f"来源渠道“{text.shown(ch_raw.strip())}”无效"))

    headcount = 1
    try:
        headcount = parse_headcount(data.get("headcount"))
    except ValidationError as e:
        problems += e.problems

    narrative = ""
    raw_narrative = get("narrative", "纠纷事由")
    if raw_narrative is not None:
        try:
            narrative = parse_narrative(raw_narrative)
        except ValidationError as e:
            problems += e.problems

    flags: set[RiskFlag] = set()
    raw_flags = data.get("risk_flags")
    if raw_flags is None:
        raw_flags = []
    if not isinstance(raw_flags, list | tuple | set | frozenset):
        problems.append(
            FieldProblem(
                "risk_flags",
                f'风险标记须为列表（如 ["psychological_crisis"]），现为{text.value_kind(raw_flags)}',
            )
        )
        raw_flags = []
    by_risk_label = {v: k for k, v in RISK_LABELS.items()}
    for i, f in enumerate(raw_flags):
        if not isinstance(f, str):
            problems.append(FieldProblem(f"risk_flags[{i}]", f"风险标记须为文本，现为{text.value_kind(f)}"))
            continue
        key = text.lookup_key(f)
        flag = by_risk_label.get(key)
        if flag is None:
            try:
                flag = RiskFlag(key)
            except ValueError:
                problems.append(FieldProblem(f"risk_flags[{i}]", f"风险标记“{text.shown(f)}”无效"))
                continue
        flags.add(flag)
    if headcount >= GROUP_VISIT_HEADCOUNT:
        flags.add(RiskFlag.GROUP_VISIT)

    parties: list[Party] = []
    raw_parties = data.get("parties")
    if raw_parties is None or (isinstance(raw_parties, list | tuple) and not raw_parties):
        problems.append(FieldProblem("parties", "请至少登记一名申请人"))
        raw_parties = []
    elif not isinstance(raw_parties, list | tuple):
        problems.append(FieldProblem("parties", f"当事人须为列表 [...]，现为{text.value_kind(raw_parties)}"))
        raw_parties = []
    for i, raw in enumerate(raw_parties):
        if not isinstance(raw, Mapping):
            problems.append(
                FieldProblem(
                    f"parties[{i}]", f"第{i + 1}名当事人须为对象 {{...}}，现为{text.value_kind(raw)}"
                )
            )
            continue
        try:
            parties.append(parse_party(raw, today=today))
        except ValidationError as e:
            problems += e.prefixed(f"parties[{i}].").problems
    if raw_parties and not problems and not any(p.role is PartyRole.APPLICANT for p in parties):
        problems.append(FieldProblem("parties", "当事人中须至少有一名申请人"))
    ids = [p.id_number for p in parties if p.id_number]
    if len(set(ids)) != len(ids):
        problems.append(FieldProblem("parties", "同一身份证号码在当事人中出现了两次"))

    if problems:
        raise ValidationError(problems)
    assert category is not None and channel is not None
    return Visit(
        category=category,
        channel=channel,
        headcount=headcount,
        narrative=narrative,
        parties=tuple(parties),
        risk_flags=frozenset(flags),
    )
