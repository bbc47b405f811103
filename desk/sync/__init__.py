"""Hall <-> county replication of the event log (see engine.py)."""
