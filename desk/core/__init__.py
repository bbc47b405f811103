"""Pure domain: value objects, validation and rules. Imports neither Qt nor SQLAlchemy."""
