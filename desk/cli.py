"""The `desk` command: the GUI (default) and the admin commands. Qt is imported only for the GUI.

Hardware call buttons and schedulers run `desk call` and `desk rooms --json` many times a day, so a command
starts cheaply: only its own subparser is built, its services come from `build_services` (each built, and its
module imported, on first use), its other imports are made inside it, and (`run`) it runs without the cyclic
garbage collector.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import gc
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from desk.config import resolve_db_url
from desk.errors import DeskError, FieldProblem, Refused, StoreError, ValidationError

if TYPE_CHECKING:
    from desk.config import Settings
    from desk.core.clock import Clock
    from desk.services.root import Services
    from desk.store.session import Store
    from desk.sync.engine import RoundReport, SyncError

EXIT_OK, EXIT_ERROR, EXIT_INVALID, EXIT_NOBODY_WAITING = 0, 1, 2, 3
EXIT_REGISTERED_NO_TICKET = (
    4  # `register --queue`: the case is registered (its number printed), the ticket failed
)
ROLES = ("desk", "room", "display", "kiosk", "supervisor")
DOCUMENT_FORMATS = ("80mm", "a5", "a4-sheet", "agreement")  # = desk.services.documents.DOCUMENT_FORMATS
# the `document` of the document_printed event: both receipt formats are one document (a reprint is a 补打 of either)
PRINTED_DOCUMENTS = {
    "80mm": "receipt",
    "a5": "receipt",
    "a4-sheet": "registration_sheet",
    "agreement": "agreement",
}
CLI_ACTOR = "命令行"
DB_HELP = "数据库地址（默认读 DESK_DB_URL，否则用本机内置 SQLite）"
# the top-level options that take a value (so the command can be found in argv without parsing it all)
_TOP_OPTIONS_WITH_VALUE = ("--db", "--role", "--room", "--terminal")


class Command(NamedTuple):  # not a dataclass: making one costs a command's start a millisecond
    """A subcommand: its help line, its arguments, what runs it; `long_running` keeps the cyclic GC on."""

    help: str
    arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]
    long_running: bool = False


def _parser(only: str | None = None) -> argparse.ArgumentParser:
    """The `desk` parser; with `only`, the subparser of that command alone (the others are not built)."""
    p = argparse.ArgumentParser(prog="desk", description="一厅通：综治中心接待大厅工作台")
    p.add_argument("--db", metavar="URL", help=DB_HELP)
    p.add_argument(
        "--role",
        choices=ROLES,
        default="desk",
        help="窗口角色：desk 前台登记（默认）、room 功能室终端、display 大厅叫号屏、kiosk 自助查询机、"
        "supervisor 督办（预警、逾期、吹哨超时、回访）",
    )
    p.add_argument("--room", metavar="ID", help="功能室代码（--role room 时必填，如 R01）")
    p.add_argument("--terminal", metavar="NAME", help="本终端名称（默认：主机名）")
    sub = p.add_subparsers(dest="command")
    for name, command in COMMANDS.items():
        if only is None or name == only:
            command.arguments(sub.add_parser(name, help=command.help))
    return p


def _command_in(argv: Sequence[str]) -> str | None:
    """The subcommand `argv` names (its first positional argument), None for the GUI, help or a wrong name."""
    skip = False
    for arg in argv:
        if skip:
            skip = False
        elif arg.startswith("-"):
            if arg in ("-h", "--help"):
                return None
            # `--db URL`, also abbreviated (`--te NAME`); `--db=URL` carries its value
            skip = "=" not in arg and any(
                o.startswith(arg) for o in _TOP_OPTIONS_WITH_VALUE if arg.startswith("--")
            )
        else:
            return arg if arg in COMMANDS else None
    return None


def run() -> int:
    """The `desk` executable and `python -m desk`: `main` in a process of its own.

    A short command runs without the cyclic garbage collector (it would only walk the objects the imports made,
    again and again), and its process ends as soon as the command has: the command's stores are closed (the
    last WAL checkpoint), the exit hooks run and the output is flushed, but the interpreter is not torn down --
    freeing every module and object one by one cost `desk rooms` about a sixth of its CPU time, for memory the
    system takes back anyway. The GUI and the long-running commands end the ordinary way."""
    command = COMMANDS.get(_command_in(sys.argv[1:]) or "")
    if command is None or command.long_running:
        return main()
    gc.disable()
    opened: list[Store] = []
    code = main(opened=opened)
    for store in opened:
        store.dispose()
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe (`desk rooms | head -1`)
            stream.flush()
    os._exit(code)


def main(argv: Sequence[str] | None = None, *, opened: list[Store] | None = None) -> int:
    """Run `desk` with `argv` (default: the process's arguments); returns the exit code. The stores the command
    opens are added to `opened` when it is given, for the caller to close; otherwise they are closed here."""
    argv = list(sys.argv[1:] if argv is None else argv)
    name = _command_in(argv)
    command = COMMANDS.get(name) if name is not None else None
    args = _parser(name).parse_args(argv)
    args.opened = [] if opened is None else opened
    try:
        return _main(args, command)
    finally:
        if opened is None:  # nobody else closes them
            for store in args.opened:
                store.dispose()


def _main(args: argparse.Namespace, command: Command | None) -> int:
    from desk.core.redact import scrub
    from desk.services.root import clock_from_environment

    try:
        args.clock = clock_from_environment()  # DESK_NOW is checked before anything else happens
        if command is None:
            return _gui(args)
        _log_warnings_scrubbed()
        return command.run(args)
    except ValidationError as e:
        for p in e.problems:
            print(f"{p.field}: {scrub(p.message)}", file=sys.stderr)
        return EXIT_INVALID
    except (
        Refused
    ) as e:  # a step the case's state does not allow: refused like invalid input, nothing written
        print(f"错误：{scrub(e.message)}", file=sys.stderr)
        return EXIT_INVALID
    except DeskError as e:
        print(f"错误：{scrub(e.message)}", file=sys.stderr)
        return EXIT_ERROR
    except Exception as e:  # noqa: BLE001 - a bug or an unforeseen failure: a message, the traceback to the log
        where = _log_unexpected(e)
        print(
            f"错误：程序出现意外错误（{type(e).__name__}），本次操作未完成。"
            + (f"详细信息已记入日志：{where}" if where else ""),
            file=sys.stderr,
        )
        return EXIT_ERROR


def _log_warnings_scrubbed() -> None:
    """The warnings a command's modules log go to stderr scrubbed (Python's last-resort handler would print
    them raw); the GUI sets up its own logging."""
    import logging

    from desk.core.redact import ScrubFilter

    root = logging.getLogger()
    if not root.handlers:
        handler = logging.StreamHandler()
        handler.setLevel(logging.WARNING)
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        handler.addFilter(ScrubFilter())
        root.addHandler(handler)


def _log_unexpected(e: Exception) -> Path | None:
    """Append the scrubbed traceback of `e` to the desk's log file; its path, or None if it cannot be written."""
    import datetime as dt

    from desk.config import log_dir
    from desk.core.redact import format_exception

    try:
        directory = log_dir()
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / "desk.log"
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        with os.fdopen(fd, "a", encoding="utf-8") as f:
            f.write(f"{dt.datetime.now().isoformat(timespec='seconds')} ERROR desk.cli: unhandled\n")
            f.write(format_exception(type(e), e, e.__traceback__))
        return path
    except OSError:
        return None


def _gui(args: argparse.Namespace) -> int:
    if args.role == "room" and not args.room:
        print("错误：--role room 需要 --room 功能室代码（desk rooms 可列出）", file=sys.stderr)
        return EXIT_INVALID
    from desk.app import main as gui_main  # Qt only here

    return gui_main(db_url=resolve_db_url(args.db), role=args.role, room=args.room, terminal=args.terminal)


def _services(
    args: argparse.Namespace,
    *,
    db: str | None = None,
    terminal: str = "",
    county_url: str = "",
    settings: Settings | None = None,
    create: bool = False,
    sign_in: bool = True,
) -> Services:
    """The services of a command over its store (`db`, else `--db`, `DESK_DB_URL` or the embedded store),
    acting for the user `DESK_USER` signed in at this terminal (`sign_in=False`: nobody, for the commands that
    only read what is public or set the store up). `settings`: the user's, for a command whose output depends
    on them (`receipt`: the status page's URL); the others, the hardware call button's among them, do not read
    the settings file. `create`: the store may be made if it is not there (`desk init`); every other command
    refuses a path where there is no store."""
    from desk.services.root import build_services
    from desk.store.session import open_store

    clock: Clock = args.clock
    store = open_store(db or resolve_db_url(getattr(args, "db", None)), create=create)
    args.opened.append(store)
    services = build_services(store, clock, settings=settings, county_url=county_url)
    if sign_in:
        services = services.signed_in(_cli_principal(services, terminal or CLI_ACTOR))
    return services


DESK_USER, DESK_PASSWORD_FILE, DESK_ADMIN_ROLES = "DESK_USER", "DESK_PASSWORD_FILE", "DESK_ADMIN_ROLES"
SIGN_IN_HELP = (
    "请先登录：设置环境变量 DESK_USER=用户名；密码在提示时输入，"
    "或由 DESK_PASSWORD_FILE 指向只有本人可读的密码文件（供计划任务、叫号器使用）"
)


def _require(args: argparse.Namespace, action: str) -> Services:
    """Sign in and refuse (`Forbidden`) unless the user may take `action` (a `desk.core.permissions.Action`)."""
    from desk.core.permissions import Action, check

    services = _services(args)
    check(services.principal, Action(action))
    return services


def _authorise(args: argparse.Namespace, action: str) -> None:
    """`_require` for a command that works on the store's file itself (backup, restore) or on this PC: sign in,
    check `action`, and close the store again (a restore refuses a store in use)."""
    signed = _require(args, action).store
    args.opened.remove(signed)
    signed.dispose()


