"""The trend chart of one scenario: RTO and RPO across the plan's runs, with the targets."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from drills.report.svg import figure_svg
from drills.trends.store import Point

_VERDICT_COLOURS = {"pass": "#2e7d32", "fail": "#c62828"}
_CNV_COLOUR = "#ef6c00"


def _label(point: Point) -> str:
    return datetime.fromtimestamp(point.started_wall, tz=UTC).strftime("%m-%d\n%H:%M")


def trend_svg(scenario: str, points: Sequence[Point]) -> str | None:
    """Two panels side by side (RTO, RPO window), one marker per run; None without points."""
    if not points:
        return None
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    fig = Figure(figsize=(11, 2.9))
    xs = list(range(len(points)))
    colours = [_VERDICT_COLOURS.get(p.verdict, _CNV_COLOUR) for p in points]
    for i, (key, target_key, title) in enumerate(
            (("rto_s", "rto_target_s", "RTO"), ("rpo_s", "rpo_target_s", "RPO window"))):
        ax = fig.add_axes((0.07 + i * 0.49, 0.3, 0.41, 0.55))
        values = [getattr(p, key) for p in points]
        shown = [(x, v, c) for x, v, c in zip(xs, values, colours, strict=True) if v is not None]
        if shown:
            ax.plot([x for x, _, _ in shown], [v for _, v, _ in shown], color="#555555",
                    linewidth=1, zorder=1)
            ax.scatter([x for x, _, _ in shown], [v for _, v, _ in shown],
                       c=[c for _, _, c in shown], s=28, zorder=2)
        targets = [getattr(p, target_key) for p in points]
        if any(t is not None for t in targets):
            ax.step(xs, [float("nan") if t is None else t for t in targets], where="mid",
                    color="#c62828", linestyle="--", linewidth=1, label="target")
            ax.legend(loc="upper left", fontsize=8, frameon=False)
        missing = len(points) - len(shown)
        ax.set_title(f"{title} (s) across {len(points)} run(s)"
                     + (f"; {missing} without a figure" if missing else ""),
                     loc="left", fontsize=10)
        ax.set_xticks(xs, [_label(p) for p in points], fontsize=7)
        ax.set_xlim(-0.5, len(points) - 0.5)
        ax.set_ylim(bottom=0)
        ax.grid(axis="y", color="#dddddd", linewidth=0.6)
    fig.text(0.07, 0.02, "marker colour: green pass, red fail, orange could not verify; "
             "the last marker is this run (UTC start times)", fontsize=8, color="#444444")
    return figure_svg(fig, f"trend-{scenario}")
