"""Before a store is opened: is it there, is it a SQLite file, is it a Hall Desk store, is it whole, can we write it.

Everything here looks before anything is changed. A SQLite file is inspected through a read-only connection of its
own (`mode=ro`), so a file that is not ours is never given our tables or switched to WAL (the engine's connect hook
sets WAL), and a damaged one is not written to before someone has decided what to do with it. Each problem is a
`StoreError` whose message says, in Chinese, what is wrong and what to do; it names the file, never its contents.
"""

from __future__ import annotations

import logging
import os
import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from desk.errors import StoreError

if TYPE_CHECKING:
    from sqlalchemy import Connection

logger = logging.getLogger(__name__)

SQLITE_MAGIC = b"SQLite format 3\x00"
HEADER_SIZE = 100
# Tables every Hall Desk store has had since its first revision: a file with an `alembic_version` but without
# these belongs to some other program.
OUR_TABLES = frozenset({"halls", "cases", "case_events", "parties", "categories"})
_REVISION_SHAPE = re.compile(r"^[0-9A-Za-z_]{1,40}$")

RESTORE_HINT = "请从最近的备份恢复（desk restore 备份文件；每日自动备份在数据目录的 backups 文件夹），损坏的文件请保留勿删"


def migrations_dir() -> Path:
    return Path(__file__).with_name("migrations")


def known_revisions() -> frozenset[str]:
    """Every Alembic revision this software knows (its file names begin with the revision id)."""
    return frozenset(p.name[:13] for p in (migrations_dir() / "versions").glob("2*_*.py"))


def shown_revision(revision: str) -> str:
    """A revision as a message may show it: some other program's `alembic_version` could hold anything."""
    return revision if _REVISION_SHAPE.match(revision) else "未知"


@dataclass(frozen=True)
class SqliteState:
    """What a SQLite store file is, found without changing it."""

    path: Path
    revision: str | None  # None: no store yet (no file, an empty file, or no tables): it will be created


def check_sqlite_file(path: Path, *, create: bool, write: bool = True, head: str) -> SqliteState:
    """Classify the store file at `path` before it is opened; raise `StoreError` on anything but a store this
    software can open (`head` is its newest revision). `create`: a missing or empty file may become a new store
    (`desk init`, the window's first start on the default store). `write`: it will be written to (opening a
    store); a backup being read only needs to be readable."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return _missing(path, create=create)
    except OSError as e:
        raise StoreError(f"无法访问数据库文件 {path}（{_reason(e)}）：请检查路径和文件夹权限") from None
    if not path.is_file():
        raise StoreError(
            f"{path} 不是文件（是文件夹或设备）：请检查数据库路径（--db 或环境变量 DESK_DB_URL）"
        )
    if not os.access(path, os.R_OK):
        raise StoreError(f"无法读取数据库文件 {path}（权限不足）：请检查文件权限，或用有权限的系统用户运行")
    if st.st_size == 0:
        if create:
            if (problem := _writability_problem(path)) is not None:
                raise problem
            return SqliteState(path, None)
        raise StoreError(
            f"数据库文件 {path} 是空的（0 字节），不是已初始化的一厅通数据库："
            f"若是新建的库，请运行 desk init；若原本有数据，说明文件已损坏，{RESTORE_HINT}"
        )
    wal = _check_header(path, st.st_size)
    if write and wal and (problem := _writability_problem(path)) is not None:
        # before the read-only look: reading a WAL file would leave an empty -wal and -shm beside it
        raise problem
    revision = _inspect(path, create=create, write=write, head=head)
    if write and (problem := _writability_problem(path)) is not None:
        raise problem
    return SqliteState(path, revision)


def _missing(path: Path, *, create: bool) -> SqliteState:
    parent = path.parent
    if not create:
        if not parent.is_dir():
            raise StoreError(
                f"找不到数据库文件 {path}：所在的文件夹 {parent} 不存在。请检查路径（--db 或环境变量 DESK_DB_URL）"
                "是否写错；要在此新建数据库，请运行 desk init"
            )
        raise StoreError(
            f"找不到数据库文件 {path}：请检查路径（--db 或环境变量 DESK_DB_URL）是否写错；"
            "要在此新建数据库，请运行 desk init"
        )
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise StoreError(f"无法建立数据库文件夹 {parent}（{_reason(e)}）：请检查路径和权限") from None
    if not os.access(parent, os.W_OK | os.X_OK):
        raise StoreError(f"无法在文件夹 {parent} 中新建数据库（不可写）：请检查文件夹权限，或换一个路径")
    return SqliteState(path, None)


def _check_header(path: Path, size: int) -> bool:
    """Whether the file is a whole SQLite file's beginning (else `StoreError`); True when it is in WAL mode."""
    try:
        with path.open("rb") as f:
            header = f.read(HEADER_SIZE)
    except OSError as e:
        raise StoreError(f"无法读取数据库文件 {path}（{_reason(e)}）：请检查文件权限") from None
    if not header.startswith(SQLITE_MAGIC):
        if len(header) < len(SQLITE_MAGIC) and SQLITE_MAGIC.startswith(header):
            raise _damaged(path, "文件被截断，只剩开头几个字节")
        raise StoreError(
            f"{path} 不是 SQLite 数据库文件（文件头不对）：若路径写错，请检查路径（--db 或环境变量 DESK_DB_URL）；"
            f"若这确是本中心的数据库，说明文件头已损坏，{RESTORE_HINT}"
        )
    if len(header) < HEADER_SIZE:
        raise _damaged(path, "文件被截断，连文件头都不完整")
    # The page count in the header is valid when its change counter matches (offsets 24 and 92). Without a WAL or
    # a rollback journal beside it the file must hold all those pages; with one, SQLite itself may still have to
    # finish an interrupted checkpoint, so the check is left to `quick_check`.
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(header[28:32], "big")
    valid = header[24:28] == header[92:96] and pages > 0
    journals = [path.with_name(path.name + s) for s in ("-wal", "-journal")]
    if valid and not any(j.exists() and j.stat().st_size > 0 for j in journals) and size < pages * page_size:
        raise _damaged(
            path, f"文件比文件头记录的短（{size} 字节，应有 {pages * page_size} 字节），可能被截断"
        )
    return header[18] == 2 and header[19] == 2  # the file format version numbers: 2 is WAL