def _admin_gate(args: argparse.Namespace, action: str) -> None:
    """For a command that guards this PC rather than one store (`desk keys`, `desk settings set`): when the
    store (`--db`, `DESK_DB_URL` or the default) exists and has users, sign in and require `action`. Before any
    store or user exists -- a new PC being set up -- there is nobody to check against."""
    from desk.store.session import open_store

    try:
        store = open_store(resolve_db_url(getattr(args, "db", None)), create=False)
    except StoreError:
        return
    try:
        from desk.services.root import build_services

        if not build_services(store, args.clock).auth.has_users():
            return
    finally:
        store.dispose()
    _authorise(args, action)


def _password(prompt: str = "密码：") -> str:
    """The password: the first line of `DESK_PASSWORD_FILE` (readable by its owner only), else typed at the
    terminal without echo. Never printed or logged."""
    import getpass
    import stat

    path = os.environ.get(DESK_PASSWORD_FILE, "").strip()
    if path:
        try:
            st = os.stat(path)
            if st.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
                raise DeskError(f"密码文件 {path} 其他用户也能读取：请先执行 chmod 600 {path}")
            with open(path, encoding="utf-8") as f:
                return f.readline().rstrip("\r\n")
        except OSError as e:
            raise DeskError(f"无法读取密码文件 {path}：{e.strerror or '读取出错'}") from None
    if not sys.stdin.isatty():
        raise DeskError(SIGN_IN_HELP)
    return getpass.getpass(prompt)


def _cli_principal(services: Services, terminal: str) -> Any:
    """Sign `DESK_USER` in (Argon2 check, lockout after five failures, audited) at `terminal`."""
    login = os.environ.get(DESK_USER, "").strip()
    if not login:
        raise DeskError(SIGN_IN_HELP)
    auth = services.signed_in(services.principal.at(terminal)).auth
    return auth.sign_in(login, _password())


def _read_visit(path: str) -> dict[str, Any]:
    """A visit JSON file (`-`: standard input), read as bytes and checked by the one visit-JSON parser
    (`desk.core.visit_json`); what it ignored is said on stderr."""
    import errno

    from desk.core.text import shown
    from desk.core.visit_json import MAX_BYTES, load_visit

    try:
        if path == "-":
            raw = sys.stdin.buffer.read(MAX_BYTES + 1)
        else:
            with open(path, "rb") as f:
                raw = f.read(MAX_BYTES + 1)
    except OSError as e:
        reason = {
            errno.ENOENT: "文件不存在，请检查路径",
            errno.EACCES: "没有读取权限",
            errno.EISDIR: "这是一个目录，不是文件",
        }.get(e.errno or 0, "读取出错")
        raise DeskError(f"无法读取文件 {shown(path, limit=200)}：{reason}") from None
    loaded = load_visit(raw, source="标准输入" if path == "-" else path)
    for w in loaded.warnings:
        print(f"提示：{w}", file=sys.stderr)
    return loaded.data


def _print_json(data: object) -> None:
    import json

    print(json.dumps(data, ensure_ascii=False, indent=2))


def _db_argument(p: argparse.ArgumentParser) -> None:
    p.add_argument("--db", metavar="URL", default=argparse.SUPPRESS, help=DB_HELP)


# --- init ------------------------------------------------------------------------------------------------


def _init_arguments(p: argparse.ArgumentParser) -> None:
    _db_argument(p)
    p.add_argument("--hall-code", metavar="CODE", help="本中心代码（行政区划代码，如 620702001）")
    p.add_argument("--hall-name", metavar="NAME", help="本中心名称（如 甘州区东街街道综治中心）")
    p.add_argument("--demo", action="store_true", help="加入一天的示例来访")
    _admin_arguments(p)


def _admin_arguments(p: argparse.ArgumentParser) -> None:
    from desk.cli_users import first_admin_arguments

    first_admin_arguments(p)


def _first_admin(services: Services, args: argparse.Namespace) -> str | None:
    """The new store's first admin (see `desk.cli_users.create_first_admin`); its login, None if there are users."""
    from desk.cli_users import create_first_admin

    made = create_first_admin(args, services.store, services.clock)
    return None if made is None else made.login


def _cmd_init(args: argparse.Namespace) -> int:
    from desk.services.setup import init_hall

    services = _services(args, create=True, sign_in=False)
    report = init_hall(services.store, hall_code=args.hall_code, hall_name=args.hall_name)
    print(
        f"综治中心 {report.hall_code} {report.hall_name}：{report.categories} 个纠纷类别，{report.rooms} 个功能室"
    )
    _ensure_keys()
    _seal_older_data(services.store)
    admin = _first_admin(services, args)
    if admin:
        print(f"已创建系统管理员 {admin}：用 desk user add 为前台、调解员、督办人员开设账户")
    if args.demo:
        from desk.core.clock import local_date
        from desk.services.demo import add_demo_day

        n = add_demo_day(services.store, day=local_date(services.clock.now()))
        print(f"已加入 {n} 条示例来访")
    _remind_status_base_url(demo=args.demo)
    return EXIT_OK


def _ensure_keys() -> None:
    """This machine's data keys: made at the first `desk init` unless a key set is here (imported from the
    county with `desk keys import`, which a hall that shares the county's data must do before its first sync)."""
    from desk.security.keys import load_keyset, save_keyset
    from desk.security.vault import KeySet

    if load_keyset() is None:
        where = save_keyset(KeySet.generate())
        print(
            f"已生成本机数据密钥（保存在 {where}）；与县级共享数据时，请改用县级管理员提供的密钥文件（desk keys import）"
        )


def _seal_older_data(store: Store) -> None:
    """A store upgraded from before encryption (or after a key import) still holds personal data in clear or
    under another key: `desk init` seals it, batch by batch (resumable), and says so."""
    from desk.security.keys import current_vault
    from desk.store.reseal import needs_reseal, reseal

    vault = current_vault()
    if not needs_reseal(store, vault):
        return
    print("正在加密此前以明文保存的个人信息（可中断，再运行 desk init 会接着做）…", file=sys.stderr)
    report = reseal(store, vault)
    print(
        f"已加密：事件 {report.events} 条，当事人 {report.parties} 人，案件 {report.cases} 件",
        file=sys.stderr,
    )


def _remind_status_base_url(*, demo: bool) -> None:
    """Real receipts need the status page's address: say so at set-up, not first at the window's printer."""
    from desk.config import STATUS_URL_EXAMPLE, SettingError, check_status_base_url, load_settings

    try:
        check_status_base_url(load_settings().status_base_url)
    except SettingError as e:
        how = (
            ""
            if "desk settings set" in e.message
            else f"（desk settings set status_base_url {STATUS_URL_EXAMPLE}）"
        )
        print(
            f"提示：{e.message}{how}。正式回执的二维码指向此地址，设置好之前不能打印正式回执"
            + ("（示例来访的回执照常打印，标为演示）" if demo else ""),
            file=sys.stderr,
        )


# --- register, cases ----------------------------------------------------------------------------------------


def _register_arguments(p: argparse.ArgumentParser) -> None:
    _db_argument(p)
    p.add_argument("--file", required=True, metavar="visit.json", help="来访 JSON 文件（- 表示标准输入）")
    p.add_argument("--new-case", action="store_true", help="即使此人有同类未结案件也另立新案")
    p.add_argument(
        "--queue",
        action="store_true",
        help="登记后分派功能室并取号（与前台回车确认相同）；第二行输出排队号，如“A003 → R01 人民调解室”；"
        "已登记但未能取号时退出码为 4（可再用 desk ticket 取号）",
    )
    _route_arguments(p)


def _cmd_register(args: argparse.Namespace) -> int:
    if not args.queue and (args.room is not None or args.reason is not None or args.priority):
        raise ValidationError.single(
            "--queue", "--room、--reason、--priority 只用于取号，须与 --queue 一起使用"
        )
    _check_route_arguments(args)
    data = _read_visit(args.file)
    services = _services(args)
    if args.queue:
        _check_can_route(services, args.room)  # refused before anything is registered
    result = services.registration.register(data, new_case=args.new_case)
    # The case number is printed only now, after the commit: a printed number is a promise.
    print(result.case_no, flush=True)
    if result.is_repeat:
        print(f"此人有同类未结案件，已记为案件 {result.case_no} 的重复访", file=sys.stderr)
    for w in result.warnings:
        print(f"提示：{w}", file=sys.stderr)
    if not args.queue:
        return EXIT_OK
    try:
        held = services.queue.active_ticket(result.case_no)
        if held is not None:  # a repeat visit while still queued keeps its ticket, as at the desk
            room = services.rooms.room(held.room_code)
            print(f"{held.label} → {room.code} {room.name}")
            print(f"此案已有排队号 {held.label}，沿用原号", file=sys.stderr)
            return EXIT_OK
        _issue_ticket(services, result.case_no, args)
    except DeskError as e:
        # The case is committed and its number printed: say what failed and how to give the ticket later.
        why = "；".join(p.message for p in e.problems) if isinstance(e, ValidationError) else e.message
        print(f"错误：案件 {result.case_no} 已登记，但未能取号：{why}", file=sys.stderr)
        print(f"案件已保存，可用 desk ticket {result.case_no} 为其取号", file=sys.stderr)
        return EXIT_REGISTERED_NO_TICKET
    return EXIT_OK


# --- ticket (and register --queue) --------------------------------------------------------------------------

DECLARABLE_PRIORITIES = ("disabled", "pregnant")  # = desk.forms.registration.DECLARED_PRIORITIES


def _route_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--room", metavar="ID", help="改派到此功能室（代码如 R02，desk rooms 可列出），须同时给出 --reason"
    )
    p.add_argument("--reason", metavar="TEXT", help="改派理由（与 --room 一起使用）")
    p.add_argument(
        "--priority",
        action="append",
        choices=DECLARABLE_PRIORITIES,
        default=[],
        help="来访人申报的优先需要：disabled 残疾人、pregnant 孕妇（可重复；70岁以上老人按身份证号自动优先）",
    )


