"""Composition root: settings, logging, the error hook, the font, the store, the services and the window of the
role this process plays: the front desk, a room's terminal, the hall's calling screen, its self-service kiosk or
the supervisor's window (督办);
and sync with the county (the front desk runs it in the background, a room terminal shows its state)."""

from __future__ import annotations

import logging
import logging.handlers
import os
import socket
import sys
import threading
from pathlib import Path
from types import TracebackType

from PySide6.QtCore import (
    QCoreApplication,
    QEvent,
    QLibraryInfo,
    QLocale,
    QMessageLogContext,
    Qt,
    QtMsgType,
    QTranslator,
    qInstallMessageHandler,
)
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QApplication, QMainWindow, QMenu, QMessageBox, QWidget

from desk.config import (
    LOCK_MAX_MINUTES,
    RESOURCES,
    Settings,
    backup_directory,
    default_db_url,
    load_settings,
    log_dir,
    resolve_county_url,
)
from desk.core.clock import Clock, local_date
from desk.core.permissions import ANONYMOUS, Action, Principal, Role
from desk.core.redact import ScrubFilter, format_exception, scrub
from desk.errors import DeskError
from desk.services import Services, SyncSetup, build_services
from desk.services.registration import RegistrationService
from desk.services.setup import init_hall
from desk.store.session import Store, open_store
from desk.ui.access.lock import IdleLock
from desk.ui.display.hall_display import HallDisplay
from desk.ui.display.speech import Announcer
from desk.ui.fonts import use_cjk_font
from desk.ui.kiosk.kiosk import Kiosk
from desk.ui.main_window import MainWindow
from desk.ui.ops import freeze_heap, wait_for_workers
from desk.ui.printing import CaseAgreements, CaseReceipts, ReceiptPrinter
from desk.ui.room.terminal import RoomTerminal
from desk.ui.supervisor.window import SupervisionServices, SupervisorWindow
from desk.ui.sync_bar import SyncRunner, SyncStatusBar

logger = logging.getLogger(__name__)

APP_TITLE = "一厅通"
LOG_FILE = "desk.log"
EXIT_OK, EXIT_ERROR, EXIT_USAGE = 0, 1, 2
EXIT_SWITCH_USER = (
    77  # the event loop's code when the person signs out: the window is built again for the next
)
ROLES = ("desk", "room", "display", "kiosk", "supervisor")
SHUTDOWN_WAIT_MS = 10_000
ROOM_ACTOR = "功能室终端"  # who a room terminal's events name until a mediator is picked as on duty


def setup_logging(directory: Path | None = None) -> tuple[Path, list[logging.Handler]]:
    """A rotating log file in the platform log directory (5 × 2 MB), warnings also on stderr.

    Returns the file's path and the handlers added, for `teardown_logging`. Modules log case numbers and
    field names, never ID numbers, phones, names or narratives; each handler also scrubs what slips through
    (a driver's error echoing a row, a bad input in a traceback). The file is readable by its owner only.
    """
    directory = directory or log_dir()
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / LOG_FILE
    file_handler = logging.handlers.RotatingFileHandler(
        path, maxBytes=2_000_000, backupCount=5, encoding="utf-8"
    )
    file_handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    if os.name == "posix":
        path.chmod(0o600)
    console = logging.StreamHandler()
    console.setLevel(logging.WARNING)
    console.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.setLevel(logging.INFO)
    handlers: list[logging.Handler] = [file_handler, console]
    for h in handlers:
        h.addFilter(ScrubFilter())  # no ID number, phone or status token reaches a log, tracebacks included
        root.addHandler(h)
    return path, handlers


def teardown_logging(handlers: list[logging.Handler]) -> None:
    root = logging.getLogger()
    for h in handlers:
        root.removeHandler(h)
        h.close()


def _tr(text: str) -> str:
    return QCoreApplication.translate("desk.app", text)


_QT_LEVELS = {
    QtMsgType.QtDebugMsg: logging.DEBUG,
    QtMsgType.QtInfoMsg: logging.INFO,
    QtMsgType.QtWarningMsg: logging.WARNING,
    QtMsgType.QtCriticalMsg: logging.ERROR,
    QtMsgType.QtFatalMsg: logging.CRITICAL,
}


def _qt_message(mode: QtMsgType, _context: QMessageLogContext, message: str) -> None:
    logging.getLogger("desk.qt").log(_QT_LEVELS.get(mode, logging.WARNING), "%s", message)


