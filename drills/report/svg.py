"""A matplotlib figure as an ``<svg>`` element to inline in the report, without dead weight.

matplotlib wraps nearly every mark in a ``<g id="...">`` that carries nothing else (a tick:
a group for the tick, one for its line, one for its label). Such a group draws nothing and
changes nothing it holds, but every element costs the PDF's renderer (WeasyPrint styles
and draws each one): of a timeline chart's about 450 elements, 263 are these groups.
``figure_svg`` lifts their children into the parent and drops them; the picture is the
same, mark for mark. Measured on the default plan's condensed PDF: bench/pdf_cost.py.
"""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.figure import Figure

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
_GROUP = f"{{{SVG_NS}}}g"
_NO_METADATA = {"Type": None, "Format": None, "Creator": None, "Date": None}

ET.register_namespace("", SVG_NS)
ET.register_namespace("xlink", XLINK_NS)


def figure_svg(fig: Figure, salt: str) -> str:
    """The figure as one ``<svg>`` element (no XML prolog), its id-only groups dissolved.

    ``salt`` seeds matplotlib's ids, so that two charts inlined in one page never share
    one and the same figure always gives the same text (a report rebuilt is identical).
    """
    import matplotlib

    buf = io.StringIO()
    with matplotlib.rc_context({"svg.hashsalt": salt, "svg.fonttype": "none"}):
        fig.savefig(buf, format="svg", metadata=_NO_METADATA)
    root = ET.fromstring(buf.getvalue())
    dissolve_bare_groups(root)
    return ET.tostring(root, encoding="unicode")


def dissolve_bare_groups(element: ET.Element) -> None:
    """Replace each ``<g>`` below ``element`` that has no attribute but an id by its children."""
    kept: list[ET.Element] = []
    for child in element:
        dissolve_bare_groups(child)
        if child.tag == _GROUP and set(child.attrib) <= {"id"} and not (child.text or "").strip():
            kept.extend(child)
        else:
            kept.append(child)
    element[:] = kept
