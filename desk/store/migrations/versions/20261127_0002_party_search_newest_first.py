"""Party search indexes carry the case id, so name and initials searches return the newest cases first
(case ids are UUIDv7: they sort by the time the case was registered) straight from the index.

Revision ID: 20261127_0002
Revises: 20261127_0001
Create Date: 2026-11-27
"""

from __future__ import annotations

from alembic import op

revision = "20261127_0002"
down_revision = "20261127_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("parties", schema=None) as batch_op:
        batch_op.drop_index("ix_parties_name")
        batch_op.drop_index("ix_parties_name_initials")
        batch_op.create_index(
            "ix_parties_name_case_id",
            ["name", "case_id"],
            unique=False,
            postgresql_ops={"name": "text_pattern_ops"},
        )
        batch_op.create_index(
            "ix_parties_name_initials_case_id",
            ["name_initials", "case_id"],
            unique=False,
            postgresql_ops={"name_initials": "text_pattern_ops"},
        )


def downgrade() -> None:
    with op.batch_alter_table("parties", schema=None) as batch_op:
        batch_op.drop_index("ix_parties_name_initials_case_id")
        batch_op.drop_index("ix_parties_name_case_id")
        batch_op.create_index(
            "ix_parties_name", ["name"], unique=False, postgresql_ops={"name": "text_pattern_ops"}
        )
        batch_op.create_index(
            "ix_parties_name_initials",
            ["name_initials"],
            unique=False,
            postgresql_ops={"name_initials": "text_pattern_ops"},
        )
