"""Nothing personal or secret in logs and messages: bad inputs, a damaged store and database errors are driven
through the real commands and the window's logging, then every log and every message is searched for the ID
numbers, phones and status tokens used."""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import stat
import subprocess
import sys
import traceback
from pathlib import Path

import pytest
import sqlalchemy as sa

from desk.config import Settings, load_settings, save_settings
from desk.store.session import open_store
from tests.conftest import valid_id, visit

ID = valid_id("62070219850101123")
OTHER_ID = valid_id("62070219921231004")
PHONE = "13912345678"
OTHER_PHONE = "13798765432"


def desk(*args: str, db: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "desk", *args, "--db", db],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )


def secrets_in(text: str, secrets: list[str]) -> list[str]:
    return [s for s in secrets if s in text]


def all_logs(log_dir: Path) -> str:
    return "".join(p.read_text(encoding="utf-8") for p in log_dir.rglob("*") if p.is_file())


def _token_of(url: str) -> str:
    store = open_store(url)
    try:
        with store.read() as s:
            return str(s.execute(sa.text("SELECT status_token FROM cases")).scalar_one())
    finally:
        store.dispose()


def test_bad_inputs_and_a_damaged_store_leave_no_personal_data_in_messages_or_logs(tmp_path: Path) -> None:
    log_dir = tmp_path / "log"
    env = dict(os.environ, DESK_LOG_DIR=str(log_dir), DESK_DATA_DIR=str(tmp_path / "data"))
    env["DESK_CONFIG_DIR"] = str(tmp_path / "config")
    db_file = tmp_path / "hall.db"
    db = f"sqlite:///{db_file}"
    assert desk("init", db=db, env=env).returncode == 0
    good = tmp_path / "good.json"
    good.write_text(json.dumps(visit(), ensure_ascii=False), encoding="utf-8")
    r = desk("register", "--file", str(good), db=db, env=env)
    assert r.returncode == 0, r.stderr
    token = _token_of(db)
    secrets = [ID, PHONE, OTHER_ID, OTHER_PHONE, token, ID[:6] + "-" + ID[6:]]

    outputs: list[str] = []
    bad_id = OTHER_ID[:-1] + ("0" if OTHER_ID[-1] != "0" else "1")  # a wrong check character
    bad_visits: list[object] = [
        visit(parties=[{"role": "applicant", "name": "李四", "id_number": bad_id, "phone": OTHER_PHONE}]),
        visit(parties=[{"role": "applicant", "name": OTHER_ID, "phone": OTHER_PHONE}]),
        visit(parties=[{"role": "applicant", "name": "李四", "phone": OTHER_PHONE + "9"}]),
        visit(narrative=f"电话{OTHER_PHONE}\x07身份证{OTHER_ID}"),
        visit(parties=[{"role": "applicant", "name": ["李四"], "id_number": [OTHER_ID]}]),
        visit(parties=[{"role": "applicant", "name": "李四", "id_number": int(OTHER_ID[:-1])}]),
        [OTHER_ID, OTHER_PHONE],
    ]
    for i, data in enumerate(bad_visits):
        f = tmp_path / f"bad{i}.json"
        f.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        r = desk("register", "--file", str(f), db=db, env=env)
        assert r.returncode != 0, data
        assert "Traceback" not in r.stderr
        outputs += [r.stdout, r.stderr]
    r = desk("cases", "--search", OTHER_ID, db=db, env=env)  # a search for a number nobody has
    outputs += [r.stdout, r.stderr]

    # the store damaged in the middle: every command refuses, saying so in Chinese, and leaks nothing
    raw = sqlite3.connect(db_file)  # everything in the file itself, none of it in the WAL
    raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    raw.close()
    data = bytearray(db_file.read_bytes())
    for at in range(4096, len(data) - 4096, 4096 * 3):
        data[at : at + 300] = os.urandom(300)  # page headers: what a bad sector does
    db_file.write_bytes(bytes(data))
    for args in (("cases", "--search", "张三"), ("rooms",), ("call", "--room", "R01")):
        r = desk(*args, db=db, env=env)
        assert r.returncode != 0
        assert "Traceback" not in r.stderr
        outputs += [r.stdout, r.stderr]

    leaked = secrets_in("\n".join(outputs), secrets) + secrets_in(all_logs(log_dir), secrets)
    assert leaked == []


@pytest.mark.postgres
def test_a_database_error_echoing_a_row_is_scrubbed_in_the_log_and_the_message(
    pg_database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """PostgreSQL echoes the offending value in its error; the window's log and a command's message scrub it,
    and SQLAlchemy's message carries no bound parameters."""
    pytest.importorskip("PySide6")
    from desk import cli
    from desk.app import setup_logging, teardown_logging

    store = open_store(pg_database)
    try:
        with pytest.raises(sa.exc.DataError) as caught, store.unit_of_work() as s:
            s.execute(sa.text("SELECT CAST(:v AS integer), :p"), {"v": ID, "p": PHONE})
    finally:
        store.dispose()
    error = caught.value
    for e in (error, error.__cause__, error.__context__):  # the frames would keep the connection alive
        if e is not None and e.__traceback__ is not None:
            traceback.clear_frames(e.__traceback__)
    assert ID in str(error.orig)  # the driver says it...
    assert PHONE not in str(error)  # ...the bound parameters are hidden

    path, handlers = setup_logging(tmp_path / "gui-log")
    try:
        logging.getLogger("desk.ui.test").error("registration failed", exc_info=error)
        logging.getLogger("desk.ui.test").warning("row %s", error)
    finally:
        teardown_logging(handlers)
    text = path.read_text(encoding="utf-8")
    console = capsys.readouterr().err  # the window's warnings on stderr
    assert "DataError" in text and "registration failed" in text and "registration failed" in console
    assert secrets_in(text + console, [ID, PHONE]) == []
    assert stat.S_IMODE(path.stat().st_mode) == 0o600

    # the same error inside a command: a Chinese message, the scrubbed traceback in the log file
    from desk.services.registration import RegistrationService

    def fail(*_a: object, **_k: object) -> None:
        raise error

    monkeypatch.setattr(RegistrationService, "search", fail)
    monkeypatch.setenv("DESK_LOG_DIR", str(tmp_path / "cli-log"))
    code = cli.main(["cases", "--search", "张三", "--db", pg_database])
    out, err = capsys.readouterr()
    assert code == cli.EXIT_ERROR
    assert "程序出现意外错误（DataError）" in err and "Traceback" not in err
    logged = all_logs(tmp_path / "cli-log")
    assert "DataError" in logged
    assert secrets_in(out + err + logged, [ID, PHONE]) == []


def test_settings_and_the_store_file_are_readable_by_the_owner_only(tmp_path: Path) -> None:
    if os.name != "posix":
        pytest.skip("file modes are POSIX")
    old = os.umask(0o022)
    try:
        path = tmp_path / "config" / "settings.json"
        save_settings(Settings(county_db_url="postgresql://hall:secret@county/desk"), path)
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert load_settings(path).county_db_url.endswith("@county/desk")
        path.chmod(0o644)  # written by hand: tightened when read
        load_settings(path)
        assert stat.S_IMODE(path.stat().st_mode) == 0o600

        db_file = tmp_path / "store.db"
        store = open_store(f"sqlite:///{db_file}")
        try:
            with store.unit_of_work() as s:
                s.execute(sa.text("SELECT 1"))
        finally:
            store.dispose()
        for f in tmp_path.glob("store.db*"):
            assert stat.S_IMODE(f.stat().st_mode) == 0o600, f
    finally:
        os.umask(old)