class ErrorReporter:
    """`sys.excepthook`: log the traceback, tell the clerk in a dialog, and let the desk keep running.

    One dialog at a time: an error repeating in a timer must not bury the screen in windows.
    """

    def __init__(self, log_path: Path) -> None:
        self._log_path = log_path
        self._box: QMessageBox | None = None

    def __call__(self, exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        if issubclass(exc_type, KeyboardInterrupt):
            sys.__excepthook__(exc_type, exc, tb)
            return
        logger.error("unhandled %s", exc_type.__name__, exc_info=(exc_type, exc, tb))
        if QApplication.instance() is None or self._box is not None:
            return
        if isinstance(exc, DeskError):
            text = exc.message
        else:
            text = _tr(
                "程序出现了意外错误，刚才的操作可能没有完成，请核对后重试。\n错误已记入日志：{path}"
            ).format(path=self._log_path)
        box = QMessageBox(QMessageBox.Icon.Critical, _tr("一厅通 · 程序错误"), scrub(text))
        box.setDetailedText(format_exception(exc_type, exc, tb))
        box.finished.connect(self._on_finished)
        self._box = box
        box.show()  # not exec(): the hook may run inside any slot, and the desk must keep serving

    def _on_finished(self, _result: int) -> None:
        self._box = None


def _thread_exception(args: threading.ExceptHookArgs) -> None:
    """`threading.excepthook`: an error on a worker thread is logged, scrubbed like every record (the windows
    report their own calls' failures through `desk.ui.ops`; this is for anything else)."""
    if args.exc_type is SystemExit:
        return
    logger.error(
        "unhandled %s in thread %s",
        args.exc_type.__name__,
        args.thread.name if args.thread else "?",
        exc_info=(args.exc_type, args.exc_value, args.exc_traceback),  # type: ignore[arg-type]
    )


def install_translators(app: QApplication, language: str) -> list[QTranslator]:
    """Qt's own strings (Yes/No, Close, the Copy/Paste menu) in the desk's language, from the Qt install;
    the desk's own `.qm` from resources/i18n/ unless the language is Chinese, the source language."""
    installed: list[QTranslator] = []
    qt = QTranslator(app)
    if qt.load(
        QLocale(language), "qtbase", "_", QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
    ):
        app.installTranslator(qt)
        installed.append(qt)
    else:
        logger.warning("no Qt translation for %s", language)
    if not language.startswith("zh"):
        desk = QTranslator(app)
        if desk.load(QLocale(language), "desk", "_", str(RESOURCES / "i18n")):
            app.installTranslator(desk)
            installed.append(desk)
        else:
            logger.warning("no translation for %s; showing Chinese", language)
    return installed


def describe_store(url: str) -> str:
    """The store as the status bar shows it, without user names or passwords."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        u = make_url(url)
    except ArgumentError:
        return _tr("数据库：地址无效")
    backend = u.get_backend_name()
    if backend == "sqlite":
        return _tr("数据库：本机 SQLite（{path}）").format(path=u.database or _tr("内存"))
    if backend == "postgresql":
        where = f"{u.host or 'localhost'}{':' + str(u.port) if u.port else ''}/{u.database or ''}"
        return _tr("数据库：PostgreSQL（{where}）").format(where=where)
    return _tr("数据库：{backend}").format(backend=backend)


def build_sync_bar(sync: SyncSetup, *, run: bool, clock: Clock | None = None) -> SyncStatusBar:
    """The status bar's sync corner; with `run`, it also syncs (every interval, and on "立即同步")."""
    runner = None
    if run and sync.configured:
        runner = SyncRunner(sync.make_syncer, interval_s=sync.interval_s)
    bar = SyncStatusBar(sync.status, runner=runner, configured=sync.configured, clock=clock)
    if runner is not None:
        runner.setParent(bar)
        runner.start()
    return bar


def build_main_window(
    services: Services,
    *,
    store_label: str = "",
    clock: Clock | None = None,
    speech_engine: str = "",
    receipt_printer: ReceiptPrinter | None = None,
) -> MainWindow:
    """The desk's window, wired to its services; the tests build it the same way (with a printer of their own:
    `receipt_printer` defaults to the system's default printer). `clock` defaults to the services' clock."""
    clock = clock or services.clock
    receipts = CaseReceipts(services.documents, receipt_printer)
    agreements = build_agreements(services, receipt_printer)
    sync_bar = build_sync_bar(services.sync, run=True, clock=clock) if services.sync is not None else None
    return MainWindow(
        services.registration,
        rooms=services.rooms,
        queue=services.queue,
        new_queue=services.new_queue,
        display=services.display,
        store_label=store_label,
        clock=clock,
        speech_engine=speech_engine,
        receipts=receipts,
        sync_bar=sync_bar,
        county=services.county,
        handling=services.handling,
        whistles=services.whistles,
        agreements=agreements,
        warnings=services.warnings,
    )


def build_agreements(services: Services, printer: ReceiptPrinter | None = None) -> CaseAgreements:
    """Printing a case's mediation agreement (人民调解协议书) from its outcome, the print recorded on the case."""
    documents = services.documents
    return CaseAgreements(
        services.handling.agreement_data, documents.record_printed, documents.was_printed, printer
    )


def build_room_terminal(
    services: Services, room: str, *, printer: ReceiptPrinter | None = None
) -> RoomTerminal:
    """`desk --role room --room R01`: one room's terminal with the handling pane of the case being received
    (the sync state in its status bar; the front desk runs the sync). An unknown room is a `NotFound`.
    `printer` prints the agreement (default: the system's default printer; tests give one of their own)."""
    agreements = build_agreements(services, printer)
    terminal = RoomTerminal(
        room,
        auth=services.auth,
        queue=services.new_queue(),
        rooms=services.rooms,
        display=services.display,
        registration=services.registration,
        handling=services.handling,
        whistles=services.whistles,
        agreements=agreements,
    )
    agreements.setParent(terminal)
    if services.sync is not None:
        terminal.statusBar().addPermanentWidget(
            build_sync_bar(services.sync, run=False, clock=services.clock)
        )
    return terminal


def build_hall_display(services: Services, *, speech_engine: str = "") -> HallDisplay:
    """`desk --role display`: the hall's calling screen, speaking through `speech_engine` ("" = default)."""
    return HallDisplay(
        services.display, hall_name=services.registration.hall.name, announcer=Announcer(speech_engine)
    )


def build_kiosk(services: Services) -> Kiosk:
    """`desk --role kiosk`: the hall's self-service kiosk, where a scanned receipt shows its case's status."""
    return Kiosk(services.status, hall_name=services.registration.hall.name)


def build_supervisor_window(services: Services) -> SupervisorWindow:
    """`desk --role supervisor`: the supervisor's window (督办): warnings to read, overdue cases, whistles past
    their clocks, follow-ups due today; it runs the warnings' sweep. Readings are recorded as the settings'
    `actor`."""
    window = SupervisorWindow(
        SupervisionServices(
            warnings=services.warnings,
            whistles=services.whistles,
            handling=services.handling,
            registration=services.registration,
            rooms=services.rooms,
            reports=services.reports,
        ),
        hall_name=services.registration.hall.name,
    )
    if services.sync is not None:
        window.statusBar().addPermanentWidget(build_sync_bar(services.sync, run=False, clock=services.clock))
    from desk.ui.access.audit_panel import AuditPanel

    window.tabs.addTab(AuditPanel(services.audit, clock=services.clock, parent=window.tabs), _tr("审计日志"))
    return window


WINDOW_ROLES: dict[str, frozenset[Role]] = {
    "desk": frozenset({Role.DESK, Role.ADMIN}),
    "room": frozenset({Role.MEDIATOR}),
    "supervisor": frozenset({Role.SUPERVISOR}),
}
"""Who may open each window (the services check every action again): the hall display and the kiosk show
nothing personal and need nobody signed in."""


def sign_in(services: Services, role: str, terminal: str) -> Principal | None:
    """Ask who is at this PC until someone who may open the `role` window signs in; None when they cancel."""
    from desk.ui.access.sign_in import ask_sign_in

    if not services.auth.has_users():
        raise DeskError("此数据库尚无用户：请先在命令行运行 desk init，创建第一位系统管理员")
    hall = services.registration.hall.name
    while True:
        principal = ask_sign_in(services.auth, hall_name=hall, terminal=terminal)
        if principal is None or principal.roles & WINDOW_ROLES[role]:
            return principal
        may = "、".join(r.label for r in WINDOW_ROLES[role])
        QMessageBox.warning(
            None,
            APP_TITLE,
            _tr("{name}的账户不能打开此窗口：需要{roles}角色").format(name=principal.name, roles=may),
        )


def add_access_menu(window: QMainWindow, services: Services, lock: IdleLock) -> QMenu:
    """The window's 账户 menu: lock the screen now (Ctrl+Shift+L), sign out (another person signs in: the window is
    built again for them), and, for an admin, the users dialog."""
    from desk.ui.access.users_dialog import UsersDialog

    menu = window.menuBar().addMenu(_tr("账户(&U)"))
    who = menu.addAction(_tr("当前用户：{name}").format(name=services.principal.name))
    who.setEnabled(False)
    lock_action = menu.addAction(_tr("锁定屏幕"))
    lock_action.setShortcut(QKeySequence("Ctrl+Shift+L"))  # Ctrl+L is the room terminal's 离开
    lock_action.triggered.connect(lock.lock_now)
    password = menu.addAction(_tr("修改本人密码…"))

    def change_password() -> None:
        from desk.ui.access.password_dialog import PasswordDialog

        dialog = PasswordDialog(services.auth.change_own_password, parent=window)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()

    password.triggered.connect(change_password)
    sign_out = menu.addAction(_tr("退出登录（换人）"))
    sign_out.triggered.connect(lambda: QApplication.exit(EXIT_SWITCH_USER))
    if services.principal.may(Action.USERS):
        menu.addSeparator()
        users = menu.addAction(_tr("用户管理…"))

        def open_users() -> None:
            rooms = {r.code: f"{r.number}号{r.name}" for r in services.rooms.rooms()}
            dialog = UsersDialog(services.auth, rooms, clock=services.clock, parent=window)
            dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            dialog.show()

        users.triggered.connect(open_users)
    return menu


def _ensure_hall(store: Store, service: RegistrationService) -> None:
    """A fresh store gets the seeded hall, categories and rooms, so a first start shows a working desk."""
    try:
        _ = service.hall
    except DeskError:  # kept: at start, before any window (and its runner) exists; an empty store is seeded
        report = init_hall(store)
        logger.info("initialised hall %s on first start", report.hall_code)


def start_daily_backup(db_url: str, settings: Settings, clock: Clock) -> threading.Thread | None:
    """Today's automatic backup of a SQLite store, if it is not there yet, on a thread of its own (the caller joins
    it before the store closes); the older ones beyond `backup_keep` are removed. A failure is logged: the desk
    works on without it."""
    from desk.store.backup import daily_backup
    from desk.store.session import store_file

    path = store_file(db_url)
    keep = settings.backup_keep
    if not isinstance(keep, int) or isinstance(keep, bool):  # a hand-edited settings.json
        logger.warning("backup_keep in the settings is not a whole number; keeping 7")
        keep = 7
    if path is None or keep < 1:
        return None
    directory = backup_directory(settings)
    today = local_date(clock.now())

    def run() -> None:
        try:
            made = daily_backup(path, directory, keep=keep, today=today)
        except DeskError as e:
            logger.warning("the daily backup failed: %s", e.message)
        except Exception:  # noqa: BLE001 - the thread never raises out; the desk goes on without a backup
            logger.warning("the daily backup failed", exc_info=True)
        else:
            if made is not None:
                logger.info("daily backup %s written", made.name)

    thread = threading.Thread(target=run, name="desk-daily-backup")
    thread.start()
    return thread


def _lock_minutes(settings: Settings) -> int:
    """The idle minutes before the screen locks; a hand-edited settings file with nonsense gets the default."""
    value = settings.lock_after_minutes
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= LOCK_MAX_MINUTES:
        return value
    logger.warning(
        "lock_after_minutes in the settings is not 0-%d; locking after 10 minutes", LOCK_MAX_MINUTES
    )
    return 10


def _hand_over(handover: list[Principal], principal: Principal) -> None:
    """Someone else signed in at the lock screen: the window closes and is built again for them."""
    handover.append(principal)
    QApplication.exit(EXIT_SWITCH_USER)


def _run_window(
    app: QApplication,
    public: Services,
    role: str,
    room: str | None,
    terminal: str,
    db_url: str,
    settings: Settings,
    handover: list[Principal],
) -> int:
    """Sign someone in (not for the display and the kiosk), build the window of `role` acting for them, run it.
    Returns the event loop's code: `EXIT_SWITCH_USER` when they signed out for someone else (who, when they
    signed in at the lock screen, is put in `handover`)."""
    services = public
    window: QWidget
    backup: threading.Thread | None = None
    try:
        if role in WINDOW_ROLES:
            principal = handover.pop() if handover else None
            if principal is None or not principal.roles & WINDOW_ROLES[role]:
                principal = sign_in(public, role, terminal)
            if principal is None:
                return EXIT_OK
            services = public.signed_in(principal)
        if role == "room":
            assert room is not None
            window = build_room_terminal(services, room)
        elif role == "display":
            window = build_hall_display(services, speech_engine=settings.speech_engine)
        elif role == "kiosk":
            window = build_kiosk(services)
        elif role == "supervisor":
            window = build_supervisor_window(services)
        else:
            window = build_main_window(
                services, store_label=describe_store(db_url), speech_engine=settings.speech_engine
            )
    except DeskError as e:  # kept: no window yet to route it to; the process says why and exits
        logger.error("cannot start the %s window: %s", role, e.message)
        QMessageBox.critical(None, APP_TITLE, e.message)
        return EXIT_ERROR
    lock: IdleLock | None = None
    if role in WINDOW_ROLES:
        lock = IdleLock(
            window,
            services.auth,
            services.principal,
            minutes=_lock_minutes(settings),
            hall_name=services.registration.hall.name,
            on_switch_user=lambda p: _hand_over(handover, p),
        )
        assert isinstance(window, QMainWindow)
        add_access_menu(window, services, lock)
        if isinstance(window, RoomTerminal) and window.duty_switch is not None:
            window.duty_switch.sig_switched.connect(lock.set_principal)  # the lock asks the one on duty
    if role == "desk":
        backup = start_daily_backup(db_url, settings, services.clock)
    if role in ("display", "kiosk"):
        window.showFullScreen()
    else:
        window.show()
    if isinstance(window, MainWindow) and window.sync_bar is not None:
        window.sync_bar.sync_now()  # a first round at start, in the background
    freeze_heap()  # the collector's full passes stop walking what the start made: no stalls from them
    try:
        code = app.exec()
    finally:
        if backup is not None:
            backup.join()  # a backup under way is finished, not cut off
    # Closing the last window asks the application to quit, and so may whoever closed it: a second quit
    # request left queued would end the next event loop of this process at once (tests run several).
    QCoreApplication.removePostedEvents(app, QEvent.Type.Quit)
    if not wait_for_workers(SHUTDOWN_WAIT_MS):  # a service call still running ends before the store closes
        logger.warning("a service call was still running at exit")
    if code == EXIT_SWITCH_USER:
        window.close()
        window.deleteLater()
    return int(code)


def main(*, db_url: str, role: str = "desk", room: str | None = None, terminal: str | None = None) -> int:
    """Run the window of `role` until it closes; returns the process exit code. `room` is the room of a room
    terminal; `terminal` names this PC in the hall's records (default: the host name)."""
    settings = load_settings()
    log_path, log_handlers = setup_logging()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setApplicationName("hall-desk")
    previous_qt_handler = qInstallMessageHandler(_qt_message)
    previous_hook, previous_thread_hook = sys.excepthook, threading.excepthook
    sys.excepthook = ErrorReporter(log_path)
    threading.excepthook = _thread_exception
    store: Store | None = None
    translators: list[QTranslator] = []
    try:
        family = use_cjk_font(app)
        logger.info("desk starting (role %s, font %s)", role, family or "system")
        translators = install_translators(app, settings.language)
        if role not in ROLES:
            QMessageBox.critical(None, APP_TITLE, _tr("未知的窗口角色：{role}").format(role=role))
            return EXIT_USAGE
        if role == "room" and not room:
            QMessageBox.critical(None, APP_TITLE, _tr("功能室终端需要指定功能室：--room 功能室代码"))
            return EXIT_USAGE
        terminal = terminal or socket.gethostname()
        try:
            # Only the window's first start on the default store may create it (`make run` on a fresh machine):
            # a mistyped --db or DESK_DB_URL is refused, never silently a new, empty store.
            store = open_store(db_url, create=db_url == default_db_url())
            public = build_services(  # the clock: the system's, or DESK_NOW's
                store,
                principal=ANONYMOUS.at(terminal),
                settings=settings,
                county_url=resolve_county_url(settings=settings),
            )
            _ensure_hall(store, public.registration)
        except DeskError as e:  # kept: no window yet to route it to; the process says why and exits
            logger.error("cannot start the %s window: %s", role, e.message)
            QMessageBox.critical(None, APP_TITLE, e.message)
            return EXIT_ERROR
        handover: list[Principal] = []
        while True:
            code = _run_window(app, public, role, room, terminal, db_url, settings, handover)
            if code != EXIT_SWITCH_USER:
                break
            logger.info("signed out; asking who is next")
        logger.info("desk closed (%d)", code)
        return int(code)
    finally:
        sys.excepthook, threading.excepthook = previous_hook, previous_thread_hook
        qInstallMessageHandler(previous_qt_handler)
        if store is not None:
            store.dispose()
        for t in translators:
            app.removeTranslator(t)
        teardown_logging(log_handlers)
