"""Benchmark: a plan's scenarios, each repeated: fault to first acknowledged write, losses.

Run on demand (not a test): ``make bench-failover`` (drills/plans/failover.yaml),
``make bench-power-loss`` (drills/plans/storage.yaml), or
``.venv/bin/python bench/repeat.py [--plan PLAN] [--runs 5] [--scenario NAME ...]``.

Each run is a real ``drill run`` of the plan on the local runtime. From each run's records
it prints, per scenario: the verdict; the time from t_fault to the first write the load got
acknowledged afterwards (on the new primary after a failover: the read-back proves it
there); the RTO (first good probe) and its phases; lost and unknown writes; and for the
HA managers their own settings beside the measured detection time. The runs' directories
are kept under --out for a look at their reports.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
FAILOVER_PLAN = REPO / "drills" / "plans" / "failover.yaml"
BY_PATH = {
    "postgres-failover": "by hand (pg_promote), asynchronous",
    "postgres-failover-sync": "by hand (pg_promote), synchronous FIRST 1",
    "redis-sentinel-failover": "Redis Sentinel (automatic)",
    "patroni-failover": "Patroni + etcd + HAProxy (automatic; loop_wait 1, retry_timeout 3)",
}


def load_plan(path: Path) -> Any:
    from drills.plan import load_plan as load

    return load(path)


def first_ack_after_fault(run_dir: Path, name: str, t_fault: float) -> float | None:
    """Seconds from t_fault to the first write acknowledged after it (op history)."""
    from drills.record.history import Outcome, read_history
    from drills.record.journal import ScenarioFiles

    files = ScenarioFiles(run_dir / name)
    acks = [op.complete_mono for op in read_history(files.history)
            if op.outcome == Outcome.OK and op.complete_mono is not None
            and op.invoke_mono is not None and op.invoke_mono > t_fault]
    return min(acks) - t_fault if acks else None


def one_run(plan: Path, scenario: str, run_id: str, out: Path) -> dict[str, Any]:
    done = subprocess.run([sys.executable, "-m", "drills.cli", "run", "--plan", str(plan),
                           "--runtime", "local", "--scenario", scenario, "--run-id", run_id,
                           "--out", str(out)], cwd=REPO, capture_output=True, text=True,
                          check=False)
    summary_path = out / run_id / "summary.json"
    if not summary_path.exists():
        return {"verdict": f"no result (exit {done.returncode}): {done.stderr[-300:]}"}
    entry = json.loads(summary_path.read_text())["scenarios"][0]
    journal = json.loads((out / run_id / scenario / "journal.json").read_text())
    t_fault = next(e["mono"] for e in journal["events"] if e["kind"] == "step.start"
                   and e["data"].get("category") == "fault")
    phases = {p["name"]: p["duration_s"] for p in (entry["rto"] or {}).get("phases", ())}
    return {"verdict": entry["verdict"], "rto_s": entry["rto_s"],
            "first_ack_s": first_ack_after_fault(out / run_id, scenario, t_fault),
            "lost": entry["lost_writes"], "unknown": entry["unknown_writes"],
            "phases": phases, "settings": entry["environment"].get("services", {})}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plan", type=Path, default=FAILOVER_PLAN)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--scenario", action="append",
                        help="default: every failover path of the failover plan, or every "
                        "scenario of another plan")
    parser.add_argument("--out", type=Path, default=REPO / "reports" / "bench-repeat")
    args = parser.parse_args()
    plan = args.plan.resolve()
    scenarios = args.scenario or ([s for s in BY_PATH if _in_plan(plan, s)]
                                  if plan == FAILOVER_PLAN else list(load_plan(plan).scenarios))
    for scenario in scenarios:
        results = [one_run(plan, scenario, f"bench-{scenario}-{i}", args.out)
                   for i in range(1, args.runs + 1)]
        params = load_plan(plan).scenarios[scenario].params
        said = ", ".join(f"{k} {v}" for k, v in params.items()) or "no parameters"
        what = f"{BY_PATH[scenario]}, " if scenario in BY_PATH else ""
        print(f"\n{scenario}: {what}{args.runs} runs ({said})")
        for i, r in enumerate(results, 1):
            phases = ", ".join(f"{k} {v:.3f}" for k, v in r.get("phases", {}).items()
                               if not k.startswith(("between", "fault:")))
            print(f"  run {i}: {r['verdict']:<6} first ack {_s(r.get('first_ack_s'))}  "
                  f"RTO {_s(r.get('rto_s'))}  lost {r.get('lost')}  unknown "
                  f"{r.get('unknown')}  [{phases}]")
        acks = [r["first_ack_s"] for r in results if r.get("first_ack_s") is not None]
        if acks:
            print("  first acknowledged write after the fault: median "
                  f"{_s(statistics.median(acks))}, min {_s(min(acks))}, max {_s(max(acks))}")
        print(f"  lost per run: {[r.get('lost') for r in results]}")
    return 0


def _s(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f} s"


def _in_plan(plan: Path, name: str) -> bool:
    return f"\n  {name}:" in plan.read_text()


if __name__ == "__main__":
    sys.exit(main())
