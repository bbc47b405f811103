"""Field encryption (AES-256-GCM) and the blind index (HMAC-SHA256) of personal data.

A sealed value is text: ``enc1:<key id>:<base64url(nonce || ciphertext || tag)>``. The field's name is the
associated data, so a value sealed as a phone cannot be passed off as an address. The key id says which data key
sealed it, so that keys rotate: the key set keeps the old keys until `desk keys rotate` has sealed everything again
under the new one. Text that does not start with ``enc1:`` is a value from before encryption: `open` returns it as
it is (the rotation seals it).

The blind index is a keyed hash of the normalised value: equal values give equal indexes, so an exact lookup by ID
number or phone finds the rows without the plaintext, and without the index key nobody can test a guess. The index
key never rotates (it would need every plaintext again); it is as secret as the data keys.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass, field

from desk.errors import DeskError

PREFIX = "enc1:"
NONCE = 12
INDEX_HEX = 32  # 128 bits of HMAC-SHA256


class VaultError(DeskError):
    """A key is missing or a sealed value does not open (wrong key, damaged text)."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class KeySet:
    """The data keys by id (32 bytes each), the current one, and the blind index key."""

    current: str
    data_keys: dict[str, bytes]
    index_key: bytes
    created: dict[str, str] = field(default_factory=dict)

    @classmethod
    def generate(cls, kid: str = "k1", created: str = "") -> KeySet:
        return cls(
            kid, {kid: secrets.token_bytes(32)}, secrets.token_bytes(32), {kid: created} if created else {}
        )

    def rotated(self, created: str = "") -> KeySet:
        """A new current data key (id k<n+1>); the old ones stay to open what they sealed."""
        n = 1 + max((int(k[1:]) for k in self.data_keys if k[1:].isdigit()), default=0)
        kid = f"k{n}"
        keys = {**self.data_keys, kid: secrets.token_bytes(32)}
        return KeySet(kid, keys, self.index_key, {**self.created, kid: created})

    def without_old(self) -> KeySet:
        """Only the current data key (after every value was sealed again under it)."""
        return KeySet(
            self.current,
            {self.current: self.data_keys[self.current]},
            self.index_key,
            {k: v for k, v in self.created.items() if k == self.current},
        )

    def to_json(self) -> dict[str, object]:
        return {
            "format": "hall-desk-keyset/1",
            "current": self.current,
            "data_keys": {k: _b64(v) for k, v in self.data_keys.items()},
            "index_key": _b64(self.index_key),
            "created": dict(self.created),
        }

    @classmethod
    def from_json(cls, data: object) -> KeySet:
        # explicit checks, not asserts: `python -O` would drop those and let a damaged key set through
        bad = VaultError("密钥文件格式不正确或已损坏")
        if not isinstance(data, dict) or data.get("format") != "hall-desk-keyset/1":
            raise bad
        try:
            keys = {str(k): _unb64(str(v)) for k, v in dict(data["data_keys"]).items()}
            index_key = _unb64(str(data["index_key"]))
            current = str(data["current"])
            created = {str(k): str(v) for k, v in dict(data.get("created") or {}).items()}
        except (KeyError, TypeError, ValueError):
            raise bad from None
        if current not in keys or any(len(k) != 32 for k in keys.values()) or len(index_key) != 32:
            raise bad
        return cls(current, keys, index_key, created)

    def fingerprint(self) -> str:
        """A short public name of the index key (the same at the county and every hall sharing the keys)."""
        return hashlib.sha256(b"hall-desk-fingerprint" + self.index_key).hexdigest()[:12]


def is_sealed(value: object) -> bool:
    return isinstance(value, str) and value.startswith(PREFIX)


def key_id_of(value: str) -> str | None:
    """The id of the key that sealed `value`; None for plaintext."""
    if not is_sealed(value):
        return None
    return value[len(PREFIX) :].split(":", 1)[0]


class Vault:
    """Seals and opens the personal fields, and computes their blind index, with one key set."""

    def __init__(self, keys: KeySet) -> None:
        # imported here: a command that only checks whether a value is sealed (`is_sealed`) loads no cryptography
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        self.keys = keys
        self._aead = {kid: AESGCM(k) for kid, k in keys.data_keys.items()}

    @property
    def current(self) -> str:
        return self.keys.current

    def seal(self, text: str | None, *, field: str) -> str | None:
        """`text` encrypted under the current key; None and "" stay as they are (nothing to hide)."""
        if not text:
            return text
        if is_sealed(text):
            return (
                text
                if key_id_of(text) == self.current
                else self.seal(self.open(text, field=field), field=field)
            )
        nonce = os.urandom(NONCE)
        sealed = self._aead[self.current].encrypt(nonce, text.encode("utf-8"), field.encode("ascii"))
        return f"{PREFIX}{self.current}:{_b64(nonce + sealed)}"

    def open(self, value: str | None, *, field: str) -> str | None:
        """The plaintext of a sealed value (a plaintext value from before encryption as it is)."""
        if not value or not is_sealed(value):
            return value
        try:
            kid, body = value[len(PREFIX) :].split(":", 1)
            data = _unb64(body)
        except ValueError:
            raise VaultError("加密字段已损坏，无法解密") from None
        aead = self._aead.get(kid)
        if aead is None:
            raise VaultError(f"缺少密钥 {kid}：请导入县级管理员提供的密钥文件（desk keys import）")
        from cryptography.exceptions import InvalidTag

        try:
            return aead.decrypt(data[:NONCE], data[NONCE:], field.encode("ascii")).decode("utf-8")
        except (InvalidTag, ValueError):
            raise VaultError(f"加密字段无法用密钥 {kid} 解密：密钥不符或数据已损坏") from None

    def reseal(self, value: str | None, *, field: str) -> str | None:
        """`value` sealed under the current key (plaintext sealed, an older key's text opened and sealed again)."""
        if not value or key_id_of(value) == self.current:
            return value
        return self.seal(self.open(value, field=field), field=field)

    def index(self, kind: str, value: str | None) -> str | None:
        """The blind index of a normalised value (`kind`: "id" or "phone"); None for no value."""
        if not value:
            return None
        mac = hmac.new(self.keys.index_key, f"{kind}:{value}".encode(), hashlib.sha256)
        return mac.hexdigest()[:INDEX_HEX]
