"""The store: SQLAlchemy 2 models of the event log and its projections, sessions, migrations, queries."""
