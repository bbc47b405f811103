"""The settings the tests print receipts with: a real-looking hall host (an unset or example base URL is refused)."""

from __future__ import annotations

from desk.config import Settings

STATUS_BASE_URL = "https://zz.gzq.gov.cn/s/"
PRINTING_SETTINGS = Settings(status_base_url=STATUS_BASE_URL)
