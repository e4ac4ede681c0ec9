"""call-next indexes

The head of each department's line (waiting tickets in queue order) and its latest first calls
(the priority turn) are read on every call-next: two partial indexes give both in order, so a
call no longer sorts the department's tickets of the day.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 21:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_tickets_waiting_line",
        "tickets",
        ["department_code", "service_date", "priority", "queued_at", "id"],
        unique=False,
        postgresql_where=sa.text("status = 'waiting'"),
        sqlite_where=sa.text("status = 'waiting'"),
    )
    op.create_index(
        "ix_tickets_first_calls",
        "tickets",
        ["department_code", "service_date", "called_at", "id"],
        unique=False,
        postgresql_where=sa.text("called_at IS NOT NULL"),
        sqlite_where=sa.text("called_at IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_tickets_first_calls", table_name="tickets")
    op.drop_index("ix_tickets_waiting_line", table_name="tickets")
