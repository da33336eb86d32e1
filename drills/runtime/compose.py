"""The ``compose`` runtime: the stack in containers, from docker-compose.drill.yml.

Each run is its own Compose project, ``drills-<run id>``, from a file generated out of the
kind templates (drills.runtime.compose_file). Up and down go through the Docker Compose v2
CLI; each service is a ``ComposeService`` (drills.stack.compose_service), whose faults and
restarts go through the Docker Engine API (docker SDK). Containers and volumes carry the
run's id and the identity of its owner (drills.stack.ownership); ``close()`` removes them all.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Mapping
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from drills import kinds
from drills.errors import StackError
from drills.runtime import compose_file, engine_check
from drills.stack import engine
from drills.stack.compose_service import ComposeService
from drills.stack.compose_spec import ComposeContext, data_volume
from drills.stack.ownership import Owner
from drills.stack.service import Service, check_name
from drills.stack.storage.lazyfs import LazyFS
from drills.stack.storage.loopfs import LoopFS
from drills.stack.storage.mounts import release_workdir
from drills.stack.workdir import make_workdir


class ComposeRuntime:
    """One Compose project per run: ``drills-<run id>``."""

    name = "compose"

    def __init__(self, run_id: str, logs_dir: Path) -> None:
        self.run_id = run_id
        self.logs_dir = logs_dir
        self.template_path = compose_file.template_path()
        self.templates = compose_file.load_templates(self.template_path)
        self._closed = False
        with ExitStack() as undo:  # undone if anything below fails; kept once all is made
            self.docker = engine.client()
            undo.callback(self.docker.close)
            self.check = engine_check.check_engine()
            self.hostnet = not self.check.bridge or os.environ.get("DRILLS_NETWORK") == "host"
            self.labels = {engine.RUN_LABEL: run_id, **Owner.current().to_labels()}
            self.workdir = make_workdir(run_id, self.name)
            undo.callback(shutil.rmtree, self.workdir, True)
            self.secrets_dir = self.workdir / "secrets"
            self.secrets_dir.mkdir(mode=0o700)
            undo.pop_all()
        # one project per runtime, even for two drills of one run: its own containers,
        # volumes and network, which nothing else of the run can recreate or remove
        suffix = self.workdir.name.rsplit("-", 1)[-1].lower()
        self.project = "drills-" + "".join(c if c.isalnum() else "-" for c in
                                           f"{run_id.lower()}-{suffix}")
        self.run_file = self.workdir / "compose.run.json"
        self._definitions: dict[str, dict[str, Any]] = {}
        self._made: list[ComposeService] = []
        self._lazyfs: list[LazyFS] = []
        self._disks: list[LoopFS] = []

    def compose(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run ``docker compose`` on this run's project file."""
        argv = ["docker", "compose", "-p", self.project, "--project-directory",
                str(self.workdir), "-f", str(self.run_file), *args]
        done = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=300)
        if check and done.returncode != 0:
            raise StackError(f"docker compose {' '.join(args)} failed (exit {done.returncode}):"
                             f"\n{done.stderr.strip()[-2000:]}")
        return done

    def services(self, wanted: Mapping[str, Any]) -> dict[str, Service]:
        made: dict[str, Service] = {}
        ctx = ComposeContext(self.hostnet, self.secrets_dir, made)
        for name, settings in wanted.items():
            check_name(name)
            kind = kinds.of_settings(settings)
            template = self.templates.get(kind.name)
            if template is None:
                raise StackError(f"{self.template_path}: no service '{kind.name}' to use as "
                                 f"the template of kind {kind.name} (service {name})")
            spec = kind.compose(name, settings, ctx)
            backups = None
            if spec.backup_path is not None:  # outside the data volume: a loss spares it
                backups = self.workdir / "backups" / name
                backups.mkdir(mode=0o700, parents=True)
            lazyfs = None
            if getattr(settings, "storage", "disk") == "lazyfs" and spec.data_path is not None:
                lazyfs = self._lazyfs_data(name)
            small = None
            if spec.small_disk_path is not None and spec.small_disk_bytes is not None:
                small = self._small_disk(name, spec.small_disk_bytes)
            self._definitions[name] = compose_file.service_definition(
                template, kind, name, spec, hostnet=self.hostnet, secrets_dir=self.secrets_dir,
                labels=self.labels, backups_dir=backups,
                data_bind=lazyfs.mountpoint if lazyfs is not None else None,
                small_disk=small.mountpoint if small is not None else None,
            )
            service = (kind.compose_class() or ComposeService)(name, kind, self, spec)
            service.lazyfs, service.small_disk = lazyfs, small
            made[name] = service
            self._made.append(service)
        self.write_run_file()
        return made

    def _lazyfs_data(self, name: str) -> LazyFS:
        """A LazyFS mount of the host, bound into the container as its data directory.

        Measured: a container needs neither /dev/fuse nor a capability to use a FUSE mount
        of the host bound into it (allow_other), as root or as the image's own account; the
        host drops what was not fsynced (clear-cache) under it. The mount and its files
        live in the run's directory and go when the runtime closes.
        """
        home = self.workdir / "lazyfs" / name
        mountpoint, files, backing = home / "data", home / "files", home / "root"
        for path in (mountpoint, files, backing):
            path.mkdir(mode=0o700, parents=True, exist_ok=True)
        mounted = LazyFS(files, name=f"{name}-lazyfs")
        mounted.mount(mountpoint, backing)
        self._lazyfs.append(mounted)
        return mounted

    def _small_disk(self, name: str, size_bytes: int) -> LoopFS:
        """A loop-mounted ext4 of the host, bound into the container (DiskFull).

        A container gets no loop device; the host's mount bound in works, and the host
        fills and frees it. In the run's directory; taken down when the runtime closes.
        """
        home = self.workdir / "disks" / name
        home.mkdir(mode=0o700, parents=True, exist_ok=True)
        made = LoopFS.create(home / "disk.img", size_bytes, home / "mnt")
        self._disks.append(made)
        return made

    def write_run_file(self) -> None:
        """The project file of the run, also kept with the scenario's records (no secret)."""
        volumes = [data_volume(s.name) for s in self._made
                   if s.spec.data_path and s.lazyfs is None
                   and (s.small_disk is None or s.spec.small_disk_path != s.spec.data_path)]
        text = json.dumps(compose_file.project_file(self._definitions, volumes, self.labels,
                                                    network=not self.hostnet), indent=1)
        self.run_file.write_text(text)
        self.logs_dir.mkdir(parents=True, exist_ok=True)
        (self.logs_dir / "compose.run.json").write_text(text)

    def describe(self) -> dict[str, Any]:
        return {"runtime": self.name, "project": self.project,
                "network": "host" if self.hostnet else "bridge", "engine": self.check.reason,
                "compose_file": str(self.template_path)}

    def close(self) -> None:
        """Compose down -v, then anything else of this project; then the workdir.

        Every step runs even when one fails; the failures are raised together at the end.
        """
        if self._closed:
            return
        self._closed = True
        problems: list[str] = []
        for service in self._made:
            service.save_log()
        try:
            if self.run_file.exists():
                done = self.compose("down", "--volumes", "--remove-orphans", "--timeout", "10",
                                    check=False)
                if done.returncode != 0:
                    problems.append(f"compose down: {done.stderr.strip()[-500:]}")
        except Exception as exc:
            problems.append(f"compose down: {exc}")
        try:
            for line in remove_project(self.docker, self.project):
                problems.append(f"left behind by compose down, removed: {line}")
        except Exception as exc:
            problems.append(f"removing what is left of project {self.project}: {exc}")
        finally:
            self.docker.close()
            # no container holds the mounts any more
            problems += release_workdir(self.workdir, [*self._lazyfs, *self._disks])
        if problems:
            raise StackError(f"tearing down {self.project}: " + "; ".join(problems))


def remove_project(docker_client: Any, project: str) -> list[str]:
    """Remove every container, volume and network of a Compose project; returns what went."""
    gone = []
    label = {"label": f"com.docker.compose.project={project}"}
    for container in docker_client.containers.list(all=True, filters=label):
        container.remove(force=True, v=True)
        gone.append(f"container {container.name}")
    for volume in docker_client.volumes.list(filters=label):
        volume.remove(force=True)
        gone.append(f"volume {volume.name}")
    for network in docker_client.networks.list(filters=label):
        network.remove()
        gone.append(f"network {network.name}")
    return gone
