"""A report as PDF: the HTML page printed by headless Chromium (no network, no scripts).

Chromium is the browser the tests already drive; it prints the page's own A4 CSS. The
executable is ``SMARTPLACE_CHROMIUM_PATH`` or the first of ``chromium``, ``chromium-browser``,
``google-chrome`` on ``PATH``. Without one, PDF answers a clear error (the HTML and CSV
editions still work).
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from pathlib import Path

from api.errors import ReportError

CANDIDATES = ("chromium", "chromium-browser", "google-chrome")
# As root on a closed network: no sandbox, no GPU, none of chromium's own traffic.
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-extensions", "--no-pdf-header-footer", "--run-all-compositor-stages-"
         "before-draw", "--virtual-time-budget=5000")
TIMEOUT_S = 90.0


def find_chromium(configured: Path | None) -> Path:
    """The Chromium to print with.

    Raises:
        ReportError: none configured or found.
    """
    if configured is not None:
        if configured.is_file():
            return configured
        raise ReportError(f"SMARTPLACE_CHROMIUM_PATH {configured} does not exist: install "
                          "chromium or correct the path (format=html and csv need no browser)")
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return Path(found)
    raise ReportError("PDF reports need Chromium, which is not installed here: install it "
                      "(Debian: apt-get install chromium) or set SMARTPLACE_CHROMIUM_PATH; "
                      "format=html and format=csv need no browser")


async def html_to_pdf(html: str, chromium: Path) -> bytes:
    """Print ``html`` to PDF with headless Chromium.

    Raises:
        ReportError: Chromium failed, timed out or wrote no PDF.
    """
    with tempfile.TemporaryDirectory(prefix="smartplace-report-") as folder:
        root = Path(folder)
        page, out = root / "report.html", root / "report.pdf"
        page.write_text(html, encoding="utf-8")
        process = await asyncio.create_subprocess_exec(
            str(chromium), *FLAGS, f"--user-data-dir={root / 'profile'}",
            f"--print-to-pdf={out}", page.as_uri(),
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
        try:
            _, stderr = await asyncio.wait_for(process.communicate(), TIMEOUT_S)
        except TimeoutError:
            process.kill()
            await process.wait()
            raise ReportError(f"Chromium did not print the report within {TIMEOUT_S:g} s") \
                from None
        if process.returncode != 0 or not out.is_file() or out.stat().st_size == 0:
            tail = stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or [""]
            raise ReportError(f"Chromium could not print the report (exit "
                              f"{process.returncode}): {tail[0][:200]}")
        return out.read_bytes()
