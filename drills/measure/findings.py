"""The findings catalogue: each way a drill can fail, with a stable code and advice.

Every finding tells the operator what to check next. Codes are stable: CI pipelines
and dashboards may key on them.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Severity(StrEnum):
    CRITICAL = "critical"
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True)
class FindingKind:
    """A catalogue entry."""

    code: str
    severity: Severity
    advice: str


CATALOGUE: dict[str, FindingKind] = {
    k.code: k
    for k in (
        FindingKind(
            "PLAN_MISSES_TARGET", Severity.ERROR,
            "The plan cannot hold this target on its real schedule, whatever the drill "
            "measured in compressed time (a daily dump against an RPO of hours, manual steps "
            "as long as the RTO). Change the schedule or the target, or accept the gap in the "
            "plan with a reason, who signed it off and until when (accept:).",
        ),
        FindingKind(
            "RTO_EXCEEDED", Severity.ERROR,
            "The service answered correctly later than the plan allows. Look at the longest "
            "RTO phase: detection (monitoring, restart policy), a recovery step, or verification.",
        ),
        FindingKind(
            "PHASE_EXCEEDED", Severity.ERROR,
            "One phase of the recovery took longer than the plan allows for it: detection "
            "(monitoring, alerting), decision, execution (the procedure's own steps; its log "
            "is with the scenario's records) or verification (the service's own start-up).",
        ),
        FindingKind(
            "CHECK_FAILED", Severity.ERROR,
            "A check the plan runs after recovery did not pass: the service answers, but not "
            "as the plan expects (a health endpoint, a row count, a queue). The check's "
            "answer is in the verdict table.",
        ),
        FindingKind(
            "AVAILABILITY_MISSED", Severity.ERROR,
            "Fewer writes succeeded while the fault was in place than the plan promises. Look "
            "at the errors of the fault phase: refused (the app gave up at once: a circuit "
            "breaker or a fallback would help) or unknown (timeouts: shorter deadlines, retries "
            "of idempotent writes).",
        ),
        FindingKind(
            "LATENCY_EXCEEDED", Severity.ERROR,
            "Writes took longer than the plan allows while the fault was in place. Compare the "
            "phases' p50 and p99: a slow link adds to every request; timeouts show as a p99 "
            "near the app's deadline.",
        ),
        FindingKind(
            "REGRESSION", Severity.ERROR,
            "A figure rose above the regression limit the plan sets: more than the allowed "
            "share above the median of this scenario's last passing runs, though it may still "
            "meet its target. Compare the RTO phases and the service levels with the runs in "
            "the trend chart: a slower restart, a bigger dataset, a slower disk or image.",
        ),
        FindingKind(
            "NEVER_RECOVERED", Severity.CRITICAL,
            "No steady-state probe passed after the fault while the drill watched. Check the "
            "recovery procedure and the service log attached to the report.",
        ),
        FindingKind(
            "RPO_EXCEEDED", Severity.ERROR,
            "Acknowledged writes older than the RPO target are gone. Check the durability "
            "settings (synchronous_commit, appendfsync, snapshot interval) and backup age.",
        ),
        FindingKind(
            "ACKED_WRITES_LOST", Severity.CRITICAL,
            "Writes the service acknowledged are gone after recovery. Check durability "
            "settings and whether recovery restored an older state than the one acknowledged.",
        ),
        FindingKind(
            "WRITES_CORRUPTED", Severity.CRITICAL,
            "Rows came back with values other than those acknowledged. Check data checksums, "
            "the storage layer, and any restore that mixes backups.",
        ),
        FindingKind(
            "UNEXPECTED_WRITES", Severity.ERROR,
            "The store holds writes the workload never made, or made and saw refused. Another "
            "writer shares the drill's table, or the workload or checker has a bug: do not "
            "trust this run's loss figures.",
        ),
        FindingKind(
            "FOREIGN_WRITER", Severity.ERROR,
            "Rows at ids the drill wrote hold other values, and the drill's own writes of "
            "those ids were refused (a duplicate key): something outside the drill writes to "
            "its ledger table, or an earlier run's rows were left in it. This is a conflict "
            "between writers, not damaged storage: give the drill a ledger table nobody else "
            "writes, and drill again.",
        ),
        FindingKind(
            "CALIBRATION_FAILED", Severity.ERROR,
            "The drill's measurement disagrees with a value it injected itself. Do not trust "
            "figures from this run; check the probe interval reached and machine load.",
        ),
        FindingKind(
            "COULD_NOT_VERIFY", Severity.ERROR,
            "A check could not run, so its target is not proven. The reason names what was "
            "missing: a service that never started, an empty history, a failed read-back.",
        ),
        FindingKind(
            "LOST_AFTER_FAULT_BEGAN", Severity.CRITICAL,
            "Writes acknowledged after the fault took effect were lost: clients were told they "
            "succeeded, and the recovery discarded them (a container's other processes outlive "
            "its PID 1 by milliseconds; an accident leaves the server answering until it is "
            "stopped; a restore discards what was written since the backup). Stop writes "
            "sooner after an accident (fence the service), or state the plan's tolerance as "
            "discard_window. They add nothing to the RPO window, which ends at the fault.",
        ),
        FindingKind(
            "RECOVERY_FAILED", Severity.CRITICAL,
            "A step of the recovery procedure failed: the service was not recovered the way "
            "the plan says. The step's error is in the verdict table and its log with the "
            "scenario's records; fix the procedure (or what it depends on) and drill again.",
        ),
        FindingKind(
            "BACKUP_FAILED", Severity.CRITICAL,
            "The team's backup procedure exited non-zero, could not start, or was killed at "
            "its timeout: the backup did not happen, so a restore would find only an older "
            "one (or none). Its error and the last lines of its log are in the verdict "
            "table, the whole log with the scenario's records (logs/); fix the command "
            "(credentials, paths, free space, a timeout too short for the data) and drill "
            "again.",
        ),
        FindingKind(
            "SETUP_FAILED", Severity.ERROR,
            "A setup procedure of the plan (stack.setup: migrations, the team's data) exited "
            "non-zero, could not start, or was killed at its timeout, so the drill stopped "
            "before any load. A new environment built from the runbook would stop there too. "
            "Its error and the last lines of its log are in the verdict table, the whole log "
            "with the scenario's records (logs/); fix it and drill again.",
        ),
        FindingKind(
            "BACKUP_UNUSABLE", Severity.CRITICAL,
            "The backup's own tool (pg_restore --list, pg_verifybackup, redis-check-rdb) "
            "rejected it right after it was taken: a restore from it would fail or restore "
            "garbage. Check the backup job's output, free space, and the storage it writes to.",
        ),
        FindingKind(
            "BACKUP_INCOMPLETE", Severity.CRITICAL,
            "Writes acknowledged before the backup's consistency point are missing after the "
            "restore: the backup did not hold what it claims. Check that the backup reads a "
            "consistent snapshot, that the restore ran to the end, and the restore's log.",
        ),
        FindingKind(
            "RESTORE_TABLES_INCOMPLETE", Severity.CRITICAL,
            "A table the database held at the backup is missing after the restore, or a table "
            "nobody wrote to between the backup and the fault came back with fewer rows. The "
            "backup leaves it out (pg_dump -t/-T/-n, a schema the backup user cannot read) or "
            "the restore skipped it (an error it ignored, a missing role): read the restore's "
            "log and the backup command, then drill again.",
        ),
        FindingKind(
            "REHEARSAL_FAILED", Severity.CRITICAL,
            "The backup, restored into a scratch server before the fault by the plan's own "
            "restore procedure (verify: restore), did not come back whole: the procedure "
            "failed (a role or extension the dump needs, a wrong flag), a check of the plan "
            "failed there, or a table of the backup was missing or short. The real restore "
            "would do the same: read the rehearsal's log (logs/rehearsal-*.log), fix the "
            "backup or the restore, and drill again.",
        ),
        FindingKind(
            "PITR_OVERSHOT", Severity.CRITICAL,
            "Writes made after the recovery target are present: the point-in-time recovery "
            "went past the accident. Check recovery_target_inclusive and the target found.",
        ),
        FindingKind(
            "REPLICA_NOT_STREAMING", Severity.CRITICAL,
            "A replica was not receiving its primary's log when the fault came: a failover "
            "to it loses everything since it stopped (or since it was cloned). Its log says "
            "why (often its primary_conninfo: a password pg_basebackup -R did not write, a "
            "pg_hba.conf line, a slot). Monitor pg_stat_replication on the primary and "
            "pg_stat_wal_receiver on the replica, fix the connection and drill again.",
        ),
        FindingKind(
            "WRITES_IN_DOUBT", Severity.INFO,
            "Some writes got no answer (connection lost mid-request). They may or may not "
            "have happened; those present were counted as recovered, not as lost.",
        ),
    )
}


@dataclass(frozen=True)
class Finding:
    """One finding of one drill."""

    code: str
    message: str

    @property
    def kind(self) -> FindingKind:
        return CATALOGUE[self.code]

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "severity": str(self.kind.severity),
                "message": self.message, "advice": self.kind.advice}
