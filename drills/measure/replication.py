"""What replication did in a failover drill: roles, lag at the fault, and split brain.

From the timeline alone (docs/measurement.md rule 9):

- **Roles**: each member's role in its last sample before the fault and its last sample of
  the drill (drills.replication.sampler).
- **Lag at the fault**: the last sample before t_fault: bytes of the primary's WAL each
  replica had not replayed, and the seconds its primary measured (replay_lag). Shown beside
  the loss it explains; a lag is an explanation, never a verdict.
- **Two primaries**: from the instant a replica was promoted to the instant the old primary
  was fenced (stopped) or rejoined, when the old primary was still accepting writes. The
  writes lost that the demoted primary's own ledger holds (read before it rejoined:
  Drill.read_demoted) fall in three classes by their acknowledgement, exact, by id:
  after the promotion ("acknowledged by a demoted primary"), between the fault and the
  promotion (isolated: the only primary, cut off from its replica), and before the fault
  (not yet replicated when the link was cut: the lag's loss).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from drills.errors import HistoryError
from drills.measure.checker import IDS_LISTED, WriteCheck
from drills.measure.sources import Sources
from drills.record.readback import load_readback
from drills.record.timeline import Category, EventKind, Step


@dataclass(frozen=True)
class MemberLag:
    """One member at the fault: its role, and how far behind it was."""

    service: str
    role: str
    #: a replica: bytes of WAL received but not replayed, and of the primary's not received
    lag_bytes: int | None = None
    lag_s: float | None = None
    sampled_before_fault_s: float | None = None  # how long before t_fault the sample was
    #: a replica: whether it was connected to its upstream and receiving its log
    streaming: bool | None = None

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


@dataclass(frozen=True)
class SplitBrain:
    """Two primaries: the interval, and what only the demoted one acknowledged."""

    demoted: str
    promoted_mono: float
    fenced_mono: float | None
    #: lost writes the demoted primary's ledger holds, acknowledged after the promotion
    demoted_lost: int
    demoted_lost_ids: tuple[int, ...]
    #: lost writes it holds, acknowledged between the fault and the promotion (it was the
    #: only primary, cut off from its replica)
    isolated_lost: int
    #: lost writes it holds, acknowledged before the fault: on the primary only, not yet
    #: replicated when the link was cut (asynchronous replication's lag)
    unreplicated_lost: int
    #: rows in the demoted primary's ledger
    demoted_rows: int

    @property
    def two_primaries_s(self) -> float | None:
        return None if self.fenced_mono is None else self.fenced_mono - self.promoted_mono

    def to_dict(self) -> dict[str, Any]:
        return {"demoted": self.demoted, "two_primaries_s": self.two_primaries_s,
                "promoted_mono": self.promoted_mono, "fenced_mono": self.fenced_mono,
                "demoted_lost": self.demoted_lost,
                "demoted_lost_ids": list(self.demoted_lost_ids[:IDS_LISTED]),
                "isolated_lost": self.isolated_lost,
                "unreplicated_lost": self.unreplicated_lost, "demoted_rows": self.demoted_rows}


@dataclass(frozen=True)
class Replication:
    """The replication side of a failover drill."""

    roles_before: dict[str, str]
    roles_after: dict[str, str]
    at_fault: tuple[MemberLag, ...]
    promoted: str | None = None
    promoted_mono: float | None = None
    samples: int = 0
    split_brain: SplitBrain | None = None
    problems: tuple[str, ...] = field(default_factory=tuple)

    @property
    def not_streaming(self) -> tuple[str, ...]:
        """The replicas that were not receiving their primary's log at the fault."""
        return tuple(m.service for m in self.at_fault
                     if m.role == "replica" and m.streaming is False)

    def to_dict(self) -> dict[str, Any]:
        return {"roles_before": self.roles_before, "roles_after": self.roles_after,
                "lag_at_fault": [m.to_dict() for m in self.at_fault],
                "promoted": self.promoted, "promoted_mono": self.promoted_mono,
                "samples": self.samples,
                "split_brain": self.split_brain.to_dict() if self.split_brain else None,
                "problems": list(self.problems)}


