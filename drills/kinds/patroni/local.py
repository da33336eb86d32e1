"""A Patroni member as a local process: Patroni and the PostgreSQL it runs, as one tree.

Patroni starts PostgreSQL the way ``pg_ctl`` does, through a launcher that exits, so the
postmaster would be re-parented to PID 1 (which reaps slowly here) and would survive a
SIGKILL of Patroni's process tree. Patroni therefore runs as a child subreaper
(``PR_SET_CHILD_SUBREAPER``, kept across exec): the postmaster is re-parented to Patroni,
stays in its tree, and SIGKILL of that tree (LocalService.kill) is the loss of the
node, Patroni and PostgreSQL together. As root, both run as the ``postgres`` account.
"""

from __future__ import annotations

import os
import shutil
import signal
import time
from pathlib import Path
from typing import Any

import yaml

from drills.errors import StackError
from drills.kinds.patroni.cluster import (
    DATABASE,
    SUPERUSER,
    Layout,
    join,
    patroni_yml,
    post_bootstrap_script,
)
from drills.kinds.patroni.member import PatroniMember
from drills.kinds.patroni.settings import PatroniSettings
from drills.kinds.postgres.local import postgres_bindir
from drills.stack.binaries import version_of
from drills.stack.endpoint import Endpoint
from drills.stack.http_json import request
from drills.stack.local_service import LocalContext, LocalService
from drills.stack.ports import LOOPBACK, free_port
from drills.stack.process import RunAs, SupervisedProcess, descendants
from drills.stack.workdir import write_private

#: run by Patroni's own Python before it becomes Patroni: PR_SET_CHILD_SUBREAPER (36)
_SUBREAPER = ("import ctypes, os, sys; ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0); "
              "os.execv(sys.argv[1], sys.argv[1:])")


def patroni_binary() -> Path:
    """$DRILLS_PATRONI, else patroni on PATH (Debian: patroni, with python3-etcd)."""
    configured = os.environ.get("DRILLS_PATRONI") or shutil.which("patroni")
    if configured and Path(configured).is_file():
        return Path(configured)
    raise StackError("patroni not found. To fix this, either install it (apt-get install "
                     "patroni python3-etcd) or set DRILLS_PATRONI to its path.")


def interpreter(script: Path) -> str:
    """The Python that runs the patroni script (its #! line), for the subreaper launcher."""
    try:
        with open(script, "rb") as f:
            first = f.readline(256).decode(errors="replace")
    except OSError as exc:
        raise StackError(f"cannot read {script}: {exc}") from exc
    if first.startswith("#!"):
        words = first[2:].split()
        if words and Path(words[0]).name.startswith("python"):
            return words[0]
        if len(words) == 2 and Path(words[0]).name == "env":
            found = shutil.which(words[1])
            if found:
                return found
    raise StackError(f"{script} is not a Python script with a #! line; drills runs Patroni "
                     "through its own Python. Set DRILLS_PATRONI to Patroni's script.")


