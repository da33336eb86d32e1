"""PostgreSQL backups taken by the drill from the live server, and their verification.

PgDump        ``pg_dump -Fc`` from a snapshot the drill exports first, so the consistency
              point is known to the transaction: every write acknowledged before the
              export is in the dump, none that started after it.
              Verified by ``pg_restore --list`` (the table of contents names the workload
              table) and ``pg_restore -f /dev/null`` (every data block reads and
              decompresses: a truncated dump fails here, its TOC alone would not).
BaseBackup    ``pg_basebackup`` (plain format, WAL streamed, SHA-256 manifest) from a server
              that archives its WAL (PostgresSettings(archive=True)). Its consistency point
              is the end of its own WAL, between its start and its end.
              Verified by ``pg_verifybackup`` (every file against the manifest, and the WAL).

The tools run in the server's environment (Exec: its container or its account), and
write into its backup directory (KeepsBackups), never into its data.
"""

from __future__ import annotations

from drills.backup import (
    Backup,
    BackupMethod,
    BackupVerification,
    ConsistencyPoint,
    output_of,
    sha256_of,
    size_of,
)
from drills.backup.exec_tools import run_tool
from drills.errors import BackupError
from drills.kinds.postgres import store
from drills.record.clock import Instant


class _PostgresBackup(BackupMethod):
    def _run(self, argv: list[str]) -> str:
        done = run_tool(self.exec, self.service.name, argv, BackupError, self.timeout_s)
        return output_of(done.stdout + done.stderr)


class PgDump(_PostgresBackup):
    """``pg_dump -Fc`` of the workload's database, from an exported snapshot."""

    label = "dump"
    method = "pg_dump -Fc"

    def take(self, name: str) -> Backup:
        where = self.store.backup_dir()
        file = f"{name}.dump"
        database = self.service.endpoint.database or "drills"
        started = Instant.now()
        with store.connect(self.service.endpoint, timeout_s=10) as conn:
            conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            before = Instant.now()
            row = conn.execute("SELECT pg_export_snapshot(), pg_current_wal_lsn()::text, "
                               "txid_current_snapshot()::text").fetchone()
            after = Instant.now()
            assert row is not None
            # the dump reads the snapshot this transaction holds open until it is done
            self._run(["pg_dump", "-Fc", f"--snapshot={row[0]}", "-f", where.path(file),
                       "-d", database])
            conn.execute("COMMIT")
        ended = Instant.now()
        path = where.host / file
        point = ConsistencyPoint(before, after, "the snapshot pg_dump read, exported at its "
                                 "start", {"lsn": row[1], "snapshot": row[2]})
        return Backup(name, self.method, self.service.name, path, where.path(file), point,
                      started, ended, size_of(path), sha256_of(path), {"database": database})

    def verify(self, backup: Backup) -> BackupVerification:
        tool = f"pg_restore --list {backup.inside}; pg_restore -f /dev/null {backup.inside}"
        try:
            listing = run_tool(self.exec, self.service.name,
                               ["pg_restore", "--list", backup.inside], BackupError, 600)
            entries = [line for line in listing.stdout.decode(errors="replace").splitlines()
                       if line and not line.startswith(";")]
            if not any(f"TABLE DATA public {store.TABLE} " in line for line in entries):
                return BackupVerification(False, tool, f"the table of contents ({len(entries)} "
                                          f"entries) holds no data of table {store.TABLE}")
            self._run(["pg_restore", "-f", "/dev/null", backup.inside])
        except BackupError as exc:
            return BackupVerification(False, tool, str(exc))
        return BackupVerification(True, tool, f"{len(entries)} entries, including the data of "
                                  f"{store.TABLE}; every data block read back")


class BaseBackup(_PostgresBackup):
    """``pg_basebackup`` with a manifest, from a server that archives its WAL."""

    label = "base"
    method = "pg_basebackup + WAL archive"

    def take(self, name: str) -> Backup:
        where = self.store.backup_dir()
        started = Instant.now()
        out = self._run(["pg_basebackup", "-D", where.path(name), "-Fp", "-X", "stream",
                         "--checkpoint=fast", "--manifest-checksums=SHA256", "--verbose"])
        ended = Instant.now()
        path = where.host / name
        manifest = path / "backup_manifest"
        if not manifest.is_file():
            raise BackupError(f"{self.service.name}: pg_basebackup wrote no backup_manifest")
        facts = {}
        for line in out.splitlines():  # "pg_basebackup: write-ahead log end point: 0/3000100"
            for key, label in (("start_lsn", "write-ahead log start point: "),
                               ("end_lsn", "write-ahead log end point: ")):
                if label in line:
                    facts[key] = line.split(label, 1)[1].split()[0]
        point = ConsistencyPoint(started, ended, "the end of the base backup's own WAL",
                                 facts)
        return Backup(name, self.method, self.service.name, path, where.path(name), point,
                      started, ended, size_of(path), sha256_of(manifest),
                      {"sha256_of": "backup_manifest", **facts})

    def verify(self, backup: Backup) -> BackupVerification:
        tool = f"pg_verifybackup {backup.inside}"
        try:
            out = self._run(["pg_verifybackup", backup.inside])
        except BackupError as exc:
            return BackupVerification(False, tool, str(exc))
        return BackupVerification(True, tool, out or "backup successfully verified")
