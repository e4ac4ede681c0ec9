"""feed position at commit

An event's feed position is taken in the last statement before its transaction commits, so
writers no longer queue behind one counter row while they work: until then it is NULL.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 12:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("events") as batch:
        batch.alter_column("position", existing_type=sa.Integer(), nullable=True)


def downgrade() -> None:
    op.execute("DELETE FROM events WHERE position IS NULL")
    with op.batch_alter_table("events") as batch:
        batch.alter_column("position", existing_type=sa.Integer(), nullable=False)
