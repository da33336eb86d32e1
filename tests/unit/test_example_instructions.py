"""Issue 20 item 6: the ventra example's instructions are complete for a host-network engine.

On an engine without a bridge network (drills' own machines: `dockerd --bridge=none`) every
variable of its compose file whose default only works on a bridge (the network mode, a
bind address of `*` or `0.0.0.0`, a service name as a host) must be set, as the seed 000
integration test sets them; the comments of the plan and of the compose file said two of
them (VENTRA_NETWORK_MODE, VENTRA_BIND) and not VENTRA_DB_HOST and VENTRA_REDIS_HOST.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
VENTRA = REPO / "examples" / "ventra"
REFERENCE = re.compile(r"\$\{([A-Z][A-Z0-9_]*)(?::?-([^}]*))?\}")
HOST_VALUES = {"VENTRA_NETWORK_MODE": "host", "VENTRA_BIND": "127.0.0.1",
               "VENTRA_DB_HOST": "127.0.0.1", "VENTRA_REDIS_HOST": "127.0.0.1",
               "DRILLS_IMAGES": "offline"}  # tests/integration/test_own_stack.py, seed 000


def comment_of(path: Path) -> str:
    """The file's comment lines, without their ``#``."""
    return "\n".join(line.strip()[1:].removeprefix(" ") for line in path.read_text().splitlines()
                     if line.strip().startswith("#"))


def exports(comment: str) -> dict[str, str]:
    """NAME=value of every ``export`` the comment tells the reader to run."""
    found: dict[str, str] = {}
    for line in comment.replace("\\\n", " ").splitlines():
        if line.strip().startswith("export "):
            found.update(re.findall(r"\b([A-Z][A-Z0-9_]*)=(\S+)", line))
    return found


def bridge_only() -> set[str]:
    """The compose file's variables whose default works only on a bridge network."""
    text = (VENTRA / "compose.yaml").read_text()
    services = set(yaml.safe_load(text)["services"])
    return {name for name, default in REFERENCE.findall(text)
            if default in ({"bridge", "*", "0.0.0.0"} | services)}


def test_the_bridge_only_variables_are_the_ones_the_seed_test_sets() -> None:
    assert bridge_only() == {n for n in HOST_VALUES if n.startswith("VENTRA_")}


def test_the_plan_and_the_compose_file_say_every_one_for_a_host_network() -> None:
    for path in (VENTRA / "drill-plan.yaml", VENTRA / "compose.yaml"):
        comment = comment_of(path)
        said = exports(comment)
        assert {n: said.get(n) for n in HOST_VALUES} == HOST_VALUES, (path.name, said)
        for port in ("VENTRA_DB_PORT", "VENTRA_REDIS_PORT", "VENTRA_API_PORT",
                     "VENTRA_WORKER_PORT"):  # on the host itself: moved if taken
            assert port in comment, (path.name, port)
