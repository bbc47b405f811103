"""People in a case: resident ID numbers, phone numbers, names, addresses and party roles."""

from __future__ import annotations

import datetime as dt
import enum
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field

from desk.core import text
from desk.errors import FieldProblem, ValidationError

# --- Resident identity number (GB 11643-1999) -------------------------------------------------------

_ID_BODY = re.compile(r"^\d{17}[\dX]$")
# Administrative division codes of Zhangye (DOMAIN.md); other valid codes come from python-stdnum's table.
ZHANGYE_REGIONS = {
    "620700": "张掖市",
    "620702": "甘州区",
    "620721": "肃南裕固族自治县",
    "620722": "民乐县",
    "620723": "临泽县",
    "620724": "高台县",
    "620725": "山丹县",
}


@dataclass(frozen=True)
class IdNumber:
    """A checked 18-character resident ID number with what it tells about its holder."""

    value: str
    birth_date: dt.date
    sex: str  # "男" or "女"
    region_code: str
    warnings: tuple[str, ...] = ()

    def masked(self) -> str:
        return mask_id_number(self.value)

    def age_on(self, day: dt.date) -> int:
        b = self.birth_date
        return day.year - b.year - ((day.month, day.day) < (b.month, b.day))


COMPOUND_SURNAMES = frozenset(
    {
        "欧阳",
        "司马",
        "上官",
        "诸葛",
        "东方",
        "皇甫",
        "尉迟",
        "令狐",
        "长孙",
        "万俟",
        "慕容",
        "夏侯",
        "公孙",
        "端木",
        "宇文",
        "司徒",
        "独孤",
        "南宫",
        "西门",
        "轩辕",
    }
)


def mask_name(name: str) -> str:
    """A name as receipts and screens facing the hall show it: 张*, 张*三, 欧阳**, 阿***·***."""
    if MIDDLE_DOT in name:
        return "".join(ch if i == 0 or ch == MIDDLE_DOT else "*" for i, ch in enumerate(name))
    compound = len(name) > 2 and name[:2] in COMPOUND_SURNAMES
    head = 2 if compound else 1
    rest = name[head:]
    if not compound and len(rest) >= 2:
        return name[:head] + "*" * (len(rest) - 1) + rest[-1]
    return name[:head] + "*" * len(rest)


def mask_id_number(value: str) -> str:
    """`620702********123X`: region code and last four only; for receipts, screens and the status page."""
    if len(value) < 10:
        return "*" * len(value)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


def normalise_id_number(raw: str) -> str:
    """Full-width digits and Ｘ become ASCII, spaces and zero-width characters go, `x` becomes `X`."""
    s = unicodedata.normalize("NFKC", raw)
    s = text.strip_invisible(s)
    s = "".join(s.split())
    return s.upper()


def parse_id_number(raw: str, *, today: dt.date, field_name: str = "id_number") -> IdNumber:
    """Check format, checksum and birth date; an unknown region code is a warning, never a refusal."""
    from stdnum.cn import (
        ric,  # checksum only: its region check refuses real numbers (see the foundation issue)
    )

    def refuse(msg: str) -> ValidationError:
        return ValidationError.single(field_name, msg)

    s = normalise_id_number(raw)
    if not s:
        raise refuse("请填写身份证号码")
    if len(s) == 15 and s.isdigit():
        raise refuse("这是15位的一代身份证号码，已停止使用；请提供18位的二代身份证号码")
    if len(s) != 18:
        raise refuse(f"身份证号码应为18位，现为{len(s)}位")
    if not _ID_BODY.match(s):
        bad = next((c for c in s[:17] if not c.isdigit()), None) or s[17]
        raise refuse(f"身份证号码含有非法字符“{text.shown(bad)}”：前17位须为数字，末位为数字或X")
    try:
        born = dt.date(int(s[6:10]), int(s[10:12]), int(s[12:14]))
    except ValueError:
        raise refuse(f"身份证号码中的出生日期 {s[6:14]} 不是有效日期") from None
    if born > today:
        raise refuse(f"身份证号码中的出生日期 {born:%Y-%m-%d} 晚于今天")
    if born.year < 1900:
        raise refuse(f"身份证号码中的出生日期 {born:%Y-%m-%d} 早于1900年")
    expected = ric.calc_check_digit(s)  # takes the whole number, check character included
    if expected != s[17]:
        raise refuse("身份证号码校验位不符，请逐位核对（常见为某一位录错或两位颠倒）")
    warnings = []
    region = s[:6]
    if region not in ZHANGYE_REGIONS:
        period = _region_period(region)
        if period is None:
            warnings.append(f"行政区划代码 {region} 不在代码表中，请核对证件")
        elif period[1] is not None and born.year > period[1]:
            # A code created after the birth year is normal (numbers were reissued); one abolished before
            # the person was born is not.
            warnings.append(f"行政区划代码 {region} 已于{period[1]}年撤销，早于出生年份，请核对证件")
    sex = "男" if int(s[16]) % 2 == 1 else "女"
    return IdNumber(value=s, birth_date=born, sex=sex, region_code=region, warnings=tuple(warnings))


