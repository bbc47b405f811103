"""Who is at the terminal: the sign-in dialog, the idle screen lock, the switch of the mediator on duty at a room
terminal (F2), the admin's accounts dialog and the supervisor's audit panel. They reach the services through the
protocols of `api.py` (`AuthService`, `AuditService` satisfy them), always through an `OpRunner`."""
