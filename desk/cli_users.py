"""The `desk user` (accounts) and `desk audit` (the audit log) commands, mounted in `desk/cli.py`.

Passwords and PINs are typed twice at a hidden prompt (getpass), or read one line each from standard input with
`--password-stdin` (scripts); they never appear on the command line, in the output or in the audit.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from desk.services.audit import AuditService
    from desk.services.auth import AuthService, UserView

EXIT_OK = 0


# --- who runs the command -----------------------------------------------------------------------------------


def _auth(args: argparse.Namespace) -> AuthService:
    from desk.cli import _services

    return _services(args).auth


def _audit(args: argparse.Namespace) -> AuditService:
    from desk.cli import _services

    return _services(args).audit


# --- secrets ------------------------------------------------------------------------------------------------


def _read_secret(args: argparse.Namespace, what: str, check: Callable[[str], None]) -> str:
    """A password or PIN: one line of standard input with --password-stdin, else typed twice (hidden).
    `check` refuses a weak one before it is asked again."""
    from desk.errors import DeskError

    if getattr(args, "password_stdin", False):
        line = sys.stdin.readline()
        if not line:
            raise DeskError(f"标准输入中没有{what}（--password-stdin 每行读一个）")
        value = line.rstrip("\r\n")
        check(value)
        return value
    import getpass

    first = getpass.getpass(f"{what}：")
    check(first)
    if getpass.getpass(f"再次输入{what}：") != first:
        raise DeskError(f"两次输入的{what}不一致，未作修改")
    return first


def _password(args: argparse.Namespace, login: str) -> str:
    from desk.security.passwords import check_password

    return _read_secret(args, "密码", lambda pw: check_password(pw, login.strip().lower()))


def _pin(args: argparse.Namespace) -> str:
    from desk.security.passwords import check_pin

    return _read_secret(args, "PIN 码", check_pin)


# --- the first admin, for `desk init` ------------------------------------------------------------------------


def first_admin_arguments(p: argparse.ArgumentParser) -> None:
    """`desk init`'s options for the first admin (for the lead to add to `_init_arguments`)."""
    p.add_argument(
        "--admin", metavar="LOGIN", help="首个系统管理员的用户名（尚无用户时创建；不给则提示输入）"
    )
    p.add_argument("--admin-name", metavar="NAME", help="首个系统管理员的姓名")
    p.add_argument(
        "--password-stdin", action="store_true", help="从标准输入读首个管理员的密码（一行），不提示"
    )


def create_first_admin(args: argparse.Namespace, store: Any, clock: Any) -> UserView | None:
    """`desk init`, `desk county init`: the first admin, when the store has no user yet. The login from
    `--admin`, else `DESK_USER`, else asked; the name from `--admin-name` (asked at a terminal, else the login);
    the password typed twice, or one line of stdin (`--password-stdin`), or `DESK_PASSWORD_FILE` (installers).
    Roles: admin, plus those in `DESK_ADMIN_ROLES` (a small centre where one person does everything). None when
    there are users already. There is no default password, and none is written to any file."""
    import os

    from desk.cli import DESK_ADMIN_ROLES, DESK_PASSWORD_FILE, DESK_USER
    from desk.cli import _password as password_file_or_prompt
    from desk.core.permissions import Role, parse_roles
    from desk.errors import DeskError
    from desk.services.auth import AuthService

    auth = AuthService(store, clock, terminal=(getattr(args, "terminal", None) or "").strip() or "命令行")
    if auth.has_users():
        return None
    interactive = sys.stdin.isatty()
    login = (getattr(args, "admin", None) or os.environ.get(DESK_USER, "")).strip()
    if not login:
        if not interactive:
            raise DeskError("请用 --admin 指定首个系统管理员的用户名（或设置 DESK_USER）")
        login = input("首个系统管理员的用户名：")
    name = (getattr(args, "admin_name", None) or "").strip()
    if not name:
        name = input("姓名：") if interactive else login
    if os.environ.get(DESK_PASSWORD_FILE, "").strip() and not getattr(args, "password_stdin", False):
        password = password_file_or_prompt()
    else:
        password = _password(args, login)
    roles = parse_roles([os.environ.get(DESK_ADMIN_ROLES, "")]) | {Role.ADMIN}
    return auth.create_first_admin(login, name, password, roles=roles)


