"""The audit log as a supervisor reads it: search by person, case, day and kind; the CSV export for Excel (itself
audited); and the log is append-only -- no code in desk/ updates or deletes an entry."""

from __future__ import annotations

import csv
import datetime as dt
import re
from pathlib import Path

import pytest

from desk.core.audit import AuditAction
from desk.core.clock import FixedClock
from desk.core.permissions import Forbidden, Principal, Role
from desk.errors import ValidationError
from desk.services.audit import CSV_HEADERS, AuditEntry, AuditService
from desk.store.queries.audit import record
from desk.store.queries.hall import local_hall_code
from desk.store.session import Store

SUPERVISOR = Principal("s1", "zhuguan", "王主管", frozenset({Role.SUPERVISOR}), "督办席")
DESK_ROOT = Path(__file__).resolve().parents[2] / "desk"


def add(
    store: Store,
    at: dt.datetime,
    login: str,
    action: AuditAction,
    *,
    case_no: str | None = None,
    detail: str = "",
    name: str = "",
) -> None:
    with store.unit_of_work() as s:
        hall = local_hall_code(s)
        assert hall
        record(
            s,
            hall_code=hall,
            at=at,
            login=login,
            user_name=name or login,
            terminal="T1",
            action=action,
            case_no=case_no,
            detail=detail,
        )


@pytest.fixture
def filled(sqlite_store: Store, clock: FixedClock) -> Store:
    """Entries over three days (China time): 11-26 23:30, 11-27 10:00 and 10:05, 11-28 00:10."""
    now = clock.now()  # 2026-11-27 10:00 China time
    add(
        sqlite_store,
        now - dt.timedelta(hours=10, minutes=30),
        "zhangsan",
        AuditAction.VIEW_FULL,
        case_no="C-1",
    )
    add(sqlite_store, now, "zhangsan", AuditAction.PRINT, case_no="C-1", detail="受理回执")
    add(sqlite_store, now + dt.timedelta(minutes=5), "lisi", AuditAction.CHANGE, case_no="C-2", detail="=1+1")
    add(sqlite_store, now + dt.timedelta(hours=14, minutes=10), "lisi", AuditAction.SIGN_IN)
    return sqlite_store


@pytest.fixture
def audit(filled: Store, clock: FixedClock) -> AuditService:
    return AuditService(filled, clock, principal=SUPERVISOR)


def test_search_newest_first_and_by_each_filter(audit: AuditService) -> None:
    everything = audit.search()
    assert [(e.login, e.action) for e in everything] == [
        ("lisi", AuditAction.SIGN_IN),
        ("lisi", AuditAction.CHANGE),
        ("zhangsan", AuditAction.PRINT),
        ("zhangsan", AuditAction.VIEW_FULL),
    ]
    assert isinstance(everything[0], AuditEntry)
    assert [e.action for e in audit.search(login=" ZhangSan ")] == [AuditAction.PRINT, AuditAction.VIEW_FULL]
    assert [e.login for e in audit.search(case_no="C-2")] == ["lisi"]
    day = dt.date(2026, 11, 27)
    assert [e.action for e in audit.search(since=day, until=day)] == [AuditAction.CHANGE, AuditAction.PRINT]
    assert len(audit.search(since=day)) == 3 and len(audit.search(until=day)) == 3
    assert [e.login for e in audit.search(action=AuditAction.SIGN_IN)] == ["lisi"]
    assert [e.login for e in audit.search(action="打印")] == ["zhangsan"]
    assert len(audit.search(limit=2)) == 2
    assert audit.search(login="zhangsan", case_no="C-2") == []


def test_search_refusals(audit: AuditService) -> None:
    with pytest.raises(ValidationError, match="起始日期晚于截止日期"):
        audit.search(since=dt.date(2026, 11, 28), until=dt.date(2026, 11, 27))
    with pytest.raises(ValidationError, match="没有这种操作"):
        audit.search(action="delete")


@pytest.mark.parametrize("role", [r for r in Role if r is not Role.SUPERVISOR])
def test_the_audit_needs_a_supervisor(filled: Store, clock: FixedClock, role: Role, tmp_path: Path) -> None:
    svc = AuditService(filled, clock, principal=Principal("u", "someone", "某人", frozenset({role})))
    with pytest.raises(Forbidden, match="需要督办主管角色"):
        svc.search()
    with pytest.raises(Forbidden):
        svc.export_csv(tmp_path / "a.csv")
    assert not (tmp_path / "a.csv").exists()


def test_export_csv_for_excel_is_itself_audited(audit: AuditService, tmp_path: Path) -> None:
    path = tmp_path / "审计.csv"
    assert audit.export_csv(path, login="lisi") == 2
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # the BOM: Excel then reads UTF-8
    with path.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    assert tuple(rows[0]) == CSV_HEADERS == ("时间", "用户名", "姓名", "终端", "操作", "案件编号", "说明")
    assert rows[1] == ["2026-11-28 00:10:00", "lisi", "lisi", "T1", "登录", "", ""]
    # a cell that Excel would take for a formula is kept as text
    assert rows[2] == ["2026-11-27 10:05:00", "lisi", "lisi", "T1", "修改", "C-2", "'=1+1"]
    newest = audit.search(action=AuditAction.EXPORT)[0]
    assert (newest.action, newest.login, newest.terminal) == (AuditAction.EXPORT, "zhuguan", "督办席")
    assert newest.detail == "导出审计日志 2 条（用户 lisi）"
    # the export with no limit takes everything (5 entries now, the export's own among them)
    assert audit.export_csv(path) == 5


def test_the_app_never_updates_or_deletes_audit_rows() -> None:
    """Append-only: no SQL or ORM statement in desk/ updates or deletes the audit log."""
    patterns = [
        re.compile(r"(?i)\b(update|delete\s+from)\s+\"?audit_log\b"),
        re.compile(r"(?i)\b(sa\.)?(update|delete)\(\s*AuditRow\b"),
        re.compile(r"(?i)session\.delete\([^)]*audit", re.S),
        re.compile(r"(?i)truncate\s+(table\s+)?\"?audit_log"),
        re.compile(r"(?i)drop\s+table\s+\"?audit_log"),
    ]
    offenders = []
    for path in DESK_ROOT.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        rel = path.relative_to(DESK_ROOT.parent)
        for pattern in patterns:
            for m in pattern.finditer(text):
                # the migration's downgrade drops the table it made: not the app at work
                if "migrations" in rel.parts and "drop" in m.group(0).lower():
                    continue
                offenders.append(f"{rel}: {m.group(0)}")
    assert offenders == []
    # and the models give AuditRow no relationship that could cascade a delete
    from desk.store.models import AuditRow

    assert not AuditRow.__mapper__.relationships
