"""The team's own compose file, brought up by drills as a Compose project of its own.

A plan's ``stack.compose`` names the team's file(s). drills never touches a project it did
not create: it brings the files up as ``drills-<run id>-...`` (its own containers,
volumes and networks, labelled with the run and its owner through an override file), acts
only on those, and removes them all at the end, as for its own servers
(drills.runtime.compose). Before anything starts it refuses what would reach outside that
project:

- a ``reach`` address that already answers: a stack drills did not create (the team's
  running one), which the drill would otherwise measure and hurt;
- ``container_name`` (shared with any other project of that name), external or
  explicitly named volumes and networks (they outlive the project: a server loss would
  delete them), and writable bind mounts (the drill's servers would write into the team's
  directories);
- every setting that gives a container the host (drills.runtime.compose_policy: privileged,
  host namespaces, capabilities, devices, host paths, the engine's socket...), unless the
  plan's ``stack.allow`` permits that setting for that service.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import urllib.parse
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from drills import kinds
from drills.datastore import ProbeFailed
from drills.errors import FaultError, StackError, UsageError, printable
from drills.kinds.base import ServiceKind
from drills.plan.interpolate import expand, substitute
from drills.plan.stack_spec import HealthCheck, ServiceSpec, StackSpec
from drills.probe.health import run_health
from drills.record.action import Action
from drills.record.clock import Instant
from drills.runtime import compose_policy
from drills.runtime.compose import ComposeRuntime
from drills.stack.capabilities import HasDataVolume, KeepsBackups
from drills.stack.compose_service import ComposeService
from drills.stack.compose_spec import ComposeSpec
from drills.stack.endpoint import Endpoint
from drills.stack.service import Service


def _answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def resolve_endpoint(spec: ServiceSpec, env: Mapping[str, str]) -> tuple[Endpoint, str | None]:
    """The service's endpoint (and base URL) with ``${VAR}`` filled and its secret read."""
    reach = spec.reach
    where = f"stack.services.{spec.name}.reach"
    if reach is None:
        raise UsageError(f"{where}: missing; say how drills reaches {spec.name}")
    if reach.url is not None:
        url = expand(reach.url, env, f"{where}.url")
        parsed = urllib.parse.urlsplit(url)
        try:
            port = parsed.port or (443 if parsed.scheme == "https" else 80)
        except ValueError:
            raise UsageError(f"{where}.url: {printable(url)} has no valid port") from None
        return Endpoint(spec.kind, parsed.hostname or "", port, ""), url
    host = expand(str(reach.host), env, f"{where}.host")
    raw_port = expand(str(reach.port), env, f"{where}.port")
    if not raw_port.isdigit() or not 0 < int(raw_port) < 65536:
        raise UsageError(f"{where}.port: {printable(raw_port)} is not a port number")
    password = reach.password.resolve(f"{where}.password") if reach.password else ""
    auth = None if reach.auth is None else expand(reach.auth, env, f"{where}.auth")
    known = kinds.find(spec.kind)
    if auth is not None and known is not None and auth not in known.reach_auth:
        raise UsageError(f"{where}.auth: {printable(auth)}: {known.title} logs in with one of "
                         f"{', '.join(known.reach_auth) or 'its one way (leave auth out)'}")
    return Endpoint(spec.kind, host, int(raw_port), password, reach.user, reach.database,
                    auth=auth), None


def resolve_health(check: HealthCheck | None, env: Mapping[str, str],
                   where: str) -> HealthCheck | None:
    """The health check with ``${VAR}`` filled in its URL or its command's arguments."""
    if check is None:
        return None
    if check.url is None:
        command = tuple(substitute(arg, env, f"{where}.command[{i}]")
                        for i, arg in enumerate(check.command))
        return replace(check, command=command)
    return replace(check, url=expand(check.url, env, f"{where}.url"))


def _anonymous(volume: str) -> bool:
    return len(volume) == 64 and all(c in "0123456789abcdef" for c in volume)


def compose_environment() -> dict[str, str]:
    """The compose commands' environment: the user's, plus DRILLS_<KIND>_IMAGE.

    That is the image drills itself would use for each kind (official, or its offline
    builds), unless the user set it; a team's file may use ${DRILLS_POSTGRES_IMAGE:-...}.
    """
    env = dict(os.environ)
    for kind in kinds.all_kinds():
        env.setdefault(f"DRILLS_{kind.name.upper()}_IMAGE", kind.image())
    return env


def refusal(spec: StackSpec, problems: list[str]) -> str:
    files = ", ".join(str(f) for f in spec.compose_files)
    return (f"{files}: drills will not bring this up as its own project:\n  - "
            + "\n  - ".join(problems))


