"""A small ESC/POS reader for tests: the few commands a ticket uses, parsed from raw bytes.

No ESC/POS decoder is packaged; this one knows ESC @, GS v 0, GS ( k, GS V, ESC d, ESC J,
DLE EOT and treats every other byte as one unknown (text or a setting).
"""

from __future__ import annotations

from dataclasses import dataclass

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
            return Command("raster", at, length, width_bytes=width, height=height)
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
