"""What lets a command on an up-to-date SQLite store start without Alembic or the PostgreSQL dialect."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy.schema import CreateIndex

from desk.store.models import PartyRow
from desk.store.session import HEAD_REVISION, MIGRATIONS, create_engine


def test_head_revision_is_alembics_head() -> None:
    # open_store compares the store's revision with this constant and loads Alembic only when they differ
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    assert ScriptDirectory.from_config(cfg).get_heads() == [HEAD_REVISION]


def _index_ddl(engine: sa.Engine) -> dict[str, str]:
    return {
        str(ix.name): str(CreateIndex(ix).compile(dialect=engine.dialect))
        for ix in PartyRow.__table__.indexes
    }


def test_postgresql_index_options_are_attached_with_a_postgresql_engine() -> None:
    sqlite = create_engine("sqlite://")
    assert "text_pattern_ops" not in _index_ddl(sqlite)["ix_parties_name_case_id"]
    pg = create_engine("postgresql+psycopg://nobody@127.0.0.1:1/none")  # not connected
    ddl = _index_ddl(pg)
    assert "(name text_pattern_ops, case_id)" in ddl["ix_parties_name_case_id"]
    assert "(name_initials text_pattern_ops, case_id)" in ddl["ix_parties_name_initials_case_id"]
    pg.dispose()
    sqlite.dispose()


def test_json_columns_are_jsonb_on_postgresql_and_bound_as_such() -> None:
    from desk.store.models import RoomRow

    pg = create_engine("postgresql+psycopg://nobody@127.0.0.1:1/none")
    column = RoomRow.__table__.c.categories
    assert isinstance(column.type, sa.JSON)  # the bulk COPY converts by this
    assert column.type.compile(dialect=pg.dialect) == "JSONB"
    update = sa.update(RoomRow.__table__).values(categories=["a"]).where(RoomRow.__table__.c.id == "x")
    assert "categories=%(categories)s::JSONB" in str(update.compile(dialect=pg.dialect))
    pg.dispose()
