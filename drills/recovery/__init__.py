"""Recovery procedures: what brings the service back after a fault."""

from drills.recovery.restart import Restart, RecoveryStep

__all__ = ["RecoveryStep", "Restart"]
