"""Fuzzing the plan loader: whatever the file holds, load_plan returns a Plan or raises
PlanError, quickly, with a short message free of control characters.

CI runs a small budget; a longer run is one variable away:

    DRILLS_FUZZ_EXAMPLES=20000 .venv/bin/python -m pytest tests/unit/test_plan_fuzz.py
"""

from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drills.errors import PlanError
from drills.plan import default_plan_path, load_plan

EXAMPLES = int(os.environ.get("DRILLS_FUZZ_EXAMPLES", "150"))
HANG_S = 60.0
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize="DRILLS_FUZZ_SEED" not in
                os.environ, suppress_health_check=[HealthCheck.too_slow,
                                                   HealthCheck.data_too_large])

REPO = Path(__file__).resolve().parents[2]
SEEDS = [default_plan_path().read_text(), *(p.read_text() for p in
                                           sorted((REPO / "fixtures" / "plans").glob("*.yaml")))]
KEYS = ["version", "name", "description", "defaults", "scenarios", "workload", "probe",
        "recovery_timeout", "targets", "params", "rto", "rpo", "max_lost_writes", "users",
        "rate", "warmup", "hold", "interval", "timeout", "freeze_s", "delete_count",
        "snapshot_every_s", "postgres-kill", "postgres-freeze", "silent-loss", "redis-kill",
        "redis-kill-rdb", "postgres-kill-async-commit"]
TOKENS = ["!!int", "!!float", "!!bool", "!!timestamp", "!!binary", "!!python/object:os.system",
          "!!str", "&a", "*a", "<<:", "? ", "[", "]", "{", "}", ": ", "- ", "\n", "\t", "'", '"',
          ".nan", ".inf", "-.inf", "030", "0x1f", "1:30", "1_000", "1e400", "9" * 40, "yes",
          "~", "null", "%YAML 1.1\n---\n", "---\n", "...\n", "\x00", "\x1b[31m", "\ufeff",
          "2001-13-45", "30s", "0ms", "15m", "4h", "-1", "true"]


@contextmanager
def plan_file() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="drills-fuzz-") as tmp:
        yield Path(tmp) / "plan.yaml"


def check(path: Path) -> None:
    """load_plan returns or raises PlanError with a short, printable message; never hangs."""
    outcome: list[BaseException | None] = []

    def load() -> None:
        try:
            load_plan(path)
            outcome.append(None)
        except BaseException as exc:
            outcome.append(exc)

    worker = threading.Thread(target=load, daemon=True)
    worker.start()
    worker.join(HANG_S)  # a hang detector, not a speed test: speed belongs to benchmarks
    assert outcome, f"load_plan did not return within {HANG_S} s"
    exc = outcome[0]
    if exc is None:
        return
    assert isinstance(exc, PlanError), f"{type(exc).__name__}: {exc}"
    message = str(exc)
    assert len(message) < 1500, message[:300]
    assert not any(ord(c) < 0x20 or 0x7f <= ord(c) < 0xa0 for c in message), repr(message)


scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.integers(min_value=10**18, max_value=10**400),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=30),
    st.sampled_from(["30s", "150ms", "15m", "4h", "0", "030", "1:30", "-5s", "1e400", "nan"]),
)
trees: st.SearchStrategy[Any] = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(st.sampled_from(KEYS), st.text(max_size=10)), inner,
                        max_size=5),
    ),
    max_leaves=40,
)


@FUZZ
@given(tree=trees)
def test_plan_shaped_trees(tree: Any) -> None:
    try:
        text = yaml.safe_dump(tree, allow_unicode=True)
    except (yaml.YAMLError, OverflowError, ValueError):
        return
    with plan_file() as path:
        path.write_text(text, encoding="utf-8")
        check(path)


@FUZZ
@given(seed=st.sampled_from(SEEDS), edits=st.lists(st.tuples(
    st.floats(min_value=0, max_value=1), st.integers(min_value=0, max_value=40),
    st.one_of(st.sampled_from(TOKENS), st.text(max_size=8))), min_size=1, max_size=6))
def test_mutated_yaml_text(seed: str, edits: list[tuple[float, int, str]]) -> None:
    text = seed
    for where, cut, insert in edits:
        at = int(where * len(text))
        text = text[:at] + insert + text[at + cut:]
    with plan_file() as path:
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        check(path)


@FUZZ
@given(seed=st.sampled_from(SEEDS), noise=st.binary(min_size=1, max_size=64),
       where=st.floats(min_value=0, max_value=1))
def test_mutated_bytes(seed: str, noise: bytes, where: float) -> None:
    data = seed.encode()
    at = int(where * len(data))
    with plan_file() as path:
        path.write_bytes(data[:at] + noise + data[at:])
        check(path)
