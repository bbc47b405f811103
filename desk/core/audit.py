"""What the audit log records: the kinds of entry and their names in Chinese."""

from __future__ import annotations

from enum import StrEnum


class AuditAction(StrEnum):
    VIEW_FULL = "view_full"
    CHANGE = "change"
    PRINT = "print"
    REPRINT = "reprint"
    EXPORT = "export"
    SIGN_IN = "sign_in"
    SIGN_IN_FAILED = "sign_in_failed"
    LOCKED_OUT = "locked_out"
    SIGN_OUT = "sign_out"
    UNLOCK = "unlock"
    SWITCH = "switch"
    USERS = "users"
    KEYS = "keys"
    SETTINGS = "settings"

    @property
    def label(self) -> str:
        return AUDIT_LABELS[self]


AUDIT_LABELS: dict[AuditAction, str] = {
    AuditAction.VIEW_FULL: "查看完整信息",
    AuditAction.CHANGE: "修改",
    AuditAction.PRINT: "打印",
    AuditAction.REPRINT: "补打",
    AuditAction.EXPORT: "导出",
    AuditAction.SIGN_IN: "登录",
    AuditAction.SIGN_IN_FAILED: "登录失败",
    AuditAction.LOCKED_OUT: "账户锁定",
    AuditAction.SIGN_OUT: "退出登录",
    AuditAction.UNLOCK: "解除锁屏",
    AuditAction.SWITCH: "换班",
    AuditAction.USERS: "用户管理",
    AuditAction.KEYS: "密钥管理",
    AuditAction.SETTINGS: "修改设置",
}

DETAIL_MAX = 200
