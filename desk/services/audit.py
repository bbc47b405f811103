"""The audit log as a supervisor uses it: search by person, case, day and kind, and export to a CSV file for
Excel (the export is itself audited). The log is append-only: nothing here, nor anywhere in the app, updates or
deletes an entry."""

from __future__ import annotations

import csv
import datetime as dt
import logging
import os
import tempfile
from pathlib import Path

from desk.core.audit import AuditAction
from desk.core.clock import CHINA_TZ
from desk.core.permissions import Action
from desk.errors import DeskError, ValidationError
from desk.services.base import HallUseCases
from desk.store.queries import audit as audit_q
from desk.store.queries.audit import AuditEntry

__all__ = ["CSV_HEADERS", "AuditEntry", "AuditService"]

logger = logging.getLogger(__name__)

CSV_HEADERS = ("时间", "用户名", "姓名", "终端", "操作", "案件编号", "说明")
SEARCH_MAX = 10_000
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _local_midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=CHINA_TZ).astimezone(dt.UTC)


def _cell(value: str) -> str:
    """A cell Excel shows as text: a leading = + - @ would make it a formula (CSV injection), so it is quoted."""
    return "'" + value if value.startswith(_FORMULA_START) else value


class AuditService(HallUseCases):
    """Reading the audit log (a supervisor's right, `Action.AUDIT`)."""

    def search(
        self,
        *,
        login: str | None = None,
        case_no: str | None = None,
        since: dt.date | None = None,
        until: dt.date | None = None,
        action: AuditAction | str | None = None,
        limit: int | None = 500,
    ) -> list[AuditEntry]:
        """Entries newest first: by login, by case number, from the day `since` to the day `until` (both
        included, China time), of one kind. At most `limit` (None: all)."""
        self.guard(Action.AUDIT)
        return self._search(
            login=login, case_no=case_no, since=since, until=until, action=action, limit=limit
        )

    def _search(
        self,
        *,
        login: str | None,
        case_no: str | None,
        since: dt.date | None,
        until: dt.date | None,
        action: AuditAction | str | None,
        limit: int | None,
    ) -> list[AuditEntry]:
        if since is not None and until is not None and since > until:
            raise ValidationError.single("since", "起始日期晚于截止日期")
        if limit is not None and not 1 <= limit <= SEARCH_MAX:
            raise ValidationError.single("limit", f"条数应为1至{SEARCH_MAX}")
        kind: AuditAction | None = None
        if action is not None and action != "":
            try:
                kind = AuditAction(action)
            except ValueError:
                by_label = {a.label: a for a in AuditAction}
                if action not in by_label:
                    known = "、".join(f"{a.value}（{a.label}）" for a in AuditAction)
                    raise ValidationError.single("action", f"没有这种操作；可选：{known}") from None
                kind = by_label[action]
        who = login.strip().lower() or None if login is not None else None
        case = case_no.strip() or None if case_no is not None else None
        with self._store.read() as s:
            return audit_q.search(
                s,
                login=who,
                case_no=case,
                since=_local_midnight(since) if since is not None else None,
                before=_local_midnight(until + dt.timedelta(days=1)) if until is not None else None,
                action=kind,
                limit=limit,
            )

    def export_csv(
        self,
        path: str | os.PathLike[str],
        *,
        login: str | None = None,
        case_no: str | None = None,
        since: dt.date | None = None,
        until: dt.date | None = None,
        action: AuditAction | str | None = None,
        limit: int | None = None,
    ) -> int:
        """Write the entries matching the filters (all of them unless `limit`) to `path` as CSV for Excel
        (UTF-8 with a BOM, Chinese headers, China time); returns how many. The export is itself an EXPORT entry."""
        self.guard(Action.AUDIT)
        entries = self._search(
            login=login, case_no=case_no, since=since, until=until, action=action, limit=limit
        )
        target = Path(path)
        try:
            fd, tmp = tempfile.mkstemp(prefix=".audit-", suffix=".csv", dir=target.parent or ".")
        except OSError as e:
            raise DeskError(f"无法写入 {target.parent}：{e.strerror or e}") from None
        try:
            with os.fdopen(fd, "w", encoding="utf-8-sig", newline="") as f:
                out = csv.writer(f)
                out.writerow(CSV_HEADERS)
                for entry in entries:
                    out.writerow(
                        [
                            entry.at.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M:%S"),
                            _cell(entry.login),
                            _cell(entry.user_name),
                            _cell(entry.terminal),
                            entry.action.label,
                            _cell(entry.case_no or ""),
                            _cell(entry.detail),
                        ]
                    )
            os.replace(tmp, target)
        except OSError as e:
            Path(tmp).unlink(missing_ok=True)
            raise DeskError(f"无法写入 {target}：{e.strerror or e}") from None
        filters = _describe_filters(login, case_no, since, until, action)
        with self._store.unit_of_work() as s:
            self.audit(
                s,
                AuditAction.EXPORT,
                case_no=(case_no or "").strip() or None,
                detail=f"导出审计日志 {len(entries)} 条" + (f"（{filters}）" if filters else ""),
            )
        logger.info("audit exported: %d entries", len(entries))
        return len(entries)


def _describe_filters(
    login: str | None,
    case_no: str | None,
    since: dt.date | None,
    until: dt.date | None,
    action: AuditAction | str | None,
) -> str:
    parts = []
    if login:
        parts.append(f"用户 {login.strip().lower()[:32]}")
    if case_no:
        parts.append(f"案件 {case_no.strip()[:30]}")
    if since or until:
        parts.append(f"{since or '…'} 至 {until or '…'}")
    if action:
        parts.append(f"操作 {action.label if isinstance(action, AuditAction) else action}")
    return "，".join(parts)
