"""What a procedure is given: its placeholders filled, and the drill's stack in its environment.

The environment names the project drills brought up, so that the team's scripts act on it
and nothing else.

Every procedure gets, besides the drill process's own environment:

    COMPOSE_PROJECT_NAME, COMPOSE_FILE   the drill's Compose project (own stacks): a script
                                         calling `docker compose` acts on it
    DRILL_PROJECT, DRILL_RUN_DIR         the same project name; the scenario's records
    DRILL_<SERVICE>_HOST, _PORT, _URL, _USER, _DATABASE, _PASSWORD   each service
    DRILL_LATEST_<JOB>                   the latest backup of each job taken so far

Passwords are passed by environment only (never argv), and are redacted from saved output.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from drills.errors import RecoveryError
from drills.plan.procedure_spec import PLACEHOLDER, Procedure


@dataclass(frozen=True)
class ServiceAccess:
    """How a procedure reaches one service of the drill's stack."""

    host: str | None = None
    port: int | None = None
    url: str | None = None
    user: str | None = None
    database: str | None = None
    password: str | None = field(default=None, repr=False)


def _env_name(name: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in name.upper())


@dataclass
class ProcedureContext:
    """The drill's side of every procedure of one scenario."""

    run_dir: Path
    logs_dir: Path
    services: Mapping[str, ServiceAccess]
    project: str | None = None
    compose_files: tuple[Path, ...] = ()
    #: directories put first on PATH (the server binaries the local runtime uses)
    path_first: tuple[str, ...] = ()
    #: job -> the latest backup of it taken in this drill
    latest: dict[str, Path] = field(default_factory=dict)
    #: job -> the name of that backup on the drill's timeline
    latest_names: dict[str, str] = field(default_factory=dict)
    #: the directory the backup being taken goes to (only while one is taken)
    backup_dir: Path | None = None
    #: the environment every procedure starts from (the compose commands' own, for an own
    #: stack: DRILLS_<KIND>_IMAGE as drills brought the project up); default: this process's
    base_env: Mapping[str, str] | None = None
    #: the runtime's working directory (its owner record): each procedure's process group
    #: leader is recorded in its processes.jsonl, for ``drill clean`` after a crash
    workdir: Path | None = None
    runs: int = 0

    def log_name(self, procedure: str) -> str:
        """The next procedure log's name: numbered in the order the procedures ran."""
        self.runs += 1
        return f"procedure-{self.runs:02d}-{procedure}.log"

    def secrets(self) -> list[str]:
        """Values that must never appear in saved output."""
        return [s.password for s in self.services.values() if s.password]

    def _service(self, name: str, where: str) -> ServiceAccess:
        try:
            return self.services[name]
        except KeyError:
            raise RecoveryError(f"{where}: no service {name} in the drill's stack; it has: "
                                f"{', '.join(self.services)}") from None

    def value(self, name: str, arg: str | None, where: str) -> str:
        """One placeholder's value now; RecoveryError saying why when it has none yet."""
        if name == "project":
            if self.project is None:
                raise RecoveryError(f"{where}: {{project}}: this stack is not a Compose project")
            return self.project
        if name == "run_dir":
            return str(self.run_dir)
        if name == "backup_dir":
            if self.backup_dir is None:
                raise RecoveryError(f"{where}: {{backup_dir}} is only given to a backup job's "
                                    "procedure, while it takes the backup")
            return str(self.backup_dir)
        assert arg is not None  # the reader checked the placeholders' shape
        if name == "latest":
            if arg not in self.latest:
                raise RecoveryError(f"{where}: {{latest:{arg}}}: no backup of job {arg} was "
                                    "taken in this drill")
            return str(self.latest[arg])
        found = getattr(self._service(arg, where), name)
        if found is None:
            raise RecoveryError(f"{where}: service {arg} has no {name}")
        return str(found)

    def fill(self, text: str, where: str) -> str:
        return PLACEHOLDER.sub(lambda m: self.value(m.group(1), m.group(2), where), text)

    def argv(self, procedure: Procedure) -> list[str]:
        """The command as it runs: placeholders filled, a relative program found in cwd."""
        argv = [self.fill(a, f"procedure {procedure.name}") for a in procedure.argv]
        if "/" in argv[0] and not os.path.isabs(argv[0]):
            argv[0] = str(procedure.cwd / argv[0])
        return argv

    def environment(self, procedure: Procedure) -> dict[str, str]:
        env = dict(os.environ if self.base_env is None else self.base_env)
        if self.path_first:
            env["PATH"] = os.pathsep.join([*self.path_first, env.get("PATH", "")])
        if self.project is not None:
            env["COMPOSE_PROJECT_NAME"] = env["DRILL_PROJECT"] = self.project
        if self.compose_files:
            env["COMPOSE_FILE"] = os.pathsep.join(str(f) for f in self.compose_files)
        env["DRILL_RUN_DIR"] = str(self.run_dir)
        for name, access in self.services.items():
            for attr in ("host", "port", "url", "user", "database", "password"):
                value = getattr(access, attr)
                if value is not None:
                    env[f"DRILL_{_env_name(name)}_{attr.upper()}"] = str(value)
        for job, path in self.latest.items():
            env[f"DRILL_LATEST_{_env_name(job)}"] = str(path)
        for key, text in procedure.env.items():
            env[key] = self.fill(text, f"procedure {procedure.name}, env {key}")
        return env
