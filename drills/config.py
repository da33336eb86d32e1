"""Run configuration, resolved once into a frozen object.

Precedence: explicit argument > command-line option > environment (DRILLS_*) > default.
"""

from __future__ import annotations

import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from drills.errors import UsageError


def new_run_id() -> str:
    """Sortable and unique: UTC time plus a random suffix."""
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()) + "-" + secrets.token_hex(3)


@dataclass(frozen=True)
class RunConfig:
    """Where a run reads its plan, which runtime it uses, where it writes its report."""

    plan_path: Path | None
    out_dir: Path
    runtime: str
    run_id: str
    scenarios: tuple[str, ...] = ()  # empty: every scenario of the plan

    @property
    def run_dir(self) -> Path:
        return self.out_dir / self.run_id

    @classmethod
    def resolve(
        cls,
        plan: str | Path | None = None,
        out: str | Path | None = None,
        runtime: str | None = None,
        run_id: str | None = None,
        scenarios: tuple[str, ...] = (),
    ) -> RunConfig:
        env = os.environ
        plan = plan if plan is not None else env.get("DRILLS_PLAN")
        if plan is not None and not str(plan).strip():
            raise UsageError("the plan path is empty (--plan or DRILLS_PLAN); give a file, or "
                             "leave it out for the default plan")
        out = out if out is not None else env.get("DRILLS_OUT") or "reports"
        if not str(out).strip():
            raise UsageError("the report directory is empty (--out or DRILLS_OUT)")
        return cls(
            plan_path=Path(plan) if plan is not None else None,
            out_dir=Path(out),
            runtime=runtime or env.get("DRILLS_RUNTIME") or "auto",
            run_id=run_id or env.get("DRILLS_RUN_ID") or new_run_id(),
            scenarios=scenarios,
        )


def prepare_out_dir(out_dir: Path) -> None:
    """Create the report directory now, so a bad --out stops the run before anything starts."""
    if out_dir.exists() and not out_dir.is_dir():
        raise UsageError(f"--out {out_dir}: exists and is not a directory")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"--out {out_dir}: cannot create it ({exc.strerror})") from exc
    if not os.access(out_dir, os.W_OK | os.X_OK):
        raise UsageError(f"--out {out_dir}: not writable by this user")
