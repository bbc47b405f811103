"""The `desk` admin commands, run as real processes: init, register, cases."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import valid_id, visit


def desk(
    *args: str, db: str, stdin: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    full_env = dict(os.environ, **(env or {}))
    return subprocess.run(
        [sys.executable, "-m", "desk", *args, "--db", db],
        capture_output=True,
        text=True,
        input=stdin,
        env=full_env,
        timeout=60,
    )


@pytest.fixture
def db(store_url: str) -> str:
    r = desk("init", db=store_url)
    assert r.returncode == 0, r.stderr
    assert "17 个纠纷类别，9 个功能室" in r.stdout
    return store_url


def write(tmp_path: Path, data: object, name: str = "visit.json") -> str:
    p = tmp_path / name
    p.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return str(p)


def test_register_prints_case_number_and_cases_finds_it(db: str, tmp_path: Path) -> None:
    r = desk("register", "--file", write(tmp_path, visit()), db=db)
    assert r.returncode == 0, r.stderr
    case_no = r.stdout.strip()
    assert case_no.startswith("620702001-") and case_no.endswith("-000001")
    for query in ["zs", "张三", valid_id("62070219850101123"), "13912345678", case_no]:
        found = desk("cases", "--search", query, db=db)
        assert found.returncode == 0 and case_no in found.stdout, query
        assert valid_id("62070219850101123") not in found.stdout  # masked only
    js = json.loads(desk("cases", "--search", "zs", "--json", db=db).stdout)
    assert js[0]["case_no"] == case_no and js[0]["category"] == "邻里纠纷" and "****" in js[0]["applicant_id"]


def test_register_from_stdin_and_repeat_visit(db: str) -> None:
    first = desk("register", "--file", "-", db=db, stdin=json.dumps(visit(), ensure_ascii=False))
    again = desk("register", "--file", "-", db=db, stdin=json.dumps(visit(), ensure_ascii=False))
    assert first.returncode == again.returncode == 0
    assert first.stdout == again.stdout
    assert "重复访" in again.stderr


def test_bad_input_exit_2_every_reason_nothing_written(db: str, tmp_path: Path) -> None:
    bad = visit(
        narrative="a\x00b",
        headcount=-1,
        parties=[
            {
                "role": "applicant",
                "name": "张3",
                "id_number": valid_id("62070219850101123")[:-1] + "0",
                "phone": "139",
            },
        ],
    )
    r = desk("register", "--file", write(tmp_path, bad), db=db)
    assert r.returncode == 2 and r.stdout == ""
    lines = r.stderr.strip().splitlines()
    assert {line.split(":")[0] for line in lines} == {
        "narrative",
        "headcount",
        "parties[0].name",
        "parties[0].id_number",
        "parties[0].phone",
    }
    assert "校验位不符" in r.stderr and "U+0000" in r.stderr
    assert desk("cases", "--search", "张", db=db).stdout == ""


def test_unreadable_json_is_a_clear_error(db: str, tmp_path: Path) -> None:
    p = tmp_path / "broken.json"
    p.write_text("{not json", encoding="utf-8")
    r = desk("register", "--file", str(p), db=db)
    assert r.returncode == 2 and "不是有效的 JSON" in r.stderr  # bad input, like every other refusal
    r = desk("register", "--file", str(tmp_path / "missing.json"), db=db)
    assert r.returncode == 1 and "无法读取文件" in r.stderr


def test_db_from_environment_else_embedded_default(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'env.db'}"
    env = dict(os.environ, DESK_DB_URL=url)
    r = subprocess.run(
        [sys.executable, "-m", "desk", "init"], capture_output=True, text=True, env=env, timeout=60
    )
    assert r.returncode == 0 and (tmp_path / "env.db").exists()
    env.pop("DESK_DB_URL")
    r = subprocess.run(
        [sys.executable, "-m", "desk", "init", "--demo"], capture_output=True, text=True, env=env, timeout=120
    )
    assert r.returncode == 0, r.stderr
    assert (Path(os.environ["DESK_DATA_DIR"]) / "desk.db").exists()  # the conftest's private data dir
    assert "已加入 40 条示例来访" in r.stdout


def test_init_with_hall_code(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'h.db'}"
    r = desk("init", "--hall-code", "620721101", db=url)
    assert r.returncode == 0 and "620721101" in r.stdout
    r = desk("init", "--hall-code", "62", db=f"sqlite:///{tmp_path / 'h2.db'}")
    assert r.returncode == 1 and "综治中心代码“62”无效" in r.stderr


def test_init_reminds_to_set_the_status_page_address_until_it_is_set(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'h.db'}"
    r = desk("init", db=url)
    assert r.returncode == 0
    assert "未设置 status_base_url" in r.stderr and "不能打印正式回执" in r.stderr
    r = subprocess.run(
        [sys.executable, "-m", "desk", "settings", "set", "status_base_url", "https://zz.gzq.gov.cn/s/"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 0, r.stderr
    r = desk("init", db=url)
    assert r.returncode == 0 and "status_base_url" not in r.stderr


def test_command_does_not_import_qt(db: str) -> None:
    code = (
        f"import sys; from desk.cli import main; main(['cases', '--search', 'zs', '--db', {db!r}]); "
        "print('PySide6' in sys.modules)"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.stdout.strip().splitlines()[-1] == "False"
