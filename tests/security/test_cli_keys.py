"""`desk keys`: show, export, import, rotate, reseal -- exit codes, Chinese messages, and never a key or a
passphrase in the output."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from desk.cli import main
from desk.security import keys as k
from desk.security.vault import KeySet, Vault, _b64, key_id_of
from desk.services.registration import RegistrationService
from desk.store.session import Store
from tests.conftest import visit

PASSPHRASE = "县级中心 correct horse"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["keys", *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def _material(keys: KeySet) -> list[str]:
    return [_b64(v) for v in keys.data_keys.values()] + [_b64(keys.index_key)]


@pytest.fixture
def passphrase_file(tmp_path: Path) -> Path:
    path = tmp_path / "passphrase.txt"
    path.write_text(PASSPHRASE + "\n", encoding="utf-8")
    return path


def test_show(capsys: pytest.CaptureFixture[str], key_file: Path) -> None:
    code, _, err = run(capsys, "show")
    assert code == 1 and "本机尚无数据密钥" in err
    keys = KeySet.generate(created="2026-12-08").rotated("2026-12-09")
    k.save_keyset(keys)
    code, out, _ = run(capsys, "show")
    assert code == 0
    assert f"密钥指纹：{keys.fingerprint()}" in out
    assert "当前密钥：k2" in out and "k1（2026-12-08），k2（2026-12-09）" in out
    assert str(key_file) in out
    for m in _material(keys):
        assert m not in out


def test_show_keyring(capsys: pytest.CaptureFixture[str], memory_keyring: object) -> None:
    k.save_keyset(KeySet.generate())
    code, out, _ = run(capsys, "show")
    assert code == 0 and "存放位置：系统密钥环" in out


def test_export_then_import_elsewhere(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, passphrase_file: Path, key_file: Path
) -> None:
    keys = KeySet.generate()
    k.save_keyset(keys)
    out_file = tmp_path / "county-keys.json"
    code, out, err = run(capsys, "export", "--out", str(out_file), "--passphrase-file", str(passphrase_file))
    assert code == 0, err
    assert keys.fingerprint() in out
    assert PASSPHRASE not in out + err
    for m in _material(keys):
        assert m not in out + err + out_file.read_text(encoding="utf-8")

    code, _, err = run(capsys, "export", "--out", str(out_file), "--passphrase-file", str(passphrase_file))
    assert code == 2 and "已存在" in err  # never overwritten

    key_file.unlink()  # another machine: no keys yet
    code, out, err = run(capsys, "import", str(out_file), "--passphrase-file", str(passphrase_file))
    assert code == 0, err
    assert k.load_keyset() == keys
    code, out, _ = run(capsys, "import", str(out_file), "--passphrase-file", str(passphrase_file))
    assert code == 0 and "无需导入" in out


def test_export_prompts_twice(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    k.save_keyset(KeySet.generate())
    answers = iter([PASSPHRASE, PASSPHRASE + "?"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    code, _, err = run(capsys, "export", "--out", str(tmp_path / "x.json"))
    assert code == 2 and "不一致" in err
    assert not (tmp_path / "x.json").exists()
    monkeypatch.setattr("getpass.getpass", lambda prompt="": "too short")
    code, _, err = run(capsys, "export", "--out", str(tmp_path / "x.json"))
    assert code == 2 and "至少 12 个字符" in err


def test_import_refusals(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, passphrase_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    county = KeySet.generate()
    export = tmp_path / "county.json"
    k.export_keyset(county, export, PASSPHRASE)
    mine = KeySet.generate()
    k.save_keyset(mine)

    monkeypatch.setattr("getpass.getpass", lambda prompt="": "not the passphrase")
    code, _, err = run(capsys, "import", str(export))
    assert code == 2 and "口令不正确" in err

    code, _, err = run(capsys, "import", str(export), "--passphrase-file", str(passphrase_file))
    assert code == 2 and "另一套数据密钥" in err and "--replace" in err
    assert k.load_keyset() == mine

    code, _, err = run(capsys, "import", str(export), "--passphrase-file", str(passphrase_file), "--replace")
    assert code == 0 and "替换" in err
    assert k.load_keyset() == county


def test_import_merges_a_rotation_of_the_same_keys(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, passphrase_file: Path
) -> None:
    hall = KeySet.generate()
    k.save_keyset(hall)
    county = hall.rotated()  # the county rotated and sends the new set
    export = tmp_path / "county.json"
    k.export_keyset(county, export, PASSPHRASE)
    code, out, _ = run(capsys, "import", str(export), "--passphrase-file", str(passphrase_file))
    assert code == 0 and "当前密钥 k2" in out
    assert k.load_keyset() == county
    # an older export does not take the hall back to k1
    old = tmp_path / "old.json"
    k.export_keyset(hall, old, PASSPHRASE)
    code, out, _ = run(capsys, "import", str(old), "--passphrase-file", str(passphrase_file))
    assert code == 0 and k.require_keyset().current == "k2"

    # the same id standing for another key (both sides rotated on their own): refused
    clash = KeySet(hall.current, {"k1": hall.data_keys["k1"], "k2": b"\x01" * 32}, hall.index_key)
    k.export_keyset(clash, tmp_path / "clash.json", PASSPHRASE)
    code, _, err = run(
        capsys, "import", str(tmp_path / "clash.json"), "--passphrase-file", str(passphrase_file)
    )
    assert code == 2 and "同一密钥编号" in err


def _narratives(store: Store) -> list[str]:
    with store.read() as s:
        return list(s.scalars(sa.text("SELECT narrative FROM cases")))


def test_rotate_reseals_and_drops_old(
    capsys: pytest.CaptureFixture[str],
    sqlite_store: Store,
    sqlite_service: RegistrationService,
    sqlite_url: str,
) -> None:
    sqlite_service.register(visit())
    keys = KeySet.generate()
    k.save_keyset(keys)

    code, out, err = run(capsys, "reseal", "--db", sqlite_url)
    assert code == 0, err
    assert [key_id_of(n) for n in _narratives(sqlite_store)] == ["k1"]

    code, out, err = run(capsys, "rotate", "--db", sqlite_url)
    assert code == 0, err
    assert "已生成新密钥 k2" in out and "重新加密完成" in out and "案件 1 条" in out
    rotated = k.require_keyset()
    assert rotated.current == "k2" and set(rotated.data_keys) == {"k1", "k2"}
    assert [key_id_of(n) for n in _narratives(sqlite_store)] == ["k2"]

    code, out, err = run(capsys, "rotate", "--db", sqlite_url, "--drop-old")
    assert code == 0, err
    assert "已删除旧密钥：k1，k2" in out
    final = k.require_keyset()
    assert set(final.data_keys) == {"k3"}
    assert Vault(final).open(_narratives(sqlite_store)[0], field="narrative") == visit()["narrative"]
    for m in _material(final) + _material(rotated):
        assert m not in out + err


def test_rotate_refuses_a_store_that_is_not_there(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    keys = KeySet.generate()
    k.save_keyset(keys)
    code, _, err = run(capsys, "rotate", "--db", f"sqlite:///{tmp_path / 'nowhere.db'}")
    assert code == 1 and err.startswith("错误：")
    assert k.require_keyset() == keys  # no key changed
