"""statistics index

The statistics of a period (the console's page, `kiosk report`) read every ticket of it: on
PostgreSQL this index holds the columns they read, so the period is read from the index in
department order (an index-only scan) instead of fetching each ticket's row from the table.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 00:00:00.000000
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_tickets_statistics",
        "tickets",
        ["department_code", "service_date"],
        unique=False,
        postgresql_include=[
            "status",
            "number",
            "issued_at",
            "queued_at",
            "called_at",
            "last_called_at",
            "finished_at",
        ],
    )


def downgrade() -> None:
    op.drop_index("ix_tickets_statistics", table_name="tickets")
