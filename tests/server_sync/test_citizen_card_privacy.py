"""Nothing of a citizen ID card is kept, printed, sent or logged.

A card is scanned (`kiosk issue NOI --id-qr - --print`, its text on standard input), the ticket
is printed on a printer on 127.0.0.1 (real python-escpos bytes) and pushed to a real uvicorn
(`kiosk sync --once`); then every field of the card, in every form (raw, NFC, NFD, the ISO and
dd/mm/yyyy dates, without diacritics, upper and lower case) is looked for in the kiosk's
database with its -wal and -shm files and everything else in its data directory, the logs of
the command, the sync and the server, the ESC/POS bytes, the request bodies the server was sent
and every row of the server's database (SQLite, or PostgreSQL with KIOSK_TEST_POSTGRES_URL).
"""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import sqlite3
import sys
import unicodedata
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, MetaData, select

from kiosk.app.citizen_card import local_today
from kiosk.cli import main
from kiosk.config import Config
from kiosk.logs import PRODUCT_LOGGERS, setup_logging
from server_sync.server import create_app
from tests.citizen_cards import Card, strip_diacritics
from tests.support.printer import PrinterPeer
from tests.support.server import LiveServer

TODAY = local_today(ZoneInfo("Asia/Ho_Chi_Minh"))
CARD = Card(
    TODAY.replace(year=TODAY.year - 82, day=1) - dt.timedelta(days=45),
    name="Hoàng Thị Ngữ Quyên",
    province="010",
    old_id="063918274",
    address="Thôn Nà Lình, Xã Bản Phiệt, Huyện Bảo Thắng, Tỉnh Lào Cai",
    tail="739164",
)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]


class Recorder:
    """ASGI wrapper around the server: keeps every request body it is sent."""

    def __init__(self, app: Callable[..., Awaitable[None]]) -> None:
        self.app = app
        self.bodies: list[bytes] = []

    async def __call__(
        self,
        scope: Scope,
        receive: Callable[[], Awaitable[Message]],
        send: Callable[[Message], Awaitable[None]],
    ) -> None:
        async def recording() -> Message:
            message = await receive()
            if message.get("type") == "http.request":
                self.bodies.append(bytes(message.get("body", b"")))
            return message

        await self.app(scope, recording, send)


def leaks(blob: bytes | str) -> list[str]:
    """The card's forms found in `blob` (bytes are searched as UTF-8 and as Latin-1 text)."""
    texts = (
        [blob]
        if isinstance(blob, str)
        else [blob.decode("utf-8", "replace"), blob.decode("latin-1")]
    )
    found = set()
    for text in texts:
        folded = text.casefold()
        for form in CARD.forms():
            if form in text or form.casefold() in folded:
                found.add(form)
    return sorted(found)


def test_the_search_finds_every_kind_of_leak() -> None:
    """The check below would see the card: each form of a field is found where it is."""
    assert leaks(CARD.name.encode())
    assert leaks(unicodedata.normalize("NFD", CARD.name).encode())
    assert leaks(strip_diacritics(CARD.name).upper().encode())
    assert leaks(f"born {CARD.birth.isoformat()}")
    assert leaks(CARD.birth.strftime("%d/%m/%Y"))
    assert leaks(b"\x00" + CARD.number.encode() + b"\x00")
    assert leaks(CARD.old_id)
    assert leaks(strip_diacritics("Xã Bản Phiệt"))
    assert not leaks(b"B001 elderly_75 kiosk-hall-1 Khoa Noi")


def server_rows(engine: Engine) -> str:
    """Every row of every table of the server's database, as text."""
    metadata = MetaData()
    metadata.reflect(engine)
    lines = []
    with engine.connect() as connection:
        for table in metadata.sorted_tables:
            for row in connection.execute(select(table)):
                lines.append(f"{table.name}: {tuple(row)!r}")
                lines.extend(str(value) for value in row if isinstance(value, str | dict | list))
    return "\n".join(lines)