def unsafe(config: Mapping[str, Any], project: str, spec: StackSpec,
           env: Mapping[str, str]) -> list[str]:
    """What in the team's compose project would reach outside the drill's own project."""
    return static_problems(config, project, spec, env) + answering(spec, env)


def host_access(config: Mapping[str, Any], spec: StackSpec,
                env: Mapping[str, str]) -> compose_policy.Verdict:
    """The compose project's host access, refused or allowed by the plan's stack.allow."""
    return compose_policy.check(config, str(spec.project_dir), spec.allow,
                                compose_policy.engine_sockets(env))


def static_problems(config: Mapping[str, Any], project: str, spec: StackSpec,
                    env: Mapping[str, str]) -> list[str]:
    """What the resolved files alone show would reach outside the drill's own project."""
    files = ", ".join(str(f) for f in spec.compose_files)
    services: dict[str, Any] = dict(config.get("services") or {})
    problems = []
    for name in spec.services:
        if name not in services:
            problems.append(f"the plan's service {name} is not in {files} (it has: "
                            f"{', '.join(services)})")
    for name, svc in services.items():
        if svc.get("container_name"):
            problems.append(f"service {name} sets container_name {svc['container_name']!r}: "
                            "one name for every project, including the team's own")
        for mount in svc.get("volumes") or []:
            if mount.get("type") == "bind" and not mount.get("read_only"):
                problems.append(f"service {name} mounts {mount.get('source')} writable: the "
                                "drill's server would write into your directory (mount it "
                                ":ro, or use a volume)")
    for name, volume in (config.get("volumes") or {}).items():
        if volume.get("external"):
            problems.append(f"volume {name} is external: it belongs to no project, and a "
                            "server loss would delete it")
        elif not str(volume.get("name", "")).startswith(f"{project}_"):
            problems.append(f"volume {name} is named {volume.get('name')!r} explicitly: it "
                            "outlives the drill's project")
    for name, network in (config.get("networks") or {}).items():
        if network.get("external"):
            problems.append(f"network {name} is external: it belongs to no project")
        elif not str(network.get("name", "")).startswith(f"{project}_"):
            problems.append(f"network {name} is named {network.get('name')!r} explicitly: "
                            "another project may use it")
    verdict = host_access(config, spec, env)
    problems += [finding.refusal() for finding in verdict.refused]
    problems += [f"stack.allow names service {name}, which is not in {files} (it has: "
                 f"{', '.join(services)})" for name in verdict.unknown_services]
    return problems


def answering(spec: StackSpec, env: Mapping[str, str]) -> list[str]:
    """The plan's addresses that answer before drills started anything."""
    problems = []
    for service in spec.services.values():
        endpoint, url = resolve_endpoint(service, env)
        if _answers(endpoint.host, endpoint.port):
            problems.append(f"{url or f'{endpoint.host}:{endpoint.port}'} (service "
                            f"{service.name}) already answers before drills started anything: "
                            "a stack drills did not create. Stop it, or give the drill other "
                            "ports (the plan's reach and your compose file can both take "
                            "${VAR:-default})")
    return problems


PREFLIGHT_PROJECT = "drills-preflight"


def preflight(spec: StackSpec) -> None:
    """Refuse an unsafe compose project before anything starts (``drill run``: exit 2).

    Reads the files with ``docker compose config`` (which creates nothing) under a project
    name of the drill's form, and tries the plan's addresses.
    """
    env = compose_environment()
    config = read_config(spec, env)
    problems = unsafe(config, PREFLIGHT_PROJECT, spec, env)
    if problems:
        raise UsageError(refusal(spec, problems))


def read_config(spec: StackSpec, env: Mapping[str, str]) -> dict[str, Any]:
    """The resolved compose files (``docker compose config``: creates nothing)."""
    project = PREFLIGHT_PROJECT
    argv = ["docker", "compose", "-p", project, "--project-directory", str(spec.project_dir),
            *(a for f in spec.compose_files for a in ("-f", str(f))), "config", "--format",
            "json"]
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=120, env=env,
                              check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise UsageError(f"docker compose config on your compose file failed: {exc}") from exc
    if done.returncode != 0:
        raise UsageError(f"docker compose config on "
                         f"{', '.join(str(f) for f in spec.compose_files)} failed:\n"
                         f"{done.stderr.strip()[-2000:]}")
    try:
        config: dict[str, Any] = json.loads(done.stdout)
    except ValueError as exc:
        raise UsageError(f"docker compose config gave no JSON ({exc})") from exc
    return config


