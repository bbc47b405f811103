"""access: users, the audit log, and personal data sealed at rest

- `users`: sign-in accounts with their roles, rooms, Argon2id hashes and lockout.
- `audit_log`: who looked at, changed, printed or exported what, when and where; append-only, per-hall sequence
  (`hall_seq`) so that it syncs to the county like the events.
- `parties`: the ID number, phone and address become text long enough for a sealed value (``enc1:...``); their
  own indexes give way to the blind indexes `id_index` and `phone_index` (keyed hashes), and the fields reports
  use are kept apart and unencrypted: `age_band` and `grid_code` (the sex was there already). `cases` gets
  `grid_code` (the applicant's) and `claimed_by` (the login of who claimed it).
- The columns naming who acted grow to 120 characters (name, login and terminal).

The values already stored stay as they are here: the migration has no key. The first start with keys seals them
and fills the blind indexes (`desk.store.reseal`).

Revision ID: 20261208_0008
Revises: 20261208_0007
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import desk.store.base

revision = "20261208_0008"
down_revision = "20261208_0007"
branch_labels = None
depends_on = None

UTC = desk.store.base.UTCDateTime
JSON = desk.store.base.JSONType


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("login", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("roles", JSON, nullable=False),
        sa.Column("rooms", JSON, nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("pin_hash", sa.String(length=200), nullable=True),
        sa.Column("failed_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("locked_until", UTC(), nullable=True),
        sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("created_at", UTC(), nullable=False),
        sa.Column("updated_at", UTC(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("login", name=op.f("uq_users_login")),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("hall_code", sa.String(length=12), nullable=False),
        sa.Column("hall_seq", sa.BigInteger(), nullable=False),
        sa.Column("at", UTC(), nullable=False),
        sa.Column("login", sa.String(length=32), nullable=False),
        sa.Column("user_name", sa.String(length=40), nullable=False),
        sa.Column("terminal", sa.String(length=60), nullable=False),
        sa.Column("action", sa.String(length=30), nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=True),
        sa.Column("case_no", sa.String(length=30), nullable=True),
        sa.Column("detail", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
        sa.UniqueConstraint("hall_code", "hall_seq", name=op.f("uq_audit_log_hall_code")),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index("ix_audit_log_at", ["at"], unique=False)
        batch_op.create_index("ix_audit_log_login_at", ["login", "at"], unique=False)
        batch_op.create_index("ix_audit_log_case_no_at", ["case_no", "at"], unique=False)

    with op.batch_alter_table("parties", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_parties_id_number"))
        batch_op.drop_index(batch_op.f("ix_parties_phone"))
        batch_op.alter_column("id_number", type_=sa.Text(), existing_type=sa.String(length=18))
        batch_op.alter_column("phone", type_=sa.Text(), existing_type=sa.String(length=20))
        batch_op.alter_column("address", type_=sa.Text(), existing_type=sa.String(length=200))
        batch_op.add_column(sa.Column("id_index", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("phone_index", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("age_band", sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column("grid_code", sa.String(length=20), nullable=True))
        batch_op.create_index("ix_parties_id_index_case_id", ["id_index", "case_id"], unique=False)
        batch_op.create_index("ix_parties_phone_index_case_id", ["phone_index", "case_id"], unique=False)

    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("grid_code", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("claimed_by", sa.String(length=32), nullable=True))
        batch_op.alter_column("actor", type_=sa.String(length=120), existing_type=sa.String(length=60))
    with op.batch_alter_table("case_events", schema=None) as batch_op:
        batch_op.alter_column("actor", type_=sa.String(length=120), existing_type=sa.String(length=60))
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.alter_column("called_by", type_=sa.String(length=120), existing_type=sa.String(length=60))
    with op.batch_alter_table("warnings", schema=None) as batch_op:
        batch_op.alter_column(
            "acknowledged_by", type_=sa.String(length=120), existing_type=sa.String(length=60)
        )


def downgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_column("claimed_by")
        batch_op.drop_column("grid_code")
    with op.batch_alter_table("parties", schema=None) as batch_op:
        batch_op.drop_index("ix_parties_phone_index_case_id")
        batch_op.drop_index("ix_parties_id_index_case_id")
        batch_op.drop_column("grid_code")
        batch_op.drop_column("age_band")
        batch_op.drop_column("phone_index")
        batch_op.drop_column("id_index")
        batch_op.create_index(batch_op.f("ix_parties_phone"), ["phone"], unique=False)
        batch_op.create_index(batch_op.f("ix_parties_id_number"), ["id_number"], unique=False)
    op.drop_table("audit_log")
    op.drop_table("users")
