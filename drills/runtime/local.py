"""The ``local`` runtime: the stack's servers as supervised child processes.

Everything lives in one temporary directory per run (drills.stack.workdir), on free
loopback ports chosen at run time. Each kind builds its servers as ``LocalService``
subclasses (drills.stack.local_service) in the ``LocalContext`` this runtime gives it.

A server killed for good leaves shared memory (a killed PostgreSQL: a System V segment and
/dev/shm files) that outlives the run's directory: it is removed, proven the run's, when
the directory goes (drills.stack.shm).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from drills import kinds
from drills.errors import StackError
from drills.stack import shm
from drills.stack.local_service import LocalContext
from drills.stack.service import Service, check_name
from drills.stack.storage.lazyfs import LazyFS
from drills.stack.storage.mounts import release_workdir
from drills.stack.workdir import make_workdir


class LocalRuntime:
    """Creates local services in a per-run directory and removes it at the end."""

    name = "local"

    def __init__(self, run_id: str, logs_dir: Path) -> None:
        self.run_id = run_id
        self.logs_dir = logs_dir
        self.workdir = make_workdir(run_id, self.name)
        self._closed = False
        self._made: dict[str, Service] = {}

    def services(self, wanted: Mapping[str, Any]) -> dict[str, Service]:
        made: dict[str, Service] = {}
        ctx = LocalContext(self.workdir, self.logs_dir, made)
        for name, settings in wanted.items():
            check_name(name)
            made[name] = kinds.of_settings(settings).local(name, settings, ctx)
        self._made.update(made)
        return made

    def describe(self) -> dict[str, Any]:
        return {"runtime": self.name, "workdir": str(self.workdir)}

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            # before the directory goes: the lock files there name what dead servers left
            problems = shm.release(self.workdir)
            # the servers are stopped: nothing holds their LazyFS or loop mounts any more
            mounted = [getattr(service, "lazyfs", None) for service in self._made.values()]
            problems += release_workdir(self.workdir,
                                        [m for m in mounted if isinstance(m, LazyFS)])
            if problems:  # on the record of the teardown (drills.stack.stack.Stack.close)
                raise StackError("; ".join(problems))
