"""The self-service kiosk where a citizen scans a receipt to read the case's status."""
