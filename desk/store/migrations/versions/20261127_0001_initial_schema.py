"""initial schema: event log, projections, reference data

Revision ID: 20261127_0001
Revises:
Create Date: 2026-11-27 03:42:53.813199
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import desk.store.base

Text = sa.Text

revision = "20261127_0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "case_events",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("hall_code", sa.String(length=12), nullable=False),
        sa.Column("hall_seq", sa.BigInteger(), nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column(
            "payload",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("occurred_at", desk.store.base.UTCDateTime(), nullable=False),
        sa.Column("actor", sa.String(length=60), nullable=False),
        sa.Column("schema_version", sa.Integer(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_events")),
        sa.UniqueConstraint("hall_code", "hall_seq", name=op.f("uq_case_events_hall_code_hall_seq")),
        sa.UniqueConstraint("seq", name=op.f("uq_case_events_seq")),
    )
    with op.batch_alter_table("case_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_events_case_id"), ["case_id"], unique=False)

    op.create_table(
        "cases",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("case_no", sa.String(length=30), nullable=False),
        sa.Column("hall_code", sa.String(length=12), nullable=False),
        sa.Column("category_code", sa.String(length=40), nullable=False),
        sa.Column("channel", sa.String(length=30), nullable=False),
        sa.Column("headcount", sa.Integer(), nullable=False),
        sa.Column("narrative", sa.Text(), nullable=False),
        sa.Column(
            "risk_flags",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("repeat_visits", sa.Integer(), nullable=False),
        sa.Column("status_token", sa.String(length=32), nullable=False),
        sa.Column("registered_at", desk.store.base.UTCDateTime(), nullable=False),
        sa.Column("updated_at", desk.store.base.UTCDateTime(), nullable=False),
        sa.Column("deadline_at", desk.store.base.UTCDateTime(), nullable=False),
        sa.Column("actor", sa.String(length=60), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cases")),
        sa.UniqueConstraint("case_no", name=op.f("uq_cases_case_no")),
        sa.UniqueConstraint("status_token", name=op.f("uq_cases_status_token")),
    )
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cases_category_code"), ["category_code"], unique=False)
        batch_op.create_index(batch_op.f("ix_cases_registered_at"), ["registered_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_cases_state"), ["state"], unique=False)

    op.create_table(
        "categories",
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("deadline_class", sa.String(length=20), nullable=False),
        sa.Column(
            "aliases",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_categories")),
        sa.UniqueConstraint("name", name=op.f("uq_categories_name")),
    )
    op.create_table(
        "halls",
        sa.Column("code", sa.String(length=12), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.Column("is_local", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_halls")),
    )
    op.create_table(
        "counters",
        sa.Column("hall_code", sa.String(length=12), nullable=False),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["hall_code"], ["halls.code"], name=op.f("fk_counters_hall_code_halls")),
        sa.PrimaryKeyConstraint("hall_code", "name", name=op.f("pk_counters")),
    )
    op.create_table(
        "parties",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("name_initials", sa.String(length=100), nullable=False),
        sa.Column("is_organisation", sa.Boolean(), nullable=False),
        sa.Column("id_number", sa.String(length=18), nullable=True),
        sa.Column("phone", sa.String(length=20), nullable=True),
        sa.Column("address", sa.String(length=200), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=True),
        sa.Column("sex", sa.String(length=2), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_parties_case_id_cases"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_parties")),
    )
    with op.batch_alter_table("parties", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_parties_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_parties_id_number"), ["id_number"], unique=False)
        # text_pattern_ops: PostgreSQL's LIKE 'prefix%' uses the index whatever the database collation.
        batch_op.create_index(
            batch_op.f("ix_parties_name"), ["name"], unique=False, postgresql_ops={"name": "text_pattern_ops"}
        )
        batch_op.create_index(
            batch_op.f("ix_parties_name_initials"),
            ["name_initials"],
            unique=False,
            postgresql_ops={"name_initials": "text_pattern_ops"},
        )
        batch_op.create_index(batch_op.f("ix_parties_phone"), ["phone"], unique=False)

    op.create_table(
        "rooms",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("hall_code", sa.String(length=12), nullable=False),
        sa.Column("code", sa.String(length=12), nullable=False),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("prefix", sa.String(length=2), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("location", sa.String(length=60), nullable=False),
        sa.Column(
            "categories",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("is_open", sa.Boolean(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["hall_code"], ["halls.code"], name=op.f("fk_rooms_hall_code_halls")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rooms")),
        sa.UniqueConstraint("hall_code", "code", name=op.f("uq_rooms_hall_code_code")),
        sa.UniqueConstraint("hall_code", "prefix", name=op.f("uq_rooms_hall_code_prefix")),
    )


def downgrade() -> None:
    op.drop_table("rooms")
    with op.batch_alter_table("parties", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_parties_phone"))
        batch_op.drop_index(batch_op.f("ix_parties_name_initials"))
        batch_op.drop_index(batch_op.f("ix_parties_name"))
        batch_op.drop_index(batch_op.f("ix_parties_id_number"))
        batch_op.drop_index(batch_op.f("ix_parties_case_id"))

    op.drop_table("parties")
    op.drop_table("counters")
    op.drop_table("halls")
    op.drop_table("categories")
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cases_state"))
        batch_op.drop_index(batch_op.f("ix_cases_registered_at"))
        batch_op.drop_index(batch_op.f("ix_cases_category_code"))

    op.drop_table("cases")
    with op.batch_alter_table("case_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_events_case_id"))

    op.drop_table("case_events")
