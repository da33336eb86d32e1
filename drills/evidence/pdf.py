"""The report as a PDF for auditors, rendered from index.html by WeasyPrint, in two editions.

WeasyPrint lays out HTML and CSS itself (pango for text), so the PDF holds the same
tables and the same SVG charts as the page (each drawn as an image of its SVG), with the
page breaks of the report's print stylesheet (a table is kept whole).

The condensed edition, the default, is the page with its detail left out: the summary,
the controls, the run, and per scenario one unbreakable block (its verdict rows, its
timeline chart, its runbook as executed and its trend), several to a page. The full
edition prints everything the page shows, each scenario from a new page. The detail left
out of the condensed edition (service levels, every step, backups, the write check's ids,
the environment...) is in index.html, which the evidence pack holds beside the PDF.
"""

from __future__ import annotations

import base64
import logging
import re
from enum import StrEnum
from html.parser import HTMLParser
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


#: Added after the page's own styles in both editions: a chart is an image (charts_as_images).
PRINT_CSS = """
figure img.chart { width: 100%; height: auto; display: block; }
"""

_INLINE_SVG = re.compile(r"<svg\b.*?</svg>", re.DOTALL)


def charts_as_images(text: str) -> str:
    """Each inline ``<svg>`` chart of the page as an ``<img>`` of the same SVG (a data URL).

    The same vector picture, but out of the HTML tree: WeasyPrint no longer parses each
    mark as HTML nor matches the page's style sheet against it. Measured on the default
    plan's condensed PDF, one run each with other work beside it: 35.2 s inline, 26.5 s as
    images (bench/pdf_cost.py; the README has the quiet machine's figures). The report's
    charts hold no nested ``<svg>`` (drills.report.svg).
    """
    def image(match: re.Match[str]) -> str:
        data = base64.b64encode(match.group().encode("utf-8")).decode("ascii")
        return f'<img class="chart" alt="chart" src="data:image/svg+xml;base64,{data}">'

    return _INLINE_SVG.sub(image, text)


def _for_print(html: bytes, edition: Edition) -> str:
    """The page to lay out: charts as images; for the condensed edition, without its detail."""
    text = charts_as_images(html.decode("utf-8"))
    css = PRINT_CSS
    if edition is Edition.CONDENSED:
        text = without_detail(text)
        css += CONDENSED_CSS
    head = text.find("</head>")
    style = f"<style>{css}</style>"
    return text[:head] + style + text[head:] if head >= 0 else style + text


class _DetailFinder(HTMLParser):
    """The character spans of the elements whose class names ``detail``, outermost only."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=False)
        self.spans: list[tuple[int, int]] = []
        self._text = text
        # getpos() counts lines by "\n" alone, as this does
        self._line_starts = [0] + [m.end() for m in re.finditer("\n", text)]
        self._open: tuple[str, int] | None = None  # the detail element's tag, its offset
        self._depth = 0  # of that tag, inside it

    def _offset(self) -> int:
        line, column = self.getpos()
        return self._line_starts[line - 1] + column

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._open is not None:
            self._depth += tag == self._open[0]
        elif "detail" in (dict(attrs).get("class") or "").split():
            self._open, self._depth = (tag, self._offset()), 1

    def handle_endtag(self, tag: str) -> None:
        if self._open is None or tag != self._open[0]:
            return
        self._depth -= 1
        if self._depth == 0:
            end = self._text.index(">", self._offset()) + 1  # the end tag's own end
            self.spans.append((self._open[1], end))
            self._open = None


def without_detail(text: str) -> str:
    """The page without the elements marked ``detail`` (what the condensed edition leaves out).

    The condensed styles hide them too, but WeasyPrint parses and styles an element it
    will not show: dropping them first saves that work (bench/pdf_cost.py). An element
    never closed is kept, so nothing past it is lost.
    """
    finder = _DetailFinder(text)
    finder.feed(text)
    finder.close()
    kept, at = [], 0
    for start, end in finder.spans:
        kept.append(text[at:start])
        at = end
    kept.append(text[at:])
    return "".join(kept)


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
        pdf: bytes = weasyprint.HTML(string=_for_print(html, edition),
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
