"""The op history: every operation the workload made, with its outcome, Jepsen style.

``format``  the compact on-disk records and their writer
``ops``     invokes paired with completions, streamed as numpy chunks
``clocks``  a load generator's times put on the drill's clock
``probes``  the steady-state probe's attempts (probes.jsonl)
"""

from drills.record.history.clocks import DrillClock
from drills.record.history.format import HistoryFile, HistoryWriter, digest
from drills.record.history.ops import OP, History, Op, ops_table, read_history
from drills.record.history.outcome import Outcome
from drills.record.history.probes import ProbeAttempt, read_probes

__all__ = ["OP", "DrillClock", "History", "HistoryFile", "HistoryWriter", "Op", "Outcome",
           "ProbeAttempt", "digest", "ops_table", "read_history", "read_probes"]
