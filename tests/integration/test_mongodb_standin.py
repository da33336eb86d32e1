"""The MongoDB stand-in gives the write concern's j its meaning through its PostgreSQL.

FerretDB ignores the write concern; drills runs the PostgreSQL under it with
synchronous_commit on for j=true and off for j=false (drills/kinds/mongodb). The
no-journal calibration rests on that mapping: this test reads the setting back from the
running server, on both runtimes (compose: drills' offline image).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from drills.kinds.mongodb.settings import MongoSettings
from drills.runtime.compose import ComposeRuntime
from drills.runtime.local import LocalRuntime
from drills.stack.stack import Stack

pytestmark = pytest.mark.slow

RUNTIMES = ["local", pytest.param("compose", marks=pytest.mark.compose)]


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_j_is_the_backing_synchronous_commit(runtime: str, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DRILLS_IMAGES", "offline")
    made = LocalRuntime("itest-standin", tmp_path / "logs") if runtime == "local" else \
        ComposeRuntime("itest-standin", tmp_path / "logs")
    wanted = {"journaled": MongoSettings(j=True), "unjournaled": MongoSettings(j=False)}
    with Stack(made, made.services(wanted)) as stack:
        stack.up()
        for name, settings in wanted.items():
            service = stack[name]
            assert service.identify()["server"] == "FerretDB"
            done = service.exec(["psql", "-XtAc", "SHOW synchronous_commit"])
            assert done.returncode == 0, done.stderr
            assert done.stdout.decode().strip() == ("on" if settings.j else "off")
            shown = service.describe()
            assert shown["settings"]["backing synchronous_commit"] == \
                done.stdout.decode().strip()
            assert "FerretDB" in shown["version"]
