"""Opening a store: the engine (SQLite pragmas or PostgreSQL), migrations at start, units of work.

On SQLite no commit runs a WAL checkpoint (`wal_autocheckpoint=0`): a checkpoint inside a commit cost a
registration a whole extra flush of the database file. `WalCheckpointer` does the work instead, on a thread of its
own, shortly after commits, and once more when the store is closed or the process exits.
"""

from __future__ import annotations

import atexit
import logging
import os
import sqlite3
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from desk.errors import StoreError

logger = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).with_name("migrations")
# The newest Alembic revision; a store already there opens without loading Alembic (fast CLI start).
HEAD_REVISION = "20261208_0008"


# An execution option of the engine that `Store.read()` uses: its transactions only read.
READ_ONLY = "desk_read_only"
# Checked-out connections remember here whether `PRAGMA query_only` is on (SQLite).
_QUERY_ONLY = "desk_query_only"


# How long a writer waits for the write lock (SQLite) before giving up: generous, because a burst of terminals
# and call buttons pressed at once must queue, not fail.
BUSY_TIMEOUT_S = 30


def _sqlite_pragmas(dbapi_conn: Any, record: Any) -> None:
    # Durable and safe for one machine: WAL, fsync at every commit, foreign keys; write transactions are
    # started IMMEDIATE in `_sqlite_begin` so two writers never deadlock on a lock upgrade. No commit runs a
    # checkpoint: the store's WalCheckpointer does, off the committing thread.
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=FULL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_S * 1000}")
    cur.execute("PRAGMA wal_autocheckpoint=0")
    cur.close()
    record.info[_QUERY_ONLY] = False


def _owner_only(path: Path) -> Callable[[Any, Any], None]:
    """A connect hook: the store file is readable by its owner only (0600 on POSIX). SQLite gives the WAL and
    shared-memory files the database file's mode, so they follow."""

    def restrict(_dbapi_conn: Any, _record: Any) -> None:
        if os.name != "posix":
            return
        for f in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
            try:
                if f.stat().st_mode & 0o077:
                    f.chmod(0o600)
            except OSError:  # absent, or not ours to change: opening goes on, the store checks say the rest
                pass

    return restrict


def _sqlite_begin(conn: sa.Connection) -> None:
    # A read (`Store.read()`) begins deferred: in WAL mode it takes no lock and never waits for a writer, and
    # `query_only` makes an accidental write fail at once instead of upgrading the lock. Everything else
    # begins IMMEDIATE: it takes the write lock first, so writers queue instead of deadlocking.
    read = bool(conn.get_execution_options().get(READ_ONLY))
    info = conn.info
    if info.get(_QUERY_ONLY) is not read:
        conn.exec_driver_sql(f"PRAGMA query_only={int(read)}")
        info[_QUERY_ONLY] = read
    conn.exec_driver_sql("BEGIN" if read else "BEGIN IMMEDIATE")


def create_engine(url: str) -> sa.Engine:
    """The store's engine. Its errors never show a statement's bound values (`hide_parameters`): they are
    people's ID numbers, phones and narratives."""
    u = make_url(url)
    if u.get_backend_name() == "sqlite":
        if u.database and u.database != ":memory:":
            Path(u.database).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(u, connect_args={"timeout": BUSY_TIMEOUT_S}, hide_parameters=True)
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        if u.database and u.database != ":memory:" and not u.database.startswith("file:"):
            sa.event.listen(engine, "connect", _owner_only(Path(u.database)))
        sa.event.listen(engine, "begin", _sqlite_begin)
        return engine
    if u.get_backend_name() == "postgresql":
        from desk.store.models import attach_postgresql_options

        attach_postgresql_options()
        if u.drivername == "postgresql":
            u = u.set(drivername="postgresql+psycopg")
        return sa.create_engine(u, pool_pre_ping=True, hide_parameters=True)
    raise StoreError(f"不支持的数据库地址：{u.get_backend_name()}（只支持 sqlite 与 postgresql）")


def current_revision(engine: sa.Engine) -> str | None:
    """The schema's Alembic revision; a read, so opening a store never queues for the write lock."""
    with engine.connect() as conn:
        conn.execution_options(**{READ_ONLY: True})
        if not sa.inspect(conn).has_table("alembic_version"):
            return None
        return conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()


def migrate(engine: sa.Engine) -> None:
    """Bring the schema to the newest revision (Alembic; batch mode on SQLite)."""
    if current_revision(engine) == HEAD_REVISION:
        return
    run_alembic(engine, "upgrade", "head")
    logger.info("store migrated to %s", HEAD_REVISION)