def measure_replication(ev: Sources, root: Path, fault: Step | None,
                        writes: WriteCheck | None) -> Replication | None:
    """The replication figures of a drill that sampled its members; None if it did not."""
    events = [e for e in ev.concluded if e.kind == EventKind.REPLICATION]
    samples = [e for e in events if "role" in e.data]
    if not samples:
        return None
    t_fault = fault.start.mono if fault else None
    before: dict[str, Any] = {}
    after: dict[str, str] = {}
    for event in events:  # a member that stopped answering ends "down"
        name = str(event.data["service"])
        if "role" in event.data and (t_fault is None or event.at.mono <= t_fault):
            before[name] = event
        after[name] = str(event.data.get("role", "down"))
    at_fault = tuple(_lag(before[name], before, t_fault) for name in before)
    promote = next((s for s in ev.steps if s.category == Category.RECOVERY and s.ok
                    and s.name.startswith("promote ")), None)
    promoted_mono = float(promote.data.get("effect_mono", promote.start.mono)) \
        if promote and promote.end else None
    promoted = str(promote.data.get("service")) if promote else None
    if promote is None and t_fault is not None:
        # promoted by an HA manager: the first replica seen as primary after the fault
        first = next((e for e in samples if e.at.mono > t_fault and e.data["role"] == "primary"
                      and getattr(before.get(str(e.data["service"])), "data", {})
                      .get("role") == "replica"), None)
        if first is not None:
            promoted, promoted_mono = str(first.data["service"]), first.at.mono
    problems: list[str] = []
    split = None
    if promoted_mono is not None and t_fault is not None:
        split = _split_brain(ev, root, promoted_mono, t_fault, writes, problems)
    return Replication(
        roles_before={k: str(v.data["role"]) for k, v in before.items()},
        roles_after=after,
        at_fault=at_fault,
        promoted=promoted,
        promoted_mono=promoted_mono, samples=len(samples), split_brain=split,
        problems=tuple(problems))


def _lag(event: Any, before: dict[str, Any], t_fault: float | None) -> MemberLag:
    data = event.data
    ago = None if t_fault is None else round(t_fault - event.at.mono, 3)
    if data["role"] == "replica":
        # the primary's view of this replica, in the primary's sample before the fault
        seen = [d for other in before.values() if other.data.get("role") == "primary"
                for d in other.data.get("downstream", ()) if d.get("member") == data["service"]]
        lag_bytes = seen[0].get("lag_bytes") if seen else None
        primary: dict[str, Any] = next((o.data for o in before.values()
                                        if o.data.get("role") == "primary"), {})
        if lag_bytes is None and primary.get("position") is not None \
                and data.get("position") is not None:
            # the two positions, sampled milliseconds apart: the primary's log not yet applied
            lag_bytes = max(0, int(primary["position"]) - int(data["position"]))
        lag_s = seen[0].get("lag_s") if seen and seen[0].get("lag_s") is not None \
            else data.get("lag_s")
        streaming = data.get("streaming")
        return MemberLag(str(data["service"]), "replica", lag_bytes, lag_s, ago,
                         None if streaming is None else bool(streaming))
    return MemberLag(str(data["service"]), str(data["role"]), None, None, ago)


def _split_brain(ev: Sources, root: Path, promoted_mono: float, t_fault: float,
                 writes: WriteCheck | None,
                 problems: list[str]) -> SplitBrain | None:
    read = next((e for e in ev.concluded if e.kind == EventKind.DEMOTED_READ), None)
    if read is None:
        return None
    demoted = str(read.data["service"])
    # fenced: the first step after the promotion that stopped or rewound the old primary
    fence = next((s for s in ev.steps if s.ok and s.start.mono >= promoted_mono
                  and (s.data.get("service") == demoted or s.name.endswith(demoted)
                       or f" {demoted} " in f" {s.name} ")
                  and s.category in (Category.RECOVERY, Category.FAULT)), None)
    fenced = float(fence.data.get("effect_mono", fence.start.mono)) if fence else None
    try:
        ledger = load_readback(root / str(read.data["file"]))
    except HistoryError as exc:
        problems.append(f"the demoted primary's ledger is unreadable: {exc}")
        return None
    if ledger.rows is None or writes is None:
        problems.append("the demoted primary's ledger or the write check is missing")
        return None
    lost = writes.lost.array
    classes = held_classes(lost, writes.lost_acks, ledger.ids, t_fault, promoted_mono)
    return SplitBrain(demoted, promoted_mono, fenced, int(np.count_nonzero(classes.after)),
                      tuple(int(i) for i in lost[classes.after][:IDS_LISTED]),
                      int(np.count_nonzero(classes.isolated)),
                      int(np.count_nonzero(classes.unreplicated)), len(ledger.ids))


@dataclass(frozen=True)
class HeldClasses:
    """Masks over the lost writes that the demoted primary's ledger holds, by acknowledgement."""

    after: np.ndarray  # after the promotion: two primaries
    isolated: np.ndarray  # after the fault, up to the promotion: the only primary, cut off
    unreplicated: np.ndarray  # up to the fault: not yet on the replica when the link was cut


def held_classes(lost: np.ndarray, acks: np.ndarray, ledger_ids: np.ndarray,
                 t_fault: float, promoted_mono: float) -> HeldClasses:
    """Split the lost writes the demoted primary holds into three disjoint classes.

    Every lost write in the ledger is in exactly one: the three cover the acknowledgement
    times (-inf, t_fault], (t_fault, promoted], (promoted, +inf).
    """
    held = np.isin(lost, ledger_ids)
    return HeldClasses(after=held & (acks > promoted_mono),
                       isolated=held & (acks > t_fault) & (acks <= promoted_mono),
                       unreplicated=held & (acks <= t_fault))
