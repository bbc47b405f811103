"""Reading a visit from JSON bytes: the one parser of `desk register --file`, `desk county divert --file` and
every later import path.

`load_visit` takes the file's bytes and gives back a JSON object that is safe to hand to `parse_visit`, or
raises the one `ValidationError`. It answers for the file as a whole:
- the encoding: UTF-8, with or without the BOM Windows Notepad writes; UTF-16 and UTF-32 with their BOM.
  A GBK/GB18030 file (Notepad's "ANSI" on Chinese Windows) is refused with a message saying to save it as
  UTF-8: guessing an encoding can store a name in the wrong characters, which is worse than asking once;
- the JSON: syntax errors with their line and column; `NaN`/`Infinity`, numbers too large for a float
  (`1e400`) and integers of more than 18 digits refused at the field that holds them; no nesting deeper than
  `MAX_DEPTH`; no key given twice; no lone surrogate (`"\\ud800"`, which no store can hold);
- the shape: the file is one object; a key that is not a visit's (or a party's) is ignored with a warning,
  unless it looks like a misspelt one (`narative`, `risk_flag`, `Name`), which is refused: a dropped
  risk flag must not pass silently.
The fields' types and values (a number where text is expected, `"false"` for a boolean, …) are checked by
`parse_visit` / `parse_party`, which every path -- the form included -- goes through.
"""

from __future__ import annotations

import codecs
import difflib
import json
import logging
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from desk.core import text
from desk.core.cases import VISIT_KEYS
from desk.core.parties import PARTY_KEYS
from desk.errors import FieldProblem, ValidationError

logger = logging.getLogger(__name__)

MAX_BYTES = 1 << 20  # a visit is a few kilobytes (the narrative is at most 2000 characters)
MAX_DEPTH = 16  # a visit needs 3 (visit, parties, a party)
INT_DIGITS_MAX = 18
PROBLEMS_MAX = 20  # a file with ten thousand bad numbers gets the first twenty

_JSON_ERRORS = {
    "Expecting value": "此处缺少值",
    "Expecting property name enclosed in double quotes": "此处应为用双引号括起的字段名",
    "Expecting ',' delimiter": "此处缺少逗号",
    "Expecting ':' delimiter": "此处缺少冒号",
    "Unterminated string starting at": "字符串缺少结尾的双引号",
    "Invalid control character at": "字符串中有未转义的控制字符",
    "Invalid \\escape": "无效的转义序列",
    "Invalid \\uXXXX escape": "无效的 \\u 转义序列",
    "Extra data": "JSON 结束后还有多余的内容",
}
_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class LoadedVisit:
    """A visit as read from a file: the JSON object, and what was ignored in it (for the person to see)."""

    data: dict[str, Any]
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class _BadNumber:
    """Stands in the parsed tree for a number that is refused, so the refusal can name its field."""

    reason: str


class _Object(dict[str, Any]):
    """A JSON object that remembers the keys given more than once."""

    duplicates: tuple[str, ...] = ()


