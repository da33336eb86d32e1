"""Faults: injected failures. Each has ``inject()`` and, where it makes sense, ``revert()``.

A drill applies a fault with ``with drill.fault(Kill(pg)): ...``; the revert runs in
``finally`` whatever happens inside. Each fault names the capabilities it needs of its
target and refuses a target that lacks one when it is built.
"""

from drills.faults.base import Fault
from drills.faults.data import CorruptFile, LoseData, SilentDelete
from drills.faults.process import Freeze, Kill

__all__ = ["CorruptFile", "Fault", "Freeze", "Kill", "LoseData", "SilentDelete"]
