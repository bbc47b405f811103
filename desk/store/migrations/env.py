"""Alembic environment: runs on the connection the store hands over (see desk.store.session.migrate)."""

from __future__ import annotations

from alembic import context

from desk.store import models  # noqa: F401  (registers the tables)
from desk.store.base import Base

config = context.config
connection = config.attributes.get("connection")
if connection is None:  # pragma: no cover - only through desk.store.session.migrate
    raise RuntimeError("run migrations through desk.store.session.migrate")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
