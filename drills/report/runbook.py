"""The runbook an on-call engineer follows, written from the drill as it was executed.

Per scenario: the steps in order with what each did and the command it ran, and how long
each took in this drill (measured, monotonic clock), with the RTO phases beside them. The
same rows appear in the HTML report; ``runbook.md`` is the copy to paste into a wiki.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from drills.measure.evaluate import DrillResult
from drills.measure.verdict import fmt_s
from drills.record.timeline import Category, Step

FILE_NAME = "runbook.md"
#: the steps an operator does or sees; setup, load and teardown belong to the drill itself
RUNBOOK_CATEGORIES = (Category.BACKUP, Category.FAULT, Category.RECOVERY, Category.REVERT,
                      Category.CHECK)
#: a URL's password: after ``//user:`` (user may be empty) up to the last ``@`` of the host part
_URL_PASSWORD = re.compile(r"(//[^/\s:@]*):[^\s/]*@")
_SECRET_FLAG = re.compile(r"((?:--?|\b)[\w-]*(?:pass|secret|token)[\w-]*[= ])(\S+)",
                          re.IGNORECASE)


def redact(text: str) -> str:
    """Passwords in URLs and in ``--password=...`` style arguments, hidden."""
    text = _URL_PASSWORD.sub(r"\1:<redacted>@", text)
    return _SECRET_FLAG.sub(r"\1<redacted>", text)


def command_of(step: Step) -> str:
    """The command a step ran (the team's procedures record their argv), redacted."""
    command = step.data.get("command")
    if isinstance(command, Mapping) and command.get("argv"):
        return redact(" ".join(str(a) for a in command["argv"]))
    return ""


def runbook_rows(result: DrillResult, steps: Sequence[Step]) -> list[dict[str, str]]:
    origin = result.t_fault_mono
    rows: list[dict[str, str]] = []
    for step in steps:
        if step.category not in RUNBOOK_CATEGORIES:
            continue
        at = "" if origin is None else f"{step.start.mono - origin:+.3f} s"
        rows.append({
            "n": str(len(rows) + 1), "kind": str(step.category), "step": step.name,
            "how": redact(str(step.data.get("mechanism", ""))), "command": command_of(step),
            "at": at, "took": fmt_s(step.duration_s),
            "outcome": "ok" if step.ok else
            f"FAILED: {redact(str(step.data.get('error', 'did not end')))}",
        })
    return rows


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def runbook_markdown(results: Sequence[DrillResult], steps: Sequence[Sequence[Step]],
                     meta: Mapping[str, Any]) -> str:
    plan = meta.get("plan") or {}
    lines = [f"# Runbook from drill run {meta.get('run_id')}", "",
             f"Plan: {plan.get('name', 'n/a')} (`{plan.get('path', 'n/a')}`, sha256 "
             f"{plan.get('sha256', 'n/a')}). Every duration below was measured in this drill "
             "on the runtime named; a real incident adds the time to notice and decide.", ""]
    for result, done in zip(results, steps, strict=True):
        rto = "n/a" if result.rto is None else fmt_s(result.rto.seconds)
        lines += [f"## {result.scenario} ({result.verdict}, runtime {result.runtime})", "",
                  f"RTO measured: {rto}."]
        if result.rto is not None and result.rto.phases:
            lines.append("Phases: " + ", ".join(
                f"{p.name} {fmt_s(p.duration_s)}" for p in result.rto.phases) + ".")
        lines += ["", "| # | kind | step | how | command | at (from fault) | took | outcome |",
                  "|---|---|---|---|---|---|---|---|"]
        rows = runbook_rows(result, done)
        for r in rows:
            command = f"`{r['command']}`" if r["command"] else ""
            lines.append("| " + " | ".join(_cell(x) for x in (
                r["n"], r["kind"], r["step"], r["how"], command, r["at"], r["took"],
                r["outcome"])) + " |")
        if not rows:
            lines.append("| | | no step was recorded | | | | | |")
        lines.append("")
    return "\n".join(lines)


def write_runbook(path: Path, results: Sequence[DrillResult], steps: Sequence[Sequence[Step]],
                  meta: Mapping[str, Any]) -> None:
    tmp = path.with_suffix(".md.tmp")
    tmp.write_text(runbook_markdown(results, steps, meta), encoding="utf-8")
    tmp.replace(path)
