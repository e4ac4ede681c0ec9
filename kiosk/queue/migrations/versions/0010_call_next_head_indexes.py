"""call-next head indexes (PostgreSQL)

PostgreSQL's call-next now runs as a prepared statement with one generic plan per connection
(no planning per call). A generic plan cannot use `ix_tickets_waiting_line` for a status given
as a parameter, and that index's order (priority, queued_at, id) still left a sort for the line's
order (queued_at, number, id). One partial index per class of ticket, in exactly that order,
gives the head of the line directly; the statement writes the status and class out as these
indexes' WHERE clauses do. SQLite does not run that statement: it gets neither index.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 00:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

CLASSES = (("plain", "IS NULL"), ("priority", "IS NOT NULL"))


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for kind, test in CLASSES:
        op.create_index(
            f"ix_tickets_next_{kind}",
            "tickets",
            ["department_code", "service_date", "queued_at", sa.text("COALESCE(number, 0)"), "id"],
            unique=False,
            postgresql_where=sa.text(f"status = 'waiting' AND priority {test}"),
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for kind, _test in CLASSES:
        op.drop_index(f"ix_tickets_next_{kind}", table_name="tickets")
