"""Redis backups taken by the drill: the RDB written by BGSAVE, copied out of the data.

The copy goes to the service's backup directory, outside its data: FLUSHALL rewrites
dump.rdb at once (docs/environment.md), so a backup left beside it is no backup. The consistency
point is the fork behind BGSAVE: every write acknowledged before BGSAVE was sent is in
it, none invoked after its reply. Verified with ``redis-check-rdb``.
"""

from __future__ import annotations

import time

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
from drills.kinds.redis import store
from drills.record.clock import Instant


class RdbSnapshot(BackupMethod):
    """BGSAVE, wait until it is written, copy the RDB into the backup directory."""

    label = "rdb"
    method = "RDB after BGSAVE"

    def take(self, name: str) -> Backup:
        where = self.store.backup_dir()
        file = f"{name}.rdb"
        with store.client(self.service.endpoint, timeout_s=30) as r:
            conf = r.config_get("dir")
            rdb = f"{conf['dir']}/{r.config_get('dbfilename')['dbfilename']}"
            saves = int(r.info("persistence").get("rdb_saves", 0))
            started = Instant.now()
            r.bgsave()
            replied = Instant.now()
            deadline = time.monotonic() + self.timeout_s
            while True:
                info = r.info("persistence")
                if int(info.get("rdb_saves", 0)) > saves and not info.get("rdb_bgsave_in_progress"):
                    break
                if time.monotonic() > deadline:
                    raise BackupError(f"{self.service.name}: BGSAVE did not finish in "
                                      f"{self.timeout_s:.0f} s")
                time.sleep(0.01)
            if info.get("rdb_last_bgsave_status") != "ok":
                raise BackupError(f"{self.service.name}: BGSAVE failed "
                                  f"(rdb_last_bgsave_status {info.get('rdb_last_bgsave_status')})")
            keys = int(r.dbsize())
        run_tool(self.exec, self.service.name, ["cp", rdb, where.path(file)], BackupError)
        ended = Instant.now()
        path = where.host / file
        point = ConsistencyPoint(started, replied, "the fork behind BGSAVE")
        return Backup(name, self.method, self.service.name, path, where.path(file), point,
                      started, ended, size_of(path), sha256_of(path),
                      {"keys_at_save": keys, "source": rdb})

    def verify(self, backup: Backup) -> BackupVerification:
        tool = f"redis-check-rdb {backup.inside}"
        done = self.exec.exec(["redis-check-rdb", backup.inside], timeout_s=600)
        out = output_of(done.stdout + done.stderr)
        if done.returncode == 0 and "RDB looks OK" in out:
            keys = next((line.split("]")[-1].strip() for line in out.splitlines()
                         if "keys read" in line), "")
            return BackupVerification(True, tool, f"RDB looks OK{'; ' + keys if keys else ''}")
        return BackupVerification(False, tool, f"exit {done.returncode}: {out[-600:]}")


class AofCopy(BackupMethod):
    """A copy of the AOF directory, taken with writes paused (CLIENT PAUSE WRITE).

    Redis writes a command to its AOF before it replies (with everysec it may hold the write
    back while an fsync runs: the copy waits until the AOF buffer is empty), so every write
    acknowledged before the pause is in the files; none is applied while they are copied,
    so the copy ends on a whole command. Writes wait for the length of the copy
    (``writes_paused_s``). Verified with ``redis-check-aof`` on the copied manifest.
    """

    label = "aof"
    method = "AOF directory copy (writes paused)"

    def take(self, name: str) -> Backup:
        where = self.store.backup_dir()
        with store.client(self.service.endpoint, timeout_s=30) as r:
            if not r.info("persistence").get("aof_enabled"):
                raise BackupError(f"{self.service.name}: AOF is off; there is no AOF to copy")
            folder = r.config_get("appenddirname")["appenddirname"]
            source = f"{r.config_get('dir')['dir']}/{folder}"
            started = Instant.now()
            # the pause ends by itself after timeout_s should the drill die mid-copy
            r.execute_command("CLIENT", "PAUSE", str(int(self.timeout_s * 1000)), "WRITE")
            try:
                # everysec may hold back the write of the AOF buffer while an fsync runs:
                # wait until it is in the file, and no rewrite is replacing the files
                deadline = time.monotonic() + self.timeout_s
                while True:
                    info = r.info("persistence")
                    if not (info.get("aof_buffer_length") or info.get("aof_rewrite_in_progress")
                            or info.get("aof_rewrite_scheduled")):
                        break
                    if time.monotonic() > deadline:
                        raise BackupError(f"{self.service.name}: the AOF did not settle")
                    time.sleep(0.005)
                run_tool(self.exec, self.service.name, ["cp", "-a", source, where.path(name)],
                         BackupError, self.timeout_s)
            finally:
                r.execute_command("CLIENT", "UNPAUSE")
                resumed = Instant.now()
            keys = int(r.dbsize())
        path = where.host / name
        manifest = next(path.glob("*.manifest"), None)
        if manifest is None:
            raise BackupError(f"{self.service.name}: the copied AOF directory has no manifest")
        point = ConsistencyPoint(started, resumed, "the AOF as it stood while writes were "
                                 "paused")
        return Backup(name, self.method, self.service.name, path, where.path(name), point,
                      started, resumed, size_of(path), sha256_of(manifest),
                      {"sha256_of": manifest.name, "keys": keys, "source": source,
                       "writes_paused_s": resumed.mono - started.mono})

    def verify(self, backup: Backup) -> BackupVerification:
        manifest = next(backup.host_path.glob("*.manifest"), None)
        if manifest is None:
            return BackupVerification(False, "redis-check-aof", "no manifest in the copy")
        inside = f"{backup.inside}/{manifest.name}"
        tool = f"redis-check-aof {inside}"
        done = self.exec.exec(["redis-check-aof", inside], timeout_s=600)
        out = output_of(done.stdout + done.stderr)
        if done.returncode == 0 and "is valid" in out:
            return BackupVerification(True, tool, out.splitlines()[-1] if out else "valid")
        return BackupVerification(False, tool, f"exit {done.returncode}: {out[-600:]}")
