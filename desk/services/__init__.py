"""Use cases over the store and the core: register, route, queue, print, report; each takes a store (units of
work) and a clock. `build_services` (desk/services/root.py) is the one composition root.

The root is re-exported lazily (PEP 562), so importing one service module does not import the root, nor the
root every service: a short command imports only what it uses."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from desk.services.root import Services, SyncSetup, build_services, clock_from_environment

__all__ = ["Services", "SyncSetup", "build_services", "clock_from_environment"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from desk.services import root

        return getattr(root, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
