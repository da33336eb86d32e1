"""The ``compose`` runtime: the stack in containers, from docker-compose.drill.yml.

Up and down go through the Docker Compose v2 CLI; faults and restarts go through the
Docker Engine API (docker SDK), each saying which mechanism it used:

- ``kill()``: SIGKILL to the container's main process from the host: a crash, so
  restart policies apply (falls back to ``docker kill`` where host pids are not ours)
- ``docker_kill()``: ``docker kill``, which the engine counts as a manual stop
- ``freeze()`` / ``thaw()``: ``docker pause`` / ``unpause`` (cgroup freezer)
- ``stop()``, ``start()``, ``remove_with_volume()``, ``corrupt_file()``

Containers and volumes carry the run's labels; ``close()`` removes them all.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from drills.clock import Instant
from drills.datastore import postgres as pg_store
from drills.datastore import redis_store
from drills.errors import FaultError, StackError
from drills.stack import engine
from drills.stack.ports import LOOPBACK, free_port
from drills.stack.service import Effect, Endpoint, Service
from drills.stack.settings import PostgresSettings, RedisSettings
from drills.stack.workdir import make_workdir

REPO_FILES = Path(__file__).resolve().parents[2]
COMPOSE_FILE = "docker-compose.drill.yml"
HOSTNET_FILE = "docker-compose.hostnet.yml"


def compose_files(explicit: str | None = None) -> Path:
    """The directory holding docker-compose.drill.yml: $DRILLS_COMPOSE_DIR, cwd, or the repo."""
    for candidate in (explicit or os.environ.get("DRILLS_COMPOSE_DIR"), Path.cwd(), REPO_FILES):
        if candidate and (Path(candidate) / COMPOSE_FILE).is_file():
            return Path(candidate)
    raise StackError(f"{COMPOSE_FILE} not found (looked in the current directory and "
                     f"{REPO_FILES}); set DRILLS_COMPOSE_DIR to the directory that holds it")


class ComposeRuntime:
    """One Compose project per run: ``drills-<run id>``."""

    name = "compose"

    def __init__(self, run_id: str, logs_dir: Path) -> None:
        self.run_id = run_id
        self.logs_dir = logs_dir
        self.project = "drills-" + "".join(c if c.isalnum() else "-" for c in run_id.lower())
        self.files_dir = compose_files()
        self.docker = engine.client()
        self.check = engine.check_engine()
        self.hostnet = not self.check.bridge or os.environ.get("DRILLS_NETWORK") == "host"
        self.workdir = make_workdir(run_id, self.name)
        self.env: dict[str, str] = {
            "DRILLS_PROJECT": self.project, "DRILLS_RUN_ID": run_id,
            "DRILLS_OWNER_PID": str(os.getpid()), "DRILLS_PULL_POLICY": "missing",
            "DRILLS_POSTGRES_IMAGE": engine.image_for("postgres"),
            "DRILLS_REDIS_IMAGE": engine.image_for("redis"),
            # placeholders: compose interpolates every service, even one not started
            "DRILLS_PG_PASSWORD": "unused", "DRILLS_REDIS_CONF": str(self.workdir / "unused"),
        }
        self.run_file = self.workdir / "compose.run.yml"
        self._overrides: dict[str, dict[str, Any]] = {}
        self._made: list[ComposeService] = []

    def compose(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run ``docker compose`` for this project; secrets go by environment only."""
        files = [self.files_dir / COMPOSE_FILE]
        if self.hostnet:
            files.append(self.files_dir / HOSTNET_FILE)
        files.append(self.run_file)
        argv = ["docker", "compose", "-p", self.project, "--project-directory",
                str(self.files_dir), *[a for f in files for a in ("-f", str(f))], *args]
        done = subprocess.run(argv, env={**os.environ, **self.env}, capture_output=True,
                              text=True, check=False, timeout=300)
        if check and done.returncode != 0:
            raise StackError(f"docker compose {' '.join(args)} failed (exit {done.returncode}):"
                             f"\n{done.stderr.strip()[-2000:]}")
        return done

    def services(self, wanted: Mapping[str, Any]) -> dict[str, Service]:
        made: dict[str, Service] = {}
        for name, settings in wanted.items():
            if isinstance(settings, PostgresSettings):
                made[name] = self._postgres(name, settings)
            elif isinstance(settings, RedisSettings):
                made[name] = self._redis(name, settings)
            else:
                raise StackError(f"the compose runtime cannot run service {name!r}")
        self.run_file.write_text(json.dumps({"services": self._overrides}, indent=1))
        self._made.extend(s for s in made.values() if isinstance(s, ComposeService))
        return made

    def _postgres(self, name: str, settings: PostgresSettings) -> ComposeService:
        port = free_port()
        password = secrets.token_urlsafe(24)
        inner = port if self.hostnet else 5432
        self.env.update({"DRILLS_PG_PASSWORD": password, "DRILLS_POSTGRES_PORT": str(port),
                         "DRILLS_PG_CONTAINER_PORT": str(inner)})
        conf = {"listen_addresses": LOOPBACK if self.hostnet else "*", **settings.conf()}
        command = ["postgres"]
        for key, value in conf.items():
            command += ["-c", f"{key}={value.strip(chr(39))}"]
        self._overrides[name] = {"command": command}
        endpoint = Endpoint("postgres", LOOPBACK, port, password, "drills", "drills")
        return ComposeService(name, self, endpoint, settings)

    def _redis(self, name: str, settings: RedisSettings) -> ComposeService:
        port = free_port()
        password = secrets.token_urlsafe(24)
        inner = port if self.hostnet else 6379
        conf_path = self.workdir / f"{name}.conf"
        conf = {"port": str(inner), "bind": LOOPBACK if self.hostnet else "0.0.0.0",
                "dir": "/data", "protected-mode": "no", "requirepass": password,
                **settings.conf()}
        conf_path.write_text("".join(f"{k} {v}\n" for k, v in conf.items()))
        # it holds the run's password: readable only by the redis user (uid 999 in both the
        # official and drills' images), or by everyone where we cannot give it away
        try:
            os.chown(conf_path, 999, 999)
            conf_path.chmod(0o600)
        except PermissionError:
            conf_path.chmod(0o644)
        self.env.update({"DRILLS_REDIS_PASSWORD": password, "DRILLS_REDIS_PORT": str(port),
                         "DRILLS_REDIS_CONTAINER_PORT": str(inner),
                         "DRILLS_REDIS_CONF": str(conf_path)})
        endpoint = Endpoint("redis", LOOPBACK, port, password)
        return ComposeService(name, self, endpoint, settings)

    def describe(self) -> dict[str, Any]:
        return {"runtime": self.name, "project": self.project,
                "network": "host" if self.hostnet else "bridge", "engine": self.check.reason,
                "compose_files": [COMPOSE_FILE, *([HOSTNET_FILE] if self.hostnet else [])]}

    def close(self) -> None:
        """Compose down -v, then anything else labelled with this run; then the workdir."""
        for service in self._made:
            service.save_log()
        try:
            self.compose("down", "--volumes", "--remove-orphans", "--timeout", "10",
                         check=False)
        finally:
            remove_labelled(self.docker, self.run_id)
            self.docker.close()
            shutil.rmtree(self.workdir, ignore_errors=True)


