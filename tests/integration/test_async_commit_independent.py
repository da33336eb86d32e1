"""postgres-kill-async-commit: the drill's loss count against an independent count.

The independent count reads the table with psql (not the drill's read-back code) and
the raw ack records with struct (not the drill's history reader).
"""

from __future__ import annotations

import os
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from drills.kinds.postgres.local import postgres_bindir
from drills.pytest_plugin import DrillFactory
from drills.scenarios.test_postgres_kill import run_postgres_kill

pytestmark = pytest.mark.slow


def test_lost_count_matches_independent_readback(
    drill_factory: DrillFactory, tmp_path: Path
) -> None:
    drill = drill_factory("postgres-kill-async-commit", out_dir=tmp_path)
    run_postgres_kill(drill, synchronous_commit=False)
    result = drill.conclude()
    pg = drill.stack_service("postgres")
    ep = pg.endpoint
    psql = subprocess.run(
        [str(postgres_bindir() / "psql"), "-h", ep.host, "-p", str(ep.port), "-U", str(ep.user),
         "-d", str(ep.database), "-At", "-c", "SELECT id FROM drill_writes"],
        env={**os.environ, "PGPASSWORD": ep.password}, capture_output=True, text=True, check=True,
    )
    present = {int(line) for line in psql.stdout.split()}
    # the history read by hand, not by drills' reader: 40-byte records, type b"O" = ok,
    # the id at offset 8 (drills/record/history/format.py), after a header record
    raw = drill.files.history.read_bytes()
    acked = {struct.unpack_from("<q", raw, at + 8)[0]
             for at in range(40, len(raw) - len(raw) % 40, 40) if raw[at:at + 1] == b"O"}
    independent_lost = acked - present
    assert result.writes is not None
    assert len(independent_lost) > 0, "synchronous_commit=off lost nothing under SIGKILL"
    assert set(result.writes.lost) == independent_lost
    assert result.rpo is not None and result.rpo.lost_writes == len(independent_lost)
    # every lost write falls in exactly one class, and each class has its verdict row
    # (measurement rule 12): the default plan accepts a window before the fault and a
    # discard window after it
    assert result.loss is not None
    assert result.loss.before_fault + result.loss.after_fault == len(independent_lost)
    rows = {c.key: c for c in result.checks}
    assert {"rpo_s", "loss.after_fault"} <= set(rows)
    assert rows["loss.after_fault"].measured.startswith(f"{result.loss.after_fault} of ")
    assert "gevent" not in sys.modules, "Locust's gevent patching leaked into the drill process"
