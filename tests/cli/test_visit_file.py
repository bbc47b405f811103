"""`desk register --file` and `desk county divert --file` with bad and good files, as real processes: bad files
exit 2 with the field named in Chinese, no traceback, nothing echoed raw, nothing written; Notepad's files work."""

from __future__ import annotations

import codecs
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from desk.store.county import HallIdentity, register_hall
from desk.store.models import CaseEvent
from desk.store.session import open_store
from tests.conftest import NOW, valid_id, visit

ID = valid_id("62070219850101123")


def desk(*args: str, db: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[str]:
    r = subprocess.run(
        [sys.executable, "-m", "desk", *args, "--db", db],
        capture_output=True,
        input=stdin,
        env=dict(os.environ),
        timeout=60,
    )
    return subprocess.CompletedProcess(r.args, r.returncode, r.stdout.decode(), r.stderr.decode())


def events(db: str) -> int:
    store = open_store(db)
    try:
        with store.read() as s:
            return s.scalar(sa.select(sa.func.count()).select_from(CaseEvent)) or 0
    finally:
        store.dispose()


@pytest.fixture
def db(sqlite_url: str) -> str:
    assert desk("init", db=sqlite_url).returncode == 0
    return sqlite_url


def utf8(data: object) -> bytes:
    return json.dumps(data, ensure_ascii=False).encode()


def with_applicant(**fields: object) -> bytes:
    party: dict[str, object] = {"role": "applicant", "name": "张三", "id_number": ID, "phone": "13912345678"}
    return utf8(visit(parties=[{**party, **fields}]))


BAD_FILES = {
    "empty": (b"", "visit.json: 文件是空的"),
    "not an object": (b"[1, 2]", "visit.json: 内容应为一个 JSON 对象 {...}，现为列表"),
    "syntax": (b'{"category": ', "visit.json: 不是有效的 JSON：第1行第14列，此处缺少值"),
    "gbk": (json.dumps(visit(), ensure_ascii=False).encode("gbk"), "GBK/GB18030"),
    "NaN": (utf8(visit()).replace(b'"headcount": 1', b'"headcount": NaN'), "headcount: NaN 不是有效的数值"),
    "Infinity": (utf8(visit()).replace(b'"headcount": 1', b'"headcount": Infinity'), "headcount: Infinity"),
    "1e400": (utf8(visit()).replace(b'"headcount": 1', b'"headcount": 1e400'), "headcount: 数值超出了"),
    "huge int": (utf8(visit()).replace(b'"headcount": 1', b'"headcount": ' + b"7" * 5000), "整数位数过多"),
    "deep": (b"[" * 50_000 + b"]" * 50_000, "visit.json: 嵌套层数过深"),
    "list narrative": (utf8(visit(narrative=["a"])), "narrative: 纠纷事由须为文本"),
    "number phone": (with_applicant(phone=13912345678), "parties[0].phone: 联系电话须为文本"),
    "string false": (with_applicant(is_organisation="false"), "parties[0].is_organisation: "),
    "misspelt key": (utf8({**visit(), "risk_flag": ["psychological_crisis"]}), "risk_flag: 不认识的字段"),
    "bidi name": (
        with_applicant(name="张\u202e三"),
        "parties[0].name: 姓名第2个字符是文字方向控制字符 U+202E",
    ),
    "zalgo name": (with_applicant(name="张\u0301\u0302\u0303三"), "叠加了3个附加符号"),
}


def test_bad_files_exit_2_with_the_field_named_and_write_nothing(db: str, tmp_path: Path) -> None:
    path = tmp_path / "visit.json"
    for what, (raw, expected) in BAD_FILES.items():
        path.write_bytes(raw)
        r = desk("register", "--file", str(path), db=db)
        assert r.returncode == 2, (what, r.stderr)
        assert r.stdout == "", what
        assert expected in r.stderr, (what, r.stderr)
        assert "Traceback" not in r.stderr and "Error" not in r.stderr, (what, r.stderr)
        assert ID not in r.stderr and "13912345678" not in r.stderr, what
    assert events(db) == 0


def test_control_characters_are_escaped_in_messages(db: str, tmp_path: Path) -> None:
    path = tmp_path / "visit.json"
    path.write_bytes(utf8(visit(category="邻里\u0007纠纷\u001b[2J")))
    r = desk("register", "--file", str(path), db=db)
    assert r.returncode == 2
    assert "category: 纠纷类别“邻里[U+0007]纠纷[U+001B][2J”不在类别目录中" in r.stderr
    assert "\u0007" not in r.stderr and "\u001b" not in r.stderr


def test_notepad_utf8_bom_and_utf16_files_register(db: str, tmp_path: Path) -> None:
    bom = tmp_path / "bom.json"
    bom.write_bytes(codecs.BOM_UTF8 + utf8(visit()))
    r = desk("register", "--file", str(bom), db=db)
    assert r.returncode == 0, r.stderr
    first = r.stdout.strip()
    unicode = tmp_path / "unicode.json"  # Notepad's "Unicode": UTF-16 LE with its BOM
    unicode.write_bytes(json.dumps(visit(), ensure_ascii=False).encode("utf-16"))
    r = desk("register", "--file", str(unicode), "--new-case", db=db)
    assert r.returncode == 0, r.stderr
    r = desk("register", "--file", "-", "--new-case", db=db, stdin=codecs.BOM_UTF8 + utf8(visit()))
    assert r.returncode == 0, r.stderr
    assert first.endswith("-000001") and r.stdout.strip().endswith("-000003")


def test_an_invisible_character_in_a_name_is_found_by_the_visible_name(db: str, tmp_path: Path) -> None:
    path = tmp_path / "visit.json"
    path.write_bytes(with_applicant(name="王\u3164小\u200b明"))
    r = desk("register", "--file", str(path), db=db)
    assert r.returncode == 0, r.stderr
    case_no = r.stdout.strip()
    for query in ("王小明", "王小", "wxm", "王\u200b小明"):
        found = json.loads(desk("cases", "--search", query, "--json", db=db).stdout)
        assert [(c["case_no"], c["applicant"]) for c in found] == [(case_no, "王小明")], query


def test_unknown_keys_are_ignored_with_a_note(db: str, tmp_path: Path) -> None:
    path = tmp_path / "visit.json"
    path.write_bytes(utf8({**visit(), "source_system": "12345平台"}))
    r = desk("register", "--file", str(path), db=db)
    assert r.returncode == 0, r.stderr
    assert "提示：来访中不认识的字段 “source_system” 已忽略" in r.stderr


def test_a_file_that_cannot_be_read(db: str, tmp_path: Path) -> None:
    r = desk("register", "--file", str(tmp_path / "missing.json"), db=db)
    assert r.returncode == 1 and "文件不存在" in r.stderr
    r = desk("register", "--file", str(tmp_path), db=db)
    assert r.returncode == 1 and "这是一个目录" in r.stderr


@pytest.mark.postgres
def test_county_divert_reads_files_with_the_same_parser(county_url: str, tmp_path: Path) -> None:
    county = open_store(county_url)
    with county.unit_of_work() as s:  # the hall has synced once: it is in the county's registry
        register_hall(s, HallIdentity("620702001", "东街街道综治中心"), NOW)
    county.dispose()
    path = tmp_path / "visit.json"
    path.write_bytes(with_applicant(phone=13912345678))
    r = desk("county", "divert", "--file", str(path), "--to-hall", "620702001", db=county_url)
    assert r.returncode == 2 and "parties[0].phone: 联系电话须为文本" in r.stderr
    path.write_bytes(b"")
    r = desk("county", "divert", "--file", str(path), "--to-hall", "620702001", db=county_url)
    assert r.returncode == 2 and "文件是空的" in r.stderr and "Traceback" not in r.stderr
    assert events(county_url) == 0
    path.write_bytes(codecs.BOM_UTF8 + with_applicant(name="张\u200b三"))
    r = desk("county", "divert", "--file", str(path), "--to-hall", "620702001", db=county_url)
    assert r.returncode == 0, r.stderr
    found = json.loads(desk("cases", "--search", "张三", "--json", db=county_url).stdout)
    assert [c["case_no"] for c in found] == [r.stdout.strip()]
