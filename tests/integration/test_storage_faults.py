"""Power loss and full disks, as drills (drills/plans/storage.yaml), on the local runtime.

One run of the storage plan (every scenario), read by each test: the fsync-on power cut
loses nothing, synchronous_commit off loses the newest commits, fsync off shows damage
(the negative control), Redis loses per its appendfsync, a full WAL or AOF disk recovers
with every acknowledged write; and nothing stays mounted afterwards.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from drills.storage import lazyfs, loopfs
from drills.storage.mounts import mounts
from tests.integration.conftest import REPO, drill_cli

PLAN = REPO / "drills" / "plans" / "storage.yaml"


@pytest.fixture(scope="module")
def storage_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    for reason in (lazyfs.available(), loopfs.available()):
        if reason is not None:
            pytest.skip(reason)
    out = tmp_path_factory.mktemp("storage")
    run_id = f"itest-storage-{uuid.uuid4().hex[:6]}"
    done = drill_cli("run", "--plan", str(PLAN), "--runtime", "local", "--out", str(out),
                     "--run-id", run_id, timeout=1200)
    summary = json.loads((out / run_id / "summary.json").read_text())
    yield {"code": done.returncode, "output": done.stdout[-4000:] + done.stderr[-2000:],
           "dir": out / run_id, "run_id": run_id,
           "scenarios": {s["name"]: s for s in summary["scenarios"]}}


def scenario(run: dict[str, Any], name: str) -> dict[str, Any]:
    found: dict[str, Any] = run["scenarios"][name]
    return found


def rows(found: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {t["key"]: t for t in found["targets"]}


def fault_facts(run: dict[str, Any], name: str) -> dict[str, Any]:
    journal = json.loads((run["dir"] / name / "journal.json").read_text())
    return next(e["data"] for e in journal["events"]
                if e["kind"] == "step.end" and e["data"].get("category") == "fault")


def test_the_whole_plan_passes_and_leaves_nothing_mounted(storage_run: dict[str, Any]) -> None:
    assert storage_run["code"] == 0, storage_run["output"]
    assert not [m for m in mounts() if storage_run["run_id"] in str(m.target)]


def test_a_power_cut_with_fsync_on_loses_nothing(storage_run: dict[str, Any]) -> None:
    found = scenario(storage_run, "postgres-power-loss")
    assert found["verdict"] == "pass", found["targets"]
    assert rows(found)["max_lost_writes"]["measured"].startswith("0 of ")
    facts = fault_facts(storage_run, "postgres-power-loss")
    assert "cache is cleared" in facts["lazyfs"] and facts["lazyfs_version"] == "0.3.0"


def test_asynchronous_commit_loses_the_newest_commits(storage_run: dict[str, Any]) -> None:
    found = scenario(storage_run, "postgres-power-loss-async-commit")
    assert found["verdict"] == "pass", found["targets"]
    assert found["lost_writes"] > 0  # the power cut has teeth where durability is traded
    rpo = found["rpo_s"]
    # the newest: all within PostgreSQL's own bound, three wal_writer_delay (3 x 200 ms)
    assert rpo is not None and 0 < rpo <= 0.6


def test_fsync_off_is_a_negative_control_that_sees_damage(storage_run: dict[str, Any]) -> None:
    found = scenario(storage_run, "postgres-power-loss-fsync-off")
    assert found["verdict"] == "pass", found["targets"]
    [row] = found["targets"]
    assert row["key"] == "calibration.damage"
    assert row["measured"] == "the server did not start again" or \
        " acknowledged writes lost" in row["measured"]


def test_redis_loses_what_its_appendfsync_allows(storage_run: dict[str, Any]) -> None:
    always = scenario(storage_run, "redis-power-loss-always")
    assert always["verdict"] == "pass" and always["lost_writes"] == 0, always["targets"]
    everysec = scenario(storage_run, "redis-power-loss-everysec")
    assert everysec["verdict"] == "pass", everysec["targets"]
    assert everysec["rpo_s"] is None or everysec["rpo_s"] <= 2.0


@pytest.mark.parametrize("name", ["postgres-disk-full-wal", "redis-disk-full-aof"])
def test_a_full_disk_recovers_every_acknowledged_write(storage_run: dict[str, Any],
                                                       name: str) -> None:
    found = scenario(storage_run, name)
    assert found["verdict"] == "pass", found["targets"]
    assert found["lost_writes"] == 0
    facts = fault_facts(storage_run, name)
    assert facts["filled_bytes"] > 0 and facts["free_bytes_after"] < 1024 * 1024


def test_image_and_mount_points_are_gone(storage_run: dict[str, Any]) -> None:
    leftovers = [p for p in Path("/tmp").glob(f"drills-{storage_run['run_id']}*")]
    assert leftovers == []
