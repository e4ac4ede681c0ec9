"""Each new device problem sent once to `console.webhook_url` (the hospital's chat, the
province's operations centre), however many server processes run.

One process at a time does the sending: on PostgreSQL it holds a session advisory lock for as
long as it lives (the others try again each round and take over if it dies); the `fleet_alerts`
table remembers which problems were sent, so a restart or a new leader sends nothing twice. A
problem that goes away is forgotten, and is sent again if it comes back.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass

import requests
from sqlalchemy import Connection, Engine, delete, select, text
from sqlalchemy.orm import Session

from kiosk.queue.events import format_timestamp
from kiosk.queue.models import FleetAlert
from server_sync.server.admin.fleet import FleetLine, fleet

log = logging.getLogger(__name__)

# Any number: the key of the PostgreSQL advisory lock held by the sending process.
ALERT_LOCK_KEY = 7_355_609
ROUND_SECONDS = 30.0
TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True)
class Alert:
    key: str
    payload: dict[str, object]


def current_alerts(lines: list[FleetLine], now: dt.datetime) -> list[Alert]:
    alerts = []
    for line in lines:
        for problem in line.problems:
            alerts.append(
                Alert(
                    key=f"{line.name}:{problem.code}"[:200],
                    payload={
                        "device": line.name,
                        "role": line.role,
                        "problem": problem.code,
                        "severity": problem.severity,
                        "hint_vi": problem.hint_vi,
                        "hint_en": problem.hint_en,
                        "last_contact": (
                            format_timestamp(line.last_contact) if line.last_contact else None
                        ),
                        "at": format_timestamp(now),
                    },
                )
            )
    return alerts


def send_new_problems(
    engine: Engine, url: str, now: dt.datetime, http: requests.Session | None = None
) -> int:
    """Send the problems not sent yet; forget the ones gone. Returns how many were sent."""
    alerts = current_alerts(fleet(engine, now), now)
    keys = {alert.key for alert in alerts}
    with Session(engine) as session, session.begin():
        known = {row.key: row for row in session.scalars(select(FleetAlert))}
        gone = [key for key in known if key not in keys]
        if gone:
            session.execute(delete(FleetAlert).where(FleetAlert.key.in_(gone)))
        for alert in alerts:
            if alert.key not in known:
                session.add(FleetAlert(key=alert.key, first_seen_at=now, sent_at=None))
        pending = {key for key, row in known.items() if row.sent_at is None and key in keys}
        pending |= keys - set(known)
    sent = 0
    http = http or requests.Session()
    for alert in alerts:
        if alert.key not in pending:
            continue
        try:
            answer = http.post(url, json=alert.payload, timeout=TIMEOUT_SECONDS)
            answer.raise_for_status()
        except requests.RequestException as exc:
            log.warning("webhook %s did not take problem %s: %s; trying again", url, alert.key, exc)
            continue
        with Session(engine) as session, session.begin():
            row = session.get(FleetAlert, alert.key)
            if row is not None:
                row.sent_at = now
        sent += 1
    return sent


class AlertLeader:
    """Whether this process is the one that sends (PostgreSQL: an advisory lock held open)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._connection: Connection | None = None

    def lead(self) -> bool:
        if self.engine.dialect.name != "postgresql":
            return True  # SQLite: one file, one machine; the table alone keeps it once
        if self._connection is not None:
            return True
        connection = self.engine.connect()
        got = connection.execute(
            text("SELECT pg_try_advisory_lock(:key)"), {"key": ALERT_LOCK_KEY}
        ).scalar()
        connection.commit()
        if got:
            self._connection = connection
            return True
        connection.close()
        return False

    def release(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(Exception):
                self._connection.execute(
                    text("SELECT pg_advisory_unlock(:key)"), {"key": ALERT_LOCK_KEY}
                )
                self._connection.commit()
            self._connection.close()
            self._connection = None


async def alert_loop(engine: Engine, url: str, clock: Callable[[], dt.datetime]) -> None:
    """Every round: if this process leads, send what is new."""
    leader = AlertLeader(engine)
    http = requests.Session()
    try:
        while True:
            try:
                if await asyncio.to_thread(leader.lead):
                    now = clock()
                    await asyncio.to_thread(send_new_problems, engine, url, now, http)
            except Exception:
                log.exception("device problem alerts failed; trying again later")
                await asyncio.to_thread(leader.release)
            await asyncio.sleep(ROUND_SECONDS)
    finally:
        await asyncio.to_thread(leader.release)
        http.close()
