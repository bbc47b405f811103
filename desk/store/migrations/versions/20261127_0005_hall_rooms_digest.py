"""county: the digest of each hall's rooms, so a hall sends its rooms up only when they changed

Revision ID: 20261127_0005
Revises: 20261127_0004
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "20261127_0005"
down_revision = "20261127_0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("halls", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("rooms_digest", sa.String(length=64), server_default="", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("halls", schema=None) as batch_op:
        batch_op.drop_column("rooms_digest")
