"""Backups of a SQLite store: a consistent copy while windows write, checked; a restore that keeps the old file;
the daily automatic backup and its pruning.

A backup is taken with SQLite's online backup API in a single step: the copy is one read transaction's snapshot,
and in WAL mode a reader neither waits for nor blocks the windows that keep writing. The copy is a single file
(rollback journal, no `-wal` beside it), passes `PRAGMA integrity_check`, is readable by its owner only, and only
then takes its name (written to a temporary file and renamed), so a backup file is never half written.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import re
import sqlite3
import tempfile
from dataclasses import dataclass
from pathlib import Path

from desk.errors import StoreError
from desk.store.checks import RESTORE_HINT, check_sqlite_file
from desk.store.session import HEAD_REVISION

logger = logging.getLogger(__name__)

COUNTY_PEER = "county"  # = desk.sync.engine.PEER: the sync_state row of the county
DAILY_NAME = re.compile(r"^(?P<stem>.+)-(?P<day>\d{8})\.db$")


@dataclass(frozen=True)
class StoreFacts:
    """What a store file says about itself (read without changing it)."""

    path: Path
    revision: str
    hall_code: str  # "" when the store has no local hall yet
    hall_name: str
    last_seq: int  # the hall's newest event number (hall_seq)
    acked_seq: int  # the last hall_seq the county acknowledged, by this store's sync record (0: never synced)
    cases: int


@dataclass(frozen=True)
class BackupReport:
    path: Path
    size: int
    facts: StoreFacts


def _connect_ro(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=30)


def read_facts(path: Path, *, revision: str) -> StoreFacts:
    """The hall, its newest event and the county's acknowledgment, as recorded in the store at `path`."""
    conn = _connect_ro(path)
    try:
        hall = conn.execute("SELECT code, name, last_seq FROM halls WHERE is_local").fetchone()
        try:
            acked = conn.execute(
                "SELECT pushed_seq FROM sync_state WHERE peer = ?", (COUNTY_PEER,)
            ).fetchone()
        except sqlite3.OperationalError:  # a store from before sync (no sync_state table)
            acked = None
        cases = conn.execute("SELECT count(*) FROM cases").fetchone()[0]
    except sqlite3.DatabaseError as e:
        logger.info("store %s could not be read: %s", path, e)
        raise StoreError(f"数据库文件 {path} 无法读出：{RESTORE_HINT}") from None
    finally:
        conn.close()
    return StoreFacts(
        path=path,
        revision=revision,
        hall_code=str(hall[0]) if hall else "",
        hall_name=str(hall[1]) if hall else "",
        last_seq=int(hall[2] or 0) if hall else 0,
        acked_seq=int(acked[0] or 0) if acked else 0,
        cases=int(cases or 0),
    )


def inspect_store_file(path: Path) -> StoreFacts:
    """Check a store file that is only to be read (a backup, a store to back up): a Hall Desk store of a revision
    this software knows, whole (`quick_check`); then its facts. Raises `StoreError`."""
    state = check_sqlite_file(path, create=False, write=False, head=HEAD_REVISION)
    assert state.revision is not None  # create=False: a file without a store was refused
    return read_facts(path, revision=state.revision)


def _integrity_problems(conn: sqlite3.Connection) -> list[str]:
    rows = [str(r[0]) for r in conn.execute("PRAGMA integrity_check").fetchall()]
    return [] if rows == ["ok"] else rows


