"""Recovery procedures: what brings the service back after a fault."""

from drills.recovery.base import RecoveryStep
from drills.recovery.failover import Fence, Promote, Rejoin, Repoint
from drills.recovery.provision import Provision
from drills.recovery.restart import Restart

__all__ = ["Fence", "Promote", "Provision", "RecoveryStep", "Rejoin", "Repoint", "Restart"]
