"""The citizen's status page: a small web server that answers `/s/{token}` with a case's stage (no Qt here)."""

from desk.status.app import TokenLogFilter, create_app, serve

__all__ = ["TokenLogFilter", "create_app", "serve"]
