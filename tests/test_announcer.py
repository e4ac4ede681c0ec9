"""Board announcements: the right phrase, a chime first, one at a time, silence on no audio."""

from __future__ import annotations

import io
import logging
import os
import shutil
import threading
import wave

import pytest

from kiosk.announcer import (
    Announcer,
    chime_wav,
    espeak_synthesizer,
    join_wavs,
    make_announcement,
    spell_code,
)


def seconds(clip: bytes) -> float:
    with wave.open(io.BytesIO(clip)) as wav:
        return wav.getnframes() / wav.getframerate()


def test_phrase_from_config() -> None:
    a = make_announcement("Mời số {code} vào {room}", "A012", "phòng khám số 3")
    assert a.text == "Mời số A012 vào phòng khám số 3"
    assert a.spoken == "Mời số A, 0, 1, 2 vào phòng khám số 3"
    assert spell_code("B1000") == "B, 1, 0, 0, 0" and spell_code("XN") == "XN"


def test_chime_is_a_short_wav() -> None:
    assert 0.8 < seconds(chime_wav()) < 1.5
    assert seconds(join_wavs([chime_wav(), chime_wav()])) == pytest.approx(2 * seconds(chime_wav()))


class Recorder:
    """A player that records clips and checks that two never play at once."""

    def __init__(self) -> None:
        self.clips: list[bytes] = []
        self.playing = 0
        self.max_playing = 0
        self.lock = threading.Lock()

    def __call__(self, clip: bytes) -> None:
        with self.lock:
            self.playing += 1
            self.max_playing = max(self.max_playing, self.playing)
        threading.Event().wait(0.02)  # takes a moment to play, like a real device
        with self.lock:
            self.playing -= 1
            self.clips.append(clip)


def test_announcements_queue_in_order_and_never_overlap() -> None:
    spoken: list[str] = []

    def synth(text: str, language: str) -> bytes:
        assert language == "vi"
        spoken.append(text)
        return chime_wav()

    played: list[str] = []
    recorder = Recorder()
    announcer = Announcer(
        synthesizer=synth, player=recorder, on_played=lambda a: played.append(a.code)
    )
    threads = [
        threading.Thread(target=announcer.announce, args=(f"A00{i}", f"phòng {i}"))
        for i in range(1, 4)
    ]
    for thread in threads:
        thread.start()
        thread.join()
    announcer.announce("A001", "phòng 1")  # a recall is announced again
    assert announcer.wait_idle(10)
    announcer.close()
    assert played == ["A001", "A002", "A003", "A001"]
    assert spoken[0] == "Mời số A, 0, 0, 1 vào phòng 1"
    assert recorder.max_playing == 1
    assert all(seconds(c) == pytest.approx(2 * seconds(chime_wav())) for c in recorder.clips)


def test_no_engine_and_no_audio_device_goes_on_silently(caplog: pytest.LogCaptureFixture) -> None:
    def broken_player(clip: bytes) -> None:
        raise OSError("audio open error: No such file or directory")

    played: list[str] = []
    with caplog.at_level(logging.WARNING, logger="kiosk.announcer"):
        announcer = Announcer(
            speech=True,
            synthesizer=None,
            player=broken_player,
            on_played=lambda a: played.append(a.code),
        )
        announcer.synthesizer = None  # as on a PC without espeak-ng
        for code in ("A001", "A002", "A003"):
            announcer.announce(code, "101")
        assert announcer.wait_idle(10)
        announcer.close()
    assert played == ["A001", "A002", "A003"]
    cannot_play = [r for r in caplog.records if "cannot play sound" in r.getMessage()]
    assert len(cannot_play) == 1, "logged once, not on every call"


def test_real_espeak_ng_speaks_vietnamese() -> None:
    if shutil.which("espeak-ng") is None:
        if os.environ.get("CI"):
            pytest.fail("espeak-ng missing in CI: .ci/run installs it")
        pytest.skip("espeak-ng is not installed")
    synthesize = espeak_synthesizer()
    assert synthesize is not None
    speech = synthesize("Mời số A, 0, 1, 2 vào phòng khám số 3", "vi")
    assert speech is not None and seconds(speech) > 1.5
    clips: list[bytes] = []
    announcer = Announcer(player=clips.append)
    announcer.announce("A012", "phòng khám số 3")
    assert announcer.wait_idle(30)
    announcer.close()
    assert seconds(clips[0]) > seconds(chime_wav()) + 1.5
