"""Malformed and surprising plan files: each is a PlanError naming the file and the key.

Every case here crashed, hung, read without limit or was silently accepted before the
plan loader was hardened (issue 6); the comment on a case says which.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from drills.errors import PlanError
from drills.plan import load_plan
from drills.plan.strict_yaml import MAX_BYTES

SCENARIO = "scenarios:\n  postgres-kill:\n    targets: {rto: 30s}\n"


def write(tmp_path: Path, text: str, name: str = "plan.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def refuse(path: Path, timeout_s: float = 10.0) -> PlanError:
    """Load ``path`` in a thread: a hang fails the test instead of blocking the suite."""
    outcome: dict[str, BaseException] = {}

    def run() -> None:
        try:
            load_plan(path)
        except BaseException as exc:
            outcome["exc"] = exc

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(timeout_s)
    assert not worker.is_alive(), f"load_plan({path}) hung"
    exc = outcome.get("exc")
    assert isinstance(exc, PlanError), f"expected PlanError, got {exc!r}"
    assert str(path)[:60] in str(exc)
    assert len(str(exc)) < 1500
    return exc


@pytest.mark.parametrize(("text", "key", "hint"), [
    # crashed: OverflowError in float()
    ("scenarios:\n  postgres-kill:\n    targets: {rto: " + "9" * 400 + "}\n",
     "scenarios.postgres-kill.targets.rto", "too large"),
    ("scenarios:\n  postgres-kill:\n    targets: {rto: 1e400}\n",
     "scenarios.postgres-kill.targets.rto", "too large"),
    # crashed: ValueError from the timestamp constructor; now plain text, not a duration
    ("scenarios:\n  postgres-kill:\n    targets: {rto: 2001-13-45}\n",
     "scenarios.postgres-kill.targets.rto", "cannot read duration"),
    # crashed: constructor errors that are not YAMLError
    ("scenarios:\n  postgres-kill:\n    targets: {rto: !!int abc}\n",
     "scenarios.postgres-kill.targets.rto", "not a valid !!int"),
    ("scenarios:\n  postgres-kill:\n    targets: {rto: !!bool maybe}\n",
     "scenarios.postgres-kill.targets.rto", "not a valid !!bool"),
    ("scenarios:\n  postgres-kill:\n    targets: {rto: !!timestamp nope}\n",
     "scenarios.postgres-kill.targets.rto", "!!timestamp"),
    ("!!int ", "(top level)", "not a valid !!int"),
    ("scenarios: !!python/object:os.system {}\n", "scenarios", "not allowed"),
    # crashed: RecursionError
    ("scenarios: " + "[" * 5000 + "]" * 5000 + "\n", "(file)", "levels deep"),
    ("scenarios: " + "{a: " * 3000 + "1" + "}" * 3000 + "\n", "(file)", "levels deep"),
    # accepted: NaN and infinity
    ("scenarios:\n  postgres-kill:\n    targets: {rto: .nan}\n",
     "scenarios.postgres-kill.targets.rto", "finite"),
    ("scenarios:\n  postgres-kill:\n    targets: {rpo: .inf}\n",
     "scenarios.postgres-kill.targets.rpo", "finite"),
    ("defaults:\n  workload: {rate: .NaN}\n" + SCENARIO, "defaults.workload.rate", "finite"),
    ("scenarios:\n  postgres-freeze:\n    params: {freeze_s: -.inf}\n    targets: {rto: 1m}\n",
     "scenarios.postgres-freeze.params.freeze_s", "finite"),
    # accepted: probe timeouts that cannot work, a recovery that may not take any time
    ("defaults:\n  probe: {timeout: 0}\n" + SCENARIO, "defaults.probe.timeout", "more than 0"),
    ("defaults:\n  probe: {interval: 1s, timeout: 100ms}\n" + SCENARIO,
     "defaults.probe.timeout", "below the probe interval"),
    ("defaults:\n  recovery_timeout: 0\n" + SCENARIO, "defaults.recovery_timeout",
     "more than 0"),
    # accepted: zero-count parameters
    ("scenarios:\n  silent-loss:\n    params: {delete_count: 0}\n    targets: {rto: 10s}\n",
     "scenarios.silent-loss.params.delete_count", "more than 0"),
    ("scenarios:\n  redis-kill-rdb:\n    params: {snapshot_every_s: 0}\n    targets: {rpo: 1m}\n",
     "scenarios.redis-kill-rdb.params.snapshot_every_s", "more than 0"),
    ("scenarios:\n  postgres-freeze:\n    params: {freeze_s: 0}\n    targets: {rto: 1m}\n",
     "scenarios.postgres-freeze.params.freeze_s", "more than 0"),
    # accepted: duplicate keys (the later silently won; a second scenarios: dropped some)
    (SCENARIO + "scenarios:\n  redis-kill:\n    targets: {rto: 30s}\n", "scenarios",
     "duplicate key"),
    ("scenarios:\n  postgres-kill:\n    targets: {rto: 30s, rto: 1h}\n",
     "scenarios.postgres-kill.targets.rto", "duplicate key"),
    # accepted: versions that are not the integer 1
    ("version: true\n" + SCENARIO, "version", "allowed: 1"),
    ("version: 1.0\n" + SCENARIO, "version", "allowed: 1"),
    ("version: '1'\n" + SCENARIO, "version", "allowed: 1"),
    # accepted: a description that is not text, control characters in the name
    ("description: [a, b]\n" + SCENARIO, "description", "must be text"),
    ("name: \"shop\\x07\"\n" + SCENARIO, "name", "control characters"),
    ("name: \"shop\\nfake: line\"\n" + SCENARIO, "name", "control characters"),
    # accepted: a drill that cannot fail, and one that cannot pass
    ("scenarios:\n  postgres-kill: {}\n", "scenarios.postgres-kill.targets", "cannot fail"),
    ("scenarios:\n  postgres-kill:\n    targets: {}\n", "scenarios.postgres-kill.targets",
     "cannot fail"),
    ("scenarios:\n  postgres-kill:\n    targets: {max_lost_writes: null, rto: ~}\n",
     "scenarios.postgres-kill.targets", "cannot fail"),
    ("scenarios:\n  postgres-kill:\n    targets: {rto: 0}\n",
     "scenarios.postgres-kill.targets.rto", "can never pass"),
    ("scenarios:\n  postgres-kill:\n    targets: {rto: 0ms}\n",
     "scenarios.postgres-kill.targets.rto", "can never pass"),
    # accepted: YAML 1.1 surprises (030 read as octal 24, 1:30 as 90)
    ("scenarios:\n  postgres-kill:\n    targets: {rto: 030}\n",
     "scenarios.postgres-kill.targets.rto", "ambiguous"),
    ("scenarios:\n  postgres-kill:\n    targets: {rpo: 1:30}\n",
     "scenarios.postgres-kill.targets.rpo", "ambiguous"),
    ("scenarios:\n  postgres-kill:\n    targets: {max_lost_writes: 0x10}\n",
     "scenarios.postgres-kill.targets.max_lost_writes", "ambiguous"),
    ("defaults:\n  workload: {users: 1_000}\n" + SCENARIO, "defaults.workload.users",
     "ambiguous"),
    ("scenarios:\n  postgres-kill:\n    targets: {rto: yes}\n",
     "scenarios.postgres-kill.targets.rto", "cannot read duration"),
    # merge keys and complex keys
    ("base: &b {rto: 1s}\n" + SCENARIO, "base", "unknown key"),
    ("scenarios:\n  postgres-kill:\n    targets: {<<: {rto: 1s}}\n",
     "scenarios.postgres-kill.targets", "merge keys"),
    ("scenarios:\n  ? [a, b]\n  : {}\n", "scenarios", "complex keys"),
    ("scenarios:\n  1: {targets: {rto: 1s}}\n", "scenarios.1", "keys must be text"),
    # a recursive alias
    ("scenarios: &s\n  postgres-kill: *s\n", "scenarios.postgres-kill",
     "refers to the value that contains it"),
    ("", "scenarios", "at least one scenario"),
    ("just text\n", "(top level)", "must be a mapping"),
])
def test_malformed_plans(tmp_path: Path, text: str, key: str, hint: str) -> None:
    exc = refuse(write(tmp_path, text))
    assert exc.key == key, str(exc)
    assert hint in str(exc), str(exc)


def test_a_named_pipe_is_refused_without_waiting_for_a_writer(tmp_path: Path) -> None:
    fifo = tmp_path / "plan.yaml"
    os.mkfifo(fifo)
    assert "not a regular file" in str(refuse(fifo, timeout_s=5))


def test_devices_and_directories_are_refused() -> None:
    assert "not a regular file" in str(refuse(Path("/dev/zero"), timeout_s=5))
    assert "not a regular file" in str(refuse(Path("/tmp"), timeout_s=5))


def test_a_huge_file_is_refused_before_it_is_read(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    with open(path, "wb") as f:
        f.truncate(50 * 1024 * 1024)  # 50 MB, sparse
    assert f"({MAX_BYTES} bytes)" in str(refuse(path, timeout_s=5))


def test_an_alias_bomb_is_refused_and_its_message_stays_short(tmp_path: Path) -> None:
    # 10^8 values once expanded; printing it in the message took 21 s and 580 MB before
    parts = ["&a0 [x, x, x, x, x, x, x, x, x, x]"]
    parts += [f"&a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 8)]
    text = "scenarios:\n  postgres-kill:\n    targets:\n      rto: [" + ", ".join(parts) + "]\n"
    exc = refuse(write(tmp_path, text), timeout_s=10)
    assert "more than 10000 values" in str(exc)


def test_control_characters_never_reach_the_terminal(tmp_path: Path) -> None:
    text = 'scenarios:\n  "postgres-kill\\e[31m\\x9b2J": {targets: {rto: "\\e]0;owned\\a"}}\n'
    exc = refuse(write(tmp_path, text))
    message = str(exc)
    assert not any(ord(c) < 0x20 or 0x7f <= ord(c) < 0xa0 for c in message), repr(message)
    assert "\\x1b" in message


def test_a_file_name_with_control_characters_is_escaped(tmp_path: Path) -> None:
    exc = refuse(write(tmp_path, "scenarios: {}\n", name="plan\x1b[2J.yaml"))
    assert "\x1b" not in str(exc) and "\\x1b" in str(exc)


def test_an_empty_path_is_an_error_not_the_default_plan() -> None:
    with pytest.raises(PlanError, match="empty"):
        load_plan("")


def test_anchors_and_aliases_for_values_still_work(tmp_path: Path) -> None:
    plan = load_plan(write(tmp_path, """
scenarios:
  postgres-kill:
    targets: &strict {rto: 30s, rpo: 0s, max_lost_writes: 0}
  redis-kill:
    targets: *strict
"""))
    assert plan.scenario("redis-kill").targets == plan.scenario("postgres-kill").targets
    assert plan.scenario("redis-kill").targets.rto_s == 30.0


def test_yaml_1_2_booleans_and_numbers(tmp_path: Path) -> None:
    plan = load_plan(write(tmp_path, """
name: 'yes'
defaults:
  workload: {users: 4, rate: 2.5e3, warmup: 0.5}
scenarios:
  postgres-kill:
    targets: {rto: 1.5, rpo: 0, max_lost_writes: 0}
"""))
    assert plan.name == "yes"
    workload = plan.scenario("postgres-kill").workload
    assert (workload.users, workload.rate, workload.warmup_s) == (4, 2500.0, 0.5)
