"""Printed documents (ReportLab): receipts, registration sheets, agreements, reports."""
