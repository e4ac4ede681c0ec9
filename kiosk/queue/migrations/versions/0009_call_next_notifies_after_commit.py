"""call-next notifies after its commit

PostgreSQL takes one lock for the whole database when a transaction that sent NOTIFY commits,
and holds it through the commit's flush to disk: every call-next, whose statement inserts an
event and so fired the feed's trigger, committed one after another. A session that sets
`kiosk.feed_notify = after_commit` (call-next's own connections, server_sync/server/pgpool.py)
now commits without it and announces its events itself once committed, one notification for
as many calls as commit meanwhile. Every other writer (a push, the console, another program)
still notifies from the trigger, at its commit.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 00:00:00.000000
"""

from __future__ import annotations

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

# The channel of 0002 (server_sync/server/notify.py listens on it).
NOTIFY_CHANNEL = "kiosk_events"


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE OR REPLACE FUNCTION kiosk_notify_events() RETURNS trigger "
            "LANGUAGE plpgsql AS $$ BEGIN "
            "IF current_setting('kiosk.feed_notify', true) IS DISTINCT FROM 'after_commit' THEN "
            f"PERFORM pg_notify('{NOTIFY_CHANNEL}', ''); END IF; RETURN NULL; END $$"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE OR REPLACE FUNCTION kiosk_notify_events() RETURNS trigger "
            "LANGUAGE plpgsql AS $$ BEGIN "
            f"PERFORM pg_notify('{NOTIFY_CHANNEL}', ''); RETURN NULL; END $$"
        )
