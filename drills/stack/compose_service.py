"""A service of the compose runtime: one container of the run's project.

Faults and restarts go through the Docker Engine API (docker SDK), each saying which
mechanism it used. Every service offers the optional capabilities a container can:

- Killable: SIGKILL to the container's main process from the host: a crash, so restart
  policies apply (``docker kill`` where host pids are not ours: a manual stop)
- Pausable: ``docker pause`` / ``unpause`` (cgroup freezer)
- HasDataVolume: the container and its data volume removed (server loss); bytes
  overwritten in a file of the volume, from a throwaway container
- Exec: ``docker exec`` as the server's account, with the kind's connection settings

and one more that only an engine has: ``docker_kill()``, which the engine counts as a
manual stop (restart policies do not fire). A kind whose services need more subclasses
``ComposeService``; the compose runtime (drills.runtime.compose) makes them.
"""

from __future__ import annotations

import os
import posixpath
import re
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from docker.errors import NotFound

from drills.errors import DrillError, FaultError, StackError
from drills.record.action import Action
from drills.record.clock import Instant
from drills.stack.capabilities import BackupDir, ExecResult, HasDataVolume, KeepsBackups
from drills.stack.compose_spec import ComposeSpec, data_volume
from drills.stack.service import Service
from drills.stack.storage.lazyfs import LazyFS
from drills.stack.storage.loopfs import LoopFS, fill_action, free_action

if TYPE_CHECKING:  # types only: the kinds and the runtime are above this module
    from drills.kinds.base import ServiceKind
    from drills.runtime.compose import ComposeRuntime


def _in_container(pid: int, container_id: str) -> bool:
    """Whether ``pid`` here is a process of the container (its cgroup names the container)."""
    try:
        return container_id in Path(f"/proc/{pid}/cgroup").read_text()
    except OSError:
        return False


