"""Typed settings: where the store is, which hall this is, and the few switches the desk has."""

from __future__ import annotations

import ipaddress
import json
import logging
import os
import re
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from desk.errors import DeskError

logger = logging.getLogger(__name__)

APP_NAME = "hall-desk"
SCHEMA_VERSION = 1
RESOURCES = Path(__file__).resolve().parent.parent / "resources"


def data_dir() -> Path:
    import platformdirs

    return Path(os.environ.get("DESK_DATA_DIR") or platformdirs.user_data_dir(APP_NAME, appauthor=False))


def log_dir() -> Path:
    import platformdirs

    return Path(os.environ.get("DESK_LOG_DIR") or platformdirs.user_log_dir(APP_NAME, appauthor=False))


def config_file() -> Path:
    import platformdirs

    base = os.environ.get("DESK_CONFIG_DIR") or platformdirs.user_config_dir(APP_NAME, appauthor=False)
    return Path(base) / "settings.json"


def backup_directory(settings: Settings) -> Path:
    """The folder of the daily automatic backups: `backup_dir`, else `backups` in the data directory."""
    return Path(settings.backup_dir).expanduser() if settings.backup_dir else data_dir() / "backups"


def default_db_url() -> str:
    return f"sqlite:///{data_dir() / 'desk.db'}"


def resolve_db_url(explicit: str | None = None) -> str:
    """`--db URL`, else `DESK_DB_URL`, else the embedded SQLite store in the user data directory."""
    return explicit or os.environ.get("DESK_DB_URL") or default_db_url()


def resolve_county_url(explicit: str | None = None, settings: Settings | None = None) -> str:
    """The county database: `--county URL`, else `DESK_COUNTY_URL`, else the settings file; "" if none."""
    if explicit:
        return explicit
    env = os.environ.get("DESK_COUNTY_URL")
    if env:
        return env
    return (settings or load_settings()).county_db_url


# --- passwords out of the settings file --------------------------------------------------------------------

# the settings holding a database URL, and the secret (desk.security.keys) its password is kept under instead
SECRET_URLS: dict[str, str] = {"county_db_url": "county_password", "status_db_url": "status_db_password"}


def split_password(url: str) -> tuple[str, str | None]:
    """`url` without its password, and the password (None when it has none, or when `url` is no URL or one
    whose password is not written so that it can be told apart -- an unencoded @ : / -- : it is then returned
    as it is, for its own check to refuse)."""
    if not isinstance(url, str) or "@" not in url:  # no user part, no password (and no SQLAlchemy to load)
        return url, None
    from sqlalchemy.engine import make_url

    from desk.store.checks import URL_HOST

    try:
        u = make_url(url.strip())
    except Exception:  # noqa: BLE001 - not a URL: nothing to take out
        return url, None
    if not u.password or (u.host and not URL_HOST.match(u.host)):
        return url, None
    # (URL.set ignores a None: the tuple's own _replace clears it)
    return u._replace(password=None).render_as_string(hide_password=False), str(u.password)


def with_stored_password(url: str, setting: str = "county_db_url") -> str:
    """`url` with the password kept for `setting` (`SECRET_URLS`) added back, when it has none of its own and
    one is kept; otherwise `url` as it is. For connecting only: never show or log the result."""
    from sqlalchemy.engine import make_url

    if not isinstance(url, str) or not url:
        return url
    try:
        u = make_url(url.strip())
    except Exception:  # noqa: BLE001 - refused by the URL's own check, not here
        return url
    if u.password:
        return url
    from desk.security.keys import load_secret

    try:
        password = load_secret(SECRET_URLS[setting])
    except DeskError as e:  # an unreadable key file: connect without, and say why in the log
        logger.warning("stored password for %s unavailable: %s", setting, e.message)
        return url
    if not password:
        return url
    return u.set(password=password).render_as_string(hide_password=False)