def check_lines(spec: StackSpec) -> list[str]:
    """``drill check``: the compose files' host access, as far as they can be read here.

    UsageError when they hold what ``drill run`` would refuse (exit 2); a line saying so
    when they cannot be read here (no engine, a variable only the run's environment sets).
    """
    env = compose_environment()
    try:
        config = read_config(spec, env)
    except UsageError as exc:
        first = str(exc).strip().splitlines()[-1] if str(exc).strip() else "?"
        return [f"  host access not checked here ({first[:300]}); drill run checks it "
                "before anything starts"]
    problems = static_problems(config, PREFLIGHT_PROJECT, spec, env)
    if problems:
        raise UsageError(refusal(spec, problems))
    used = host_access(config, spec, env).allowed
    if not used:
        return ["  host access: none (no privileged, host namespace, capability, device, "
                "host path or socket)"]
    return ["  host access allowed by the plan: "
            + "; ".join(finding.allowance() for finding in used)]


class OwnComposeRuntime(ComposeRuntime):
    """The team's compose files as project ``drills-<run id>-...``; refuses what is unsafe."""

    def __init__(self, run_id: str, logs_dir: Any, spec: StackSpec) -> None:
        super().__init__(run_id, logs_dir)
        self.spec = spec
        self.env = compose_environment()
        self.run_file = self.workdir / "drills.override.json"  # exists: close() runs down
        self.is_up = False
        try:
            self.config = self._config()
            self._refuse_unsafe()
            self.allowed = host_access(self.config, spec, self.env).used()
            self._write_override()
        except BaseException:
            self.close()
            raise

    def compose(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        files = [a for f in self.spec.compose_files for a in ("-f", str(f))]
        argv = ["docker", "compose", "-p", self.project, "--project-directory",
                str(self.spec.project_dir), *files]
        if self.run_file.exists():
            argv += ["-f", str(self.run_file)]
        argv += list(args)
        done = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=600,
                              env=self.env)
        if check and done.returncode != 0:
            raise StackError(f"docker compose {' '.join(args)} on "
                             f"{', '.join(str(f) for f in self.spec.compose_files)} failed "
                             f"(exit {done.returncode}):\n{done.stderr.strip()[-2000:]}")
        return done

    def _config(self) -> dict[str, Any]:
        done = self.compose("config", "--format", "json")
        try:
            config: dict[str, Any] = json.loads(done.stdout)
        except ValueError as exc:
            raise StackError(f"docker compose config gave no JSON: {exc}") from exc
        return config

    def _refuse_unsafe(self) -> None:
        problems = unsafe(self.config, self.project, self.spec, self.env)
        if problems:
            raise UsageError(refusal(self.spec, problems))

    def _write_override(self) -> None:
        """Labels of the run and its owner on every container and volume of the project."""
        override = {
            "services": {n: {"labels": self.labels} for n in self.config.get("services", {})},
            "volumes": {n: {"labels": self.labels} for n in self.config.get("volumes") or {}},
            "networks": {n: {"labels": self.labels} for n in self.config.get("networks") or {}},
        }
        for section in ("volumes", "networks"):
            if not override[section]:
                del override[section]
        self.run_file.write_text(json.dumps(override, indent=1))
        self.logs_dir.mkdir(parents=True, exist_ok=True)
        (self.logs_dir / "compose.override.json").write_text(json.dumps(override, indent=1))

    def ensure_up(self) -> None:
        """Bring the whole project up once: every service of the files, as the team does."""
        if not self.is_up:
            self.compose("up", "--detach", "--pull", "missing")
            self.is_up = True

    def services(self, wanted: Mapping[str, Any]) -> dict[str, Service]:
        made: dict[str, Service] = {}
        for name, spec in wanted.items():
            if not isinstance(spec, ServiceSpec):
                raise StackError(f"{name}: a service of your compose project needs its plan "
                                 "entry (ServiceSpec)")
            service = OwnComposeService(spec, self)
            made[name] = service
            self._made.append(service)
        return made

    def describe(self) -> dict[str, Any]:
        return {"runtime": self.name, "project": self.project,
                "compose_files": [str(f) for f in self.spec.compose_files],
                "engine": self.check.reason, "own_stack": True,
                # the host access the plan's stack.allow permits and the files use
                "allowed": {n: list(a) for n, a in self.allowed.items()}}