def run_alembic(engine: sa.Engine, direction: str, target: str) -> None:
    """Upgrade or downgrade the schema to `target` in one transaction.

    On SQLite, foreign keys are off while it runs: batch mode rebuilds a table by copy, drop and rename, and
    dropping `cases` with foreign keys on would cascade into `parties` and delete them. Afterwards every
    reference is checked again, and a broken one aborts the migration.
    """
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    step = command.upgrade if direction == "upgrade" else command.downgrade
    is_sqlite = engine.dialect.name == "sqlite"
    with engine.connect() as conn:
        if is_sqlite:
            # Must be set outside a transaction, so on the driver's connection before SQLAlchemy begins one.
            conn.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")  # type: ignore[union-attr]
        try:
            with conn.begin():
                cfg.attributes["connection"] = conn
                step(cfg, target)
                if is_sqlite:
                    broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                    if broken:
                        raise StoreError(f"数据库升级后有 {len(broken)} 处引用失效，已撤销升级")
        finally:
            if is_sqlite:
                conn.connection.driver_connection.execute("PRAGMA foreign_keys=ON")  # type: ignore[union-attr]


def sqlite_file(engine: sa.Engine) -> Path | None:
    """The database file of a file-backed SQLite engine, else None."""
    u = engine.url
    if (
        u.get_backend_name() != "sqlite"
        or not u.database
        or u.database == ":memory:"
        or u.database.startswith("file:")
    ):
        return None
    return Path(u.database)


WAL_QUIET_S = 0.5  # checkpoint once no commit came for this long...
WAL_MAX_DELAY_S = 2.0  # ...or this long after the first commit not yet checkpointed
WAL_CAP_BYTES = (
    64 * 1024 * 1024
)  # a WAL file larger than this is truncated (once no reader or writer is busy)

_live_checkpointers: weakref.WeakSet[WalCheckpointer] = weakref.WeakSet()


@atexit.register
def _checkpoint_at_exit() -> None:
    # A short-lived process (`desk register`) seldom disposes its store; with automatic checkpoints off, nothing
    # else would ever move its commits into the database file and shrink the WAL.
    for checkpointer in list(_live_checkpointers):
        checkpointer.close()


class WalCheckpointer:
    """Checkpoints one SQLite store's WAL on a daemon thread with its own connection.

    `notify()` (called at every commit) wakes it; it waits for `quiet_s` without commits, or at most
    `max_delay_s`, then runs `PRAGMA wal_checkpoint(PASSIVE)`, which copies committed pages into the database file
    without waiting for, or blocking, any reader or writer. When the WAL file is larger than `cap_bytes`, and at
    `close()`, it then tries a TRUNCATE checkpoint, which empties the WAL file; it takes no busy timeout, so it
    gives way at once to a writer or a reader rather than making them wait. Failures are logged, never raised.
    """

    def __init__(
        self,
        path: Path,
        *,
        quiet_s: float = WAL_QUIET_S,
        max_delay_s: float = WAL_MAX_DELAY_S,
        cap_bytes: int = WAL_CAP_BYTES,
    ) -> None:
        self.path = path.resolve()
        self.wal = self.path.with_name(self.path.name + "-wal")
        self.quiet_s = quiet_s
        self.max_delay_s = max_delay_s
        self.cap_bytes = cap_bytes
        self.checkpoints = 0  # passes that checkpointed the whole WAL (for tests and benchmarks)
        self.truncations = 0  # of which the WAL file was also emptied
        self._wake = threading.Event()
        self._closing = threading.Event()
        self._conn: sqlite3.Connection | None = None
        self._thread = threading.Thread(
            target=self._run, name=f"desk-wal-checkpoint {path.name}", daemon=True
        )
        self._thread.start()
        _live_checkpointers.add(self)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def notify(self) -> None:
        """A commit happened (or is happening): checkpoint soon."""
        self._wake.set()

    def stop(self) -> None:
        """Ask the thread to checkpoint one last time and end; returns at once."""
        self._closing.set()
        self._wake.set()

    def close(self, timeout: float = 30.0) -> None:
        """Checkpoint one last time (emptying the WAL when it can), end the thread and wait for it."""
        self.stop()
        if self._thread is not threading.current_thread():
            self._thread.join(timeout)
            if self._thread.is_alive():
                logger.warning("the WAL checkpoint of %s did not finish within %g s", self.path, timeout)
        _live_checkpointers.discard(self)

    # --- the thread ---------------------------------------------------------------------------------------

    def _run(self) -> None:
        try:
            if self.wal.exists() and self.wal.stat().st_size > 0:
                self._wake.set()  # a WAL left by an earlier process: move it into the database too
            while not self._closing.is_set():
                self._wake.wait()
                self._wait_for_quiet()
                if self._closing.is_set():
                    break
                self._checkpoint(truncate=self._wal_size() > self.cap_bytes)
            self._checkpoint(truncate=True)
        except BaseException:  # noqa: BLE001 - the thread never raises out (it would be printed to stderr)
            logger.warning("the WAL checkpointer of %s stopped", self.path, exc_info=True)
        finally:
            if self._conn is not None:
                try:
                    self._conn.close()
                except sqlite3.Error:
                    logger.warning(
                        "could not close the checkpoint connection of %s", self.path, exc_info=True
                    )
                self._conn = None

    def _wait_for_quiet(self) -> None:
        deadline = time.monotonic() + self.max_delay_s
        while not self._closing.is_set():
            self._wake.clear()
            left = deadline - time.monotonic()
            if left <= 0 or not self._wake.wait(min(self.quiet_s, left)):
                return

    def _wal_size(self) -> int:
        try:
            return self.wal.stat().st_size
        except OSError:
            return 0

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            # mode=rw: never create a database that is not there (a deleted store stays deleted)
            conn = sqlite3.connect(
                f"{self.path.as_uri()}?mode=rw", uri=True, isolation_level=None, check_same_thread=True
            )
            try:
                conn.execute("PRAGMA busy_timeout=0")  # give way to readers and writers at once
                conn.execute("PRAGMA synchronous=FULL")  # the database file is synced after each checkpoint
                conn.execute("PRAGMA wal_autocheckpoint=0")
            except BaseException:
                conn.close()
                raise
            self._conn = conn
        return self._conn

    def _checkpoint(self, *, truncate: bool) -> None:
        try:
            conn = self._connection()
            busy, log, done = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            complete = not busy and done == log
            if truncate and complete:
                # after the PASSIVE pass there is little left to copy: the write lock is held only briefly
                busy, log, done = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
                if not busy:
                    self.truncations += 1
            if complete:
                self.checkpoints += 1
            else:
                logger.debug(
                    "WAL checkpoint of %s incomplete (%s of %s frames); again after the next commit",
                    self.path,
                    done,
                    log,
                )
        except sqlite3.OperationalError as e:
            if "locked" in str(e) or "busy" in str(e):
                logger.debug("WAL checkpoint of %s deferred: %s", self.path, e)
            else:
                logger.warning("WAL checkpoint of %s failed: %s", self.path, e)
        except Exception as e:  # noqa: BLE001 - a failed checkpoint costs disk space, not data: log it, go on
            logger.warning("WAL checkpoint of %s failed: %s", self.path, e)


