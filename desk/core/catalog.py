"""The dispute-category catalog (data, not code) and finding a category by Chinese text or pinyin."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass

# Deadline classes: how long a case of the class may stay open (calendar days, from registration).
DEADLINE_DAYS = {"simple": 15, "general": 30, "complex": 60}


@dataclass(frozen=True)
class Category:
    code: str
    name: str
    deadline_class: str
    aliases: tuple[str, ...] = ()

    @property
    def deadline_days(self) -> int:
        return DEADLINE_DAYS[self.deadline_class]


@functools.lru_cache(maxsize=4096)
def pinyin_keys(text: str) -> tuple[str, str]:
    """(initials, full pinyin) of `text`, lower case without tones: 邻里纠纷 → ('ljjf', 'linlijiufen')."""
    from pypinyin import Style, lazy_pinyin  # imported on first use: it loads large tables

    initials = "".join(p[0] for p in lazy_pinyin(text, style=Style.FIRST_LETTER, errors="ignore") if p)
    full = "".join(lazy_pinyin(text, style=Style.NORMAL, errors="ignore"))
    return initials.lower(), full.lower()


# Surnames read differently from the same character in ordinary words (曾 zēng, not céng; 单 shàn, not dān).
SURNAME_READINGS = {
    "尉迟": "yc",
    "万俟": "mq",
    "曾": "z",
    "单": "s",
    "解": "x",
    "仇": "q",
    "查": "z",
    "区": "o",
    "乐": "y",
    "翟": "z",
    "覃": "q",
    "缪": "m",
    "盖": "g",
    "种": "c",
    "秘": "b",
    "朴": "p",
    "召": "s",
    "句": "g",
    "员": "y",
    "宓": "f",
    "折": "s",
    "隗": "w",
    "冼": "x",
    "洗": "x",
    "繁": "p",
    "能": "n",
    "长孙": "zs",
}
# Characters beyond pypinyin's tables that appear in names (𠮷 is a variant of 吉, jí).
EXTRA_INITIALS = {"𠮷": "j"}


def name_initials(name: str) -> str:
    """Pinyin initials of a person's name for search (张三 → zs, 曾国藩 → zgf, 𠮷祥 → jx)."""
    head = ""
    for surname, initials in sorted(SURNAME_READINGS.items(), key=lambda kv: -len(kv[0])):
        if name.startswith(surname):
            head, name = initials, name[len(surname) :]
            break
    out = [head]
    for part in _split_known(name):
        if part.isascii():  # a Latin name: the first letter of each word (John Smith → js)
            out.append("".join(w[0].lower() for w in part.replace("·", " ").split() if w[0].isalpha()))
        else:
            out.append(EXTRA_INITIALS.get(part) or pinyin_keys(part)[0])
    return "".join(out)


def _split_known(text: str) -> list[str]:
    """`text` in runs, each character of EXTRA_INITIALS on its own."""
    parts: list[str] = []
    run = ""
    for ch in text:
        if ch in EXTRA_INITIALS:
            if run:
                parts.append(run)
            parts.append(ch)
            run = ""
        else:
            run += ch
    if run:
        parts.append(run)
    return parts


def category_matches(category: Category, query: str) -> bool:
    q = "".join(query.split()).lower()
    if not q:
        return True
    texts = (category.name, *category.aliases)
    if any(q in t for t in texts) or q == category.code.lower():
        return True
    if q.isascii():
        return any(k.startswith(q) for t in texts for k in pinyin_keys(t))
    return False


def find_categories(categories: Iterable[Category], query: str) -> list[Category]:
    """Categories matching `query`; an exact name or initials match first, then in catalog order."""
    found = [c for c in categories if category_matches(c, query)]
    q = "".join(query.split()).lower()

    def rank(c: Category) -> int:
        if q in (c.name, c.code.lower()) or q == pinyin_keys(c.name)[0]:
            return 0
        return 1

    return sorted(found, key=rank)
