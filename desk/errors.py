"""Expected failures, each carrying a message in Chinese for the person at the window."""

from __future__ import annotations

from dataclasses import dataclass


class DeskError(Exception):
    """An expected failure; `message` is shown to people as it is."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class FieldProblem:
    """One refused field: `field` is a path such as ``parties[0].id_number``."""

    field: str
    message: str


class ValidationError(DeskError):
    """Input refused; carries every problem found, field by field."""

    def __init__(self, problems: list[FieldProblem] | FieldProblem) -> None:
        if isinstance(problems, FieldProblem):
            problems = [problems]
        self.problems: list[FieldProblem] = list(problems)
        super().__init__("；".join(p.message for p in self.problems))

    @classmethod
    def single(cls, field: str, message: str) -> ValidationError:
        return cls([FieldProblem(field, message)])

    def prefixed(self, prefix: str) -> ValidationError:
        """The same problems with their field paths under `prefix` (e.g. ``parties[1].``)."""
        return ValidationError([FieldProblem(prefix + p.field, p.message) for p in self.problems])


class NotFound(DeskError):
    """A case, room or record that does not exist."""


class StoreError(DeskError):
    """The store cannot be opened or migrated."""


class Conflict(DeskError):
    """Another terminal got there first (the ticket was called or claimed a moment ago)."""


class Refused(DeskError):
    """A step the case's state does not allow (closing a case nobody claimed, ...); the message says why."""