def remove_labelled(docker_client: Any, run_id: str) -> list[str]:
    """Remove every container and volume labelled with ``run_id``; returns what went."""
    gone = []
    label = f"{engine.RUN_LABEL}={run_id}"
    for container in docker_client.containers.list(all=True, filters={"label": label}):
        container.remove(force=True, v=True)
        gone.append(f"container {container.name}")
    for volume in docker_client.volumes.list(filters={"label": label}):
        volume.remove(force=True)
        gone.append(f"volume {volume.name}")
    return gone


# How each kind of server proves it is ours: the data location its image uses.
_IDENTITY = {
    "postgres": (pg_store.identify, {"data_directory": "/var/lib/postgresql/data"}),
    "redis": (redis_store.identify, {"dir": "/data"}),
}


class ComposeService(Service):
    """One container of the project, driven through the Engine API."""

    runtime = "compose"

    def __init__(self, name: str, runtime: ComposeRuntime, endpoint: Endpoint,
                 settings: PostgresSettings | RedisSettings) -> None:
        self.name = name
        self.kind = endpoint.kind
        self.rt = runtime
        self.endpoint = endpoint
        self.settings = settings
        self.image = runtime.env[f"DRILLS_{self.kind.upper()}_IMAGE"]
        self._version: str | None = None

    def identify(self) -> Mapping[str, str]:
        check, expect = _IDENTITY[self.kind]
        found = check(self.endpoint, expect)
        self._version = found["version"]
        return found

    def container(self) -> Any:
        found = self.rt.docker.containers.list(all=True, filters={"label": [
            f"com.docker.compose.project={self.rt.project}",
            f"com.docker.compose.service={self.name}"]})
        if not found:
            raise StackError(f"{self.name}: no container in project {self.rt.project}")
        return found[0]

    def start(self) -> None:
        try:
            container = self.container()
        except StackError:
            self.rt.compose("up", "--detach", "--no-deps", "--pull", "missing", self.name)
            return
        container.reload()
        if container.status == "paused":
            container.unpause()
        elif container.status != "running":
            container.start()

    def stop(self) -> None:
        try:
            container = self.container()
        except StackError:
            return
        container.reload()
        if container.status == "paused":
            container.unpause()
        container.stop(timeout=10)

    def kill(self) -> Effect:
        container = self.container()
        container.reload()
        pid = int(container.attrs["State"]["Pid"])
        at = Instant.now()
        try:
            os.kill(pid, signal.SIGKILL)
            how = f"SIGKILL to the container's main process (host pid {pid}): a crash"
        except (PermissionError, ProcessLookupError):
            at = Instant.now()
            container.kill()
            how = "docker kill (host pid not reachable from here): a manual stop"
        return Effect(how, at)

    def docker_kill(self) -> Effect:
        at = Instant.now()
        self.container().kill()
        return Effect("docker kill (SIGKILL; the engine counts it as a manual stop, so "
                      "restart policies do not fire)", at)

    def freeze(self) -> Effect:
        at = Instant.now()
        self.container().pause()
        return Effect("docker pause (cgroup freezer)", at)

    def thaw(self) -> Effect:
        at = Instant.now()
        self.container().unpause()
        return Effect("docker unpause", at)

    def remove_with_volume(self) -> Effect:
        """Lose the server: its container and its data volume."""
        container = self.container()
        volumes = [m["Name"] for m in container.attrs["Mounts"] if m["Type"] == "volume"]
        at = Instant.now()
        container.remove(force=True, v=True)
        for name in volumes:
            self.rt.docker.volumes.get(name).remove(force=True)
        return Effect(f"docker rm -f of the container and volume {', '.join(volumes)}", at)

    def corrupt_file(self, path: str, offset: int, data: bytes) -> Effect:
        """Overwrite bytes of a file in the data volume, from a throwaway container."""
        container = self.container()
        volume = next(m for m in container.attrs["Mounts"] if m["Type"] == "volume")
        target = f"{volume['Destination']}/{path}"
        octal = "".join(f"\\{b:03o}" for b in data)  # printf(1) escapes: any byte, no quoting
        script = f"printf '{octal}' | dd of='{target}' bs=1 seek={offset} conv=notrunc"
        at = Instant.now()
        try:
            self.rt.docker.containers.run(
                self.image, ["sh", "-c", script], entrypoint=[], remove=True, user="0",
                network_mode="none", volumes={volume["Name"]: {"bind": volume["Destination"],
                                                               "mode": "rw"}},
                labels={engine.RUN_LABEL: self.rt.run_id,
                        engine.OWNER_LABEL: str(os.getpid())},
            )
        except Exception as exc:
            raise FaultError(f"could not corrupt {target}: {exc}") from exc
        return Effect(f"overwrote {len(data)} bytes at offset {offset} of {target} in volume "
                      f"{volume['Name']}, from a throwaway container", at)

    def wait_exit(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            container = self.container()
            container.reload()
            if container.status not in ("running", "paused", "restarting"):
                return True
            time.sleep(0.01)
        return False

    def alive(self) -> bool:
        try:
            container = self.container()
        except StackError:
            return False
        container.reload()
        return bool(container.status in ("running", "paused", "restarting", "created"))

    def log_tail(self, lines: int = 20) -> str:
        try:
            return str(self.container().logs(tail=lines).decode(errors="replace"))
        except Exception as exc:
            return f"(no log: {exc})"

    def save_log(self) -> None:
        """Keep the container's whole log with the scenario's records."""
        try:
            (self.rt.logs_dir / f"{self.name}.log").write_bytes(self.container().logs())
        except Exception:
            pass

    def describe(self) -> dict[str, Any]:
        image = self.rt.docker.images.get(self.image)
        return {
            "service": self.name, "kind": self.kind, "runtime": self.runtime,
            "version": self._version or "unknown", "image": self.image,
            "image_id": image.id, "image_digests": image.attrs.get("RepoDigests") or [],
            "container": self.container().name, "network": self.rt.describe()["network"],
            "endpoint": self.endpoint.public(), "settings": self.settings.conf(),
        }
