"""Redis restores, each step timed by the drill as an RTO phase.

From an RDB backup (after FLUSHALL, or after the data volume was lost):
    RestoreRdb    stop; the backup RDB put in place as dump.rdb (the old AOF removed); start
                  with AOF off, since an AOF instance ignores dump.rdb at start
                  (docs/environment.md)
    EnableAof     CONFIG SET appendonly yes: Redis rewrites a new AOF from the restored data

Without a backup, after FLUSHALL on an AOF instance (Redis' own documented recovery):
    RemoveFlushall  stop before any AOF rewrite; cut the FLUSHALL record from the tail of
                  the AOF (the original is kept in the backup directory as evidence); start.
                  Everything acknowledged before and after the FLUSHALL comes back.
"""

from __future__ import annotations

import shutil
import time

from drills.backup import Backup
from drills.errors import RecoveryError
from drills.kinds.redis import store
from drills.record.action import Action
from drills.record.clock import Instant
from drills.recovery.base import RecoveryStep
from drills.stack.capabilities import KeepsBackups, Reconfigurable, require
from drills.stack.service import Service


class _RedisStep(RecoveryStep):
    def __init__(self, service: Service, name: str) -> None:
        self.service = service
        self.name = name
        self.backups = require(service, KeepsBackups, name)

    def stopped(self, timeout_s: float) -> None:
        if self.service.alive():
            self.service.stop()
        if not self.service.wait_exit(timeout_s):
            raise RecoveryError(f"{self.service.name} did not stop")

    def offline(self, script: str, *args: str, timeout_s: float = 600) -> None:
        done = self.backups.exec_offline(["sh", "-c", f"set -e; {script}", self.name, *args],
                                         timeout_s)
        if done.returncode != 0:
            raise RecoveryError(f"{self.service.name}: {script.split(';')[0]} failed: "
                                f"{done.stderr.decode(errors='replace')[-1500:]}")


class RestoreRdb(_RedisStep):
    """Put the backup RDB in place and start from it (with AOF off if ``aof``)."""

    def __init__(self, service: Service, backup: Backup, aof: bool) -> None:
        super().__init__(service, f"restore {backup.name} into {service.name}"
                         + (" (AOF off for the first start)" if aof else ""))
        self.backup, self.aof = backup, aof
        if aof:
            require(service, Reconfigurable, self.name)

    def run(self, timeout_s: float) -> Action:
        at = Instant.now()
        self.stopped(timeout_s)
        self.offline('mkdir -p "$1"; rm -rf "$1"/appendonlydir "$1"/appendonly.aof; '
                     'cp "$2" "$1"/dump.rdb.part; mv "$1"/dump.rdb.part "$1"/dump.rdb',
                     self.backups.data_path, self.backup.inside)
        if self.aof:
            require(self.service, Reconfigurable, self.name).start_with({"appendonly": "no"})
        else:
            self.service.start()
        self.service.wait_ready(timeout_s)
        with store.client(self.service.endpoint, timeout_s=30) as r:
            keys = int(r.dbsize())
        how = "started with appendonly no (an AOF instance ignores dump.rdb)" if self.aof \
            else "started"
        return Action(f"stopped; {self.backup.name} copied to dump.rdb; {how}", at,
                      {"phase": "restore", "restored_from": self.backup.name,
                       "bytes": self.backup.size_bytes, "rows": keys})


class EnableAof(RecoveryStep):
    """CONFIG SET appendonly yes, and wait until the new AOF is written."""

    def __init__(self, service: Service) -> None:
        self.service = service
        self.name = f"turn AOF back on in {service.name}"

    def run(self, timeout_s: float) -> Action:
        at = Instant.now()
        deadline = time.monotonic() + timeout_s
        with store.client(self.service.endpoint, timeout_s=30) as r:
            r.config_set("appendonly", "yes")
            while True:
                info = r.info("persistence")
                if (info.get("aof_enabled") == 1 and not info.get("aof_rewrite_in_progress")
                        and not info.get("aof_rewrite_scheduled")):
                    break
                if time.monotonic() > deadline:
                    raise RecoveryError(f"{self.service.name}: the AOF was not rewritten in "
                                        f"{timeout_s:.0f} s")
                time.sleep(0.01)
            status = info.get("aof_last_bgrewrite_status")
        if status != "ok":
            raise RecoveryError(f"{self.service.name}: AOF rewrite status {status}")
        return Action("CONFIG SET appendonly yes; the AOF rewritten from the restored data",
                      at, {"phase": "restore"})


