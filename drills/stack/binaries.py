"""Server binaries for the local runtime: finding them, and the version they report."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path


def find_program(name: str, env_var: str) -> Path | None:
    """$<env_var>, else ``name`` on PATH, else beside this Python (a venv's bin)."""
    candidates = [os.environ.get(env_var), shutil.which(name),
                  str(Path(sys.executable).parent / name)]
    for candidate in candidates:
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return Path(candidate)
    return None


def version_of(binary: Path) -> str:
    """The version a server binary reports, e.g. '15.18' or '7.0.15'."""
    try:
        out = subprocess.run([str(binary), "--version"], capture_output=True, text=True,
                             check=False, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    match = re.search(r"(\d+\.\d+(?:\.\d+)?)", out.stdout + out.stderr)
    return match.group(1) if match else "unknown"
