"""Hall Desk (一厅通): the reception-hall desk of a comprehensive governance center (综治中心)."""

__version__ = "0.1.0"