def keep_password(setting: str, url: str) -> str:
    """For saving `setting`: the password of `url` goes to the secret store (the OS keyring or the key file,
    `desk.security.keys`), and `url` is returned without it. A URL without a password leaves the kept one
    (a password set once survives a change of host)."""
    from desk.security.keys import save_secret

    bare, password = split_password(url)
    if password:
        save_secret(SECRET_URLS[setting], password)
    return bare


def _move_passwords_out(path: Path, raw: dict[str, Any]) -> dict[str, Any]:
    """A settings file from before passwords were kept apart: each database URL's password goes to the secret
    store and the file is written again without it. If the secret store cannot be written, the file is left as
    it is (the password is not lost) and the log says so."""
    moved = dict(raw)
    for setting in SECRET_URLS:
        value = raw.get(setting)
        if isinstance(value, str) and split_password(value)[1]:
            try:
                moved[setting] = keep_password(setting, value)
            except (DeskError, OSError) as e:
                logger.warning(
                    "settings file %s: password of %s not moved to the key store (%s)",
                    path,
                    setting,
                    e.message if isinstance(e, DeskError) else type(e).__name__,
                )
                return raw
    if moved == raw:
        return raw
    try:
        _write_json(path, moved)
    except OSError as e:
        logger.warning("settings file %s not rewritten without passwords: %s", path, type(e).__name__)
        return moved
    logger.info("settings file %s: database passwords moved to the key store", path)
    return moved


@dataclass(frozen=True)
class Settings:
    schema_version: int = SCHEMA_VERSION
    county_db_url: str = ""
    status_base_url: str = ""  # required before real receipts print: see check_status_base_url
    # the status server's own store URL (PostgreSQL: the role desk_status, which reads the view case_stages
    # only); "" = the store URL, with a warning. Its password, like the county's, is kept in the key store.
    status_db_url: str = ""
    language: str = "zh_CN"
    actor: str = (
        "前台"  # before sign-in (issue 13) the desk's name; no longer used: events name the signed-in user
    )
    lock_after_minutes: int = (
        10  # the screen locks after this many idle minutes (0: never); unlocked by password
    )
    speech_engine: str = ""  # QtTextToSpeech engine of the calling screen: "" = the platform's default
    no_show_after_recalls: int = 2  # a called visitor may be marked 过号 after this many recalls
    sync_interval_s: int = 30  # how often the app syncs with the county in the background
    backup_keep: int = 7  # daily automatic backups of a SQLite store kept (0: none are made)
    backup_dir: str = ""  # where they go: "" = the folder `backups` in the data directory
    follow_up_after_days: int = 7  # a closed case's follow-up (回访) is due this many days after closure
    # the status server's reverse proxies (IPs or CIDRs) whose X-Forwarded-For it believes; none by default
    trusted_proxies: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        value: object = self.trusted_proxies
        if isinstance(value, str):  # a lone string is one proxy
            value = [value] if value.strip() else []
        if isinstance(value, list):  # JSON has lists
            object.__setattr__(self, "trusted_proxies", tuple(str(p) for p in value))


def load_settings(path: Path | None = None) -> Settings:
    """Settings from the user's settings file; unknown keys are ignored, a broken file falls back to defaults."""
    path = path or config_file()
    if not path.exists():
        return Settings()
    if os.name == "posix":
        try:
            if path.stat().st_mode & 0o077:  # written by hand or an installer: it may hold a password
                path.chmod(0o600)
        except OSError:
            pass
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        logger.warning("settings file %s unreadable; using defaults", path)
        return Settings()
    if not isinstance(raw, dict):
        logger.warning("settings file %s is not a JSON object; using defaults", path)
        return Settings()
    raw = _move_passwords_out(path, raw)
    known = {f.name for f in fields(Settings)}
    values = {k: v for k, v in raw.items() if k in known and k != "schema_version"}
    return Settings(**values)


