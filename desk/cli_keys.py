"""`desk keys`: this machine's data keys -- where they are and their fingerprint, export and import under a
passphrase (how the county provisions its halls), rotation with re-encryption of the store.

No key material and no passphrase is ever printed or logged: only key ids, the fingerprint and where the keys
live. Exit codes: 0 done, 2 input refused (nothing changed), 1 failure.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from desk.errors import DeskError

if TYPE_CHECKING:
    from desk.security.vault import KeySet, Vault
    from desk.store.session import Store

logger = logging.getLogger(__name__)

EXIT_OK, EXIT_ERROR, EXIT_INVALID = 0, 1, 2
DB_HELP = "数据库地址（默认读 DESK_DB_URL，否则用本机内置 SQLite）"
PASSPHRASE_FILE_HELP = "从文件读取口令（第一行；- 表示标准输入），供脚本使用；不给则提示输入"


def arguments(p: argparse.ArgumentParser) -> None:
    ksub = p.add_subparsers(dest="keys_command", required=True)
    ksub.add_parser("show", help="显示密钥指纹、当前密钥编号、全部密钥编号和存放位置（不显示密钥本身）")
    exp = ksub.add_parser("export", help="把本机数据密钥导出为口令保护的文件（县级向各中心分发密钥用）")
    exp.add_argument("--out", required=True, metavar="FILE", help="导出文件（不得已存在）")
    exp.add_argument("--passphrase-file", metavar="FILE", help=PASSPHRASE_FILE_HELP)
    imp = ksub.add_parser("import", help="导入县级管理员导出的密钥文件")
    imp.add_argument("file", metavar="FILE", help="密钥导出文件")
    imp.add_argument("--passphrase-file", metavar="FILE", help=PASSPHRASE_FILE_HELP)
    imp.add_argument(
        "--replace",
        action="store_true",
        help="本机已有另一套密钥时仍以导入的替换（用原密钥加密的数据将无法解密）",
    )
    rot = ksub.add_parser("rotate", help="生成新的数据密钥，并用它重新加密数据库中的个人信息")
    rot.add_argument("--db", metavar="URL", default=argparse.SUPPRESS, help=DB_HELP)
    rot.add_argument(
        "--drop-old",
        action="store_true",
        help="全部重新加密成功后删除旧密钥（与县级或其他中心共用密钥时，须各处都已重新加密）",
    )
    res = ksub.add_parser(
        "reseal", help="用当前密钥重新加密数据库中的个人信息（导入密钥后、或轮换中断后继续）"
    )
    res.add_argument("--db", metavar="URL", default=argparse.SUPPRESS, help=DB_HELP)


def run(args: argparse.Namespace) -> int:
    handler = {
        "show": _show,
        "export": _export,
        "import": _import,
        "rotate": _rotate,
        "reseal": _reseal,
    }[args.keys_command]
    return handler(args)


# --- helpers -----------------------------------------------------------------------------------------------


def _read_passphrase_file(path: str) -> str:
    try:
        if path == "-":
            line = sys.stdin.readline()
        else:
            with open(path, encoding="utf-8") as f:
                line = f.readline()
    except OSError as exc:
        raise DeskError(f"无法读取口令文件 {path}：{exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise DeskError(f"口令文件 {path} 不是 UTF-8 文本") from None
    return line.rstrip("\r\n")


def _prompt(text: str) -> str:
    import getpass

    try:
        return getpass.getpass(text)
    except (EOFError, KeyboardInterrupt):
        raise DeskError("未输入口令，操作已取消") from None


def _new_passphrase(args: argparse.Namespace) -> str:
    from desk.security.keys import KeyInputRefused, check_passphrase

    if args.passphrase_file:
        return check_passphrase(_read_passphrase_file(args.passphrase_file))
    first = check_passphrase(_prompt("请设置导出口令（至少 12 个字符）："))
    if _prompt("请再输入一次口令：") != first:
        raise KeyInputRefused("两次输入的口令不一致，未导出")
    return first


def _open(args: argparse.Namespace) -> Store:
    from desk.config import resolve_db_url
    from desk.store.session import open_store

    store = open_store(resolve_db_url(getattr(args, "db", None)), create=False)
    args.opened.append(store)
    return store


def _kid_order(kid: str) -> tuple[int, str]:
    return (int(kid[1:]) if kid[1:].isdigit() else 0, kid)


def _key_ids(keys: KeySet) -> str:
    return "，".join(
        f"{k}（{keys.created[k]}）" if keys.created.get(k) else k
        for k in sorted(keys.data_keys, key=_kid_order)
    )


def _reseal_store(store: Store, vault: Vault) -> int:
    """Reseal `store` under `vault`'s current key, saying how it goes; the number of rows written."""
    from desk.store.reseal import STAGE_LABELS, reseal

    def progress(stage: str, seen: int) -> None:
        print(f"  重新加密{STAGE_LABELS.get(stage, stage)}：已检查 {seen} 行", flush=True)

    print(f"正在用密钥 {vault.current} 重新加密数据库中的个人信息……", flush=True)
    report = reseal(store, vault, progress=progress)
    print(
        f"重新加密完成：案件事件 {report.events} 条，当事人 {report.parties} 条，案件 {report.cases} 条"
        "（已是当前密钥的未改动）"
    )
    return report.total


# --- the subcommands ---------------------------------------------------------------------------------------


def _admin_gate(args: argparse.Namespace, action: str) -> None:
    from desk.cli import _admin_gate as gate

    gate(args, action)


