"""Optional capabilities: a fault refuses, when it is built, a target that lacks what it needs.

The services here are stand-ins with no server behind them: what is tested is the
capability check itself, which is pure logic.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from drills.errors import CapabilityMissing
from drills.faults import CorruptFile, Freeze, Kill, LoseData
from drills.kinds.postgres import KIND as POSTGRES
from drills.record.action import Action
from drills.record.clock import Instant
from drills.stack.capabilities import HasDataVolume, Killable, offered
from drills.stack.compose_service import ComposeService
from drills.stack.compose_spec import ComposeSpec
from drills.stack.endpoint import Endpoint
from drills.stack.service import Service


class Lifecycle(Service):
    """A service that offers its lifecycle and nothing else."""

    name, kind, runtime = "api", "postgres", "elsewhere"
    endpoint = Endpoint("postgres", "127.0.0.1", 1, "pw")

    def start(self) -> None: ...
    def stop(self) -> None: ...
    def wait_exit(self, timeout: float) -> bool: return True
    def identify(self) -> Mapping[str, str]: return {}
    def alive(self) -> bool: return True
    def log_tail(self, lines: int = 20) -> str: return ""
    def describe(self) -> dict[str, Any]: return {}


class KillableOnly(Lifecycle):
    def kill(self) -> Action:
        return Action("stand-in", Instant.now())


def test_a_fault_refuses_a_target_without_its_capability() -> None:
    with pytest.raises(CapabilityMissing) as info:
        Kill(Lifecycle())
    message = str(info.value)
    assert "'kill api'" in message and "service 'api'" in message
    assert "elsewhere runtime" in message and "not killable" in message
    assert "offers there: none" in message
    assert (info.value.service, info.value.runtime, info.value.capability) == \
        ("api", "elsewhere", "killable")


@pytest.mark.parametrize(("make", "capability"), [
    (lambda s: Freeze(s), "pausable"),
    (lambda s: LoseData(s), "backed by a data volume"),
    (lambda s: CorruptFile(s, "base/1", 0, b"x"), "backed by a data volume"),
])
def test_each_fault_names_what_it_needs(make: Any, capability: str) -> None:
    with pytest.raises(CapabilityMissing, match=capability) as info:
        make(KillableOnly())
    assert "offers there: killable" in str(info.value)


def test_a_target_with_the_capability_is_accepted() -> None:
    service = KillableOnly()
    assert Kill(service).target is service
    assert offered(service) == ("killable",)


def test_a_compose_service_without_a_data_volume_offers_none(tmp_path: Path) -> None:
    spec = ComposeSpec(endpoint=Endpoint("postgres", "127.0.0.1", 1, "pw"), container_port=1,
                       data_path=None)
    service = ComposeService("stateless", POSTGRES, runtime=None, spec=spec)  # type: ignore[arg-type]
    assert service.supports(Killable)
    assert not service.supports(HasDataVolume)
    with pytest.raises(CapabilityMissing, match="compose runtime"):
        LoseData(service)