class ComposeService(Service):
    """One container of the project, driven through the Engine API."""

    runtime = "compose"
    #: the host's LazyFS mount bound in as its data directory (storage=lazyfs), if any
    lazyfs: LazyFS | None = None
    #: the host's small file system bound in (DiskFull), if any
    small_disk: LoopFS | None = None

    def __init__(self, name: str, kind: ServiceKind, runtime: ComposeRuntime,
                 spec: ComposeSpec) -> None:
        self.name = name
        self.kind = kind.name
        self._kind = kind
        self.rt = runtime
        self.spec = spec
        self.endpoint = spec.endpoint
        self.image = kind.image()
        self._version: str | None = None
        self._overridden = False  # running with start_with()'s overrides

    def supports(self, capability: type) -> bool:
        if capability is HasDataVolume and self.spec.data_path is None:
            return False
        if capability is KeepsBackups and (self.spec.data_path is None
                                           or self.spec.backup_path is None
                                           or os.geteuid() != 0):
            # not root: the backup directory cannot be given to the container's account
            return False
        return super().supports(capability)

    def identify(self) -> Mapping[str, str]:
        found = self._kind.store().identify(self.endpoint, self.spec.identity)
        self._version = found.get("version")
        return found

    def container(self) -> Any:
        found = self.rt.docker.containers.list(all=True, filters={"label": [
            f"com.docker.compose.project={self.rt.project}",
            f"com.docker.compose.service={self.name}"]})
        if not found:
            raise StackError(f"{self.name}: no container in project {self.rt.project}")
        return found[0]

    def start(self) -> None:
        if self._overridden:  # started with overrides: recreate it with its own command
            self._overridden = False
            self._own_backup_dir()
            self.rt.compose("up", "--detach", "--no-deps", "--force-recreate", "--pull",
                            "missing", self.name)
            return
        try:
            container = self.container()
        except StackError:
            self._own_backup_dir()
            self.rt.compose("up", "--detach", "--no-deps", "--pull", "missing", self.name)
            return
        container.reload()
        if container.status == "paused":
            container.unpause()
        elif container.status != "running":
            container.start()

    def start_with(self, overrides: Mapping[str, str]) -> None:
        """Recreate the container with the overrides after its command, and start it.

        The run file gets its own command back at once, and the next ``start()`` recreates
        the container with it, as the local runtime's next start drops the overrides.
        """
        definition = self.rt._definitions[self.name]
        original = definition.get("command")
        command = list(original or self._template_command())
        definition["command"] = command + self._kind.override_args(overrides)
        self.rt.write_run_file()
        try:
            self._own_backup_dir()
            self.rt.compose("up", "--detach", "--no-deps", "--force-recreate", "--pull",
                            "missing", self.name)
            self._overridden = True
        finally:
            if original is None:
                definition.pop("command", None)
            else:
                definition["command"] = original
            self.rt.write_run_file()

    def _template_command(self) -> list[str]:
        raw = self.rt.templates.get(self._kind.name, {}).get("command")
        if not isinstance(raw, list) or not raw:
            raise StackError(f"{self.name}: the {self._kind.name} template has no command "
                             "to add configuration overrides to")
        return [str(x) for x in raw]

    def stop(self) -> None:
        try:
            container = self.container()
        except StackError:
            return
        container.reload()
        if container.status == "paused":
            container.unpause()
        container.stop(timeout=10)

    def wait_exit(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while True:
            try:
                container = self.container()
                container.reload()
            except (StackError, NotFound):
                return True  # removed: nothing of it runs any more
            if container.status not in ("running", "paused", "restarting"):
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.01)

    def alive(self) -> bool:
        try:
            container = self.container()
        except StackError:
            return False
        container.reload()
        return bool(container.status in ("running", "paused", "restarting", "created"))

    # -- Killable, Pausable, and the engine's own kill -----------------------------------

    def kill(self) -> Action:
        container = self.container()
        container.reload()
        pid = int(container.attrs["State"].get("Pid") or 0)
        if container.status != "running" or pid <= 1:
            # Pid is 0 when the container is not running; os.kill(0, ...) would signal the
            # drill's own process group
            raise FaultError(f"{self.name}: container {container.name} is {container.status} "
                             "and has no main process to kill")
        if not _in_container(pid, str(container.id)):
            # the engine's pid means another process here: drills in a container of its
            # own, a remote DOCKER_HOST, rootless Docker. Ask the engine instead.
            at = Instant.now()
            container.kill()
            return Action(f"docker kill (the engine's pid {pid} is not the container's process "
                          "as seen from here): a manual stop, restart policies do not fire", at)
        at = Instant.now()
        try:
            os.kill(pid, signal.SIGKILL)
            how = f"SIGKILL to the container's main process (host pid {pid}): a crash"
        except (PermissionError, ProcessLookupError):
            at = Instant.now()
            container.kill()
            how = "docker kill (host pid not ours to signal): a manual stop"
        return Action(how, at)

    def docker_kill(self) -> Action:
        """``docker kill``: the engine counts it as a manual stop; restart policies do not fire."""
        at = Instant.now()
        self.container().kill()
        return Action("docker kill (SIGKILL; the engine counts it as a manual stop, so "
                      "restart policies do not fire)", at)

    def cut_power(self) -> Action:
        """A power cut: the container killed, then its un-fsynced writes dropped.

        ``docker kill``, which no restart policy answers (none may start it before the
        cache is dropped); then LazyFS, on the host, drops every write not fsynced.
        """
        if self.lazyfs is None:
            raise FaultError(f"{self.name}: its data is not on LazyFS, so a power cut cannot "
                             "be told from a crash; give it storage=lazyfs")
        killed = self.docker_kill()
        if not self.wait_exit(30):
            raise FaultError(f"{self.name} still runs 30 s after {killed.mechanism}")
        answer = self.lazyfs.clear_cache()
        return Action(f"{killed.mechanism}, then LazyFS (a mount of the host bound in as its "
                      "data directory) dropped every write not fsynced (clear-cache; LazyFS: "
                      f"{LazyFS.said(answer)})", killed.at,
                      {"lazyfs": answer, "lazyfs_version": self.lazyfs.version})

    def fill_disk(self) -> Action:
        disk = self.small_disk
        where = (f"{self.spec.small_disk_path} (the host's {disk.device} bound in)"
                 if disk else "")
        return fill_action(disk, self.name, where, str(self.spec.small_disk_path))

    def free_disk(self) -> Action:
        return free_action(self.small_disk, self.name, str(self.spec.small_disk_path))

    def freeze(self) -> Action:
        at = Instant.now()
        self.container().pause()
        return Action("docker pause (cgroup freezer)", at)

    def thaw(self) -> Action:
        at = Instant.now()
        self.container().unpause()
        return Action("docker unpause", at)

    # -- HasDataVolume -----------------------------------------------------------------

    def _data_volume(self, container: Any) -> dict[str, Any]:
        for mount in container.attrs["Mounts"]:
            if mount["Type"] == "volume" and mount["Destination"] == self.spec.data_path:
                return dict(mount)
        raise FaultError(f"{self.name}: no data volume is mounted at {self.spec.data_path}")

    def lose_data(self) -> Action:
        """Lose the server: its container and its data volume."""
        container = self.container()
        volume = self._data_volume(container)["Name"]
        at = Instant.now()
        container.remove(force=True, v=True)
        self.rt.docker.volumes.get(volume).remove(force=True)
        return Action(f"docker rm -f of container {container.name} and removal of its data "
                      f"volume {volume}", at, {"volume": volume})

    def corrupt_file(self, path: str, offset: int, data: bytes) -> Action:
        """Overwrite bytes of a file in the data volume, from a throwaway container."""
        container = self.container()
        volume = self._data_volume(container)
        root = str(self.spec.data_path)
        target = posixpath.normpath(posixpath.join(root, path))
        if posixpath.isabs(path) or not target.startswith(root.rstrip("/") + "/"):
            raise FaultError(f"{self.name}: {path!r} is not a path inside its data volume")
        octal = "".join(f"\\{b:03o}" for b in data)  # printf(1) escapes: any byte, no quoting
        # the path and offset are arguments of the script, never part of its text
        script = f"printf '{octal}' | dd of=\"$1\" bs=1 seek=\"$2\" conv=notrunc"
        at = Instant.now()
        try:
            self.rt.docker.containers.run(
                self.image, ["sh", "-c", script, "corrupt", target, str(int(offset))],
                entrypoint=[], remove=True, user="0",
                network_mode="none", volumes={volume["Name"]: {"bind": root, "mode": "rw"}},
                labels=self.rt.labels,
            )
        except Exception as exc:
            raise FaultError(f"could not corrupt {target}: {exc}") from exc
        return Action(f"overwrote {len(data)} bytes at offset {offset} of {target} in volume "
                      f"{volume['Name']}, from a throwaway container", at,
                      {"file": path, "offset": offset, "bytes": len(data)})

    # -- KeepsBackups ------------------------------------------------------------------

    def backup_dir(self) -> BackupDir:
        """The run's ``backups/<name>`` directory, bind-mounted at the spec's backup path."""
        host = self._backups_host()
        if self.spec.backup_path is None or not host.is_dir():
            raise StackError(f"{self.name}: this service keeps no backups")
        self._own_backup_dir()
        return BackupDir(host=host, inside=self.spec.backup_path)

    def _backups_host(self) -> Path:
        return self.rt.workdir / "backups" / self.name

    def _own_backup_dir(self) -> None:
        """Give the backup directory (0700) to the server's account of the image.

        The server (its WAL archiver) and its tools write there, and no one else can.
        """
        host = self._backups_host()
        if not host.is_dir() or host.stat().st_uid != 0 or not self.spec.exec_user:
            return
        user = self.spec.exec_user
        done = subprocess.run(
            ["docker", "run", "--rm", "--network", "none", "--entrypoint", "id",
             *(arg for k, v in self.rt.labels.items() for arg in ("--label", f"{k}={v}")),
             self.image, user], capture_output=True, text=True, timeout=120, check=False)
        found = dict(re.findall(r"\b(uid|gid)=(\d+)", done.stdout))
        if done.returncode != 0 or len(found) != 2:
            raise StackError(f"{self.name}: cannot learn the uid of {user} in {self.image}: "
                             f"{done.stderr.strip() or done.stdout.strip()}")
        os.chown(host, int(found["uid"]), int(found["gid"]))

    @property
    def data_path(self) -> str:
        return str(self.spec.data_path)

    def _volume_name(self) -> str:
        return f"{self.rt.project}_{data_volume(self.name)}"

    def exec_offline(self, argv: Sequence[str], timeout_s: float = 600.0,
                     network: str = "none") -> ExecResult:
        """Run ``argv`` in a throwaway container of the service's image, as its account.

        Its data volume (a new, empty one after a loss) and backup directory are mounted.
        ``network``: none, or host for a tool that must reach another server (pg_rewind).
        """
        if network not in ("none", "host"):
            raise StackError(f"{self.name}: exec_offline network {network!r}: none or host")
        if self.alive():
            raise StackError(f"{self.name} is running: stop it before working on its data")
        backups = self.backup_dir()
        volume = self._volume_name()
        try:
            self.rt.docker.volumes.get(volume)
        except NotFound:  # labelled as Compose labels its own, so `up` adopts it
            self.rt.docker.volumes.create(volume, labels={
                **self.rt.labels, "com.docker.compose.project": self.rt.project,
                "com.docker.compose.volume": data_volume(self.name)})
        cli = ["docker", "run", "--rm", "--network", network, "--entrypoint", "",
               "-v", f"{volume}:{self.spec.data_path}", "-v", f"{backups.host}:{backups.inside}"]
        if self.spec.exec_user:
            cli += ["--user", self.spec.exec_user]
        # the project's label too: `compose down` removes it if the drill is interrupted
        for key, value in {**self.rt.labels, "com.docker.compose.project": self.rt.project}.items():
            cli += ["--label", f"{key}={value}"]
        try:
            done = subprocess.run([*cli, self.image, *argv], capture_output=True,
                                  timeout=timeout_s, check=False)
        except subprocess.TimeoutExpired as exc:
            raise StackError(f"{self.name}: {argv[0]} did not finish in {timeout_s:.0f} s") \
                from exc
        return ExecResult(tuple(argv), done.returncode, done.stdout, done.stderr)

    # -- Exec --------------------------------------------------------------------------

    def exec(self, argv: Sequence[str], timeout_s: float = 60.0,
             stdin: bytes | None = None) -> ExecResult:
        if not argv:
            raise StackError(f"{self.name}: exec needs a command")
        container = self.container()
        cli = ["docker", "exec", "-i"]
        if self.spec.exec_user:
            cli += ["--user", self.spec.exec_user]
        for key in self.spec.exec_env:
            cli += ["-e", key]  # the value comes from our environment, never argv
        try:
            done = subprocess.run([*cli, container.name, *argv], input=stdin or b"",
                                  capture_output=True, timeout=timeout_s, check=False,
                                  env={**os.environ, **self.spec.exec_env})
        except subprocess.TimeoutExpired as exc:
            raise StackError(f"{self.name}: {argv[0]} did not finish in {timeout_s:.0f} s") \
                from exc
        return ExecResult(tuple(argv), done.returncode, done.stdout, done.stderr)

    # -- records -----------------------------------------------------------------------

    def _described_version(self) -> str:
        """The server's version as it says it, else its image's tag (labelled so)."""
        if self._version is None:
            try:  # a kind whose own identity check does not record it
                found = self.identify().get("version")
                self._version = str(found) if found else None
            except DrillError:
                pass
        if self._version:
            return self._version
        tag = self.image.rsplit("/", 1)[-1].partition(":")[2]
        return f"{tag} (image tag)" if tag[:1].isdigit() else "unknown"

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
            "version": self._described_version(), "image": self.image,
            "image_id": image.id, "image_digests": image.attrs.get("RepoDigests") or [],
            "container": self.container().name, "network": self.rt.describe()["network"],
            "endpoint": self.endpoint.public(), "settings": dict(self.spec.settings),
        }
