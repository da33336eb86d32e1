"""JSON lines as drills appends them: a torn last line (its writer died) is skipped."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from drills.errors import HistoryError


def json_lines(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield (line number, record); a malformed line is an error unless it is a torn tail.

    A torn tail is a last line without its newline: the writer died while writing it.
    """
    try:
        with open(path, encoding="utf-8") as f:
            for number, line in enumerate(f, start=1):
                if not line.strip():
                    continue
                try:
                    yield number, json.loads(line)
                except json.JSONDecodeError as exc:
                    if not line.endswith("\n"):
                        return
                    raise HistoryError(f"{path}:{number}: not a JSON record ({exc})") from exc
    except OSError as exc:
        raise HistoryError(f"cannot read {path}: {exc}") from exc
