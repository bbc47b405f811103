"""Qt table models over the services' plain dataclasses; each is tested without a view."""
