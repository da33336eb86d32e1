"""The report as a PDF for auditors, rendered from index.html by WeasyPrint.

WeasyPrint lays out HTML and CSS itself (pango for text), so the PDF holds the same
tables and the same SVG charts as the page, with the page breaks of the report's print
stylesheet (a table is kept whole; each scenario starts a page).
"""

from __future__ import annotations

import logging
from pathlib import Path

FILE_NAME = "report.pdf"


def write_pdf(html: Path, pdf: Path) -> str | None:
    """Render ``html`` into ``pdf``; None when it worked, else why it could not."""
    try:
        import weasyprint  # type: ignore[import-untyped]
    except (ImportError, OSError) as exc:  # OSError: pango missing from the system
        return (f"WeasyPrint cannot run here ({exc}); install the system's pango "
                "(Debian: libpango-1.0-0 libpangoft2-1.0-0) and drills' dependencies")
    logging.getLogger("weasyprint").setLevel(logging.ERROR)  # CSS it ignores: not news
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    tmp = pdf.with_suffix(".pdf.tmp")
    try:
        weasyprint.HTML(filename=str(html)).write_pdf(str(tmp))
    except Exception as exc:  # a PDF that fails is reported; the run stands
        tmp.unlink(missing_ok=True)
        return f"WeasyPrint failed on {html.name}: {type(exc).__name__}: {exc}"
    tmp.replace(pdf)
    return None