def _region_period(region: str) -> tuple[int | None, int | None] | None:
    """The widest period in which `region` was in use, from python-stdnum's table; None if unknown."""
    from stdnum import numdb

    info = {k: v for _part, props in numdb.get("cn/loc").info(region) for k, v in props.items()}
    if not info.get("county"):
        return None
    starts: list[int | None] = []
    ends: list[int | None] = []
    for county in info["county"].split(","):
        m = re.match(r"^\[(\d*)-(\d*)\]", county)
        if not m:
            return (None, None)
        starts.append(int(m.group(1)) if m.group(1) else None)
        ends.append(int(m.group(2)) if m.group(2) else None)
    start = None if None in starts else min(s for s in starts if s is not None)
    end = None if None in ends else max(e for e in ends if e is not None)
    return (start, end)


def region_name(region_code: str) -> str | None:
    if region_code in ZHANGYE_REGIONS:
        return ZHANGYE_REGIONS[region_code]
    from stdnum import numdb

    info = {k: v for _part, props in numdb.get("cn/loc").info(region_code) for k, v in props.items()}
    county = info.get("county")
    if not county:
        return None
    return re.sub(r"\[[^\]]*\]", "", county.split(",")[-1])


# --- Phone numbers ----------------------------------------------------------------------------------

_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_LANDLINE = re.compile(r"^(0\d{2,3})(\d{7,8})$")


class PhoneKind(enum.StrEnum):
    MOBILE = "mobile"
    LANDLINE = "landline"


@dataclass(frozen=True)
class Phone:
    value: str  # 13912345678 or 0936-1234567
    kind: PhoneKind

    def masked(self) -> str:
        v = self.value
        return v[:3] + "****" + v[-4:] if self.kind is PhoneKind.MOBILE else v[:5] + "****" + v[-3:]


def normalise_phone(raw: str) -> str:
    s = unicodedata.normalize("NFKC", raw)
    s = text.strip_invisible(s)
    s = re.sub(r"[\s\-()（）]", "", s)
    if s.startswith("+86"):
        s = s[3:]
    elif s.startswith("0086"):
        s = s[4:]
    return s


def mask_phone(value: str | None) -> str:
    """`139****0001`, `0936-****345`: for screens and lists. A masked number stays as it is; one that does not
    parse shows no digit."""
    if not value:
        return ""
    if "*" in value:
        return value
    try:
        return parse_phone(value).masked()
    except ValidationError:
        return "*" * len(value)


def parse_phone(raw: str, *, field_name: str = "phone") -> Phone:
    s = normalise_phone(raw)
    if not s:
        raise ValidationError.single(field_name, "请填写联系电话")
    if not s.isdigit():
        raise ValidationError.single(field_name, "电话号码只能包含数字（座机可用“-”分隔区号）")
    if s.startswith("1"):
        if len(s) != 11:
            raise ValidationError.single(field_name, f"手机号码应为11位，现为{len(s)}位")
        if not _MOBILE.match(s):
            raise ValidationError.single(field_name, "手机号码第二位应为3至9")
        return Phone(s, PhoneKind.MOBILE)
    # Area codes: 010 and 02x have three digits, all others (0936 Zhangye) four.
    area_len = 3 if s[:2] in ("01", "02") else 4
    if s.startswith("0") and _LANDLINE.match(s) and 7 <= len(s) - area_len <= 8:
        return Phone(f"{s[:area_len]}-{s[area_len:]}", PhoneKind.LANDLINE)
    if s.startswith("0"):
        raise ValidationError.single(field_name, "座机号码应为区号加7至8位号码，如 0936-8212345")
    raise ValidationError.single(field_name, "请填写11位手机号码，或带区号的座机号码（如 0936-8212345）")


