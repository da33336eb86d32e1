"""The compose preflight asks only for the images of the scenarios selected."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from drills import kinds
from drills.errors import UsageError
from drills.plan import load_plan
from drills.runtime import choose
from drills.stack import engine


class _Images:
    def __init__(self, present: set[str]) -> None:
        self.present = present

    def get(self, image: str) -> object:
        if image not in self.present:
            raise LookupError(f"No such image: {image}")
        return object()


class _Engine:
    """A Docker engine holding the PostgreSQL and Redis images only (no Toxiproxy, no app)."""

    def __init__(self) -> None:
        self.images = _Images({kinds.get("postgres").image(), kinds.get("redis").image()})

    def version(self) -> dict[str, str]:
        return {"Version": "20.10.24"}

    class networks:  # the SDK's attribute
        @staticmethod
        def list(names: Any) -> list[Any]:
            return []

    def close(self) -> None:
        pass


@pytest.fixture
def partial_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine, "client", lambda timeout=10: _Engine())
    monkeypatch.setattr(engine, "compose_version", lambda: "2.24.0")


def test_a_postgres_drill_needs_only_the_postgres_image(partial_engine: None) -> None:
    plan = load_plan()  # the default plan
    needed = choose.kinds_needed(plan, ["postgres-kill"])
    assert needed == {"postgres"}
    assert choose.resolve("compose", needed)[0] == "compose"  # before: refused
    assert choose.resolve("auto", needed)[0] == "compose"
    assert choose.kinds_needed(plan, ["postgres-kill", "redis-kill"]) == {"postgres", "redis"}


def test_an_app_drill_needs_every_image(partial_engine: None) -> None:
    plan = load_plan()
    assert choose.kinds_needed(plan, ["postgres-kill", "app-postgres-kill"]) is None
    with pytest.raises(UsageError, match=r"--runtime compose cannot run: .*"
                       + kinds.get("toxiproxy").image().replace(".", r"\.")):
        choose.resolve("compose", None)
    assert choose.resolve("auto", None)[0] == "local"


def test_a_plan_stack_needs_the_images_of_its_built_in_servers(
    partial_engine: None, tmp_path: Path
) -> None:
    plan = tmp_path / "plan.yaml"
    plan.write_text("""\
version: 2
stack:
  services:
    db: {kind: postgres}
scenarios:
  db-kill:
    fault: {kill: db}
    recovery: [{restart: db}]
    ledger: db
    targets: {rto: 30s, max_lost_writes: 0}
""")
    assert choose.kinds_needed(load_plan(plan), ["db-kill"]) == {"postgres"}


def test_a_scenario_is_refused_on_a_runtime_it_does_not_run_on(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import dataclasses

    from drills import catalogue
    from drills.runtime.choose import refused_on

    plan = load_plan()
    assert refused_on("compose", plan, plan.scenarios) == []  # every built-in runs anywhere
    only_local = dataclasses.replace(catalogue.CATALOGUE["postgres-kill"], runtimes=("local",))
    monkeypatch.setattr(catalogue, "CATALOGUE",
                        {**catalogue.CATALOGUE, "postgres-kill": only_local})
    assert refused_on("compose", plan, ["postgres-kill", "redis-kill"]) == \
        ["postgres-kill runs on the local runtime only"]
    assert refused_on("local", plan, ["postgres-kill"]) == []
