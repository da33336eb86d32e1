"""What `drill check` concludes about a plan: backup chains, and contradictions at their edges.

Issue 20: a daily base backup with WAL every 5 min and an RPO of 15 min was "RPO 24 h,
target already missed"; an RPO of 24 h against a daily dump, manual steps as long as the
RTO and phase limits adding up past it all passed.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from drills.errors import PlanError
from drills.measure.verdict import TargetCheck, Verdict
from drills.plan import load_plan
from drills.plan.chains import chain_of, worst_case
from drills.plan.contradictions import find
from tests.unit.test_plan_v2 import STACK, write

RESTORE = """
procedures:
  base: {run: [sh, -c, 'pg_basebackup -D "$B"'], env: {B: "{backup_dir}"}}
  dump: {run: [sh, -c, 'pg_dump > "$B/x.sql"'], env: {B: "{backup_dir}"}}
  restore: {run: [sh, -c, 'restore "$1"', restore, "{latest:%(job)s}"], timeout: 5m}
"""


def plan_of(tmp_path: Path, backups: str, targets: str, job: str = "nightly",
            recovery: str = "[{provision: db}, {procedure: restore}]") -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    return write(tmp_path, STACK + RESTORE % {"job": job} + "backups:\n" + backups
                 + "scenarios:\n  loss:\n    fault: {lose_server: db}\n"
                 f"    recovery: {recovery}\n    targets: {targets}\n")


def rpo_found(tmp_path: Path, backups: str, targets: str, job: str = "nightly") -> list[str]:
    return [c.message for c in find(load_plan(plan_of(tmp_path, backups, targets, job)))
            if c.key.endswith("targets.rpo")]


def test_a_base_backup_with_wal_every_5_min_meets_an_rpo_of_15_min(tmp_path: Path) -> None:
    backups = ("  nightly: {service: db, procedure: base, every: 24h}\n"
               "  wal: {service: db, base: nightly, every: 5m, lag: 1m}\n")
    assert rpo_found(tmp_path, backups, "{rto: 1h, rpo: 15m}") == []
    jobs = load_plan(plan_of(tmp_path, backups, "{rto: 1h, rpo: 15m}")).backups
    assert [j.name for j in chain_of(jobs, "nightly")] == ["nightly", "wal"]
    worst = worst_case(jobs, "nightly")
    assert (worst.link, worst.bound_s) == ("wal", 360.0)
    # the same chain cannot promise less than its finest link's interval plus its lag
    message = rpo_found(tmp_path / "b", backups, "{rto: 1h, rpo: 5m}")
    assert len(message) == 1 and "every 5 min + lag 1 min" in message[0]
    assert "= 6 min" in message[0] and "nightly + wal" in message[0]


def test_a_daily_dump_cannot_promise_an_rpo_of_24_h(tmp_path: Path) -> None:
    backups = "  nightly: {service: db, procedure: dump, every: 24h}\n"
    found = rpo_found(tmp_path, backups, "{rto: 1h, rpo: 24h}")
    assert len(found) == 1 and "every 24 h + its own duration: more than 24 h" in found[0]
    assert rpo_found(tmp_path / "b", backups, "{rto: 1h, rpo: 25h}") == []


def test_a_link_the_server_keeps_cannot_be_restored_by_name(tmp_path: Path) -> None:
    backups = ("  nightly: {service: db, procedure: base, every: 24h}\n"
               "  wal: {service: db, base: nightly, every: 5m}\n")
    blocking = [c for c in find(load_plan(plan_of(tmp_path, backups, "{rto: 1h}", job="wal")))
                if c.blocking]
    assert any("name {latest:nightly}" in c.message for c in blocking)


@pytest.mark.parametrize(("backups", "key", "says"), [
    ("  wal: {service: db, base: nope, every: 5m}\n", "backups.wal.base", "nope is not a backup"),
    ("  a: {service: db, base: b, every: 5m}\n  b: {service: db, base: a, every: 5m}\n",
     "backups.a.base", "the chain loops"),
    ("  a: {service: db, procedure: dump, every: 1h}\n"
     "  b: {service: cache, base: a, every: 5m}\n", "backups.b.base", "a chain continues"),
    ("  a: {service: db, procedure: dump, every: 1h, lag: 1m}\n", "backups.a.lag",
     "only a link that continues"),
])
def test_bad_chains_are_refused(tmp_path: Path, backups: str, key: str, says: str) -> None:
    with pytest.raises(PlanError, match=f"{key}: .*{says}"):
        load_plan(plan_of(tmp_path, backups, "{rto: 1h}"))


def test_manual_steps_as_long_as_the_rto_are_a_contradiction(tmp_path: Path) -> None:
    backups = "  nightly: {service: db, procedure: dump, every: 1h}\n"
    recovery = "[{provision: db}, {procedure: restore}, {manual: call the DBA, takes: 30m}]"
    plan = load_plan(plan_of(tmp_path, backups, "{rto: 30m}", recovery=recovery))
    assert any(c.key == "scenarios.loss.targets.rto" and "leaving nothing" in c.message
               for c in find(plan))


def test_phase_limits_adding_up_past_the_rto_are_a_contradiction(tmp_path: Path) -> None:
    backups = "  nightly: {service: db, procedure: dump, every: 1h}\n"
    plan = load_plan(plan_of(tmp_path, backups,
                             "{rto: 30m, phases: {detection: 20m, execution: 15m}}"))
    found = [c.message for c in find(plan) if c.key == "scenarios.loss.targets.phases"]
    assert len(found) == 1 and "= 35 min, more than the RTO 30 min" in found[0]


def test_a_retention_shorter_than_detection_is_a_contradiction(tmp_path: Path) -> None:
    backups = "  nightly: {service: db, procedure: dump, every: 1h, retention: 2h}\n"
    plan = load_plan(plan_of(tmp_path, backups, "{rto: 4h, phases: {detection: 3h}}"))
    assert any(c.key == "scenarios.loss.targets.phases.detection"
               and "kept only 2 h" in c.message for c in find(plan))


def test_the_built_in_drills_read_their_schedule_as_a_chain(tmp_path: Path) -> None:
    path = tmp_path / "plan.yaml"
    path.write_text("version: 1\nscenarios:\n"
                    "  postgres-restore-dump: {backup: {every: 24h},\n"
                    "                          targets: {rto: 1m, rpo: 30s}}\n"
                    "  postgres-restore-wal: {backup: {every: 24h},\n"
                    "    params: {archive_timeout_s: 60}, targets: {rto: 1m, rpo: 5m}}\n")
    found = {c.key: c.message for c in find(load_plan(path))}
    assert "every 24 h + its own duration" in found["scenarios.postgres-restore-dump.targets.rpo"]
    assert "scenarios.postgres-restore-wal.targets.rpo" not in found  # WAL every 60 s


GAP_PLAN = """version: 1
scenarios:
  postgres-restore-dump:
    backup: {every: 24h}
    targets: {rto: 1m, rpo: 6h}
