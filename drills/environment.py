"""Facts about where a drill ran, for the report: versions, host, plan hash."""

from __future__ import annotations

import platform
import sys
from importlib import metadata
from typing import Any


def drills_version() -> str:
    try:
        return metadata.version("drills")
    except metadata.PackageNotFoundError:
        return "unknown"


def host_facts() -> dict[str, Any]:
    return {
        "python": platform.python_version(),
        "python_executable": sys.executable,
        "drills": drills_version(),
        "host": platform.node(),
        "platform": platform.platform(),
        "cpus": _cpus(),
    }


def _cpus() -> int:
    import os

    return len(os.sched_getaffinity(0))
