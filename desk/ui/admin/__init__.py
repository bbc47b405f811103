"""The hall's settings: its rooms and its roster of mediators."""
