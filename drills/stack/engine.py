"""The Docker engine as drills sees it: is one there, which images it has, its labels.

Every container and volume a run creates carries ``io.drills.run-id`` and
``io.drills.owner-pid``; clean-up and ``drill clean`` act only on those.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from drills.errors import StackError

RUN_LABEL = "io.drills.run-id"
OWNER_LABEL = "io.drills.owner-pid"
DEFAULT_IMAGES = {"postgres": "postgres:15", "redis": "redis:7"}


def image_for(kind: str) -> str:
    """The image of a service: $DRILLS_<KIND>_IMAGE, else the official image."""
    return os.environ.get(f"DRILLS_{kind.upper()}_IMAGE") or DEFAULT_IMAGES[kind]


def client(timeout: int = 10) -> Any:
    """A docker SDK client; StackError (with what to do) when no engine answers."""
    try:
        import docker

        made = docker.from_env(timeout=timeout)
        made.ping()
        return made
    except Exception as exc:
        raise StackError(
            f"no Docker engine answers ({exc}). To fix this, either start one "
            "(scripts/setup_docker.sh does, on Debian) or use --runtime local."
        ) from exc


@dataclass(frozen=True)
class EngineCheck:
    """Whether the compose runtime can run here, and why (not)."""

    usable: bool
    reason: str
    bridge: bool = False


def check_engine(kinds: tuple[str, ...] = ("postgres", "redis")) -> EngineCheck:
    """Can the compose runtime run: engine, compose plugin, images present."""
    try:
        docker_client = client(timeout=3)
    except StackError as exc:
        return EngineCheck(False, str(exc).split(". To fix")[0])
    try:
        version = docker_client.version().get("Version", "?")
        missing = []
        for kind in kinds:
            try:
                docker_client.images.get(image_for(kind))
            except Exception:
                missing.append(image_for(kind))
        bridge = any(n.name == "bridge" for n in docker_client.networks.list(names=["bridge"]))
    finally:
        docker_client.close()
    if missing:
        which = f"image {missing[0]} is" if len(missing) == 1 else \
            f"images {', '.join(missing)} are"
        return EngineCheck(False, f"engine {version} answers but {which} not present (pull, "
                           "or set DRILLS_<SERVICE>_IMAGE, or run scripts/setup_docker.sh)")
    return EngineCheck(True, f"engine {version} answers and has "
                       f"{', '.join(image_for(k) for k in kinds)}", bridge)
