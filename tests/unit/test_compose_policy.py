"""Host-access policy for a team's compose file: every way to the host refused, or allowed."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from drills.errors import PlanError
from drills.plan import load_plan
from drills.plan.stack_spec import ALLOW_NAMES, ServiceSpec, StackSpec
from drills.report.html import _environment
from drills.runtime import compose_policy
from drills.runtime.own_compose import static_problems

PROJECT = "/srv/shop"
SOCKET = "/var/run/docker.sock"


def config(**svc: Any) -> dict[str, Any]:
    """A resolved compose config (docker compose config --format json) of one service."""
    return {"name": "drills-preflight",
            "services": {"cache": {"image": "redis:7", "network_mode": "host", **svc}}}


BENIGN: dict[str, Any] = {
    "name": "drills-preflight",
    "services": {
        "db": {"image": "postgres:15", "network_mode": "bridge", "ipc": "shareable",
               "pid": "", "security_opt": ["no-new-privileges:true"], "cap_drop": ["ALL"],
               "volumes": [{"type": "volume", "source": "pgdata", "target": "/data"},
                           {"type": "volume", "source": "nfs", "target": "/nfs"},
                           {"type": "volume", "source": "smb", "target": "/smb"},
                           {"type": "bind", "source": f"{PROJECT}/init", "target": "/init",
                            "read_only": True},
                           {"type": "tmpfs", "target": "/tmp"}],
               "secrets": [{"source": "pw", "target": "pw"}]},
        "web": {"image": "web", "network_mode": "service:db", "pid": "service:db"},
        "cache": {"image": "redis:7", "network_mode": "host"},
    },
    "volumes": {"pgdata": {"name": "drills-preflight_pgdata"},
                "nfs": {"name": "drills-preflight_nfs",
                        "driver_opts": {"type": "nfs", "o": "addr=10.0.0.1", "device": ":/x"}},
                "smb": {"name": "drills-preflight_smb",
                        "driver_opts": {"type": "cifs", "device": "//files/share"}}},
    "secrets": {"pw": {"name": "drills-preflight_pw", "file": f"{PROJECT}/secrets/pw"}},
}

HOSTILE: list[tuple[dict[str, Any], str, str]] = [
    (config(privileged=True), "privileged", "privileged: true"),
    (config(pid="host"), "pid_host", "pid: host"),
    (config(pid="container:shop-prod-db-1"), "pid_host", "pid: container:shop-prod-db-1"),
    (config(ipc="host"), "ipc_host", "ipc: host"),
    (config(ipc="container:prod"), "ipc_host", "ipc: container:prod"),
    (config(uts="host"), "uts_host", "uts: host"),
    (config(cgroup="host"), "cgroup_host", "cgroup: host"),
    (config(userns_mode="host"), "userns_host", "userns_mode: host"),
    (config(network_mode="container:shop-prod-db-1"), "network_container",
     "network_mode: container:shop-prod-db-1"),
    (config(volumes_from=["db"]), "volumes_from", "volumes_from"),
    (config(volumes_from=["container:prod:ro"]), "volumes_from", "volumes_from"),
    (config(cap_add=["SYS_ADMIN"]), "cap_add", "SYS_ADMIN"),
    (config(cap_add=["NET_ADMIN"]), "cap_add", "NET_ADMIN"),
    (config(cap_add=["ALL"]), "cap_add", "ALL"),
    (config(security_opt=["seccomp:unconfined"]), "security_opt", "seccomp:unconfined"),
    (config(security_opt=["seccomp=/tmp/allow-all.json"]), "security_opt", "seccomp="),
    (config(security_opt=["apparmor=unconfined"]), "security_opt", "apparmor"),
    (config(security_opt=["label:disable"]), "security_opt", "label:disable"),
    (config(security_opt=["systempaths=unconfined"]), "security_opt", "systempaths"),
    (config(devices=[{"source": "/dev/sda", "target": "/dev/sda", "permissions": "rwm"}]),
     "devices", "devices"),
    (config(device_cgroup_rules=["b *:* rmw"]), "devices", "device_cgroup_rules"),
    (config(gpus=[{"driver": "nvidia", "count": -1}]), "devices", "gpus"),
    (config(deploy={"resources": {"reservations": {"devices": [{"driver": "nvidia"}]}}}),
     "devices", "reservations.devices"),
    ({**config(secrets=[{"source": "shadow", "target": "shadow"}]),
      "secrets": {"shadow": {"name": "x_shadow", "file": "/etc/shadow"}}},
     "host_secret", "secret shadow from file /etc/shadow"),
    ({**config(configs=[{"source": "keys", "target": "/keys"}]),
      "configs": {"keys": {"name": "x_keys", "file": "/opt/elsewhere/keys"}}},
     "host_secret", "config keys from file /opt/elsewhere/keys"),
    ({**config(volumes=[{"type": "volume", "source": "data", "target": "/d"}]),
      "volumes": {"data": {"name": "x_data",
                           "driver_opts": {"type": "none", "o": "bind", "device": "/srv"}}}},
     "host_path", "driver_opts"),
    ({**config(volumes=[{"type": "volume", "source": "disk", "target": "/d"}]),
      "volumes": {"disk": {"name": "x_disk",
                           "driver_opts": {"type": "ext4", "device": "/dev/sdb1"}}}},
     "host_path", "driver_opts"),
    (config(volumes=[{"type": "npipe", "source": r"\\.\pipe\docker_engine", "target": "/p"}]),
     "host_path", "npipe"),
]
BOTH = "engine_socket+host_path"
HOST_PATHS = [("/var/run/docker.sock", "engine_socket"), ("/run/docker.sock", "engine_socket"),
              ("/var/run", BOTH), ("/run", BOTH), ("/var", BOTH), ("/", BOTH),
              ("/somewhere/docker.sock", "engine_socket"),
              ("/etc", "host_path"), ("/etc/shadow", "host_path"), ("/proc", "host_path"),
              ("/proc/1", "host_path"), ("/sys", "host_path"), ("/dev", "host_path"),
              ("/root", "host_path"), ("/home", "host_path"), ("/boot", "host_path"),
              ("/srv", "host_path"), ("/srv/other", "host_path"), ("/opt/data", "host_path")]


def bind(source: str, read_only: bool = True) -> dict[str, Any]:
    return config(volumes=[{"type": "bind", "source": source, "target": "/mnt",
                            "read_only": read_only}])


def test_a_benign_project_passes() -> None:
    verdict = compose_policy.check(BENIGN, PROJECT, {}, [SOCKET])
    assert verdict.refused == [] and verdict.allowed == [] and verdict.unknown_services == []


@pytest.mark.parametrize(("cfg", "allow", "words"), HOSTILE,
                         ids=[f"{a}-{i}" for i, (_, a, _) in enumerate(HOSTILE)])
def test_each_hostile_setting_is_refused_unless_allowed(cfg: dict[str, Any], allow: str,
                                                        words: str) -> None:
    verdict = compose_policy.check(cfg, PROJECT, {}, [SOCKET])
    assert [(f.service, f.allow) for f in verdict.refused] == [("cache", allow)]
    message = verdict.refused[0].refusal()
    assert words in message and "service cache" in message
    assert f"stack.allow: {{cache: [{allow}]}}" in message
    allowed = compose_policy.check(cfg, PROJECT, {"cache": [allow]}, [SOCKET])
    assert allowed.refused == [] and allowed.used() == {"cache": [allow]}
    # an allowance of another setting, or for another service, permits nothing
    other = "privileged" if allow != "privileged" else "cap_add"
    assert compose_policy.check(cfg, PROJECT, {"cache": [other]}, [SOCKET]).refused
    assert compose_policy.check({**cfg, "services": {**cfg["services"], "db": {}}}, PROJECT,
                                {"db": [allow]}, [SOCKET]).refused


@pytest.mark.parametrize(("source", "allow"), HOST_PATHS)
@pytest.mark.parametrize("read_only", [True, False])
def test_host_paths_and_the_engine_socket_are_refused(source: str, allow: str,
                                                      read_only: bool) -> None:
    needed = allow.split("+")
    verdict = compose_policy.check(bind(source, read_only), PROJECT, {}, [SOCKET])
    assert [f.allow for f in verdict.refused] == needed, verdict
    assert compose_policy.check(bind(source), PROJECT, {"cache": needed}, [SOCKET]).refused == []
    if len(needed) > 1:  # one of them is not enough
        assert compose_policy.check(bind(source), PROJECT, {"cache": needed[:1]},
                                    [SOCKET]).refused


def test_the_socket_from_docker_host_and_a_link_to_the_host_are_followed(
        tmp_path: Path) -> None:
    sockets = compose_policy.engine_sockets({"DOCKER_HOST": "unix:///srv/engine/api.sock",
                                             "XDG_RUNTIME_DIR": "/run/user/1000"})
    assert sockets[0] == "/srv/engine/api.sock" and "/run/user/1000/docker.sock" in sockets
    found = compose_policy.check(bind("/srv/engine"), "/srv/shop", {}, sockets).refused
    assert [f.allow for f in found] == ["engine_socket"]
    project = tmp_path / "shop"
    project.mkdir()
    os.symlink("/etc", project / "etc")  # inside the project by name, the host's /etc in fact
    (project / "init").mkdir()
    found = compose_policy.check(bind(str(project / "etc")), str(project), {}, []).refused
    assert [f.allow for f in found] == ["host_path"] and "/etc" in found[0].why
    assert compose_policy.check(bind(str(project / "init")), str(project), {}, []).refused == []


def test_service_of_the_project_and_host_network_stay_allowed() -> None:
    for settings in ({"network_mode": "host"}, {"network_mode": "service:db"},
                     {"ipc": "service:db"}, {"pid": "service:db"}, {"ipc": "private"}):
        assert compose_policy.check(config(**settings), PROJECT, {}, []).refused == [], settings


def test_every_finding_of_a_service_is_named() -> None:
    cfg = config(privileged=True, pid="host", cap_add=["SYS_ADMIN"],
                 volumes=[{"type": "bind", "source": "/", "target": "/host", "read_only": True}])
    verdict = compose_policy.check(cfg, PROJECT, {"cache": ["cap_add"]}, [SOCKET])
    assert {f.allow for f in verdict.refused} == {"privileged", "pid_host", "engine_socket",
                                                  "host_path"}
    assert verdict.used() == {"cache": ["cap_add"]}


def test_an_allowance_for_a_service_not_in_the_project_is_refused(tmp_path: Path) -> None:
    spec = StackSpec({"cache": ServiceSpec("cache", "redis")}, (tmp_path / "compose.yaml",),
                     tmp_path, (), {"cahce": ("privileged",)})
    cfg = config(privileged=True)
    problems = static_problems(cfg, "drills-preflight", spec, {})
    assert any("stack.allow names service cahce" in p and "it has: cache" in p
               for p in problems), problems
    assert any("stack.allow: {cache: [privileged]}" in p for p in problems), problems


PLAN = """
version: 2
stack:
  compose: compose.yaml
  services:
    cache: {{kind: redis, reach: {{host: 127.0.0.1, port: 6379}}}}
  allow: {allow}