def files_under(directory: Path) -> dict[str, bytes]:
    return {str(path): path.read_bytes() for path in directory.rglob("*") if path.is_file()}


@pytest.mark.parametrize("encoding", ["compact", "raster"])
def test_a_scanned_card_leaves_no_trace(
    encoding: str,
    server_engine: Engine,
    tokens: dict[str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    # Every record of the product at DEBUG, on the commands' stderr and in caplog alike.
    setup_logging(verbose=True)
    for name in PRODUCT_LOGGERS:
        logger = logging.getLogger(name)
        monkeypatch.setattr(logger, "propagate", True)
        monkeypatch.setattr(logger, "level", logging.DEBUG)
    recorder = Recorder(create_app(server_engine, Config()))  # type: ignore[arg-type]
    live = LiveServer(recorder).start()  # type: ignore[arg-type]
    printer = PrinterPeer()
    data = tmp_path / "data"
    data.mkdir()
    token_file = tmp_path / "token"
    token_file.write_text(tokens["kiosk"] + "\n", encoding="utf-8")
    config = tmp_path / "kiosk.toml"
    config.write_text(
        f'[kiosk]\nid = "kiosk-hall-1"\n[printer]\nconnection = "{printer.connection}"\n'
        f'encoding = "{encoding}"\n[server]\nurl = "{live.url}"\ntoken_file = "{token_file}"\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("KIOSK_DATA_DIR", str(data))
    monkeypatch.setenv("KIOSK_CONFIG", str(config))
    try:
        assert main(["seed", "provincial-general-hospital"]) == 0
        capsys.readouterr()
        # Hold the store open: its -wal file stays on disk with every page written to it.
        keeper = sqlite3.connect(data / "kiosk.db")
        keeper.execute("SELECT count(*) FROM tickets").fetchone()
        stdin = io.TextIOWrapper(io.BytesIO((CARD.text + "\r\n").encode("utf-8")))
        monkeypatch.setattr(sys, "stdin", stdin)
        assert main(["--verbose", "issue", "NOI", "--id-qr", "-", "--print"]) == 0
        issued = capsys.readouterr()
        ticket = json.loads(issued.out)
        assert ticket["priority"] == "elderly_75"
        assert printer.wait_for(lambda: len(printer.jobs) == 1)
        assert main(["--verbose", "sync", "--once"]) == 0
        synced = capsys.readouterr()
        assert "pushed" in synced.out

        kiosk_files = files_under(data)
        assert {"kiosk.db", "kiosk.db-wal"} <= {Path(p).name for p in kiosk_files}
        places: dict[str, bytes | str] = {
            **kiosk_files,
            "issue stdout+stderr": issued.out + issued.err,
            "sync stdout+stderr": synced.out + synced.err,
            "log records": "\n".join(
                f"{r.name} {r.getMessage()} {r.args!r}" for r in caplog.records
            ),
            "ESC/POS": b"".join(printer.jobs),
            "requests to the server": b"\n".join(recorder.bodies),
            "server database": server_rows(server_engine),
        }
        assert any(r.name.startswith("kiosk.") for r in caplog.records)
        pushed = [b for b in recorder.bodies if b"ticket.issued" in b]
        assert pushed, "the ticket was pushed"
        assert b"elderly_75" in pushed[0]
        keeper.close()
    finally:
        live.stop()
        printer.close()

    found = {place: leaks(blob) for place, blob in places.items()}
    assert not any(found.values()), {place: forms for place, forms in found.items() if forms}
    # The server has the ticket with its priority group and nothing else of the patient.
    assert ticket["id"] in places["server database"]
    if server_engine.url.get_backend_name() == "sqlite":
        database = server_engine.url.database
        assert database is not None
        for path in Path(database).parent.glob(Path(database).name + "*"):
            assert not leaks(path.read_bytes()), path
