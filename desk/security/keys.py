"""Where the keys and secrets live: the OS keyring when there is one, else a key file outside the data directory,
readable by its owner only. Never in the store, never in settings.json.

The keyring (package `keyring`) keeps them under the service "hall-desk": the key set as user "keyset", each
secret as "secret:<name>". A Linux hall PC without a desktop keyring has none: `keyring` raises
`NoKeyringError` (its fail backend), and the key file is used instead; `DESK_KEYRING=0` forces the file.

`DESK_KEY_FILE` names the key file (deployments, tests); by default it is `keys/keyset.json` in the user's config
directory (platformdirs), apart from the data directory where the store lives. The file is refused when others
can read it, or when it lies inside the data directory (a copy of that directory must not carry the keys).

A key set leaves the machine only as an export file sealed with a passphrase (`export_keyset`/`import_keyset`):
scrypt derives the wrapping key, AES-GCM seals the key set. Nothing here logs or prints key material.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets as _secrets
import stat
import tempfile
import time
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from desk.errors import DeskError, Refused
from desk.security.vault import KeySet, Vault, VaultError

logger = logging.getLogger(__name__)

DESK_KEY_FILE = "DESK_KEY_FILE"
DESK_KEYRING = "DESK_KEYRING"
APP = "hall-desk"
SERVICE = "hall-desk"  # the keyring's service name
KEYSET_USER = "keyset"
SECRET_USER = "secret:"
KEYRING_LABEL = "系统密钥环"
KEYRING_REFRESH_S = 30.0  # a long-running window re-reads the keyring this often (another process may rotate)

EXPORT_FORMAT = "hall-desk-keys-export/1"
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**15, 8, 1
MIN_PASSPHRASE = 12


class KeyInputRefused(Refused):
    """Input about keys refused (a short or wrong passphrase, a damaged export file, a different key set):
    nothing was written; the command exits 2."""


# --- where: the keyring or the file ------------------------------------------------------------------------


def _config_dir() -> Path:
    import platformdirs

    return Path(os.environ.get("DESK_CONFIG_DIR") or platformdirs.user_config_dir(APP, appauthor=False))


def key_file_path() -> Path:
    """The key file: `DESK_KEY_FILE`, else `keys/keyset.json` in the config directory. Where that directory is
    the data directory (Windows, macOS: platformdirs gives both the same place), a sibling directory instead."""
    raw = os.environ.get(DESK_KEY_FILE, "").strip()
    if raw:
        return Path(raw).expanduser()
    path = _config_dir() / "keys" / "keyset.json"
    if _inside_data_dir(path):
        import platformdirs

        path = Path(platformdirs.user_config_dir(f"{APP}-keys", appauthor=False)) / "keyset.json"
    return path


def _data_dir() -> Path:
    """The data directory, as desk.config.data_dir gives it (not imported: the config module reaches the store)."""
    import platformdirs

    return Path(os.environ.get("DESK_DATA_DIR") or platformdirs.user_data_dir(APP, appauthor=False))


def _inside_data_dir(path: Path) -> bool:
    try:
        path.resolve().relative_to(_data_dir().resolve())
    except ValueError:
        return False
    return True


_announced: set[str] = set()
_probed: set[int] = set()  # the keyring backends that answered once (asking costs a D-Bus round trip)


def _announce(where: str) -> None:
    if where not in _announced:
        _announced.add(where)
        logger.info("密钥与口令保存在：%s", where)


def _keyring() -> Any | None:
    """The usable OS keyring backend, or None (forced off, none installed, or it fails when asked)."""
    if os.environ.get(DESK_KEYRING, "").strip() in ("0", "false", "no", "off"):
        return None
    try:
        import keyring
        from keyring.backends import fail, null

        backend = keyring.get_keyring()
        if isinstance(backend, fail.Keyring | null.Keyring):
            return None
        if id(backend) not in _probed:
            backend.get_password(SERVICE, KEYSET_USER)  # a locked or absent service fails here, not later
            _probed.add(id(backend))
    except Exception as exc:  # noqa: BLE001 - NoKeyringError, InitError, D-Bus errors: all mean "use the file"
        key = f"no-keyring:{type(exc).__name__}"
        if key not in _announced:
            _announced.add(key)
            logger.info("系统密钥环不可用（%s），改用密钥文件", type(exc).__name__)
        return None
    return backend


def where() -> str:
    """Where this machine's keys live, for people: "系统密钥环" or the key file's path."""
    path = key_file_path()
    in_file = "keyset" in _file_data(path)
    where_ = KEYRING_LABEL if not in_file and _keyring() is not None else str(path)
    _announce(where_)
    return where_


# --- the key file ------------------------------------------------------------------------------------------


def _check_file(path: Path) -> None:
    """Refuse a key file inside the data directory, or one its owner does not keep to themself."""
    if _inside_data_dir(path):
        raise DeskError(
            f"密钥文件 {path} 位于数据目录内，已拒绝使用：密钥不得与数据库放在一起。"
            f"请将其移到数据目录之外，并用环境变量 {DESK_KEY_FILE} 指明新位置"
        )
    if os.name != "posix":
        return  # Windows: the ACLs of the user's profile protect it; st_mode does not show them
    try:
        st = path.stat()
    except FileNotFoundError:
        return
    except OSError as exc:
        raise DeskError(f"无法读取密钥文件 {path}：{exc.strerror or exc}") from None
    if st.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise DeskError(f"密钥文件 {path} 可被其他用户访问，已拒绝使用：请运行 chmod 600 {path} 后重试")
    if hasattr(os, "getuid") and st.st_uid != os.getuid():
        raise DeskError(f"密钥文件 {path} 不属于当前用户，已拒绝使用")


def _read_file(path: Path) -> dict[str, Any] | None:
    _check_file(path)
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


def _write_private(path: Path, text: str) -> None:
    """Write `text` to `path` atomically (a temporary file in the same directory, fsynced, renamed), readable by
    its owner only; a directory made for it is the owner's only."""
    directory = path.parent
    if not directory.exists():
        directory.mkdir(parents=True, mode=0o700)
        with contextlib.suppress(OSError):
            directory.chmod(0o700)  # mkdir's mode is cut by the umask; keep it the owner's only
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)  # mode 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    if os.name == "posix":
        with contextlib.suppress(OSError):  # the rename is durable once the directory is
            dfd = os.open(directory, os.O_RDONLY)
            try:
                os.fsync(dfd)
            finally:
                os.close(dfd)


