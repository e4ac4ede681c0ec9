"""trust boundary

Each kiosk device is bound to one origin and one numbering block, registered on the server;
the server records the events it rejected (each consumes its seq), so a kiosk's seq stays
contiguous; a kiosk keeps small local flags (a store restored from a backup waits for the
server's high-water marks before it issues).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 11:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("devices") as batch:
        batch.add_column(sa.Column("origin", sa.String(length=64), nullable=True))
        batch.add_column(
            sa.Column("numbering_offset", sa.Integer(), nullable=False, server_default="0")
        )
        batch.add_column(
            sa.Column("block_size", sa.Integer(), nullable=False, server_default="100000")
        )
    # A kiosk registered before this version pushes under its own name.
    op.execute("UPDATE devices SET origin = name WHERE role = 'kiosk'")
    op.create_index("ix_devices_origin", "devices", ["origin"], unique=True)
    op.create_table(
        "rejected_events",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("origin", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rejected_events")),
        sa.UniqueConstraint("origin", "seq", name=op.f("uq_rejected_events_origin")),
    )
    op.create_table(
        "local_flags",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_local_flags")),
    )


def downgrade() -> None:
    op.drop_table("local_flags")
    op.drop_table("rejected_events")
    op.drop_index("ix_devices_origin", table_name="devices")
    with op.batch_alter_table("devices") as batch:
        batch.drop_column("block_size")
        batch.drop_column("numbering_offset")
        batch.drop_column("origin")
