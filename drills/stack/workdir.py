"""The per-run working directory: ``<tmp>/drills-<run id>-*``, with an owner record.

``owner.json`` names the drill process; ``drill clean`` removes directories (and the
servers inside them) only when that process is gone.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path

WORKDIR_PREFIX = "drills-"
OWNER_FILE = "owner.json"


def make_workdir(run_id: str, runtime: str) -> Path:
    workdir = Path(tempfile.mkdtemp(prefix=f"{WORKDIR_PREFIX}{run_id}-"))
    # local servers may run as another account (postgres): let them traverse, not list
    workdir.chmod(0o711)
    (workdir / OWNER_FILE).write_text(json.dumps(
        {"pid": os.getpid(), "run_id": run_id, "runtime": runtime, "created": time.time()}
    ))
    return workdir
