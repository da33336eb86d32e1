"""Recovery procedures: what brings the service back after a fault."""

from drills.recovery.restart import RecoveryStep, Restart

__all__ = ["RecoveryStep", "Restart"]
