"""A room's terminal: its queue, calling and claiming, the case being received."""
