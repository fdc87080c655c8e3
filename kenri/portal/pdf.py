"""Reports as PDF: the report page printed by a headless Chromium (the same page people see,
Japanese fonts included), when one is installed (``KENRI_CHROMIUM`` or chromium on PATH)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

TIMEOUT_S = 60


class PdfUnavailable(RuntimeError):
    """No browser to print with, or it failed: the HTML report is still there."""


def chromium() -> str | None:
    configured = os.environ.get("KENRI_CHROMIUM")
    if configured:
        return configured
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


def html_to_pdf(html: str) -> bytes:
    browser = chromium()
    if browser is None:
        raise PdfUnavailable("PDF needs Chromium (apt-get install chromium); the HTML report works")
    with tempfile.TemporaryDirectory() as folder:
        page, out = Path(folder) / "report.html", Path(folder) / "report.pdf"
        page.write_text(html, encoding="utf-8")
        command = [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-pdf-header-footer",
            f"--user-data-dir={folder}/profile",
            f"--print-to-pdf={out}",
            page.as_uri(),
        ]
        try:
            subprocess.run(command, capture_output=True, timeout=TIMEOUT_S, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise PdfUnavailable(f"the browser could not print the report: {exc}") from None
        if not out.exists() or out.stat().st_size == 0:
            raise PdfUnavailable("the browser did not print the report")
        return out.read_bytes()
