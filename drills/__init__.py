"""drills: turn a disaster-recovery plan into measured drills.

The public API a scenario needs; everything else is internal and may change. Names
resolve lazily (PEP 562): importing ``drills`` must not import database drivers,
because the Locust child process has to monkey-patch the standard library with gevent
before psycopg or redis are imported (psycopg picks its wait function at import time,
and a non-cooperative one serialises every write of the load generator).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "Drill": "drills.drill",
    "DrillError": "drills.errors",
    "PlanError": "drills.errors",
    "Action": "drills.record.action",
    "CapabilityMissing": "drills.errors",
    "CorruptFile": "drills.faults",
    "Fault": "drills.faults",
    "Freeze": "drills.faults",
    "Kill": "drills.faults",
    "LoseData": "drills.faults",
    "SilentDelete": "drills.faults",
    "Outcome": "drills.record.history",
    "DrillResult": "drills.measure.evaluate",
    "evaluate": "drills.measure.evaluate",
    "Verdict": "drills.measure.verdict",
    "Plan": "drills.plan",
    "ScenarioPlan": "drills.plan",
    "load_plan": "drills.plan",
    "RecoveryStep": "drills.recovery",
    "Restart": "drills.recovery",
    "Provision": "drills.recovery",
    "Promote": "drills.recovery",
    "Repoint": "drills.recovery",
    "Rejoin": "drills.recovery",
    "Fence": "drills.recovery",
    "Replicated": "drills.replication.group",
    "KillAndCut": "drills.faults.server_loss",
    "PostgresSettings": "drills.kinds.postgres.settings",
    "RedisSettings": "drills.kinds.redis.settings",
    "MongoSettings": "drills.kinds.mongodb.settings",
    "AppSettings": "drills.kinds.app.settings",
    "ToxiproxySettings": "drills.kinds.toxiproxy.settings",
    "Latency": "drills.faults.network",
    "Bandwidth": "drills.faults.network",
    "Partition": "drills.faults.network",
    "ResetPeer": "drills.faults.network",
    "SlowClose": "drills.faults.network",
}

__all__ = [
    "Action",
    "AppSettings",
    "Bandwidth",
    "CapabilityMissing",
    "CorruptFile",
    "Drill",
    "DrillError",
    "DrillResult",
    "Fault",
    "Fence",
    "Freeze",
    "Kill",
    "KillAndCut",
    "Latency",
    "LoseData",
    "MongoSettings",
    "Outcome",
    "Partition",
    "Plan",
    "PlanError",
    "PostgresSettings",
    "Promote",
    "Provision",
    "RecoveryStep",
    "RedisSettings",
    "Rejoin",
    "Replicated",
    "Repoint",
    "ResetPeer",
    "Restart",
    "ScenarioPlan",
    "SilentDelete",
    "SlowClose",
    "ToxiproxySettings",
    "Verdict",
    "evaluate",
    "load_plan",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'drills' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


if TYPE_CHECKING:
    from drills.drill import Drill
    from drills.errors import CapabilityMissing, DrillError, PlanError
    from drills.faults import CorruptFile, Fault, Freeze, Kill, LoseData, SilentDelete
    from drills.faults.network import Bandwidth, Latency, Partition, ResetPeer, SlowClose
    from drills.faults.server_loss import KillAndCut
    from drills.kinds.app.settings import AppSettings
    from drills.kinds.mongodb.settings import MongoSettings
    from drills.kinds.postgres.settings import PostgresSettings
    from drills.kinds.redis.settings import RedisSettings
    from drills.kinds.toxiproxy.settings import ToxiproxySettings
    from drills.measure.evaluate import DrillResult, evaluate
    from drills.measure.verdict import Verdict
    from drills.plan import Plan, ScenarioPlan, load_plan
    from drills.record.action import Action
    from drills.record.history import Outcome
    from drills.recovery import Fence, Promote, Provision, RecoveryStep, Rejoin, Repoint, Restart
    from drills.replication.group import Replicated
