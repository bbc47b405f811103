"""Announcing hall calls aloud: Mandarin speech through QtTextToSpeech when an engine has a Chinese voice, else a chime.

The engine lives in a thread of its own. A speech engine may take seconds to start, or hang in "Speaking" with no
audio server (speechd does); the display must keep updating meanwhile. No engine, no Chinese voice, no audio
device, or QtTextToSpeech failing to import (it needs libpulse0) all end in the chime, never in an exception.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from PySide6.QtCore import QCoreApplication, QLocale, QLoggingCategory, QObject, QThread, QUrl, Signal, Slot
from PySide6.QtWidgets import QApplication

from desk.config import RESOURCES

logger = logging.getLogger(__name__)

VOICE_LOCALE = "zh_CN"
REPEAT = 2  # halls say each call twice: the first catches the ear, the second is heard
CHIME = RESOURCES / "sounds" / "chime.wav"
SHUTDOWN_WAIT_MS = 2000
# QtMultimedia looks for PipeWire first and warns when it is absent, though PulseAudio then serves well.
_QUIET_RULES = "qt.multimedia.symbolsresolver.warning=false"


def _quiet_multimedia() -> None:
    QLoggingCategory.setFilterRules(_QUIET_RULES)


def _load_tts() -> Any:
    """The QTextToSpeech class, or None when the module cannot be loaded on this machine."""
    _quiet_multimedia()
    try:
        from PySide6.QtTextToSpeech import QTextToSpeech
    except ImportError as e:  # libpulse0 or the module missing
        logger.warning("QtTextToSpeech unavailable (%s); calls will chime", e)
        return None
    return QTextToSpeech


def _load_sound_effect() -> Any:
    _quiet_multimedia()
    try:
        from PySide6.QtMultimedia import QSoundEffect
    except ImportError as e:
        logger.warning("QtMultimedia unavailable (%s); the chime is the system beep", e)
        return None
    return QSoundEffect


def pick_locale(available: list[QLocale], wanted: str = VOICE_LOCALE) -> QLocale | None:
    """The engine's locale for `wanted` (zh_CN): the exact one, else another of the same language; None if none."""
    target = QLocale(wanted)
    exact = next((loc for loc in available if loc.name() == target.name()), None)
    if exact is not None:
        return exact
    return next((loc for loc in available if loc.language() == target.language()), None)


class _SpeechWorker(QObject):
    """Owns the engine and the chime inside the announcer's thread; never touched from the UI thread."""

    sig_ready = Signal(str, str)
    """The worker started: the engine's name ("" when it will chime) and the voice's locale name."""

    sig_spoken = Signal(str)
    """An utterance was handed to the engine (once per repetition)."""

    sig_chimed = Signal()
    """The chime was played (or the beep asked for) instead of speech."""

    sig_beep_requested = Signal()
    """No chime file can be played: the UI thread should beep."""

    def __init__(self, engine: str, locale: str, strict_locale: bool, chime: Path | None) -> None:
        super().__init__()
        self._engine_name = engine
        self._locale = locale
        self._strict_locale = strict_locale
        self._chime_path = chime
        self._tts: Any = None
        self._effect: Any = None

    @Slot()
    def start(self) -> None:
        try:
            self._tts = self._open_engine()
        except Exception:  # noqa: BLE001 - a broken engine plugin must not take the display down
            logger.exception("speech engine %r failed to start; calls will chime", self._engine_name)
            self._tts = None
        if self._tts is None:
            self.sig_ready.emit("", "")
        else:
            self.sig_ready.emit(str(self._tts.engine()), self._tts.locale().name())

    def _open_engine(self) -> Any:
        tts_class = _load_tts()
        if tts_class is None:
            return None
        available = tts_class.availableEngines()
        if self._engine_name and self._engine_name not in available:
            logger.warning(
                "speech engine %r not installed (have %s); calls will chime",
                self._engine_name,
                ", ".join(available) or "none",
            )
            return None
        if not available:
            logger.info("no speech engine installed; calls will chime")
            return None
        tts = tts_class(self._engine_name, self) if self._engine_name else tts_class(self)
        if tts.state() == tts_class.State.Error:
            logger.warning("speech engine %s: %s; calls will chime", tts.engine(), tts.errorString())
            tts.deleteLater()
            return None
        locale = pick_locale(list(tts.availableLocales()), self._locale)
        if locale is not None:
            tts.setLocale(locale)
        elif self._strict_locale:
            logger.warning("speech engine %s has no %s voice; calls will chime", tts.engine(), self._locale)
            tts.deleteLater()
            return None
        tts.setRate(-0.1)  # a little slower: a hall is large and echoes
        tts.errorOccurred.connect(self._on_engine_error)
        logger.info("speech engine %s, voice locale %s", tts.engine(), tts.locale().name())
        return tts

    @Slot(str, int)
    def speak(self, text: str, times: int) -> None:
        if self._tts is None:
            self._chime()
            return
        try:
            for _ in range(times):
                self._tts.enqueue(text)
                self.sig_spoken.emit(text)
        except Exception:  # noqa: BLE001 - see start()
            logger.exception("speech failed; chiming instead")
            self._tts = None
            self._chime()

    def _chime(self) -> None:
        if self._effect is None and self._chime_path is not None and self._chime_path.exists():
            effect_class = _load_sound_effect()
            if effect_class is not None:
                self._effect = effect_class(self)
                self._effect.setSource(QUrl.fromLocalFile(str(self._chime_path)))
        if self._effect is not None and self._effect.status() != type(self._effect).Status.Error:
            self._effect.play()
        else:
            self.sig_beep_requested.emit()
        self.sig_chimed.emit()

    def _on_engine_error(self, *args: object) -> None:
        logger.warning(
            "speech engine error: %s; calls will chime from now on",
            self._tts.errorString() if self._tts is not None else args,
        )
        self._tts = None


