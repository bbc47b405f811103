"""Where the keys and secrets live: the OS keyring when there is one, else a key file outside the data directory,
readable by its owner only. Never in the store, never in settings.json.

`DESK_KEY_FILE` names the key file (deployments, tests); by default it is `keyset.json` in the user's config
directory (platformdirs), apart from the data directory where the store lives.
"""

from __future__ import annotations

import json
import os
from functools import lru_cache
from pathlib import Path

from desk.errors import DeskError
from desk.security.vault import KeySet, Vault

DESK_KEY_FILE = "DESK_KEY_FILE"
APP = "hall-desk"


def key_file_path() -> Path:
    raw = os.environ.get(DESK_KEY_FILE, "").strip()
    if raw:
        return Path(raw).expanduser()
    import platformdirs

    return Path(platformdirs.user_config_dir(APP, appauthor=False)) / "keys" / "keyset.json"


def _read_file(path: Path) -> dict[str, object] | None:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise DeskError(f"无法读取密钥文件 {path}：{exc.strerror or exc}") from None
    try:
        data = json.loads(text)
    except ValueError:
        raise DeskError(f"密钥文件 {path} 已损坏") from None
    if not isinstance(data, dict):
        raise DeskError(f"密钥文件 {path} 已损坏")
    return data


def _write_file(path: Path, data: dict[str, object]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(data, f, ensure_ascii=False, indent=1)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def load_keyset() -> KeySet | None:
    """This machine's key set, or None when it has none yet."""
    data = _read_file(key_file_path())
    if data is None or "keyset" not in data:
        return None
    return KeySet.from_json(data["keyset"])


def save_keyset(keys: KeySet) -> str:
    """Keep `keys` (replacing the old set); returns where, for people."""
    path = key_file_path()
    data = _read_file(path) or {}
    data["keyset"] = keys.to_json()
    _write_file(path, data)
    current_vault.cache_clear()
    return str(path)


def require_keyset() -> KeySet:
    keys = load_keyset()
    if keys is None:
        raise DeskError(
            "本机尚无数据密钥：请先运行 desk init（新建）或 desk keys import（导入县级提供的密钥文件）"
        )
    return keys


@lru_cache(maxsize=4)
def _vault_for(path: str, stamp: float) -> Vault:
    return Vault(require_keyset())


def current_vault() -> Vault:
    """The vault of this machine's keys (cached until the key file changes)."""
    path = key_file_path()
    try:
        stamp = path.stat().st_mtime
    except OSError:
        stamp = 0.0
    return _vault_for(str(path), stamp)


current_vault.cache_clear = _vault_for.cache_clear  # type: ignore[attr-defined]


def load_secret(name: str) -> str | None:
    data = _read_file(key_file_path()) or {}
    secrets = data.get("secrets")
    value = secrets.get(name) if isinstance(secrets, dict) else None
    return value if isinstance(value, str) else None


def save_secret(name: str, value: str) -> str:
    path = key_file_path()
    data = _read_file(path) or {}
    secrets = data.get("secrets") if isinstance(data.get("secrets"), dict) else {}
    assert isinstance(secrets, dict)
    secrets[name] = value
    data["secrets"] = secrets
    _write_file(path, data)
    return str(path)


def delete_secret(name: str) -> None:
    path = key_file_path()
    data = _read_file(path)
    if data and isinstance(data.get("secrets"), dict) and name in data["secrets"]:  # type: ignore[operator]
        del data["secrets"][name]  # type: ignore[union-attr]
        _write_file(path, data)
