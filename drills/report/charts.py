"""The drill timeline chart: throughput, failures and p99 latency around the fault, as SVG."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from drills.measure.bins import Bins
from drills.record.timeline import Category, Step
from drills.report.svg import figure_svg

if TYPE_CHECKING:
    from matplotlib.axes import Axes

_STEP_COLOURS = {Category.RECOVERY: "#1f5fbf", Category.REVERT: "#7b3fa0"}


@dataclass(frozen=True)
class PhaseBand:
    """A phase of the drill (before, fault, recovery, after), drawn along the panel's top."""

    name: str
    start_s: float
    end_s: float
    label: str


@dataclass(frozen=True)
class Marker:
    """A vertical line on the chart, at seconds relative to t0."""

    label: str
    at_s: float
    colour: str
    style: str = "-"


@dataclass(frozen=True)
class Chart:
    """An SVG chart, or the reason there is none."""

    svg: str | None
    note: str


def step_markers(steps: Sequence[Step], t0: float) -> list[Marker]:
    """Fault start, recovery and revert steps, and every backup's consistency point."""
    markers = []
    for step in steps:
        if step.category == Category.FAULT:
            markers.append(Marker(f"fault start: {step.name}", step.start.mono - t0, "#c62828"))
        elif step.category in _STEP_COLOURS:
            colour = _STEP_COLOURS[step.category]
            markers.append(Marker(f"{step.category} start: {step.name}",
                                  step.start.mono - t0, colour, "--"))
            if step.end is not None:
                markers.append(Marker(f"{step.category} end: {step.name}",
                                      step.end.mono - t0, colour, ":"))
        elif step.category == Category.BACKUP and "consistency" in step.data:
            point = step.data["consistency"]
            if isinstance(point, dict) and "earliest_mono" in point:
                markers.append(Marker(f"consistency point of {step.data.get('backup')}",
                                      float(point["earliest_mono"]) - t0, "#b58900", "-."))
    return markers


def _plain(text: str) -> str:
    # A "$" would switch matplotlib into mathtext and fail on step names like "$PGDATA".
    return text.replace("$", r"\$")


def _window(bins: Bins, markers: Sequence[Marker], outage: tuple[float, float] | None,
            ) -> tuple[tuple[float, float], tuple[float, float] | None]:
    """The full x range, and a zoom on the fault and recovery when they are a thin slice."""
    width = bins.width_s
    events = [m.at_s for m in markers] + (list(outage) if outage else [])
    lo = min([bins.start_s[0], *events]) - width
    hi = max([bins.start_s[-1] + width, *events]) + width
    if not events:
        return (lo, hi), None
    pad = max(0.5, 0.15 * (max(events) - min(events)))
    zoom = (max(lo, min(events) - pad), min(hi, max(events) + pad))
    return (lo, hi), zoom if zoom[1] - zoom[0] < 0.4 * (hi - lo) else None


def _bands(ax: Axes, bands: Sequence[PhaseBand], xlim: tuple[float, float]) -> None:
    """Each phase's service levels, written over it when it is wide enough to hold them."""
    from matplotlib.transforms import blended_transform_factory

    over = blended_transform_factory(ax.transData, ax.transAxes)
    span = xlim[1] - xlim[0]
    for index, band in enumerate(bands):
        lo, hi = max(band.start_s, xlim[0]), min(band.end_s, xlim[1])
        if hi - lo < 0.12 * span:
            continue  # too narrow here; the table under the chart holds it
        if index:
            ax.axvline(band.start_s, color="#9e9e9e", linestyle=":", linewidth=0.8)
        ax.text((lo + hi) / 2, 1.01, _plain(band.label), transform=over, ha="center",
                va="bottom", fontsize=7.5, color="#424242", clip_on=False)


def isolated(values: Sequence[float]) -> list[int]:
    """The indices of the values a line cannot draw: known, with no known neighbour."""
    def known(i: int) -> bool:
        return 0 <= i < len(values) and not math.isnan(values[i])
    return [i for i in range(len(values)) if known(i) and not known(i - 1) and not known(i + 1)]


