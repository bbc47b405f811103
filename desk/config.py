"""Typed settings: where the store is, which hall this is, and the few switches the desk has."""

from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict, dataclass, fields
from pathlib import Path

logger = logging.getLogger(__name__)

APP_NAME = "hall-desk"
SCHEMA_VERSION = 1
RESOURCES = Path(__file__).resolve().parent.parent / "resources"


def data_dir() -> Path:
    import platformdirs

    return Path(os.environ.get("DESK_DATA_DIR") or platformdirs.user_data_dir(APP_NAME, appauthor=False))


def log_dir() -> Path:
    import platformdirs

    return Path(os.environ.get("DESK_LOG_DIR") or platformdirs.user_log_dir(APP_NAME, appauthor=False))


def config_file() -> Path:
    import platformdirs

    base = os.environ.get("DESK_CONFIG_DIR") or platformdirs.user_config_dir(APP_NAME, appauthor=False)
    return Path(base) / "settings.json"


def default_db_url() -> str:
    return f"sqlite:///{data_dir() / 'desk.db'}"


def resolve_db_url(explicit: str | None = None) -> str:
    """`--db URL`, else `DESK_DB_URL`, else the embedded SQLite store in the user data directory."""
    return explicit or os.environ.get("DESK_DB_URL") or default_db_url()


def resolve_county_url(explicit: str | None = None, settings: Settings | None = None) -> str:
    """The county database: `--county URL`, else `DESK_COUNTY_URL`, else the settings file; "" if none."""
    if explicit:
        return explicit
    env = os.environ.get("DESK_COUNTY_URL")
    if env:
        return env
    return (settings or load_settings()).county_db_url


@dataclass(frozen=True)
class Settings:
    schema_version: int = SCHEMA_VERSION
    county_db_url: str = ""
    status_base_url: str = "https://zz.example.gov.cn/s/"
    language: str = "zh_CN"
    actor: str = "前台"
    speech_engine: str = ""  # QtTextToSpeech engine of the calling screen: "" = the platform's default
    no_show_after_recalls: int = 2  # a called visitor may be marked 过号 after this many recalls
    sync_interval_s: int = 30  # how often the app syncs with the county in the background


def load_settings(path: Path | None = None) -> Settings:
    """Settings from the user's settings file; unknown keys are ignored, a broken file falls back to defaults."""
    path = path or config_file()
    if not path.exists():
        return Settings()
    if os.name == "posix":
        try:
            if path.stat().st_mode & 0o077:  # written by hand or an installer: it may hold a password
                path.chmod(0o600)
        except OSError:
            pass
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        logger.warning("settings file %s unreadable; using defaults", path)
        return Settings()
    known = {f.name for f in fields(Settings)}
    values = {k: v for k, v in raw.items() if k in known and k != "schema_version"}
    return Settings(**values)


def save_settings(settings: Settings, path: Path | None = None) -> None:
    """Write the settings file, readable by its owner only (0600 on POSIX: it holds the county database's
    address, password included), atomically: a crash leaves the old file or the new one."""
    path = path or config_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    data = json.dumps(asdict(settings), ensure_ascii=False, indent=2).encode("utf-8")
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        if os.name == "posix":
            os.chmod(tmp, 0o600)  # the mode given to open() is cut by the umask, never widened: make it exact
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
