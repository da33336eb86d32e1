"""Recovery procedures: what brings the service back after a fault."""

from drills.recovery.base import RecoveryStep
from drills.recovery.provision import Provision
from drills.recovery.restart import Restart

__all__ = ["Provision", "RecoveryStep", "Restart"]
