"""The holiday calendar and the deadline rules as the services read them: from the resources, once per process.

`desk.services.root.Services` hands them to the services it builds; a service built without them (a test, the
county's registration) reads the bundled ones through these functions, which load each file once.
"""

from __future__ import annotations

import functools
from pathlib import Path

from desk.config import RESOURCES
from desk.core.calendar import WorkCalendar
from desk.core.deadlines import DeadlineRules, load_deadline_rules

CALENDAR_DIR = RESOURCES / "calendar"
DEADLINE_RULES_FILE = RESOURCES / "catalog" / "deadline_rules.json"


@functools.cache
def load_calendar(directory: Path = CALENDAR_DIR) -> WorkCalendar:
    """The working-day calendar of `directory` (every year file there, checked)."""
    return WorkCalendar.load(directory)


@functools.cache
def load_rules(path: Path = DEADLINE_RULES_FILE) -> DeadlineRules:
    """The deadline rules of `path`, checked."""
    return load_deadline_rules(path)
