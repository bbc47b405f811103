"""county sync: halls registry columns, departments, sync state, the county outbox and its sequence

Revision ID: 20261127_0004
Revises: 20261127_0003
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import desk.store.base

revision = "20261127_0004"
down_revision = "20261127_0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "case_holders",
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("hall_code", sa.String(length=12), nullable=False),
        sa.PrimaryKeyConstraint("case_id", "hall_code", name=op.f("pk_case_holders")),
    )
    op.create_table(
        "county_outbox",
        sa.Column(
            "seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("hall_code", sa.String(length=12), nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_county_outbox")),
    )
    with op.batch_alter_table("county_outbox", schema=None) as batch_op:
        batch_op.create_index("ix_county_outbox_hall_code_seq", ["hall_code", "seq"], unique=False)

    op.create_table(
        "departments",
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_departments")),
        sa.UniqueConstraint("name", name=op.f("uq_departments_name")),
    )
    op.create_table(
        "sync_alerts",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("hall_code", sa.String(length=12), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("detail", sa.String(length=500), nullable=False),
        sa.Column("at", desk.store.base.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_alerts")),
    )
    with op.batch_alter_table("sync_alerts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sync_alerts_hall_code"), ["hall_code"], unique=False)

    op.create_table(
        "sync_meta",
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("value", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_sync_meta")),
    )
    op.create_table(
        "sync_state",
        sa.Column("peer", sa.String(length=40), nullable=False),
        sa.Column("pushed_seq", sa.BigInteger(), nullable=False),
        sa.Column("pulled_seq", sa.BigInteger(), nullable=False),
        sa.Column("reference_version", sa.BigInteger(), nullable=False),
        sa.Column("last_attempt_at", desk.store.base.UTCDateTime(), nullable=True),
        sa.Column("last_success_at", desk.store.base.UTCDateTime(), nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=False),
        sa.PrimaryKeyConstraint("peer", name=op.f("pk_sync_state")),
    )
    with op.batch_alter_table("halls", schema=None) as batch_op:
        batch_op.add_column(sa.Column("acked_seq", sa.BigInteger(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("registered_at", desk.store.base.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("last_push_at", desk.store.base.UTCDateTime(), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        # the county's arrival order of events (case_events.seq), handed out under the county's sequence lock
        op.execute("CREATE SEQUENCE IF NOT EXISTS case_event_seq AS bigint")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP SEQUENCE IF EXISTS case_event_seq")
    with op.batch_alter_table("halls", schema=None) as batch_op:
        batch_op.drop_column("last_push_at")
        batch_op.drop_column("registered_at")
        batch_op.drop_column("acked_seq")

    op.drop_table("sync_state")
    op.drop_table("sync_meta")
    with op.batch_alter_table("sync_alerts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sync_alerts_hall_code"))

    op.drop_table("sync_alerts")
    op.drop_table("departments")
    with op.batch_alter_table("county_outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_county_outbox_hall_code_seq")

    op.drop_table("county_outbox")
    op.drop_table("case_holders")
