"""call requests

Counters send an id with "call next" and retry with the same id when an answer is lost; the
server remembers which ticket each id called, so a retry never calls a second patient.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 09:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "call_requests",
        sa.Column("request_id", sa.String(length=64), nullable=False),
        sa.Column("department_code", sa.String(length=16), nullable=False),
        sa.Column("room", sa.String(length=32), nullable=False),
        sa.Column("ticket_id", sa.String(length=36), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("request_id", name=op.f("pk_call_requests")),
    )


def downgrade() -> None:
    op.drop_table("call_requests")