def _write_file(path: Path, data: dict[str, Any]) -> None:
    _check_file(path)
    try:
        _write_private(path, json.dumps(data, ensure_ascii=False, indent=1))
    except OSError as exc:
        raise DeskError(f"无法写入密钥文件 {path}：{exc.strerror or exc}") from None


# --- the keyring -------------------------------------------------------------------------------------------


def _ring_get(backend: Any, user: str) -> str | None:
    try:
        value = backend.get_password(SERVICE, user)
    except Exception as exc:  # noqa: BLE001 - the keyring's own errors vary by platform
        raise DeskError(f"无法读取系统密钥环（{type(exc).__name__}）：请解锁密钥环后重试") from None
    return value if isinstance(value, str) else None


def _ring_set(backend: Any, user: str, value: str) -> None:
    try:
        backend.set_password(SERVICE, user, value)
    except Exception as exc:  # noqa: BLE001
        raise DeskError(
            f"无法写入系统密钥环（{type(exc).__name__}）：请解锁密钥环后重试，"
            f"或设置环境变量 {DESK_KEYRING}=0 改用密钥文件"
        ) from None


def _ring_delete(backend: Any, user: str) -> None:
    import keyring.errors

    try:
        backend.delete_password(SERVICE, user)
    except keyring.errors.PasswordDeleteError:
        pass
    except Exception as exc:  # noqa: BLE001
        raise DeskError(f"无法修改系统密钥环（{type(exc).__name__}）：请解锁密钥环后重试") from None


# --- the key set -------------------------------------------------------------------------------------------


def _file_data(path: Path) -> dict[str, Any]:
    return _read_file(path) or {}


def _forget_in_file(path: Path, section: str, name: str | None = None) -> None:
    """Remove the key set (`section` "keyset") or one secret from the key file, now that the keyring holds it:
    a file that holds keys is read first, so it must never keep a stale copy. A file left empty goes."""
    data = _read_file(path)
    if not data:
        return
    if name is None:
        if section not in data:
            return
        del data[section]
    else:
        secrets = data.get(section)
        if not isinstance(secrets, dict) or name not in secrets:
            return
        del secrets[name]
        if not secrets:
            del data[section]
    if data:
        _write_file(path, data)
    else:
        try:
            path.unlink()
        except OSError as exc:
            raise DeskError(f"无法删除密钥文件 {path}：{exc.strerror or exc}") from None


