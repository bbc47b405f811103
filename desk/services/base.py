"""What every use case of one hall's store starts from: the store, the clock, the local hall's code, who is
signed in (the `Principal`, checked against `desk.core.permissions` before every action), the audit log, and the
vault that seals personal fields."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from desk.core.audit import AuditAction
from desk.core.permissions import ANONYMOUS, Action, Principal, Scope, check
from desk.errors import DeskError
from desk.store.queries.hall import local_hall_code

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from desk.core.clock import Clock
    from desk.security.vault import Vault
    from desk.store.session import Store


class HallUseCases:
    """A service over the local hall of `store`, acting for `principal` (nobody: every guarded action is refused).

    The hall's code is read once, when first needed; the vault is this machine's (`desk.security.keys`) unless
    one is given."""

    def __init__(
        self, store: Store, clock: Clock, *, principal: Principal = ANONYMOUS, vault: Vault | None = None
    ) -> None:
        self._store = store
        self._clock = clock
        self._hall_code: str | None = None
        self._principal = principal
        self._vault = vault

    @property
    def hall_code(self) -> str:
        if self._hall_code is None:
            with self._store.read() as s:
                self._hall_code = local_hall_code(s)
            if self._hall_code is None:
                raise DeskError("数据库尚未初始化：请先运行 desk init")
        return self._hall_code

    @property
    def principal(self) -> Principal:
        return self._principal

    def act_for(self, principal: Principal) -> None:
        """From now on act for `principal` (the mediator who took over a room terminal; the person who unlocked
        the screen). A window that shares the service with others works on a copy of it."""
        self._principal = principal

    @property
    def actor(self) -> str:
        """How events name who wrote them: name, login and terminal."""
        return self._principal.actor

    @property
    def vault(self) -> Vault:
        if self._vault is None:
            from desk.security.keys import current_vault

            self._vault = current_vault()
        return self._vault

    def now(self) -> dt.datetime:
        return self._clock.now()

    def hall_code_in(self, s: Session) -> str:
        """The local hall's code, read (once) in the caller's transaction `s`: no second connection."""
        if self._hall_code is None:
            self._hall_code = local_hall_code(s)
            if self._hall_code is None:
                raise DeskError("数据库尚未初始化：请先运行 desk init")
        return self._hall_code

    def guard(self, action: Action, scope: Scope | None = None) -> None:
        """Refuse (`Forbidden`) unless the signed-in person may take `action` (on the case at `scope`)."""
        check(self._principal, action, scope)

    def guard_case(self, s: Session, action: Action, case_id: str) -> None:
        """`guard` for a step on one case: a mediator's right reaches it if their room holds it or they claimed it."""
        import sqlalchemy as sa

        from desk.store.models import CaseRow

        self.guard(action)
        row = s.execute(sa.select(CaseRow.room_code, CaseRow.claimed_by).where(CaseRow.id == case_id)).first()
        self.guard(action, Scope(row[0], row[1]) if row is not None else Scope())

    def record_full_view(self, case_id: str, case_no: str) -> None:
        """A full record (ID number, phone, address unmasked) is about to be shown: refuse unless the signed-in
        person may see it (a mediator: a case of their rooms or one they claimed), and write the audit entry."""
        with self._store.unit_of_work() as s:
            self.guard_case(s, Action.VIEW_FULL, case_id)
            self.audit(s, AuditAction.VIEW_FULL, case_id=case_id, case_no=case_no, detail="查看完整身份信息")

    def audit(
        self,
        s: Session,
        action: AuditAction,
        *,
        case_id: str | None = None,
        case_no: str | None = None,
        detail: str = "",
        at: dt.datetime | None = None,
    ) -> None:
        """Append an audit entry in the transaction `s` (it commits or vanishes with the change it records)."""
        from desk.store.queries.audit import record

        p = self._principal
        record(
            s,
            hall_code=self.hall_code_in(s),
            at=at or self.now(),
            login=p.login,
            user_name=p.name,
            terminal=p.terminal,
            action=action,
            case_id=case_id,
            case_no=case_no,
            detail=detail,
        )
