"""Regression limits judged: this run's figures against the median of its baseline.

The baseline (the scenario's last passing runs, saved as ``baseline.json`` when it
started) is drills.trends.baseline; a limit gives a verdict row here, like a target.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from drills.measure.findings import Finding
from drills.measure.verdict import TargetCheck, Verdict, fmt_s
from drills.trends.baseline import Baseline

#: the figures a plan may set regression limits on: plan key -> (summary key, title)
FIGURES = {"rto": ("rto_s", "RTO"), "rpo": ("rpo_s", "RPO window")}


def regression_rows(limits: Mapping[str, Any] | None, baseline: Baseline | None,
                    measured: Mapping[str, tuple[float | None, str]],
                    findings: list[Finding]) -> tuple[list[TargetCheck], str]:
    """Verdict rows for the plan's regression limits, and what the report says about them.

    ``measured`` holds this run's figures by summary key (rto_s, rpo_s), each with the
    reason it is missing when it is None. A limit with no
    earlier passing run to compare with gives no row: there is nothing to regress from,
    and the note says so (the first runs of a plan, or a fresh runs database).
    """
    if not limits:
        return [], ""
    if baseline is None:
        reason = "no baseline was taken when the scenario started"
        return [_cnv(key, title, reason, findings) for plan_key, (key, title)
                in FIGURES.items() if limits.get(plan_key) is not None], reason
    if not baseline.runs:
        return [], (f"no earlier passing run of this scenario on the {baseline.runtime} "
                    f"runtime in {baseline.store}: regression limits are first judged on "
                    "the next run")
    rows: list[TargetCheck] = []
    ids = ", ".join(p.run_id for p in baseline.runs)
    for plan_key, (key, title) in FIGURES.items():
        rise = limits.get(plan_key)
        if rise is None:
            continue
        median = baseline.median(key)
        if median is None:
            rows.append(_cnv(key, title, f"none of the {len(baseline.runs)} earlier passing "
                             f"runs measured an {title}", findings))
            continue
        margin = float(limits.get("margin_s") or 0)
        limit = max(median * (1 + float(rise)), median + margin)
        allowed = f"+{float(rise):.0%}" + (f" or +{fmt_s(margin)}, whichever is more"
                                            if margin else "")
        shown = (f"<= {fmt_s(limit)} (median {fmt_s(median)} of {len(baseline.runs)} passing "
                 f"runs, {allowed})")
        value, why = measured.get(key, (None, f"no {title} was measured"))
        if value is None:
            rows.append(_cnv(key, title, why, findings, shown, limit))
            continue
        above = f"{(value / median - 1):+.0%} on the median" if median > 0 else \
            f"{fmt_s(value - median)} above the median"
        if value <= limit:
            rows.append(TargetCheck(f"regression.{key}", f"{title} regression", shown,
                                    f"{fmt_s(value)} ({above})", "", Verdict.PASS,
                                    "", limit, value))
            continue
        msg = (f"{title} {fmt_s(value)} is above its regression limit {fmt_s(limit)}: the "
               f"median of the last {len(baseline.runs)} passing runs ({ids}) is "
               f"{fmt_s(median)}")
        findings.append(Finding("REGRESSION", msg))
        rows.append(TargetCheck(f"regression.{key}", f"{title} regression", shown,
                                f"{fmt_s(value)} ({above})", "", Verdict.FAIL, msg, limit,
                                value))
    note = (f"compared with the median of {len(baseline.runs)} earlier passing run(s) on the "
            f"{baseline.runtime} runtime ({ids}), from {baseline.store}")
    other = [p.run_id for p in baseline.runs
             if baseline.settings and p.settings and p.settings != baseline.settings]
    if other:
        note += (f"; {len(other)} of them ({', '.join(other)}) were drilled with other "
                 "settings (parameters, load, dataset) than this run")
    return rows, note


def _cnv(key: str, title: str, reason: str, findings: list[Finding], shown: str = "n/a",
         limit: float | None = None) -> TargetCheck:
    findings.append(Finding("COULD_NOT_VERIFY", f"{title} regression: {reason}"))
    return TargetCheck(f"regression.{key}", f"{title} regression", shown, "n/a", "",
                       Verdict.COULD_NOT_VERIFY, reason, limit)
