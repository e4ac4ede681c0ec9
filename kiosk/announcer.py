"""Spoken announcements for the waiting-room board: a chime, then the call in Vietnamese.

Announcements queue up and play one after another on one thread, so two voices never overlap.
Speech comes from espeak-ng where it is installed, sound goes out through `aplay` (ALSA) or
`paplay` (PulseAudio/PipeWire). A missing engine or audio device is logged once and the board
goes on silently: it never stops because of sound.
"""

from __future__ import annotations

import array
import io
import logging
import math
import queue
import shutil
import subprocess
import threading
import wave
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger(__name__)

SAMPLE_RATE = 22050  # espeak-ng's own rate: chime and speech join without resampling
_VOICES = {"vi": "vi", "en": "en"}


@dataclass(frozen=True)
class Announcement:
    code: str
    room: str
    text: str  # what is shown and logged
    spoken: str  # what the speech engine is given


def spell_code(code: str) -> str:
    """ "A012" -> "A, 0, 1, 2": digit by digit, as staff read numbers aloud to be understood."""
    letters = "".join(ch for ch in code if not ch.isdigit())
    digits = ", ".join(ch for ch in code if ch.isdigit())
    return f"{letters}, {digits}" if letters and digits else code


def make_announcement(template: str, code: str, room: str) -> Announcement:
    """Fill the configured phrase ("Mời số {code} vào {room}") for screen and speech."""
    text = template.format(code=code, room=room)
    spoken = template.format(code=spell_code(code), room=room)
    return Announcement(code=code, room=room, text=text, spoken=spoken)


def chime_wav(sample_rate: int = SAMPLE_RATE) -> bytes:
    """A two-tone "ding-dong" with a soft decay, synthesised (no sound file to license)."""
    samples = array.array("h")
    for frequency, seconds in ((659.25, 0.45), (523.25, 0.7)):
        count = int(sample_rate * seconds)
        for i in range(count):
            t = i / sample_rate
            envelope = math.exp(-4.0 * t) * min(1.0, i / (0.01 * sample_rate))
            value = math.sin(2 * math.pi * frequency * t) + 0.3 * math.sin(
                4 * math.pi * frequency * t
            )
            samples.append(int(9000 * envelope * value))
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(sample_rate)
        wav.writeframes(samples.tobytes())
    return out.getvalue()


def join_wavs(parts: list[bytes]) -> bytes:
    """Concatenate mono 16-bit WAVs of one rate (chime + speech) into one clip."""
    out = io.BytesIO()
    writer: wave.Wave_write | None = None
    for part in parts:
        with wave.open(io.BytesIO(part), "rb") as reader:
            if writer is None:
                writer = wave.open(out, "wb")  # noqa: SIM115 - closed below
                writer.setparams(reader.getparams())
            elif reader.getframerate() != writer.getframerate():
                raise ValueError("clips with different sample rates")
            writer.writeframes(reader.readframes(reader.getnframes()))
    if writer is not None:
        writer.close()
    return out.getvalue()


Synthesizer = Callable[[str, str], bytes | None]
Player = Callable[[bytes], None]


def espeak_synthesizer(executable: str | None = None) -> Synthesizer | None:
    """Speech from espeak-ng as WAV bytes, or None when it is not installed."""
    path = executable or shutil.which("espeak-ng")
    if path is None:
        return None

    def synthesize(text: str, language: str) -> bytes | None:
        voice = _VOICES.get(language, language)
        # Slower than the default 175 wpm: many listeners are elderly.
        result = subprocess.run(
            [path, "-v", voice, "-s", "135", "--stdout", text],
            capture_output=True,
            timeout=30,
            check=False,
        )
        if result.returncode != 0 or not result.stdout:
            raise OSError(result.stderr.decode(errors="replace").strip() or "espeak-ng failed")
        return result.stdout

    return synthesize


def system_player() -> Player | None:
    """Play WAV bytes through aplay or paplay, whichever is installed."""
    for name, args in (("aplay", ["-q", "-"]), ("paplay", [])):
        path = shutil.which(name)
        if path is None:
            continue
        command = [path, *args]

        def play(clip: bytes, command: list[str] = command) -> None:
            result = subprocess.run(
                command, input=clip, capture_output=True, timeout=60, check=False
            )
            if result.returncode != 0:
                raise OSError(result.stderr.decode(errors="replace").strip() or "no audio device")

        return play
    return None


class Announcer:
    """One queue, one thread: announcements play in order and never overlap."""

    def __init__(
        self,
        template: str = "Mời số {code} vào {room}",
        language: str = "vi",
        *,
        chime: bool = True,
        speech: bool = True,
        synthesizer: Synthesizer | None = None,
        player: Player | None = None,
        on_played: Callable[[Announcement], None] | None = None,
    ) -> None:
        self.template = template
        self.language = language
        self.chime = chime
        self.synthesizer = (
            synthesizer if synthesizer is not None else (espeak_synthesizer() if speech else None)
        )
        self.player = player if player is not None else system_player()
        self.on_played = on_played
        self._queue: queue.Queue[Announcement | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._warned: set[str] = set()
        if speech and self.synthesizer is None:
            self._warn_once("speech", "espeak-ng is not installed: calls are shown, not spoken")
        if self.player is None:
            self._warn_once("player", "no audio player (aplay/paplay): the board is silent")

    def announce(self, code: str, room: str) -> Announcement:
        announcement = make_announcement(self.template, code, room)
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="announcer", daemon=True)
            self._thread.start()
        self._queue.put(announcement)
        return announcement

    def close(self, timeout: float = 5.0) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout)
            self._thread = None

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Block until everything queued has played (tests, shutdown)."""
        done = threading.Event()

        def waiter() -> None:
            self._queue.join()
            done.set()

        threading.Thread(target=waiter, daemon=True).start()
        return done.wait(timeout)

    def clip(self, announcement: Announcement) -> bytes | None:
        """The sound of one announcement: chime, then speech (whichever is available)."""
        parts = [chime_wav()] if self.chime else []
        if self.synthesizer is not None:
            try:
                speech = self.synthesizer(announcement.spoken, self.language)
            except (OSError, subprocess.SubprocessError) as exc:
                self._warn_once("synth", f"speech failed, going on with the chime only: {exc}")
            else:
                if speech:
                    parts.append(speech)
        return join_wavs(parts) if parts else None

    def _run(self) -> None:
        while True:
            announcement = self._queue.get()
            try:
                if announcement is None:
                    return
                log.info("announcing: %s", announcement.text)
                clip = self.clip(announcement)
                if clip is not None and self.player is not None:
                    try:
                        self.player(clip)
                    except (OSError, subprocess.SubprocessError) as exc:
                        self._warn_once("play", f"cannot play sound, going on silently: {exc}")
                if self.on_played is not None:
                    self.on_played(announcement)
            except Exception:
                log.exception("announcement failed")
            finally:
                self._queue.task_done()

    def _warn_once(self, key: str, message: str) -> None:
        if key not in self._warned:
            self._warned.add(key)
            log.warning(message)
