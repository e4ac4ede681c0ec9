"""GET /metrics: Prometheus text, parsed with prometheus-client's own parser; protected."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine

from kiosk.config import parse_config
from kiosk.devicestatus import build_device_status
from kiosk.queue.service import QueueService
from server_sync.server import create_app
from server_sync.server.devices import add_device
from tests.support.database import ROOT
from tests.support.server import LiveServer, wait_until


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def test_metrics_are_scraped_and_parse(
    live: LiveServer, server_engine: Engine, tokens: dict[str, str]
) -> None:
    service = QueueService(server_engine, origin="kiosk-hall-2")
    for _ in range(3):
        service.issue("NOI")
    called = service.call_next("NOI", "101")
    assert called is not None
    add_device(server_engine, "kiosk-hall-2", "kiosk")
    service.record_device_status(build_device_status(version="0.2.0", printer="paper_out"))
    requests.get(f"{live.url}/api/v1/departments", timeout=10)

    answer = requests.get(f"{live.url}/metrics", timeout=30)
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("text/plain")
    found = samples(answer.text)
    assert found[("kiosk_waiting", (("department", "NOI"),))] == 2
    assert found[("kiosk_calls_today", (("department", "NOI"),))] == 1
    assert found[("kiosk_wait_minutes_count", (("department", "NOI"),))] == 1
    printer = (("device", "kiosk-hall-2"), ("state", "paper_out"))
    assert found[("kiosk_printer_state", printer)] == 1
    latency = [
        key
        for key in found
        if key[0] == "kiosk_http_request_duration_seconds_count"
        and ("route", "/api/v1/departments") in key[1]
    ]
    assert latency, "request latency by route"


def test_metrics_need_the_token_outside_the_allow_list(
    server_engine: Engine, tmp_path: Path
) -> None:
    token = tmp_path / "metrics.token"
    token.write_text("s3cret-scraper-token\n", encoding="utf-8")
    config = parse_config({"console": {"metrics_allow": [], "metrics_token_file": str(token)}})
    live = LiveServer(create_app(server_engine, config)).start()
    assert requests.get(f"{live.url}/metrics", timeout=10).status_code == 403
    wrong = {"Authorization": "Bearer guess"}
    assert requests.get(f"{live.url}/metrics", headers=wrong, timeout=10).status_code == 403
    right = {"Authorization": "Bearer s3cret-scraper-token"}
    answer = requests.get(f"{live.url}/metrics", headers=right, timeout=30)
    assert answer.status_code == 200 and "kiosk_waiting" in answer.text
    live.stop()


@pytest.fixture(params=["sqlite"])
def database_url(request: pytest.FixtureRequest) -> str:
    return str(request.getfixturevalue("sqlite_url"))


def test_multiprocess_mode_with_the_real_server(sqlite_url: str, tmp_path: Path) -> None:
    """`kiosk server` with PROMETHEUS_MULTIPROC_DIR: request metrics go through the files."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    metrics_dir = tmp_path / "prometheus"
    metrics_dir.mkdir()
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir), "KIOSK_CONFIG": ""}
    server = subprocess.Popen(
        [sys.executable, "-m", "kiosk", "server", "--database", sqlite_url, "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"

    def up() -> bool:
        try:
            return requests.get(f"{base}/api/v1/health", timeout=30).ok
        except requests.ConnectionError:
            assert server.poll() is None, server.stderr.read() if server.stderr else ""
            return False

    try:
        wait_until(up, timeout=60, what="kiosk server")
        answer = requests.get(f"{base}/metrics", timeout=30)
        assert answer.status_code == 200
        found = samples(answer.text)
        health = [
            value
            for (name, labels), value in found.items()
            if name == "kiosk_http_request_duration_seconds_count"
            and ("route", "/api/v1/health") in labels
        ]
        assert health and health[0] >= 1
        assert list(metrics_dir.glob("*.db")), "multiprocess files written"
    finally:
        server.terminate()
        server.communicate(timeout=30)  # reads and closes its stderr pipe
