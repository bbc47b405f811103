"""The real status server in a subprocess and Debian's Chromium, headless, to open its pages."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--hide-scrollbars",
]


def chromium() -> str:
    """The Debian browser; skipped locally when missing, a failure in CI (`make install` installs it)."""
    path = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
    if path is None:
        if os.environ.get("CI"):
            pytest.fail(
                "chromium is missing: `make install` should have installed it (apt-get install chromium)"
            )
        pytest.skip("chromium not installed (make install adds it)")
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def status_server(db_url: str, port: int, log: Path) -> Iterator[str]:
    """`desk status-server` on 127.0.0.1:port until the block ends; yields the base URL."""
    code = "import sys; from desk.cli import main; raise SystemExit(main(sys.argv[1:]))"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-c", code, "status-server", "--db", db_url, "--port", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=1) as r:
                    if r.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError):
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"status server did not start:\n{log.read_text(errors='replace')}")
            time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=10)


FONTS_DIR = Path(__file__).resolve().parents[2] / "resources" / "fonts"  # WenQuanYi Micro Hei, bundled


def _fontconfig(profile: Path) -> Path:
    """A fontconfig file with the system's fonts plus the bundled CJK font (a bare machine may have none)."""
    profile.mkdir(parents=True, exist_ok=True)
    conf = profile / "fonts.conf"
    conf.write_text(
        '<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd"><fontconfig>'
        '<include ignore_missing="yes">/etc/fonts/fonts.conf</include>'
        f"<dir>{FONTS_DIR}</dir><cachedir>{profile / 'fontcache'}</cachedir></fontconfig>",
        encoding="utf-8",
    )
    return conf


def chromium_run(url: str, profile: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "FONTCONFIG_FILE": str(_fontconfig(profile.with_name(profile.name + "-fonts")))}
    return subprocess.run(
        [chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *extra, url],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        env=env,
    )


def dump_dom(url: str, profile: Path) -> str:
    return chromium_run(url, profile, "--dump-dom").stdout


def screenshot(url: str, profile: Path, out: Path, width: int = 390, height: int = 844) -> None:
    chromium_run(
        url,
        profile,
        f"--screenshot={out}",
        f"--window-size={width},{height}",
        "--force-device-scale-factor=2",
    )