class OwnComposeService(ComposeService):
    """A service of the team's compose file, in the drill's own project."""

    def __init__(self, spec: ServiceSpec, runtime: OwnComposeRuntime) -> None:
        endpoint, url = resolve_endpoint(spec, runtime.env)
        svc = runtime.config["services"][spec.name]
        mounts = [m for m in svc.get("volumes") or [] if m.get("type") == "volume"]
        self.name = spec.name
        self.kind = spec.kind
        known = kinds.find(spec.kind)  # None: a service drills only reaches and faults
        self._store_kind: ServiceKind | None = known if known and known.ledger else None
        self.rt = self.own = runtime
        self.plan = spec
        self.url = url
        self.health = resolve_health(spec.health, runtime.env,
                                     f"stack.services.{spec.name}.health")
        self.spec = ComposeSpec(endpoint=endpoint, container_port=0,
                                data_path=str(mounts[0]["target"]) if mounts else None)
        self.endpoint = endpoint
        self.image = str(svc.get("image", "?"))
        self._version: str | None = None
        self._overridden = False

    def supports(self, capability: type) -> bool:
        if capability is KeepsBackups:
            return False  # the team's backups are their procedures'
        if capability is HasDataVolume:
            return self.spec.data_path is not None
        return Service.supports(self, capability)

    def start(self) -> None:
        if not self.own.is_up:
            self.own.ensure_up()
            return
        super().start()

    def identify(self) -> Mapping[str, str]:
        found: dict[str, str] = {}
        if self._store_kind is not None:
            found = dict(self._store_kind.store().identify(self.endpoint))
            self._version = found.get("version")
        elif self.health is None and not _answers(self.endpoint.host, self.endpoint.port):
            raise StackError(f"{self.name}: nothing answers at {self.url}")
        if self.health is not None:
            try:
                run_health(self.health, self.name)
            except ProbeFailed as exc:  # not yet: wait_ready tries again
                raise StackError(str(exc)) from exc
        return found

    def unready_hint(self, last: str) -> str:
        """A refused connection from a container that runs: most often its network."""
        if "refused" not in last.lower() and "nothing answers" not in last:
            return ""
        svc = self.own.config["services"][self.name]
        mode = str(svc.get("network_mode") or "bridge (the default)")
        where = f"{self.endpoint.host}:{self.endpoint.port}"
        if mode == "host":
            return (f"The container runs on the host network but nothing listens on {where}: "
                    "check the port and the address the server binds (listen_addresses, "
                    "bind) in the compose file and the plan's `reach`")
        return (f"Nothing answers at {where}, and service {self.name} runs with network_mode "
                f"{mode}: check that the compose file publishes that port (`ports:`); on an "
                "engine without a bridge network (dockerd --bridge=none, as on drills' own "
                "machines) a container reaches 127.0.0.1 only with `network_mode: host` (the "
                "README's \"From an empty directory\" shows the variables)")

    def lose_data(self) -> Action:
        """Lose the server: its container and every volume of the project it mounts."""
        container = self.container()
        volumes = [m["Name"] for m in container.attrs["Mounts"] if m["Type"] == "volume"]
        # the project's named volumes, or anonymous ones made for this very container
        foreign = [v for v in volumes if not v.startswith(f"{self.rt.project}_")
                   and not _anonymous(v)]
        if foreign:
            raise FaultError(f"{self.name}: volumes {', '.join(foreign)} are not of the "
                             f"drill's project {self.rt.project}; not removing them")
        for volume in volumes:
            users = [c.name for c in self.rt.docker.containers.list(
                all=True, filters={"volume": volume}) if c.id != container.id]
            if users:
                raise FaultError(f"{self.name}: volume {volume} is shared with "
                                 f"{', '.join(users)}; losing {self.name} would take their "
                                 "data too: give the server a volume of its own")
        at = Instant.now()
        container.remove(force=True, v=True)
        for volume in volumes:
            self.rt.docker.volumes.get(volume).remove(force=True)
        return Action(f"docker rm -f of container {container.name} and removal of its volumes "
                      f"{', '.join(volumes)}", at, {"volumes": volumes})

    def describe(self) -> dict[str, Any]:
        try:
            image = self.rt.docker.images.get(self.image)
            image_id, digests = image.id, image.attrs.get("RepoDigests") or []
        except Exception:
            image_id, digests = "?", []
        return {"service": self.name, "kind": self.kind, "runtime": self.runtime,
                # a service drills cannot ask for its version is known by its image
                "version": self._version or (f"image {self.image}"
                                             if self._store_kind is None else "unknown"),
                "image": self.image,
                "image_id": image_id, "image_digests": digests,
                "project": self.rt.project, "endpoint": self.endpoint.public(),
                "url": self.url, "health": self.health.describe() if self.health else None}

