"""Run configuration, resolved once into a frozen object.

Precedence: explicit argument > command-line option > environment (DRILLS_*) > default.
"""

from __future__ import annotations

import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path


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
        plan = plan or env.get("DRILLS_PLAN")
        return cls(
            plan_path=Path(plan) if plan else None,
            out_dir=Path(out or env.get("DRILLS_OUT") or "reports"),
            runtime=runtime or env.get("DRILLS_RUNTIME") or "auto",
            run_id=run_id or env.get("DRILLS_RUN_ID") or new_run_id(),
            scenarios=scenarios,
        )
