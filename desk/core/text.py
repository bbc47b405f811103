"""Text hygiene shared by every field: what is refused, what is dropped, and how text is echoed in messages.

The rule is that what the screen shows is what is stored and what search finds:
- characters that change how text *reads* without being visible -- control characters, bidi controls (they
  make text display in another order than it is stored), lone surrogates, private-use and unassigned code
  points -- are refused, with their position;
- characters that are invisible and change nothing a reader could tell -- zero-width spaces and joiners, the
  Hangul fillers, the combining grapheme joiner, variation selectors, tag characters, soft hyphens -- are
  dropped, so that `张\u200b三` is stored, shown and found as `张三`;
- the rest is put in NFC, and piles of combining marks on one character ("Zalgo" text) are refused.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping

from desk.errors import ValidationError

# Invisible characters dropped from every field: zero-width space, non-joiner and joiner, word joiner and the
# invisible operators, the BOM, the soft hyphen, the Mongolian vowel separator and free variation selectors,
# the combining grapheme joiner, the Hangul fillers (letters that draw nothing), Khmer's invisible vowels,
# the deprecated format characters, the interlinear annotation marks, variation selectors and tag characters.
_INVISIBLE_RANGES = (
    (0x00AD, 0x00AD),
    (0x034F, 0x034F),
    (0x115F, 0x1160),
    (0x17B4, 0x17B5),
    (0x180B, 0x180F),
    (0x200B, 0x200D),
    (0x2060, 0x2064),
    (0x206A, 0x206F),
    (0x3164, 0x3164),
    (0xFE00, 0xFE0F),
    (0xFEFF, 0xFEFF),
    (0xFFA0, 0xFFA0),
    (0xFFF9, 0xFFFB),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0000, 0xE007F),
    (0xE0100, 0xE01EF),
)
INVISIBLE = frozenset(chr(c) for lo, hi in _INVISIBLE_RANGES for c in range(lo, hi + 1))
# Kept in free text: emoji sequences (👨‍👩‍👧, ❤️) and some scripts' spelling need the joiners and the
# emoji/text presentation selectors; nobody searches a narrative by them.
JOINERS = frozenset("\u200c\u200d\ufe0e\ufe0f")
# Bidirectional embeddings, overrides, isolates and marks: they make text display in another order than it is
# stored (a name that reads 张三 on screen and is something else in the store), so they are refused.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")

# Combining marks with no script of their own: a pile of them is "Zalgo" text, never a spelling. After NFC no
# language puts more than two on one letter (Vietnamese ệ is one precomposed letter).
_GENERIC_MARKS = (
    (0x0300, 0x036F),
    (0x0483, 0x0489),
    (0x1AB0, 0x1AFF),
    (0x1DC0, 0x1DFF),
    (0x20D0, 0x20FF),
    (0xFE20, 0xFE2F),
)
GENERIC_MARKS_MAX = 2
# Tibetan and Indic stacks (subjoined letters and vowel signs) are spelling; more than this on one letter is not.
MARKS_MAX = 8
_SHOWN_MAX = 20


def length(text: str) -> int:
    """Characters as people count them: code points (𠮷 is one, although UTF-16 needs two units)."""
    return len(text)


def describe(ch: str) -> str:
    """`U+0007` style name of a character for messages."""
    return f"U+{ord(ch):04X}"


def shown(value: str, *, limit: int = _SHOWN_MAX) -> str:
    """`value` as a message may echo it: control, format, invisible, bidi and unprintable characters written
    as `[U+0007]`, a leading combining mark too, and cut to `limit` characters."""
    out = []
    for i, ch in enumerate(value[:limit]):
        cat = unicodedata.category(ch)
        hidden = (
            cat in ("Cc", "Cf", "Cs", "Co", "Zl", "Zp")
            or (cat == "Cn" and not _is_new_ideograph(ch))
            or (cat == "Zs" and ch != " ")
            or (i == 0 and cat in ("Mn", "Me"))
            or ch in INVISIBLE
            or ch in BIDI_CONTROLS
            or ch == "\u2800"  # braille blank: draws nothing
        )
        out.append(f"[{describe(ch)}]" if hidden else ch)
    return "".join(out) + ("…" if len(value) > limit else "")


def _is_new_ideograph(ch: str) -> bool:
    # Unassigned code points (Cn) in planes 2 and 3 are ideographs newer than Python's Unicode tables:
    # people's names use them, so they are not refused.
    return 0x20000 <= ord(ch) <= 0x3FFFF


def refused_character(ch: str, *, allow_line_breaks: bool = False) -> str | None:
    """What kind of refused character `ch` is (for the message), or None if it is not refused."""
    if allow_line_breaks and ch == "\n":
        return None
    if ch in BIDI_CONTROLS:
        return "文字方向控制字符"
    cat = unicodedata.category(ch)
    if cat == "Cc":
        return "不可见的控制字符"
    if cat == "Cs":
        return "无效字符（孤立的代理码位）"
    if cat == "Co":
        return "私用区字符（各电脑显示不同）"
    if cat == "Cn" and not _is_new_ideograph(ch):
        return "未分配的码位"
    return None


def is_invisible(ch: str, *, keep_joiners: bool = False) -> bool:
    return ch in INVISIBLE and not (keep_joiners and ch in JOINERS)


def strip_invisible(text: str, *, keep_joiners: bool = False) -> str:
    """`text` without the invisible characters (see the module's docstring); nothing else changes."""
    if text.isascii():
        return text
    return "".join(ch for ch in text if not is_invisible(ch, keep_joiners=keep_joiners))


def search_key(text: str) -> str:
    """A search box's entry cleaned as stored text is: invisible characters and bidi/control characters gone,
    NFC. Never refuses (a search for junk finds nothing)."""
    s = strip_invisible(text)
    s = "".join(ch for ch in s if not refused_character(ch))
    return unicodedata.normalize("NFC", s)


def lookup_key(text: str) -> str:
    """A value looked up in a fixed list (a category, a channel, a role): invisible characters dropped, NFC,
    outer spaces trimmed. Anything else stays, so that a control character makes it not found."""
    return unicodedata.normalize("NFC", strip_invisible(text)).strip()


def _is_generic_mark(ch: str) -> bool:
    o = ord(ch)
    return any(lo <= o <= hi for lo, hi in _GENERIC_MARKS)


def _is_mark(ch: str) -> bool:
    return unicodedata.category(ch) in ("Mn", "Me")


def piled_marks(text: str) -> tuple[int, str, int] | None:
    """The first character carrying too many combining marks: its position (1-based), the character ("" when
    the text starts with a mark, which has nothing to sit on) and the number of marks; None if there is none."""
    i, n = 0, len(text)
    while i < n and _is_mark(text[i]):
        i += 1
    if i:
        return 1, "", i
    while i < n:
        base = i
        i += 1
        generic = 0
        while i < n and _is_mark(text[i]):
            generic += _is_generic_mark(text[i])
            i += 1
        total = i - base - 1
        if generic > GENERIC_MARKS_MAX or total > MARKS_MAX:
            return base + 1, text[base], total
    return None


def clean(
    raw: str,
    *,
    what: str,
    field_name: str,
    allow_line_breaks: bool = False,
    keep_joiners: bool = False,
) -> str:
    """`raw` made safe to store and search: refused characters refused (their position counted in `raw` as
    given), invisible ones dropped, NFC applied, piles of combining marks refused. `what` names the field in
    messages (姓名, 住址, …). Spaces are left as they are."""
    for i, ch in enumerate(raw, start=1):
        kind = refused_character(ch, allow_line_breaks=allow_line_breaks)
        if kind:
            raise ValidationError.single(
                field_name, f"{what}第{i}个字符是{kind} {describe(ch)}（多为粘贴带入），请删除后重新输入"
            )
    s = unicodedata.normalize("NFC", strip_invisible(raw, keep_joiners=keep_joiners))
    piled = piled_marks(s)
    if piled:
        pos, base, count = piled
        if not base:
            msg = f"{what}第{pos}个字符是附加符号 {describe(s[pos - 1])}，前面没有可附着的字"
        else:
            msg = f"{what}第{pos}个字符“{shown(base)}”上叠加了{count}个附加符号，不是正常的文字"
        raise ValidationError.single(field_name, msg)
    return s


def value_kind(value: object) -> str:
    """What a JSON value is, for messages: 文本, 数字, 列表, 对象, 布尔值, 空值."""
    if isinstance(value, str):
        return "文本"
    if isinstance(value, bool):
        return "布尔值"
    if isinstance(value, int | float):
        return "数字"
    if isinstance(value, list | tuple | set | frozenset):
        return "列表"
    if isinstance(value, Mapping):
        return "对象"
    if value is None:
        return "空值"
    return "无法识别的值"


def as_text(value: object, *, what: str, field_name: str) -> str:
    """A text field's value: a string as it is, absent (None) as "", anything else refused -- a number is
    never turned into text (`13912345678` as a JSON number is refused, not stored as "13912345678")."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    raise ValidationError.single(
        field_name, f"{what}须为文本（JSON 中用双引号括起），现为{value_kind(value)}"
    )


def collapse_spaces(text: str) -> str:
    return " ".join(text.split())
