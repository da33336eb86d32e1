"""The team's own locustfile as background traffic beside drills' load.

It runs as ``python -m locust -f FILE --headless`` in its own process group (SIGKILL if the
drill dies, the group ended at the load's end, at teardown and on Ctrl-C), with its CSV
statistics and output in the scenario's logs. drills does not measure it: its writes are
the team's, not the ledger's. What it did (requests, failures) goes on the timeline.
"""

from __future__ import annotations

import csv
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

from drills.errors import WorkloadError
from drills.plan.model import BackgroundLoad
from drills.procedures.runner import GRACE_S, end_group
from drills.stack.process import die_with_parent


class Background:
    """One run of the team's locustfile."""

    def __init__(self, spec: BackgroundLoad, host: str | None, logs: Path) -> None:
        self.spec, self.host, self.logs = spec, host, logs
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.logs.mkdir(parents=True, exist_ok=True)
        argv = [sys.executable, "-m", "locust", "-f", str(self.spec.locustfile), "--headless",
                "-u", str(self.spec.users), "-r", str(self.spec.users), "--csv",
                str(self.logs / "background"), "--only-summary", "--exit-code-on-error", "0"]
        if self.host:
            argv += ["--host", self.host]
        out = open(self.logs / "background.log", "wb")  # noqa: SIM115 - the child's output
        try:
            self.proc = subprocess.Popen(argv, cwd=self.spec.locustfile.parent,
                                         stdin=subprocess.DEVNULL, stdout=out,
                                         stderr=subprocess.STDOUT, start_new_session=True,
                                         preexec_fn=die_with_parent)
        finally:
            out.close()

    def stop(self) -> dict[str, Any]:
        """Stop it (SIGINT: Locust writes its statistics), and say what it did."""
        if self.proc is None:
            return {}
        code = self.proc.poll()
        if code is None:
            try:
                self.proc.send_signal(signal.SIGINT)
                code = self.proc.wait(GRACE_S * 2)
            except subprocess.TimeoutExpired:
                code = None
        end_group(self.proc)
        stats = self.stats()
        stats["exit_code"] = code
        if code not in (0, None) and not stats.get("requests"):
            raise WorkloadError(f"your locustfile {self.spec.locustfile} exited {code} without "
                                f"a request; see {self.logs / 'background.log'}")
        return stats

    def stats(self) -> dict[str, Any]:
        path = self.logs / "background_stats.csv"
        try:
            with open(path, newline="") as f:
                rows = list(csv.DictReader(f))
        except OSError:
            return {"requests": None, "failures": None, "note": "no statistics written"}
        total = next((r for r in rows if r.get("Name") == "Aggregated"), None)
        if total is None:
            return {"requests": 0, "failures": 0}
        return {"requests": int(total.get("Request Count") or 0),
                "failures": int(total.get("Failure Count") or 0),
                "rps": float(total.get("Requests/s") or 0.0)}
