"""Data-entry forms: the widgets a clerk types a visit (and later records and notices) into."""