def _check_route_arguments(args: argparse.Namespace) -> None:
    """An override names its room and says why, as the desk records it; a reason alone overrides nothing."""
    reason = (args.reason or "").strip()
    if args.room is not None and not args.room.strip():
        raise ValidationError.single("--room", "功能室代码不能为空（desk rooms 可列出）")
    if args.room is not None and not reason:
        raise ValidationError.single("--reason", f"改派到 {args.room.strip()} 须用 --reason 说明理由")
    if args.room is None and args.reason is not None:
        raise ValidationError.single("--reason", "--reason 是改派理由，须与 --room 一起使用")
    args.room = args.room.strip().upper() if args.room is not None else None
    args.reason = reason


def _check_can_route(services: Services, room_code: str | None) -> None:
    """Refuse, before anything is written, a store with no rooms to route to and a room that cannot take the
    visitor (unknown or closed); the ticket checks both again in its own transaction."""
    if services.county is not None:
        raise DeskError("此数据库是县级库：县级不分派功能室，请用 desk county divert 分流到综治中心")
    if room_code is not None:
        room = services.rooms.room(room_code)
        if not room.is_open:
            raise ValidationError.single(
                "--room", f"功能室 {room.code} {room.name}现未开放，请选择其他功能室"
            )


def _issue_ticket(services: Services, case_no: str, args: argparse.Namespace) -> None:
    """Route the case as the desk's Enter does (to the proposed room, or the override) and print its ticket."""
    try:
        issued = services.queue.issue_ticket(
            case_no, room_code=args.room, override_reason=args.reason, declared_priority=args.priority
        )
    except ValidationError as e:
        fields = {"room": "--room", "reason": "--reason"}
        problems = [FieldProblem(fields.get(p.field, p.field), p.message) for p in e.problems]
        if args.room is None and any(p.field == "--room" for p in problems):
            problems.append(FieldProblem("--room", "可用 --room 指定功能室并以 --reason 说明理由"))
        raise ValidationError(problems) from None
    room = issued.room
    print(f"{issued.ticket.label} → {room.code} {room.name}")
    where = f"（{room.location}）" if room.location else ""
    print(
        f"请到{room.number}号{room.name}{where}等候，前面 {issued.ahead} 人，"
        f"预计等候约 {issued.estimated_wait_minutes} 分钟",
        file=sys.stderr,
    )
    if issued.overridden:
        proposed = issued.proposal.room_code or "无"
        print(f"已改派（建议的功能室：{proposed}），理由已记录", file=sys.stderr)


def _ticket_arguments(p: argparse.ArgumentParser) -> None:
    _db_argument(p)
    p.add_argument("case_no", metavar="CASE_NO", help="案件编号（已登记、尚无排队号的案件）")
    _route_arguments(p)


def _cmd_ticket(args: argparse.Namespace) -> int:
    """A ticket for a registered case that has none (left at 暂不取号, registered by a script, diverted here)."""
    _check_route_arguments(args)
    case_no = args.case_no.strip()
    if not case_no:
        raise ValidationError.single("CASE_NO", "案件编号不能为空")
    services = _services(args)
    _check_can_route(services, args.room)
    _issue_ticket(services, case_no, args)
    return EXIT_OK


def _cases_arguments(p: argparse.ArgumentParser) -> None:
    _db_argument(p)
    p.add_argument("--search", required=True, metavar="TEXT")
    p.add_argument("--json", action="store_true", help="以 JSON 输出")
    p.add_argument("--limit", type=int, default=50)


def _cmd_cases(args: argparse.Namespace) -> int:
    from desk.core.cases import CaseState
    from desk.core.clock import CHINA_TZ

    registration = _services(args).registration
    found = registration.search(args.search, limit=args.limit)
    names = {c.code: c.name for c in registration.categories()}
    if args.json:
        _print_json(
            [
                {
                    "case_no": c.case_no,
                    "category": names.get(c.category_code, c.category_code),
                    "state": c.state,
                    "registered_at": c.registered_at.isoformat(),
                    "applicant": c.applicant_name,
                    "applicant_id": c.applicant_id_masked,
                    "repeat_visits": c.repeat_visits,
                }
                for c in found
            ]
        )
        return EXIT_OK
    if not found:
        print("未找到匹配的案件", file=sys.stderr)
        return EXIT_OK
    for c in found:
        when = c.registered_at.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M")
        state = CaseState(c.state).label
        print(
            f"{c.case_no}  {when}  {state:<4}  {names.get(c.category_code, c.category_code):<8}  "
            f"{c.applicant_name}  {c.applicant_id_masked}"
        )
    return EXIT_OK


# --- rooms, call ----------------------------------------------------------------------------------------


def _rooms_arguments(p: argparse.ArgumentParser) -> None:
    _db_argument(p)
    p.add_argument("--json", action="store_true", help="以 JSON 输出")


def _cmd_rooms(args: argparse.Namespace) -> int:
    rooms = _services(args, sign_in=False).rooms.rooms()
    if args.json:
        _print_json(
            [
                {
                    "id": r.code,
                    "name": r.name,
                    "kind": r.kind,
                    "prefix": r.prefix,
                    "open": r.is_open,
                    "waiting": r.waiting,
                    "location": r.location,
                    "capacity": r.capacity,
                }
                for r in rooms
            ]
        )
        return EXIT_OK
    for r in rooms:
        state = "开放" if r.is_open else "关闭"
        print(f"{r.code}  {r.name:<10}  {r.kind:<8}  {r.prefix}  {state}  等候{r.waiting}人  {r.location}")
    return EXIT_OK


def _call_arguments(p: argparse.ArgumentParser) -> None:
    _db_argument(p)
    p.add_argument("--room", required=True, metavar="ID", help="功能室代码，如 R01")
    p.add_argument("--terminal", metavar="NAME", default="", help="叫号终端名称")


def _cmd_call(args: argparse.Namespace) -> int:
    import socket

    services = _services(args, terminal=args.terminal or socket.gethostname())
    services.rooms.room(args.room)  # an unknown room is an error, not "nobody waiting"
    ticket = services.queue.call_next(args.room)
    if ticket is None:
        print("无人等候", file=sys.stderr)
        return EXIT_NOBODY_WAITING
    print(ticket.label)
    return EXIT_OK


# --- receipt --------------------------------------------------------------------------------------------


def _receipt_arguments(p: argparse.ArgumentParser) -> None:
    _db_argument(p)
    p.add_argument("case_no", metavar="CASE_NO", help="案件编号")
    p.add_argument("--out", required=True, metavar="FILE.pdf", help="输出的 PDF 文件")
    p.add_argument(
        "--format",
        dest="fmt",
        choices=DOCUMENT_FORMATS,
        default="80mm",
        help="80mm 热敏回执（默认）、a5 回执、a4-sheet 来访登记表、agreement 人民调解协议书",
    )
    p.add_argument("--reprint", action="store_true", help="补打（此前已打印过时自动标为补打）")


def _cmd_receipt(args: argparse.Namespace) -> int:
    """Render a case's receipt or document to a PDF (written atomically) and record the print as a case event."""
    import os
    import tempfile

    from desk.config import load_settings

    services = _services(args, settings=load_settings())
    docs = services.documents
    document = PRINTED_DOCUMENTS[args.fmt]
    reprint = bool(args.reprint) or docs.was_printed(args.case_no, document)
    pdf = _render_document(services, args.case_no, args.fmt, reprint=reprint)
    out = Path(args.out)
    try:
        fd, tmp = tempfile.mkstemp(
            prefix=f".{out.name}.", suffix=".tmp", dir=out.parent if str(out.parent) else "."
        )
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(pdf)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, out)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as e:
        raise DeskError(f"无法写入文件 {out}：{e.strerror}") from e
    docs.record_printed(args.case_no, document=document, reprint=reprint)
    print(out)
    if reprint:
        print("已标记为补打", file=sys.stderr)
    return EXIT_OK


def _render_document(services: Services, case_no: str, fmt: str, *, reprint: bool) -> bytes:
    docs = services.documents
    if fmt in ("80mm", "a5"):
        from desk.printing.receipt import render_receipt

        return render_receipt(docs.receipt_data(case_no, reprint=reprint), fmt=fmt)
    from desk.printing.sheets import render_agreement, render_registration_sheet

    if fmt == "a4-sheet":
        return render_registration_sheet(docs.sheet_data(case_no))
    # the outcome's agreement (its terms, number and mediator), or the blank form before there is one
    return render_agreement(services.handling.agreement_data(case_no))


# --- status-server, sync ------------------------------------------------------------------------------------


def _status_server_arguments(p: argparse.ArgumentParser) -> None:
    _db_argument(p)
    p.add_argument("--host", default="127.0.0.1", help="监听地址（默认 127.0.0.1，由反向代理对外）")
    p.add_argument("--port", type=int, default=8080, help="端口（默认 8080）")


STATUS_ROLE = "desk_status"  # desk.store.roles.STATUS


def _postgresql_user(url: str) -> str | None:
    """The user a PostgreSQL URL connects as ("" for the default); None for any other URL."""
    from sqlalchemy.engine import make_url

    try:
        u = make_url(url)
    except Exception:  # noqa: BLE001 - opening it says what is wrong
        return None
    return (u.username or "") if u.get_backend_name() == "postgresql" else None


