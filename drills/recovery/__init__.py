"""Recovery procedures: what brings the service back after a fault."""

from drills.recovery.base import RecoveryStep
from drills.recovery.restart import Restart

__all__ = ["RecoveryStep", "Restart"]
