"""Repository-wide pytest configuration: say in every session's header what it runs against.

The drills plugin itself (fixtures, marker, reports) is registered through the ``pytest11``
entry point, so it works the same for users who keep their scenarios elsewhere.
"""

from __future__ import annotations

import pytest


def pytest_report_header(config: pytest.Config) -> list[str]:
    from drills import kinds
    from drills.environment import drills_version
    from drills.errors import DrillError
    from drills.runtime import choose

    lines = [f"drills {drills_version()}"]
    try:
        concrete, why = choose.resolve("auto")
        lines.append(f"drills runtime auto -> {concrete} ({why})")
    except DrillError as exc:
        lines.append(f"drills runtime auto: {exc}")
    lines.append("drills images: " + ", ".join(k.image() for k in kinds.all_kinds()))
    for kind in kinds.all_kinds():
        try:
            found = ", ".join(f"{k} {v}" for k, v in kind.local_servers().items())
            lines.append(f"drills local {kind.title}: {found}")
        except DrillError as exc:
            lines.append(f"drills local {kind.title}: {exc}")
    return lines