# --- desk user ----------------------------------------------------------------------------------------------


def _csv(text: str | None) -> list[str]:
    return [p.strip() for p in (text or "").replace("，", ",").split(",") if p.strip()]


def _user_line(v: UserView) -> str:
    flags = []
    if not v.active:
        flags.append("已停用")
    if v.locked_until is not None:
        from desk.core.clock import CHINA_TZ

        flags.append(f"锁定至 {v.locked_until.astimezone(CHINA_TZ):%H:%M}")
    if v.has_pin:
        flags.append("有PIN码")
    rooms = "、".join(v.rooms) or "—"
    return f"{v.login}  {v.name}  {v.roles_label or '无角色'}  功能室：{rooms}" + (
        f"  （{'，'.join(flags)}）" if flags else ""
    )


def _user_json(v: UserView) -> dict[str, Any]:
    return {
        "login": v.login,
        "name": v.name,
        "roles": sorted(r.value for r in v.roles),
        "rooms": list(v.rooms),
        "active": v.active,
        "locked_until": v.locked_until.isoformat() if v.locked_until else None,
        "has_pin": v.has_pin,
    }


def _user_arguments(p: argparse.ArgumentParser) -> None:
    from desk.cli import _db_argument

    sub = p.add_subparsers(dest="user_command", required=True, metavar="子命令")

    def login_arg(q: argparse.ArgumentParser) -> None:
        _db_argument(q)
        q.add_argument("login", metavar="LOGIN", help="用户名")

    def stdin_arg(q: argparse.ArgumentParser) -> None:
        q.add_argument(
            "--password-stdin", action="store_true", help="从标准输入读密码（及 PIN 码），每行一个，不提示"
        )

    add = sub.add_parser("add", help="新增用户（密码输入两次）")
    login_arg(add)
    add.add_argument("--name", required=True, help="姓名")
    add.add_argument("--roles", required=True, help="角色，逗号分隔：desk,mediator,supervisor,admin,caller")
    add.add_argument("--rooms", default="", help="所在功能室代码，逗号分隔（调解员），如 R01,R02")
    add.add_argument("--pin", action="store_true", help="同时设置 PIN 码（功能室终端换班、解除锁屏用）")
    stdin_arg(add)
    ls = sub.add_parser("list", help="列出用户")
    _db_argument(ls)
    ls.add_argument("--json", action="store_true", help="以 JSON 输出")
    passwd = sub.add_parser("passwd", help="重设用户密码（同时解除锁定）")
    login_arg(passwd)
    stdin_arg(passwd)
    pin = sub.add_parser("pin", help="设置或取消用户的 PIN 码")
    login_arg(pin)
    pin.add_argument("--clear", action="store_true", help="取消 PIN 码")
    stdin_arg(pin)
    roles = sub.add_parser("roles", help="修改用户的角色（及功能室）")
    login_arg(roles)
    roles.add_argument("--roles", required=True, help="新的角色，逗号分隔")
    roles.add_argument("--rooms", default=None, help="新的功能室代码，逗号分隔（不给则不变）")
    unlock = sub.add_parser("unlock", help="解除账户锁定（连续输错密码后）")
    login_arg(unlock)
    disable = sub.add_parser("disable", help="停用账户（不能再登录）")
    login_arg(disable)
    enable = sub.add_parser("enable", help="重新启用账户")
    login_arg(enable)


