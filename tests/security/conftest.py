"""Key tests: a key file of the test's own, no OS keyring (the fail backend: the file fallback) unless a test
installs the in-memory one, and the key module's per-process memory reset."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import keyring
import keyring.backend
import keyring.errors
import pytest
from keyring.backends import fail

from desk.core.clock import FixedClock
from desk.security import keys as keys_module
from desk.security.vault import KeySet, Vault
from desk.services.registration import RegistrationService
from desk.store.session import Store
from tests.conftest import staff


class MemoryKeyring(keyring.backend.KeyringBackend):
    """A keyring that keeps its passwords in a dict: the OS keyring of a test."""

    priority = 1

    def __init__(self) -> None:
        super().__init__()
        self.items: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.items.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.items[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        try:
            del self.items[(service, username)]
        except KeyError:
            raise keyring.errors.PasswordDeleteError(username) from None


class LockedKeyring(MemoryKeyring):
    """A keyring that is there but refuses (a locked desktop keyring, a D-Bus service that does not answer)."""

    def get_password(self, service: str, username: str) -> str | None:
        raise keyring.errors.KeyringLocked("locked")


def _forget() -> None:
    keys_module._announced.clear()
    keys_module._probed.clear()
    keys_module.current_vault.cache_clear()  # type: ignore[attr-defined]


@pytest.fixture(autouse=True)
def _key_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The test's key file (outside its data directory); no keyring."""
    path = tmp_path / "keys" / "keyset.json"
    monkeypatch.setenv("DESK_KEY_FILE", str(path))
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    monkeypatch.delenv("DESK_KEYRING", raising=False)
    before = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    _forget()
    yield path
    keyring.set_keyring(before)
    _forget()


@pytest.fixture
def key_file(_key_store: Path) -> Path:
    return _key_store


@pytest.fixture
def memory_keyring() -> MemoryKeyring:
    ring = MemoryKeyring()
    keyring.set_keyring(ring)
    return ring


LEGACY_KEYS = KeySet.generate()


class PlainVault(Vault):
    """A store written before encryption: nothing sealed (what the reseal tests start from). Its blind index is
    that of `LEGACY_KEYS` (the repeat-visit check needs one), which the reseal tests' vault shares."""

    def seal(self, text: str | None, *, field: str) -> str | None:
        return text


@pytest.fixture
def service(store: Store, clock: FixedClock) -> RegistrationService:
    """Registration as the code before encryption wrote it: plaintext fields, no blind indexes."""
    return RegistrationService(store, clock, principal=staff("测试前台"), vault=PlainVault(LEGACY_KEYS))


@pytest.fixture
def sqlite_service(sqlite_store: Store, clock: FixedClock) -> RegistrationService:
    return RegistrationService(
        sqlite_store, clock, principal=staff("测试前台"), vault=PlainVault(LEGACY_KEYS)
    )
