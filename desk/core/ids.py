"""Identifiers: UUIDv7 for rows and events, random status tokens, human case numbers."""

from __future__ import annotations

import os
import re
import secrets
import time
import uuid


def uuid7(ms: int | None = None) -> uuid.UUID:
    """A version-7 UUID (RFC 9562): 48-bit Unix milliseconds, then 74 random bits.

    Unique where it is made; never used for ordering, since hall clocks drift.
    """
    if ms is None:
        ms = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")
    value = (ms & 0xFFFF_FFFF_FFFF) << 80
    value |= 0x7 << 76  # version
    value |= ((rand >> 62) & 0xFFF) << 64  # rand_a, 12 bits
    value |= 0b10 << 62  # variant
    value |= rand & ((1 << 62) - 1)  # rand_b, 62 bits
    return uuid.UUID(int=value)


def new_id() -> str:
    return str(uuid7())


def status_token() -> str:
    """128 random bits, URL-safe; printed in the receipt's QR code, never derived from the case number."""
    return secrets.token_urlsafe(16)


CASE_NO_RE = re.compile(r"^(?P<hall>\d{6,12})-(?P<year>\d{4})-(?P<seq>\d{6,})$")


def case_number(hall_code: str, year: int, seq: int) -> str:
    """`{hall_code}-{year}-{seq:06d}`: unique without coordination because the hall code is in it."""
    return f"{hall_code}-{year}-{seq:06d}"
