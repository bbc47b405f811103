"""The field vault: sealing, the field name bound as associated data, wrong keys, rotation."""

from __future__ import annotations

import pytest

from desk.security.vault import KeySet, Vault, VaultError, is_sealed, key_id_of


@pytest.fixture
def vault() -> Vault:
    return Vault(KeySet.generate())


def test_round_trip(vault: Vault) -> None:
    sealed = vault.seal("甘州区东街街道1号", field="address")
    assert sealed is not None and is_sealed(sealed) and key_id_of(sealed) == "k1"
    assert "东街" not in sealed
    assert vault.open(sealed, field="address") == "甘州区东街街道1号"


def test_each_seal_differs(vault: Vault) -> None:
    assert vault.seal("13912345678", field="phone") != vault.seal("13912345678", field="phone")


def test_empty_and_plaintext_pass(vault: Vault) -> None:
    assert vault.seal("", field="address") == ""
    assert vault.seal(None, field="phone") is None
    assert vault.open("登记于加密之前", field="narrative") == "登记于加密之前"


def test_field_name_is_bound(vault: Vault) -> None:
    sealed = vault.seal("13912345678", field="phone")
    with pytest.raises(VaultError):
        vault.open(sealed, field="address")


def test_wrong_key_refused(vault: Vault) -> None:
    sealed = vault.seal("13912345678", field="phone")
    with pytest.raises(VaultError, match="密钥不符"):
        Vault(KeySet.generate()).open(sealed, field="phone")


def test_missing_key_says_import(vault: Vault) -> None:
    sealed = vault.seal("x", field="narrative")
    other = Vault(KeySet.generate(kid="k7"))
    with pytest.raises(VaultError, match="desk keys import"):
        other.open(sealed, field="narrative")


def test_damaged_value_refused(vault: Vault) -> None:
    sealed = vault.seal("13912345678", field="phone")
    assert sealed is not None
    with pytest.raises(VaultError):
        vault.open(sealed[:-3] + ("A" if sealed[-3] != "A" else "B") + sealed[-2:], field="phone")


def test_rotation_opens_old_and_reseals_new(vault: Vault) -> None:
    old = vault.seal("邻居堆放杂物", field="narrative")
    rotated = Vault(vault.keys.rotated())
    assert rotated.current == "k2"
    assert rotated.open(old, field="narrative") == "邻居堆放杂物"
    new = rotated.reseal(old, field="narrative")
    assert new is not None and key_id_of(new) == "k2"
    assert rotated.reseal(new, field="narrative") == new  # already current: unchanged
    only_new = Vault(rotated.keys.without_old())
    assert only_new.open(new, field="narrative") == "邻居堆放杂物"
    with pytest.raises(VaultError):
        only_new.open(old, field="narrative")


def test_index_is_keyed_and_stable(vault: Vault) -> None:
    a = vault.index("id", "62070219850101123X")
    assert a == vault.index("id", "62070219850101123X")
    assert a != vault.index("phone", "62070219850101123X")
    assert a != Vault(KeySet.generate()).index("id", "62070219850101123X")
    assert Vault(vault.keys.rotated()).index("id", "62070219850101123X") == a  # the index key never rotates


def test_keyset_json_round_trip(vault: Vault) -> None:
    keys = vault.keys.rotated("2026-12-08")
    assert KeySet.from_json(keys.to_json()) == keys
    with pytest.raises(VaultError):
        KeySet.from_json({"format": "other"})


@pytest.mark.parametrize(
    "change",
    [
        lambda d: d.update(current="k9"),
        lambda d: d.update(index_key="c2hvcnQ"),
        lambda d: d["data_keys"].update(k1="c2hvcnQ"),
        lambda d: d.pop("index_key"),
        lambda d: d.update(data_keys=[]),
    ],
)
def test_damaged_keyset_refused(vault: Vault, change: object) -> None:
    data: dict[str, object] = vault.keys.to_json()
    change(data)  # type: ignore[operator]
    with pytest.raises(VaultError, match="已损坏"):
        KeySet.from_json(data)