class Announcer(QObject):
    """Says a call (`CallView.spoken`) twice in Mandarin, or chimes; `engine` names the QtTextToSpeech engine
    ("" = the platform's default, "mock" in tests). `strict_locale=False` lets an engine without a Chinese voice
    speak anyway (the mock engine has none). Call `shutdown()` when done; it is safe to call twice."""

    sig_ready = Signal(str, str)
    """The speech thread is up: engine name ("" when calls will chime) and voice locale."""

    sig_spoken = Signal(str)
    """One utterance was handed to the engine (emitted `REPEAT` times per call)."""

    sig_chimed = Signal()
    """A call was announced with the chime instead of speech."""

    _sig_speak = Signal(str, int)

    def __init__(
        self,
        engine: str = "",
        *,
        locale: str = VOICE_LOCALE,
        strict_locale: bool = True,
        repeat: int = REPEAT,
        chime: Path | None = CHIME,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.repeat = repeat
        self.engine_name: str | None = None  # None until the thread reports; "" means no voice
        self.locale_name = ""
        self._thread: QThread | None = QThread()
        self._thread.setObjectName("speech")
        self._worker = _SpeechWorker(engine, locale, strict_locale, chime)
        self._worker.moveToThread(self._thread)
        self._thread.started.connect(self._worker.start)
        self._thread.finished.connect(self._worker.deleteLater)
        self._sig_speak.connect(self._worker.speak)
        self._worker.sig_ready.connect(self._on_ready)
        self._worker.sig_spoken.connect(self.sig_spoken)
        self._worker.sig_chimed.connect(self.sig_chimed)
        self._worker.sig_beep_requested.connect(self._on_beep_requested)
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)
        self._thread.start()

    @property
    def has_voice(self) -> bool:
        return bool(self.engine_name)

    def announce(self, spoken: str) -> None:
        """Queue a call's words for the speech thread; returns at once."""
        if self._thread is None:
            return
        self._sig_speak.emit(spoken, self.repeat)

    def shutdown(self) -> None:
        """Stop the speech thread (waiting a moment for a busy engine) so nothing runs after the window is gone."""
        thread, self._thread = self._thread, None
        if thread is None:
            return
        thread.quit()
        if not thread.wait(SHUTDOWN_WAIT_MS):
            logger.warning("speech engine did not stop in %d ms; stopping its thread", SHUTDOWN_WAIT_MS)
            thread.terminate()
            thread.wait()

    def _on_ready(self, engine: str, locale: str) -> None:
        self.engine_name, self.locale_name = engine, locale
        self.sig_ready.emit(engine, locale)

    def _on_beep_requested(self) -> None:
        QApplication.beep()
