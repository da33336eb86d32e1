"""Whether the compose runtime can run here: an engine, Compose v2, the images of the kinds.

The engine and Compose are asked through drills.stack.engine; the images are those of
the kinds the run brings up (drills.kinds).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from drills import kinds
from drills.errors import StackError
from drills.stack import engine


@dataclass(frozen=True)
class EngineCheck:
    """Whether the compose runtime can run here, and why (not)."""

    usable: bool
    reason: str
    bridge: bool = False


def check_engine(needed: Collection[str] | None = None) -> EngineCheck:
    """Can the compose runtime run: engine, images of the ``needed`` kinds present.

    ``needed``: names of the kinds the run brings up; None: every kind.
    """
    # first: a bad DRILLS_IMAGES is a usage error whether an engine answers or not
    images = list(dict.fromkeys(kind.image() for kind in kinds.all_kinds()
                                if needed is None or kind.name in needed))  # one each
    try:
        docker_client = engine.client(timeout=3)
    except StackError as exc:
        return EngineCheck(False, str(exc).split(". To fix")[0])
    try:
        version = docker_client.version().get("Version", "?")
        missing = []
        for image in images:
            try:
                docker_client.images.get(image)
            except Exception:
                missing.append(image)
        bridge = any(n.name == "bridge" for n in docker_client.networks.list(names=["bridge"]))
    finally:
        docker_client.close()
    compose = engine.compose_version()
    if compose is None:
        return EngineCheck(False, f"engine {version} answers but `docker compose` (Compose v2) "
                           "is not installed for this user (scripts/setup_docker.sh installs "
                           "it as a CLI plugin in ~/.docker/cli-plugins; DOCKER_CONFIG moves it)")
    if missing:
        which = f"image {missing[0]} is" if len(missing) == 1 else \
            f"images {', '.join(missing)} are"
        return EngineCheck(False, f"engine {version} answers but {which} not present (pull "
                           "them; or `drill images build` and DRILLS_IMAGES=offline; or name "
                           "others with DRILLS_<KIND>_IMAGE)")
    return EngineCheck(True, f"engine {version} and Compose {compose} answer, with "
                       f"{', '.join(images) or 'no image of drills needed'}", bridge)