def _inspect(path: Path, *, create: bool, write: bool, head: str) -> str | None:
    """The store's revision, read through a read-only connection; `quick_check` tells whether it is whole."""
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=30)
    except sqlite3.Error as e:
        raise _unopenable(path, e) from None
    try:
        try:
            tables = {
                str(r[0])
                for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
            }
            revision: str | None = None
            if "alembic_version" in tables:
                row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
                revision = str(row[0]) if row and row[0] is not None else None
        except sqlite3.DatabaseError as e:
            # "file is not a database", "database disk image is malformed", an unreadable page...
            logger.info("store %s failed to open read-only: %s", path, e)
            if isinstance(e, sqlite3.OperationalError) and _writability_problem(path) is not None:
                raise _unopenable(path, e) from None
            raise _damaged(path, "无法读出其内容") from None
        try:
            problems = [str(r[0]) for r in conn.execute("PRAGMA quick_check").fetchall()]
        except sqlite3.DatabaseError as e:  # a page so broken that the check itself stops
            problems = [str(e)]
    finally:
        conn.close()
    if problems != ["ok"]:
        # quick_check names pages and tables, never a row's contents
        logger.info("store %s failed quick_check: %s", path, "; ".join(problems[:5]))
        raise _damaged(path, "完整性检查（quick_check）未通过")
    if not tables:
        if create:
            return None
        raise StoreError(
            f"数据库文件 {path} 里没有任何表，不是已初始化的一厅通数据库：若是新建的库，请运行 desk init；"
            f"若原本有数据，{RESTORE_HINT}"
        )
    if revision is None or not OUR_TABLES.issubset(tables):
        raise StoreError(
            f"{path} 是 SQLite 数据库，但不是一厅通的数据库：请检查路径（--db 或环境变量 DESK_DB_URL）；"
            "要新建一厅通数据库，请对一个新文件运行 desk init。此文件未作任何改动"
        )
    if revision != head and revision not in known_revisions():
        raise newer_store(str(path), revision, head)
    return revision


def newer_store(where: str, revision: str, head: str) -> StoreError:
    return StoreError(
        f"数据库 {where} 由更新版本的一厅通建立（结构版本 {shown_revision(revision)}，本软件只认识到 {head}）："
        "请先升级本机的一厅通软件再打开它；旧版软件不会改动这个库"
    )


def _writability_problem(path: Path) -> StoreError | None:
    if path.exists() and not os.access(path, os.W_OK):
        return StoreError(
            f"数据库文件 {path} 是只读的，一厅通需要写入它：请让当前用户可写此文件（检查文件权限，"
            "或磁盘、U 盘是否处于只读状态）后再打开"
        )
    parent = path.parent
    if not os.access(parent, os.W_OK | os.X_OK):
        return StoreError(
            f"数据库所在的文件夹 {parent} 不可写，一厅通需要在其中写入数据库的日志文件"
            f"（{path.name}-wal、{path.name}-shm）：请让当前用户可写此文件夹后再打开"
        )
    return None


def _unopenable(path: Path, e: sqlite3.Error) -> StoreError:
    logger.info("store %s cannot be opened: %s", path, e)
    return _writability_problem(path) or StoreError(f"无法打开数据库文件 {path}：请检查路径和文件权限")


