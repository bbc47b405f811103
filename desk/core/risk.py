"""Risk and early warning: the automatic risk flags of a visit (group, repeat, crisis words) and the risk level.

The crisis words are data (`resources/risk/crisis_words.txt`, one word or phrase a line, `#` comments). They are
matched as plain substrings: a negation does not silence them (没有想过自杀 still raises the flag), since a
person judges every flagged case and a missed crisis costs more than a needless look.
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Iterable, Sequence
from enum import StrEnum
from pathlib import Path

from desk.core.cases import GROUP_VISIT_HEADCOUNT, RiskFlag
from desk.errors import DeskError

CRISIS_WORDS_FILE = Path("risk") / "crisis_words.txt"  # under the resources directory
# The resources directory shipped with the desk (the same as desk.config.RESOURCES, which the core does not import).
BUNDLED_RESOURCES = Path(__file__).resolve().parents[2] / "resources"

REPEAT_VISITS = 3  # 重复访: this many visits by the same person ...
REPEAT_WINDOW_DAYS = 90  # ... within this many days
LARGE_GROUP_HEADCOUNT = 20  # a group visit this large is 重大 on its own


class RiskLevel(StrEnum):
    GENERAL = "general"
    MAJOR = "major"
    SERIOUS = "serious"

    @property
    def label(self) -> str:
        return LEVEL_LABELS[self]


LEVEL_LABELS = {RiskLevel.GENERAL: "一般", RiskLevel.MAJOR: "较大", RiskLevel.SERIOUS: "重大"}

LEVEL_RULE = (
    f"重大：有民转刑苗头、极端行为倾向或心理危机；或集体访达{LARGE_GROUP_HEADCOUNT}人；或集体访同时为重复访。"
    f"较大：集体访（{GROUP_VISIT_HEADCOUNT}至{LARGE_GROUP_HEADCOUNT - 1}人）。"
    "一般：仅为重复访。"
    "没有风险标记的案件不定级。"
)

_SERIOUS_ALONE = frozenset(
    {RiskFlag.CIVIL_TO_CRIMINAL, RiskFlag.EXTREME_BEHAVIOUR, RiskFlag.PSYCHOLOGICAL_CRISIS}
)


def risk_level(flags: Iterable[RiskFlag | str], *, headcount: int = 1) -> RiskLevel | None:
    """The case's risk level by `LEVEL_RULE`:

    - 重大 (serious): 民转刑, extreme behaviour or psychological crisis; or a group visit of at least
      `LARGE_GROUP_HEADCOUNT` people; or a group visit that is also a repeat visit;
    - 较大 (major): a group visit (5 to 19 people);
    - 一般 (general): a repeat visit alone;
    - None: no flag.

    Unknown flag values (written by newer software) are ignored."""
    known = {f.value for f in RiskFlag}
    have = {RiskFlag(str(f)) for f in flags if str(f) in known}
    if not have:
        return None
    group = RiskFlag.GROUP_VISIT in have
    if (
        have & _SERIOUS_ALONE
        or (group and headcount >= LARGE_GROUP_HEADCOUNT)
        or (group and RiskFlag.REPEAT_VISIT in have)
    ):
        return RiskLevel.SERIOUS
    if group:
        return RiskLevel.MAJOR
    return RiskLevel.GENERAL


def _normalise(s: str) -> str:
    """Full-width to half-width, one case, no whitespace: 自 杀 and 自杀 read the same."""
    return "".join(unicodedata.normalize("NFKC", s).casefold().split())


def parse_crisis_words(text: str) -> tuple[str, ...]:
    """The words of a crisis word list: one a line, `#` starts a comment, blank lines and repeats skipped."""
    words: dict[str, str] = {}
    for line in text.splitlines():
        word = line.split("#", 1)[0].strip()
        if word:
            words.setdefault(_normalise(word), word)
    return tuple(words.values())


def load_crisis_words(resources: Path) -> tuple[str, ...]:
    """The crisis word list under `resources` (`risk/crisis_words.txt`); a missing or empty list is an error,
    since it would silence every crisis."""
    path = resources / CRISIS_WORDS_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DeskError(f"找不到心理危机词表 {path}") from None
    except (OSError, UnicodeDecodeError) as e:
        raise DeskError(f"无法读取心理危机词表 {path}（应为 UTF-8 文本）：{type(e).__name__}") from None
    words = parse_crisis_words(text)
    if not words:
        raise DeskError(f"心理危机词表 {path} 中没有词语")
    return words


@functools.cache
def bundled_crisis_words() -> tuple[str, ...]:
    """The list shipped in the desk's resources directory (read once)."""
    return load_crisis_words(BUNDLED_RESOURCES)


def crisis_words(narrative: str, words: Sequence[str] | None = None) -> tuple[str, ...]:
    """The crisis words found in `narrative`, in the order they first appear, each once; `words` defaults to
    the bundled list. Matching ignores whitespace and full-width forms, and never negation."""
    text = _normalise(narrative)
    found: list[tuple[int, str]] = []
    for word in bundled_crisis_words() if words is None else words:
        key = _normalise(word)
        at = text.find(key) if key else -1
        if at >= 0:
            found.append((at, word))
    found.sort(key=lambda f: f[0])  # stable: words found at the same place keep the list's order
    return tuple(dict.fromkeys(w for _, w in found))


def auto_flags(
    headcount: int,
    narrative: str,
    open_case_same_matter: bool,
    visits_in_90_days: int,
    *,
    words: Sequence[str] | None = None,
) -> frozenset[RiskFlag]:
    """The flags a visit raises by itself (the desk adds 民转刑 and extreme behaviour by hand):

    - group visit: `headcount` ≥ 5;
    - repeat visit: the same person comes about a case of theirs that is still open, or this is at least their
      third visit within 90 days (`visits_in_90_days` counts this visit too);
    - psychological crisis: a crisis word in the narrative (`crisis_words`)."""
    if headcount < 1 or visits_in_90_days < 0:
        raise ValueError("headcount must be at least 1 and visits_in_90_days not negative")
    flags = set()
    if headcount >= GROUP_VISIT_HEADCOUNT:
        flags.add(RiskFlag.GROUP_VISIT)
    if open_case_same_matter or visits_in_90_days >= REPEAT_VISITS:
        flags.add(RiskFlag.REPEAT_VISIT)
    if crisis_words(narrative, words):
        flags.add(RiskFlag.PSYCHOLOGICAL_CRISIS)
    return frozenset(flags)