class Store:
    """An opened store: hands out units of work (one transaction each).

    On a SQLite file it also runs a `WalCheckpointer`; `dispose()` stops it (an `atexit` hook does, too, for a
    process that never calls `dispose()`)."""

    def __init__(self, engine: sa.Engine, *, wal_cap_bytes: int = WAL_CAP_BYTES) -> None:
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        read_options: dict[str, Any] = {READ_ONLY: True}
        if engine.dialect.name == "postgresql":
            read_options["postgresql_readonly"] = True  # psycopg: BEGIN READ ONLY, no extra round trip
        # Shares the engine's pool and its event listeners; only the options of its connections differ.
        self._read_sessions = sessionmaker(engine.execution_options(**read_options), expire_on_commit=False)
        self.wal_checkpointer: WalCheckpointer | None = None
        self._on_commit: Callable[[sa.Connection], None] | None = None
        path = sqlite_file(engine)
        if path is not None:
            checkpointer = self.wal_checkpointer = WalCheckpointer(path, cap_bytes=wal_cap_bytes)

            def committed(conn: sa.Connection) -> None:
                if not conn.get_execution_options().get(READ_ONLY):
                    checkpointer.notify()

            sa.event.listen(engine, "commit", committed)
            self._on_commit = committed
            # a store dropped without dispose() lets its thread finish instead of leaving it waiting forever
            weakref.finalize(self, checkpointer.stop)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def unit_of_work(self) -> Iterator[Session]:
        """One transaction: committed when the block ends normally, rolled back on any exception.
        On SQLite it begins IMMEDIATE (it holds the write lock from the start): for anything that may write."""
        with self._sessions.begin() as session:
            yield session

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A transaction that only reads: it never waits for a writer (SQLite: a deferred BEGIN, in WAL mode a
        snapshot; PostgreSQL: READ ONLY). Writing in it fails. Ended when the block ends."""
        with self._read_sessions.begin() as session:
            yield session

    def before_commit(self, hook: Callable[[Session], None]) -> None:
        """Run `hook(session)` in every unit of work just before it commits (inside its transaction)."""
        if not sa.event.contains(self._sessions, "before_commit", hook):
            sa.event.listen(self._sessions, "before_commit", hook)

    def dispose(self) -> None:
        """Close the store: the last WAL checkpoint (SQLite), then the connections. Safe to call twice."""
        if self._on_commit is not None and sa.event.contains(self.engine, "commit", self._on_commit):
            sa.event.remove(self.engine, "commit", self._on_commit)
        if self.wal_checkpointer is not None:
            self.wal_checkpointer.close()
        self.engine.dispose()


# A busy server (every terminal of a hall starting at once) may briefly refuse new connections.
BUSY_SERVER_MESSAGES = ("too many clients", "the database system is starting up")
CONNECT_PATIENCE_S = 15.0


def open_store(url: str, *, migrate_schema: bool = True, create: bool = True) -> Store:
    """Open the store at `url`, after checking that it is one (`desk.store.checks`), and bring its schema to the
    newest revision (with `migrate_schema`).

    `create`: a store that is not there yet (no file, an empty file, an empty PostgreSQL database) may be made here.
    The commands pass False, except `desk init`, so that a mistyped path is refused instead of silently becoming a
    new, empty store. Every problem is a `StoreError` with a Chinese message saying what to do."""
    from desk.store.checks import check_sqlite_file

    try:
        u = make_url(url)
    except sa.exc.ArgumentError:
        raise StoreError(
            "数据库地址无效：应形如 sqlite:///路径/desk.db 或 postgresql+psycopg://用户@主机:5432/库名"
        ) from None
    path = _sqlite_path(u)
    revision: str | None = None
    if path is not None:
        revision = check_sqlite_file(path, create=create, head=HEAD_REVISION).revision
    engine = create_engine(url)
    deadline = time.monotonic() + CONNECT_PATIENCE_S
    delay = 0.05
    while True:
        try:
            if engine.dialect.name == "postgresql":
                revision = _check_postgresql(engine, url, create=create)
            if migrate_schema and revision != HEAD_REVISION:
                migrate(engine)
            else:
                with engine.connect():  # the connect hook runs (WAL, pragmas): a read-only disk shows here
                    pass
            break
        except sa.exc.OperationalError as e:
            busy = any(m in str(e.orig) for m in BUSY_SERVER_MESSAGES)
            if busy and time.monotonic() + delay < deadline:
                time.sleep(delay)
                delay = min(delay * 2, 1.0)
                continue
            engine.dispose()
            raise _open_error(e, url, path) from None
        except sa.exc.DBAPIError as e:
            engine.dispose()
            raise _open_error(e, url, path) from None
        except BaseException:
            engine.dispose()
            raise
    store = Store(engine)
    # a county store: its transactions give new events their county seq (migrate() has just made it current)
    if engine.dialect.name == "postgresql" and (migrate_schema or revision == HEAD_REVISION):
        from desk.store import county

        if county.store_role(store) == "county":
            county.install(store)
    return store


def _sqlite_path(u: sa.URL) -> Path | None:
    if u.get_backend_name() != "sqlite" or not u.database or u.database == ":memory:":
        return None
    if u.database.startswith("file:"):
        return None
    return Path(u.database)


def store_file(url: str) -> Path | None:
    """The file of a SQLite store URL; None for PostgreSQL or an in-memory store."""
    try:
        return _sqlite_path(make_url(url))
    except sa.exc.ArgumentError:
        raise StoreError("数据库地址无效：应形如 sqlite:///路径/desk.db") from None


def _check_postgresql(engine: sa.Engine, url: str, *, create: bool) -> str | None:
    from desk.store.checks import check_postgresql, display_url

    with engine.connect() as conn:
        conn.execution_options(**{READ_ONLY: True})
        with conn.begin():
            return check_postgresql(conn, create=create, head=HEAD_REVISION, where=display_url(url))


def _open_error(e: sa.exc.DBAPIError, url: str, path: Path | None) -> StoreError:
    """The Chinese message for a store the driver could not open (never the driver's text with a password)."""
    from desk.store import checks

    orig = e.orig if e.orig is not None else e
    if path is None:
        return checks.postgresql_open_error(orig, url)
    text = str(orig).lower()
    logger.info("store %s could not be opened: %s", path, orig)
    if "readonly" in text or "read-only" in text:
        return checks.readonly_error(path)
    if "malformed" in text or "not a database" in text or "corrupt" in text:
        return StoreError(f"数据库文件 {path} 已损坏（无法读出其内容）：{checks.RESTORE_HINT}")
    if "disk i/o" in text or "full" in text:
        return StoreError(f"无法读写数据库文件 {path}（磁盘出错或已满）：请检查磁盘后再打开")
    return StoreError(f"无法打开数据库文件 {path}：请检查路径和文件权限")
