"""The composition root: the services one process works with, over one store and one clock.

The windows (`desk.app`), the `desk` commands and the status page build their services here and nowhere else.
Each service is made on first use, and its module imported only then, so a command pays for the services it
calls and no others: `desk rooms` never imports registration, documents, the county or sync. The clock is the
system's, or the one `DESK_NOW` sets for a drill (see `clock_from_environment`).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from desk.config import Settings
from desk.core.clock import Clock, RunningClock, SystemClock
from desk.core.permissions import ANONYMOUS, Principal
from desk.errors import ValidationError

if TYPE_CHECKING:
    from desk.core.calendar import WorkCalendar
    from desk.core.deadlines import DeadlineRules
    from desk.services.alerts import WarningService, WhistleService
    from desk.services.audit import AuditService
    from desk.services.auth import AuthService
    from desk.services.county import CountyService
    from desk.services.display import DisplayService
    from desk.services.documents import DocumentService
    from desk.services.handling import CaseHandlingService
    from desk.services.queue import QueueService
    from desk.services.registration import RegistrationService
    from desk.services.reports import ReportService
    from desk.services.rooms import RoomsService
    from desk.services.status import StatusService
    from desk.store.session import Store
    from desk.sync.engine import Syncer, SyncStatus

logger = logging.getLogger(__name__)

DESK_NOW = "DESK_NOW"
DESK_NOW_EXAMPLE = "2026-12-07T09:30:00+08:00"


def parse_desk_now(text: str) -> dt.datetime:
    """The moment `DESK_NOW` names: ISO 8601 with a UTC offset (`2026-12-07T09:30:00+08:00`, or `...Z`).
    Anything else is a `ValidationError` saying what is wrong, in Chinese."""
    try:
        moment = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValidationError.single(
            DESK_NOW, f"“{text}”不是 ISO 8601 时间，应如 {DESK_NOW_EXAMPLE}"
        ) from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValidationError.single(
            DESK_NOW, f"“{text}”缺少时区偏移，应如 {DESK_NOW_EXAMPLE}（中国时间为 +08:00）"
        )
    return moment


def clock_from_environment(environ: Mapping[str, str] | None = None) -> Clock:
    """The system clock; or, when `DESK_NOW` is set (drills, tests), a clock that starts at that moment and
    runs on at real speed (`RunningClock`): a command is stamped at DESK_NOW (plus the milliseconds it runs),
    and a window that polls -- the calling screen, waiting minutes, the sync bar -- still sees time pass.
    A malformed value is a `ValidationError` (the `desk` command exits with 2)."""
    raw = (os.environ if environ is None else environ).get(DESK_NOW, "")
    if not raw.strip():
        return SystemClock()
    moment = parse_desk_now(raw)
    logger.info("clock set by %s to %s", DESK_NOW, moment.isoformat())
    return RunningClock(moment)


def county_syncer(store: Store, county_url: str, clock: Clock) -> Syncer:
    """The syncer of this hall's store with the county at `county_url` (it connects on its first round, with a
    connect timeout). A malformed address fails that round with `parse_county_url`'s Chinese message, recorded in
    the store like any failed round, so every terminal's sync corner shows it."""
    from desk.sync.engine import Syncer

    return Syncer(store, county_url, clock=clock)


@dataclass(frozen=True)
class SyncSetup:
    """Sync with the county as the windows and `desk sync` see it."""

    county_url: str
    """"" when none is configured (settings `county_db_url`, or `DESK_COUNTY_URL`)."""
    interval_s: float
    status: Callable[[], SyncStatus]
    """This hall's sync state, read from the local store (cheap)."""
    make_syncer: Callable[[], Syncer]
    """A syncer (for a background thread: called there)."""

    @property
    def configured(self) -> bool:
        return bool(self.county_url)


