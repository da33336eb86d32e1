"""Reading a plan file: its ``version:`` key chooses the reader, here and nowhere else.

Version 1 (drills.plan.reader) names built-in drills and their targets; version 2
(drills.plan.reader_v2) adds the team's stack, backups, procedures and scenarios. Neither
reader knows the other exists: this module reads the file, checks the version and hands
the tree to the reader of that version.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from pathlib import Path
from typing import Any

from drills.errors import PlanError
from drills.plan.model import Plan
from drills.plan.reader import PlanReader, shown
from drills.plan.strict_yaml import load_tree, read_plan_bytes

#: the plan versions this drills reads; a plan without ``version:`` is version 1
VERSIONS = (1, 2)


def default_plan_path() -> Path:
    """The plan that ships with drills and covers every scenario."""
    return Path(__file__).resolve().parent.parent / "plans" / "default.yaml"


def load_plan(path: Path | str | None = None) -> Plan:
    """Read and validate a plan file; raise PlanError on the first problem."""
    if path is None:
        path = default_plan_path()
    elif str(path).strip() == "":
        raise PlanError("(empty path)", "(file)", "the plan path is empty; give a file, or "
                        "leave the option out for the default plan")
    path = Path(path)
    data = read_plan_bytes(path)
    plan = plan_of(path, load_tree(path, data), hashlib.sha256(data).hexdigest())
    return replace(plan, source=data)


def plan_of(path: Path, tree: Any, sha256: str) -> Plan:
    """The plan in ``tree`` (the file's plain data), read by the reader of its version."""
    version = tree.get("version", 1) if isinstance(tree, dict) else 1
    if type(version) is not int or version not in VERSIONS:
        raise PlanError(path, "version", f"unsupported plan version {shown(version)}; "
                        "allowed: 1 or 2 (an integer)")
    if version == 2:
        # imported here: version 2 brings the service kinds' registry, which `import
        # drills.plan` (every `drill` command, the pytest plugin) need not pay for
        from drills.plan.reader_v2 import PlanV2Reader

        return PlanV2Reader(path).plan_v2(tree, sha256)
    return PlanReader(path).plan_v1(tree, sha256)