def _cmd_user(args: argparse.Namespace) -> int:
    auth = _auth(args)
    command = args.user_command
    if command == "list":
        users = auth.users()
        if args.json:
            from desk.cli import _print_json

            _print_json([_user_json(v) for v in users])
        elif not users:
            print("尚无用户：请用 desk user add 新增", file=sys.stderr)
        for v in users if not args.json else ():
            print(_user_line(v))
        return EXIT_OK
    login = args.login
    if command == "add":
        password = _password(args, login)
        pin = _pin(args) if args.pin else None
        v = auth.add_user(login, args.name, _csv(args.roles), _csv(args.rooms), password, pin=pin)
        print(f"已新增用户：{_user_line(v)}")
    elif command == "passwd":
        target = auth.user(login)
        auth.set_password(target.login, _password(args, target.login))
        print(f"已重设 {target.login} 的密码")
    elif command == "pin":
        target = auth.user(login)
        auth.set_pin(target.login, None if args.clear else _pin(args))
        print(f"已{'取消' if args.clear else '设置'} {target.login} 的 PIN 码")
    elif command == "roles":
        rooms = None if args.rooms is None else _csv(args.rooms)
        v = auth.update_user(login, roles=_csv(args.roles), rooms=rooms)
        print(f"已修改：{_user_line(v)}")
    elif command == "unlock":
        v = auth.unlock_account(login)
        print(f"已解除锁定：{v.login}")
    elif command in ("disable", "enable"):
        v = auth.update_user(login, active=command == "enable")
        print(f"已{'启用' if v.active else '停用'}：{v.login}")
    return EXIT_OK


USER_COMMAND = (
    "用户：新增、列出、重设密码或 PIN 码、修改角色、解除锁定、停用/启用",
    _user_arguments,
    _cmd_user,
)


# --- desk audit ---------------------------------------------------------------------------------------------


def _audit_arguments(p: argparse.ArgumentParser) -> None:
    from desk.cli import _db_argument

    _db_argument(p)
    p.add_argument("--user", metavar="LOGIN", help="只看此用户名的记录")
    p.add_argument("--case", metavar="CASE_NO", help="只看此案件的记录")
    p.add_argument("--since", metavar="YYYY-MM-DD", help="起始日期（含）")
    p.add_argument("--until", metavar="YYYY-MM-DD", help="截止日期（含）")
    p.add_argument("--action", help="只看一种操作（如 view_full、export，或中文名称“查看完整信息”）")
    p.add_argument("--limit", type=int, default=500, help="最多显示条数（默认 500；导出时不限）")
    p.add_argument("--export", metavar="FILE", help="导出为 CSV 文件（Excel 可直接打开）")
    p.add_argument("--json", action="store_true", help="以 JSON 输出")


def _cmd_audit(args: argparse.Namespace) -> int:
    from desk.cli import _parse_day
    from desk.core.clock import CHINA_TZ

    since = _parse_day(args.since, "--since") if args.since else None
    until = _parse_day(args.until, "--until") if args.until else None
    filters: dict[str, Any] = {
        "login": args.user,
        "case_no": args.case,
        "since": since,
        "until": until,
        "action": args.action,
    }
    audit = _audit(args)
    if args.export:
        n = audit.export_csv(args.export, **filters)
        print(f"已导出 {n} 条审计记录：{args.export}")
        return EXIT_OK
    entries = audit.search(**filters, limit=args.limit)
    if args.json:
        from desk.cli import _print_json

        _print_json(
            [
                {
                    "at": e.at.isoformat(),
                    "login": e.login,
                    "user_name": e.user_name,
                    "terminal": e.terminal,
                    "action": e.action.value,
                    "case_no": e.case_no,
                    "detail": e.detail,
                }
                for e in entries
            ]
        )
        return EXIT_OK
    if not entries:
        print("没有符合条件的审计记录", file=sys.stderr)
    for e in entries:
        who = f"{e.user_name}（{e.login}）" if e.login else e.user_name
        where = f"@{e.terminal}" if e.terminal else ""
        parts = [f"{e.at.astimezone(CHINA_TZ):%Y-%m-%d %H:%M:%S}", f"{who}{where}", e.action.label]
        if e.case_no:
            parts.append(e.case_no)
        if e.detail:
            parts.append(e.detail)
        print("  ".join(parts))
    return EXIT_OK


AUDIT_COMMAND = (
    "审计日志：按用户、案件、日期、操作查询，或导出 CSV",
    _audit_arguments,
    _cmd_audit,
)