@dataclass(frozen=True, eq=False)
class Services:
    """The use cases one process works with, over one store and one clock. Made by `build_services`.

    The fields are what every service is built from; each service is a cached property, built (and its module
    imported) the first time it is asked for, then the same object. A new service is one such property.
    """

    store: Store
    clock: Clock
    principal: Principal = ANONYMOUS
    """Who is signed in (at which terminal): every service acts for them, and refuses what they may not do."""
    settings: Settings = field(default_factory=Settings)
    county_url: str = ""
    """The county to sync with; "" when none is configured."""
    sync_interval_s: float = 30.0

    @property
    def actor(self) -> str:
        """How the events written through these services name who wrote them."""
        return self.principal.actor

    @property
    def terminal(self) -> str:
        """This PC, as the hall's records name it (calls, claims)."""
        return self.principal.terminal

    def signed_in(self, principal: Principal) -> Services:
        """The same store, clock and settings, acting for `principal` (services built afresh)."""
        return Services(
            self.store,
            self.clock,
            principal,
            settings=self.settings,
            county_url=self.county_url,
            sync_interval_s=self.sync_interval_s,
        )

    @cached_property
    def auth(self) -> AuthService:
        """Signing in, the idle lock, the mediator on duty, and the users (for an admin)."""
        from desk.services.auth import AuthService

        return AuthService(self.store, self.clock, principal=self.principal, terminal=self.terminal)

    @cached_property
    def audit(self) -> AuditService:
        """The audit log, for a supervisor: search and export."""
        from desk.services.audit import AuditService

        return AuditService(self.store, self.clock, principal=self.principal)

    @cached_property
    def registration(self) -> RegistrationService:
        """Registering visits, repeat visits, finding people and cases."""
        from desk.services.registration import RegistrationService

        return RegistrationService(self.store, self.clock, principal=self.principal)

    @cached_property
    def rooms(self) -> RoomsService:
        """The hall's rooms and its mediator roster."""
        from desk.services.rooms import RoomsService

        return RoomsService(self.store, self.clock, principal=self.principal)

    @cached_property
    def queue(self) -> QueueService:
        """Routing, tickets and the queue's steps, for the front desk and the commands."""
        return self.new_queue()

    def new_queue(self, principal: Principal | None = None) -> QueueService:
        """A queue service of its own for each room terminal a window opens (acting for its mediator on duty)."""
        from desk.services.queue import QueueService

        return QueueService(
            self.store,
            self.clock,
            principal=principal or self.principal,
            no_show_after_recalls=self.settings.no_show_after_recalls,
        )

    @cached_property
    def display(self) -> DisplayService:
        """What the hall's calling screen shows: recent calls, waiting per room, the change mark."""
        from desk.services.display import DisplayService

        return DisplayService(self.store, self.clock)

    @cached_property
    def documents(self) -> DocumentService:
        """What the printed documents show, and the record of what was printed."""
        from desk.services.documents import DocumentService

        return DocumentService(self.store, self.clock, self.settings, principal=self.principal)

    @cached_property
    def calendar(self) -> WorkCalendar:
        """The working-day calendar (resources/calendar), loaded once."""
        from desk.services.calendars import load_calendar

        return load_calendar()

    @cached_property
    def deadline_rules(self) -> DeadlineRules:
        """The deadline rules (resources/catalog/deadline_rules.json), loaded once."""
        from desk.services.calendars import load_rules

        return load_rules()

    @cached_property
    def handling(self) -> CaseHandlingService:
        """Handling a case: sessions, outcome and agreement, transfer, closure, follow-up, the deadline."""
        from desk.services.handling import CaseHandlingService

        return CaseHandlingService(
            self.store,
            self.clock,
            principal=self.principal,
            calendar=self.calendar,
            rules=self.deadline_rules,
            settings=self.settings,
        )

    @cached_property
    def status(self) -> StatusService:
        """A case's status as the citizen sees it (the kiosk, the status page), nothing personal."""
        from desk.services.status import StatusService

        return StatusService(self.store, self.clock)

    @cached_property
    def whistles(self) -> WhistleService:
        """吹哨: summoning departments, their clocks and answers, the notice, a department's record."""
        from desk.services.alerts import WhistleService

        return WhistleService(
            self.store,
            self.clock,
            principal=self.principal,
            calendar=self.calendar,
            rules=self.deadline_rules,
        )

    @cached_property
    def warnings(self) -> WarningService:
        """预警: open warnings, reading them, the sweep (deadlines, whistle clocks, 重大 alerts again)."""
        from desk.services.alerts import WarningService

        return WarningService(self.store, self.clock, principal=self.principal)

    @cached_property
    def reports(self) -> ReportService:
        """The supervisor's dashboard (issue 14: the trend chart and the reports come next)."""
        from desk.services.reports import ReportService

        return ReportService(self.store, self.clock, principal=self.principal)

    @cached_property
    def county(self) -> CountyService | None:
        """The county's use cases (上级分流) when the store is the county's, else None (a read of the store)."""
        from desk.services.county import CountyService

        county = CountyService(self.store, self.clock, principal=self.principal)
        return county if county.is_county() else None

    @cached_property
    def sync(self) -> SyncSetup | None:
        """Sync with the county (None on the county's own store)."""
        if self.county is not None:
            return None
        from desk.sync.engine import sync_status

        store, clock, url = self.store, self.clock, self.county_url
        return SyncSetup(
            url, self.sync_interval_s, lambda: sync_status(store), lambda: county_syncer(store, url, clock)
        )


def build_services(
    store: Store,
    clock: Clock | None = None,
    *,
    principal: Principal = ANONYMOUS,
    settings: Settings | None = None,
    county_url: str = "",
    sync_interval_s: float | None = None,
) -> Services:
    """The services over `store`, acting for `principal` (nobody signed in: only the public reads -- the calling
    screen, the status page -- and signing in work). `clock` defaults to `clock_from_environment()` (the system clock, or
    DESK_NOW's); `settings` to the defaults (the callers load the user's); `county_url` is the county to sync
    with ("" = none configured); `sync_interval_s` defaults to the settings' `sync_interval_s`."""
    settings = settings or Settings()
    return Services(
        store,
        clock or clock_from_environment(),
        principal,
        settings=settings,
        county_url=county_url,
        sync_interval_s=settings.sync_interval_s if sync_interval_s is None else sync_interval_s,
    )
