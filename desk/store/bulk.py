"""Writing many rows at once: COPY on PostgreSQL, executemany on SQLite."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.orm import Session

from desk.store.base import UTCDateTime


def _naive_utc(v: dt.datetime | None) -> dt.datetime | None:
    if v is None:
        return None
    return (v if v.tzinfo is dt.UTC else v.astimezone(dt.UTC)).replace(tzinfo=None)


def _json(v: Any) -> str | None:
    return None if v is None else orjson.dumps(v).decode()


def _converter(column: sa.Column[Any]) -> Callable[[Any], Any] | None:
    """How a row value goes into COPY's text format, as the column type would bind it (None: as it is)."""
    if isinstance(column.type, UTCDateTime):
        return _naive_utc
    if isinstance(column.type, sa.JSON):
        return _json
    return None


def copy_tuples(session: Session, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """COPY rows, already in COPY's terms (naive UTC times, JSON as text), into the table, in this session's
    transaction (psycopg). A driver error is raised as SQLAlchemy would raise it (a statement cancelled by
    the server's statement_timeout included), so callers see one kind of database error."""
    import psycopg  # the PostgreSQL driver, loaded already when this runs
    from psycopg.copy import QueuedLibpqWriter  # sends on a thread of its own while rows are formatted

    sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    conn: Any = session.connection().connection.driver_connection
    try:
        with conn.cursor() as cur, cur.copy(sql, writer=QueuedLibpqWriter(cur)) as copy:
            for row in rows:
                copy.write_row(row)
    except psycopg.Error as e:
        raise sa.exc.DBAPIError.instance(sql, None, e, psycopg.Error) from e


def copy_rows(session: Session, table: sa.Table, rows: Sequence[dict[str, Any]]) -> None:
    """COPY the rows (dicts keyed by column name, all with the same keys) into the table, converting values as
    the column types would bind them; columns the rows lack take their defaults."""
    if not rows:
        return
    columns = [c for c in table.columns if c.key in rows[0]]
    keys = [c.key for c in columns]
    convert = [(i, f) for i, c in enumerate(columns) if (f := _converter(c)) is not None]

    def values(row: dict[str, Any]) -> list[Any]:
        out = [row[k] for k in keys]
        for i, f in convert:
            out[i] = f(out[i])
        return out

    copy_tuples(session, table.name, [c.name for c in columns], map(values, rows))


def insert_rows(session: Session, table: sa.Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert many rows: COPY on PostgreSQL, one executemany per 5,000 rows elsewhere."""
    if not rows:
        return
    if session.get_bind().dialect.name == "postgresql":
        copy_rows(session, table, rows)
        return
    for i in range(0, len(rows), 5000):
        session.execute(table.insert(), rows[i : i + 5000])