scenarios:
  x: {{fault: {{kill: cache}}, targets: {{rto: 1m}}}}
"""


def test_the_plan_reads_its_allowances(tmp_path: Path) -> None:
    (tmp_path / "compose.yaml").write_text("services: {}\n")
    (tmp_path / "plan.yaml").write_text(PLAN.format(allow="{cache: [privileged, cap_add], "
                                                          "sidecar: devices}"))
    plan = load_plan(tmp_path / "plan.yaml")
    assert plan.stack is not None
    assert plan.stack.allow == {"cache": ("privileged", "cap_add"), "sidecar": ("devices",)}
    assert plan.stack.to_dict()["allow"] == {"cache": ["privileged", "cap_add"],
                                             "sidecar": ["devices"]}
    from drills.plan.preview import describe

    assert "  the plan allows: cache: privileged, cap_add; sidecar: devices" in describe(plan)


@pytest.mark.parametrize(("allow", "key", "words"), [
    ("{cache: [root]}", "stack.allow.cache[0]", "'root' is not an allowance; known: "
     + ", ".join(ALLOW_NAMES)),
    ("{cache: []}", "stack.allow.cache", "list of allowances"),
    ("[privileged]", "stack.allow", "must map service names"),
    ("{cache: {privileged: true}}", "stack.allow.cache", "list of allowances"),
])
def test_a_wrong_allowance_is_a_plan_error(tmp_path: Path, allow: str, key: str,
                                           words: str) -> None:
    (tmp_path / "compose.yaml").write_text("services: {}\n")
    (tmp_path / "plan.yaml").write_text(PLAN.format(allow=allow))
    with pytest.raises(PlanError) as caught:
        load_plan(tmp_path / "plan.yaml")
    assert caught.value.key == key, str(caught.value)
    assert words in caught.value.problem, str(caught.value)


def test_allowances_need_the_teams_compose_file(tmp_path: Path) -> None:
    (tmp_path / "plan.yaml").write_text(
        "version: 2\nstack:\n  services: {db: {kind: postgres}}\n  allow: {db: [privileged]}\n"
        "scenarios: {x: {fault: {kill: db}, targets: {rto: 1m}}}\n")
    with pytest.raises(PlanError, match=r"stack\.allow.*names none"):
        load_plan(tmp_path / "plan.yaml")


def test_the_report_shows_an_allowance_used() -> None:
    env = {"runtime": {"runtime": "compose", "allowed": {"cache": ["privileged", "cap_add"]}}}
    assert ("allowed by the plan", "cache: privileged, cap_add") in _environment(env)["facts"]
    assert all(k != "allowed by the plan" for k, _ in _environment({"runtime": {}})["facts"])


def test_drill_check_says_what_it_found(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from drills.errors import UsageError
    from drills.runtime import own_compose

    spec = StackSpec({"cache": ServiceSpec("cache", "redis")}, (tmp_path / "compose.yaml",),
                     tmp_path, (), {"cache": ("privileged",)})
    monkeypatch.setattr(own_compose, "read_config", lambda s, e: config(privileged=True))
    assert own_compose.check_lines(spec) == [
        "  host access allowed by the plan: cache: privileged (privileged: true)"]
    monkeypatch.setattr(own_compose, "read_config", lambda s, e: config(cap_add=["ALL"]))
    with pytest.raises(UsageError, match=r"stack\.allow: \{cache: \[cap_add\]\}"):
        own_compose.check_lines(spec)

    def unreadable(s: StackSpec, e: object) -> dict[str, Any]:
        raise UsageError("docker compose config on x failed:\nrequired variable PW is missing")

    monkeypatch.setattr(own_compose, "read_config", unreadable)
    assert "not checked here (required variable PW is missing)" in \
        own_compose.check_lines(spec)[0]