def load_keyset() -> KeySet | None:
    """This machine's key set, or None when it has none yet.

    A key file that holds a key set is where this machine keeps its keys (saved there when no keyring answered,
    or provisioned there): it is read first, without asking the keyring -- starting `keyring` costs a command
    a quarter of a second, for nothing on a hall PC that has none. Else the keyring, when there is one."""
    path = key_file_path()
    data = _file_data(path)
    if "keyset" in data:
        _announce(str(path))
        return KeySet.from_json(data["keyset"])
    backend = _keyring()
    if backend is None:
        _announce(str(path))
        return None
    _announce(KEYRING_LABEL)
    raw = _ring_get(backend, KEYSET_USER)
    if raw is None:
        return None
    try:
        return KeySet.from_json(json.loads(raw))
    except ValueError:
        raise VaultError("系统密钥环中的密钥已损坏") from None


def save_keyset(keys: KeySet) -> str:
    """Keep `keys` (replacing the old set): in the keyring when there is one (the key file then forgets its
    copy), else in the key file. Returns where, for people."""
    path = key_file_path()
    backend = _keyring()
    if backend is not None:
        _ring_set(backend, KEYSET_USER, json.dumps(keys.to_json(), separators=(",", ":")))
        _forget_in_file(path, "keyset")
        where_ = KEYRING_LABEL
    else:
        data = _file_data(path)
        data["keyset"] = keys.to_json()
        _write_file(path, data)
        where_ = str(path)
    _generation[0] += 1
    _vault_for.cache_clear()
    logger.info(
        "数据密钥已保存（当前密钥 %s，共 %d 个，指纹 %s）",
        keys.current,
        len(keys.data_keys),
        keys.fingerprint(),
    )
    return where_


def require_keyset() -> KeySet:
    keys = load_keyset()
    if keys is None:
        raise DeskError(
            "本机尚无数据密钥：请先运行 desk init（新建）或 desk keys import（导入县级提供的密钥文件）"
        )
    return keys


_generation = [0]  # bumped by every save in this process


@lru_cache(maxsize=4)
def _vault_for(where: str, stamp: float, generation: int) -> Vault:
    return Vault(require_keyset())


@lru_cache(maxsize=4)
def _file_has_keyset(path: str, stamp: float) -> bool:
    return "keyset" in _file_data(Path(path))