class LocalPatroni(PatroniMember, LocalService):
    """One member: patroni.yml in its home, Patroni run as the postgres account."""

    kind = "patroni"

    def __init__(self, name: str, settings: PatroniSettings, ctx: LocalContext) -> None:
        self.name = name
        self.settings = settings
        self.cluster = join(name, settings, ctx.services)
        self.home = ctx.workdir / name
        self.data = self.home / "data"
        self.data_directory = str(self.data)
        self.bindir = postgres_bindir()
        self.binary = patroni_binary()
        self.run_as = RunAs.for_server("Patroni and PostgreSQL")
        self.rest_host, self.rest_port = LOOPBACK, free_port()
        self.endpoint = Endpoint(kind="postgres", host=LOOPBACK, port=free_port(),
                                 password=self.cluster.superuser_password, user=SUPERUSER,
                                 database=DATABASE)
        self.conf_path = self.home / "patroni.yml"
        argv = [interpreter(self.binary), "-c", _SUBREAPER, str(self.binary),
                str(self.conf_path)]
        self.proc = SupervisedProcess(
            name, argv, log_path=ctx.logs_dir / f"{name}.log", run_as=self.run_as,
            workdir=ctx.workdir, cwd=self.home,
            env={"PATH": f"{self.bindir}:{os.environ.get('PATH', '/usr/bin:/bin')}",
                 "HOME": str(self.home), "PYTHONUNBUFFERED": "1"},
        )
        self.cluster.members.append(self)

    @property
    def data_dir(self) -> Path:
        return self.data

    def exec_env(self) -> dict[str, str]:
        # the unix socket in the member's home, where pg_hba trusts local connections
        return {"PGHOST": str(self.home), "PGPORT": str(self.endpoint.port),
                "PGUSER": SUPERUSER, "PGDATABASE": DATABASE}

    def exec_path(self) -> list[Path]:
        return [self.bindir]

    def _write_files(self) -> None:
        """patroni.yml and the post_bootstrap script, readable by the server's account only."""
        script = self.home / "post-bootstrap.sh"
        write_private(script, post_bootstrap_script(str(self.bindir / "psql")))
        layout = Layout(
            host=LOOPBACK, port=self.endpoint.port, rest_port=self.rest_port,
            data_dir=str(self.data), bin_dir=str(self.bindir), socket_dir=str(self.home),
            pgpass=str(self.home / "pgpass"), post_bootstrap=["/bin/sh", str(script)],
        )
        write_private(self.conf_path, yaml.safe_dump(
            patroni_yml(self.name, self.cluster, layout), sort_keys=False))
        for path in (self.home, script, self.conf_path):
            self._own(path)

    def start(self) -> None:
        if not self.home.exists():  # the first start; after a loss, a new empty member
            self.home.mkdir(mode=0o700)
            self._own(self.home)
        if not self.conf_path.exists():
            self._write_files()
        self._await_dcs(5.0)
        self.proc.start()

    def _await_dcs(self, timeout_s: float) -> None:
        """Give etcd (started just before) a moment to answer.

        Patroni's etcd client sleeps 5 s after a failed first contact: a member started
        a few hundred milliseconds before etcd answers would start that much later. If etcd
        never answers, Patroni starts anyway and readiness says why it waits.
        """
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                request(self.cluster.dcs_host, self.cluster.dcs_port, "GET", "/health",
                        timeout_s=0.5, what="etcd")
                return
            except StackError:
                time.sleep(0.05)

    def stop(self) -> None:
        # Patroni stops PostgreSQL (fast shutdown) and, as leader, releases the leader key
        self.proc.stop(signal.SIGTERM, grace_s=30.0)
        self._stop_orphan_postmaster()

    def _stop_orphan_postmaster(self) -> None:
        """Stop a postmaster Patroni left behind (re-parented to PID 1), proven ours.

        Patroni stopped while it is creating a replica can start PostgreSQL from its
        bootstrap thread as it exits; that server is no longer in its tree.
        """
        try:
            pid = int((self.data / "postmaster.pid").read_text().split()[0])
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except (OSError, ValueError, IndexError):
            return  # no lock file, or no such process: nothing runs
        if str(self.data).encode() not in argv:
            return  # a stale lock file; the pid is someone else's now
        pids = [pid, *descendants(pid)]
        os.kill(pid, signal.SIGQUIT)  # immediate shutdown: it ends its children itself
        deadline = time.monotonic() + 5.0
        while time.monotonic() < deadline and _alive(pid):
            time.sleep(0.05)
        for left in pids:
            try:
                os.kill(left, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def describe(self) -> dict[str, Any]:
        return {
            "service": self.name, "kind": self.kind, "runtime": self.runtime,
            "version": version_of(self.binary), "binary": str(self.binary),
            "postgres": version_of(self.bindir / "postgres"), "data": str(self.data),
            "run_as": self.run_as.user if self.run_as else None,
            "rest_api": f"{self.rest_host}:{self.rest_port}",
            "endpoint": self.endpoint.public(), "settings": self.settings.conf(),
        }


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie has an empty command line)."""
    try:
        return bool(Path(f"/proc/{pid}/cmdline").read_bytes())
    except OSError:
        return False


def service(name: str, settings: PatroniSettings, ctx: LocalContext) -> LocalPatroni:
    return LocalPatroni(name, settings, ctx)


def servers() -> dict[str, str]:
    return {"patroni": str(patroni_binary()), "bindir": str(postgres_bindir())}
