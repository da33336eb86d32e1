"""The Docker engine as drills sees it: is one there, which images it has, its labels.

Every container and volume a run creates carries ``io.drills.run-id`` and the identity
of the drill process that owns it (drills.ownership); ``drill clean`` acts only on those
whose owner it can prove gone.
"""

from __future__ import annotations

import os
import socket
import subprocess
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from drills import kinds
from drills.errors import StackError

RUN_LABEL = "io.drills.run-id"


def client(timeout: int = 10) -> Any:
    """A docker SDK client; StackError (with what to do) when no engine answers."""
    made = None
    try:
        _socket_answers()
        import docker

        made = docker.from_env(timeout=timeout)
        made.ping()
        return made
    except Exception as exc:
        if made is not None:  # no engine: its socket is closed, not left to the collector
            made.close()
        raise StackError(
            f"no Docker engine answers ({exc}). To fix this, either start one "
            "(scripts/setup_docker.sh does, on Debian) or use --runtime local."
        ) from exc


def _socket_answers() -> None:
    """Connect to the engine's Unix socket first (when DOCKER_HOST names none other).

    With no engine behind the socket, the docker SDK leaves the socket of its failed
    connection to the garbage collector (a ResourceWarning); this one is closed.
    """
    host = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
    if not host.startswith("unix://"):
        return
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(3)
        sock.connect(host[len("unix://"):])


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
        docker_client = client(timeout=3)
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
    compose = compose_version()
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


def compose_version() -> str | None:
    """The version of ``docker compose``, or None where the plugin is missing."""
    try:
        done = subprocess.run(["docker", "compose", "version", "--short"], capture_output=True,
                              text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    text = done.stdout.strip()
    return text if done.returncode == 0 and text[:1].isdigit() else None
