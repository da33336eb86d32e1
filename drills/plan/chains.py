"""Backup chains: a base backup and the links that continue it, judged as one.

Real plans chain backups: a daily base backup with WAL archived every 5 minutes, a weekly
full with daily incrementals, a nightly dump with a log shipped continuously. A restore
from such a chain loses at most what its *finest* link has not yet caught: that link's
interval plus its lag. Judging each link alone (a daily base backup against an RPO of 15
minutes) calls a sound plan impossible; ``worst_case`` judges the chain.

A link's lag is the ``lag`` the plan states (the archive's copy time, replication lag), or,
for a backup the drill takes itself, its own duration: a dump's data is from its start, so a
loss just before the next dump loses the interval *plus* the dump's duration. That duration
is known only once taken, but it is never 0: an RPO target equal to the interval is missed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from drills.plan.procedure_spec import BackupJob
from drills.plan.spans import span


@dataclass(frozen=True)
class WorstCase:
    """The most a restore from a chain can lose, from its finest link."""

    link: str  # the job name of the finest link
    every_s: float
    lag_s: float | None  # None: the backup's own duration, > 0, known once taken
    chain: tuple[str, ...]  # every job of the chain, base first

    @property
    def bound_s(self) -> float:
        """The interval plus the stated lag (plus an unknown positive duration if None)."""
        return self.every_s + (self.lag_s or 0.0)

    def misses(self, target_s: float) -> bool:
        """Whether an RPO target cannot hold.

        Below the bound, or at the interval when the backup's own duration (positive, not
        yet known) comes on top.
        """
        return target_s <= self.every_s if self.lag_s is None else target_s < self.bound_s

    def arithmetic(self) -> str:
        """The worst case, spelled out for a message."""
        lag = "its own duration" if self.lag_s is None else f"lag {span(self.lag_s)}"
        via = f" (the finest link of chain {' + '.join(self.chain)})" if len(self.chain) > 1 \
            else ""
        return f"every {span(self.every_s)} + {lag}{via}"


def chain_of(jobs: Mapping[str, BackupJob], name: str) -> list[BackupJob]:
    """The chain ``name`` belongs to: its bases and every job continuing any of them."""
    members = {name}
    grew = True
    while grew:  # the links of a chain, followed both ways
        edges = [(j.name, j.base) for j in jobs.values() if j.base is not None]
        linked = {end for a, b in edges if a in members or b in members for end in (a, b)}
        grew = not linked <= members
        members |= linked
    return sorted((jobs[m] for m in members if m in jobs), key=lambda j: _depth(jobs, j))


def _depth(jobs: Mapping[str, BackupJob], job: BackupJob) -> int:
    depth, seen = 0, {job.name}
    while job.base is not None and job.base in jobs and job.base not in seen:
        job = jobs[job.base]
        seen.add(job.name)
        depth += 1
    return depth


def worst_case(jobs: Mapping[str, BackupJob], name: str) -> WorstCase:
    """The worst case of a restore from job ``name``'s chain: its finest link."""
    chain = chain_of(jobs, name)
    finest = min(chain, key=lambda j: (j.every_s + (j.lag_s or 0.0), j.lag_s is None))
    return WorstCase(finest.name, finest.every_s, finest.lag_s, tuple(j.name for j in chain))
