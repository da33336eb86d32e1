"""Toxiproxy under the compose runtime: its service from the ``toxiproxy`` template.

Its links reach the other services at their host ports, so they need host networking
(the only networking drills' own tests use); on a bridge network the upstream addresses
would be the other containers' names, which the links do not know yet.
"""

from __future__ import annotations

from drills.errors import StackError
from drills.kinds.toxiproxy.links import ProxyLinks
from drills.kinds.toxiproxy.settings import ToxiproxySettings
from drills.stack.compose_service import ComposeService
from drills.stack.compose_spec import ComposeContext, ComposeSpec
from drills.stack.endpoint import Endpoint
from drills.stack.ports import LOOPBACK


class ComposeToxiproxy(ProxyLinks, ComposeService):
    """The Toxiproxy container, with the links it carries."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._links = {}

    def identify(self) -> dict[str, str]:
        found = super().identify()
        self._version = found["version"]
        return found

    def stop(self) -> None:
        self.release_links()
        super().stop()

    def describe(self) -> dict[str, object]:
        return {**super().describe(), "links": self.describe_links()}


#: the compose runtime builds this kind's services with this class
SERVICE_CLASS = ComposeToxiproxy


def compose_spec(name: str, settings: ToxiproxySettings, ctx: ComposeContext) -> ComposeSpec:
    if not ctx.hostnet:
        raise StackError(f"{name}: Toxiproxy links need host networking here; run with "
                         "DRILLS_NETWORK=host")
    port, inner = ctx.ports(8474)
    return ComposeSpec(
        endpoint=Endpoint("toxiproxy", LOOPBACK, port, ""),
        container_port=inner,
        command=[f"-host={LOOPBACK}", f"-port={inner}"],
        settings={"api": f"{LOOPBACK}:{port}"},
    )
