"""Finding the server binaries the local runtime starts."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

from drills.errors import StackError


def postgres_bindir() -> Path:
    """Where initdb and postgres live: $DRILLS_PG_BINDIR, Debian's layout, or PATH."""
    configured = os.environ.get("DRILLS_PG_BINDIR")
    candidates = [Path(configured)] if configured else []
    debian = sorted(
        Path("/usr/lib/postgresql").glob("*/bin"),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
        reverse=True,
    )
    candidates += debian
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(Path(on_path).resolve().parent)
    for bindir in candidates:
        if (bindir / "initdb").exists() and (bindir / "postgres").exists():
            return bindir
    raise StackError(
        "PostgreSQL server binaries (initdb, postgres) not found. To fix this, either "
        "install them (apt-get install postgresql-15, or run scripts/setup.sh) or set "
        "DRILLS_PG_BINDIR to the directory that holds them."
    )


def redis_server() -> Path:
    """The redis-server binary: $DRILLS_REDIS_SERVER or PATH."""
    configured = os.environ.get("DRILLS_REDIS_SERVER") or shutil.which("redis-server")
    if configured and Path(configured).exists():
        return Path(configured)
    raise StackError(
        "redis-server not found. To fix this, either install it (apt-get install "
        "redis-server, or run scripts/setup.sh) or set DRILLS_REDIS_SERVER to its path."
    )


def version_of(binary: Path) -> str:
    """The version a server binary reports, e.g. '15.18' or '7.0.15'."""
    out = subprocess.run([str(binary), "--version"], capture_output=True, text=True, check=False)
    match = re.search(r"(\d+\.\d+(?:\.\d+)?)", out.stdout + out.stderr)
    return match.group(1) if match else "unknown"
