"""case events carry a hybrid logical clock stamp (hlc), the order within a case; the store's clock is kept in
its local hall's row (halls.last_hlc)

Existing events are stamped per hall in hall_seq order: each stamp is the event's wall-clock time (as a stamp)
or one more than the hall's previous stamp, whichever is greater; so within a hall, stamps follow hall_seq.

Revision ID: 20261207_0006
Revises: 20261127_0005
Create Date: 2026-12-07
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from alembic import op

revision = "20261207_0006"
down_revision = "20261127_0005"
branch_labels = None
depends_on = None

LOGICAL_BITS = 16  # desk.core.hlc.LOGICAL_BITS, frozen here as the migration wrote it
_EPOCH = dt.datetime(1970, 1, 1)
BATCH = 5000


def _ms(value: object) -> int:
    at = dt.datetime.fromisoformat(value) if isinstance(value, str) else value
    assert isinstance(at, dt.datetime)
    if at.tzinfo is not None:
        at = at.astimezone(dt.UTC).replace(tzinfo=None)
    return (at - _EPOCH) // dt.timedelta(milliseconds=1)


def _stamp_existing(conn: sa.Connection) -> int:
    rows = conn.execute(
        sa.text("SELECT id, hall_code, occurred_at FROM case_events ORDER BY hall_code, hall_seq")
    )
    update = sa.text("UPDATE case_events SET hlc = :hlc WHERE id = :id")
    hall, last, top, batch = None, -1, 0, []
    for id_, hall_code, occurred_at in rows.fetchall():
        if hall_code != hall:
            hall, last = hall_code, -1
        last = max(_ms(occurred_at) << LOGICAL_BITS, last + 1)
        top = max(top, last)
        batch.append({"hlc": last, "id": id_})
        if len(batch) >= BATCH:
            conn.execute(update, batch)
            batch = []
    if batch:
        conn.execute(update, batch)
    return top


def upgrade() -> None:
    with op.batch_alter_table("case_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("hlc", sa.BigInteger(), nullable=True))
    with op.batch_alter_table("halls", schema=None) as batch_op:
        batch_op.add_column(sa.Column("last_hlc", sa.BigInteger(), server_default="0", nullable=False))
    conn = op.get_bind()
    top = _stamp_existing(conn)
    conn.execute(sa.text("UPDATE halls SET last_hlc = :top"), {"top": max(top, 0)})
    with op.batch_alter_table("case_events", schema=None) as batch_op:
        batch_op.alter_column("hlc", existing_type=sa.BigInteger(), nullable=False)
        batch_op.drop_index("ix_case_events_case_id")
        batch_op.create_index("ix_case_events_case_id_hlc", ["case_id", "hlc"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("case_events", schema=None) as batch_op:
        batch_op.drop_index("ix_case_events_case_id_hlc")
        batch_op.create_index("ix_case_events_case_id", ["case_id"], unique=False)
        batch_op.drop_column("hlc")
    with op.batch_alter_table("halls", schema=None) as batch_op:
        batch_op.drop_column("last_hlc")
