"""The storage drills in a plan: power cuts and full disks, and the negative control."""

from __future__ import annotations

from pathlib import Path

import pytest

from drills.catalogue import CATALOGUE
from drills.errors import PlanError
from drills.kinds.postgres.settings import PostgresSettings
from drills.kinds.redis.settings import RedisSettings
from drills.plan import load_plan
from drills.plan.preview import scenario_lines

REPO = Path(__file__).resolve().parents[2]
STORAGE = REPO / "drills" / "plans" / "storage.yaml"


def test_the_storage_plan_reads_and_says_what_each_drill_needs() -> None:
    plan = load_plan(STORAGE)
    assert set(plan.scenarios) == {n for n, s in CATALOGUE.items() if s.storage_needs}
    control = plan.scenarios["postgres-power-loss-fsync-off"]
    assert not control.targets.to_dict()["rto_s"]
    lines = "\n".join(scenario_lines(plan, control))
    assert "negative control, no targets" in lines and "  targets: " not in lines


def test_a_negative_control_takes_no_targets(tmp_path: Path) -> None:
    path = tmp_path / "plan.yaml"
    path.write_text("version: 1\nscenarios:\n  postgres-power-loss-fsync-off:\n"
                    "    targets: {rpo: 1s}\n")
    with pytest.raises(PlanError) as caught:
        load_plan(path)
    assert caught.value.key == "scenarios.postgres-power-loss-fsync-off.targets"
    assert "negative control" in caught.value.problem


def test_storage_is_disk_or_lazyfs() -> None:
    assert PostgresSettings(storage="lazyfs").storage == "lazyfs"
    with pytest.raises(ValueError, match="use one of disk, lazyfs"):
        RedisSettings(storage="tmpfs")


def test_storage_drills_say_what_they_need() -> None:
    for name, info in CATALOGUE.items():
        if info.storage_needs:
            assert info.storage_needs in ("lazyfs", "loop"), name
            assert name.startswith(("postgres-", "redis-")), name


def test_lazyfs_answer_in_a_line_for_the_report() -> None:
    from drills.stack.storage.lazyfs import LazyFS

    answer = ("[2026-12-06 12:13:56.595] [global] [info] [lazyfs.faults.worker]: received "
              "'lazyfs::clear-cache'\n"
              "[2026-12-06 12:13:56.595] [global] [warning] [lazyfs.cmds]: clear cache "
              "request submitted...\n"
              "[2026-12-06 12:13:56.595] [global] [warning] [lazyfs.cmds]: cache is cleared.\n"
              "finished::clear-cache")
    assert LazyFS.said(answer) == "clear cache request submitted...; cache is cleared."
    assert LazyFS.said("finished::clear-cache\n") == "finished::clear-cache"


def test_a_machine_without_fuse_gets_the_reason_not_a_mount(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from drills.errors import StackError
    from drills.stack.storage import lazyfs

    monkeypatch.setattr(lazyfs, "available", lambda: "no /dev/fuse: this kernel has no FUSE")
    mount = lazyfs.LazyFS(tmp_path / "files", name="t")
    (tmp_path / "files").mkdir()
    with pytest.raises(StackError, match=r"cannot mount LazyFS on .*: no /dev/fuse"):
        mount.mount(tmp_path / "mnt", tmp_path / "root")
    assert mount.pid is None