def _damaged(path: Path, what: str) -> StoreError:
    return StoreError(f"数据库文件 {path} 已损坏（{what}）：{RESTORE_HINT}")


def _reason(e: OSError) -> str:
    return {
        13: "权限不足",
        2: "不存在",
        20: "路径中有一段不是文件夹",
        30: "磁盘为只读",
    }.get(e.errno or 0, e.strerror or type(e).__name__)


def readonly_error(path: Path) -> StoreError:
    """The message for SQLite's "attempt to write a readonly database" met after the checks passed (a read-only
    file system, where the permission bits allow writing)."""
    return StoreError(
        f"数据库文件 {path} 无法写入（文件或磁盘为只读）：请让当前用户可写此文件和所在文件夹"
        "（检查权限，或磁盘、U 盘是否处于只读状态）后再打开"
    )


# --- PostgreSQL ---------------------------------------------------------------------------------------------


# a host as a URL may name it: a name, IPv4 or IPv6 (anything else is the tail of a password with an "@" in it)
URL_HOST = re.compile(r"^(?:[A-Za-z0-9_.-]+|[0-9A-Fa-f:.]+(?:%[A-Za-z0-9]+)?)$")


def display_url(url: str) -> str:
    """A store URL as a message may show or a log record: without its password."""
    from sqlalchemy.engine import make_url

    try:
        u = make_url(url)
        if u.host and not URL_HOST.match(
            u.host
        ):  # "user:p@ss@host": the part after the first @ is a password's
            return "（无效的地址）"
        return u.render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - not a URL at all: show nothing of it
        return "（无效的地址）"


def scrub_password(text: str, url: str) -> str:
    """`text` without the URL's password, wherever a driver may have echoed it."""
    from sqlalchemy.engine import make_url

    try:
        password = make_url(url).password
    except Exception:  # noqa: BLE001
        password = None
    if password:
        text = text.replace(str(password), "***")
    return re.sub(r"(://[^:/@\s]*:)[^@\s]*@", r"\1***@", text)


def check_postgresql(conn: Connection, *, create: bool, head: str, where: str) -> str | None:
    """The revision of the PostgreSQL store behind `conn` (None: an empty database, only when `create`); a
    database of some other program, or one from a newer version, is refused before anything is written."""
    import sqlalchemy as sa

    tables = set(sa.inspect(conn).get_table_names())
    if not tables:
        if create:
            return None
        raise StoreError(
            f"数据库 {where} 是空的，尚未初始化：请检查地址中的库名；要在此新建，请运行 desk init（县级库：desk county init）"
        )
    if "alembic_version" not in tables or not OUR_TABLES.issubset(tables):
        raise StoreError(
            f"数据库 {where} 不是一厅通的数据库：请检查地址中的库名；要新建一厅通数据库，请新建一个空库后运行 desk init。"
            "此库未作任何改动"
        )
    revision = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
    if revision is None:
        raise StoreError(f"数据库 {where} 的结构版本记录是空的：{RESTORE_HINT}")
    if revision != head and revision not in known_revisions():
        raise newer_store(where, str(revision), head)
    return str(revision)


def postgresql_open_error(orig: BaseException, url: str) -> StoreError:
    """A Chinese message for a PostgreSQL store that could not be reached or opened (no password in it)."""
    from sqlalchemy.engine import make_url

    where = display_url(url)
    text = str(orig)
    lowered = text.lower()
    try:
        u = make_url(url)
        database, user = u.database or "", u.username or ""
    except Exception:  # noqa: BLE001
        database = user = ""
    if "database" in lowered and "does not exist" in lowered:
        return StoreError(
            f"PostgreSQL 上没有名为 {database} 的数据库（{where}）：请检查地址中的库名是否写错；"
            f"新建请先由管理员建库（createdb {database}），再运行 desk init"
        )
    if "role" in lowered and "does not exist" in lowered:
        return StoreError(f"PostgreSQL 上没有用户 {user}（{where}）：请检查地址中的用户名")
    if "password authentication failed" in lowered or "no password supplied" in lowered:
        return StoreError(f"PostgreSQL 拒绝了用户 {user} 的登录（{where}）：请检查用户名和密码")
    if any(
        m in lowered
        for m in (
            "connection refused",
            "could not connect",
            "connection failed",
            "timeout",
            "timed out",
            "could not translate host name",
            "name or service not known",
            "no route to host",
            "network is unreachable",
        )
    ):
        return StoreError(
            f"无法连接 PostgreSQL 数据库服务器（{where}）：请确认服务器已启动，地址、端口正确，网络通畅"
        )
    first = scrub_password(text.strip().splitlines()[0] if text.strip() else type(orig).__name__, url)
    logger.info("store %s could not be opened: %s", where, first)
    return StoreError(f"无法打开 PostgreSQL 数据库（{where}）：{first}")
