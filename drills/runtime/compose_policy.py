"""Host-access policy for a team's compose file: what would give a container the host.

drills runs as root and brings up a team's compose project; a setting such as
``privileged: true`` or a bind of ``/var/run`` would give a container the host (and with the
engine's socket, every other project on it, the team's production one included). Each such
setting is refused before anything starts, unless the plan allows that exact setting for that
service (``stack.allow: {cache: [privileged]}``; the names are
drills.plan.stack_spec.ALLOW_NAMES).

:func:`check` is a pure function of the resolved configuration (``docker compose config
--format json``), the project directory and the plan's allowances; symbolic links in host
paths are followed (a link in the project to ``/etc/shadow`` is ``/etc/shadow``).

Decisions, so that a reader need not guess them:

- ``network_mode: host`` stays allowed: on an engine without a bridge network (drills' own
  machines) it is the only way a container reaches 127.0.0.1; it shares the host's network,
  not its files, processes or devices.
- ``network_mode``, ``pid`` and ``ipc`` of ``service:<other>`` stay allowed: they join a
  service of the same project, which drills created and checks by the same rules;
  ``container:<other>`` joins a container drills did not create (the team's running one):
  refused.
- ``volumes_from`` is refused whatever it names: it copies mounts when the container is
  created, which this check cannot see.
- ``cap_add`` is refused for every capability (``NET_ADMIN`` on the host network is the
  host's firewall); ``security_opt`` for every option but ``no-new-privileges`` (a custom
  seccomp profile may allow everything).
- A bind (read-only or not) or a secret or config file outside the project directory is
  refused, and anywhere near the host's own state: ``/``, ``/etc``, ``/proc``, ``/sys``,
  ``/dev``, ``/run`` (``/var/run``), ``/boot``, ``/root``, ``/home`` and every parent of
  them; the engine's socket or a directory holding it has an allowance of its own
  (``engine_socket``): it is every project on the engine.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from drills.plan.stack_spec import ALLOW_NAMES

#: the host's own state: refused as a source, and so is every parent of them
HOST_ROOTS = ("/", "/etc", "/proc", "/sys", "/dev", "/run", "/var/run", "/boot", "/root",
              "/home", "/var/lib/docker")
#: refused also below them (a project never lives there; /root and /home may hold one)
HOST_TREES = ("/etc", "/proc", "/sys", "/dev", "/run", "/var/run", "/boot", "/var/lib/docker")
#: where an engine's socket usually is, besides DOCKER_HOST's
DEFAULT_SOCKETS = ("/var/run/docker.sock", "/run/docker.sock",
                   "/run/containerd/containerd.sock", "/run/podman/podman.sock")
_HARMLESS_SECURITY_OPTS = {"no-new-privileges", "no-new-privileges:true",
                           "no-new-privileges=true"}


@dataclass(frozen=True)
class Finding:
    """One setting of one service that gives a container the host."""

    service: str
    #: the allowance that permits it (a key of ALLOW_NAMES)
    allow: str
    #: the setting as the compose file says it (``privileged: true``)
    setting: str
    #: what it gives the container
    why: str

    def refusal(self) -> str:
        return (f"service {self.service}: {self.setting}: {self.why}; to permit it: "
                f"stack.allow: {{{self.service}: [{self.allow}]}}")

    def allowance(self) -> str:
        return f"{self.service}: {self.allow} ({self.setting})"


@dataclass(frozen=True)
class Verdict:
    """What :func:`check` found: refused, permitted, and allowances naming no service."""

    refused: list[Finding] = field(default_factory=list)
    allowed: list[Finding] = field(default_factory=list)
    unknown_services: list[str] = field(default_factory=list)

    def used(self) -> dict[str, list[str]]:
        """The allowances the project needs, per service (what the report shows)."""
        out: dict[str, list[str]] = {}
        for finding in self.allowed:
            names = out.setdefault(finding.service, [])
            if finding.allow not in names:
                names.append(finding.allow)
        return out


def engine_sockets(env: Mapping[str, str]) -> list[str]:
    """The engine's socket (DOCKER_HOST's, if a unix one) and the usual places of one."""
    found = list(DEFAULT_SOCKETS)
    host = env.get("DOCKER_HOST", "")
    if host.startswith("unix://"):
        found.insert(0, host[len("unix://"):])
    runtime_dir = env.get("XDG_RUNTIME_DIR")
    if runtime_dir:
        found.append(f"{runtime_dir}/docker.sock")
    return found


def _real(path: str) -> PurePosixPath:
    return PurePosixPath(os.path.realpath(path))


def _under(path: PurePosixPath, root: PurePosixPath) -> bool:
    return path == root or root in path.parents


def _host_path(source: str, project_dir: str, sockets: Iterable[str]) -> list[tuple[str, str]]:
    """(allowance, why) for each way a host path a container would get reaches the host.

    ``/`` both holds the engine's socket and is the host's root: it needs both allowances.
    """
    path = _real(source)
    hits = []
    held = [_real(s) for s in sockets
            if _under(_real(s), path) or _under(PurePosixPath(s), path)]
    if held or path.name.endswith(("docker.sock", "containerd.sock", "podman.sock")):
        hits.append(("engine_socket", f"{path} is or holds the engine's socket "
                     f"{held[0] if held else path}: the container could act on every project "
                     "on the engine, your production one included"))
    for root in HOST_ROOTS:
        real = _real(root)
        if _under(real, path) or _under(PurePosixPath(root), path):
            hits.append(("host_path", f"{path} is the host's own {root}"
                         + ("" if real == path else " (or holds it)")))
            return hits
    if hits:
        return hits  # the socket itself, wherever it is
    for tree in HOST_TREES:
        if _under(path, _real(tree)):
            return [("host_path", f"{path} is in the host's {tree}")]
    if not _under(path, _real(project_dir)):
        return [("host_path", f"{path} is outside the project directory {project_dir}")]
    return []


def _service(name: str, svc: Mapping[str, Any], project_dir: str,
             volumes: Mapping[str, Any], files: Mapping[str, tuple[str, str]],
             sockets: list[str]) -> list[Finding]:
    found: list[Finding] = []

    def add(allow: str, setting: str, why: str) -> None:
        found.append(Finding(name, allow, setting, why))

    if svc.get("privileged"):
        add("privileged", "privileged: true", "every device and capability of the host")
    for key, allow in (("pid", "pid_host"), ("ipc", "ipc_host"), ("uts", "uts_host"),
                       ("cgroup", "cgroup_host"), ("userns_mode", "userns_host")):
        value = str(svc.get(key) or "")
        if value == "host":
            add(allow, f"{key}: host", f"the host's own {key} namespace")
        elif value.startswith("container:"):
            add(allow, f"{key}: {value}", f"the {key} namespace of a container drills did "
                "not create")
    mode = str(svc.get("network_mode") or "")
    if mode.startswith("container:"):
        add("network_container", f"network_mode: {mode}", "the network of a container "
            "drills did not create (the team's running one)")
    if svc.get("volumes_from"):
        add("volumes_from", f"volumes_from: {list(svc['volumes_from'])}",
            "the mounts of another container, which this check cannot see")
    if svc.get("cap_add"):
        add("cap_add", f"cap_add: {list(svc['cap_add'])}", "capabilities beyond the "
            "engine's default set")
    opts = [str(o) for o in svc.get("security_opt") or []
            if str(o) not in _HARMLESS_SECURITY_OPTS]
    if opts:
        add("security_opt", f"security_opt: {opts}", "seccomp, AppArmor or SELinux "
            "confinement changed or lifted")
    for key in ("devices", "device_cgroup_rules", "gpus"):
        if svc.get(key):
            add("devices", f"{key}: {svc[key]}", "the host's devices")
    reservations = ((svc.get("deploy") or {}).get("resources") or {}).get("reservations")
    if (reservations or {}).get("devices"):
        add("devices", "deploy.resources.reservations.devices", "the host's devices")
    for mount in svc.get("volumes") or []:
        kind, source = mount.get("type"), str(mount.get("source") or "")
        if kind == "bind" and source:
            for allow, why in _host_path(source, project_dir, sockets):
                add(allow, f"volumes: {source}:{mount.get('target')}", why)
        elif kind == "npipe":
            add("host_path", f"volumes: npipe {source}", "a named pipe of the host")
        elif kind == "volume" and source in volumes:
            opts_ = (volumes[source] or {}).get("driver_opts") or {}
            device = str(opts_.get("device") or "")
            binds = {o.strip() for o in str(opts_.get("o") or "").split(",")}
            remote = str(opts_.get("type") or "") in {"nfs", "nfs4", "cifs", "smb3"}
            if (device.startswith("/") and not remote) or binds & {"bind", "rbind"}:
                add("host_path", f"volume {source} with driver_opts {dict(opts_)}",
                    f"a host path ({device or '?'}) mounted as a volume")
    for key in ("secrets", "configs"):
        for ref in svc.get(key) or []:
            source = str(ref.get("source") if isinstance(ref, Mapping) else ref)
            entry = files.get(f"{key}:{source}")
            if entry is None:
                continue
            for allow, why in _host_path(entry[0], project_dir, sockets):
                add("host_secret" if allow == "host_path" else allow,
                    f"{key[:-1]} {source} from file {entry[0]}", why)
    return found


def check(config: Mapping[str, Any], project_dir: str,
          allow: Mapping[str, Collection[str]],
          sockets: Collection[str] = DEFAULT_SOCKETS) -> Verdict:
    """Every setting of the project that gives a container the host, refused or allowed."""
    services: Mapping[str, Any] = config.get("services") or {}
    volumes: Mapping[str, Any] = config.get("volumes") or {}
    files = {f"{key}:{name}": (str(entry["file"]), key)
             for key in ("secrets", "configs")
             for name, entry in (config.get(key) or {}).items()
             if isinstance(entry, Mapping) and entry.get("file")}
    verdict = Verdict(unknown_services=[s for s in allow if s not in services])
    for name, svc in services.items():
        for finding in _service(name, svc or {}, project_dir, volumes, files, list(sockets)):
            permitted = finding.allow in allow.get(name, ())
            (verdict.allowed if permitted else verdict.refused).append(finding)
    return verdict


__all__ = ["ALLOW_NAMES", "Finding", "Verdict", "check", "engine_sockets"]
