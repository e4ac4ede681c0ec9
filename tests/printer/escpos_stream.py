"""A small ESC/POS reader for tests: the few commands a ticket uses, parsed from raw bytes.

No ESC/POS decoder is packaged; this one knows ESC @, GS v 0, GS ( k, GS V, ESC d, ESC J,
DLE EOT, the settings ESC a / E / t / ! and GS ! / B, and treats every other byte as text.
`printed_text` reads the text back through the profile's code pages as python-escpos lists them
(TCVN-3 tables, or Python's codec for Windows-1258); `printed_raster` lays the raster images out
on paper as the printer would, so a test can compare them with the rendered ticket.
"""

from __future__ import annotations

import contextlib
import unicodedata
from dataclasses import dataclass

from escpos.capabilities import CAPABILITIES
from PIL import Image

ESC, GS, DLE = 0x1B, 0x1D, 0x10


@dataclass(frozen=True)
class Command:
    name: str  # "init", "raster", "qr", "cut", "feed", "status", "byte"
    offset: int
    length: int
    width_bytes: int = 0  # raster
    height: int = 0  # raster
    argument: int = 0  # status n, feed n
    data: bytes = b""  # qr store payload
    mode: int = 0  # raster: 0 normal, 3 quadruple (each bit 2 x 2 dots)


SETTINGS = {
    (ESC, ord("a")): "align",
    (ESC, ord("E")): "bold",
    (ESC, ord("t")): "codepage",
    (ESC, ord("!")): "mode",
    (GS, ord("!")): "size",
    (GS, ord("B")): "reverse",
}


def _u16(data: bytes, at: int) -> int:
    return data[at] | data[at + 1] << 8


def parse_one(data: bytes, at: int) -> Command | None:
    """The command at `at`, or None if more bytes are needed to know its length."""
    rest = len(data) - at
    first = data[at]
    if first == ESC and rest >= 2:
        second = data[at + 1]
        if second == ord("@"):
            return Command("init", at, 2)
        if second in (ord("d"), ord("J")) and rest >= 3:
            return Command("feed", at, 3, argument=data[at + 2])
        if second in (ord("d"), ord("J")):
            return None
        if (ESC, second) in SETTINGS:
            name = SETTINGS[(ESC, second)]
            return Command(name, at, 3, argument=data[at + 2]) if rest >= 3 else None
        return Command("byte", at, 1)
    if first == GS and rest >= 2:
        second = data[at + 1]
        if second == ord("v"):
            if rest < 8:
                return None
            width, height = _u16(data, at + 4), _u16(data, at + 6)
            length = 8 + width * height
            if rest < length:
                return None
            return Command(
                "raster", at, length, width_bytes=width, height=height, mode=data[at + 3] & 3
            )
        if second == ord("("):
            if rest < 5:
                return None
            length = 5 + _u16(data, at + 3)
            if rest < length:
                return None
            body = data[at + 5 : at + length]
            return Command(
                "qr", at, length, argument=body[1], data=body[3:] if body[1] == 80 else b""
            )
        if second == ord("V"):
            if rest < 3:
                return None
            mode = data[at + 2]
            length = 4 if mode in (65, 66) else 3
            return Command("cut", at, length) if rest >= length else None
        if (GS, second) in SETTINGS:
            name = SETTINGS[(GS, second)]
            return Command(name, at, 3, argument=data[at + 2]) if rest >= 3 else None
        return Command("byte", at, 1)
    if first == DLE and rest >= 2 and data[at + 1] == 0x04:
        return Command("status", at, 3, argument=data[at + 2]) if rest >= 3 else None
    if first in (ESC, GS, DLE):
        return None if rest < 2 else Command("byte", at, 1)
    return Command("byte", at, 1)


def parse(data: bytes) -> list[Command]:
    commands = []
    at = 0
    while at < len(data):
        command = parse_one(data, at)
        if command is None:
            commands.append(Command("truncated", at, len(data) - at))
            break
        commands.append(command)
        at += command.length
    return commands


def significant(commands: list[Command]) -> list[Command]:
    return [c for c in commands if c.name != "byte"]


def _code_pages(profile: str) -> dict[int, dict[int, str]]:
    """slot -> {byte -> character} for the upper halves of the profile's code pages."""
    pages: dict[int, dict[int, str]] = {}
    encodings = CAPABILITIES["encodings"]
    for slot, name in CAPABILITIES["profiles"][profile].get("codePages", {}).items():
        spec = encodings.get(name, {})
        table: dict[int, str] = {}
        if "data" in spec:
            for row, chars in enumerate(spec["data"]):
                for column, char in enumerate(chars):
                    if char != " ":
                        table[0x80 + 16 * row + column] = {"Ð": "Đ"}.get(char, char)
        elif "python_encode" in spec:
            for byte in range(0x80, 0x100):
                with contextlib.suppress(UnicodeDecodeError):
                    table[byte] = bytes((byte,)).decode(spec["python_encode"])
        pages[int(slot)] = table
    return pages


def printed_text(data: bytes, profile: str) -> list[str]:
    """The lines of text in the job, read through the code page each byte was sent in (NFC,
    so Windows-1258's base letter + tone mark reads as the letter); '\ufffd' for a byte the
    page does not have. Lines of only spaces (a reversed band's padding) are left out."""
    pages = _code_pages(profile)
    slot = 0
    lines: list[str] = []
    line = ""
    for command in parse(data):
        if command.name == "codepage":
            slot = command.argument
        elif command.name == "byte":
            byte = data[command.offset]
            if byte == 0x0A:
                lines.append(unicodedata.normalize("NFC", line).strip())
                line = ""
            elif byte < 0x80:
                line += chr(byte)
            else:
                line += pages.get(slot, {}).get(byte, "\ufffd")
    return [text for text in lines if text]


def printed_raster(data: bytes, width: int) -> Image.Image:
    """The raster images of the job on paper `width` dots wide (mode "1"): placed by the
    justification (ESC a), scaled by their density mode, moved down by feeds (ESC J). Text
    lines are not drawn (a raster-only job has none)."""
    paper = Image.new("1", (width, 4000), 1)
    y, center = 0, False
    for command in parse(data):
        if command.name == "align":
            center = command.argument in (1, 49)
        elif command.name == "feed" and data[command.offset + 1] == ord("J"):
            y += command.argument
        elif command.name == "raster":
            start = command.offset + 8
            bits = bytes(255 - b for b in data[start : start + command.length - 8])
            scale = 2 if command.mode == 3 else 1
            image = Image.frombytes("1", (command.width_bytes * 8, command.height), bits)
            image = image.resize(
                (image.width * scale, image.height * scale), Image.Resampling.NEAREST
            )
            x = (width - image.width) // 2 if center else 0
            paper.paste(image, (x, y))
            y += image.height
    return paper.crop((0, 0, width, y))
