"""The `desk` command: the GUI (default) and the admin commands. Qt is imported only for the GUI."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Any

from desk.config import resolve_db_url
from desk.errors import DeskError, ValidationError

logger = logging.getLogger(__name__)

EXIT_OK, EXIT_ERROR, EXIT_INVALID = 0, 1, 2


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="desk", description="一厅通：综治中心接待大厅工作台")
    p.add_argument("--db", metavar="URL", help="数据库地址（默认读 DESK_DB_URL，否则用本机内置 SQLite）")
    p.add_argument("--role", choices=["desk"], default="desk", help="窗口角色（默认：前台 desk）")
    sub = p.add_subparsers(dest="command")

    init = sub.add_parser("init", help="创建或升级数据库，写入类别目录和默认的“一厅+N室”布局")
    init.add_argument("--db", metavar="URL", default=argparse.SUPPRESS)
    init.add_argument("--hall-code", metavar="CODE", help="本中心代码（行政区划代码，如 620702001）")
    init.add_argument("--demo", action="store_true", help="加入一天的示例来访")

    reg = sub.add_parser("register", help="从 JSON 文件登记一次来访")
    reg.add_argument("--db", metavar="URL", default=argparse.SUPPRESS)
    reg.add_argument("--file", required=True, metavar="visit.json", help="来访 JSON 文件（- 表示标准输入）")
    reg.add_argument("--new-case", action="store_true", help="即使此人有同类未结案件也另立新案")

    cases = sub.add_parser("cases", help="查找案件（身份证号、电话、案件编号、姓名或拼音首字母）")
    cases.add_argument("--db", metavar="URL", default=argparse.SUPPRESS)
    cases.add_argument("--search", required=True, metavar="TEXT")
    cases.add_argument("--json", action="store_true", help="以 JSON 输出")
    cases.add_argument("--limit", type=int, default=50)
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command is None:
        from desk.app import main as gui_main  # Qt only here

        return gui_main(db_url=resolve_db_url(args.db), role=args.role)
    try:
        handler = {"init": _cmd_init, "register": _cmd_register, "cases": _cmd_cases}[args.command]
        return handler(args)
    except ValidationError as e:
        for p in e.problems:
            print(f"{p.field}: {p.message}", file=sys.stderr)
        return EXIT_INVALID
    except DeskError as e:
        print(f"错误：{e.message}", file=sys.stderr)
        return EXIT_ERROR


def _open(args: argparse.Namespace) -> Any:
    from desk.store.session import open_store

    return open_store(resolve_db_url(getattr(args, "db", None)))


def _service(store: Any) -> Any:
    from desk.core.clock import SystemClock
    from desk.services.registration import RegistrationService

    return RegistrationService(store, SystemClock(), actor="命令行")


def _cmd_init(args: argparse.Namespace) -> int:
    from desk.services.setup import init_hall

    store = _open(args)
    report = init_hall(store, hall_code=args.hall_code)
    print(f"综治中心 {report.hall_code} {report.hall_name}：{report.categories} 个纠纷类别，{report.rooms} 个功能室")
    if args.demo:
        from desk.services.demo import add_demo_day

        n = add_demo_day(store)
        print(f"已加入 {n} 条示例来访")
    return EXIT_OK


def _read_json(path: str) -> Any:
    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    except OSError as e:
        raise DeskError(f"无法读取文件 {path}：{e.strerror}") from e
    except UnicodeDecodeError:
        raise DeskError(f"文件 {path} 不是 UTF-8 编码") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise DeskError(f"文件 {path} 不是有效的 JSON（第{e.lineno}行第{e.colno}列：{e.msg}）") from e


def _cmd_register(args: argparse.Namespace) -> int:
    data = _read_json(args.file)
    if not isinstance(data, dict):
        raise DeskError("来访 JSON 应为一个对象 {...}")
    store = _open(args)
    svc = _service(store)
    result = svc.register(data, new_case=args.new_case)
    # The case number is printed only now, after the commit: a printed number is a promise.
    print(result.case_no)
    if result.is_repeat:
        print(f"此人有同类未结案件，已记为案件 {result.case_no} 的重复访", file=sys.stderr)
    for w in result.warnings:
        print(f"提示：{w}", file=sys.stderr)
    return EXIT_OK


def _cmd_cases(args: argparse.Namespace) -> int:
    from desk.core.cases import CaseState
    from desk.core.clock import CHINA_TZ

    store = _open(args)
    svc = _service(store)
    found = svc.search(args.search, limit=args.limit)
    names = {c.code: c.name for c in svc.categories()}
    if args.json:
        rows = [
            {"case_no": c.case_no, "category": names.get(c.category_code, c.category_code), "state": c.state,
             "registered_at": c.registered_at.isoformat(), "applicant": c.applicant_name,
             "applicant_id": c.applicant_id_masked, "repeat_visits": c.repeat_visits}
            for c in found
        ]
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return EXIT_OK
    if not found:
        print("未找到匹配的案件", file=sys.stderr)
        return EXIT_OK
    for c in found:
        when = c.registered_at.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M")
        state = CaseState(c.state).label
        print(f"{c.case_no}  {when}  {state:<4}  {names.get(c.category_code, c.category_code):<8}  "
              f"{c.applicant_name}  {c.applicant_id_masked}")
    return EXIT_OK
