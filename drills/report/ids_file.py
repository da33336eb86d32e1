"""ids.txt.gz: every id of each class of the write check, as ranges, beside the journal.

The report shows the first ranges of each class; this file holds them all, for an SRE
looking for a particular write and for an auditor. One range per line (``17`` or
``100..250``), under a header line per class. Gzip without a timestamp, so the file is the
same each time it is rendered from the same records.
"""

from __future__ import annotations

import gzip
import io
from pathlib import Path

from drills.measure.evaluate import DrillResult

FILE_NAME = "ids.txt.gz"
_MEANING = {
    "lost": "acknowledged, and absent after recovery",
    "recovered": "no answer came, and present after recovery",
    "unexpected": "present, yet never invoked or refused",
    "corrupted": "present with another value than was written",
    "missing_before_point": "lost although acknowledged before the backup's consistency point",
    "present_after_target": "invoked after the recovery target, and present",
}


def write_ids(root: Path, result: DrillResult) -> Path | None:
    """Write ``root``/ids.txt.gz for ``result``; None when no write check was made."""
    if result.writes is None:
        return None
    classes = dict(result.writes.classes())
    if result.restore is not None:
        classes["missing_before_point"] = result.restore.missing_before_point
        if result.restore.pitr is not None:
            classes["present_after_target"] = result.restore.pitr.present_after_target
    text = io.StringIO()
    text.write(f"# drills write check of {result.scenario}, run {result.run_id}: every id of "
               "each class, one range a line (a..b)\n")
    for name, ids in classes.items():
        ranges = ids.ranges()
        text.write(f"# {name}: {len(ids)} ids in {len(ranges)} ranges ({_MEANING[name]})\n")
        for first, last in ranges.tolist():
            text.write(f"{first}\n" if first == last else f"{first}..{last}\n")
    path = root / FILE_NAME
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw,
                                                mtime=0) as out:
        out.write(text.getvalue().encode())
    tmp.replace(path)
    return path


def read_ids(path: Path) -> dict[str, list[int]]:
    """Every id of each class in an ids.txt.gz (tests and tools)."""
    classes: dict[str, list[int]] = {}
    current: list[int] = []
    with gzip.open(path, "rt", encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line.startswith("# ") and ":" in line and not line.startswith("# drills"):
                current = classes.setdefault(line[2:line.index(":")], [])
            elif line and not line.startswith("#"):
                first, _, last = line.partition("..")
                current.extend(range(int(first), int(last or first) + 1))
    return classes
