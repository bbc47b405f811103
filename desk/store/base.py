"""Declarative base with a naming convention, and column types that behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(sa.TypeDecorator[dt.datetime]):
    """Stored as naive UTC (SQLite has no time zones), always returned timezone-aware in UTC."""

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: sa.Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(dt.UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: sa.Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if isinstance(value, str):  # pragma: no cover - raw SQLite text
            value = dt.datetime.fromisoformat(value)
        return value.replace(tzinfo=dt.UTC)


class _JSONB(sa.TypeDecorator[Any]):
    """PostgreSQL's JSONB, named without importing the PostgreSQL dialect: a process on SQLite (every `desk`
    command of a single-PC hall) never loads it; on PostgreSQL it resolves to JSONB when first used."""

    impl = sa.JSON
    cache_ok = True
    render_bind_cast = True  # as JSONB itself on psycopg: `%(x)s::JSONB`

    def load_dialect_impl(self, dialect: sa.Dialect) -> sa.types.TypeEngine[Any]:
        from sqlalchemy.dialects.postgresql import JSONB

        return dialect.type_descriptor(JSONB())


# JSON on SQLite, JSONB on PostgreSQL; still an `sa.JSON` (its operators, `isinstance` checks) on both
JSONType = sa.JSON().with_variant(_JSONB(), "postgresql")


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)
