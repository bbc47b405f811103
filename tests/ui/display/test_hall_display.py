"""The hall's calling screen and its voice: large type, calls from any terminal or process, flashing, speech."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import QLocale
from pytestqt.qtbot import QtBot

from desk.app import Services
from desk.core.clock import FixedClock, SystemClock
from desk.services.display import DisplayService
from desk.services.queue import QueueService
from desk.services.registration import RegistrationService
from desk.store.session import Store
from desk.ui.display import speech
from desk.ui.display.hall_display import MIN_CALL_PX, HallDisplay
from desk.ui.display.speech import Announcer, pick_locale
from tests.conftest import staff
from tests.ui.room.test_room_terminal import arrive

ROOT = Path(__file__).resolve().parents[3]
SPOKEN_A001 = "请 A零零一 号，到一号人民调解室"


class RecordingAnnouncer:
    """Stands in for the `Announcer` where only what the display asks for matters."""

    def __init__(self) -> None:
        self.said: list[str] = []
        self.closed = False

    def announce(self, spoken: str) -> None:
        self.said.append(spoken)

    def shutdown(self) -> None:
        self.closed = True


@pytest.fixture
def announcer() -> RecordingAnnouncer:
    return RecordingAnnouncer()


@pytest.fixture
def make_display(
    qtbot: QtBot, sqlite_store: Store, clock: FixedClock, announcer: RecordingAnnouncer
) -> Callable[..., HallDisplay]:
    def make(**kwargs: object) -> HallDisplay:
        options: dict[str, object] = {
            "hall_name": "甘州区东街街道综治中心",
            "announcer": announcer,
            "poll_ms": 50,
            "flash_ms": 400,
            "hold_ms": 300,
        }
        options.update(kwargs)
        d = HallDisplay(DisplayService(sqlite_store, clock), **options)  # type: ignore[arg-type]
        qtbot.addWidget(d)
        with qtbot.waitSignal(d.sig_refreshed):  # the first look at the hall, read off the UI thread
            d.resize(1920, 1080)
            d.show()
        return d

    return make


@pytest.fixture
def display(make_display: Callable[..., HallDisplay]) -> HallDisplay:
    return make_display()


def test_an_empty_hall_shows_the_waiting_counts_and_no_call(display: HallDisplay, services: Services) -> None:
    assert display.current is None
    assert display.ticket_label.text() == "—"
    assert display.room_label.text() == "请留意叫号"
    assert display.hall_label.text() == "甘州区东街街道综治中心"
    assert display.clock_label.text() == "10:00"
    # Open reception rooms only: the video and analysis rooms take no visitors.
    assert set(display.waiting_labels) == {"R01", "R02", "R03", "R04", "R05", "R06", "R07"}
    assert display.waiting_labels["R01"].text() == "1号人民调解室　0 人"


def test_a_call_from_any_terminal_shows_in_large_type_flashes_and_stays(
    qtbot: QtBot,
    display: HallDisplay,
    services: Services,
    terminal_queue: Callable[[str], QueueService],
    announcer: RecordingAnnouncer,
) -> None:
    arrive(services, 1)
    arrive(services, 2)
    qtbot.waitUntil(lambda: display.waiting_labels["R01"].text() == "1号人民调解室　2 人")

    with qtbot.waitSignal(display.sig_call_shown, timeout=1000) as blocker:
        terminal_queue("R01终端").call_next("R01")
    assert blocker.args[0].ticket == "A001"
    assert display.ticket_label.text() == "A001"
    assert display.room_label.text() == "→ 1号人民调解室"
    assert display.where_label.text() == "一楼东侧"
    assert display.ticket_label.font().pixelSize() >= MIN_CALL_PX
    assert display.room_label.font().pixelSize() >= MIN_CALL_PX
    assert display.ticket_label.font().pixelSize() >= 150  # on a 1080-line screen
    assert display.flashing
    assert announcer.said == [SPOKEN_A001]
    assert display.waiting_labels["R01"].text() == "1号人民调解室　1 人"

    qtbot.waitUntil(lambda: not display.flashing, timeout=2000)
    assert display.ticket_label.text() == "A001"  # stays on screen after the flash


def test_calls_in_quick_succession_each_get_their_moment(
    qtbot: QtBot,
    display: HallDisplay,
    services: Services,
    terminal_queue: Callable[[str], QueueService],
    clock: FixedClock,
    announcer: RecordingAnnouncer,
) -> None:
    arrive(services, 1)
    arrive(services, 2, room="R02", category="合同纠纷")
    shown: list[tuple[str, float]] = []
    display.sig_call_shown.connect(lambda c: shown.append((c.ticket, time.monotonic())))
    terminal_queue("R01终端").call_next("R01")
    clock.advance(seconds=5)
    terminal_queue("R02终端").call_next("R02")  # both seen in the same poll
    qtbot.waitUntil(lambda: len(shown) == 2, timeout=3000)
    assert [ticket for ticket, _ in shown] == ["A001", "B001"]
    assert shown[1][1] - shown[0][1] >= 0.25  # A001 stayed the big one for hold_ms (300 ms)
    assert display.room_label.text() == "→ 2号法律援助/律师调解室"
    assert display.recent_labels[0].text() == "A001　1号人民调解室"
    assert announcer.said == [SPOKEN_A001, "请 B零零一 号，到二号法律援助/律师调解室"]


def test_a_recall_is_a_new_call(
    qtbot: QtBot,
    display: HallDisplay,
    services: Services,
    terminal_queue: Callable[[str], QueueService],
    clock: FixedClock,
    announcer: RecordingAnnouncer,
) -> None:
    issued = arrive(services, 1)
    room = terminal_queue("R01终端")
    with qtbot.waitSignal(display.sig_call_shown):
        room.call_next("R01")
    clock.advance(minutes=1)
    with qtbot.waitSignal(display.sig_call_shown, timeout=2000):
        room.recall(issued.ticket.id)
    assert announcer.said == [SPOKEN_A001, SPOKEN_A001]


def test_on_start_the_last_call_is_shown_quietly(
    make_display: Callable[..., HallDisplay],
    services: Services,
    terminal_queue: Callable[[str], QueueService],
    announcer: RecordingAnnouncer,
) -> None:
    arrive(services, 1)
    terminal_queue("R01终端").call_next("R01")
    display = make_display()
    assert display.ticket_label.text() == "A001"
    assert not display.flashing
    assert announcer.said == []
    display.close()
    assert announcer.closed


def test_a_long_room_name_shrinks_but_stays_readable(
    make_display: Callable[..., HallDisplay],
    services: Services,
    terminal_queue: Callable[[str], QueueService],
    qtbot: QtBot,
) -> None:
    display = make_display()
    display.resize(1024, 600)
    arrive(services, 1, room="R02", category="合同纠纷")
    with qtbot.waitSignal(display.sig_call_shown):
        terminal_queue("R02终端").call_next("R02")
    assert display.room_label.font().pixelSize() >= MIN_CALL_PX
    assert display.ticket_label.font().pixelSize() >= MIN_CALL_PX


def test_the_display_follows_a_call_made_by_another_process(
    qtbot: QtBot, sqlite_url: str, sqlite_store: Store
) -> None:
    # Real time here: the other process has its own clock.
    registration = RegistrationService(sqlite_store, SystemClock(), principal=staff("测试前台"))
    queue = QueueService(sqlite_store, SystemClock(), principal=staff("测试前台", "前台1"))
    case = registration.register(
        {
            "category": "邻里纠纷",
            "channel": "walk_in",
            "headcount": 1,
            "narrative": "邻居占用通道。",
            "parties": [{"role": "applicant", "name": "王秀兰", "phone": "13912345678"}],
        }
    )
    ticket = queue.issue_ticket(case.case_no).ticket
    display = HallDisplay(DisplayService(sqlite_store, SystemClock()), poll_ms=100)
    qtbot.addWidget(display)
    display.show()
    assert display.current is None

    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "desk",
            "call",
            "--room",
            ticket.room_code,
            "--db",
            sqlite_url,
            "--terminal",
            "硬件叫号器",
        ],
        cwd=ROOT,
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ticket.label

    qtbot.waitUntil(
        lambda: display.current is not None and display.current.ticket == ticket.label, timeout=1500
    )
    assert display.ticket_label.text() == ticket.label


# --- the announcer ----------------------------------------------------------------------------------


def test_pick_locale_prefers_mainland_mandarin() -> None:
    available = [QLocale("en_GB"), QLocale("zh_TW"), QLocale("zh_CN")]
    picked = pick_locale(available)
    assert picked is not None and picked.name() == "zh_CN"
    other = pick_locale([QLocale("en_US"), QLocale("zh_TW")])
    assert other is not None and other.name() == "zh_TW"
    assert pick_locale([QLocale("en_US")]) is None


def _announcer(qtbot: QtBot, **kwargs: object) -> Announcer:
    a = Announcer(**kwargs)  # type: ignore[arg-type]
    with qtbot.waitSignal(a.sig_ready, timeout=5000):
        pass
    return a


def test_the_announcer_says_each_call_twice(qtbot: QtBot) -> None:
    # The mock engine has no Chinese voice; strict_locale=False lets it speak anyway.
    a = Announcer("mock", strict_locale=False, chime=None)
    spoken: list[str] = []
    a.sig_spoken.connect(spoken.append)
    with qtbot.waitSignal(a.sig_ready, timeout=5000) as ready:
        a.announce(SPOKEN_A001)  # asked before the engine is up: queued, not lost
    assert ready.args[0] == "mock"
    assert a.has_voice
    qtbot.waitUntil(lambda: spoken == [SPOKEN_A001, SPOKEN_A001], timeout=5000)
    a.shutdown()
    a.shutdown()  # twice is harmless
    a.announce("再叫一次")  # after shutdown: ignored, no crash


def test_without_a_chinese_voice_the_announcer_chimes(qtbot: QtBot) -> None:
    a = _announcer(qtbot, engine="mock", chime=None)
    assert a.engine_name == "" and not a.has_voice
    with qtbot.waitSignal(a.sig_chimed, timeout=3000):
        a.announce(SPOKEN_A001)
    a.shutdown()


def test_an_engine_that_is_not_installed_is_a_chime_not_a_crash(
    qtbot: QtBot, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="desk.ui.display.speech"):
        a = _announcer(qtbot, engine="no-such-engine", chime=None)
    assert "not installed" in caplog.text
    with qtbot.waitSignal(a.sig_chimed, timeout=3000):
        a.announce(SPOKEN_A001)
    a.shutdown()


def test_no_speech_module_at_all_is_a_chime(qtbot: QtBot, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(speech, "_load_tts", lambda: None)  # as on a machine without libpulse0
    a = _announcer(qtbot, engine="mock", chime=None)
    with qtbot.waitSignal(a.sig_chimed, timeout=3000):
        a.announce(SPOKEN_A001)
    a.shutdown()


def test_a_broken_engine_is_a_chime(
    qtbot: QtBot, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    class Broken:
        @staticmethod
        def availableEngines() -> list[str]:  # noqa: N802 - Qt's name
            raise RuntimeError("plugin exploded")

    monkeypatch.setattr(speech, "_load_tts", lambda: Broken)
    with caplog.at_level(logging.ERROR, logger="desk.ui.display.speech"):
        a = _announcer(qtbot, engine="mock", chime=None)
    assert "failed to start" in caplog.text
    with qtbot.waitSignal(a.sig_chimed, timeout=3000):
        a.announce(SPOKEN_A001)
    a.shutdown()


def test_the_display_speaks_through_the_announcer(
    qtbot: QtBot,
    make_display: Callable[..., HallDisplay],
    services: Services,
    terminal_queue: Callable[[str], QueueService],
) -> None:
    voice = Announcer("mock", strict_locale=False, chime=None)
    spoken: list[str] = []
    voice.sig_spoken.connect(spoken.append)
    display = make_display(announcer=voice)
    arrive(services, 1)
    terminal_queue("R01终端").call_next("R01")
    qtbot.waitUntil(lambda: spoken == [SPOKEN_A001, SPOKEN_A001], timeout=5000)
    display.close()  # shuts the speech thread down


def test_a_store_that_is_away_for_a_moment_keeps_the_last_screen(
    qtbot: QtBot,
    display: HallDisplay,
    services: Services,
    terminal_queue: Callable[[str], QueueService],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    arrive(services, 1)
    with qtbot.waitSignal(display.sig_call_shown):
        terminal_queue("R01终端").call_next("R01")
    reads = display._display
    real = reads.change_mark
    failures: list[int] = []

    def away() -> int:
        failures.append(1)
        raise OSError("database is locked")  # anything: the display must not raise every 300 ms

    monkeypatch.setattr(reads, "change_mark", away)
    with caplog.at_level(logging.ERROR, logger="desk.ui.display.hall_display"):
        qtbot.waitUntil(lambda: len(failures) >= 3)
    assert caplog.text.count("cannot read the store") == 1  # logged once per outage
    assert display.ticket_label.text() == "A001"
    monkeypatch.setattr(reads, "change_mark", real)
    with qtbot.waitSignal(display.sig_refreshed, timeout=2000):
        arrive(services, 2)


def test_room_settings_show_at_the_next_full_refresh(
    qtbot: QtBot, display: HallDisplay, services: Services
) -> None:
    services.rooms.set_room_open("R03", False)  # no event in the hall: the change mark does not move
    with qtbot.waitSignal(display.sig_refreshed):
        display._on_full_refresh()
    assert "R03" not in display.waiting_labels
