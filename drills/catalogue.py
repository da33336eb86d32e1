"""The scenario catalogue: every drill drills knows, its kind of service and its parameters.

The plan may only name scenarios listed here, and only with the parameters listed here;
the procedures themselves live in ``scenarios/``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Param:
    """A scenario parameter: its type, default, meaning, and the values that make sense."""

    type: type
    default: float | int
    help: str
    minimum: float = 0.0
    #: whether ``minimum`` itself is refused (a count of 0, a freeze of 0 s)
    exclusive: bool = True
    maximum: float = 1e6


@dataclass(frozen=True)
class ScenarioInfo:
    """What a scenario drills, on which kind of service."""

    name: str
    kind: str
    summary: str
    params: Mapping[str, Param] = field(default_factory=dict)
    #: why the drill loses acknowledged writes by design ("" if it must lose none): the
    #: plan must then state what loss it accepts (docs/measurement.md rule 12)
    loses_by_design: str = ""
    #: what bounds the RPO on the plan's real schedule: "backup" (every write since the
    #: last backup: the plan's backup.every), "archive" (WAL not yet archived: the
    #: archive_timeout_s parameter, continuing base backups taken backup.every), or ""
    rpo_bound: str = ""
    #: the runtimes it runs on; a run on another is refused before anything starts
    runtimes: tuple[str, ...] = ("local", "compose")
    #: the other kinds its stack brings up besides ``kind`` (the compose preflight asks for
    #: their images too)
    more_kinds: tuple[str, ...] = ()
    #: a negative control: the damage it must show to pass ("" if it is none); it takes
    #: no targets (drills.drill.Drill.expect_damage)
    negative_control: str = ""
    #: what the fault needs of this machine: "lazyfs" (a FUSE file system that forgets),
    #: "loop" (a loop-mounted file system), or "" (drills.stack.storage says where they work)
    storage_needs: str = ""


CATALOGUE: Mapping[str, ScenarioInfo] = {
    s.name: s
    for s in (
        ScenarioInfo(
            "postgres-kill", "postgres",
            "SIGKILL PostgreSQL (postmaster and children) under load with synchronous_commit "
            "on; the supervisor restarts it. No acknowledged write may be lost.",
        ),
        ScenarioInfo(
            "postgres-kill-async-commit", "postgres",
            "SIGKILL PostgreSQL under load with synchronous_commit off; the supervisor "
            "restarts it. Acknowledged commits still in WAL buffers are lost and reported.",
            loses_by_design="commits acknowledged before their WAL reached disk"
        ),
        ScenarioInfo(
            "postgres-power-loss", "postgres",
            "Calibration of the power cut: PostgreSQL on LazyFS with fsync and "
            "synchronous_commit on; every process killed, then every write not fsynced "
            "dropped (lazyfs::clear-cache); restart. No acknowledged write may be lost.",
            storage_needs="lazyfs",
        ),
        ScenarioInfo(
            "postgres-power-loss-async-commit", "postgres",
            "A power cut with synchronous_commit off: commits acknowledged before the WAL "
            "writer flushed them (every wal_writer_delay_ms) are lost, the newest ones.",
            {"wal_writer_delay_ms": Param(int, 200, "how often the WAL writer flushes "
                                          "asynchronous commits, in ms", minimum=1,
                                          exclusive=False, maximum=10_000)},
            loses_by_design="commits acknowledged before the WAL writer flushed them",
            storage_needs="lazyfs",
        ),
        ScenarioInfo(
            "postgres-power-loss-fsync-off", "postgres",
            "Negative control: a power cut on PostgreSQL with fsync off. It passes only when "
            "the drill sees the damage a power cut does to such a server (acknowledged writes "
            "lost, or a server that does not start again), and says which: the fault has "
            "teeth.",
            negative_control="acknowledged writes lost or changed, or a server that does "
                             "not start again",
            storage_needs="lazyfs",
        ),
        ScenarioInfo(
            "redis-power-loss-always", "redis",
            "A power cut on Redis with AOF appendfsync always: every write is fsynced before "
            "it is acknowledged, so none may be lost.",
            storage_needs="lazyfs",
        ),
        ScenarioInfo(
            "redis-power-loss-everysec", "redis",
            "A power cut on Redis with AOF appendfsync everysec: up to about a second of "
            "acknowledged writes is lost, the newest ones.",
            loses_by_design="writes acknowledged since the last fsync of the AOF (every second)",
            storage_needs="lazyfs",
        ),
        ScenarioInfo(
            "postgres-disk-full-wal", "postgres",
            "PostgreSQL's WAL directory on a small disk of its own (1 MB segments), filled "
            "under load until a write gets ENOSPC; the space freed. Measures how the server "
            "behaves (it PANICs when it cannot write WAL), the RTO, and that every "
            "acknowledged write survived.",
            {"disk_mb": Param(int, 64, "size of the WAL's file system, in MB", minimum=16,
                              exclusive=False, maximum=4096)},
            storage_needs="loop",
        ),
        ScenarioInfo(
            "redis-disk-full-aof", "redis",
            "Redis's data directory (AOF everysec) on a small disk of its own, filled under "
            "load until a write gets ENOSPC; the space freed. Measures how Redis behaves (it "
            "refuses writes while its AOF cannot grow), the RTO, and that every acknowledged "
            "write survived.",
            {"disk_mb": Param(int, 64, "size of the data directory's file system, in MB",
                              minimum=16, exclusive=False, maximum=4096)},
            storage_needs="loop",
        ),
        ScenarioInfo(
            "mongodb-kill", "mongodb",
            "SIGKILL MongoDB under load, every write with write concern w=1, j=true; restart. "
            "No acknowledged write may be lost. (Local runtime: FerretDB over PostgreSQL, "
            "both killed: it measures PostgreSQL's commit durability, not WiredTiger's.)",
        ),
        ScenarioInfo(
            "mongodb-kill-no-journal", "mongodb",
            "Calibration of the write concern: the same kill with w=1, j=false. Writes "
            "acknowledged before the journal was flushed (mongod: its 100 ms journal commit; "
            "the FerretDB stand-in: PostgreSQL with synchronous_commit off) are lost and "
            "reported, as many as the server's durability gives, possibly none.",
            loses_by_design="writes acknowledged before the journal was flushed",
        ),
        ScenarioInfo(
            "mongodb-silent-loss", "mongodb",
            "Delete delete_count acknowledged documents of the ledger behind the workload's "
            "back (delete_many by _id). Calibrates the checker on MongoDB: it must report "
            "exactly those ids as lost, and the window they span.",
            {"delete_count": Param(int, 25, "how many acknowledged documents to delete",
                                   maximum=1_000_000)},
        ),
        ScenarioInfo(
            "redis-kill", "redis",
            "SIGKILL Redis under load with AOF (appendfsync everysec); restart replays the AOF.",
        ),
        ScenarioInfo(
            "redis-kill-rdb", "redis",
            "SIGKILL Redis under load with RDB snapshots only; every write since the last "
            "snapshot is lost and reported.",
            {"snapshot_every_s": Param(int, 2, "RDB snapshot interval (save N 1) in seconds",
                                       maximum=86400)},
            loses_by_design="every write since the last RDB snapshot"
        ),
        ScenarioInfo(
            "postgres-freeze", "postgres",
            "SIGSTOP PostgreSQL for freeze_s seconds, then SIGCONT, no restart. Calibrates the "
            "RTO clock: the measured RTO must equal freeze_s within two probe intervals.",
            {"freeze_s": Param(float, 3.0, "how long the server stays stopped, in seconds",
                               maximum=3600)},
        ),
        ScenarioInfo(
            "silent-loss", "postgres",
            "Delete delete_count acknowledged rows behind the workload's back. Calibrates the "
            "checker: it must report exactly those ids as lost, and the window they span.",
            {"delete_count": Param(int, 25, "how many acknowledged rows to delete",
                                   maximum=1_000_000)},
        ),
        ScenarioInfo(
            "postgres-restore-dump", "postgres",
            "pg_dump -Fc under load and verified; gap_s later the server and its data are "
            "lost. A new empty server, pg_restore -j N beside the clients' database, reopen. "
            "Writes after the dump's snapshot are lost by design (the measured RPO); "
            "calibrates the RPO against the snapshot.",
            {"gap_s": Param(float, 2.0, "seconds between the end of the dump and the loss",
                            minimum=0.0, exclusive=False, maximum=86400),
             "jobs": Param(int, 2, "pg_restore -j: parallel restore jobs", minimum=1,
                           exclusive=False, maximum=64)},
            loses_by_design="every write after the dump's snapshot",
            rpo_bound="backup"
        ),
        ScenarioInfo(
            "postgres-restore-wal", "postgres",
            "WAL archiving plus pg_basebackup under load, verified; then the server and its "
            "data are lost. Restore the base backup, replay the archive to its end, promote. "
            "Writes not yet archived are the measured RPO.",
            {"gap_s": Param(float, 3.0, "seconds between the end of the base backup and the "
                            "loss", minimum=0.0, exclusive=False, maximum=86400),
             "archive_timeout_s": Param(int, 2, "archive_timeout: the longest a committed "
                                        "write waits to be archived", maximum=3600)},
            loses_by_design="every write not yet archived",
            rpo_bound="archive"
        ),
        ScenarioInfo(
            "postgres-restore-corrupt", "postgres",
            "WAL archiving plus pg_basebackup; then the server crashes with a damaged page in "
            "the workload table and restarts. Detected by a full read (checksum failure); "
            "archive the current WAL, restore the base backup, replay to the end.",
            {"gap_s": Param(float, 3.0, "seconds between the end of the base backup and the "
                            "damage", minimum=0.0, exclusive=False, maximum=86400),
             "archive_timeout_s": Param(int, 2, "archive_timeout of the server", maximum=3600)},
            loses_by_design="every write not yet archived",
            rpo_bound="archive"
        ),
        ScenarioInfo(
            "postgres-pitr-drop", "postgres",
            "WAL archiving plus pg_basebackup; then an accidental DROP TABLE under load. The "
            "accident's transaction is found with pg_waldump; recovery to just before it, "
            "then promotion. No write acknowledged before the accident may be lost.",
            {"gap_s": Param(float, 3.0, "seconds between the end of the base backup and the "
                            "accident", minimum=0.0, exclusive=False, maximum=86400),
             "archive_timeout_s": Param(int, 2, "archive_timeout of the server", maximum=3600)},
        ),
        ScenarioInfo(
            "redis-flushall-rdb", "redis",
            "AOF on; an RDB backup (BGSAVE, copied out) gap_s before an accidental FLUSHALL. "
            "Restore the RDB with AOF off for the first start, then turn AOF back on. Writes "
            "after the backup are lost by design.",
            {"gap_s": Param(float, 2.0, "seconds between the end of the backup and the fault",
                            minimum=0.0, exclusive=False, maximum=86400)},
            loses_by_design="every write after the RDB backup",
            rpo_bound="backup"
        ),
        ScenarioInfo(
            "redis-flushall-aof", "redis",
            "AOF on; an accidental FLUSHALL, recovered without a backup: stop before any AOF "
            "rewrite, cut the FLUSHALL from the AOF's tail, start. Nothing acknowledged is lost.",
            {"gap_s": Param(float, 2.0, "seconds of load after the warm-up before the "
                            "accident", minimum=0.0, exclusive=False, maximum=86400)},
        ),
        ScenarioInfo(
            "redis-restore-volume", "redis",
            "AOF on; an RDB backup, then the server and its data volume are lost. Restore the "
            "RDB into a new server (AOF off for the first start), then turn AOF back on.",
            {"gap_s": Param(float, 2.0, "seconds between the end of the backup and the fault",
                            minimum=0.0, exclusive=False, maximum=86400)},
            loses_by_design="every write after the RDB backup",
            rpo_bound="backup"
        ),
        ScenarioInfo(
            "redis-restore-aof", "redis",
            "AOF on; a copy of the AOF directory, writes paused while it is copied; then the "
            "server and its data volume are lost. The copy put in place; the AOF replayed.",
            {"gap_s": Param(float, 2.0, "seconds between the end of the backup and the fault",
                            minimum=0.0, exclusive=False, maximum=86400)},
            loses_by_design="every write after the AOF copy",
            rpo_bound="backup"
        ),
        ScenarioInfo(
            "app-postgres-kill", "app",
            "HTTP load on the reference app (PostgreSQL behind it, Redis as its cache, each "
            "through Toxiproxy); SIGKILL PostgreSQL, restart it. RTO probed at the app; RPO "
            "from PostgreSQL itself.",
        ),
        ScenarioInfo(
            "app-redis-kill", "app",
            "SIGKILL the app's cache (Redis) under HTTP load; down_s later, restart it. The app "
            "keeps answering from PostgreSQL meanwhile (degraded): availability during the "
            "fault is the figure.",
            {"down_s": Param(float, 3.0, "how long Redis stays down before its restart, in "
                             "seconds", minimum=0.0, exclusive=False, maximum=3600)},
        ),
        ScenarioInfo(
            "app-postgres-latency", "app",
            "latency_ms (+/- jitter_ms) on every answer from PostgreSQL to the app for "
            "duration_s, then removed. No write should fail; p99 latency against the target.",
            {"latency_ms": Param(int, 150, "added latency, in ms", maximum=60_000),
             "jitter_ms": Param(int, 0, "latency jitter, in ms", minimum=0, exclusive=False,
                                maximum=60_000),
             "duration_s": Param(float, 5.0, "how long the latency stays, in seconds",
                                 maximum=3600)},
        ),
        ScenarioInfo(
            "app-postgres-partition", "app",
            "The link from the app to PostgreSQL cut for partition_s seconds (refused, as a host "
            "that is gone), then healed. Calibrates the RTO clock at the app: the measured RTO "
            "must equal partition_s within two probe intervals.",
            {"partition_s": Param(float, 3.0, "how long the link stays cut, in seconds",
                                  maximum=3600)},
        ),
        ScenarioInfo(
            "app-postgres-blackhole", "app",
            "The link from the app to PostgreSQL turned into a black hole for partition_s "
            "seconds (every byte dropped, connections left open), then healed: writes in "
            "flight end in the app's deadline and are unknown.",
            {"partition_s": Param(float, 3.0, "how long the black hole lasts, in seconds",
                                  maximum=3600)},
        ),
        ScenarioInfo(
            "postgres-failover", "postgres",
            "A primary and a streaming replica (asynchronous). SIGKILL the primary under "
            "load; promote the replica (pg_promote); the clients, which list both servers, "
            "follow. What the replica had not received is lost, beside the lag at the fault.",
            loses_by_design="writes the primary acknowledged before the replica received them",
        ),
        ScenarioInfo(
            "postgres-failover-sync", "postgres",
            "A primary and a synchronous replica (synchronous_standby_names FIRST 1). SIGKILL "
            "the primary, promote the replica, the clients follow. No acknowledged write may "
            "be lost.",
        ),
        ScenarioInfo(
            "postgres-failover-lag", "postgres",
            "Calibration: asynchronous replication delayed by delay_ms on its link "
            "(Toxiproxy); the primary lost with its link, the replica promoted. The RPO must "
            "equal the injected delay.",
            {"delay_ms": Param(int, 1000, "delay on the replication link, in ms",
                               maximum=60_000)},
            loses_by_design="the writes of the last delay_ms, still on the replication link",
            more_kinds=("toxiproxy",),
        ),
        ScenarioInfo(
            "postgres-split-brain", "postgres",
            "The primary cut off from its replica but not from its clients; the replica "
            "promoted while the old primary goes on acknowledging writes for split_s; then "
            "the old primary fenced, its ledger read and rejoined with pg_rewind. The writes "
            "only it acknowledged are lost, reported as their own class.",
            {"split_s": Param(float, 2.0, "how long two primaries accept writes, in seconds",
                              maximum=3600)},
            loses_by_design="the writes the old primary acknowledged after it was cut off",
            more_kinds=("toxiproxy",),
        ),
        ScenarioInfo(
            "redis-sentinel-failover", "redis",
            "A Redis primary and a replica (AOF everysec) watched by a Sentinel; the clients "
            "ask the Sentinel for the primary. SIGKILL the primary; the Sentinel notices "
            "(+odown), fails over (+switch-master), the clients follow. What the replica had "
            "not received is lost.",
            {"down_after_ms": Param(int, 500, "how long the primary must not answer before "
                                    "the Sentinel calls it down, in ms", maximum=600_000),
             "quorum": Param(int, 1, "how many Sentinels must agree the primary is down; "
                             "the drill runs one, so 2 never fails over (and the drill says "
                             "why)", minimum=1, exclusive=False, maximum=9)},
            loses_by_design="writes the primary acknowledged before the replica received them",
            more_kinds=("sentinel",),
        ),
        ScenarioInfo(
            "patroni-failover", "patroni",
            "etcd, two Patroni members (synchronous_mode) and HAProxy in front; the clients go "
            "through HAProxy. SIGKILL the leader's node (Patroni and its PostgreSQL); Patroni "
            "elects and promotes the replica once the leader key expires (ttl), HAProxy "
            "follows. Nothing acknowledged may be lost.",
            {"ttl": Param(int, 20, "Patroni's leader key ttl, in seconds (its minimum: 20)",
                          minimum=20, exclusive=False, maximum=3600)},
            more_kinds=("etcd", "haproxy"),
        ),
        ScenarioInfo(
            "patroni-switchover", "patroni",
            "The same cluster; a planned switchover through Patroni's REST API: the leader "
            "demoted cleanly, the replica promoted, HAProxy follows. Nothing acknowledged may "
            "be lost.",
            {"ttl": Param(int, 20, "Patroni's leader key ttl, in seconds (its minimum: 20)",
                          minimum=20, exclusive=False, maximum=3600)},
            more_kinds=("etcd", "haproxy"),
        ),
        ScenarioInfo(
            "app-kill", "app",
            "SIGKILL the app process under HTTP load and restart it; PostgreSQL and Redis stay "
            "up. No acknowledged write may be lost.",
        ),
    )
}