"""


def _gap_rows(tmp_path: Path, accept: str = "") -> list[TargetCheck]:
    from drills.measure.plan_gaps import gap_rows
    from drills.plan.contradictions import gaps, target_of
    from drills.record.clock import Instant
    from drills.record.timeline import Event, EventKind

    path = tmp_path / "plan.yaml"
    path.write_text(GAP_PLAN + accept)
    events = [Event(i, EventKind.PLAN_GAP, gap.key, Instant.now(),
                    {"key": gap.key, "target": target_of(gap), "message": gap.message,
                     "accepted": accepted.to_dict() if accepted else None})
              for i, (gap, accepted) in enumerate(gaps(load_plan(path), "postgres-restore-dump"))]
    return gap_rows(events, [])


def test_a_gap_on_the_real_schedule_is_a_failing_row_unless_accepted(tmp_path: Path) -> None:
    [row] = _gap_rows(tmp_path)
    assert row.key == "plan.rpo" and row.verdict == Verdict.FAIL
    assert row.resolution == "projection, not measured" and "every 24 h" in row.measured
    accept = ("    accept:\n      - {target: rpo, reason: hourly snapshots are the real RPO, "
              "by: J. Doe (CTO), until: '2999-12-31'}\n")
    [row] = _gap_rows(tmp_path, accept)
    assert row.verdict == Verdict.PASS and "accepted by J. Doe (CTO) until 2999-12-31" in \
        row.measured
    [row] = _gap_rows(tmp_path, accept.replace("2999-12-31", "2020-01-31"))
    assert row.verdict == Verdict.FAIL and "expired on 2020-01-31" in row.reason


@pytest.mark.parametrize(("accept", "key", "says"), [
    ("[{target: rpo, reason: r, by: me}]", "accept[0].until", "missing"),
    ("[{target: latency, reason: r, by: me, until: '2030-01-01'}]", "accept[0].target",
     "one of rto, rpo"),
    ("[{target: rpo, reason: r, by: me, until: soon}]", "accept[0].until", "YYYY-MM-DD"),
    ("{target: rpo}", "accept", "must be a list"),
])
def test_bad_acceptances_are_refused(tmp_path: Path, accept: str, key: str, says: str) -> None:
    path = tmp_path / "plan.yaml"
    path.write_text(GAP_PLAN + f"    accept: {accept}\n")
    with pytest.raises(PlanError, match=f"scenarios.postgres-restore-dump.{re.escape(key)}: "
                       f".*{says}"):
        load_plan(path)


def test_the_projection_of_a_wal_drill_is_its_chain(tmp_path: Path) -> None:
    """A base backup every 24 h and WAL every 2 s: the worst case is the WAL link, a figure."""
    import json
    import shutil

    from drills.measure.evaluate import evaluate
    from drills.record.journal import ScenarioFiles

    run = tmp_path / "postgres-restore-wal"
    shutil.copytree(Path(__file__).parents[2] / "fixtures" / "recorded" / "postgres-restore-wal",
                    run)
    journal = json.loads((run / "journal.json").read_text())
    journal["scenario"]["backup"] = {"every_s": 86400.0, "production_bytes": None}
    (run / "journal.json").write_text(json.dumps(journal))
    projection = evaluate(ScenarioFiles(run)).projection
    assert projection is not None and projection.worst_case_rpo_s == 2.0
    assert "a chain: base backups every 86400 s" in projection.rpo_basis
