"""PostgreSQL restores, each step timed by the drill as an RTO phase.

From a dump, into a new, empty server (after Provision):
    RestoreDump   pg_restore -j N into a database beside the one clients use, so that no
                  client sees (or writes into) half a restore; rows counted
    Reopen        the restored database takes the clients' database's name: from now on
                  the service answers

From a base backup and the WAL archive (server loss, a damaged page, or a point in time
before an accident):
    FindAccident  as an operator would: switch to a new WAL segment, wait until the archive
                  holds the accident, and find its transaction with pg_waldump; nothing
                  from the drill's own knowledge of what it did
    ArchiveWal    a damaged server still runs: switch segments and wait until the archive
                  holds what it wrote, before it is stopped
    RestoreBaseBackup  the server stopped, its data replaced by the base backup, with
                  recovery.signal and a restore_command (and a recovery target for PITR)
    ReplayWal     start; the server replays the archive (to the end, or to the target),
                  promotes, and is done when pg_is_in_recovery() is false

the traps in docs/environment.md: a second restore from the same backup needs
recovery_target_timeline set to the original timeline (each drill restores once, from its
own backup); ``pg_ctl start -w`` returns before promotion, so promotion is polled.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from pathlib import Path

from drills.backup import Backup
from drills.backup.exec_tools import run_tool
from drills.errors import RecoveryError
from drills.kinds.postgres import store
from drills.kinds.postgres.settings import WAL_ARCHIVE
from drills.record.action import Action
from drills.record.clock import Instant
from drills.recovery.base import RecoveryStep
from drills.stack.capabilities import Exec, ExecResult, KeepsBackups, require
from drills.stack.service import Service

#: the database a dump is restored into, beside the clients' one
RESTORE_DATABASE = "drills_restore"
#: rows the restore wrote into the new database (its statistics count every COPY'd row; the
#: restore's backends flush them as they exit) and the database's size: no table is scanned,
#: so the step costs what pg_restore costs
_RESTORED = (
    "SELECT (SELECT coalesce(sum(n_tup_ins), 0) FROM pg_stat_user_tables), "
    "pg_database_size(current_database())"
)


class _PostgresStep(RecoveryStep):
    def __init__(self, service: Service, name: str) -> None:
        self.service = service
        self.name = name
        self.exec = require(service, Exec, name)

    def sql(self, statement: str, database: str = "postgres", timeout_s: float = 600) -> str:
        """Run SQL with psql in the server's environment; its output, unaligned."""
        done = run_tool(self.exec, self.service.name,
                        ["psql", "-v", "ON_ERROR_STOP=1", "-X", "-At", "-d", database,
                         "-c", statement], RecoveryError, timeout_s)
        return done.stdout.decode(errors="replace").strip()

    def tool(self, argv: Sequence[str], timeout_s: float) -> ExecResult:
        return run_tool(self.exec, self.service.name, argv, RecoveryError, timeout_s)

    def switch_and_archive(self, backups: KeepsBackups, timeout_s: float) -> str:
        """pg_switch_wal, then wait until the archive holds the segment it closed."""
        segment = self.sql("SELECT pg_walfile_name(pg_switch_wal())")
        deadline = time.monotonic() + timeout_s
        while not (backups.backup_dir().host / WAL_ARCHIVE / segment).exists():
            if time.monotonic() > deadline:
                raise RecoveryError(f"{self.service.name}: WAL segment {segment} was not "
                                    f"archived within {timeout_s:.0f} s")
            time.sleep(0.05)
        return segment


def archived(backups: KeepsBackups) -> list[Path]:
    """The WAL segments in the archive, oldest first (no .backup, .history or .part files)."""
    archive = backups.backup_dir().host / WAL_ARCHIVE
    return sorted(p for p in archive.iterdir() if re.fullmatch(r"[0-9A-F]{24}", p.name))


