"""hall: rooms staff, mediators, tickets

Revision ID: 20261127_0003
Revises: 20261127_0002
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import desk.store.base

Text = sa.Text

revision = "20261127_0003"
down_revision = "20261127_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "mediators",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("hall_code", sa.String(length=12), nullable=False),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("grade", sa.String(length=20), nullable=False),
        sa.Column(
            "specialties",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["hall_code"], ["halls.code"], name=op.f("fk_mediators_hall_code_halls")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mediators")),
    )
    op.create_table(
        "tickets",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("hall_code", sa.String(length=12), nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("room_code", sa.String(length=12), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=8), nullable=False),
        sa.Column(
            "priority_reasons",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("arrival_at", desk.store.base.UTCDateTime(), nullable=False),
        sa.Column("queue_key", desk.store.base.UTCDateTime(), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("recalls", sa.Integer(), nullable=False),
        sa.Column("called_at", desk.store.base.UTCDateTime(), nullable=True),
        sa.Column("called_by", sa.String(length=60), nullable=True),
        sa.Column("terminal", sa.String(length=40), nullable=True),
        sa.Column("served_at", desk.store.base.UTCDateTime(), nullable=True),
        sa.Column("finished_at", desk.store.base.UTCDateTime(), nullable=True),
        sa.Column("updated_at", desk.store.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_tickets_case_id_cases"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tickets")),
        sa.UniqueConstraint("hall_code", "day", "label", name=op.f("uq_tickets_hall_code_day_label")),
    )
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_tickets_case_id"), ["case_id"], unique=False)
        batch_op.create_index(
            "ix_tickets_queue", ["hall_code", "room_code", "state", "queue_key", "number"], unique=False
        )
        batch_op.create_index(
            "ix_tickets_hall_queue", ["hall_code", "state", "queue_key", "number"], unique=False
        )

    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("room_code", sa.String(length=12), nullable=True))

    with op.batch_alter_table("rooms", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "staff",
                sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
                nullable=False,
                server_default="[]",
            )
        )
        batch_op.add_column(
            sa.Column(
                "primary_categories",
                sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
                nullable=False,
                server_default="[]",
            )
        )
        batch_op.add_column(
            sa.Column(
                "departments",
                sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
                nullable=False,
                server_default="[]",
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("rooms", schema=None) as batch_op:
        batch_op.drop_column("departments")
        batch_op.drop_column("staff")
        batch_op.drop_column("primary_categories")

    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_column("room_code")

    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_index("ix_tickets_hall_queue")
        batch_op.drop_index("ix_tickets_queue")
        batch_op.drop_index(batch_op.f("ix_tickets_case_id"))

    op.drop_table("tickets")
    op.drop_table("mediators")
