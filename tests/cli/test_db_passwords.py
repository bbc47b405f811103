"""Database passwords live in the key store, never in settings.json: `desk settings set` takes them out, an old
settings file is rewritten without them, the sync engine puts the county's back when it connects, and
`desk settings show` never shows them. The status server connects with its own address (status_db_url)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from desk import cli
from desk.config import (
    SettingError,
    check_status_db_url,
    config_file,
    load_settings,
    save_settings,
    split_password,
    with_stored_password,
)
from desk.security.keys import key_file_path, load_secret, save_secret

PASSWORD = "s3cr%3At-p@ss"  # percent-encoded ':' inside, and an '@' that is encoded in the URL below
URL_PASSWORD = "s3cr:t-p@ss"  # what the URL's password means
COUNTY = "postgresql+psycopg://desk_sync:s3cr%3At-p%40ss@county.lan:5432/county"
BARE = "postgresql+psycopg://desk_sync@county.lan:5432/county"


@pytest.fixture(autouse=True)
def _own_key_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A key file of this test's own: the passwords kept here must not reach the session's (shared) one."""
    monkeypatch.setenv("DESK_KEY_FILE", str(tmp_path / "keys" / "keyset.json"))


def _file() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(config_file().read_text(encoding="utf-8"))
    return data


def _nowhere(text: str) -> None:
    assert URL_PASSWORD not in text and "s3cr%3At" not in text and "s3cr" not in text


def test_settings_set_keeps_the_password_in_the_key_store(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["settings", "set", "county_db_url", COUNTY]) == 0
    out, err = capsys.readouterr()
    assert "密码已存入密钥存储" in out
    _nowhere(out + err)
    assert _file()["county_db_url"] == BARE
    _nowhere(config_file().read_text(encoding="utf-8"))
    assert load_secret("county_password") == URL_PASSWORD
    assert key_file_path().stat().st_mode & 0o077 == 0  # the key file: its owner's only

    assert cli.main(["settings", "show"]) == 0
    out, err = capsys.readouterr()
    assert f"county_db_url = {BARE}（密码另存于密钥存储，不显示）" in out
    _nowhere(out + err)

    # a new address without a password keeps the kept one; with the stored one, the engine connects
    assert cli.main(["settings", "set", "county_db_url", BARE.replace("county.lan", "county2.lan")]) == 0
    assert load_secret("county_password") == URL_PASSWORD
    assert with_stored_password(load_settings().county_db_url).startswith(
        "postgresql+psycopg://desk_sync:s3cr%3At-p%40ss@county2.lan"
    )


def test_an_old_settings_file_is_rewritten_without_its_password(caplog: pytest.LogCaptureFixture) -> None:
    path = config_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps({"county_db_url": COUNTY, "status_base_url": "https://zz.gzq.gov.cn/s/"}), "utf-8"
    )
    settings = load_settings()
    assert settings.county_db_url == BARE and settings.status_base_url == "https://zz.gzq.gov.cn/s/"
    assert _file() == {"county_db_url": BARE, "status_base_url": "https://zz.gzq.gov.cn/s/"}
    assert load_secret("county_password") == URL_PASSWORD
    _nowhere(caplog.text)
    assert load_settings().county_db_url == BARE  # and again: nothing left to move


def test_a_password_that_cannot_be_told_apart_is_left_for_the_check_to_refuse() -> None:
    raw = (
        "postgresql+psycopg://desk:p@ss@county.lan/county"  # an unencoded @: not moved, refused by its check
    )
    assert split_password(raw) == (raw, None)
    assert split_password("garbage") == ("garbage", None)
    assert split_password(BARE) == (BARE, None)
    assert split_password(COUNTY) == (BARE, URL_PASSWORD)


def test_save_settings_never_writes_a_password() -> None:
    from desk.config import Settings

    save_settings(Settings(county_db_url=COUNTY, status_db_url=COUNTY.replace("desk_sync", "desk_status")))
    _nowhere(config_file().read_text(encoding="utf-8"))
    assert load_secret("county_password") == load_secret("status_db_password") == URL_PASSWORD


def test_the_sync_engine_adds_the_password_back_when_it_connects() -> None:
    from desk.sync.engine import Syncer, open_county, safe_url

    save_secret("county_password", URL_PASSWORD)
    store = open_county(BARE)
    try:
        assert store.engine.url.password == URL_PASSWORD and store.engine.url.host == "county.lan"
    finally:
        store.dispose()
    # its own password wins over the kept one; what is shown or logged never has one
    store = open_county(BARE.replace("desk_sync@", "desk_sync:other@"))
    try:
        assert store.engine.url.password == "other"
    finally:
        store.dispose()
    _nowhere(safe_url(with_stored_password(BARE)))
    assert Syncer.__init__  # the syncer keeps the bare URL; open_county is where the password joins it


def test_status_db_url_is_checked_in_chinese(capsys: pytest.CaptureFixture[str]) -> None:
    assert check_status_db_url("") == ""
    good = "postgresql+psycopg://desk_status@127.0.0.1:5432/county"
    assert check_status_db_url(f" {good} ") == good
    for bad, says in [
        ("sqlite:////tmp/x.db", "SQLite 库没有数据库账号"),
        ("postgresql+psycopg://127.0.0.1/county", "缺少用户名"),
        ("postgresql+psycopg://desk_status@127.0.0.1", "缺少库名"),
        ("mysql://desk_status@h/db", "须为 PostgreSQL"),
        ("garbage", "无法识别"),
        (3, "应为文本"),
    ]:
        with pytest.raises(SettingError, match=says):
            check_status_db_url(bad)
    assert cli.main(["settings", "set", "status_db_url", "sqlite:////tmp/x.db"]) == 2
    assert "status_db_url" in capsys.readouterr().err
    with_pw = good.replace("desk_status@", "desk_status:st%40tus@")
    assert cli.main(["settings", "set", "status_db_url", with_pw]) == 0
    out, _ = capsys.readouterr()
    assert "st@tus" not in out and "st%40tus" not in out
    assert _file()["status_db_url"] == good and load_secret("status_db_password") == "st@tus"


def test_the_status_server_uses_its_own_address(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from desk.status import app as status_app

    seen: dict[str, Any] = {}
    monkeypatch.setattr(status_app, "serve", lambda url, **kw: seen.update(url=url))
    owner = "postgresql+psycopg://postgres@127.0.0.1:5432/county"
    monkeypatch.setenv("DESK_DB_URL", owner)
    assert cli.main(["status-server"]) == 0
    assert seen["url"] == owner and "不是最小权限" in capsys.readouterr().err

    status = "postgresql+psycopg://desk_status:pw@127.0.0.1:5432/county"
    assert cli.main(["settings", "set", "status_db_url", status]) == 0
    capsys.readouterr()
    assert cli.main(["status-server"]) == 0
    assert seen["url"] == status  # the password back from the key store, for connecting only
    out, err = capsys.readouterr()
    assert "不是最小权限" not in err and "pw@" not in out + err
    # --db still names the store outright; a SQLite store has no roles and no warning
    assert cli.main(["status-server", "--db", "sqlite:////tmp/x.db"]) == 0
    assert seen["url"] == "sqlite:////tmp/x.db" and "不是最小权限" not in capsys.readouterr().err


def test_the_key_file_is_the_tests_own(tmp_path: Path) -> None:
    assert key_file_path().is_relative_to(tmp_path)