class RestoreDump(_PostgresStep):
    """pg_restore -j N of a dump into a database beside the clients' one."""

    def __init__(self, service: Service, backup: Backup, jobs: int = 2) -> None:
        super().__init__(service, f"restore {backup.name} into {service.name}")
        self.backup, self.jobs = backup, jobs

    def run(self, timeout_s: float) -> Action:
        at = Instant.now()
        self.sql(f"CREATE DATABASE {RESTORE_DATABASE}")
        started = time.monotonic()
        self.tool(["pg_restore", "-j", str(self.jobs), "--exit-on-error", "--no-owner",
                   "-d", RESTORE_DATABASE, self.backup.inside], timeout_s)
        restore_s = time.monotonic() - started
        # the restore's backends flush their statistics as they exit, which may be just
        # after pg_restore returns: read until two readings agree
        last = None
        for _ in range(50):
            reading = self.sql(_RESTORED, RESTORE_DATABASE)
            if reading == last:
                break
            last = reading
            time.sleep(0.1)
        rows, size = (int(x) for x in reading.split("|"))
        return Action(
            f"pg_restore -j {self.jobs} of {self.backup.name} ({self.backup.size_bytes} bytes) "
            f"into database {RESTORE_DATABASE}, closed to clients until reopened", at,
            {"phase": "restore", "restored_from": self.backup.name, "jobs": self.jobs,
             "bytes": size, "backup_bytes": self.backup.size_bytes, "rows": rows,
             "pg_restore_s": restore_s})


class Reopen(_PostgresStep):
    """The restored database takes the name the clients connect to."""

    def __init__(self, service: Service) -> None:
        super().__init__(service, f"reopen {service.name} to clients")

    def run(self, timeout_s: float) -> Action:
        database = self.service.endpoint.database or "drills"
        quoted = '"' + database.replace('"', '""') + '"'
        at = Instant.now()
        # FORCE: clients retrying against the empty database are disconnected
        self.sql(f"DROP DATABASE IF EXISTS {quoted} WITH (FORCE)")
        self.sql(f"ALTER DATABASE {RESTORE_DATABASE} RENAME TO {quoted}")
        return Action(f"the empty {database} dropped, {RESTORE_DATABASE} renamed to "
                      f"{database}", at, {"phase": "reopen"})


class FindAccident(_PostgresStep):
    """Find the accident's transaction in the archived WAL, as an operator would.

    ``drop``: the first commit after the base backup that drops relations (a DROP TABLE's
    commit record lists the files it removes). ``delete``: the transaction with the most
    heap DELETE records on the workload table's file (``pg_relation_filepath``), and its
    commit record.
    """

    def __init__(self, service: Service, base: Backup, accident: str = "drop") -> None:
        if accident not in ("drop", "delete"):
            raise RecoveryError(f"find accident {accident!r}: use 'drop' or 'delete'")
        super().__init__(service, f"find the accidental {accident.upper()} in {service.name}'s "
                         "WAL archive")
        self.base, self.accident = base, accident
        self.backups = require(service, KeepsBackups, self.name)

    def run(self, timeout_s: float) -> Action:
        at = Instant.now()
        relation = None
        if self.accident == "delete":  # the table is still there: where its file is
            path = self.sql(f"SELECT pg_relation_filepath('{store.TABLE}')",
                            self.service.endpoint.database or "drills")
            relation = wal_relation(path)
        # the segment holding the accident is archived once it is switched out
        segment = self.switch_and_archive(self.backups, timeout_s)
        segments = [p.name for p in archived(self.backups)]
        first = _segment_of(self.base, segments)
        wal_dir = self.backups.backup_dir().path(WAL_ARCHIVE)

        def waldump(rmgr: str) -> str:
            done = self.tool(["pg_waldump", f"--rmgr={rmgr}", "-p", wal_dir, first, segment],
                             timeout_s)
            return done.stdout.decode(errors="replace")

        transactions = waldump("Transaction")
        if relation is None:
            found = find_drop(transactions)
            how = "the first commit after the base backup that drops relations"
            rows = None
        else:
            deleted = find_mass_delete(waldump("Heap"), relation)
            if deleted is None:
                raise RecoveryError(f"{self.service.name}: no heap DELETE on {relation} in WAL "
                                    f"{first}..{segment}")
            xid_found, rows = deleted
            found = find_commit(transactions, xid_found)
            how = (f"the transaction with the most heap DELETE records on rel {relation} "
                   f"({rows}), and its commit")
        if found is None:
            raise RecoveryError(f"{self.service.name}: the accident's commit is not in WAL "
                                f"{first}..{segment}")
        xid, lsn, line = found
        when = re.search(r"desc: COMMIT ([^;]+)", line)
        return Action(f"pg_switch_wal, then pg_waldump over {first}..{segment}: {how}", at,
                      {"phase": "find target", "xid": xid, "lsn": lsn,
                       "commit_time": when.group(1).strip() if when else None,
                       "record": line[:400], "segments": [first, segment],
                       **({"deleted_rows_in_wal": rows} if rows is not None else {})})


