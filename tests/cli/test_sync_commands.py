"""`desk county init|divert|halls` and `desk sync`, as real processes: two halls on SQLite, one on PostgreSQL,
a county on PostgreSQL."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli.test_commands import desk, write
from tests.conftest import create_pg_database, drop_pg_database, valid_id, visit

pytestmark = pytest.mark.postgres


@pytest.fixture
def county_db(pg_server: str) -> object:
    name, url = create_pg_database(pg_server)
    yield url
    drop_pg_database(pg_server, name)


@pytest.fixture
def pg_hall_db(pg_server: str) -> object:
    name, url = create_pg_database(pg_server)
    yield url
    drop_pg_database(pg_server, name)


def test_two_sqlite_halls_and_a_postgres_hall_sync_with_the_county(
    county_db: str, pg_hall_db: str, tmp_path: Path
) -> None:
    r = desk("county", "init", "--code", "620702", "--name", "甘州区综治中心", db=county_db)
    assert r.returncode == 0, r.stderr
    assert "县级库 620702 甘州区综治中心" in r.stdout
    halls = {
        "620702001": f"sqlite:///{tmp_path / 'a.db'}",
        "620702002": f"sqlite:///{tmp_path / 'b.db'}",
        "620702003": pg_hall_db,
    }
    cases: dict[str, str] = {}
    for i, (code, url) in enumerate(halls.items()):
        assert desk("init", "--hall-code", code, "--hall-name", f"第{i + 1}综治中心", db=url).returncode == 0
        person = visit(
            parties=[
                {
                    "role": "applicant",
                    "name": f"王{'一二三'[i]}",
                    "id_number": valid_id(f"62070219850101{i}23"),
                }
            ]
        )
        r = desk("register", "--file", write(tmp_path, person, f"v{i}.json"), db=url)
        assert r.returncode == 0, r.stderr
        cases[code] = r.stdout.strip()
    # all three halls sync at once
    runs = [
        subprocess.Popen(
            [sys.executable, "-m", "desk", "sync", "--county", county_db, "--once", "--db", url],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for url in halls.values()
    ]
    for run in runs:
        out, err = run.communicate(timeout=60)
        assert run.returncode == 0, err
        # the registration and its deadline (and, counted by today's date, the calendar's warning)
        assert re.search(r"上传 [23] 条", out) and "目录已更新" in out

    r = desk("county", "halls", "--json", db=county_db)
    listed = {h["code"]: h for h in json.loads(r.stdout)}
    assert set(listed) == set(halls)
    assert all(h["acked_seq"] in (2, 3) for h in listed.values())

    # the county registers a visit and diverts it to the second hall; only that hall receives it
    r = desk(
        "county",
        "divert",
        "--file",
        write(tmp_path, visit(), "d.json"),
        "--to-hall",
        "620702002",
        "--reason",
        "属地管辖",
        db=county_db,
    )
    assert r.returncode == 0, r.stderr
    diverted = r.stdout.strip()
    assert diverted.startswith("620702-2026-") or diverted.startswith("620702-")
    assert "已分流至 620702002" in r.stderr
    for code, url in halls.items():
        r = desk("sync", "--county", county_db, db=url)
        assert r.returncode == 0, r.stderr
        found = desk("cases", "--search", diverted, "--json", db=url)
        rows = json.loads(found.stdout)
        assert (len(rows) == 1) == (code == "620702002")
    # the county holds every hall's case
    for case_no in cases.values():
        rows = json.loads(desk("cases", "--search", case_no, "--json", db=county_db).stdout)
        assert [x["case_no"] for x in rows] == [case_no]


def test_divert_to_an_unknown_hall_is_refused_and_writes_nothing(county_db: str, tmp_path: Path) -> None:
    assert desk("county", "init", db=county_db).returncode == 0
    r = desk("county", "divert", "--file", write(tmp_path, visit()), "--to-hall", "620702999", db=county_db)
    assert r.returncode == 2
    assert "620702999 尚未在县级库登记" in r.stderr
    rows = json.loads(desk("cases", "--search", "张三", "--json", db=county_db).stdout)
    assert rows == []


def test_sync_needs_a_county_and_never_prints_its_password(tmp_path: Path) -> None:
    hall = f"sqlite:///{tmp_path / 'h.db'}"
    assert desk("init", db=hall).returncode == 0
    r = desk("sync", db=hall)
    assert r.returncode == 1
    assert "未配置县级数据库" in r.stderr
    # from the environment; a closed port: a plain failure, the password nowhere
    r = desk(
        "sync", db=hall, env={"DESK_COUNTY_URL": "postgresql+psycopg://desk:S3cret-pw@127.0.0.1:1/county"}
    )
    assert r.returncode == 1
    assert "无法连接县级数据库" in r.stderr
    assert "S3cret-pw" not in r.stderr + r.stdout
    assert "desk:***@127.0.0.1:1" in r.stderr


def test_sync_every_runs_rounds_until_interrupted(county_db: str, tmp_path: Path) -> None:
    import signal
    import time

    hall = f"sqlite:///{tmp_path / 'h.db'}"
    assert desk("county", "init", db=county_db).returncode == 0
    assert desk("init", db=hall).returncode == 0
    proc = subprocess.Popen(
        [sys.executable, "-m", "desk", "sync", "--county", county_db, "--every", "0.3", "--db", hall],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    first = proc.stdout.readline()
    second = proc.stdout.readline()  # the next round, 0.3 s later
    time.sleep(0.1)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "目录已更新" in first and "上传 0 条，下载 0 条" in second
    assert "Traceback" not in err
