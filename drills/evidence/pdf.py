"""The report as a PDF for auditors, rendered from index.html by WeasyPrint, in two editions.

WeasyPrint lays out HTML and CSS itself (pango for text), so the PDF holds the same
tables and the same SVG charts as the page, with the page breaks of the report's print
stylesheet (a table is kept whole).

The condensed edition, the default, is the page with its detail left out: the summary,
the controls, the run, and per scenario one unbreakable block (its verdict rows, its
timeline chart, its runbook as executed and its trend), several to a page. The full
edition prints everything the page shows, each scenario from a new page. The detail left
out of the condensed edition (service levels, every step, backups, the write check's ids,
the environment...) is in index.html, which the evidence pack holds beside the PDF.
"""

from __future__ import annotations

import logging
from enum import StrEnum
from pathlib import Path

FILE_NAME = "report.pdf"


class Edition(StrEnum):
    CONDENSED = "condensed"
    FULL = "full"


#: the editions as a command line names them, the default first
EDITIONS = tuple(str(e) for e in Edition)


#: Added after the page's own styles for the condensed edition: what is marked ``detail``
#: is left out, and a scenario is a block kept whole on one page, its charts beside its
#: tables, as many to a page as fit (no page for a heading alone: the blocks do not break).
CONDENSED_CSS = """
@page { margin: 7mm 10mm 10mm; }
@media print {
  body { font-size: 9px; }
  .detail { display: none; }
  h2 { margin: 12px 0 4px; }
  #summary table, #controls table { font-size: 7.5px; }
  #summary td, #summary th, #controls td, #controls th { padding: 1px 4px; }
  #controls h3 { margin: 6px 0 2px; }
  .control { margin: 2px 0 4px; }
  .bar { height: 6px; margin: 1px 0; }
  #summary .detail-text { font-size: 7px; }
  .scenario { break-before: auto; break-inside: avoid; margin: 0; padding: 3px 0 4px;
              border-bottom: 1px solid var(--line); }
  .scenario h2 { font-size: 12px; margin: 0 0 1px; padding-bottom: 0; border-bottom: none; }
  .scenario h3 { font-size: 9px; margin: 2px 0 1px; }
  .scenario p { margin: 1px 0; }
  .scenario p.muted, .scenario figcaption, .scenario p.regression { font-size: 6.5px; }
  /* a table, not flex: WeasyPrint keeps a table row whole on one page */
  .glance-body { display: table; width: 100%; table-layout: fixed; }
  .glance-charts, .glance-tables, .glance-trend { display: table-cell; vertical-align: top; }
  .glance-charts { width: 21%; padding-right: 3mm; }
  .glance-trend { width: 18%; padding-left: 3mm; }
  .glance-tables p.muted { display: none; }  /* the runbook's note, the same in every block */
  .scenario table { font-size: 7px; margin: 1px 0 2px; }
  .scenario th, .scenario td { padding: 0 3px; }
  .scenario figure { margin: 1px 0; }
}
"""


def _styled(html: bytes, edition: Edition) -> str:
    """The page to lay out: for the condensed edition, its styles after the page's own."""
    text = html.decode("utf-8")
    if edition is Edition.CONDENSED:
        head = text.find("</head>")
        style = f"<style>{CONDENSED_CSS}</style>"
        text = text[:head] + style + text[head:] if head >= 0 else style + text
    return text


def render_pdf(html: bytes, base: Path,
               edition: Edition = Edition.CONDENSED) -> tuple[bytes | None, str | None]:
    """The PDF of ``html`` (relative links from ``base``): (its bytes, None), or (None, why)."""
    try:
        import weasyprint  # type: ignore[import-untyped]
    except (ImportError, OSError) as exc:  # OSError: pango missing from the system
        return None, (f"WeasyPrint cannot run here ({exc}); install the system's pango "
                      "(Debian: libpango-1.0-0 libpangoft2-1.0-0) and drills' dependencies")
    logging.getLogger("weasyprint").setLevel(logging.ERROR)  # CSS it ignores: not news
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    try:
        pdf: bytes = weasyprint.HTML(string=_styled(html, edition),
                                     base_url=str(base) + "/").write_pdf()
    except Exception as exc:  # a PDF that fails is reported; the run stands
        return None, f"WeasyPrint failed on index.html: {type(exc).__name__}: {exc}"
    return pdf, None


def write_pdf(html: Path, pdf: Path, edition: Edition = Edition.CONDENSED) -> str | None:
    """Render ``html`` into ``pdf``; None when it worked, else why it could not."""
    try:
        source = html.read_bytes()
    except OSError as exc:
        return f"cannot read {html.name}: {exc.strerror}"
    data, problem = render_pdf(source, html.parent, edition)
    if data is None:
        return problem
    tmp = pdf.with_suffix(".pdf.tmp")
    tmp.write_bytes(data)
    tmp.replace(pdf)
    return None