def _cmd_status_server(args: argparse.Namespace) -> int:
    import logging

    from desk.config import check_status_db_url, check_trusted_proxies, load_settings, with_stored_password
    from desk.status.app import serve

    settings = load_settings()
    proxies = check_trusted_proxies(settings.trusted_proxies)  # a bad entry: a message, not a start
    # its own role's address (status_db_url) unless --db names one; else the store's, as the desk opens it
    own = "" if getattr(args, "db", None) else check_status_db_url(settings.status_db_url)
    if own:
        url = with_stored_password(own, "status_db_url")
    else:
        url = resolve_db_url(getattr(args, "db", None))
        if _postgresql_user(url) not in (None, STATUS_ROLE):
            message = (
                "警告：状态查询服务正以本机数据库的账号连接 PostgreSQL，不是最小权限；"
                "请用 desk settings set status_db_url 设置状态查询专用账号（desk_status）的地址"
            )
            print(message, file=sys.stderr)
            logging.getLogger(__name__).warning("status server connects with the store's own role")
    serve(url, host=args.host, port=args.port, trusted_proxies=proxies)
    return EXIT_OK


def _sync_arguments(p: argparse.ArgumentParser) -> None:
    _db_argument(p)
    p.add_argument(
        "--county",
        metavar="URL",
        help="县级 PostgreSQL 地址（默认读 DESK_COUNTY_URL，否则读设置文件的 county_db_url）",
    )
    when = p.add_mutually_exclusive_group()
    when.add_argument("--once", action="store_true", help="同步一轮后退出（默认）")
    when.add_argument("--every", type=float, metavar="SECONDS", help="每隔若干秒同步一轮，直到中断")


def _cmd_sync(args: argparse.Namespace) -> int:
    from desk.config import resolve_county_url
    from desk.sync.engine import SyncError, parse_county_url, safe_url

    url = resolve_county_url(args.county)
    if not url:
        raise DeskError(
            "未配置县级数据库：用 --county URL、环境变量 DESK_COUNTY_URL 或设置文件的 county_db_url"
        )
    try:
        parse_county_url(url)  # a malformed address is said before the store is opened
    except SyncError as e:
        source = (
            "--county"
            if args.county
            else "环境变量 DESK_COUNTY_URL"
            if os.environ.get("DESK_COUNTY_URL")
            else "设置文件的 county_db_url"
        )
        raise SyncError(f"{e.message}（来自 {source}）") from None
    sync = _services(args, county_url=url).sync
    if sync is None:
        raise DeskError("此数据库是县级库：同步由各综治中心发起（desk sync --db 本中心的库）")
    syncer = sync.make_syncer()

    def show(result: RoundReport | SyncError) -> None:
        if isinstance(result, SyncError):
            print(f"同步失败：{result.message}", file=sys.stderr)
        else:
            print(
                f"已与 {safe_url(url)} 同步：上传 {result.pushed} 条，下载 {result.pulled} 条"
                + ("，目录已更新" if result.reference_updated else "")
                + f"（{result.seconds * 1000:.0f} 毫秒）"
            )

    try:
        if args.every:
            try:
                syncer.run_every(args.every, on_round=show)
            except KeyboardInterrupt:
                return EXIT_OK
            return EXIT_OK
        try:
            show(syncer.run_once())
        except SyncError as e:
            show(e)
            return EXIT_ERROR
        return EXIT_OK
    finally:
        syncer.close()


# --- settings -------------------------------------------------------------------------------------------

# the settings `desk settings set` takes, each checked before it is saved
SETTABLE = ("status_base_url", "trusted_proxies", "county_db_url", "status_db_url", "lock_after_minutes")


def _settings_arguments(p: argparse.ArgumentParser) -> None:
    ssub = p.add_subparsers(dest="settings_command", required=True)
    sset = ssub.add_parser("set", help="检查并保存一项设置")
    sset.add_argument(
        "key",
        choices=SETTABLE,
        help="status_base_url 回执二维码的查询地址（https://…/s/）；trusted_proxies 状态查询服务前的可信反向代理"
        "（IP 或网段，逗号分隔，空串为无）；county_db_url 县级数据库地址；status_db_url 状态查询服务专用的"
        "数据库地址（PostgreSQL 账号 desk_status）。地址中的密码存入密钥存储，不写入设置文件",
    )
    sset.add_argument("value", metavar="VALUE")
    ssub.add_parser("show", help="显示当前设置（不显示密码）")


def _cmd_settings(args: argparse.Namespace) -> int:
    import dataclasses
    import json

    from desk.config import (
        SECRET_URLS,
        SettingError,
        check_lock_after_minutes,
        check_status_base_url,
        check_status_db_url,
        check_trusted_proxies,
        config_file,
        load_settings,
        save_settings,
        split_password,
    )
    from desk.security.keys import load_secret
    from desk.sync.engine import SyncError, parse_county_url, safe_url

    path = config_file()
    if path.exists():  # a file load_settings cannot read would be overwritten with defaults: refuse instead
        try:
            json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            raise DeskError(f"设置文件 {path} 无法读取或不是有效的 JSON：请修正或删除后再设置") from None
    settings = load_settings(path)
    if args.settings_command != "show":
        _admin_gate(args, "settings")
    if args.settings_command == "show":
        for name, current in dataclasses.asdict(settings).items():
            kept = ""
            if name in SECRET_URLS and current:
                current = safe_url(current)
                if load_secret(SECRET_URLS[name]):
                    kept = "（密码另存于密钥存储，不显示）"
            print(f"{name} = {', '.join(current) if isinstance(current, tuple | list) else current}{kept}")
        print(f"设置文件：{path}", file=sys.stderr)
        return EXIT_OK
    key, raw = args.key, args.value
    value: Any  # the type of the setting `key` names
    try:
        if key == "status_base_url":
            value = shown = check_status_base_url(raw)
        elif key == "trusted_proxies":
            value = check_trusted_proxies([v for v in raw.split(",") if v.strip()])
            shown = "、".join(value) or "（无）"
        elif key == "status_db_url":
            value = check_status_db_url(raw)
            shown = safe_url(value) if value else "（无：用本机数据库地址）"
        elif key == "lock_after_minutes":
            value = check_lock_after_minutes(raw)
            shown = f"{value} 分钟无操作后锁屏" if value else "从不自动锁屏"
        else:
            parse_county_url(raw)
            value, shown = raw.strip(), safe_url(raw.strip())
    except (SettingError, SyncError) as e:
        print(f"{key}: {e.message}", file=sys.stderr)
        return EXIT_INVALID
    # a database URL's password goes to the key store, the file gets the URL without it (save_settings)
    has_password = key in SECRET_URLS and split_password(value)[1] is not None
    save_settings(dataclasses.replace(settings, **{key: value}), path)
    print(f"已设置 {key} = {shown}" + ("（密码已存入密钥存储，设置文件中不含密码）" if has_password else ""))
    return EXIT_OK


# --- county ---------------------------------------------------------------------------------------------


def _county_arguments(p: argparse.ArgumentParser) -> None:
    csub = p.add_subparsers(dest="county_command", required=True)
    cinit = csub.add_parser("init", help="在 PostgreSQL 中建立或升级县级库，写入类别与部门目录")
    cinit.add_argument("--db", metavar="URL", required=True, help="县级 PostgreSQL 地址")
    cinit.add_argument("--code", default="620702", help="县级代码（行政区划代码，默认 620702）")
    cinit.add_argument("--name", default="甘州区综治中心", help="县级中心名称")
    _admin_arguments(cinit)
    cinit.add_argument(
        "--role-password-file",
        metavar="FILE",
        help='各数据库账号的密码（JSON，如 {"desk_sync": "…", "desk_status": "…"}）；本机信任认证时不需要',
    )
    cinit.add_argument(
        "--no-roles", action="store_true", help="不建立数据库账号与授权（由数据库管理员另行处理）"
    )
    div = csub.add_parser(
        "divert", help="在县级登记一次来访并分流到下级综治中心（JSON 与 desk register 相同）"
    )
    div.add_argument("--db", metavar="URL", help="县级 PostgreSQL 地址（默认读 DESK_COUNTY_URL）")
    div.add_argument("--file", metavar="visit.json", help="来访 JSON 文件（- 表示标准输入）")
    div.add_argument("--case", metavar="CASE_NO", help="分流已登记的案件（代替 --file）")
    div.add_argument("--to-hall", required=True, metavar="CODE", help="接收的综治中心代码")
    div.add_argument("--reason", default="", help="分流原因")
    halls = csub.add_parser("halls", help="列出已登记的下级综治中心及其同步情况")
    halls.add_argument("--db", metavar="URL", help="县级 PostgreSQL 地址（默认读 DESK_COUNTY_URL）")
    halls.add_argument("--json", action="store_true", help="以 JSON 输出")


def _role_passwords(path: str) -> dict[str, str]:
    """`--role-password-file`: a JSON object of role name -> password (never printed, never logged)."""
    import json

    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as e:
        raise DeskError(f"无法读取账号密码文件 {path}（{e.strerror or type(e).__name__}）") from None
    except ValueError:
        raise DeskError(f"账号密码文件 {path} 不是有效的 JSON") from None
    if not isinstance(data, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and v for k, v in data.items()
    ):
        raise DeskError(f'账号密码文件 {path} 应为 JSON 对象，如 {{"desk_sync": "密码"}}，密码不能为空')
    return data


def _county_services(args: argparse.Namespace) -> Services:
    from desk.config import resolve_county_url, with_stored_password
    from desk.sync.engine import parse_county_url

    url = args.db or resolve_county_url()
    if not url:
        raise DeskError("未指定县级数据库：用 --db URL 或环境变量 DESK_COUNTY_URL")
    parse_county_url(url, local=True)  # a malformed address: its Chinese message, not a traceback
    return _services(args, db=with_stored_password(url))


