"""PostgreSQL plans call-next once per connection, and that plan reads each head of the line from
its own index: no planning per call, no sort of a department's tickets per call."""

from __future__ import annotations

import json
import re
from typing import Any

import psycopg
import pytest
from sqlalchemy import text

from kiosk.queue.service import _CALL_NEXT_SQL, QueueService, _call_next_parameters, _psycopg_text
from server_sync.server.notify import libpq_dsn
from server_sync.server.pgpool import call_next_pool, connection_options
from tests.support.loops import run_in_own_loop

pytestmark = pytest.mark.postgres

# psycopg prepares a statement the sixth time a connection runs it (its prepare_threshold).
CALLS_UNTIL_PREPARED = 6


@pytest.fixture
def database_url(postgres_url: str) -> str:
    return postgres_url


def fill_a_month(service: QueueService) -> None:
    """A month of a busy hospital: 3,000 tickets a department, a third of them done, one in
    seven with priority; statistics gathered, as autovacuum would have."""
    with service.engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO tickets (id, department_code, service_date, number, code, priority,"
                " status, origin, issued_at, queued_at, called_at, call_count)"
                " SELECT gen_random_uuid()::text, d.code, :today - (g % 31), g, 'X' || g,"
                " CASE WHEN g % 7 = 0 THEN 'elderly' END,"
                " CASE WHEN g % 3 = 0 THEN 'served' ELSE 'waiting' END, 'plan-test',"
                " now(), now() + g * interval '1 second',"
                " CASE WHEN g % 3 = 0 THEN now() END, 0"
                " FROM departments AS d, generate_series(1, 3000) AS g"
            ),
            {"today": service.service_date(service.now())},
        )
        connection.execute(text("ANALYZE tickets"))


def plan_nodes(plan: dict[str, Any]) -> list[dict[str, Any]]:
    nodes = [plan]
    for child in plan.get("Plans", []):
        nodes.extend(plan_nodes(child))
    return nodes


def test_call_next_runs_on_one_generic_plan_per_connection(
    server_service: QueueService,
) -> None:
    fill_a_month(server_service)

    async def scenario() -> list[tuple[str, int, int]]:
        async with call_next_pool(server_service.engine, 1) as pool:
            for _ in range(CALLS_UNTIL_PREPARED + 2):
                ticket, _new = await server_service.call_next_in_room_async(pool, "NOI", "101")
                assert ticket is not None
            async with pool.connection() as connection:
                cursor = await connection.execute(
                    "SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements"
                )
                return [(str(s), int(g), int(c)) for s, g, c in await cursor.fetchall()]

    prepared = [row for row in run_in_own_loop(scenario()) if "call_requests" in row[0]]
    assert len(prepared) == 1, prepared
    _statement, generic, custom = prepared[0]
    # Every run since it was prepared used the one generic plan; none was planned afresh.
    assert generic >= 2 and custom == 0


def test_the_generic_plan_reads_each_head_of_the_line_from_its_index(
    server_service: QueueService,
) -> None:
    fill_a_month(server_service)
    engine = server_service.engine
    # The statement as psycopg sends it, with PostgreSQL's own numbered parameters.
    statement = _psycopg_text(_CALL_NEXT_SQL)
    names: list[str] = []

    def number(match: re.Match[str]) -> str:
        if match[1] not in names:
            names.append(match[1])
        return f"${names.index(match[1]) + 1}"

    numbered = re.sub(r"%\((\w+)\)s", number, statement)
    parameters = _call_next_parameters(server_service, "NOI", "101", "plan-1")
    with psycopg.connect(
        libpq_dsn(engine), options=connection_options(engine), autocommit=True
    ) as connection:
        connection.execute(f"PREPARE call_next AS {numbered}")  # type: ignore[arg-type]
        cursor = psycopg.ClientCursor(connection)
        arguments = ", ".join(["%s"] * len(names))
        cursor.execute(
            f"EXPLAIN (FORMAT JSON) EXECUTE call_next({arguments})",  # type: ignore[arg-type]
            [parameters[name] for name in names],
        )
        row = cursor.fetchone()
    assert row is not None
    explained = row[0] if isinstance(row[0], list) else json.loads(row[0])
    nodes = plan_nodes(explained[0]["Plan"])
    indexes = {node.get("Index Name") for node in nodes}
    assert {"ix_tickets_next_plain", "ix_tickets_next_priority"} <= indexes, indexes
    # (The only sort left orders the two counters it bumps, a VALUES list of two rows.)
    ticket_sorts = [
        node
        for node in nodes
        if node["Node Type"] == "Sort"
        and any(below.get("Relation Name") == "tickets" for below in plan_nodes(node))
    ]
    assert not ticket_sorts, json.dumps(explained, indent=1)
    assert not [
        node
        for node in nodes
        if node["Node Type"] == "Seq Scan" and node.get("Relation Name") == "tickets"
    ]