def find_last_command(aof: bytes, command: bytes) -> tuple[int, int] | None:
    """(start, end) of the last RESP record of ``aof`` whose command is ``command``."""
    found, pos = None, 0
    while pos < len(aof):
        start = pos
        if aof[pos:pos + 1] != b"*":
            raise RecoveryError(f"not a RESP array at byte {pos} of the AOF")
        line_end = aof.index(b"\r\n", pos)
        count = int(aof[pos + 1:line_end])
        pos = line_end + 2
        first = b""
        for i in range(count):
            line_end = aof.index(b"\r\n", pos)
            length = int(aof[pos + 1:line_end])
            value = aof[line_end + 2:line_end + 2 + length]
            if i == 0:
                first = value
            pos = line_end + 2 + length + 2
        if first.lower() == command.lower():
            found = (start, pos)
    return found


class RemoveFlushall(_RedisStep):
    """Cut the FLUSHALL from the AOF's tail, before any rewrite, and start again."""

    def __init__(self, service: Service) -> None:
        super().__init__(service, f"remove the FLUSHALL from {service.name}'s AOF and restart")

    def run(self, timeout_s: float) -> Action:
        at = Instant.now()
        self.stopped(timeout_s)
        where = self.backups.backup_dir()
        # the AOF as it was, kept with the backups (evidence); the fix is made on that copy
        self.offline('rm -rf "$2"; cp -a "$1"/appendonlydir "$2"', self.backups.data_path,
                     where.path("aof-before-fix"))
        before = where.host / "aof-before-fix"
        manifest = (before / "appendonly.aof.manifest").read_text()
        incr = [line.split()[1] for line in manifest.splitlines()
                if line.startswith("file ") and line.split()[-1] == "i"]
        if not incr:
            raise RecoveryError(f"{self.service.name}: the AOF manifest lists no incremental "
                                "file: a rewrite already folded the FLUSHALL into the base")
        data = (before / incr[-1]).read_bytes()
        cut = find_last_command(data, b"FLUSHALL")
        if cut is None:
            raise RecoveryError(f"{self.service.name}: no FLUSHALL in {incr[-1]}")
        fixed = where.host / "aof-fixed"
        shutil.rmtree(fixed, ignore_errors=True)
        shutil.copytree(before, fixed)
        (fixed / incr[-1]).write_bytes(data[:cut[0]] + data[cut[1]:])
        owner = before.stat()
        for path in (fixed, *fixed.iterdir()):
            shutil.chown(path, owner.st_uid, owner.st_gid)
        self.offline('cp "$2"/"$3" "$1"/appendonlydir/"$3"', self.backups.data_path,
                     where.path("aof-fixed"), incr[-1])
        self.service.start()
        self.service.wait_ready(timeout_s)
        with store.client(self.service.endpoint, timeout_s=30) as r:
            keys = int(r.dbsize())
        return Action(f"stopped before any AOF rewrite; the FLUSHALL record (bytes {cut[0]} to "
                      f"{cut[1]} of {incr[-1]}) cut; started again", at,
                      {"phase": "restore", "file": incr[-1], "cut": list(cut), "rows": keys,
                       "original_kept": str(before)})


class RestoreAof(_RedisStep):
    """Put a copied AOF directory in place of the server's, and start it (AOF on)."""

    def __init__(self, service: Service, backup: Backup) -> None:
        super().__init__(service, f"restore {backup.name} into {service.name}")
        self.backup = backup

    def run(self, timeout_s: float) -> Action:
        at = Instant.now()
        self.stopped(timeout_s)
        self.offline('mkdir -p "$1"; rm -rf "$1"/appendonlydir; cp -a "$2" "$1"/appendonlydir',
                     self.backups.data_path, self.backup.inside)
        self.service.start()
        self.service.wait_ready(timeout_s)
        with store.client(self.service.endpoint, timeout_s=30) as r:
            keys = int(r.dbsize())
        return Action(f"stopped; {self.backup.name} copied in as appendonlydir; started (the "
                      "AOF replayed)", at,
                      {"phase": "restore", "restored_from": self.backup.name,
                       "bytes": self.backup.size_bytes, "rows": keys})
