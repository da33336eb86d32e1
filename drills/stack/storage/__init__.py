"""Storage for the faults a restart cannot fake: power loss (LazyFS) and a full disk (LoopFS).

lazyfs.py   LazyFS: a FUSE mount that drops what was not fsynced on command (clear-cache)
loopfs.py   LoopFS: a small ext4 on a loop device, filled until ENOSPC and freed again
mounts.py   the mounts and loop devices a run left below its directory, and clean()

Each module has ``available()``: None where it can work, else the reason it cannot, for a
scenario to end "could not verify" with that reason and for ``drill check`` to say so.
"""

from drills.stack.storage.lazyfs import LazyFS
from drills.stack.storage.loopfs import LoopFS
from drills.stack.storage.mounts import Leftover, LeftoverKind, clean, leftovers

__all__ = ["LazyFS", "Leftover", "LeftoverKind", "LoopFS", "clean", "leftovers"]
