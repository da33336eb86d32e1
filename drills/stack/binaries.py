"""Server binaries for the local runtime: finding them, and the version they report."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path


def version_of(binary: Path) -> str:
    """The version a server binary reports, e.g. '15.18' or '7.0.15'."""
    try:
        out = subprocess.run([str(binary), "--version"], capture_output=True, text=True,
                             check=False, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    match = re.search(r"(\d+\.\d+(?:\.\d+)?)", out.stdout + out.stderr)
    return match.group(1) if match else "unknown"
