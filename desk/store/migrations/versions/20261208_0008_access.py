"""access: users, the audit log, and personal data sealed at rest

- `users`: sign-in accounts with their roles, rooms, Argon2id hashes and lockout.
- `audit_log`: who looked at, changed, printed or exported what, when and where; append-only, per-hall sequence
  (`hall_seq`) so that it syncs to the county like the events.
- `parties`: the ID number, phone and address become text long enough for a sealed value (``enc1:...``); their
  own indexes give way to the blind indexes `id_index` and `phone_index` (keyed hashes), and the fields reports
  use are kept apart and unencrypted: `age_band` and `grid_code` (the sex was there already). `cases` gets
  `grid_code` (the applicant's) and `claimed_by` (the login of who claimed it).
- The columns naming who acted grow to 120 characters (name, login and terminal).
- The view `case_stages` (`desk.store.stages`): what the status page shows of a case, nothing personal; on
  PostgreSQL the status server's role reads this view and nothing else (`desk.store.roles`). A later migration
  that rebuilds or retypes `cases`, `tickets`, `rooms` or `case_events` must drop the view first and make it
  again after (SQLite's table rebuild and PostgreSQL's ALTER COLUMN TYPE refuse a table a view reads).

The values already stored stay as they are here: the migration has no key. `desk init` (which `make run` runs)
then seals them and fills the blind indexes (`desk.store.reseal`), as `desk keys reseal` does.

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

# The case's latest ticket is taken by (updated_at, number) descending, as the status page always did; the
# waiting tickets ahead of it are those of its room's queue with a smaller (queue_key, number). A transfer's
# target is the latest TransferredOut's, in the log's causal order (hlc, hall_code in code point order,
# hall_seq). Filtering the view on status_token uses the unique index of cases.status_token.
CASE_STAGES_POSTGRESQL = """
CREATE VIEW case_stages AS
SELECT c.status_token, c.case_no, c.state, c.outcome, c.updated_at,
       tr.transfer_kind, tr.transfer_to,
       t.label AS ticket, t.state AS ticket_state, t.updated_at AS ticket_updated_at,
       CASE WHEN t.state = 'waiting' THEN (
           SELECT count(*)::integer FROM tickets w
           WHERE w.hall_code = t.hall_code AND w.room_code = t.room_code AND w.state = 'waiting'
             AND (w.queue_key < t.queue_key OR (w.queue_key = t.queue_key AND w.number < t.number))
       ) END AS ahead,
       r.code AS room_code, r.name AS room_name, r.location AS room_location
FROM cases c
LEFT JOIN LATERAL (
    SELECT t1.hall_code, t1.room_code, t1.label, t1.state, t1.updated_at, t1.queue_key, t1.number
    FROM tickets t1 WHERE t1.case_id = c.id
    ORDER BY t1.updated_at DESC, t1.number DESC LIMIT 1
) t ON true
LEFT JOIN rooms r ON r.hall_code = t.hall_code AND r.code = t.room_code
LEFT JOIN LATERAL (
    SELECT e.payload ->> 'to_kind' AS transfer_kind, e.payload ->> 'to_name' AS transfer_to
    FROM case_events e WHERE c.state = 'transferred' AND e.case_id = c.id AND e.kind = 'transferred_out'
    ORDER BY e.hlc DESC, e.hall_code COLLATE "C" DESC, e.hall_seq DESC LIMIT 1
) tr ON true
"""

# SQLite has no LATERAL: the latest ticket is joined by its id, the transfer's target read by two subqueries
# (text sorts in code point order there already).
_SQLITE_TRANSFER = """(
    SELECT json_extract(e.payload, '$.{key}') FROM case_events e
    WHERE c.state = 'transferred' AND e.case_id = c.id AND e.kind = 'transferred_out'
    ORDER BY e.hlc DESC, e.hall_code DESC, e.hall_seq DESC LIMIT 1
)"""
CASE_STAGES_SQLITE = f"""
CREATE VIEW case_stages AS
SELECT c.status_token, c.case_no, c.state, c.outcome, c.updated_at,
       {_SQLITE_TRANSFER.format(key="to_kind")} AS transfer_kind,
       {_SQLITE_TRANSFER.format(key="to_name")} AS transfer_to,
       t.label AS ticket, t.state AS ticket_state, t.updated_at AS ticket_updated_at,
       CASE WHEN t.state = 'waiting' THEN (
           SELECT count(*) FROM tickets w
           WHERE w.hall_code = t.hall_code AND w.room_code = t.room_code AND w.state = 'waiting'
             AND (w.queue_key < t.queue_key OR (w.queue_key = t.queue_key AND w.number < t.number))
       ) END AS ahead,
       r.code AS room_code, r.name AS room_name, r.location AS room_location
FROM cases c
LEFT JOIN tickets t ON t.id = (
    SELECT t1.id FROM tickets t1 WHERE t1.case_id = c.id
    ORDER BY t1.updated_at DESC, t1.number DESC LIMIT 1
)
LEFT JOIN rooms r ON r.hall_code = t.hall_code AND r.code = t.room_code
"""


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

    # last: the tables it reads are not rebuilt after it
    postgresql = op.get_bind().dialect.name == "postgresql"
    op.execute(CASE_STAGES_POSTGRESQL if postgresql else CASE_STAGES_SQLITE)


def downgrade() -> None:
    op.execute("DROP VIEW IF EXISTS case_stages")
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