def current_vault() -> Vault:
    """The vault of this machine's keys, cached: until the key file changes, or for a short while (the keyring:
    another process may rotate), and always until this process saves new keys."""
    path = key_file_path()
    try:
        stamp = path.stat().st_mtime
    except OSError:
        stamp = None
    if stamp is not None and _file_has_keyset(str(path), stamp):
        return _vault_for(str(path), stamp, _generation[0])
    if _keyring() is not None:
        return _vault_for(KEYRING_LABEL, float(int(time.monotonic() // KEYRING_REFRESH_S)), _generation[0])
    return _vault_for(str(path), stamp or 0.0, _generation[0])


def _clear_caches() -> None:
    _vault_for.cache_clear()
    _file_has_keyset.cache_clear()


current_vault.cache_clear = _clear_caches  # type: ignore[attr-defined]


# --- secrets (the county password, ...) ---------------------------------------------------------------------


def load_secret(name: str) -> str | None:
    """A secret by name: from the key file if it holds it (see `load_keyset`), else from the keyring."""
    secrets = _file_data(key_file_path()).get("secrets")
    value = secrets.get(name) if isinstance(secrets, dict) else None
    if isinstance(value, str):
        return value
    backend = _keyring()
    return _ring_get(backend, SECRET_USER + name) if backend is not None else None


def save_secret(name: str, value: str) -> str:
    """Keep a secret (the keyring when there is one, else the key file); returns where, for people."""
    path = key_file_path()
    backend = _keyring()
    if backend is not None:
        _ring_set(backend, SECRET_USER + name, value)
        _forget_in_file(path, "secrets", name)
        return KEYRING_LABEL
    data = _file_data(path)
    secrets = data.get("secrets")
    secrets = dict(secrets) if isinstance(secrets, dict) else {}
    secrets[name] = value
    data["secrets"] = secrets
    _write_file(path, data)
    return str(path)


def delete_secret(name: str) -> None:
    path = key_file_path()
    _forget_in_file(path, "secrets", name)
    backend = _keyring()
    if backend is not None:
        _ring_delete(backend, SECRET_USER + name)


# --- export and import, sealed with a passphrase ------------------------------------------------------------


def _passphrase_key(passphrase: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

    return Scrypt(salt=salt, length=32, n=n, r=r, p=p).derive(passphrase.encode("utf-8"))


def _normalised(passphrase: str) -> str:
    return unicodedata.normalize("NFC", passphrase)


def check_passphrase(passphrase: str) -> str:
    """The passphrase as used (NFC), refused when shorter than `MIN_PASSPHRASE` characters."""
    passphrase = _normalised(passphrase)
    if len(passphrase) < MIN_PASSPHRASE:
        raise KeyInputRefused(f"口令太短：至少 {MIN_PASSPHRASE} 个字符")
    return passphrase


def _b64(data: bytes) -> str:
    import base64

    return base64.b64encode(data).decode("ascii")


def _unb64(text: object) -> bytes:
    import base64

    if not isinstance(text, str):
        raise ValueError("not text")
    return base64.b64decode(text, validate=True)


def export_keyset(keys: KeySet, path: Path | str, passphrase: str) -> str:
    """Write `keys` to `path` sealed with `passphrase` (scrypt, AES-GCM); returns the key set's fingerprint."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    passphrase = check_passphrase(passphrase)
    salt, nonce = _secrets.token_bytes(16), _secrets.token_bytes(12)
    wrap = _passphrase_key(passphrase, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    body = json.dumps(keys.to_json(), separators=(",", ":")).encode("utf-8")
    ct = AESGCM(wrap).encrypt(nonce, body, EXPORT_FORMAT.encode("ascii"))
    data = {
        "format": EXPORT_FORMAT,
        "kdf": "scrypt",
        "n": SCRYPT_N,
        "r": SCRYPT_R,
        "p": SCRYPT_P,
        "salt": _b64(salt),
        "nonce": _b64(nonce),
        "ct": _b64(ct),
        "fingerprint": keys.fingerprint(),
    }
    target = Path(path).expanduser()
    try:
        _write_private(target, json.dumps(data, indent=1) + "\n")
    except OSError as exc:
        raise DeskError(f"无法写入导出文件 {target}：{exc.strerror or exc}") from None
    return keys.fingerprint()


@dataclass(frozen=True)
class ExportHeader:
    """The public part of an export file: its KDF parameters and the fingerprint of the key set inside."""

    n: int
    r: int
    p: int
    salt: bytes
    nonce: bytes
    ct: bytes
    fingerprint: str


def _read_export(path: Path) -> ExportHeader:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise KeyInputRefused(f"密钥导出文件 {path} 不存在") from None
    except OSError as exc:
        raise DeskError(f"无法读取密钥导出文件 {path}：{exc.strerror or exc}") from None
    if len(raw) > 64 * 1024:
        raise KeyInputRefused(f"{path} 不是本系统的密钥导出文件")
    try:
        data = json.loads(raw)
    except ValueError:
        raise KeyInputRefused(f"{path} 不是本系统的密钥导出文件，或文件已损坏") from None
    if not isinstance(data, dict) or data.get("format") != EXPORT_FORMAT or data.get("kdf") != "scrypt":
        raise KeyInputRefused(f"{path} 不是本系统的密钥导出文件（格式不符）")
    try:
        n, r, p = (int(data[k]) for k in ("n", "r", "p"))
        # bounds: a forged file must not make the import take gigabytes or hours
        if not (2**14 <= n <= 2**20 and n & (n - 1) == 0 and 1 <= r <= 16 and 1 <= p <= 4):
            raise ValueError("kdf parameters")
        header = ExportHeader(
            n,
            r,
            p,
            _unb64(data["salt"]),
            _unb64(data["nonce"]),
            _unb64(data["ct"]),
            str(data.get("fingerprint", "")),
        )
        if len(header.nonce) != 12 or len(header.salt) < 16:
            raise ValueError("sizes")
    except (KeyError, TypeError, ValueError):
        raise KeyInputRefused(f"密钥导出文件 {path} 已损坏") from None
    return header


def export_fingerprint(path: Path | str) -> str:
    """The fingerprint an export file says it holds (public; no passphrase needed)."""
    return _read_export(Path(path).expanduser()).fingerprint


def import_keyset(path: Path | str, passphrase: str) -> KeySet:
    """The key set sealed in the export file at `path` (not saved: `save_keyset` does that)."""
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    source = Path(path).expanduser()
    h = _read_export(source)
    wrap = _passphrase_key(_normalised(passphrase), h.salt, h.n, h.r, h.p)
    try:
        body = AESGCM(wrap).decrypt(h.nonce, h.ct, EXPORT_FORMAT.encode("ascii"))
    except InvalidTag:
        raise KeyInputRefused("口令不正确，或密钥导出文件已损坏") from None
    try:
        keys = KeySet.from_json(json.loads(body))
    except (ValueError, VaultError):
        raise KeyInputRefused(f"密钥导出文件 {source} 的内容已损坏") from None
    if h.fingerprint and h.fingerprint != keys.fingerprint():
        raise KeyInputRefused(f"密钥导出文件 {source} 已被改动（指纹不符）")
    return keys
