"""`desk user` and `desk audit`: accounts from the command line (passwords typed twice at a hidden prompt, or one
line each from stdin), and the audit log searched and exported. Secrets never reach the output or the audit."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from desk.cli import EXIT_ERROR, EXIT_INVALID, EXIT_OK, main
from desk.core.clock import FixedClock
from desk.core.permissions import Role
from desk.errors import DeskError
from desk.services.auth import AuthService
from desk.services.setup import init_hall
from desk.store.session import open_store
from tests.conftest import NOW, add_tester

DESK_NOW = "2026-11-27T10:00:00+08:00"
PASSWORD = "qiao-men-2026"
PIN = "4826"


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'desk.db'}"
    store = open_store(url)
    init_hall(store)
    add_tester(store)
    store.dispose()
    monkeypatch.setenv("DESK_NOW", DESK_NOW)
    return url


@pytest.fixture
def prompts(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """What getpass will "type", in order; the prompts it showed are checked after."""
    answers: list[str] = []
    shown: list[str] = []

    def fake(prompt: str = "") -> str:
        shown.append(prompt)
        return answers.pop(0)

    import getpass

    monkeypatch.setattr(getpass, "getpass", fake)
    yield answers
    assert not answers, f"not asked: {answers}"


def run(capsys: pytest.CaptureFixture[str], *args: str, stdin: str | None = None) -> tuple[int, str, str]:
    if stdin is not None:
        sys.stdin = io.StringIO(stdin)
    try:
        code = main([*args])
    finally:
        sys.stdin = sys.__stdin__
    out, err = capsys.readouterr()
    return code, out, err


def test_add_list_and_edit_users(db: str, capsys: pytest.CaptureFixture[str], prompts: list[str]) -> None:
    prompts += [PASSWORD, PASSWORD, PIN, PIN]
    code, out, err = run(
        capsys, "user", "add", "ZhangSan", "--name", "张三", "--roles", "desk,mediator", "--rooms", "R01,r02",
        "--pin", "--db", db,
    )  # fmt: skip
    assert code == EXIT_OK, err
    assert out.strip() == "已新增用户：zhangsan  张三  前台登记员、调解员  功能室：R01、R02  （有PIN码）"
    code, out, _ = run(capsys, "user", "list", "--json", "--db", db)
    assert [u for u in json.loads(out) if u["login"] != "tester"] == [
        {
            "login": "zhangsan",
            "name": "张三",
            "roles": ["desk", "mediator"],
            "rooms": ["R01", "R02"],
            "active": True,
            "locked_until": None,
            "has_pin": True,
        }
    ]
    assert run(capsys, "user", "roles", "zhangsan", "--roles", "supervisor", "--db", db)[1].startswith(
        "已修改：zhangsan  张三  督办主管  功能室：R01、R02"
    )
    assert run(capsys, "user", "disable", "zhangsan", "--db", db)[1].strip() == "已停用：zhangsan"
    assert "已停用" in run(capsys, "user", "list", "--db", db)[1]
    assert run(capsys, "user", "enable", "zhangsan", "--db", db)[1].strip() == "已启用：zhangsan"
    # the new password works, the old does not
    prompts += ["new-password-9", "new-password-9"]
    assert run(capsys, "user", "passwd", "zhangsan", "--db", db)[0] == EXIT_OK
    store = open_store(db)
    try:
        auth = AuthService(store, FixedClock(NOW))
        assert auth.sign_in("zhangsan", "new-password-9").login == "zhangsan"
        assert auth.switch_on_duty("zhangsan", PIN).login == "zhangsan"
    finally:
        store.dispose()
    # nothing secret in the audit's output
    code, out, _ = run(capsys, "audit", "--db", db)
    assert "新增用户 zhangsan" in out and "重设密码 zhangsan" in out
    assert PASSWORD not in out and PIN not in out and "new-password-9" not in out


def test_password_typed_twice_must_match_and_be_good(
    db: str, capsys: pytest.CaptureFixture[str], prompts: list[str]
) -> None:
    prompts += [PASSWORD, PASSWORD + "x"]
    code, _, err = run(capsys, "user", "add", "lisi", "--name", "李四", "--roles", "desk", "--db", db)
    assert code == EXIT_ERROR and "两次输入的密码不一致" in err
    prompts += ["12345678"]  # refused before being asked again
    code, _, err = run(capsys, "user", "add", "lisi", "--name", "李四", "--roles", "desk", "--db", db)
    assert code == EXIT_INVALID and "密码不能全是数字" in err
    listed = json.loads(run(capsys, "user", "list", "--json", "--db", db)[1])
    assert [u["login"] for u in listed] == ["tester"]  # the commands' signed-in user only


def test_password_stdin_and_refusals(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(
        capsys, "user", "add", "wangwu", "--name", "王五", "--roles", "mediator", "--rooms", "R01", "--pin",
        "--password-stdin", "--db", db, stdin=f"{PASSWORD}\n{PIN}\n",
    )  # fmt: skip
    assert code == EXIT_OK, err
    code, _, err = run(
        capsys, "user", "add", "x", "--name", "", "--roles", "boss", "--rooms", "R99", "--password-stdin",
        "--db", db, stdin=f"{PASSWORD}\n",
    )  # fmt: skip
    assert code == EXIT_INVALID
    assert {line.split(":")[0] for line in err.splitlines()} == {"login", "name", "roles", "rooms"}
    code, _, err = run(capsys, "user", "add", "zhaoliu", "--name", "赵六", "--roles", "desk", "--password-stdin",
                       "--db", db, stdin="")  # fmt: skip
    assert code == EXIT_ERROR and "标准输入中没有密码" in err
    code, _, err = run(capsys, "user", "unlock", "nobody", "--db", db)
    assert code == EXIT_ERROR and "没有用户 nobody" in err
    assert run(capsys, "user", "unlock", "wangwu", "--db", db)[1].strip() == "已解除锁定：wangwu"
    assert run(capsys, "user", "pin", "wangwu", "--clear", "--db", db)[1].strip() == "已取消 wangwu 的 PIN 码"


def test_audit_search_and_export(db: str, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    for login in ("zhangsan", "lisi"):
        add = ("user", "add", login, "--name", "某人", "--roles", "desk", "--password-stdin", "--db", db)
        assert run(capsys, *add, stdin=f"{PASSWORD}\n")[0] == EXIT_OK
    code, out, _ = run(capsys, "audit", "--user", "tester", "--action", "users", "--since", "2026-11-27", "--until", "2026-11-27",
                       "--json", "--db", db)  # fmt: skip
    rows = json.loads(out)
    # each command's clock starts at DESK_NOW: their order within the same milliseconds is not fixed
    assert sorted(r["detail"].split("（")[0] for r in rows) == ["新增用户 lisi", "新增用户 zhangsan"]
    assert rows[0]["action"] == "users" and rows[0]["terminal"] == "命令行"
    assert run(capsys, "audit", "--since", "2026-11-28", "--db", db)[2].strip() == "没有符合条件的审计记录"
    code, _, err = run(capsys, "audit", "--since", "11/27", "--db", db)
    assert code == EXIT_INVALID and "不是日期" in err
    path = tmp_path / "audit.csv"
    code, out, _ = run(capsys, "audit", "--export", str(path), "--db", db)
    assert code == EXIT_OK and out.strip().startswith("已导出 ") and str(path) in out
    with path.open(encoding="utf-8-sig", newline="") as f:
        table = list(csv.reader(f))
    assert table[0][0] == "时间" and len(table) == int(out.split()[1]) + 1
    assert sum("新增用户" in " ".join(row) for row in table) == 2
    code, out, _ = run(capsys, "audit", "--action", "export", "--db", db)
    assert "导出审计日志" in out


def test_the_real_command_reads_the_password_from_stdin(db: str) -> None:
    r = subprocess.run(
        [sys.executable, "-m", "desk", "user", "add", "zhangsan", "--name", "张三", "--roles", "admin",
         "--password-stdin", "--db", db],
        input=f"{PASSWORD}\n", capture_output=True, text=True, timeout=60, env=dict(os.environ),
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert PASSWORD not in r.stdout + r.stderr
    r = subprocess.run(
        [sys.executable, "-m", "desk", "user", "list", "--db", db],
        capture_output=True, text=True, timeout=60, env=dict(os.environ),
    )  # fmt: skip
    assert "\nzhangsan  张三  系统管理员" in "\n" + r.stdout


def test_first_admin_for_desk_init(
    tmp_path: Path, prompts: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """What `desk init` calls: the first admin, password typed twice; nothing once there are users."""
    import argparse

    monkeypatch.delenv("DESK_PASSWORD_FILE")
    monkeypatch.delenv("DESK_ADMIN_ROLES")
    db = f"sqlite:///{tmp_path / 'fresh.db'}"
    fresh = open_store(db)
    init_hall(fresh)
    fresh.dispose()

    from desk.cli_users import create_first_admin, first_admin_arguments

    p = argparse.ArgumentParser()
    first_admin_arguments(p)
    args = p.parse_args(["--admin", "Admin", "--admin-name", "王管理"])
    store = open_store(db)
    try:
        prompts += ["short", PASSWORD, PASSWORD]
        with pytest.raises(DeskError, match="至少8个字符"):
            create_first_admin(args, store, FixedClock(NOW))
        made = create_first_admin(args, store, FixedClock(NOW))
        assert made is not None and made.login == "admin" and made.roles == {Role.ADMIN}
        assert create_first_admin(args, store, FixedClock(NOW)) is None
        assert AuthService(store, FixedClock(NOW)).sign_in("admin", PASSWORD).holds(Role.ADMIN)
    finally:
        store.dispose()


def test_the_screen_lock_is_a_setting_an_admin_sets(capsys: pytest.CaptureFixture[str], db: str) -> None:
    code, out, _ = run(capsys, "--db", db, "settings", "set", "lock_after_minutes", "5")
    assert code == EXIT_OK and "5 分钟无操作后锁屏" in out
    from desk.config import load_settings

    assert load_settings().lock_after_minutes == 5
    code, _, err = run(capsys, "--db", db, "settings", "set", "lock_after_minutes", "五")
    assert code == EXIT_INVALID and "不是整数分钟数" in err
    code, _, err = run(capsys, "--db", db, "settings", "set", "lock_after_minutes", "600")
    assert code == EXIT_INVALID and "最长 240 分钟" in err
    assert load_settings().lock_after_minutes == 5
