"""Faults: injected failures. Each has ``inject()`` and, where it makes sense, ``revert()``.

A drill applies a fault with ``with drill.fault(Kill(pg)): ...``; the revert runs in
``finally`` whatever happens inside.
"""

from drills.faults.base import Fault
from drills.faults.data import SilentDelete
from drills.faults.process import Freeze, Kill

__all__ = ["Fault", "Freeze", "Kill", "SilentDelete"]