def wal_relation(filepath: str) -> str:
    """``base/<db>/<node>`` (pg_relation_filepath) as pg_waldump names it: ``1663/<db>/<node>``."""
    parts = filepath.strip().split("/")
    if len(parts) != 3 or parts[0] != "base":
        raise RecoveryError(f"{filepath!r}: not a file of the default tablespace")
    return f"1663/{parts[1]}/{parts[2]}"


def find_mass_delete(heap: str, relation: str) -> tuple[int, int] | None:
    """(xid, records) of the transaction with the most DELETE records on ``relation``."""
    counts: dict[int, int] = {}
    for line in heap.splitlines():
        match = _DELETE.search(line)
        if match and f"rel {relation} " in line + " ":
            xid = int(match.group(1))
            counts[xid] = counts.get(xid, 0) + 1
    if not counts:
        return None
    xid = max(counts, key=lambda x: counts[x])
    return xid, counts[xid]


def find_commit(transactions: str, xid: int) -> tuple[int, str, str] | None:
    """(xid, LSN, the record) of the commit of transaction ``xid``."""
    for line in transactions.splitlines():
        match = _ANY_COMMIT.search(line)
        if match and int(match.group(1)) == xid:
            return xid, match.group(2), line.strip()
    return None


def lsn_value(lsn: str) -> int:
    """An LSN (``0/3000028``) as a number."""
    hi, lo = (int(x, 16) for x in lsn.split("/"))
    return (hi << 32) | lo


def segment_start(name: str) -> int:
    """The LSN where WAL segment ``name`` (timeline, log id, number; 16 MB) begins."""
    return (int(name[8:16], 16) << 32) | (int(name[16:24], 16) << 24)


def segment_of_lsn(lsn: str) -> str:
    """The log id and segment number (16 MB segments) of an LSN: a WAL file name's tail."""
    value = lsn_value(lsn)
    return f"{value >> 32:08X}{(value & 0xFFFFFFFF) >> 24:08X}"


def _segment_of(base: Backup, names: list[str]) -> str:
    """The archived segment holding the base backup's start (else the oldest archived)."""
    start = str(base.facts.get("start_lsn") or "")
    if "/" in start and names:
        wanted = segment_of_lsn(start)
        for name in names:
            if name[8:] >= wanted:
                return name
    if not names:
        raise RecoveryError("the WAL archive is empty")
    return names[0]


_COMMIT = re.compile(r"tx:\s+(\d+), lsn: ([0-9A-F]+/[0-9A-F]+),.*desc: COMMIT .*; rels: ")
_ANY_COMMIT = re.compile(r"tx:\s+(\d+), lsn: ([0-9A-F]+/[0-9A-F]+),.*desc: COMMIT ")
_DELETE = re.compile(r"rmgr: Heap .*tx:\s+(\d+), lsn: .*desc: DELETE ")


def find_drop(waldump: str) -> tuple[int, str, str] | None:
    """(xid, commit LSN, the record) of the first commit that dropped relations."""
    for line in waldump.splitlines():
        match = _COMMIT.search(line)
        if match:
            return int(match.group(1)), match.group(2), line.strip()
    return None


