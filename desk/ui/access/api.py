"""What the sign-in windows need of the services, as protocols: `AuthService` and `AuditService` (desk/services)
satisfy them, and so do the tests' small fakes. The windows name these, never the services' modules."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

from desk.core.audit import AuditAction
from desk.core.permissions import Principal, Role


class UserRow(Protocol):
    """One account as `AuthService.users()` lists it (`UserView`)."""

    @property
    def id(self) -> str: ...
    @property
    def login(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def roles(self) -> frozenset[Role]: ...
    @property
    def rooms(self) -> tuple[str, ...]: ...
    @property
    def active(self) -> bool: ...
    @property
    def locked_until(self) -> dt.datetime | None: ...
    @property
    def has_pin(self) -> bool: ...


class AuditRow(Protocol):
    """One entry of the audit log (`AuditEntry`)."""

    @property
    def at(self) -> dt.datetime: ...
    @property
    def login(self) -> str: ...
    @property
    def user_name(self) -> str: ...
    @property
    def terminal(self) -> str: ...
    @property
    def action(self) -> AuditAction: ...
    @property
    def case_no(self) -> str | None: ...
    @property
    def detail(self) -> str: ...


class AuthApi(Protocol):
    """Signing in, the lock screen, the mediator on duty, and the accounts (an admin's)."""

    def has_users(self) -> bool: ...
    def sign_in(self, login: str, password: str) -> Principal: ...
    def unlock(self, principal: Principal, secret: str) -> Principal: ...
    def switch_on_duty(self, login: str, secret: str) -> Principal: ...
    def on_duty_candidates(self, room_code: str) -> Sequence[UserRow]: ...
    def users(self) -> Sequence[UserRow]: ...
    def add_user(
        self,
        login: str,
        name: str,
        roles: frozenset[Role],
        rooms: Sequence[str],
        password: str,
        pin: str | None = None,
    ) -> Any: ...
    def update_user(
        self,
        login: str,
        *,
        name: str | None = None,
        roles: frozenset[Role] | None = None,
        rooms: Sequence[str] | None = None,
        active: bool | None = None,
    ) -> Any: ...
    def set_password(self, login: str, password: str) -> Any: ...
    def set_pin(self, login: str, pin: str | None) -> Any: ...
    def unlock_account(self, login: str) -> Any: ...


class AuditApi(Protocol):
    """The supervisor's search of the audit log and its export."""

    def search(
        self,
        *,
        login: str | None = None,
        case_no: str | None = None,
        since: dt.date | None = None,
        until: dt.date | None = None,
        action: AuditAction | None = None,
        limit: int | None = 500,
    ) -> Sequence[AuditRow]:
        """Newest first; `since` and `until` are China-time days, both included."""
        ...

    def export_csv(
        self,
        path: Path,
        *,
        login: str | None = None,
        case_no: str | None = None,
        since: dt.date | None = None,
        until: dt.date | None = None,
        action: AuditAction | None = None,
    ) -> int: ...
