"""case handling: the case's risk level, deadline rule and due day, pause, outcome, closure and follow-up; the
projections whistles (one row per whistle and department), warnings and bookings

Existing cases keep their deadline: `due_on` is the China-time day of `deadline_at`, under the rule "legacy"
(as the fold of their registration gives it, so a rebuild agrees).

Revision ID: 20261208_0007
Revises: 20261207_0006
Create Date: 2026-12-08
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from alembic import op

import desk.store.base

revision = "20261208_0007"
down_revision = "20261207_0006"
branch_labels = None
depends_on = None

UTC = desk.store.base.UTCDateTime
CHINA = dt.timezone(dt.timedelta(hours=8))  # desk.core.clock.CHINA_TZ, frozen here as the migration used it
BATCH = 5000


def _china_day(value: object) -> dt.date:
    at = dt.datetime.fromisoformat(value) if isinstance(value, str) else value
    assert isinstance(at, dt.datetime)
    if at.tzinfo is None:  # stored as naive UTC
        at = at.replace(tzinfo=dt.UTC)
    return at.astimezone(CHINA).date()


def _set_due_days(conn: sa.Connection) -> None:
    rows = conn.execute(sa.text("SELECT id, deadline_at FROM cases WHERE deadline_at IS NOT NULL"))
    update = sa.text("UPDATE cases SET due_on = :due_on WHERE id = :id")
    batch = []
    for id_, deadline_at in rows.fetchall():
        batch.append({"due_on": _china_day(deadline_at), "id": id_})
        if len(batch) >= BATCH:
            conn.execute(update, batch)
            batch = []
    if batch:
        conn.execute(update, batch)


def upgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("risk_level", sa.String(length=10), nullable=True))
        batch_op.add_column(
            sa.Column("deadline_rule", sa.String(length=40), server_default="legacy", nullable=False)
        )
        batch_op.add_column(sa.Column("due_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("paused_at", UTC(), nullable=True))
        batch_op.add_column(sa.Column("outcome", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("closed_at", UTC(), nullable=True))
        batch_op.add_column(sa.Column("follow_up_due_on", sa.Date(), nullable=True))
        batch_op.create_index(batch_op.f("ix_cases_due_on"), ["due_on"], unique=False)
        batch_op.create_index(batch_op.f("ix_cases_follow_up_due_on"), ["follow_up_due_on"], unique=False)
    _set_due_days(op.get_bind())

    op.create_table(
        "whistles",
        sa.Column("id", sa.String(length=80), nullable=False),
        sa.Column("whistle_id", sa.String(length=36), nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("hall_code", sa.String(length=12), nullable=False),
        sa.Column("department", sa.String(length=40), nullable=False),
        sa.Column("matter", sa.Text(), nullable=False),
        sa.Column("complex", sa.Boolean(), nullable=False),
        sa.Column("blown_at", UTC(), nullable=False),
        sa.Column("sign_by", UTC(), nullable=False),
        sa.Column("arrive_by", UTC(), nullable=False),
        sa.Column("report_by", UTC(), nullable=False),
        sa.Column("signed_at", UTC(), nullable=True),
        sa.Column("signed_by", sa.String(length=60), nullable=True),
        sa.Column("arrived_at", UTC(), nullable=True),
        sa.Column("arrived_by", sa.String(length=60), nullable=True),
        sa.Column("reported_at", UTC(), nullable=True),
        sa.Column("result", sa.Text(), nullable=True),
        sa.Column("rating", sa.String(length=20), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_whistles_case_id_cases"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_whistles")),
    )
    with op.batch_alter_table("whistles", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_whistles_case_id"), ["case_id"], unique=False)
        batch_op.create_index("ix_whistles_department_blown_at", ["department", "blown_at"], unique=False)

    op.create_table(
        "warnings",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("hall_code", sa.String(length=12), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("level", sa.String(length=10), nullable=False),
        sa.Column("message", sa.String(length=500), nullable=False),
        sa.Column("ref", sa.String(length=80), nullable=False),
        sa.Column("raised_at", UTC(), nullable=False),
        sa.Column("acknowledged_at", UTC(), nullable=True),
        sa.Column("acknowledged_by", sa.String(length=60), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_warnings_case_id_cases"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_warnings")),
    )
    with op.batch_alter_table("warnings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_warnings_case_id"), ["case_id"], unique=False)
        batch_op.create_index("ix_warnings_acknowledged_at_level", ["acknowledged_at", "level"], unique=False)

    op.create_table(
        "bookings",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("hall_code", sa.String(length=12), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("time", sa.String(length=5), nullable=False),
        sa.Column("room", sa.String(length=12), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.Column("booked_at", UTC(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_bookings_case_id_cases"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bookings")),
    )
    with op.batch_alter_table("bookings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_bookings_case_id"), ["case_id"], unique=False)
        batch_op.create_index("ix_bookings_day_room", ["day", "room", "hall_code"], unique=False)


def downgrade() -> None:
    op.drop_table("bookings")
    op.drop_table("warnings")
    op.drop_table("whistles")
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cases_follow_up_due_on"))
        batch_op.drop_index(batch_op.f("ix_cases_due_on"))
        batch_op.drop_column("follow_up_due_on")
        batch_op.drop_column("closed_at")
        batch_op.drop_column("outcome")
        batch_op.drop_column("paused_at")
        batch_op.drop_column("due_on")
        batch_op.drop_column("deadline_rule")
        batch_op.drop_column("risk_level")
