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

EXIT_OK, EXIT_ERROR, EXIT_INVALID, EXIT_NOBODY_WAITING = 0, 1, 2, 3
ROLES = ("desk", "room", "display", "kiosk")
DOCUMENT_FORMATS = ("80mm", "a5", "a4-sheet", "agreement")  # = desk.services.documents.DOCUMENT_FORMATS
# the `document` of the document_printed event: both receipt formats are one document (a reprint is a 补打 of either)
PRINTED_DOCUMENTS = {
    "80mm": "receipt",
    "a5": "receipt",
    "a4-sheet": "registration_sheet",
    "agreement": "agreement",
}


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="desk", description="一厅通：综治中心接待大厅工作台")
    p.add_argument("--db", metavar="URL", help="数据库地址（默认读 DESK_DB_URL，否则用本机内置 SQLite）")
    p.add_argument(
        "--role",
        choices=ROLES,
        default="desk",
        help="窗口角色：desk 前台登记（默认）、room 功能室终端、display 大厅叫号屏、kiosk 自助查询机",
    )
    p.add_argument("--room", metavar="ID", help="功能室代码（--role room 时必填，如 R01）")
    p.add_argument("--terminal", metavar="NAME", help="本终端名称（默认：主机名）")
    sub = p.add_subparsers(dest="command")

    init = sub.add_parser("init", help="创建或升级数据库，写入类别目录和默认的“一厅+N室”布局")
    init.add_argument("--db", metavar="URL", default=argparse.SUPPRESS)
    init.add_argument("--hall-code", metavar="CODE", help="本中心代码（行政区划代码，如 620702001）")
    init.add_argument("--hall-name", metavar="NAME", help="本中心名称（如 甘州区东街街道综治中心）")
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
    rooms = sub.add_parser("rooms", help="列出功能室：代码、名称、类型、前缀、是否开放、等候人数")
    rooms.add_argument("--db", metavar="URL", default=argparse.SUPPRESS)
    rooms.add_argument("--json", action="store_true", help="以 JSON 输出")

    call = sub.add_parser("call", help="为功能室叫下一个号（硬件叫号器用）；无人等候时退出码为 3")
    call.add_argument("--db", metavar="URL", default=argparse.SUPPRESS)
    call.add_argument("--room", required=True, metavar="ID", help="功能室代码，如 R01")
    call.add_argument("--terminal", metavar="NAME", default="", help="叫号终端名称")

    rec = sub.add_parser(
        "receipt", help="生成案件的回执或文书 PDF（受理回执、来访登记表、调解协议书），并记录打印"
    )
    rec.add_argument("--db", metavar="URL", default=argparse.SUPPRESS)
    rec.add_argument("case_no", metavar="CASE_NO", help="案件编号")
    rec.add_argument("--out", required=True, metavar="FILE.pdf", help="输出的 PDF 文件")
    rec.add_argument(
        "--format",
        dest="fmt",
        choices=DOCUMENT_FORMATS,
        default="80mm",
        help="80mm 热敏回执（默认）、a5 回执、a4-sheet 来访登记表、agreement 人民调解协议书",
    )
    rec.add_argument("--reprint", action="store_true", help="补打（此前已打印过时自动标为补打）")

    srv = sub.add_parser("status-server", help="运行群众扫码查询办理进度的网页服务（/s/<令牌>，/healthz）")
    srv.add_argument("--db", metavar="URL", default=argparse.SUPPRESS)
    srv.add_argument("--host", default="127.0.0.1", help="监听地址（默认 127.0.0.1，由反向代理对外）")
    srv.add_argument("--port", type=int, default=8080, help="端口（默认 8080）")
    sync = sub.add_parser("sync", help="与县级数据库同步：上传本中心的事件，下载分流来的案件和县级目录")
    sync.add_argument("--db", metavar="URL", default=argparse.SUPPRESS)
    sync.add_argument(
        "--county",
        metavar="URL",
        help="县级 PostgreSQL 地址（默认读 DESK_COUNTY_URL，否则读设置文件的 county_db_url）",
    )
    when = sync.add_mutually_exclusive_group()
    when.add_argument("--once", action="store_true", help="同步一轮后退出（默认）")
    when.add_argument("--every", type=float, metavar="SECONDS", help="每隔若干秒同步一轮，直到中断")

    cty = sub.add_parser("county", help="县级库：建立或升级、上级分流、查看下级中心")
    csub = cty.add_subparsers(dest="county_command", required=True)
    cinit = csub.add_parser("init", help="在 PostgreSQL 中建立或升级县级库，写入类别与部门目录")
    cinit.add_argument("--db", metavar="URL", required=True, help="县级 PostgreSQL 地址")
    cinit.add_argument("--code", default="620702", help="县级代码（行政区划代码，默认 620702）")
    cinit.add_argument("--name", default="甘州区综治中心", help="县级中心名称")
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
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command is None:
        if args.role == "room" and not args.room:
            print("错误：--role room 需要 --room 功能室代码（desk rooms 可列出）", file=sys.stderr)
            return EXIT_INVALID
        from desk.app import main as gui_main  # Qt only here

        return gui_main(
            db_url=resolve_db_url(args.db), role=args.role, room=args.room, terminal=args.terminal
        )
    try:
        handler = {
            "init": _cmd_init,
            "register": _cmd_register,
            "cases": _cmd_cases,
            "rooms": _cmd_rooms,
            "call": _cmd_call,
            "receipt": _cmd_receipt,
            "status-server": _cmd_status_server,
            "sync": _cmd_sync,
            "county": _cmd_county,
        }[args.command]
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
    report = init_hall(store, hall_code=args.hall_code, hall_name=args.hall_name)
    print(
        f"综治中心 {report.hall_code} {report.hall_name}：{report.categories} 个纠纷类别，{report.rooms} 个功能室"
    )
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
        print(json.dumps(rows, ensure_ascii=False, indent=2))
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


