"""The report as a PDF for auditors, rendered from index.html by WeasyPrint.

WeasyPrint lays out HTML and CSS itself (pango for text), so the PDF holds the same
tables and the same SVG charts as the page, with the page breaks of the report's print
stylesheet (a table is kept whole; each scenario starts a page).
"""

from __future__ import annotations

import logging
from pathlib import Path

FILE_NAME = "report.pdf"


def render_pdf(html: bytes, base: Path) -> tuple[bytes | None, str | None]:
    """The PDF of ``html`` (relative links from ``base``): (its bytes, None), or (None, why)."""
    try:
        import weasyprint  # type: ignore[import-untyped]
    except (ImportError, OSError) as exc:  # OSError: pango missing from the system
        return None, (f"WeasyPrint cannot run here ({exc}); install the system's pango "
                      "(Debian: libpango-1.0-0 libpangoft2-1.0-0) and drills' dependencies")
    logging.getLogger("weasyprint").setLevel(logging.ERROR)  # CSS it ignores: not news
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    try:
        pdf: bytes = weasyprint.HTML(string=html.decode("utf-8"),
                                     base_url=str(base) + "/").write_pdf()
    except Exception as exc:  # a PDF that fails is reported; the run stands
        return None, f"WeasyPrint failed on index.html: {type(exc).__name__}: {exc}"
    return pdf, None


def write_pdf(html: Path, pdf: Path) -> str | None:
    """Render ``html`` into ``pdf``; None when it worked, else why it could not."""
    try:
        source = html.read_bytes()
    except OSError as exc:
        return f"cannot read {html.name}: {exc.strerror}"
    data, problem = render_pdf(source, html.parent)
    if data is None:
        return problem
    tmp = pdf.with_suffix(".pdf.tmp")
    tmp.write_bytes(data)
    tmp.replace(pdf)
    return None
