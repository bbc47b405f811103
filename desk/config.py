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


def backup_directory(settings: Settings) -> Path:
    """The folder of the daily automatic backups: `backup_dir`, else `backups` in the data directory."""
    return Path(settings.backup_dir).expanduser() if settings.backup_dir else data_dir() / "backups"


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
    backup_keep: int = 7  # daily automatic backups of a SQLite store kept (0: none are made)
    backup_dir: str = ""  # where they go: "" = the folder `backups` in the data directory


def load_settings(path: Path | None = None) -> Settings:
    """Settings from the user's settings file; unknown keys are ignored, a broken file falls back to defaults."""
    path = path or config_file()
    if not path.exists():
        return Settings()
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        logger.warning("settings file %s unreadable; using defaults", path)
        return Settings()
    known = {f.name for f in fields(Settings)}
    values = {k: v for k, v in raw.items() if k in known and k != "schema_version"}
    return Settings(**values)


def save_settings(settings: Settings, path: Path | None = None) -> None:
    path = path or config_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(asdict(settings), ensure_ascii=False, indent=2), encoding="utf-8")