def _hall(store: Any, terminal: str = "") -> Any:
    from desk.core.clock import SystemClock
    from desk.services.hall import HallService

    return HallService(store, SystemClock(), actor="命令行", terminal=terminal)


def _cmd_rooms(args: argparse.Namespace) -> int:
    rooms = _hall(_open(args)).rooms()
    if args.json:
        print(
            json.dumps(
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
                ],
                ensure_ascii=False,
                indent=2,
            )
        )
        return EXIT_OK
    for r in rooms:
        state = "开放" if r.is_open else "关闭"
        print(f"{r.code}  {r.name:<10}  {r.kind:<8}  {r.prefix}  {state}  等候{r.waiting}人  {r.location}")
    return EXIT_OK


def _cmd_call(args: argparse.Namespace) -> int:
    import socket

    hall = _hall(_open(args), terminal=args.terminal or socket.gethostname())
    hall.room(args.room)  # an unknown room is an error, not "nobody waiting"
    ticket = hall.call_next(args.room)
    if ticket is None:
        print("无人等候", file=sys.stderr)
        return EXIT_NOBODY_WAITING
    print(ticket.label)
    return EXIT_OK


def _cmd_receipt(args: argparse.Namespace) -> int:
    """Render a case's receipt or document to a PDF (written atomically) and record the print as a case event."""
    import os
    import tempfile

    from desk.config import load_settings
    from desk.core.clock import SystemClock
    from desk.services.documents import DocumentService

    docs = DocumentService(_open(args), SystemClock(), load_settings(), actor="命令行")
    document = PRINTED_DOCUMENTS[args.fmt]
    reprint = bool(args.reprint) or docs.was_printed(args.case_no, document)
    pdf = _render_document(docs, args.case_no, args.fmt, reprint=reprint)
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


def _render_document(docs: Any, case_no: str, fmt: str, *, reprint: bool) -> bytes:
    if fmt in ("80mm", "a5"):
        from desk.printing.receipt import render_receipt

        return render_receipt(docs.receipt_data(case_no, reprint=reprint), fmt=fmt)
    from desk.printing.sheets import render_agreement, render_registration_sheet

    if fmt == "a4-sheet":
        return render_registration_sheet(docs.sheet_data(case_no))
    return render_agreement(docs.agreement_data(case_no))


def _cmd_status_server(args: argparse.Namespace) -> int:
    from desk.status.app import serve

    serve(resolve_db_url(getattr(args, "db", None)), host=args.host, port=args.port)
    return EXIT_OK


def _cmd_sync(args: argparse.Namespace) -> int:
    from desk.config import resolve_county_url
    from desk.sync.engine import RoundReport, Syncer, SyncError, safe_url

    url = resolve_county_url(args.county)
    if not url:
        raise DeskError(
            "未配置县级数据库：用 --county URL、环境变量 DESK_COUNTY_URL 或设置文件的 county_db_url"
        )
    syncer = Syncer(_open(args), url)

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


def _county_store(url: str | None) -> Any:
    from desk.config import resolve_county_url
    from desk.store.session import open_store

    url = url or resolve_county_url()
    if not url:
        raise DeskError("未指定县级数据库：用 --db URL 或环境变量 DESK_COUNTY_URL")
    return open_store(url)


def _cmd_county(args: argparse.Namespace) -> int:
    from desk.core.clock import SystemClock
    from desk.services.county import CountyService, init_county

    if args.county_command == "init":
        from desk.store.session import open_store

        store = open_store(args.db)
        r = init_county(store, code=args.code, name=args.name)
        print(
            f"县级库 {r.code} {r.name}：{r.categories} 个纠纷类别，{r.departments} 个部门（目录第 {r.reference_version} 版）"
        )
        return EXIT_OK
    svc = CountyService(_county_store(args.db), SystemClock(), actor="县级命令行")
    if args.county_command == "halls":
        halls = svc.halls()
        if args.json:
            print(
                json.dumps(
                    [
                        {
                            "code": h.code,
                            "name": h.name,
                            "acked_seq": h.acked_seq,
                            "last_push_at": h.last_push_at.isoformat() if h.last_push_at else None,
                            "alerts": h.alerts,
                        }
                        for h in halls
                    ],
                    ensure_ascii=False,
                    indent=2,
                )
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
        d = svc.divert(args.case, to_hall=args.to_hall, reason=args.reason)
    else:
        data = _read_json(args.file)
        if not isinstance(data, dict):
            raise DeskError("来访 JSON 应为一个对象 {...}")
        d = svc.divert_visit(data, to_hall=args.to_hall, reason=args.reason)
    print(d.case_no)
    print(f"已分流至 {d.to_hall} {d.to_hall_name}，该中心下次同步时收到", file=sys.stderr)
    return EXIT_OK
