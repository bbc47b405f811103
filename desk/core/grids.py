"""The derived fields reports and routing read instead of personal data: the township or street (grid) of an
address, and the age band of an ID number's holder.

Both are kept unencrypted (issue 13): a grid code names a township or street of tens of thousands of people, and
an age band a ten-year span, so neither (nor both with sex and category) singles out a person among a county's
cases; the address and the birth date they come from are sealed or not kept at all.

The grid catalog is data (`resources/catalog/grids.json`): the demo county's streets and townships with demo codes
(GZ01...) that the county's admin replaces with the real ones.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from desk.errors import DeskError

GRIDS_FILE = Path("catalog") / "grids.json"  # under the resources directory
# The resources directory shipped with the desk (as desk.core.risk finds it: the core does not import config).
BUNDLED_RESOURCES = Path(__file__).resolve().parents[2] / "resources"

AGE_BANDS = ("<18", "18-29", "30-39", "40-49", "50-59", "60-69", "70+")


@dataclass(frozen=True)
class Grid:
    code: str
    name: str


def parse_grids(data: object) -> tuple[Grid, ...]:
    """The grids of a catalog's JSON; raises DeskError (Chinese) on a malformed one."""
    try:
        assert isinstance(data, dict) and data.get("format") == "hall-desk-grids/1"
        grids = tuple(Grid(str(g["code"]).strip(), _key(str(g["name"]))) for g in data["grids"])
        assert all(g.code and g.name for g in grids)
    except (AssertionError, KeyError, TypeError):
        raise DeskError("网格（乡镇街道）代码表格式不正确") from None
    if len({g.code for g in grids}) != len(grids) or len({g.name for g in grids}) != len(grids):
        raise DeskError("网格（乡镇街道）代码表中有重复的代码或名称")
    return grids


def load_grids(resources: Path) -> tuple[Grid, ...]:
    path = resources / GRIDS_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DeskError(f"找不到网格（乡镇街道）代码表 {path}") from None
    except (OSError, UnicodeDecodeError, ValueError) as e:
        raise DeskError(f"无法读取网格（乡镇街道）代码表 {path}：{type(e).__name__}") from None
    return parse_grids(data)


@functools.cache
def bundled_grids() -> tuple[Grid, ...]:
    """The catalog shipped in the desk's resources directory (read once)."""
    return load_grids(BUNDLED_RESOURCES)


def _key(text: str) -> str:
    """Text as matched: full-width forms folded (NFKC), whitespace dropped."""
    return "".join(unicodedata.normalize("NFKC", text).split())


def grid_of(address: str | None, grids: tuple[Grid, ...] | None = None) -> str | None:
    """The code of the grid whose name the address contains (the longest such name: 平山湖蒙古族乡 over a
    shorter name inside it); None when the address names none (another county, or no township given)."""
    if not address:
        return None
    text = _key(address)
    best: Grid | None = None
    for g in bundled_grids() if grids is None else grids:
        if g.name in text and (best is None or len(g.name) > len(best.name)):
            best = g
    return None if best is None else best.code


def age_band(birth_date: dt.date | None, on_day: dt.date) -> str | None:
    """The ten-year band of the age on `on_day` ("<18", "18-29", ..., "70+"); None without a birth date."""
    if birth_date is None:
        return None
    age = on_day.year - birth_date.year - ((on_day.month, on_day.day) < (birth_date.month, birth_date.day))
    if age < 18:
        return "<18"
    if age < 30:
        return "18-29"
    if age >= 70:
        return "70+"
    low = age // 10 * 10
    return f"{low}-{low + 9}"