def _show(args: argparse.Namespace) -> int:
    _admin_gate(args, "keys")
    from desk.security.keys import require_keyset, where

    keys = require_keyset()
    print(f"存放位置：{where()}")
    print(f"密钥指纹：{keys.fingerprint()}")
    print(f"当前密钥：{keys.current}")
    print(f"全部密钥：{_key_ids(keys)}")
    return EXIT_OK


def _export(args: argparse.Namespace) -> int:
    _admin_gate(args, "keys")
    from desk.security.keys import KeyInputRefused, export_keyset, require_keyset

    out = Path(args.out).expanduser()
    if out.exists():
        raise KeyInputRefused(f"文件 {out} 已存在：为免覆盖，请换一个文件名或先移走它")
    keys = require_keyset()
    passphrase = _new_passphrase(args)
    fingerprint = export_keyset(keys, out, passphrase)
    print(f"已导出 {len(keys.data_keys)} 个数据密钥到 {out}（指纹 {fingerprint}）")
    print("请把口令与文件分开交给接收方（例如当面或电话告知口令），不要把口令写在文件旁")
    logger.info("数据密钥已导出（指纹 %s）", fingerprint)
    return EXIT_OK


def _merged(local: KeySet, incoming: KeySet) -> KeySet | None:
    """The union of two key sets of the same family (same index key); None when a key id stands for different
    keys in them. The current key is the newer of the two currents (a family's rotations number keys upwards):
    importing an older export never takes a hall back to an older key."""
    from desk.security.vault import KeySet

    for kid, key in incoming.data_keys.items():
        if kid in local.data_keys and local.data_keys[kid] != key:
            return None
    current = max(local.current, incoming.current, key=_kid_order)
    return KeySet(
        current,
        {**local.data_keys, **incoming.data_keys},
        incoming.index_key,
        {**local.created, **incoming.created},
    )


def _import(args: argparse.Namespace) -> int:
    _admin_gate(args, "keys")
    from desk.security.keys import KeyInputRefused, import_keyset, load_keyset, save_keyset

    passphrase = (
        _read_passphrase_file(args.passphrase_file)
        if args.passphrase_file
        else _prompt("请输入密钥文件的口令：")
    )
    incoming = import_keyset(args.file, passphrase)
    local = load_keyset()
    keys = incoming
    if local is not None and not args.replace:
        if local.fingerprint() != incoming.fingerprint():
            raise KeyInputRefused(
                f"本机已有另一套数据密钥（指纹 {local.fingerprint()}），与导入文件中的（指纹 "
                f"{incoming.fingerprint()}）不同：替换后，用本机现有密钥加密的数据将无法解密。"
                "确需替换，请加 --replace 重新运行"
            )
        merged = _merged(local, incoming)
        if merged is None:
            raise KeyInputRefused(
                "导入文件与本机密钥同属一套，但同一密钥编号对应的密钥不同（两处曾各自轮换）："
                "请由县级管理员重新导出后再导入，或加 --replace 以导入的替换"
            )
        if merged == local:
            print(f"本机已有这些密钥（指纹 {local.fingerprint()}，当前密钥 {local.current}），无需导入")
            return EXIT_OK
        keys = merged
    elif local is not None:
        print(f"注意：以导入的密钥替换本机原有密钥（指纹 {local.fingerprint()}）", file=sys.stderr)
    where = save_keyset(keys)
    print(f"已导入数据密钥（指纹 {keys.fingerprint()}，当前密钥 {keys.current}），保存在：{where}")
    print("如本机数据库中已有未加密或用其他密钥加密的数据，请运行 desk keys reseal")
    return EXIT_OK


def _rotate(args: argparse.Namespace) -> int:
    _admin_gate(args, "keys")
    from desk.security.keys import require_keyset, save_keyset
    from desk.security.vault import Vault
    from desk.store.reseal import needs_reseal

    keys = require_keyset()
    store = _open(args)  # a wrong --db is refused before any key changes
    rotated = keys.rotated(created=args.clock.now().date().isoformat())
    where = save_keyset(rotated)
    print(f"已生成新密钥 {rotated.current}（旧密钥保留，用于解密旧数据），保存在：{where}")
    vault = Vault(rotated)
    _reseal_store(store, vault)
    if args.drop_old:
        if needs_reseal(store, vault):
            print(
                "错误：数据库中仍有未用新密钥加密的数据（可能有窗口在重新加密期间写入），旧密钥未删除："
                "请关闭其他窗口后运行 desk keys reseal，再运行 desk keys rotate --drop-old",
                file=sys.stderr,
            )
            return EXIT_ERROR
        dropped = sorted(k for k in rotated.data_keys if k != rotated.current)
        save_keyset(rotated.without_old())
        print(f"已删除旧密钥：{'，'.join(dropped) or '无'}")
    print(
        f"请将新密钥导出（desk keys export）并导入共用此密钥的县级库与各中心（指纹 {rotated.fingerprint()}）"
    )
    return EXIT_OK


def _reseal(args: argparse.Namespace) -> int:
    _admin_gate(args, "keys")
    from desk.security.keys import require_keyset
    from desk.security.vault import Vault
    from desk.store.reseal import needs_reseal

    vault = Vault(require_keyset())
    store = _open(args)
    _reseal_store(store, vault)
    if needs_reseal(store, vault):
        print(
            "错误：仍有数据未用当前密钥加密（可能有窗口同时写入）：请关闭其他窗口后再运行一次",
            file=sys.stderr,
        )
        return EXIT_ERROR
    return EXIT_OK