def _cmd_county(args: argparse.Namespace) -> int:
    if args.county_command == "init":
        from desk.services.county import init_county
        from desk.sync.engine import parse_county_url

        parse_county_url(args.db, local=True)
        passwords = _role_passwords(args.role_password_file) if args.role_password_file else None
        if passwords and args.no_roles:
            raise DeskError("--role-password-file 与 --no-roles 不能同时使用")
        services = _services(args, db=args.db, create=True, sign_in=False)
        r = init_county(
            services.store, code=args.code, name=args.name, roles=not args.no_roles, role_passwords=passwords
        )
        print(
            f"县级库 {r.code} {r.name}：{r.categories} 个纠纷类别，{r.departments} 个部门（目录第 {r.reference_version} 版）"
        )
        for role in r.roles:
            how = "新建" if role.created else "已有"
            print(
                f"数据库账号 {role.name}：{role.purpose}（{how}{'，已设密码' if role.password_set else ''}）"
            )
        if r.roles:
            print("已按最小权限授权；任何账号都不能删除或修改事件与审计记录")
        _ensure_keys()
        admin = _first_admin(services, args)
        if admin:
            print(f"已创建县级管理员 {admin}")
        return EXIT_OK
    county = _county_services(args).county
    if county is None:
        raise DeskError("此数据库不是县级库：上级分流须在县级库进行（desk county init）")
    if args.county_command == "halls":
        halls = county.halls()
        if args.json:
            _print_json(
                [
                    {
                        "code": h.code,
                        "name": h.name,
                        "acked_seq": h.acked_seq,
                        "last_push_at": h.last_push_at.isoformat() if h.last_push_at else None,
                        "alerts": h.alerts,
                    }
                    for h in halls
                ]
            )
        else:
            from desk.core.clock import CHINA_TZ

            for h in halls:
                seen = (
                    h.last_push_at.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M") if h.last_push_at else "—"
                )
                print(
                    f"{h.code}\t{h.name}\t已收至第 {h.acked_seq} 号\t最近同步 {seen}"
                    + (f"\t告警 {h.alerts} 条" if h.alerts else "")
                )
        return EXIT_OK
    if bool(args.file) == bool(args.case):
        raise DeskError("请给出 --file visit.json（新登记并分流）或 --case CASE_NO（分流已有案件）之一")
    if args.case:
        d = county.divert(args.case, to_hall=args.to_hall, reason=args.reason)
    else:
        data = _read_visit(args.file)
        d = county.divert_visit(data, to_hall=args.to_hall, reason=args.reason)
    print(d.case_no)
    print(f"已分流至 {d.to_hall} {d.to_hall_name}，该中心下次同步时收到", file=sys.stderr)
    return EXIT_OK


# --- case: handling a case step by step ---------------------------------------------------------------------

FOLLOW_UP_SATISFACTION = {"满意": "satisfied", "基本满意": "basically", "不满意": "dissatisfied"}
CASE_RESULTS = {
    "resolved": "resolved",
    "partly": "partly_resolved",
    "not_resolved": "not_resolved",
    "terminated": "terminated",
}
TRANSFER_TARGETS = ("litigation", "arbitration", "admin_review", "petition", "department", "higher")


class CaseSubcommand(NamedTuple):
    """One step of `desk case`: its name, help line, arguments (CASE_NO and the rest) and what runs it."""

    name: str
    help: str
    arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]


def _case_no_argument(p: argparse.ArgumentParser) -> None:
    p.add_argument("case_no", metavar="CASE_NO", help="案件编号")


def _case_no(args: argparse.Namespace) -> str:
    case_no = str(args.case_no).strip()
    if not case_no:
        raise ValidationError.single("CASE_NO", "案件编号不能为空")
    return case_no


def _parse_day(text: str, option: str) -> Any:
    import datetime as dt

    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise ValidationError.single(option, f"“{text[:20]}”不是日期，应如 2026-12-31") from None


def _say_done(file: Any, what: str) -> int:
    """The line a step prints after its commit: the case number, the new state and what was done."""
    print(f"{file.case_no} {file.state_label}：{what}")
    return EXIT_OK


def _case_show_arguments(p: argparse.ArgumentParser) -> None:
    _case_no_argument(p)
    p.add_argument("--json", action="store_true", help="以 JSON 输出")


def _case_show(args: argparse.Namespace) -> int:
    file = _services(args).handling.view(_case_no(args))
    if args.json:
        _print_json(_jsonable(file))
        return EXIT_OK
    for line in _case_lines(file):
        print(line)
    return EXIT_OK


def _jsonable(value: Any) -> Any:
    import dataclasses
    import datetime as dt
    import enum

    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return value


def _case_lines(f: Any) -> list[str]:  # f: desk.services.handling.CaseFile
    from desk.core.clock import CHINA_TZ
    from desk.core.queue import TicketState

    def when(t: Any) -> str:
        return t.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M") if t is not None else "—"

    d = f.deadline
    lines = [
        f"案件 {f.case_no}  {f.state_label}  {f.category}（{f.channel_label}，{f.headcount}人）",
        "当事人：" + "；".join(f"{p.role_label} {p.name}" for p in f.parties),
        f"功能室：{f.room} {f.room_name or ''}".rstrip() if f.room else "功能室：—",
        f"排队号：{f.ticket}（{TicketState(f.ticket_state).label}）" if f.ticket else "排队号：—",
        f"期限：{d.rule_label}，{d.start_on} 起算，{d.due_on or '—'} 到期"
        + (f"，剩余 {d.remaining_days} 日" if d.remaining_days is not None and d.remaining_days >= 0 else "")
        + (
            f"（{d.remaining_working_days} 个工作日）"
            if d.remaining_working_days is not None and d.remaining_days is not None and d.remaining_days >= 0
            else ""
        )
        + ("，已超期" if d.overdue else "")
        + ("，已中止" if d.paused else "")
        + (f"，已延长 {d.extended}{d.extension_unit_label}" if d.extended else ""),
    ]
    if d.calendar_gap:
        lines.append(f"！{d.calendar_gap}")
    lines.append(
        "风险："
        + (f"{f.risk_level_label}" if f.risk_level else "未定级")
        + (f"（{'、'.join(f.risk_flag_labels)}）" if f.risk_flag_labels else "")
    )
    for w in f.whistles:
        clocks = "，".join(f"{c.label}{when(c.due)}前 {c.state.label}" for c in w.clocks)
        lines.append(
            f"吹哨：{w.department_name} {w.matter}（{clocks}）"
            + (f" 评价：{w.rating_label}" if w.rating else "")
        )
    for i, s in enumerate(f.sessions, 1):
        who = "、".join(a.name for a in s.attendees)
        lines.append(
            f"调解笔录 {i}：{when(s.started_at)} {who}" + (f"；达成：{s.agreed}" if s.agreed else "")
        )
        lines += [f"  {n}. {t}" for n, t in enumerate(s.terms, 1)]
    for b in f.bookings:
        lines.append(f"预约：{b.day} {b.time} {b.room} {b.room_name}")
    if f.outcome is not None:
        o = f.outcome
        lines.append(
            f"调解结果：{o.label}"
            + (f"，协议书 {o.agreement_no}" if o.agreement_no else "")
            + (f"，理由：{o.reason}" if o.reason else "")
        )
        lines += [f"  {n}. {t}" for n, t in enumerate(o.terms, 1)]
    if f.transfer is not None:
        lines.append(f"转办：{f.transfer.where}，理由：{f.transfer.reason}")
    for u in f.follow_ups:
        done = f"{when(u.done_at)} {u.method_label} {u.satisfaction_label}" if u.done_at else "未回访"
        lines.append(f"回访：{u.due_on or '—'} 到期，{done}")
    for w in f.warnings:
        ack = f"（{w.acknowledged_by} 已阅）" if w.acknowledged_at else "（未阅）"
        lines.append(f"预警：{w.level_label} {w.message}{ack}")
    lines.append("可办理：" + ("、".join(s.label for s in f.allowed) or "—"))
    lines.append("办理经过：")
    lines += [f"  {when(t.occurred_at)}  {t.actor}  {t.label}  {t.summary}" for t in f.timeline]
    return lines


def _case_claim_arguments(p: argparse.ArgumentParser) -> None:
    _case_no_argument(p)
    p.add_argument("--terminal", metavar="NAME", default="", help="接待终端名称（默认：主机名）")


def _case_claim(args: argparse.Namespace) -> int:
    import socket

    case_no = _case_no(args)
    services = _services(args, terminal=args.terminal or socket.gethostname())
    ticket = services.queue.claim_by_scan(case_no)
    return _say_done(services.handling.view(case_no), f"接待 {ticket.label}")


def _case_session_arguments(p: argparse.ArgumentParser) -> None:
    _case_no_argument(p)
    p.add_argument(
        "--file",
        required=True,
        metavar="session.json",
        help='调解笔录 JSON：{"attendees": [{"name", "role": party|mediator|department, "department"}], '
        '"statements": [{"speaker", "text"}], "agreed", "terms": [...], "started_at", "ended_at", "room", '
        '"book": {"day", "time", "room"}}（- 表示标准输入）',
    )


def _case_session(args: argparse.Namespace) -> int:
    from desk.services.handling import session_from_json

    case_no = _case_no(args)
    entry = session_from_json(_read_json(args.file))
    file = _services(args).handling.record_session(case_no, **entry)
    return _say_done(
        file, f"已记录第 {len(file.sessions)} 次调解笔录" + ("并预约下次调解" if entry.get("book") else "")
    )


def _read_json(path: str) -> Any:
    import json

    from desk.core.text import shown

    try:
        raw = sys.stdin.buffer.read(1_000_001) if path == "-" else Path(path).read_bytes()[:1_000_001]
    except OSError:
        raise DeskError(f"无法读取文件 {shown(path, limit=200)}：请检查路径和权限") from None
    if len(raw) > 1_000_000:
        raise ValidationError.single("--file", "文件过大（超过 1 MB）")
    try:
        return json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ValidationError.single("--file", "文件不是 UTF-8 编码的文本") from None
    except json.JSONDecodeError as e:
        raise ValidationError.single(
            "--file", f"不是有效的 JSON（第 {e.lineno} 行第 {e.colno} 列）"
        ) from None


