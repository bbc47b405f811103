"""Export and import of a key set under a passphrase (scrypt, AES-GCM)."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from desk.security.keys import (
    EXPORT_FORMAT,
    KeyInputRefused,
    export_fingerprint,
    export_keyset,
    import_keyset,
)
from desk.security.vault import KeySet, _b64

PASSPHRASE = "县级中心 correct horse"


@pytest.fixture
def keys() -> KeySet:
    return KeySet.generate(created="2026-12-08").rotated("2026-12-09")


def test_round_trip(keys: KeySet, tmp_path: Path) -> None:
    out = tmp_path / "export" / "keys.json"
    assert export_keyset(keys, out, PASSPHRASE) == keys.fingerprint()
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["format"] == EXPORT_FORMAT and data["kdf"] == "scrypt"
    assert (data["n"], data["r"], data["p"]) == (2**15, 8, 1)
    assert data["fingerprint"] == keys.fingerprint() == export_fingerprint(out)
    text = out.read_text(encoding="utf-8")
    for secret in [_b64(v) for v in keys.data_keys.values()] + [_b64(keys.index_key)]:
        assert secret not in text
    if os.name == "posix":
        assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert import_keyset(out, PASSPHRASE) == keys


def test_wrong_passphrase(keys: KeySet, tmp_path: Path) -> None:
    out = tmp_path / "keys.json"
    export_keyset(keys, out, PASSPHRASE)
    with pytest.raises(KeyInputRefused, match="口令不正确"):
        import_keyset(out, PASSPHRASE + "x")


def test_short_passphrase_refused(keys: KeySet, tmp_path: Path) -> None:
    with pytest.raises(KeyInputRefused, match="至少 12 个字符"):
        export_keyset(keys, tmp_path / "keys.json", "short")
    assert not (tmp_path / "keys.json").exists()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda d: d.update(ct=d["ct"][:-6] + ("AAAAAA" if d["ct"][-6:] != "AAAAAA" else "BBBBBB")),
            "口令不正确",
        ),
        (lambda d: d.update(format="hall-desk-keyset/1"), "格式不符"),
        (lambda d: d.update(n=2**30), "已损坏"),
        (lambda d: d.pop("salt"), "已损坏"),
        (lambda d: d.update(nonce="***"), "已损坏"),
        (lambda d: d.update(fingerprint="000000000000"), "指纹不符"),
    ],
)
def test_damaged_export_refused(keys: KeySet, tmp_path: Path, change: object, message: str) -> None:
    out = tmp_path / "keys.json"
    export_keyset(keys, out, PASSPHRASE)
    data = json.loads(out.read_text(encoding="utf-8"))
    change(data)  # type: ignore[operator]
    out.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(KeyInputRefused, match=message):
        import_keyset(out, PASSPHRASE)


def test_not_an_export(tmp_path: Path) -> None:
    junk = tmp_path / "junk.json"
    junk.write_text("not json at all", encoding="utf-8")
    with pytest.raises(KeyInputRefused, match="不是本系统的密钥导出文件"):
        import_keyset(junk, PASSPHRASE)
    with pytest.raises(KeyInputRefused, match="不存在"):
        import_keyset(tmp_path / "missing.json", PASSPHRASE)
