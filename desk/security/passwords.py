"""Passwords and PINs: the Argon2id hash and its check, and the rules a new password or PIN must meet.

Parameters: OWASP's first recommended Argon2id set, m = 19 MiB, t = 2, p = 1 (the issue asks for at least
m = 19 MiB and t = 2). A hash made with other parameters still verifies; `needs_rehash` says when to hash again
with these (the sign-in does it on success).
"""

from __future__ import annotations

import logging
from functools import lru_cache

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

from desk.errors import ValidationError

logger = logging.getLogger(__name__)

MEMORY_KIB = 19456  # 19 MiB
TIME_COST = 2
PARALLELISM = 1
PASSWORD_MIN = 8
PASSWORD_MAX = 128  # hashing is costly per byte only a little, but a 1 MB "password" is refused
PIN_MIN, PIN_MAX = 4, 8

_HASHER = PasswordHasher(
    time_cost=TIME_COST,
    memory_cost=MEMORY_KIB,
    parallelism=PARALLELISM,
    hash_len=32,
    salt_len=16,
    type=Type.ID,
)


def hash_secret(text: str) -> str:
    """The Argon2id hash of a password or PIN (PHC string ``$argon2id$v=19$m=19456,t=2,p=1$...``), salted."""
    return _HASHER.hash(text)


def verify_secret(hashed: str, text: str) -> bool:
    """Whether `text` is the secret `hashed` was made from. Never raises: a mismatch, a damaged or foreign
    hash, or no hash at all is False."""
    if not hashed:
        return False
    try:
        return _HASHER.verify(hashed, text)
    except (VerificationError, InvalidHashError):
        return False
    except ValueError:  # not a PHC string at all
        return False


def needs_rehash(hashed: str) -> bool:
    """Whether `hashed` was made with other parameters than today's (so it should be hashed again)."""
    try:
        return _HASHER.check_needs_rehash(hashed)
    except (InvalidHashError, ValueError):
        return True


@lru_cache(maxsize=1)
def decoy_hash() -> str:
    """A hash of nothing anyone knows: the sign-in verifies against it when the login is unknown, so that an
    unknown login takes as long to refuse as a wrong password."""
    import secrets

    return hash_secret(secrets.token_urlsafe(24))


def check_password(password: str, login: str = "") -> None:
    """Refuse (`ValidationError`, a `DeskError`) a password that is too short or too long, all digits, or the
    login itself."""
    if len(password) < PASSWORD_MIN:
        raise ValidationError.single("password", f"密码至少{PASSWORD_MIN}个字符")
    if len(password) > PASSWORD_MAX:
        raise ValidationError.single("password", f"密码最多{PASSWORD_MAX}个字符")
    if password.isdigit():
        raise ValidationError.single("password", "密码不能全是数字（请加入字母或符号）")
    if login and password.strip().lower() == login.strip().lower():
        raise ValidationError.single("password", "密码不能与用户名相同")
    if not password.strip():
        raise ValidationError.single("password", "密码不能全是空格")


def check_pin(pin: str) -> None:
    """Refuse a PIN that is not 4 to 8 digits (ASCII 0-9)."""
    if not (PIN_MIN <= len(pin) <= PIN_MAX and pin.isascii() and pin.isdigit()):
        raise ValidationError.single("pin", f"PIN 码应为{PIN_MIN}至{PIN_MAX}位数字")


def looks_like_pin(secret: str) -> bool:
    """A secret typed at the lock or switch screen is a PIN when it is 4-8 digits: a password never is (it
    may not be all digits), so one check decides which hash to verify against."""
    return PIN_MIN <= len(secret) <= PIN_MAX and secret.isascii() and secret.isdigit()