def _fsync_dir(directory: Path) -> None:
    if os.name != "posix":
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _copy_store(source: Path, target: Path) -> None:
    """Copy the store at `source` into `target` (a new, private file in the target's folder) with the online backup
    API, as a single file, and check the copy; `target` is replaced only once the copy is whole."""
    directory = target.parent
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)  # mode 0600
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        src = _connect_ro(source)
        try:
            dst = sqlite3.connect(tmp, isolation_level=None)
            try:
                src.backup(dst)  # pages=-1: every page in one step, so one read snapshot of the source
                dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
                problems = _integrity_problems(dst)
            finally:
                dst.close()
        finally:
            src.close()
        if problems:
            logger.info("the copy of %s failed integrity_check: %s", source, "; ".join(problems[:5]))
            raise StoreError(f"备份副本未通过完整性检查（integrity_check），未保存：{RESTORE_HINT}")
        os.chmod(tmp, 0o600)
        with tmp.open("rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, target)
        _fsync_dir(directory)
    except BaseException:
        for leftover in (tmp, tmp.with_name(tmp.name + "-journal")):
            with contextlib.suppress(OSError):
                leftover.unlink()
        raise


def backup_store(store: Path, out: Path) -> BackupReport:
    """`desk backup --out FILE`: a checked, consistent copy of the SQLite store at `store`, while it is in use."""
    facts = inspect_store_file(store)
    if out.exists() and out.is_dir():
        raise StoreError(f"{out} 是文件夹：请给出备份文件的名字，如 {out / 'desk-备份.db'}")
    with contextlib.suppress(OSError):
        if out.exists() and out.samefile(store):
            raise StoreError("备份文件不能是数据库文件本身：请换一个文件名")
    if not out.parent.is_dir():
        raise StoreError(f"备份的目标文件夹 {out.parent} 不存在：请检查路径")
    try:
        _copy_store(store, out)
    except sqlite3.Error as e:
        logger.info("backup of %s failed: %s", store, e)
        raise StoreError(f"备份失败：无法读取数据库 {store} 或写入 {out}（{type(e).__name__}）") from None
    except OSError as e:
        raise StoreError(f"无法写入备份文件 {out}：{e.strerror or type(e).__name__}") from None
    return BackupReport(out, out.stat().st_size, facts)


# --- daily backups ------------------------------------------------------------------------------------------


def daily_backup_name(store: Path, day: dt.date) -> str:
    return f"{store.stem}-{day:%Y%m%d}.db"


def daily_backups(directory: Path, store: Path) -> list[Path]:
    """The daily backups of `store` in `directory`, oldest first (other files there are not ours to touch)."""
    if not directory.is_dir():
        return []
    found = []
    for p in directory.iterdir():
        m = DAILY_NAME.match(p.name)
        if m and m["stem"] == store.stem and p.is_file():
            found.append((m["day"], p))
    return [p for _, p in sorted(found)]


def daily_backup(store: Path, directory: Path, *, keep: int, today: dt.date) -> Path | None:
    """Today's automatic backup of `store` into `directory`, unless it is there already; then only the newest
    `keep` daily backups are kept. Returns the new backup, or None when there was nothing to do (`keep` < 1 turns
    automatic backups off)."""
    if keep < 1:
        return None
    target = directory / daily_backup_name(store, today)
    made: Path | None = None
    if not target.exists():
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        backup_store(store, target)
        made = target
        logger.info("daily backup written: %s", target)
    for old in daily_backups(directory, store)[:-keep]:
        try:
            old.unlink()
            logger.info("old daily backup removed: %s", old)
        except OSError as e:
            logger.warning("could not remove the old backup %s: %s", old, e.strerror)
    return made


# --- restore ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RestorePlan:
    """What `desk restore` is about to do, and what it means; shown before anything is changed."""

    store: Path
    backup: StoreFacts
    current: StoreFacts | None  # None: no store there, or one that cannot be read (`current_problem`)
    current_problem: str
    acked_seq: int  # the county's acknowledgment as this machine knows it (the newer of both records)

    @property
    def other_hall(self) -> bool:
        return self.current is not None and self.current.hall_code != self.backup.hall_code

    @property
    def behind_county(self) -> bool:
        return self.backup.last_seq < self.acked_seq

    def summary(self) -> list[str]:
        """The lines `desk restore` prints before it asks: what the backup holds, what is lost, what the county
        will do."""
        b = self.backup
        lines = [
            f"备份文件：{b.path}（{b.hall_code} {b.hall_name}，{b.cases} 个案件，本中心事件至第 {b.last_seq} 号）"
        ]
        if self.current is not None:
            c = self.current
            lines.append(
                f"当前数据库：{self.store}（{c.hall_code} {c.hall_name}，{c.cases} 个案件，事件至第 {c.last_seq} 号），"
                "恢复前将改名保留"
            )
            if c.last_seq > b.last_seq and c.hall_code == b.hall_code:
                lines.append(
                    f"当前数据库比备份多 {c.last_seq - b.last_seq} 个事件（第 {b.last_seq + 1}–{c.last_seq} 号）："
                    "恢复后它们只留在改名保留的旧文件里"
                )
        elif self.current_problem:
            lines.append(f"当前数据库：{self.store} 无法读取（{self.current_problem}），恢复前将改名保留")
        else:
            lines.append(f"当前数据库：{self.store} 不存在，将由备份新建")
        if self.other_hall:
            assert self.current is not None
            lines.append(
                f"注意：备份属于综治中心 {b.hall_code}，当前数据库属于 {self.current.hall_code}，不是同一个中心"
            )
        if self.acked_seq == 0:
            lines.append("县级库：本机没有与县级同步过的记录")
        elif self.behind_county:
            lines.append(
                f"注意：备份比县级库已确认收到的旧。据本机的同步记录，县级库已收到本中心至第 {self.acked_seq} 号事件，"
                f"备份只到第 {b.last_seq} 号：第 {b.last_seq + 1}–{self.acked_seq} 号事件只在县级库里，"
                "不会自动回到本机。恢复后，同步会发现本机落后于县级库而停止，并在县级库留下告警；"
                "请先联系县级管理员，在问题解决前不要在本机登记新来访（新事件会重用这些编号）"
            )
        else:
            lines.append(
                f"县级库：已确认收到本中心至第 {self.acked_seq} 号事件，备份不比它旧；"
                f"备份中第 {self.acked_seq + 1} 号以后的事件会在下次同步时上传"
                if b.last_seq > self.acked_seq
                else f"县级库：已确认收到本中心至第 {self.acked_seq} 号事件，与备份一致"
            )
        return lines


def plan_restore(store: Path, backup: Path) -> RestorePlan:
    """Check the backup (a Hall Desk store this software knows, whole by `integrity_check`) and read what the
    current store records, without changing either."""
    facts = inspect_store_file(backup)
    conn = _connect_ro(backup)
    try:
        problems = _integrity_problems(conn)
    except sqlite3.DatabaseError:
        problems = ["unreadable"]
    finally:
        conn.close()
    if problems:
        logger.info("backup %s failed integrity_check: %s", backup, "; ".join(problems[:5]))
        raise StoreError(f"备份文件 {backup} 未通过完整性检查（integrity_check），不能用来恢复：请换一个备份")
    if not facts.hall_code:
        raise StoreError(f"备份文件 {backup} 是尚未初始化的一厅通数据库（没有本中心），不能用来恢复")
    current: StoreFacts | None = None
    problem = ""
    if store.exists():
        try:
            current = inspect_store_file(store)
        except StoreError as e:
            problem = "已损坏或不是一厅通数据库"
            logger.info("current store %s unreadable before restore: %s", store, e.message)
    elif not store.parent.is_dir():
        raise StoreError(
            f"数据库所在的文件夹 {store.parent} 不存在：请检查路径（--db 或环境变量 DESK_DB_URL）"
        )
    acked = max(facts.acked_seq, current.acked_seq if current else 0)
    return RestorePlan(store, facts, current, problem, acked)


def _release(store: Path) -> None:
    """Make sure no other process has the store open, and move its WAL into the file.

    In WAL mode the last connection to close checkpoints and deletes the `-wal` file: so after a TRUNCATE
    checkpoint and closing our own connection, a `-wal` still there means another window or command holds the
    store open (restoring under it would let it go on writing into the old file)."""
    wal = store.with_name(store.name + "-wal")
    try:
        conn = sqlite3.connect(
            f"{store.resolve().as_uri()}?mode=rw", uri=True, timeout=5, isolation_level=None
        )
        try:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        finally:
            conn.close()
    except sqlite3.Error as e:  # a damaged store: it is moved aside with its -wal and -shm as they are
        logger.info("checkpoint of %s before restore failed: %s", store, e)
        return
    if wal.exists():
        raise StoreError(
            f"数据库 {store} 正被其他窗口或命令使用：请先关闭本机所有一厅通窗口（前台、功能室终端、叫号屏、自助查询机）"
            "和查询服务，再恢复"
        )


def restore_store(plan: RestorePlan, *, now: dt.datetime) -> Path | None:
    """Put the backup in place of the store; the current store (with any `-wal`/`-shm`) is renamed to
    `<name>.before-restore-YYYYmmdd-HHMMSS` and kept. Returns that name (None when there was no store)."""
    store = plan.store
    aside: Path | None = None
    moved: list[tuple[Path, Path]] = []
    if store.exists():
        _release(store)
        aside = store.with_name(f"{store.name}.before-restore-{now:%Y%m%d-%H%M%S}")
        n = 1
        while aside.exists():
            n += 1
            aside = store.with_name(f"{store.name}.before-restore-{now:%Y%m%d-%H%M%S}-{n}")
        try:
            for suffix in ("", "-wal", "-shm"):
                src = store.with_name(store.name + suffix)
                if src.exists():
                    dst = aside.with_name(aside.name + suffix)
                    os.rename(src, dst)
                    moved.append((src, dst))
        except OSError as e:
            _undo(moved)
            raise StoreError(f"无法把当前数据库 {store} 改名保留：{e.strerror}；未恢复") from None
    try:
        _copy_store(plan.backup.path, store)
    except (OSError, sqlite3.Error, StoreError) as e:
        _undo(moved)
        detail = e.message if isinstance(e, StoreError) else type(e).__name__
        raise StoreError(f"恢复失败（{detail}），当前数据库未改动") from None
    logger.info("store %s restored from %s; the previous one kept as %s", store, plan.backup.path, aside)
    return aside


def _undo(moved: list[tuple[Path, Path]]) -> None:
    for src, dst in reversed(moved):
        try:
            os.rename(dst, src)
        except OSError as e:
            logger.error("could not move %s back to %s: %s", dst, src, e.strerror)