def _panel(ax: Axes, bins: Bins, markers: Sequence[Marker],
           outage: tuple[float, float] | None, xlim: tuple[float, float],
           bands: Sequence[PhaseBand] = ()) -> Axes:
    """Draw one panel: ops/s on the left axis, p99 latency on the right; returns the latter."""
    width = bins.width_s
    edges = [*bins.start_s, bins.start_s[-1] + width]
    ax.stairs(bins.acked_per_s, edges, color="#2e7d32", linewidth=1.4,
              label="acknowledged ops/s")
    ax.stairs(bins.bad_per_s, edges, color="#e65100", linewidth=1.4,
              label="failed + unknown ops/s")
    if outage is not None:
        ax.axvspan(outage[0], outage[1], color="#c62828", alpha=0.10, linewidth=0,
                   label=f"outage: fault to first good probe ({outage[1] - outage[0]:.3f} s)")
    for marker in markers:
        ax.axvline(marker.at_s, color=marker.colour, linestyle=marker.style, linewidth=1.3,
                   label=_plain(f"{marker.label} ({marker.at_s:+.3f} s)"))
    inside = [i for i, s in enumerate(bins.start_s) if s + width >= xlim[0] and s <= xlim[1]]
    top = max([1.0, *(max(bins.acked_per_s[i], bins.bad_per_s[i]) for i in inside)])
    ax.set_xlim(*xlim)
    ax.set_ylim(0, top * 1.08)
    _bands(ax, bands, xlim)
    ax.set_ylabel("operations per second")
    ax.grid(True, color="#e0e0e0", linewidth=0.6)
    lat = ax.twinx()
    # NaN where no write was acknowledged, so the line breaks across the outage.
    ys = [math.nan if v is None else max(v, 0.001) for v in bins.p99_ms]
    known = [v for v in ys if not math.isnan(v)]
    # a dot only where the line cannot show the value: a bin alone between gaps (a dot per
    # bin made thousands of marks, most of a PDF's drawing time)
    lat.plot([s + width / 2 for s in bins.start_s], ys, color="#616161", linewidth=0.9,
             marker=".", markersize=2.5, markevery=isolated(ys),
             label="p99 latency of acknowledged ops (ms)")
    if known and max(known) / min(known) > 50:
        lat.set_yscale("log")
    elif known:
        lat.set_ylim(0, max(known) * 1.08)
    lat.set_ylabel("p99 latency (ms)")
    return lat


def timeline_svg(
    title: str,
    bins: Bins,
    markers: Sequence[Marker],
    outage: tuple[float, float] | None,
    x_label: str,
    salt: str = "drills",
    bands: Sequence[PhaseBand] = (),
    zoom_bins: Bins | None = None,
) -> str:
    """Render the chart; returns the <svg> element alone, ready to inline in HTML.

    The zoom on the fault uses ``zoom_bins`` (finer, around the outage) when given.
    """
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    full, zoom = _window(bins, markers, outage)
    n_labels = 4 + len(markers) + (outage is not None)
    legend_h = 0.19 * math.ceil(n_labels / 2) + 0.12
    # Heights in inches, top to bottom: title, panel, axis label, [zoom title, panel, label].
    blocks = [0.4, 3.0, 0.55] + ([0.4, 2.4, 0.55] if zoom else [])
    height = sum(blocks) + legend_h
    fig = Figure(figsize=(11, height))
    left, right = 0.8 / 11, 1 - 0.85 / 11
    panels = [(full, 0.4, 3.0, _plain(title), bins)]
    if zoom:
        fine = zoom_bins if zoom_bins is not None and zoom_bins.start_s else bins
        panels.append((zoom, 0.4 + 3.0 + 0.55 + 0.4, 2.4,
                       f"zoom on the fault and recovery: {zoom[0]:+.2f} s to {zoom[1]:+.2f} s"
                       + (f", {_width_text(fine.width_s)} bins" if fine is not bins else ""),
                       fine))
    legend: list[Axes] = []
    for xlim, top_in, panel_h, panel_title, shown in panels:
        bottom = 1 - (top_in + panel_h) / height
        ax = fig.add_axes((left, bottom, right - left, panel_h / height))
        lat = _panel(ax, shown, markers, outage, xlim, bands)
        ax.set_title(panel_title, loc="left", fontsize=11, pad=14 if bands else 6)
        ax.set_xlabel(x_label)
        legend = legend or [ax, lat]
    handles, labels = legend[0].get_legend_handles_labels()
    more_handles, more_labels = legend[1].get_legend_handles_labels()
    fig.legend(handles + more_handles, labels + more_labels, loc="lower center", ncols=2,
               fontsize=8.5, frameon=False, bbox_to_anchor=(0.5, 0.0))
    return figure_svg(fig, salt)


def drill_chart(
    scenario: str,
    bins: Bins | None,
    steps: Sequence[Step],
    t_fault: float | None,
    first_good: float | None,
    observed_s: float | None,
    bands: Sequence[PhaseBand] = (),
    zoom_bins: Bins | None = None,
) -> Chart:
    """The timeline chart of one scenario (from its binned history), or why it cannot be drawn.

    The bins are relative to the fault's start, or to the load's start when no fault was
    injected (drills.measure.evaluate).
    """
    if bins is None:
        return Chart(None, "no op history could be read")
    if not bins.start_s:
        return Chart(None, "the op history is empty: the workload recorded no operation")
    t0 = bins.t0
    x_label = "seconds relative to the fault start" if t_fault is not None else \
        "seconds since the load started (no fault was injected)"
    markers = step_markers(steps, t0)
    outage = None
    if t_fault is not None and first_good is not None:
        markers.append(Marker("first good probe", first_good - t0, "#2e7d32", "-."))
        outage = (0.0, first_good - t0)
    elif t_fault is not None and observed_s:
        outage = (0.0, observed_s)
    width = _width_text(bins.width_s)
    title = f"{scenario}: operations in {width} bins"
    if outage is not None and first_good is None:
        title += " (no probe passed while watched)"
    svg = timeline_svg(title, bins, markers, outage, x_label, salt=scenario, bands=bands,
                       zoom_bins=zoom_bins)
    return Chart(svg, f"{bins.operations} operations from the op history, {width} bins; "
                      "p99 per bin within 3 %")


def _width_text(width_s: float) -> str:
    return f"{width_s * 1000:.0f} ms" if width_s < 1 else f"{width_s:g} s"