class RestoreBaseBackup(_PostgresStep):
    """Stop the server; replace its data with the base backup, set up recovery."""

    def __init__(self, service: Service, backup: Backup, target_xid: int | None = None) -> None:
        what = "to the end of the WAL archive" if target_xid is None else \
            f"to just before transaction {target_xid}"
        super().__init__(service, f"restore {backup.name} into {service.name}, recovery {what}")
        self.backup, self.target_xid = backup, target_xid
        self.backups = require(service, KeepsBackups, self.name)

    def recovery_conf(self) -> list[str]:
        wal = self.backups.backup_dir().path(WAL_ARCHIVE)
        lines = [f"restore_command = 'cp {wal}/%f %p'"]
        if self.target_xid is not None:
            lines += [f"recovery_target_xid = '{self.target_xid}'",
                      "recovery_target_inclusive = off",
                      "recovery_target_action = 'promote'"]
        return lines

    def run(self, timeout_s: float) -> Action:
        at = Instant.now()
        if self.service.alive():
            self.service.stop()
        if not self.service.wait_exit(timeout_s):
            raise RecoveryError(f"{self.service.name} did not stop")
        data = self.backups.data_path
        script = ('set -e; mkdir -p "$1"; chmod 700 "$1"; find "$1" -mindepth 1 -delete; '
                  'cp -a "$2"/. "$1"/; rm -f "$1"/backup_manifest; touch "$1"/recovery.signal; '
                  'printf "%s\\n" "$3" >> "$1"/postgresql.auto.conf')
        conf = "\n".join(["# drills: recovery from " + self.backup.name, *self.recovery_conf()])
        done = self.backups.exec_offline(["sh", "-c", script, "restore", data,
                                          self.backup.inside, conf], timeout_s)
        if done.returncode != 0:
            raise RecoveryError(f"{self.service.name}: copying {self.backup.name} into "
                                f"{data} failed: {done.stderr.decode(errors='replace')[-1500:]}")
        return Action(f"the server stopped; {data} emptied and filled from {self.backup.name} "
                      f"({self.backup.size_bytes} bytes), with recovery.signal", at,
                      {"phase": "restore", "restored_from": self.backup.name,
                       "bytes": self.backup.size_bytes, "recovery_conf": self.recovery_conf(),
                       **({"pitr_target_xid": self.target_xid}
                          if self.target_xid is not None else {})})


class ReplayWal(_PostgresStep):
    """Start the restored server; done when WAL replay has ended and it has promoted."""

    def __init__(self, service: Service, to_end: bool = True) -> None:
        super().__init__(service, f"replay archived WAL into {service.name} and promote")
        self.backups = require(service, KeepsBackups, self.name)
        #: to the end of the archive (not to a target): replay must reach its newest segment
        self.to_end = to_end

    def run(self, timeout_s: float) -> Action:
        segments = archived(self.backups)
        at = Instant.now()
        self.service.start()
        deadline = time.monotonic() + timeout_s
        last = "not connected yet"
        while True:
            try:
                with store.connect(self.service.endpoint, timeout_s=2) as conn:
                    row = conn.execute("SELECT pg_last_wal_replay_lsn()::text, "
                                       "pg_current_wal_lsn()::text FROM (SELECT 1) s "
                                       "WHERE NOT pg_is_in_recovery()").fetchone()
                    if row is not None:
                        timeline = conn.execute("SELECT timeline_id FROM pg_control_checkpoint()"
                                                ).fetchone()
                        break
                    last = "still in recovery"
            except Exception as exc:  # starting up: connections are refused for a while
                last = f"{type(exc).__name__}: {str(exc).strip()[:200]}"
            if time.monotonic() > deadline or not self.service.alive():
                raise RecoveryError(f"{self.service.name} did not finish recovery in "
                                    f"{timeout_s:.0f} s ({last}):\n{self.service.log_tail()}")
            time.sleep(0.05)
        newest = segments[-1] if segments else None
        # the replay must have read into the newest archived segment, not stopped at its start
        if self.to_end and newest is not None and row[0] is not None \
                and lsn_value(row[0]) <= segment_start(newest.name):
            # a failing restore_command reads as "no more archive": recovery ends early
            raise RecoveryError(f"{self.service.name}: recovery ended at {row[0]}, before the "
                                f"newest archived segment {newest.name}: the archive was not "
                                "replayed to its end (restore_command failing?)")
        return Action("started on the restored data: archived WAL replayed, then promoted "
                      "(pg_is_in_recovery() false)", at,
                      {"phase": "WAL replay", "replayed_to": row[0], "lsn_after": row[1],
                       "timeline": timeline[0] if timeline else None,
                       "archived_segments": len(segments),
                       "newest_archived_segment": newest.name if newest else None,
                       "newest_archived_wall": newest.stat().st_mtime if newest else None})


class ArchiveWal(_PostgresStep):
    """Switch to a new WAL segment and wait until the archive holds the one just closed.

    Before a damaged server is stopped for a restore: what it wrote until now is then in
    the archive, and the restore replays it.
    """

    def __init__(self, service: Service) -> None:
        super().__init__(service, f"archive {service.name}'s current WAL")
        self.backups = require(service, KeepsBackups, self.name)

    def run(self, timeout_s: float) -> Action:
        at = Instant.now()
        segment = self.switch_and_archive(self.backups, timeout_s)
        return Action(f"pg_switch_wal; segment {segment} archived", at,
                      {"phase": "archive WAL", "segment": segment})
