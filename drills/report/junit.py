"""The JUnit XML report: one test case per scenario, so CI can gate on drills."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from drills.measure.evaluate import DrillResult
from drills.measure.verdict import TargetCheck, Verdict
from drills.report.summary import iso_utc

#: Scalar figures of DrillResult.to_dict() copied into each test case's <properties>.
PROPERTIES = (
    "verdict", "probed_service", "store_service", "rto_s", "rto_resolution_s", "rpo_s",
    "acked_writes", "lost_writes", "unknown_writes", "probe_interval_s",
    "probe_interval_achieved_s", "fault_at",
)


def _value(value: Any) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return repr(round(value, 6))
    return str(value)


def _row(check: TargetCheck) -> str:
    text = f"{check.title}: measured {check.measured}, target {check.target}"
    if check.resolution:
        text += f" (resolution {check.resolution})"
    return text + (f": {check.reason}" if check.reason else "")


def _details(result: DrillResult) -> str:
    """Every verdict row, finding and error: the body of a failure or an error."""
    lines = [f"[{c.verdict}] {_row(c)}" for c in result.checks]
    lines += [f"finding {f.code} ({f.kind.severity}): {f.message}" for f in result.findings]
    lines += [f"error: {e}" for e in result.errors]
    return "\n".join(lines)


def _testcase(result: DrillResult, duration_s: float | None) -> ET.Element:
    case = ET.Element("testcase", {
        "classname": f"drills.{result.runtime}",
        "name": result.scenario,
        "time": f"{duration_s or 0.0:.3f}",
    })
    props = ET.SubElement(case, "properties")
    summary = result.to_dict()
    for key in PROPERTIES:
        ET.SubElement(props, "property", {"name": key, "value": _value(summary.get(key))})
    for finding in result.findings:
        ET.SubElement(props, "property", {"name": "finding", "value": finding.code})
    if result.verdict == Verdict.FAIL:
        failed = [c for c in result.checks if c.verdict == Verdict.FAIL]
        message = "; ".join(_row(c) for c in failed)
        node = ET.SubElement(case, "failure", {"message": message, "type": "target-missed"})
        node.text = _details(result)
    elif result.verdict != Verdict.PASS:
        # Rule 8: a check that could not run is reported as an error, never as a pass.
        unverified = [c for c in result.checks if c.verdict != Verdict.PASS]
        message = "; ".join(_row(c) for c in unverified) or "no target was checked"
        node = ET.SubElement(case, "error", {"message": message, "type": "could-not-verify"})
        node.text = _details(result)
    out = ET.SubElement(case, "system-out")
    out.text = _details(result)
    return case


def build_junit(
    results: Sequence[DrillResult],
    durations: Sequence[float | None],
    meta: Mapping[str, Any],
) -> ET.ElementTree[ET.Element]:
    """A <testsuites> document holding the single "drills" suite."""
    failures = sum(1 for r in results if r.verdict == Verdict.FAIL)
    errors = sum(1 for r in results if r.verdict not in (Verdict.FAIL, Verdict.PASS))
    total = sum(d or 0.0 for d in durations)
    counts = {"tests": str(len(results)), "failures": str(failures), "errors": str(errors),
              "skipped": "0", "time": f"{total:.3f}"}
    root = ET.Element("testsuites", {"name": "drills", **counts})
    suite = ET.SubElement(root, "testsuite", {"name": "drills", **counts})
    started = iso_utc(meta.get("started_wall"))
    if started:
        suite.set("timestamp", started)
    props = ET.SubElement(suite, "properties")
    plan = meta.get("plan") or {}
    for name, value in (("run_id", meta.get("run_id")), ("runtime", meta.get("runtime")),
                        ("plan", plan.get("path")), ("plan_sha256", plan.get("sha256")),
                        ("command", meta.get("command"))):
        ET.SubElement(props, "property", {"name": name, "value": _value(value)})
    for result, duration in zip(results, durations, strict=True):
        suite.append(_testcase(result, duration))
    return ET.ElementTree(root)


def junit_bytes(
    results: Sequence[DrillResult],
    durations: Sequence[float | None],
    meta: Mapping[str, Any],
) -> bytes:
    """The junit.xml document, as it is written."""
    tree = build_junit(results, durations, meta)
    ET.indent(tree)
    data: bytes = ET.tostring(tree.getroot(), encoding="utf-8", xml_declaration=True)
    return data


def write_junit(
    path: Path,
    results: Sequence[DrillResult],
    durations: Sequence[float | None],
    meta: Mapping[str, Any],
) -> Path:
    path.write_bytes(junit_bytes(results, durations, meta))
    return path