def _case_outcome_arguments(p: argparse.ArgumentParser) -> None:
    _case_no_argument(p)
    p.add_argument(
        "--result",
        required=True,
        choices=tuple(CASE_RESULTS),
        help="resolved 调解成功、partly 部分达成、not_resolved 调解不成、terminated 终止调解",
    )
    p.add_argument("--reason", default="", help="理由（部分达成、调解不成、终止时必填）")
    p.add_argument(
        "--term",
        action="append",
        default=None,
        metavar="TEXT",
        help="协议条款（可重复；默认取最近一次调解笔录的条款）",
    )
    p.add_argument("--performance", default="", help="履行方式")
    p.add_argument("--performance-by", metavar="DATE", help="履行期限（如 2026-12-31）")


def _case_outcome(args: argparse.Namespace) -> int:
    case_no = _case_no(args)
    by = _parse_day(args.performance_by, "--performance-by") if args.performance_by else None
    file = _services(args).handling.record_outcome(
        case_no,
        CASE_RESULTS[args.result],
        reason=args.reason,
        terms=args.term,
        performance=args.performance,
        performance_deadline=by,
    )
    o = file.outcome
    what = o.label if o is not None else args.result
    if o is not None and o.agreement_no:
        what += f"，人民调解协议书 {o.agreement_no}（desk receipt {case_no} --format agreement 打印）"
    return _say_done(file, what)


def _case_transfer_arguments(p: argparse.ArgumentParser) -> None:
    _case_no_argument(p)
    p.add_argument(
        "--to",
        required=True,
        choices=TRANSFER_TARGETS,
        help="litigation 诉讼、arbitration 仲裁、admin_review 行政复议、petition 信访、department 相关部门、higher 上级",
    )
    p.add_argument("--to-name", required=True, metavar="NAME", help="承办单位（如 甘州区人民法院）")
    p.add_argument("--reason", required=True, help="转办理由")


def _case_transfer(args: argparse.Namespace) -> int:
    file = _services(args).handling.transfer_out(_case_no(args), args.to, args.to_name, args.reason)
    return _say_done(file, f"已转办至{file.transfer.where if file.transfer else args.to_name}")


def _reason_arguments(required: bool, help: str) -> Callable[[argparse.ArgumentParser], None]:
    def add(p: argparse.ArgumentParser) -> None:
        _case_no_argument(p)
        p.add_argument("--reason", required=required, default="", help=help)

    return add


def _case_withdraw(args: argparse.Namespace) -> int:
    return _say_done(_services(args).handling.withdraw(_case_no(args), args.reason), "已撤回")


def _case_reopen(args: argparse.Namespace) -> int:
    return _say_done(_services(args).handling.reopen(_case_no(args), args.reason), "重新调解")


def _case_pause(args: argparse.Namespace) -> int:
    return _say_done(_services(args).handling.pause(_case_no(args), args.reason), "办理期限已中止")


def _case_close_arguments(p: argparse.ArgumentParser) -> None:
    _case_no_argument(p)
    p.add_argument("--summary", default="", help="办结说明")


def _case_close(args: argparse.Namespace) -> int:
    file = _services(args).handling.close(_case_no(args), args.summary)
    due = next((u.due_on for u in reversed(file.follow_ups) if u.done_at is None), None)
    return _say_done(file, "已办结" + (f"，回访安排在 {due}" if due else ""))


def _case_resume(args: argparse.Namespace) -> int:
    file = _services(args).handling.resume(_case_no(args))
    return _say_done(file, f"办理期限已恢复，{file.deadline.due_on} 到期")


def _case_extend_arguments(p: argparse.ArgumentParser) -> None:
    _case_no_argument(p)
    p.add_argument("--days", required=True, type=int, metavar="N", help="延长的数量（按期限规则的延长单位）")
    p.add_argument("--approved-by", required=True, metavar="NAME", help="批准人")
    p.add_argument("--reason", required=True, help="延长理由")


def _case_extend(args: argparse.Namespace) -> int:
    file = _services(args).handling.extend(_case_no(args), args.days, args.approved_by, args.reason)
    return _say_done(file, f"办理期限延长至 {file.deadline.due_on}")


def _case_follow_up_arguments(p: argparse.ArgumentParser) -> None:
    _case_no_argument(p)
    p.add_argument(
        "--method", required=True, choices=("phone", "visit"), help="phone 电话回访、visit 上门回访"
    )
    p.add_argument(
        "--held",
        required=True,
        choices=("yes", "no", "none"),
        help="协议是否履行：yes、no（重新调解）、none（无协议）",
    )
    p.add_argument("--satisfaction", required=True, choices=tuple(FOLLOW_UP_SATISFACTION), help="满意度")
    p.add_argument("--note", default="", help="回访记录")


def _case_follow_up(args: argparse.Namespace) -> int:
    held = {"yes": True, "no": False, "none": None}[args.held]
    file = _services(args).handling.follow_up(
        _case_no(args),
        method=args.method,
        agreement_held=held,
        satisfaction=FOLLOW_UP_SATISFACTION[args.satisfaction],
        note=args.note,
    )
    return _say_done(file, "已回访" + ("；协议未履行，案件重新调解" if held is False else ""))


def _case_finish_arguments(p: argparse.ArgumentParser) -> None:
    _case_no_argument(p)
    p.add_argument(
        "--choice",
        required=True,
        choices=("booked", "outcome", "transfer"),
        help="booked 已预约下次调解（须 --day --time）、outcome 已记录调解结果、transfer 已转办",
    )
    p.add_argument("--day", metavar="DATE", help="预约日期（如 2026-12-08）")
    p.add_argument("--time", metavar="HH:MM", help="预约时间")
    p.add_argument("--room", metavar="ID", help="预约的功能室（默认本案的功能室）")


def _case_finish(args: argparse.Namespace) -> int:
    from desk.core.lifecycle import FinishChoice
    from desk.services.handling import Booking

    case_no = _case_no(args)
    booking = None
    if args.choice == "booked":
        if not args.day or not args.time:
            raise ValidationError.single("--day", "已预约下次调解须给出 --day 和 --time")
        booking = Booking(_parse_day(args.day, "--day"), args.time, args.room)
    file = _services(args).handling.finish_reception(case_no, FinishChoice(args.choice), booking=booking)
    return _say_done(file, "已结束接待")


def _case_overdue_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="以 JSON 输出")


def _case_overdue(args: argparse.Namespace) -> int:
    found = _services(args).handling.overdue()
    if args.json:
        _print_json(_jsonable(found))
        return EXIT_OK
    if not found:
        print("没有超期案件", file=sys.stderr)
    for c in found:
        print(f"{c.case_no}  {c.state_label}  {c.category}  {c.due_on} 到期  超期 {c.days_overdue} 日")
    return EXIT_OK


def _case_follow_ups_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--day", metavar="DATE", help="到期日（默认今天）")
    p.add_argument("--json", action="store_true", help="以 JSON 输出")


def _case_follow_ups(args: argparse.Namespace) -> int:
    day = _parse_day(args.day, "--day") if args.day else None
    found = _services(args).handling.follow_ups_due(day)
    if args.json:
        _print_json(_jsonable(found))
        return EXIT_OK
    if not found:
        print("没有到期的回访", file=sys.stderr)
    for c in found:
        print(f"{c.case_no}  {c.state_label}  {c.category}  {c.due_on} 到期")
    return EXIT_OK


# Each step of `desk case`, in the order of its help. (Whistle, department and warning steps are added here too.)
CASE_SUBCOMMANDS: list[CaseSubcommand] = [
    CaseSubcommand(
        "show",
        "显示案件：状态、功能室、排队号、期限、风险、吹哨、调解笔录、结果、回访和办理经过",
        _case_show_arguments,
        _case_show,
    ),
    CaseSubcommand("claim", "接待案件的排队号（功能室终端的“接待”）", _case_claim_arguments, _case_claim),
    CaseSubcommand(
        "session", "记录一次调解笔录（可同时预约下次调解）", _case_session_arguments, _case_session
    ),
    CaseSubcommand(
        "finish",
        "结束接待，并说明结果：已预约、已记录结果或已转办（不办结案件）",
        _case_finish_arguments,
        _case_finish,
    ),
    CaseSubcommand(
        "outcome", "记录调解结果；调解成功生成人民调解协议书编号", _case_outcome_arguments, _case_outcome
    ),
    CaseSubcommand(
        "transfer",
        "转办：诉讼、仲裁、行政复议、信访、相关部门或上级",
        _case_transfer_arguments,
        _case_transfer,
    ),
    CaseSubcommand("withdraw", "申请人撤回", _reason_arguments(True, "撤回理由"), _case_withdraw),
    CaseSubcommand("close", "办结案件，并安排回访", _case_close_arguments, _case_close),
    CaseSubcommand(
        "reopen", "协议未履行，重新调解已办结的案件", _reason_arguments(True, "理由"), _case_reopen
    ),
    CaseSubcommand("pause", "中止办理期限（如等待鉴定）", _reason_arguments(True, "中止理由"), _case_pause),
    CaseSubcommand("resume", "恢复已中止的办理期限", _case_no_argument, _case_resume),
    CaseSubcommand("extend", "经批准延长办理期限", _case_extend_arguments, _case_extend),
    CaseSubcommand("follow-up", "记录回访；协议未履行的重新调解", _case_follow_up_arguments, _case_follow_up),
    CaseSubcommand("overdue", "列出超过办理期限的案件", _case_overdue_arguments, _case_overdue),
    CaseSubcommand(
        "follow-ups", "列出今天（或 --day）到期的回访", _case_follow_ups_arguments, _case_follow_ups
    ),
]


