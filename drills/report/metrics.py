"""metrics.prom: the run's figures where teams already look (Prometheus).

One gauge family per figure, labelled ``plan``, ``scenario`` and ``runtime``, rendered from
summary.json's content, so that node_exporter's textfile collector (copy the file into its
directory) or a Pushgateway (``curl --data-binary @metrics.prom``) carries them to the
dashboards and alerts that follow the quarterly drills. Only gauges: the file parses both as
the Prometheus text format (which node_exporter and the Pushgateway read) and as
OpenMetrics (it ends with ``# EOF``, a comment to the older format).

A figure the drill could not measure (no RTO: the service never came back) has no sample:
an alert on ``absent()`` or on the verdict sees it, where a 0 would read as a fast recovery.
A bound is not a value (docs/measurement.md rule 13): an RPO window whose loss reaches back
to the drill's first write is only known to be at least its figure, so it goes into
``drills_rpo_lower_bound_seconds`` and not into ``drills_rpo_seconds``; and the RTO comes
with its resolution (an outage the probe did not see is at most that long).
The verdict is one sample per state, 1 for the scenario's own, as OpenMetrics' state sets.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from drills.measure.verdict import Verdict

FILE_NAME = "metrics.prom"
#: every verdict a scenario can have
VERDICTS = tuple(v.value for v in Verdict)

#: family -> (summary key, help)
_FIGURES = (
    ("drills_rto_seconds", "rto_s",
     "Measured RTO: the fault until the service answered correctly again."),
    ("drills_rto_resolution_seconds", "rto_resolution_s",
     "How far the measured RTO may be from the true one (the probe's interval)."),
    ("drills_acknowledged_writes", "acked_writes",
     "Writes the load had acknowledged, read back after the drill."),
    ("drills_lost_writes", "lost_writes",
     "Acknowledged writes that were gone after the recovery."),
    ("drills_unknown_writes", "unknown_writes",
     "Writes whose outcome the client could not know (no answer)."),
)
#: family -> (verdict row key, help): the plan's targets, as numbers
_TARGETS = (
    ("drills_rto_target_seconds", "rto_s", "The plan's RTO target for the scenario."),
    ("drills_rpo_target_seconds", "rpo_s", "The plan's RPO target for the scenario."),
    ("drills_max_lost_writes_target", "max_lost_writes",
     "The plan's limit on lost acknowledged writes."),
)


def _escape(value: object) -> str:
    return str(value).replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(labels: Mapping[str, object]) -> str:
    return "{" + ",".join(f'{k}="{_escape(v)}"' for k, v in labels.items()) + "}"


def _number(value: float | int) -> str:
    return repr(float(value)) if isinstance(value, float) else str(int(value))


def _family(name: str, help_text: str,
            samples: Iterable[tuple[Mapping[str, object], float | int]]) -> list[str]:
    lines = [f"# HELP {name} {help_text}", f"# TYPE {name} gauge"]
    lines += [f"{name}{_labels(labels)} {_number(value)}" for labels, value in samples]
    return lines


def metrics_text(summary: Mapping[str, Any]) -> str:
    """The OpenMetrics text of a run's summary (drills.report.summary.build_summary)."""
    plan = (summary.get("plan") or {}).get("name") or ""
    runtime = summary.get("runtime") or ""
    scenarios: list[Mapping[str, Any]] = list(summary.get("scenarios") or [])

    def at(entry: Mapping[str, Any]) -> dict[str, object]:
        return {"plan": plan, "scenario": entry.get("name", ""), "runtime": runtime}

    lines = _family("drills_run_info", "The run these figures come from.",
                    [({"plan": plan, "runtime": runtime, "run_id": summary.get("run_id", ""),
                       "verdict": summary.get("verdict", "")}, 1)])
    lines += _family("drills_run_exit_code",
                     "The run's exit code: 0 only when every target passed.",
                     [({"plan": plan, "runtime": runtime}, int(summary.get("exit_code", 1)))])
    if summary.get("finished_wall") is not None:
        lines += _family("drills_run_finished_timestamp_seconds",
                         "When the run finished (Unix time): alert when drills are overdue.",
                         [({"plan": plan, "runtime": runtime},
                           float(summary["finished_wall"]))])
    lines += _family(
        "drills_scenario_verdict",
        "The scenario's verdict: 1 for the state it is in, 0 for the others.",
        [({**at(s), "verdict": v}, int(s.get("verdict") == v)) for s in scenarios
         for v in VERDICTS])
    for name, key, help_text in _FIGURES:
        lines += _family(name, help_text, [(at(s), s[key]) for s in scenarios
                                           if isinstance(s.get(key), int | float)])

    def censored(entry: Mapping[str, Any]) -> bool:
        return bool((entry.get("rpo") or {}).get("window_censored"))

    measured = [s for s in scenarios if isinstance(s.get("rpo_s"), int | float)]
    lines += _family("drills_rpo_seconds",
                     "Measured RPO window: the fault back to the oldest acknowledged write "
                     "lost (absent when only a lower bound is known).",
                     [(at(s), s["rpo_s"]) for s in measured if not censored(s)])
    lines += _family("drills_rpo_lower_bound_seconds",
                     "The RPO window is at least this: the loss reaches back to the drill's "
                     "first acknowledged write.",
                     [(at(s), s["rpo_s"]) for s in measured if censored(s)])
    for name, key, help_text in _TARGETS:
        samples = []
        for s in scenarios:
            row = next((r for r in s.get("targets") or [] if r.get("key") == key), None)
            if row is not None and isinstance(row.get("target_value"), int | float):
                samples.append((at(s), row["target_value"]))
        lines += _family(name, help_text, samples)
    return "\n".join(lines) + "\n# EOF\n"
