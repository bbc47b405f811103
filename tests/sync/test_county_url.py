"""County URLs: every malformed address (a bad port, an unknown parameter, a wrong scheme, no host, garbage) is
one Chinese message from `parse_county_url` -- through `desk sync`, `desk county`, `desk settings set` and every
round the windows run -- never a traceback, never the password. A driver's English (a cancelled COPY) is said in
Chinese."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest
import sqlalchemy as sa

from desk.config import config_file
from desk.core.clock import SystemClock
from desk.store.session import Store
from desk.sync.engine import (
    CONNECT_TIMEOUT_S,
    Syncer,
    SyncError,
    parse_county_url,
    safe_url,
    sync_status,
)
from tests.sync.conftest import HALL_A, assert_plain_chinese

PASSWORD = "Zh1mA-kaI-men"
P = f"desk:{PASSWORD}"

MALFORMED = {
    f"postgresql+psycopg://{P}@county.lan:99999/county": "端口 99999 超出范围",
    f"postgresql+psycopg://{P}@county.lan:0/county": "端口 0 超出范围",
    f"postgresql+psycopg://{P}@county.lan:-5/county": "超出范围",
    f"postgresql+psycopg://{P}@county.lan:abc/county": "端口应为 1–65535 的数字",
    f"postgresql+psycopg://{P}@county.lan:/county": "端口应为",
    f"postgresql+psycopg://{P}@county.lan:5432:1/county": "端口应为",
    f"postgresql+psycopg://{P}@county.lan/county?foo=1": "不认识的参数 foo",
    f"postgresql+psycopg://{P}@county.lan/county?host=/tmp": "不认识的参数 host",
    f"postgresql+psycopg://{P}@county.lan/county?sslmode=sometimes": "参数 sslmode 的值无效",
    f"postgresql+psycopg://{P}@county.lan/county?connect_timeout=soon": "参数 connect_timeout 的值无效",
    f"postgresql+psycopg://{P}@county.lan/county?connect_timeout=": "",  # empty: dropped, the default used
    f"postgresql+psycopg://{P}@county.lan/county?sslmode=require&sslmode=disable": "不止一次",
    f"mysql://{P}@county.lan/county": "不能是 mysql://",
    f"http://{P}@county.lan/county": "不能是 http://",
    "sqlite:///county.db": "不能是 sqlite://",
    f"postgresql+psycopg2://{P}@county.lan/county": "不支持的驱动",
    f"postgresql+asyncpg://{P}@county.lan/county": "不支持的驱动",
    f"postgresql+psycopg://{P}@/county": "缺少主机名",
    f"postgresql+psycopg://{P}@county.lan": "缺少库名",
    f"postgresql+psycopg://{P}@county.lan/": "缺少库名",
    # a password with an @ written as it is: the part after it looks like the host
    "postgresql+psycopg://desk:Zh1m@A-kaI-men@county.lan/county": "须写成 %40",
    f"postgresql+psycopg://{P}@county .lan/county": "空白",
    f"postgresql+psycopg://{P}@county.lan/county\n": "",  # a trailing newline from a file is stripped: valid
    "这不是地址": "无法识别",
    "garbage": "无法识别",
    "://": "无法识别",
    "   ": "地址为空",
    f"{PASSWORD}": "无法识别",
    f"postgresql+psycopg://{P}@county.lan/co\x00unty": "控制字符",
}
VALID = [
    "postgresql+psycopg://desk@county.lan/county",
    "postgresql://desk@county.lan:6543/county",
    f"postgresql+psycopg://desk:{PASSWORD}@10.1.2.3:5432/county?sslmode=verify-full&sslrootcert=/etc/ca.pem",
    "postgresql+psycopg://desk@[2001:db8::5]:5432/county?connect_timeout=3&application_name=hall",
    "postgresql+psycopg://desk:p%40ss%2Fw%3Ard@county.lan/county",
    "postgresql+psycopg://desk:pa:ss?x=1#y@county.lan/county",  # : ? # in a password are read as its own
]


@pytest.mark.parametrize(("url", "says"), MALFORMED.items())
def test_a_malformed_county_url_is_one_chinese_message_without_the_password(url: str, says: str) -> None:
    if not says:
        parse_county_url(url)
        return
    with pytest.raises(SyncError) as refused:
        parse_county_url(url)
    e = refused.value
    assert_plain_chinese(e)
    assert e.message.startswith("县级数据库地址无效：") and says in e.message, e.message
    assert "postgresql+psycopg://用户:密码@主机:5432/库名" in e.message  # what it should look like
    for secret in (PASSWORD, "Zh1m", "A-kaI-men", "\x00"):
        assert secret not in e.message and secret not in repr(e)
    assert safe_url(url) == "（无效的地址）" or PASSWORD not in safe_url(url)


def test_a_county_url_that_is_not_text_is_refused() -> None:
    for value in (5, None, ["postgresql+psycopg://h/c"]):
        with pytest.raises(SyncError, match="应为文本"):
            parse_county_url(value)  # type: ignore[arg-type]


@pytest.mark.parametrize("url", VALID)
def test_a_valid_county_url_gets_a_connect_timeout(url: str) -> None:
    u = parse_county_url(url)
    assert u.query["connect_timeout"] == ("3" if "connect_timeout=3" in url else str(CONNECT_TIMEOUT_S))
    assert u.get_backend_name() == "postgresql"


def test_a_round_on_a_malformed_url_records_the_message_for_every_terminal(
    make_hall: Callable[..., Store],
) -> None:
    """The windows' sync: `county_syncer` makes the syncer; the round says what is wrong (the bad port used to
    escape as a ValueError, "an unexpected error" in the sync corner)."""
    from desk.services.root import county_syncer

    hall = make_hall(HALL_A)
    for url in (f"postgresql+psycopg://{P}@county.lan:abc/county", f"mysql://{P}@county.lan/county"):
        syncer = county_syncer(hall, url, SystemClock())
        with pytest.raises(SyncError) as failed:
            syncer.run_once()
        assert_plain_chinese(failed.value, secret=PASSWORD)
        assert sync_status(hall).last_error == failed.value.message
        assert failed.value.message.startswith("县级数据库地址无效")


# --- the commands -----------------------------------------------------------------------------------------------


def desk(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "desk", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
    )


@pytest.fixture
def hall_db(make_hall: Callable[..., Store], tmp_path: Path) -> str:
    make_hall(HALL_A).dispose()
    return f"sqlite:///{tmp_path / f'hall-{HALL_A}.db'}"


@pytest.mark.parametrize(
    ("url", "says"),
    [
        (f"postgresql+psycopg://{P}@county.lan:99999/county", "端口 99999 超出范围"),
        (f"postgresql+psycopg://{P}@county.lan:abc/county", "端口应为"),
        (f"postgresql+psycopg://{P}@county.lan/county?foo=1", "不认识的参数 foo"),
        (f"mysql://{P}@county.lan/county", "不能是 mysql://"),
        (f"postgresql+psycopg://{P}@/county", "缺少主机名"),
        ("garbage", "无法识别"),
    ],
)
def test_desk_sync_says_what_is_wrong_and_where_it_came_from(hall_db: str, url: str, says: str) -> None:
    sources = [
        (["--county", url], {}, "来自 --county"),
        ([], {"DESK_COUNTY_URL": url}, "来自 环境变量 DESK_COUNTY_URL"),
    ]
    config_file().parent.mkdir(parents=True, exist_ok=True)
    config_file().write_text(json.dumps({"county_db_url": url}), encoding="utf-8")
    sources.append(([], {}, "来自 设置文件的 county_db_url"))
    for extra, env, source in sources:
        r = desk("sync", "--once", "--db", hall_db, *extra, env=env)
        assert r.returncode == 1, r.stderr
        assert r.stderr.startswith("错误：县级数据库地址无效：") and says in r.stderr and source in r.stderr
        assert "Traceback" not in r.stderr and PASSWORD not in r.stderr + r.stdout


def test_desk_county_and_desk_settings_check_the_url_too(hall_db: str) -> None:
    bad = f"postgresql+psycopg://{P}@county.lan:abc/county"
    for args in (("county", "halls", "--db", bad), ("county", "init", "--db", bad)):
        r = desk(*args)
        assert r.returncode == 1 and "县级数据库地址无效" in r.stderr, r.stderr
        assert "Traceback" not in r.stderr and PASSWORD not in r.stderr
    r = desk("county", "halls", env={"DESK_COUNTY_URL": f"mysql://{P}@county.lan/county"})
    assert r.returncode == 1 and "不能是 mysql://" in r.stderr
    r = desk("settings", "set", "county_db_url", bad)
    assert r.returncode == 2 and "端口应为" in r.stderr and PASSWORD not in r.stderr
    assert not config_file().exists()
    good = f"postgresql+psycopg://{P}@county.lan/county"
    r = desk("settings", "set", "county_db_url", good)
    assert r.returncode == 0 and "desk:***@county.lan/county" in r.stdout and PASSWORD not in r.stdout
    # the password went to the key store (issue 13): the settings file holds the address without it
    assert json.loads(config_file().read_text(encoding="utf-8"))["county_db_url"] == good.replace(
        f"{P}@", "desk@"
    )
    assert PASSWORD not in config_file().read_text(encoding="utf-8")
    r = desk("settings", "show")
    assert "county_db_url = postgresql+psycopg://desk@county.lan/county（密码另存于密钥存储" in r.stdout
    assert PASSWORD not in r.stdout


# --- the driver's English ---------------------------------------------------------------------------------------


def _wrapped(error: Exception) -> sa.exc.DBAPIError:
    return sa.exc.DBAPIError.instance("COPY case_events FROM STDIN", None, error, psycopg.Error)


@pytest.mark.parametrize(
    ("error", "says"),
    [
        (psycopg.errors.QueryCanceled("canceling statement due to user request"), "中止了本批写入"),
        (psycopg.errors.QueryCanceled("canceling statement due to statement timeout"), "中止了本批写入"),
        (
            psycopg.errors.QueryCanceled("COPY from stdin failed: error from Python: OSError - boom"),
            "中止了本批写入",
        ),
        (
            psycopg.errors.AdminShutdown("terminating connection due to administrator command"),
            "正在重启或关闭",
        ),
        (
            psycopg.OperationalError(
                'connection failed: connection to server at "127.0.0.1", port 1 failed: Connection refused'
            ),
            "对方拒绝连接",
        ),
        (psycopg.OperationalError("connection failed: timeout expired"), "连接超时"),
        (
            psycopg.OperationalError(
                'connection failed: could not translate host name "county.lan" to address'
            ),
            "找不到主机",
        ),
        (
            psycopg.OperationalError(
                f'connection failed: FATAL:  password authentication failed for user "desk" {PASSWORD}'
            ),
            "用户名或密码不对",
        ),
        (psycopg.errors.InvalidCatalogName('database "county" does not exist'), "没有这个库"),
        (psycopg.errors.InsufficientPrivilege("permission denied for table case_events"), "权限不足"),
        (psycopg.errors.DiskFull("could not extend file: No space left on device"), "资源不足"),
        (psycopg.errors.SerializationFailure("could not serialize access"), "繁忙"),
        (
            psycopg.errors.UniqueViolation('duplicate key value violates unique constraint "x"'),
            "错误代码 23505",
        ),
        (
            psycopg.OperationalError("consuming input failed: server closed the connection unexpectedly"),
            "连接中断",
        ),
        (OSError(104, "Connection reset by peer"), "无法连接县级数据库"),
    ],
)
def test_the_drivers_english_is_said_in_chinese(
    make_hall: Callable[..., Store], caplog: pytest.LogCaptureFixture, error: Exception, says: str
) -> None:
    syncer = Syncer(make_hall(HALL_A), f"postgresql+psycopg://{P}@127.0.0.1:5432/county")
    caplog.set_level(logging.DEBUG)
    raised = error if isinstance(error, OSError) else _wrapped(error)
    message = syncer._explain(raised)
    assert_plain_chinese(SyncError(message))
    assert says in message, message
    assert "postgresql+psycopg://desk:***@127.0.0.1:5432/county" in message  # where, without the password
    english = str(error).split(":")[0].strip()
    assert english not in message  # no driver noise for people...
    for word in ("canceling", "COPY", "stdin", "failed", "FATAL", "Connection", "QueryCanceled"):
        assert word not in message, message
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert type(error).__name__ in logged  # ... the log keeps what it was, for the administrator
    assert PASSWORD not in logged and PASSWORD not in message
