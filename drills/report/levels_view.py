"""The report's view of service levels per phase: what users saw, before to after the fault.

Also the phase bands drawn along the top of the timeline chart.
"""

from __future__ import annotations

from drills.measure.evaluate import DrillResult
from drills.measure.service_levels import PhaseLevels
from drills.report.charts import PhaseBand

#: the phases as people read them
PHASE_TITLES = {"before": "before the fault", "fault": "during the fault",
                "recovery": "during recovery", "after": "after recovery"}


def _ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,.0f}"


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2%}"


def levels_view(result: DrillResult) -> list[dict[str, str]]:
    """One row per phase: window, writes, rate, errors, availability, latency quantiles."""
    origin = result.t_fault_mono
    rows = []
    for p in result.service_levels:
        start = "n/a" if origin is None else f"{p.start_mono - origin:+.3f}"
        end = "n/a" if origin is None else f"{p.end_mono - origin:+.3f}"
        rows.append({
            "phase": PHASE_TITLES.get(p.phase, p.phase), "start": start, "end": end,
            "duration": f"{p.duration_s:.3f}", "writes": f"{p.writes:,}",
            "rate": "n/a" if p.rate_per_s is None else f"{p.rate_per_s:,.0f}",
            "fail": f"{p.fail:,}", "unknown": f"{p.unknown:,}",
            "availability": _pct(p.availability), "errors": _pct(p.error_rate),
            "p50": _ms(p.p50_ms), "p95": _ms(p.p95_ms), "p99": _ms(p.p99_ms),
        })
    return rows


def band_label(p: PhaseLevels) -> str:
    """What the chart writes over a phase: its rate, availability and p99."""
    if not p.writes:
        return f"{p.phase}: no write"
    rate = "n/a" if p.rate_per_s is None else f"{p.rate_per_s:,.0f}/s"
    return f"{p.phase}: {rate}, {_pct(p.availability)} ok, p99 {_ms(p.p99_ms)} ms"


def phase_bands(result: DrillResult) -> list[PhaseBand]:
    """The phases relative to the fault, for the chart."""
    origin = result.t_fault_mono
    if origin is None:
        return []
    return [PhaseBand(p.phase, p.start_mono - origin, p.end_mono - origin, band_label(p))
            for p in result.service_levels]
