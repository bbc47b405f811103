"""Keeping personal data unreadable at rest and people signed in: field encryption and the blind index
(`vault.py`), the keys and secrets and where they live (`keys.py`), passwords (`passwords.py`).

Below the store and the services, above the core; no Qt, no SQLAlchemy."""
