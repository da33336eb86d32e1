"""The Docker engine as drills sees it: is one there, its Compose plugin, its labels.

Every container and volume a run creates carries ``io.drills.run-id`` and the identity
of the drill process that owns it (drills.stack.ownership); ``drill clean`` acts only on those
whose owner it can prove gone. Whether it has the images of a run's kinds:
drills.runtime.engine_check.
"""

from __future__ import annotations

import os
import socket
import subprocess
from typing import Any

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


def compose_version() -> str | None:
    """The version of ``docker compose``, or None where the plugin is missing."""
    try:
        done = subprocess.run(["docker", "compose", "version", "--short"], capture_output=True,
                              text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    text = done.stdout.strip()
    return text if done.returncode == 0 and text[:1].isdigit() else None
