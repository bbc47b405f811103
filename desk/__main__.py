"""`python -m desk` is the `desk` command."""

from desk.cli import run

raise SystemExit(run())