def _case_arguments(p: argparse.ArgumentParser) -> None:
    csub = p.add_subparsers(dest="case_command", required=True, metavar="STEP")
    for step in CASE_SUBCOMMANDS:
        sp = csub.add_parser(step.name, help=step.help)
        _db_argument(sp)
        step.arguments(sp)
    for name, command in CASE_WHISTLE_SUBCOMMANDS.items():  # their arguments include --db
        command.arguments(csub.add_parser(name, help=command.help))


def _cmd_case(args: argparse.Namespace) -> int:
    if args.case_command in CASE_WHISTLE_SUBCOMMANDS:
        return CASE_WHISTLE_SUBCOMMANDS[args.case_command].run(args)
    step = next(s for s in CASE_SUBCOMMANDS if s.name == args.case_command)
    return step.run(args)


# --- backup, restore ---------------------------------------------------------------------------------------

PG_BACKUP_HINT = (
    "PostgreSQL 库请用 PostgreSQL 自带的工具备份和恢复：pg_dump -Fc -f 备份文件 库名；"
    "pg_restore --clean --if-exists -d 库名 备份文件（见 README“备份与恢复”）"
)


def _sqlite_store_file(args: argparse.Namespace) -> Path:
    from desk.store.session import store_file

    path = store_file(resolve_db_url(getattr(args, "db", None)))
    if path is None:
        raise DeskError(PG_BACKUP_HINT)
    return path


def _backup_arguments(p: argparse.ArgumentParser) -> None:
    _db_argument(p)
    p.add_argument("--out", required=True, metavar="FILE", help="备份文件（先写临时文件，检查无误后改名）")


def _cmd_backup(args: argparse.Namespace) -> int:
    """A consistent copy of the SQLite store while windows write (online backup API), checked with
    integrity_check, written atomically and readable by its owner only."""
    from desk.store.backup import backup_store

    path = _sqlite_store_file(args)  # a PostgreSQL store is refused first, with the pg_dump commands
    _authorise(args, "settings")
    report = backup_store(path, Path(args.out))
    f = report.facts
    print(report.path)
    print(
        f"已备份 {f.hall_code} {f.hall_name}：{f.cases} 个案件，事件至第 {f.last_seq} 号，"
        f"{report.size / 1024 / 1024:.1f} MB，完整性检查通过",
        file=sys.stderr,
    )
    return EXIT_OK


def _restore_arguments(p: argparse.ArgumentParser) -> None:
    _db_argument(p)
    p.add_argument("backup", metavar="FILE", help="备份文件（desk backup 或每日自动备份所写）")
    p.add_argument("--yes", action="store_true", help="不再询问，直接恢复（非交互运行时必须给出）")
    p.add_argument("--other-hall", action="store_true", help="备份属于另一个综治中心时，仍然恢复")


def _cmd_restore(args: argparse.Namespace) -> int:
    """Check the backup, say what restoring it means (what is lost, what the county will do), confirm, keep the
    current store aside under a new name, put the backup in its place and open it."""
    from desk.core.clock import CHINA_TZ
    from desk.store.backup import plan_restore, restore_store
    from desk.store.session import open_store

    store = _sqlite_store_file(args)
    # a damaged store is what a restore is for: nobody can sign in to it
    with contextlib.suppress(StoreError):
        _authorise(args, "settings")
    plan = plan_restore(store, Path(args.backup))
    for line in plan.summary():
        print(line)
    if plan.other_hall and not args.other_hall:
        raise DeskError("备份属于另一个综治中心，未恢复：确需如此，请加 --other-hall 再运行")
    if not args.yes:
        if not sys.stdin.isatty():
            raise DeskError("未恢复：非交互运行时须加 --yes 确认")
        try:
            answer = input("确认用此备份恢复？输入 是 或 yes 继续：").strip().lower()
        except (EOFError, KeyboardInterrupt):
            answer = ""
        if answer not in ("是", "yes", "y"):
            print("未恢复", file=sys.stderr)
            return EXIT_ERROR
    aside = restore_store(plan, now=args.clock.now().astimezone(CHINA_TZ))
    restored = open_store(resolve_db_url(getattr(args, "db", None)), create=False)  # checks it, migrates
    args.opened.append(restored)
    print(f"已从备份恢复：{store}")
    if aside is not None:
        print(f"原数据库已改名保留：{aside}")
    return EXIT_OK


# --- whistles, warnings, departments (issue 12) -------------------------------------------------------------------
# `desk case whistle|whistle-sign|whistle-arrive|whistle-report|whistle-rate`: each an (arguments, run) pair in
# CASE_WHISTLE_SUBCOMMANDS: the whistle's steps, mounted in `desk case`.


