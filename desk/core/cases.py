"""A case and the visit that opens it: channels, states, risk flags, and checking a visit as a whole."""

from __future__ import annotations

import datetime as dt
import enum
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
    TRANSFERRED = "transferred"
    RESOLVED = "resolved"
    CLOSED = "closed"
    FOLLOWED_UP = "followed_up"

    @property
    def label(self) -> str:
        return STATE_LABELS[self]

    @property
    def is_open(self) -> bool:
        return self not in (CaseState.RESOLVED, CaseState.CLOSED, CaseState.FOLLOWED_UP)


STATE_LABELS = {
    CaseState.REGISTERED: "已受理",
    CaseState.DIVERTED: "已分流",
    CaseState.WAITING: "排队中",
    CaseState.IN_MEDIATION: "调解中",
    CaseState.TRANSFERRED: "已转办",
    CaseState.RESOLVED: "已化解",
    CaseState.CLOSED: "已办结",
    CaseState.FOLLOWED_UP: "已回访",
}


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
    s = raw.replace("\r\n", "\n").replace("\r", "\n").strip()
    if not s:
        raise ValidationError.single(field_name, "请填写纠纷事由")
    n = text.length(s)
    if n > NARRATIVE_MAX:
        raise ValidationError.single(
            field_name, f"纠纷事由最多{NARRATIVE_MAX}字，现为{n}字，请精简{n - NARRATIVE_MAX}字"
        )
    bad = text.first_control(s, allow_line_breaks=True)
    if bad:
        pos, ch = bad
        raise ValidationError.single(
            field_name,
            f"纠纷事由第{pos}个字符是不可见的控制字符 {text.describe(ch)}（多为粘贴带入），请删除后重试",
        )
    return s


def parse_headcount(raw: object, *, field_name: str = "headcount") -> int:
    if isinstance(raw, bool):
        raise ValidationError.single(field_name, "来访人数须为整数")
    if isinstance(raw, str):
        import unicodedata

        raw = unicodedata.normalize("NFKC", raw).strip() or "1"
    try:
        n: int = int(raw)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        raise ValidationError.single(field_name, "来访人数须为整数") from None
    if isinstance(raw, float) and raw != n:
        raise ValidationError.single(field_name, "来访人数须为整数")
    if n < 1:
        raise ValidationError.single(field_name, "来访人数至少为1")
    if n > HEADCOUNT_MAX:
        raise ValidationError.single(field_name, f"来访人数不能超过{HEADCOUNT_MAX}")
    return n


def parse_visit(data: Mapping[str, object], *, categories: Sequence[Category], today: dt.date) -> Visit:
    """Check a whole visit (the form's fields or `desk register`'s JSON); report every problem at once."""
    problems: list[FieldProblem] = []

    cat_raw = str(data.get("category") or "").strip()
    category = next((c for c in categories if cat_raw in (c.name, c.code, *c.aliases)), None)
    if not cat_raw:
        problems.append(FieldProblem("category", "请选择纠纷类别"))
    elif category is None:
        problems.append(FieldProblem("category", f"纠纷类别“{cat_raw}”不在类别目录中"))

    ch_raw = str(data.get("channel") or "walk_in")
    by_label = {v: k for k, v in CHANNEL_LABELS.items()}
    channel = by_label.get(ch_raw)
    if channel is None:
        try:
            channel = Channel(ch_raw)
        except ValueError:
            problems.append(FieldProblem("channel", f"来源渠道“{ch_raw}”无效"))

    headcount = 1
    try:
        headcount = parse_headcount(data.get("headcount", 1))
    except ValidationError as e:
        problems += e.problems

    narrative = ""
    try:
        narrative = parse_narrative(str(data.get("narrative") or ""))
    except ValidationError as e:
        problems += e.problems

    flags: set[RiskFlag] = set()
    raw_flags = data.get("risk_flags") or []
    if not isinstance(raw_flags, list | tuple | set | frozenset):
        problems.append(FieldProblem("risk_flags", "风险标记格式无效"))
        raw_flags = []
    by_risk_label = {v: k for k, v in RISK_LABELS.items()}
    for f in raw_flags:
        flag = by_risk_label.get(str(f))
        if flag is None:
            try:
                flag = RiskFlag(str(f))
            except ValueError:
                problems.append(FieldProblem("risk_flags", f"风险标记“{f}”无效"))
                continue
        flags.add(flag)
    if headcount >= GROUP_VISIT_HEADCOUNT:
        flags.add(RiskFlag.GROUP_VISIT)

    parties: list[Party] = []
    raw_parties = data.get("parties")
    if not isinstance(raw_parties, list) or not raw_parties:
        problems.append(FieldProblem("parties", "请至少登记一名申请人"))
        raw_parties = []
    for i, raw in enumerate(raw_parties):
        if not isinstance(raw, Mapping):
            problems.append(FieldProblem(f"parties[{i}]", f"第{i + 1}名当事人格式无效"))
            continue
        try:
            parties.append(parse_party(dict(raw), today=today))
        except ValidationError as e:
            problems += e.prefixed(f"parties[{i}].").problems
    if raw_parties and not problems and not any(p.role is PartyRole.APPLICANT for p in parties):
        problems.append(FieldProblem("parties", "当事人中须至少有一名申请人"))
    ids = [p.id_number for p in parties if p.id_number]
    dup = next((x for x in ids if ids.count(x) > 1), None)
    if dup:
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