# --- Names ------------------------------------------------------------------------------------------

MIDDLE_DOT = "\u00b7"
# Look-alikes of the middle dot that input methods produce; all mean `·` in a minority name. Some are letters
# (ㆍ U+318D, ꞏ U+A78F, ᐧ U+1427), which the name check would otherwise let through as they are.
DOT_LOOKALIKES = frozenset(
    "\u2022\u2219\u30fb\uff65\u2027\uff0e.\u22c5\u0387\u2e31\u2e33\u16eb\u318d\ua78f\u1427"
)
NAME_MAX = 50
ORG_NAME_MAX = 100


def normalise_name(raw: str) -> str:
    """A name as it is stored and searched: invisible characters dropped, NFC, `·` for its look-alikes,
    single spaces. Never refuses (the search box uses it too); `parse_person_name` refuses."""
    s = unicodedata.normalize("NFC", text.strip_invisible(raw))
    s = "".join(MIDDLE_DOT if ch in DOT_LOOKALIKES else ch for ch in s)
    s = text.collapse_spaces(s)
    # Spaces around the dot come from input methods, never from the name.
    return s.replace(" " + MIDDLE_DOT, MIDDLE_DOT).replace(MIDDLE_DOT + " ", MIDDLE_DOT)


def _is_name_letter(ch: str) -> bool:
    cat = unicodedata.category(ch)
    if cat.startswith("L") or cat == "Mn":
        return True
    # Ideographs too new for Python's Unicode tables (planes 2 and 3) are still name characters.
    return cat == "Cn" and 0x20000 <= ord(ch) <= 0x3FFFF


def parse_person_name(raw: str, *, field_name: str = "name") -> str:
    """A person's name: Chinese or Latin letters, `·` between parts; stored as shown on screen (invisible
    characters dropped, NFC), so that search by the visible name finds it."""

    def refuse(msg: str) -> ValidationError:
        return ValidationError.single(field_name, msg)

    s = normalise_name(text.clean(raw, what="姓名", field_name=field_name))
    if not s:
        raise refuse("请填写姓名")
    if text.length(s) > NAME_MAX:
        raise refuse(f"姓名最多{NAME_MAX}个字，现为{text.length(s)}个字")
    for i, ch in enumerate(s, start=1):
        if ch.isdigit() or unicodedata.category(ch) == "Nd":
            raise refuse(f"姓名不能含有数字（第{i}个字符“{ch}”）")
        if unicodedata.category(ch) == "Cf":
            raise refuse(f"姓名第{i}个字符是不可见的格式字符 {text.describe(ch)}，请删除后重新输入")
        if ch in (MIDDLE_DOT, " "):
            continue
        if unicodedata.category(ch) == "Mn" and (i == 1 or s[i - 2] in (MIDDLE_DOT, " ")):
            # a mark on the dot or a space could draw over it (·̸ is not ·)
            raise refuse(f"姓名第{i}个字符是附加符号 {text.describe(ch)}，前面没有可附着的字")
        if not _is_name_letter(ch):
            raise refuse(f"姓名不能含有符号“{text.shown(ch)}”；少数民族姓名的间隔号请用“·”")
    if s.startswith(MIDDLE_DOT) or s.endswith(MIDDLE_DOT):
        raise refuse("间隔号“·”只能用在姓名中间")
    if MIDDLE_DOT * 2 in s:
        raise refuse("姓名中不能连续使用两个间隔号“·”")
    return s


def parse_org_name(raw: str, *, field_name: str = "name") -> str:
    """An organisation as a party (a company owing wages, a property manager): any printable text."""
    s = text.collapse_spaces(text.clean(raw, what="单位名称", field_name=field_name))
    if not s:
        raise ValidationError.single(field_name, "请填写单位名称")
    if text.length(s) > ORG_NAME_MAX:
        raise ValidationError.single(field_name, f"单位名称最多{ORG_NAME_MAX}个字，现为{text.length(s)}个字")
    return s


ADDRESS_MAX = 200


def parse_address(raw: str, *, field_name: str = "address") -> str:
    s = text.collapse_spaces(text.clean(raw, what="住址", field_name=field_name))
    if text.length(s) > ADDRESS_MAX:
        raise ValidationError.single(field_name, f"住址最多{ADDRESS_MAX}个字，现为{text.length(s)}个字")
    return s


