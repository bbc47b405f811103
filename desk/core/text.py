"""Text hygiene shared by every field: counting code points, finding control and invisible characters."""

from __future__ import annotations

import unicodedata

# Invisible characters people paste along with numbers (zero-width space/joiners, word joiner, BOM).
ZERO_WIDTH = frozenset("\u200b\u200c\u200d\u2060\ufeff\u00ad")
# Bidirectional overrides and isolates: they make text display in another order than it is stored.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")


def length(text: str) -> int:
    """Characters as people count them: code points (𠮷 is one, although UTF-16 needs two units)."""
    return len(text)


def describe(ch: str) -> str:
    """`U+0007` style name of a character for messages."""
    return f"U+{ord(ch):04X}"


def first_control(text: str, *, allow_line_breaks: bool = False) -> tuple[int, str] | None:
    """Position (1-based) and character of the first control or bidi-override character, if any."""
    for i, ch in enumerate(text, start=1):
        if allow_line_breaks and ch == "\n":
            continue
        cat = unicodedata.category(ch)
        if cat == "Cc" or ch in BIDI_CONTROLS or cat in ("Cs", "Co", "Cn") and not _is_assigned_private(ch):
            return i, ch
    return None


def _is_assigned_private(ch: str) -> bool:
    # Unassigned code points (Cn) in planes 2 and 3 are ideographs newer than Python's Unicode tables:
    # people's names use them, so they are not refused.
    return 0x20000 <= ord(ch) <= 0x3FFFF


def strip_invisible(text: str) -> str:
    return "".join(ch for ch in text if ch not in ZERO_WIDTH)


def collapse_spaces(text: str) -> str:
    return " ".join(text.split())
