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


def name_initials(name: str) -> str:
    """Pinyin initials of a person's name for search (张三 → zs); Latin letters are kept."""
    return pinyin_keys(name)[0]


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
