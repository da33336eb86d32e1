"""The compose file of a run, generated from the kind templates of docker-compose.drill.yml.

For every service of a drill: a copy of its kind's template service, with the service's
own image, labels, environment, command, data volume, secret files and network. Plain
data in, plain data out (no Docker here), so the result can be checked in unit tests and
is saved with the scenario's records as evidence of what ran.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from drills.errors import StackError
from drills.kinds.base import ServiceKind
from drills.stack.compose_spec import ComposeSpec, data_volume

COMPOSE_FILE = "docker-compose.drill.yml"


def template_path() -> Path:
    """$DRILLS_COMPOSE_FILE, else the docker-compose.drill.yml shipped inside drills."""
    configured = os.environ.get("DRILLS_COMPOSE_FILE")
    if configured:
        path = Path(configured)
        if not path.is_file():
            raise StackError(f"DRILLS_COMPOSE_FILE={configured}: no such file")
        return path
    return Path(str(resources.files("drills") / "compose" / COMPOSE_FILE))


def load_templates(path: Path) -> dict[str, dict[str, Any]]:
    """The services of a compose file, by name; StackError naming the file otherwise."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise StackError(f"{path}: cannot read the compose file: {exc}") from exc
    services = raw.get("services") if isinstance(raw, dict) else None
    if not isinstance(services, dict) or not all(isinstance(v, dict) for v in services.values()):
        raise StackError(f"{path}: has no 'services' mapping")
    return services


def _environment(raw: Any) -> dict[str, str]:
    if isinstance(raw, Mapping):
        return {str(k): str(v) for k, v in raw.items()}
    if isinstance(raw, list):
        return dict(str(item).split("=", 1) for item in raw if "=" in str(item))
    return {}


def service_definition(
    template: Mapping[str, Any], kind: ServiceKind, name: str, spec: ComposeSpec, *,
    hostnet: bool, secrets_dir: Path, labels: Mapping[str, str],
    backups_dir: Path | None = None, data_bind: Path | None = None,
    small_disk: Path | None = None,
) -> dict[str, Any]:
    """The compose definition of service ``name``: its kind's template, made its own.

    ``data_bind``: a directory of the host bound in as its data directory (a LazyFS mount),
    instead of a data volume of its own. ``small_disk``: the host's mount of a small file
    system, bound in at ``spec.small_disk_path`` (the data path itself, or beside it).
    """
    made = copy.deepcopy(dict(template))
    made.pop("container_name", None)  # compose names containers <project>-<service>-<n>
    made.pop("depends_on", None)  # the drill starts services in its own order
    made["image"] = kind.image()
    made["labels"] = {**_environment(made.get("labels")), **labels,
                      "io.drills.service": name, "io.drills.kind": kind.name}
    made["environment"] = {**_environment(made.get("environment")), **spec.environment}
    if spec.command is not None:
        # literal: Compose would otherwise interpolate $VAR in it (a kind's shell script)
        made["command"] = [str(arg).replace("$", "$$") for arg in spec.command]
    volumes: list[dict[str, Any]] = []
    if small_disk is not None and spec.small_disk_path == spec.data_path:
        data_bind = small_disk
    elif small_disk is not None and spec.small_disk_path is not None:
        volumes.append({"type": "bind", "source": str(small_disk),
                        "target": spec.small_disk_path})
    if spec.data_path is not None and data_bind is not None:
        volumes.append({"type": "bind", "source": str(data_bind), "target": spec.data_path})
    elif spec.data_path is not None:
        volumes.append({"type": "volume", "source": data_volume(name),
                        "target": spec.data_path})
    if spec.backup_path is not None and backups_dir is not None:
        volumes.append({"type": "bind", "source": str(backups_dir), "target": spec.backup_path})
    for target, file_name in spec.secret_mounts.items():
        volumes.append({"type": "bind", "source": str(secrets_dir / file_name),
                        "target": target, "read_only": True})
    made["volumes"] = volumes
    if hostnet:
        made["network_mode"] = "host"
        made.pop("ports", None)
        made.pop("networks", None)
    else:
        made["ports"] = [f"127.0.0.1:{spec.endpoint.port}:{spec.container_port}"]
    return made


def project_file(definitions: Mapping[str, Mapping[str, Any]], volumes: list[str],
                 labels: Mapping[str, str], *, network: bool) -> dict[str, Any]:
    """A whole compose file: the run's services and their labelled data volumes.

    With bridge networking, also the project's default network, labelled so that
    `drill clean` finds it after a crash.
    """
    made: dict[str, Any] = {"services": dict(definitions),
                            "volumes": {v: {"labels": dict(labels)} for v in volumes}}
    if network:
        made["networks"] = {"default": {"labels": dict(labels)}}
    return made