def _when(moment: Any) -> str:
    from desk.core.clock import CHINA_TZ

    return "—" if moment is None else str(moment.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M"))


def _refused(run: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """A step the case refuses (Refused) or another desk already took (Conflict) exits 2, like invalid input:
    nothing was written."""

    def guarded(args: argparse.Namespace) -> int:
        from desk.core.redact import scrub
        from desk.errors import Conflict, Refused

        try:
            return run(args)
        except (Refused, Conflict) as e:
            print(f"错误：{scrub(e.message)}", file=sys.stderr)
            return EXIT_INVALID

    return guarded


def _whistle_row_json(v: Any) -> dict[str, Any]:
    return {
        "id": v.id,
        "whistle_id": v.whistle_id,
        "case_no": v.case_no,
        "department": v.department,
        "department_name": v.department_name,
        "matter": v.matter,
        "complex": v.complex,
        "blown_at": v.blown_at.isoformat(),
        "clocks": {
            c.clock.value: {
                "due_at": c.due_at.isoformat(),
                "done_at": None if c.done_at is None else c.done_at.isoformat(),
                "state": c.state.value,
            }
            for c in v.clocks
        },
        "signed_by": v.signed_by,
        "arrived_by": v.arrived_by,
        "result": v.result,
        "rating": v.rating,
    }


def _print_whistle_row(v: Any) -> None:
    clocks = "  ".join(f"{c.label} {_when(c.due_at)}前 {c.state_label}" for c in v.clocks)
    rating = f"  评价：{v.rating_label}" if v.rating else ""
    print(f"{v.department}  {v.department_name}  {clocks}{rating}")


def _whistle_answer_arguments(p: argparse.ArgumentParser) -> None:
    _db_argument(p)
    p.add_argument("whistle_id", metavar="WHISTLE_ID", help="吹哨编号（desk case whistle 输出）")
    p.add_argument("--dept", required=True, metavar="CODE", help="部门代码")
    p.add_argument("--json", action="store_true", help="以 JSON 输出")


def _case_whistle_arguments(p: argparse.ArgumentParser) -> None:
    _db_argument(p)
    p.add_argument("case_no", metavar="CASE_NO")
    p.add_argument(
        "--dept", action="append", required=True, metavar="CODE", help="被吹哨部门代码（可多次给出）"
    )
    p.add_argument("--matter", required=True, metavar="TEXT", help="吹哨事项")
    p.add_argument("--complex", action="store_true", help="复杂事项（反馈时限按复杂事项计）")
    p.add_argument("--json", action="store_true", help="以 JSON 输出")


@_refused
def _cmd_case_whistle(args: argparse.Namespace) -> int:
    w = _services(args).whistles.blow(args.case_no, args.dept, args.matter, complex=args.complex)
    if args.json:
        _print_json(
            {
                "whistle_id": w.whistle_id,
                "case_no": w.case_no,
                "sign_by": w.sign_by.isoformat(),
                "arrive_by": w.arrive_by.isoformat(),
                "report_by": w.report_by.isoformat(),
                "calendar_gap": w.calendar_gap,
                "departments": [_whistle_row_json(v) for v in w.departments],
            }
        )
        return EXIT_OK
    print(f"已吹哨：{w.whistle_id}（案件 {w.case_no}）")
    print(f"签收时限 {_when(w.sign_by)}，报到时限 {_when(w.arrive_by)}，反馈时限 {_when(w.report_by)}")
    for v in w.departments:
        print(f"  {v.department}  {v.department_name}")
    if w.calendar_gap:
        print(f"警告：{w.calendar_gap}", file=sys.stderr)
    return EXIT_OK


def _whistle_answered(args: argparse.Namespace, v: Any, what: str) -> int:
    if args.json:
        _print_json(_whistle_row_json(v))
    else:
        print(f"已记录{what}：{v.department_name}（吹哨 {v.whistle_id}，案件 {v.case_no}）")
        _print_whistle_row(v)
    return EXIT_OK


def _case_whistle_sign_arguments(p: argparse.ArgumentParser) -> None:
    _whistle_answer_arguments(p)
    p.add_argument("--by", required=True, metavar="NAME", help="签收人")


@_refused
def _cmd_case_whistle_sign(args: argparse.Namespace) -> int:
    return _whistle_answered(args, _services(args).whistles.sign(args.whistle_id, args.dept, args.by), "签收")


def _case_whistle_arrive_arguments(p: argparse.ArgumentParser) -> None:
    _whistle_answer_arguments(p)
    p.add_argument("--by", required=True, metavar="NAME", help="报到人")
    p.add_argument(
        "--at", metavar="TIME", help="报到时间，ISO 8601 带时区，如 2026-12-07T09:30:00+08:00（默认：现在）"
    )


@_refused
def _cmd_case_whistle_arrive(args: argparse.Namespace) -> int:
    import datetime as dt

    at = None
    if args.at:
        try:
            at = dt.datetime.fromisoformat(args.at)
        except ValueError:
            raise ValidationError.single(
                "--at", f"“{args.at}”不是 ISO 8601 时间，应如 2026-12-07T09:30:00+08:00"
            ) from None
        if at.tzinfo is None:
            raise ValidationError.single("--at", f"“{args.at}”缺少时区偏移（中国时间为 +08:00）")
    v = _services(args).whistles.arrive(args.whistle_id, args.dept, args.by, arrived_at=at)
    return _whistle_answered(args, v, "报到")


def _case_whistle_report_arguments(p: argparse.ArgumentParser) -> None:
    _whistle_answer_arguments(p)
    p.add_argument("--result", required=True, metavar="TEXT", help="部门反馈的办理结果")


@_refused
def _cmd_case_whistle_report(args: argparse.Namespace) -> int:
    v = _services(args).whistles.report(args.whistle_id, args.dept, args.result)
    return _whistle_answered(args, v, "反馈")


def _case_whistle_rate_arguments(p: argparse.ArgumentParser) -> None:
    _whistle_answer_arguments(p)
    p.add_argument(
        "--rating",
        required=True,
        choices=("满意", "基本满意", "不满意", "satisfied", "basically", "dissatisfied"),
        help="对部门响应的评价",
    )


@_refused
def _cmd_case_whistle_rate(args: argparse.Namespace) -> int:
    v = _services(args).whistles.rate(args.whistle_id, args.dept, args.rating)
    return _whistle_answered(args, v, "评价")


CASE_WHISTLE_SUBCOMMANDS: dict[str, Command] = {
    "whistle": Command(
        "吹哨：召集一个或多个部门处理案件事项，开始签收、报到、反馈三个时限",
        _case_whistle_arguments,
        _cmd_case_whistle,
    ),
    "whistle-sign": Command("记录部门签收吹哨", _case_whistle_sign_arguments, _cmd_case_whistle_sign),
    "whistle-arrive": Command(
        "记录部门报到（谁、何时）", _case_whistle_arrive_arguments, _cmd_case_whistle_arrive
    ),
    "whistle-report": Command(
        "记录部门反馈的办理结果", _case_whistle_report_arguments, _cmd_case_whistle_report
    ),
    "whistle-rate": Command(
        "评价部门的响应（满意、基本满意、不满意）", _case_whistle_rate_arguments, _cmd_case_whistle_rate
    ),
}


def _warnings_arguments(p: argparse.ArgumentParser) -> None:
    _db_argument(p)
    p.add_argument(
        "--sweep", action="store_true", help="先检查期限、吹哨时限和未阅的重大预警，发出应发的预警"
    )
    p.add_argument("--ack", metavar="ID", help="确认已阅一条预警（记录谁、何时）")
    p.add_argument("--by", metavar="NAME", help=argparse.SUPPRESS)  # before sign-in; the signed-in user reads
    p.add_argument("--json", action="store_true", help="以 JSON 输出")


def _warning_json(w: Any) -> dict[str, Any]:
    return {
        "id": w.id,
        "case_no": w.case_no,
        "kind": w.kind,
        "level": w.level,
        "message": w.message,
        "ref": w.ref,
        "raised_at": w.raised_at.isoformat(),
        "acknowledged_at": None if w.acknowledged_at is None else w.acknowledged_at.isoformat(),
        "acknowledged_by": w.acknowledged_by,
    }


def _print_warning(w: Any) -> None:
    read = f"  已阅：{w.acknowledged_by} {_when(w.acknowledged_at)}" if w.acknowledged_at else ""
    print(f"{w.id}  {_when(w.raised_at)}  {w.level_label}  {w.kind_label}  {w.message}{read}")


@_refused
def _cmd_warnings(args: argparse.Namespace) -> int:
    warnings = _services(args).warnings
    out: dict[str, Any] = {}
    if args.sweep:
        report = warnings.sweep()
        out["raised"] = [_warning_json(w) for w in report.raised]
        out["realerted"] = [_warning_json(w) for w in report.realerted]
        if not args.json:
            print(f"检查完毕：新发预警 {len(report.raised)} 条，重大预警再次提醒 {len(report.realerted)} 条")
    if args.ack:
        read = warnings.acknowledge(args.ack)
        out["acknowledged"] = _warning_json(read)
        if not args.json:
            print(f"已确认已阅：{read.id}（{read.acknowledged_by}，{_when(read.acknowledged_at)}）")
    open_ = warnings.open_warnings()
    if args.json:
        _print_json({**out, "open": [_warning_json(w) for w in open_]})
        return EXIT_OK
    if not open_:
        print("没有未阅的预警")
    for w in open_:
        _print_warning(w)
    return EXIT_OK


def _department_arguments(p: argparse.ArgumentParser) -> None:
    _db_argument(p)
    p.add_argument("code", nargs="?", metavar="CODE", help="部门代码；不给则列出部门目录")
    p.add_argument("--json", action="store_true", help="以 JSON 输出")


def _rate_text(rate: float | None) -> str:
    return "—" if rate is None else f"{rate:.0%}"


def _cmd_department(args: argparse.Namespace) -> int:
    whistles = _services(args).whistles
    if not args.code:
        deps = whistles.departments()
        if args.json:
            _print_json([{"code": d.code, "name": d.name, "phone": d.phone} for d in deps])
        elif not deps:
            print("部门目录为空：本中心尚未从县级同步部门目录，请先运行 desk sync", file=sys.stderr)
        for d in deps if not args.json else ():
            print(f"{d.code}  {d.name}  {d.phone}")
        return EXIT_OK
    r = whistles.department_record(args.code)
    if args.json:
        _print_json(
            {
                "code": r.code,
                "name": r.name,
                "phone": r.phone,
                "active": r.active,
                "on_time_rate": r.on_time_rate,
                "clocks": {
                    c.clock.value: {
                        "on_time": c.on_time,
                        "late": c.late,
                        "pending": c.pending,
                        "rate": c.rate,
                    }
                    for c in r.rates
                },
                "ratings": {x.rating: x.count for x in r.ratings},
                "whistles": [_whistle_row_json(v) for v in r.whistles],
            }
        )
        return EXIT_OK
    print(f"{r.name}（{r.code}）{r.phone}{'' if r.active else '（已停用）'}")
    print(f"被吹哨 {len(r.whistles)} 次，按时率 {_rate_text(r.on_time_rate)}")
    for c in r.rates:
        print(
            f"  {c.label}：按时 {c.on_time}，超时 {c.late}，未到期 {c.pending}，按时率 {_rate_text(c.rate)}"
        )
    print("  评价：" + "，".join(f"{x.label} {x.count}" for x in r.ratings))
    for v in r.whistles:
        print(f"  {_when(v.blown_at)}  {v.case_no}  {v.matter}")
        print("    " + "  ".join(f"{c.label} {c.state_label}" for c in v.clocks))
    return EXIT_OK


def _keys_arguments(p: argparse.ArgumentParser) -> None:
    # a module of its own, imported only here: `desk keys` is rare, and the other commands start cheaply
    from desk.cli_keys import arguments

    arguments(p)


def _cmd_keys(args: argparse.Namespace) -> int:
    from desk.cli_keys import run as run_keys

    return run_keys(args)


COMMANDS: dict[str, Command] = {
    "init": Command("创建或升级数据库，写入类别目录和默认的“一厅+N室”布局", _init_arguments, _cmd_init),
    "register": Command(
        "从 JSON 文件登记一次来访；加 --queue 则分派功能室并取号", _register_arguments, _cmd_register
    ),
    "ticket": Command(
        "为已登记、尚无排队号的案件分派功能室并取号（可用 --room 改派，须说明理由）",
        _ticket_arguments,
        _cmd_ticket,
    ),
    "case": Command(
        "办理案件：查看、接待、调解笔录、结果、转办、撤回、办结、期限中止/恢复/延长、回访",
        _case_arguments,
        _cmd_case,
    ),
    "cases": Command("查找案件（身份证号、电话、案件编号、姓名或拼音首字母）", _cases_arguments, _cmd_cases),
    "rooms": Command("列出功能室：代码、名称、类型、前缀、是否开放、等候人数", _rooms_arguments, _cmd_rooms),
    "call": Command("为功能室叫下一个号（硬件叫号器用）；无人等候时退出码为 3", _call_arguments, _cmd_call),
    "receipt": Command(
        "生成案件的回执或文书 PDF（受理回执、来访登记表、调解协议书），并记录打印",
        _receipt_arguments,
        _cmd_receipt,
    ),
    "status-server": Command(
        "运行群众扫码查询办理进度的网页服务（/s/<令牌>，/healthz）",
        _status_server_arguments,
        _cmd_status_server,
        long_running=True,
    ),
    "sync": Command(
        "与县级数据库同步：上传本中心的事件，下载分流来的案件和县级目录",
        _sync_arguments,
        _cmd_sync,
        long_running=True,
    ),
    "county": Command("县级库：建立或升级、上级分流、查看下级中心", _county_arguments, _cmd_county),
    "settings": Command(
        "查看或设置本机设置（回执二维码地址、可信反向代理、县级数据库地址），保存前检查",
        _settings_arguments,
        _cmd_settings,
    ),
    "backup": Command(
        "备份本机 SQLite 数据库（窗口开着也可以）：desk backup --out 文件", _backup_arguments, _cmd_backup
    ),
    "restore": Command(
        "从备份恢复本机 SQLite 数据库：先检查备份、说明后果，原数据库改名保留",
        _restore_arguments,
        _cmd_restore,
    ),
    "warnings": Command(
        "预警：列出未阅预警；--sweep 检查期限与吹哨时限，--ack 确认已阅", _warnings_arguments, _cmd_warnings
    ),
    "department": Command(
        "部门：列出部门目录，或查看一个部门的吹哨记录、按时率和评价", _department_arguments, _cmd_department
    ),
    "keys": Command(
        "数据密钥：查看指纹与存放位置、口令保护的导出与导入、轮换并重新加密", _keys_arguments, _cmd_keys
    ),
}

# The accounts and audit commands live in their own module (desk/cli_users.py); it imports nothing heavy at load.
from desk.cli_users import AUDIT_COMMAND, USER_COMMAND  # noqa: E402

COMMANDS["user"] = Command(*USER_COMMAND)
COMMANDS["audit"] = Command(*AUDIT_COMMAND)
