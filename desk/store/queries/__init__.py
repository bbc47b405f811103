"""Query modules of the hall's rooms, roster and queue: each function takes a Session and returns frozen dataclasses."""
