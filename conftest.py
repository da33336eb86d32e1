"""Repository-wide pytest configuration: say in every session's header what it runs against.

The drills plugin itself (fixtures, marker, reports) is registered through the ``pytest11``
entry point, so it works the same for users who keep their scenarios elsewhere.
"""

from __future__ import annotations

import pytest


def pytest_report_header(config: pytest.Config) -> list[str]:
    from drills.environment import drills_version
    from drills.errors import DrillError
    from drills.stack import binaries, engine, runtimes

    lines = [f"drills {drills_version()}"]
    try:
        concrete, why = runtimes.resolve("auto")
        lines.append(f"drills runtime auto -> {concrete} ({why})")
    except DrillError as exc:
        lines.append(f"drills runtime auto: {exc}")
    lines.append(f"drills images: {engine.image_for('postgres')}, {engine.image_for('redis')}")
    try:
        lines.append(f"drills local servers: PostgreSQL in {binaries.postgres_bindir()}, "
                     f"{binaries.redis_server()}")
    except DrillError as exc:
        lines.append(f"drills local servers: {exc}")
    return lines