def save_settings(settings: Settings, path: Path | None = None) -> None:
    """Write the settings file, readable by its owner only (0600 on POSIX), atomically: a crash leaves the old
    file or the new one. A database URL's password is never written: it goes to the key store first
    (`keep_password`)."""
    values = asdict(settings)
    for setting in SECRET_URLS:
        values[setting] = keep_password(setting, values[setting])
    _write_json(path or config_file(), values)


def _write_json(path: Path, values: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = json.dumps(values, ensure_ascii=False, indent=2).encode("utf-8")
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        if os.name == "posix":
            os.chmod(tmp, 0o600)  # the mode given to open() is cut by the umask, never widened: make it exact
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


# --- the receipt's status URL --------------------------------------------------------------------------------

DEMO_STATUS_BASE_URL = "https://zz.example.gov.cn/s/"  # what the demo store's receipts print (marked 演示)
STATUS_URL_EXAMPLE = "https://zz.xxx.gov.cn/s/"
MAX_STATUS_BASE_URL = 120  # the QR code stays small enough for the 80 mm receipt
# hosts that are never a hall's: reserved for examples and tests (RFC 2606, RFC 6761) or this machine
_PLACEHOLDER_TLDS = frozenset({"test", "example", "invalid", "localhost", "local", "localdomain"})
_HOST_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


class SettingError(DeskError):
    """A setting's value refused; the message names the setting."""


def placeholder_host(host: str) -> bool:
    """An example, test or local host: a QR code pointing there would open nothing for a citizen."""
    host = host.lower().rstrip(".")
    labels = host.split(".")
    return "example" in labels or labels[-1] in _PLACEHOLDER_TLDS or host == "localhost"


LOCK_MAX_MINUTES = 240


def check_lock_after_minutes(raw: str) -> int:
    """`lock_after_minutes`: a whole number of idle minutes, 0 (never) to 240; else a Chinese `SettingError`."""
    text = raw.strip()
    if not text.isdigit() or not text.isascii():
        raise SettingError(f"“{raw}”不是整数分钟数（0 表示从不自动锁屏）")
    value = int(text)
    if value > LOCK_MAX_MINUTES:
        raise SettingError(
            f"锁屏时间最长 {LOCK_MAX_MINUTES} 分钟（{value} 太长：无人看管的屏幕会露出当事人信息）"
        )
    return value


def check_status_base_url(url: object) -> str:
    """The receipt QR code's base URL, checked: `https://host[:port]/…/s/` on a real public host (the status
    server's `/s/` path, as the citizens' phones reach it through the reverse proxy). Returns it stripped;
    raises `SettingError` saying what is wrong."""
    name = "status_base_url（回执二维码的查询地址）"
    if not isinstance(url, str):  # the settings file is edited by hand
        raise SettingError(f'设置文件中的 {name}应为文本，如 "{STATUS_URL_EXAMPLE}"')
    url = url.strip()
    if not url:
        raise SettingError(f"未设置 {name}：请运行 desk settings set status_base_url {STATUS_URL_EXAMPLE}")
    if len(url) > MAX_STATUS_BASE_URL:
        raise SettingError(f"{name}过长（{len(url)} 个字符，最多 {MAX_STATUS_BASE_URL} 个）")
    if any(ch.isspace() or not ch.isprintable() for ch in url):
        raise SettingError(f"{name}含有空白或控制字符")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise SettingError(f"{name}的格式或端口无效：应形如 {STATUS_URL_EXAMPLE}") from None
    if parts.scheme.lower() != "https":
        raise SettingError(f"{name}须以 https:// 开头（群众用手机扫码，须加密访问）")
    if parts.username is not None or parts.password is not None:
        raise SettingError(f"{name}不能含用户名或密码")
    if parts.query or parts.fragment or url.endswith(("?", "#")):
        raise SettingError(f"{name}不能带 ? 或 # 之后的部分")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise SettingError(f"{name}缺少主机名：应形如 {STATUS_URL_EXAMPLE}")
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        ip = None
    if ip is not None:
        if not ip.is_global:
            raise SettingError(f"{name}的地址 {host} 是内网或本机地址，群众的手机访问不到")
    else:
        try:
            ascii_host = host.encode("idna").decode("ascii").lower()
        except UnicodeError:
            raise SettingError(f"{name}的主机名无效") from None
        labels = ascii_host.split(".")
        if len(labels) < 2 or not all(_HOST_LABEL.match(label) for label in labels):
            raise SettingError(f"{name}的主机名 {host} 无效：应为完整的域名，如 zz.xxx.gov.cn")
        if placeholder_host(ascii_host):
            raise SettingError(f"{name}的主机 {host} 是示例地址：请改为本中心状态查询服务的真实域名")
    if port == 0:
        raise SettingError(f"{name}的端口无效")
    if not parts.path.endswith("/s/"):
        raise SettingError(f"{name}的路径应以 /s/ 结尾（状态查询服务的 /s/<令牌>），如 {STATUS_URL_EXAMPLE}")
    return url


STATUS_DB_URL_EXAMPLE = "postgresql+psycopg://desk_status@主机:5432/库名"


def check_status_db_url(url: object) -> str:
    """The status server's own store URL, checked: "" (none: the store URL is used), or a PostgreSQL URL with
    a user (the role desk_status) and a database name. Returns it stripped; raises `SettingError`."""
    name = "status_db_url（状态查询服务的数据库地址）"
    if not isinstance(url, str):  # the settings file is edited by hand
        raise SettingError(f'设置文件中的 {name}应为文本，如 "{STATUS_DB_URL_EXAMPLE}"')
    url = url.strip()
    if not url:
        return ""
    if any(ch.isspace() or not ch.isprintable() for ch in url):
        raise SettingError(f"{name}含有空白或控制字符")
    from sqlalchemy.engine import make_url

    from desk.store.checks import URL_HOST

    try:
        u = make_url(url)
        port = u.port
    except Exception:  # noqa: BLE001 - any parse failure: one message, never the text (it may hold a password)
        raise SettingError(f"{name}无法识别：应形如 {STATUS_DB_URL_EXAMPLE}") from None
    if u.get_backend_name() != "postgresql" or u.drivername not in ("postgresql", "postgresql+psycopg"):
        raise SettingError(
            f"{name}须为 PostgreSQL 的地址（postgresql+psycopg://…）；SQLite 库没有数据库账号，留空即可"
        )
    if u.host and not URL_HOST.match(u.host):
        raise SettingError(f"{name}的主机名含有不允许的字符（密码中的 @ : / ? # 须写成 %40 %3A %2F %3F %23）")
    if port is not None and not 0 < port <= 65535:
        raise SettingError(f"{name}的端口 {port} 超出范围（1–65535）")
    if not u.username:
        raise SettingError(f"{name}缺少用户名：应为状态查询专用账号 desk_status（desk county init 建立）")
    if not u.database:
        raise SettingError(f"{name}缺少库名（地址末尾的 /库名）")
    return url


def check_trusted_proxies(values: object) -> tuple[str, ...]:
    """The trusted proxies, each an IP address or network (CIDR); raises `SettingError` naming a bad one."""
    if not isinstance(values, list | tuple):  # the settings file is edited by hand
        raise SettingError('设置文件中的 trusted_proxies（可信反向代理）应为列表，如 ["127.0.0.1"]')
    out = []
    for v in values:
        try:
            out.append(str(ipaddress.ip_network(str(v).strip(), strict=False)))
        except ValueError:
            raise SettingError(
                f"trusted_proxies（可信反向代理）中的 {str(v)[:60]!r} 不是 IP 地址或网段（如 10.0.0.5 或 10.0.0.0/24）"
            ) from None
    return tuple(out)
