"""Write resources/sounds/chime.wav: the two-tone "ding-dong" the hall display plays when it has no voice.

    .venv/bin/python tools/make_chime.py

Synthesised here (no third-party recording, so no licence to track): 22.05 kHz mono 16-bit, 1.75 s.
"""

from __future__ import annotations

import math
import struct
import wave
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RATE = 22050


def _tone(freq: float, seconds: float) -> list[float]:
    """A bell-like tone: fundamental with two soft overtones, quick attack, exponential decay."""
    out = []
    for i in range(int(RATE * seconds)):
        t = i / RATE
        envelope = min(1.0, t / 0.01) * math.exp(-3.2 * t)
        wave_ = (
            math.sin(2 * math.pi * freq * t)
            + 0.35 * math.sin(4 * math.pi * freq * t)
            + 0.12 * math.sin(6 * math.pi * freq * t)
        ) / 1.47
        out.append(0.6 * envelope * wave_)
    return out


def main() -> int:
    ding, dong = _tone(880.0, 0.9), _tone(698.46, 1.3)  # A5 then F5
    offset = int(RATE * 0.45)
    mix = [0.0] * (offset + len(dong))
    for i, s in enumerate(ding):
        mix[i] += s
    for i, s in enumerate(dong):
        mix[offset + i] += s
    path = ROOT / "resources" / "sounds" / "chime.wav"
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(b"".join(struct.pack("<h", int(max(-1.0, min(1.0, s)) * 32000)) for s in mix))
    print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