# --- Parties ----------------------------------------------------------------------------------------


class PartyRole(enum.StrEnum):
    APPLICANT = "applicant"
    RESPONDENT = "respondent"
    OTHER = "other"

    @property
    def label(self) -> str:
        return {"applicant": "申请人", "respondent": "被申请人", "other": "第三人"}[self.value]


ROLE_ALIASES = {
    "申请人": PartyRole.APPLICANT,
    "被申请人": PartyRole.RESPONDENT,
    "第三人": PartyRole.OTHER,
    "third_party": PartyRole.OTHER,
}


@dataclass(frozen=True)
class Party:
    role: PartyRole
    name: str
    is_organisation: bool = False
    id_number: str | None = None
    phone: str | None = None
    address: str = ""
    birth_date: dt.date | None = None
    sex: str | None = None
    warnings: tuple[str, ...] = field(default=(), compare=False)


# The keys of a party in visit JSON (`desk register --file`); others are ignored with a warning.
PARTY_KEYS = frozenset({"role", "name", "is_organisation", "id_number", "phone", "address"})
_BOOLEAN_WORDS = ("true", "false", "yes", "no", "0", "1", "是", "否")


def parse_party(data: Mapping[str, object], *, today: dt.date) -> Party:
    """Check one party's fields; every problem found is reported, with field names relative to the party.
    Each field must have its JSON type: text for the texts, a real boolean for `is_organisation`."""
    problems: list[FieldProblem] = []

    def get(key: str, what: str) -> str | None:
        """The text of `key` ("" if absent); None, with the problem noted, if it is not text."""
        try:
            return text.as_text(data.get(key), what=what, field_name=key)
        except ValidationError as e:
            problems.extend(e.problems)
            return None

    role: PartyRole | None = None
    role_raw = get("role", "当事人身份")
    if role_raw is not None:
        role_key = text.lookup_key(role_raw) or PartyRole.APPLICANT.value
        try:
            role = ROLE_ALIASES.get(role_key) or PartyRole(role_key)
        except ValueError:
            problems.append(
                FieldProblem(
                    "role", f"当事人身份“{text.shown(role_raw.strip())}”无效，应为申请人、被申请人或第三人"
                )
            )
    org_raw = data.get("is_organisation")
    is_org: bool | None = False if org_raw is None else org_raw if isinstance(org_raw, bool) else None
    if is_org is None:
        written = (
            f"“{org_raw}”" if isinstance(org_raw, str) and org_raw.strip().lower() in _BOOLEAN_WORDS else ""
        )
        problems.append(
            FieldProblem(
                "is_organisation",
                f"是否为单位须为 true 或 false（JSON 布尔值，不加引号），现为{text.value_kind(org_raw)}{written}",
            )
        )
    name = id_number = phone = None
    address = ""
    birth = sex = None
    warnings: tuple[str, ...] = ()
    raw_name = get("name", "名称" if is_org else "姓名")
    if raw_name is not None and is_org is not None:  # an unknown kind of party has no rule for its name
        try:
            name = parse_org_name(raw_name) if is_org else parse_person_name(raw_name)
        except ValidationError as e:
            problems += e.problems
    raw_id = get("id_number", "身份证号码")
    if raw_id and raw_id.strip():
        if is_org:
            problems.append(FieldProblem("id_number", "单位当事人不填身份证号码"))
        else:
            try:
                idn = parse_id_number(raw_id, today=today)
                id_number, birth, sex, warnings = idn.value, idn.birth_date, idn.sex, idn.warnings
            except ValidationError as e:
                problems += e.problems
    raw_phone = get("phone", "联系电话")
    if raw_phone and raw_phone.strip():
        try:
            phone = parse_phone(raw_phone).value
        except ValidationError as e:
            problems += e.problems
    raw_address = get("address", "住址")
    if raw_address is not None:
        try:
            address = parse_address(raw_address)
        except ValidationError as e:
            problems += e.problems
    if role is PartyRole.APPLICANT and not problems and not id_number and not phone:
        problems.append(FieldProblem("id_number", "申请人须登记身份证号码或联系电话，以便回访和查询"))
    if problems:
        raise ValidationError(problems)
    assert role is not None and name is not None and is_org is not None
    return Party(
        role=role,
        name=name,
        is_organisation=is_org,
        id_number=id_number,
        phone=phone,
        address=address,
        birth_date=birth,
        sex=sex,
        warnings=warnings,
    )
