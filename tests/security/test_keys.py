"""Where the keys live: the OS keyring when it answers, else the key file (owner-only, outside the data
directory), and what is refused."""

from __future__ import annotations

import json
import logging
import os
import stat
from pathlib import Path

import keyring
import pytest

from desk.errors import DeskError
from desk.security import keys as k
from desk.security.vault import KeySet, _b64
from tests.security.conftest import LockedKeyring, MemoryKeyring

posix_only = pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")


def _material(keys: KeySet) -> list[str]:
    return [_b64(v) for v in keys.data_keys.values()] + [_b64(keys.index_key)]


def test_no_keyring_uses_the_file(key_file: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="desk.security.keys")
    assert k.load_keyset() is None
    keys = KeySet.generate()
    assert k.save_keyset(keys) == str(key_file)
    assert k.where() == str(key_file)
    assert k.load_keyset() == keys
    assert k.current_vault().keys == keys
    assert str(key_file) in caplog.text  # said once which store is used
    for m in _material(keys):
        assert m not in caplog.text


@posix_only
def test_key_file_is_the_owners_only(key_file: Path) -> None:
    k.save_keyset(KeySet.generate())
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(key_file.parent.stat().st_mode) == 0o700
    assert [p.name for p in key_file.parent.iterdir()] == ["keyset.json"]  # no temporary file left


@posix_only
def test_key_file_readable_by_others_is_refused(key_file: Path) -> None:
    k.save_keyset(KeySet.generate())
    key_file.chmod(0o644)
    with pytest.raises(DeskError, match=f"chmod 600 {key_file}"):
        k.load_keyset()
    with pytest.raises(DeskError, match="其他用户"):
        k.save_secret("county", "pw")


def test_key_file_in_the_data_directory_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    inside = tmp_path / "data" / "keyset.json"
    monkeypatch.setenv("DESK_KEY_FILE", str(inside))
    with pytest.raises(DeskError, match="数据目录"):
        k.save_keyset(KeySet.generate())
    assert not inside.exists()


def test_default_key_file_keeps_out_of_the_data_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from desk.config import data_dir

    monkeypatch.delenv("DESK_KEY_FILE")
    assert not k.key_file_path().resolve().is_relative_to(data_dir().resolve())
    # Windows and macOS: platformdirs gives the config and the data directory the same place
    monkeypatch.setenv("DESK_CONFIG_DIR", str(tmp_path / "data"))
    assert not k.key_file_path().resolve().is_relative_to(data_dir().resolve())


def test_damaged_key_file(key_file: Path) -> None:
    key_file.parent.mkdir(mode=0o700)
    key_file.write_text("{not json", encoding="utf-8")
    key_file.chmod(0o600)
    with pytest.raises(DeskError, match="已损坏"):
        k.load_keyset()


def test_require_keyset_says_what_to_do() -> None:
    with pytest.raises(DeskError, match="desk keys import"):
        k.require_keyset()


def test_secrets_in_the_file(key_file: Path) -> None:
    keys = KeySet.generate()
    k.save_keyset(keys)
    k.save_secret("county_password", "s3cret")
    assert k.load_secret("county_password") == "s3cret"
    assert k.load_keyset() == keys  # a secret does not disturb the key set, nor the other way round
    k.delete_secret("county_password")
    assert k.load_secret("county_password") is None
    k.delete_secret("county_password")  # twice is fine


def test_keyring_when_there_is_one(key_file: Path, memory_keyring: MemoryKeyring) -> None:
    keys = KeySet.generate()
    assert k.save_keyset(keys) == "系统密钥环"
    assert k.where() == "系统密钥环"
    assert not key_file.exists()
    stored = json.loads(memory_keyring.items[("hall-desk", "keyset")])
    assert KeySet.from_json(stored) == keys
    assert k.load_keyset() == keys
    assert k.current_vault().keys == keys
    rotated = keys.rotated()
    k.save_keyset(rotated)
    assert k.current_vault().keys == rotated  # a save in this process is seen at once

    k.save_secret("county_password", "s3cret")
    assert memory_keyring.items[("hall-desk", "secret:county_password")] == "s3cret"
    assert k.load_secret("county_password") == "s3cret"
    k.delete_secret("county_password")
    assert k.load_secret("county_password") is None
    assert not key_file.exists()


def test_keys_in_the_file_move_to_a_keyring_that_appears(key_file: Path) -> None:
    """Keys written to the file before the keyring was there are still found; the next save moves them to the
    keyring, and the file keeps no stale copy (its other secrets stay)."""
    keys = KeySet.generate()
    k.save_keyset(keys)
    k.save_secret("county_password", "s3cret")
    ring = MemoryKeyring()
    keyring.set_keyring(ring)
    assert k.load_keyset() == keys
    assert k.where() == str(key_file)
    rotated = keys.rotated()
    assert k.save_keyset(rotated) == "系统密钥环"
    assert "keyset" not in json.loads(key_file.read_text(encoding="utf-8"))
    assert k.load_keyset() == rotated and k.current_vault().keys == rotated
    assert k.where() == "系统密钥环"
    assert k.load_secret("county_password") == "s3cret"
    k.save_secret("county_password", "new")
    assert not key_file.exists()  # nothing left in it
    assert k.load_secret("county_password") == "new"


def test_keys_in_the_file_never_start_the_keyring(key_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A hall PC keeping its keys in the file does not pay for starting `keyring` on every command."""
    keys = KeySet.generate()
    k.save_keyset(keys)
    k.current_vault.cache_clear()  # type: ignore[attr-defined]

    def no(*_: object) -> None:
        raise AssertionError("the keyring was asked")

    monkeypatch.setattr(keyring, "get_keyring", no)
    assert k.load_keyset() == keys
    assert k.current_vault().keys == keys
    assert k.where() == str(key_file)


def test_desk_keyring_0_forces_the_file(
    key_file: Path, memory_keyring: MemoryKeyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DESK_KEYRING", "0")
    assert k.save_keyset(KeySet.generate()) == str(key_file)
    assert memory_keyring.items == {}
    assert key_file.exists()


def test_a_refusing_keyring_falls_back_to_the_file(key_file: Path) -> None:
    keyring.set_keyring(LockedKeyring())
    assert k.where() == str(key_file)
    keys = KeySet.generate()
    k.save_keyset(keys)
    assert k.load_keyset() == keys
    assert key_file.exists()


def test_the_fail_backend_named_by_the_environment_falls_back(key_file: Path) -> None:
    """What a Linux hall PC without a desktop keyring gets: keyring's fail backend raises NoKeyringError."""
    from keyring.backends import fail

    with pytest.raises(keyring.errors.NoKeyringError):
        fail.Keyring().get_password("hall-desk", "keyset")
    keyring.set_keyring(fail.Keyring())
    assert k.where() == str(key_file)
