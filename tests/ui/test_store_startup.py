"""The window's start over a store that cannot be used (a dialog saying why, never a crash), and the daily backup
that the front desk's start makes."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from desk.app import main as app_main
from desk.config import default_db_url
from desk.core.clock import FixedClock
from desk.services.registration import RegistrationService
from desk.services.setup import init_hall
from desk.store.session import open_store
from desk.ui.main_window import MainWindow
from tests.conftest import NOW, add_tester, staff, valid_id, visit

ID_NUMBER = valid_id("62070219800101123")


@pytest.fixture
def shown(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The texts of the error dialogs the start shows (answered at once)."""
    texts: list[str] = []

    def critical(_parent: object, _title: str, text: str, *_args: object) -> QMessageBox.StandardButton:
        texts.append(text)
        return QMessageBox.StandardButton.Ok

    monkeypatch.setattr(QMessageBox, "critical", staticmethod(critical))
    return texts


def _store_with_a_visit(path: Path) -> None:
    store = open_store(f"sqlite:///{path}")
    init_hall(store)
    add_tester(store)
    parties = [{"role": "applicant", "name": "张三", "id_number": ID_NUMBER, "phone": "13912345678"}]
    RegistrationService(store, FixedClock(NOW), principal=staff("测试前台")).register(visit(parties=parties))
    store.dispose()


@pytest.mark.parametrize("role", ["desk", "room", "display", "kiosk"])
def test_a_damaged_store_is_a_dialog_not_a_crash(
    qapp: QApplication, tmp_path: Path, shown: list[str], role: str
) -> None:
    path = tmp_path / "desk.db"
    _store_with_a_visit(path)
    with path.open("r+b") as f:
        f.write(b"garbage!" * 8)
    assert app_main(db_url=f"sqlite:///{path}", role=role, room="R01") == 1
    assert len(shown) == 1
    assert shown[0].startswith(f"{path} 不是 SQLite 数据库文件") and "desk restore" in shown[0]
    assert ID_NUMBER not in shown[0] and "13912345678" not in shown[0]
    log = (Path(os.environ["DESK_LOG_DIR"]) / "desk.log").read_text(encoding="utf-8")
    assert ID_NUMBER not in log and "Traceback" not in log


def test_a_mistyped_store_path_is_a_dialog_and_creates_nothing(
    qapp: QApplication, tmp_path: Path, shown: list[str]
) -> None:
    typo = tmp_path / "dsek" / "desk.db"
    assert app_main(db_url=f"sqlite:///{typo}") == 1
    assert len(shown) == 1 and "找不到数据库文件" in shown[0] and "desk init" in shown[0]
    assert not typo.parent.exists()


def test_a_store_from_a_newer_version_is_a_dialog(
    qapp: QApplication, tmp_path: Path, shown: list[str]
) -> None:
    import sqlite3
    from contextlib import closing

    path = tmp_path / "desk.db"
    _store_with_a_visit(path)
    with closing(sqlite3.connect(path)) as db:
        db.execute("UPDATE alembic_version SET version_num = '20991231_0099'")
        db.commit()
    assert app_main(db_url=f"sqlite:///{path}") == 1
    assert len(shown) == 1 and "升级" in shown[0]


def _open_and_close(qapp: QApplication) -> None:
    def close() -> None:
        for w in QApplication.topLevelWidgets():
            if isinstance(w, MainWindow) and w.isVisible():
                w.close()
        qapp.quit()

    QTimer.singleShot(0, close)


def test_the_front_desk_start_makes_todays_backup_and_keeps_the_newest_n(
    qapp: QApplication, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DESK_NOW", "2026-12-07T09:30:00+08:00")
    backups = Path(os.environ["DESK_DATA_DIR"]) / "backups"
    config = Path(os.environ["DESK_CONFIG_DIR"])
    config.mkdir(parents=True)
    (config / "settings.json").write_text(json.dumps({"backup_keep": 2}), encoding="utf-8")

    _open_and_close(qapp)  # the first start creates the default store, and backs it up
    assert app_main(db_url=default_db_url()) == 0
    assert sorted(p.name for p in backups.iterdir()) == ["desk-20261207.db"]
    today = backups / "desk-20261207.db"
    assert stat.S_IMODE(today.stat().st_mode) == 0o600
    made = today.stat().st_mtime_ns

    for day in ("20261204", "20261205", "20261206"):
        (backups / f"desk-{day}.db").write_bytes(today.read_bytes())
    _open_and_close(qapp)
    assert app_main(db_url=default_db_url()) == 0
    assert sorted(p.name for p in backups.iterdir()) == ["desk-20261206.db", "desk-20261207.db"]
    assert today.stat().st_mtime_ns == made  # today's was there: not made again


def test_other_roles_make_no_backup(qapp: QApplication, tmp_path: Path) -> None:
    config = Path(os.environ["DESK_CONFIG_DIR"])
    config.mkdir(parents=True)
    (config / "settings.json").write_text('{"speech_engine": "mock"}', encoding="utf-8")  # never a real voice

    def close() -> None:
        for w in QApplication.topLevelWidgets():
            if w.isVisible():
                w.close()
        qapp.quit()

    QTimer.singleShot(0, close)
    assert app_main(db_url=default_db_url(), role="display") == 0
    assert not (Path(os.environ["DESK_DATA_DIR"]) / "backups").exists()