def _object(pairs: list[tuple[str, Any]]) -> _Object:
    obj = _Object(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        duplicates: dict[str, None] = {}
        for key, _value in pairs:
            if key in seen:
                duplicates[key] = None
            seen.add(key)
        obj.duplicates = tuple(duplicates)
    return obj


def _float(s: str) -> float | _BadNumber:
    f = float(s)
    if math.isinf(f):
        return _BadNumber("数值超出了可以表示的范围")
    return f


def _int(s: str) -> int | _BadNumber:
    digits = len(s.lstrip("-"))
    if digits > INT_DIGITS_MAX:
        return _BadNumber(f"整数位数过多（{digits}位，最多{INT_DIGITS_MAX}位）")
    return int(s)


def _constant(name: str) -> _BadNumber:
    return _BadNumber(f"{name} 不是有效的数值（JSON 不允许 NaN 和 Infinity）")


def load_visit(raw: bytes, *, source: str) -> LoadedVisit:
    """Decode and parse a visit file's bytes; `source` names the file in messages (a path, 标准输入).
    Raises ValidationError: file-wide problems are reported at `source`, the others at their field."""
    where = text.shown(source, limit=200)
    data = _parse(_decode(raw, where), where)
    if not isinstance(data, _Object):
        raise ValidationError.single(where, f"内容应为一个 JSON 对象 {{...}}，现为{text.value_kind(data)}")
    problems = list(_tree_problems(data, where))
    warnings: list[str] = []
    problems += _unknown_keys(data, VISIT_KEYS, "", "来访", warnings)
    parties = data.get("parties")
    if isinstance(parties, list):
        for i, party in enumerate(parties):
            if isinstance(party, _Object):
                problems += _unknown_keys(party, PARTY_KEYS, f"parties[{i}]", f"第{i + 1}名当事人", warnings)
    if problems:
        raise ValidationError(problems[:PROBLEMS_MAX])
    return LoadedVisit(data, tuple(warnings))


def _decode(raw: bytes, where: str) -> str:
    def refuse(msg: str) -> ValidationError:
        return ValidationError.single(where, msg)

    if len(raw) > MAX_BYTES:
        raise refuse(f"文件超过 {MAX_BYTES // (1 << 20)} MB，不是一份来访记录")
    for bom, encoding in (
        (codecs.BOM_UTF32_LE, "utf-32"),  # before UTF-16: its BOM begins with UTF-16 LE's
        (codecs.BOM_UTF32_BE, "utf-32"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if raw.startswith(bom):
            try:
                return raw.decode(encoding)
            except UnicodeDecodeError as e:
                raise refuse(
                    f"文件以 {encoding.upper()} 的字节顺序标记开头，但第{e.start + 1}个字节起无法按该编码解码；"
                    "请另存为 UTF-8 后重试"
                ) from None
    if b"\x00" in raw:
        raise refuse(
            "文件含有 NUL 字节，可能是没有字节顺序标记的 UTF-16 文件或二进制文件；请另存为 UTF-8 后重试"
        )
    try:
        return raw.decode("utf-8-sig")  # the BOM Notepad writes is dropped
    except UnicodeDecodeError as e:
        position = e.start + 1
    try:
        raw.decode("gb18030")
    except UnicodeDecodeError:
        raise refuse(f"文件不是 UTF-8 编码（第{position}个字节无法解码）；请另存为 UTF-8 后重试") from None
    raise refuse(
        "文件是 GBK/GB18030 编码（中文 Windows 记事本的“ANSI”），不是 UTF-8；"
        "请用记事本打开，“另存为”时把编码选为“UTF-8”后重试"
    )


def _parse(decoded: str, where: str) -> Any:
    if not decoded.strip():
        raise ValidationError.single(where, "文件是空的，应为一个来访 JSON 对象 {...}")
    try:
        return json.loads(
            decoded,
            object_pairs_hook=_object,
            parse_float=_float,
            parse_int=_int,
            parse_constant=_constant,
        )
    except json.JSONDecodeError as e:
        reason = _JSON_ERRORS.get(e.msg, "格式错误")
        raise ValidationError.single(
            where, f"不是有效的 JSON：第{e.lineno}行第{e.colno}列，{reason}"
        ) from None
    except RecursionError:
        raise ValidationError.single(where, f"嵌套层数过深（来访 JSON 最多{MAX_DEPTH}层）") from None
    except ValueError:  # a hook's own refusal, were there one; the hooks above mark numbers instead
        raise ValidationError.single(where, "不是有效的 JSON") from None


def _key_path(path: str, key: str) -> str:
    if _NAME_RE.match(key):
        return f"{path}.{key}" if path else key
    return f'{path}["{text.shown(key)}"]'


def _tree_problems(root: _Object, where: str) -> Iterable[FieldProblem]:
    """Refused numbers, lone surrogates, repeated keys and too deep nesting anywhere in the tree, each at its
    path; iterative, so a tree as deep as the JSON parser allows is walked without recursion."""
    stack: list[tuple[str, Any, int]] = [("", root, 1)]
    while stack:
        path, value, depth = stack.pop()
        at = path or where
        if isinstance(value, _BadNumber):
            yield FieldProblem(at, value.reason)
        elif isinstance(value, str):
            bad = next((i for i, ch in enumerate(value, start=1) if "\ud800" <= ch <= "\udfff"), None)
            if bad is not None:
                yield FieldProblem(
                    at,
                    f"第{bad}个字符是无效字符 {text.describe(value[bad - 1])}（孤立的代理码位），文件可能已损坏",
                )
        elif isinstance(value, dict | list):
            if depth > MAX_DEPTH:
                yield FieldProblem(at, f"嵌套层数过深（来访 JSON 最多{MAX_DEPTH}层）")
                continue
            if isinstance(value, list):
                stack += [(f"{path}[{i}]", v, depth + 1) for i, v in reversed(list(enumerate(value)))]
                continue
            for key in getattr(value, "duplicates", ()):
                yield FieldProblem(_key_path(path, key), f"字段“{text.shown(key)}”出现了不止一次")
            children = []
            for key, v in value.items():
                child = _key_path(path, key)
                if any("\ud800" <= ch <= "\udfff" for ch in key):
                    yield FieldProblem(child, "字段名含有无效字符（孤立的代理码位），文件可能已损坏")
                children.append((child, v, depth + 1))
            stack += reversed(children)


def _unknown_keys(
    obj: _Object, known: frozenset[str], path: str, owner: str, warnings: list[str]
) -> list[FieldProblem]:
    problems = []
    ignored = []
    for key in obj:
        if key in known:
            continue
        guess = _misspelt(key, known)
        if guess:
            problems.append(
                FieldProblem(
                    _key_path(path, key),
                    f"不认识的字段“{text.shown(key)}”，是否应为“{guess}”？",
                )
            )
        else:
            ignored.append(f"“{text.shown(key)}”")
    if ignored:
        warnings.append(f"{owner}中不认识的字段 {'、'.join(ignored)} 已忽略")
    return problems


def _misspelt(key: str, known: frozenset[str]) -> str | None:
    folded = text.search_key(key).strip().lower()
    if folded in known:
        return folded
    close = difflib.get_close_matches(folded, sorted(known), n=1, cutoff=0.8)
    return close[0] if close else None
