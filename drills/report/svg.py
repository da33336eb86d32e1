"""A matplotlib figure as an ``<svg>`` element to inline in the report, without dead weight.

matplotlib wraps nearly every mark in a ``<g id="...">`` that carries nothing else (a tick:
a group for the tick, one for its line, one for its label). Such a group draws nothing and
changes nothing it holds, but every element costs the PDF's renderer (WeasyPrint styles
and draws each one): of a timeline chart's about 450 elements, 263 are these groups.
``figure_svg`` drops their tags and keeps what they hold; the picture is the same, mark
for mark. Measured on the default plan's condensed PDF: bench/pdf_cost.py.

The text is edited as text, not through an XML tree: ElementTree's namespace prefixes are
global to the process (another library registering one changes what it writes), and the
HTML parser that reads an inline ``<svg>`` knows ``xlink:href`` only by that spelling.
"""

from __future__ import annotations

import io
import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.figure import Figure

_SVG_START = re.compile(r"<svg\b")
_NO_METADATA = {"Type": None, "Format": None, "Creator": None, "Date": None}
#: a group's start tag (its attributes, "/" if it closes itself) or end tag, with the
#: indentation and line end around it when it is alone on its line. matplotlib escapes
#: "<" and ">" in attribute values and text, so a tag ends at the first ">".
_GROUP_TAG = re.compile(r"(?m)(^[ \t]*)?(?:<g\b([^>]*?)(/?)>|</g>)(?(1)[ \t]*\n?)")
_ID_ONLY = re.compile(r'\s*id="[^"]*"\s*|\s*')


def figure_svg(fig: Figure, salt: str) -> str:
    """The figure as one ``<svg>`` element (no XML prolog), its id-only groups dissolved.

    ``salt`` seeds matplotlib's ids, so that two charts inlined in one page never share
    one and the same figure always gives the same text (a report rebuilt is identical).
    """
    import matplotlib

    buf = io.StringIO()
    with matplotlib.rc_context({"svg.hashsalt": salt, "svg.fonttype": "none"}):
        fig.savefig(buf, format="svg", metadata=_NO_METADATA)
    text = buf.getvalue()
    start = _SVG_START.search(text)
    return dissolve_bare_groups(text[start.start():] if start else text)


def dissolve_bare_groups(svg: str) -> str:
    """``svg`` without the tags of its groups that have no attribute but an id.

    What such a group holds stays where it was; a group with any other attribute (a
    transform, a clip path, a style) stays whole.
    """
    kept: list[str] = []
    bare: list[bool] = []  # for each group open at this point: whether its tags go
    at = 0
    for tag in _GROUP_TAG.finditer(svg):
        kept.append(svg[at:tag.start()])
        at = tag.end()
        if tag.group(2) is None:  # an end tag
            drop = bare.pop() if bare else False
        else:
            drop = _ID_ONLY.fullmatch(tag.group(2)) is not None
            if not tag.group(3):  # not self-closing: its end tag is to come
                bare.append(drop)
        if not drop:
            kept.append(tag.group())
    kept.append(svg[at:])
    return "".join(kept)
