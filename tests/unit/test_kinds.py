"""The kinds registry: one package per kind, and no kind matched outside its package."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest
import yaml

from drills import kinds
from drills.errors import UnknownKind, UsageError
from drills.kinds.postgres.settings import PostgresSettings
from drills.runtime.compose_file import template_path

DRILLS = Path(kinds.__file__).resolve().parents[1]


def test_unknown_kind_names_itself_and_the_known_kinds() -> None:
    with pytest.raises(UnknownKind) as info:
        kinds.get("mongo")
    assert "'mongo'" in str(info.value)
    assert "postgres, redis" in str(info.value)
    with pytest.raises(UnknownKind, match="object"):
        kinds.of_settings(object())


def test_settings_find_their_kind() -> None:
    assert kinds.of_settings(PostgresSettings()).name == "postgres"
    assert [k.name for k in kinds.all_kinds()] == list(kinds.names())


def kind_literals(source: str, names: set[str]) -> list[tuple[int, str]]:
    """(line, name) wherever ``source`` compares with, or keys a mapping on, a kind's name."""
    found = []
    for node in ast.walk(ast.parse(source)):
        literals: list[ast.expr] = []
        if isinstance(node, ast.Compare):
            literals = [node.left, *node.comparators]
            for side in list(literals):
                if isinstance(side, ast.Tuple | ast.List | ast.Set):
                    literals.extend(side.elts)
        elif isinstance(node, ast.Dict):
            literals = [k for k in node.keys if k is not None]
        elif isinstance(node, ast.MatchValue):
            literals = [node.value]
        found += [(lit.lineno, lit.value) for lit in literals
                  if isinstance(lit, ast.Constant) and lit.value in names]
    return found


def test_no_kind_is_matched_outside_its_package() -> None:
    names = set(kinds.names())
    own = [DRILLS / "kinds" / name for name in names]
    matches = []
    for path in sorted(DRILLS.rglob("*.py")):
        if path == DRILLS / "kinds" / "__init__.py" or any(path.is_relative_to(p) for p in own):
            continue  # the registry (one line per kind) and the kinds' own packages
        matches += [f"{path.relative_to(DRILLS)}:{line}: {name!r}"
                    for line, name in kind_literals(path.read_text(), names)]
    assert matches == []


def test_the_check_above_catches_kind_matching() -> None:
    names = set(kinds.names())
    assert len(kind_literals("x = 1 if kind == 'postgres' else {'redis': 2}", names)) == 2
    assert len(kind_literals("ok = kind in ('postgres', 'redis')", names)) == 2
    assert kind_literals("pg = stack['postgres']", names) == []  # a service's name


def test_kind_packages_import_no_driver() -> None:
    # the Locust child imports the registry before gevent patches the standard library
    code = ("import sys, importlib; from drills import kinds; kinds.all_kinds(); "
            "[importlib.import_module(f'drills.kinds.{k}.local') for k in kinds.names()]; "
            "print(sorted((kinds.driver_modules() | {'psycopg', 'redis', 'aiohttp'}) "
            "& sys.modules.keys()))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert done.stdout.strip() == "[]"


def test_every_kind_has_a_template_image_and_sources() -> None:
    compose = yaml.safe_load(template_path().read_text())
    for kind in kinds.all_kinds():
        template = compose["services"][kind.name]
        assert template["image"] == f"${{DRILLS_{kind.name.upper()}_IMAGE:-{kind.default_image}}}"
        sources = kind.image_sources()
        assert sources is not None
        for name in ("Dockerfile", "build-rootfs.sh", "image.env"):
            assert (sources / name).is_file(), (kind.name, name)
        if "COPY docker-entrypoint.sh" in (sources / "Dockerfile").read_text():
            assert (sources / "docker-entrypoint.sh").is_file(), kind.name
        assert (kind.offline_image() or "").startswith(f"drills/{kind.name}:")


def test_every_kind_package_is_complete() -> None:
    import importlib

    for kind in kinds.all_kinds():
        package = type(kind).__module__
        for module, functions in kind.MODULES.items():
            loaded = importlib.import_module(f"{package}.{module}")
            missing = [f for f in functions if not callable(getattr(loaded, f, None))]
            assert missing == [], (kind.name, module, missing)
        if "store" in kind.MODULES:
            assert isinstance(kind.store().source, str)
        assert kind.title and kind.default_image


def test_every_catalogue_scenario_names_a_registered_kind() -> None:
    from drills.catalogue import CATALOGUE

    for info in CATALOGUE.values():
        assert kinds.get(info.kind).name == info.kind


def test_a_kind_without_a_module_says_which() -> None:
    from drills.errors import StackError
    from drills.kinds.base import ServiceKind

    class Hollow(ServiceKind):
        name, title, default_image, driver_modules = "hollow", "Hollow", "none", ()
        settings_type = PostgresSettings

    hollow = Hollow()
    hollow._package = lambda: importlib.import_module("drills.kinds")  # type: ignore[method-assign]
    with pytest.raises(StackError, match=r"has no compose\.py"):
        hollow.compose("x", PostgresSettings(), None)  # type: ignore[arg-type]


def test_image_names_follow_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    pg = kinds.get("postgres")
    monkeypatch.delenv("DRILLS_POSTGRES_IMAGE", raising=False)
    monkeypatch.delenv("DRILLS_IMAGES", raising=False)
    assert pg.image() == "postgres:15"
    monkeypatch.setenv("DRILLS_IMAGES", "offline")
    assert pg.image() == "drills/postgres:15"
    monkeypatch.setenv("DRILLS_POSTGRES_IMAGE", "registry.example/pg:15.9")
    assert pg.image() == "registry.example/pg:15.9"
    monkeypatch.delenv("DRILLS_POSTGRES_IMAGE")
    monkeypatch.setenv("DRILLS_IMAGES", "bogus")
    with pytest.raises(UsageError, match="DRILLS_IMAGES=bogus"):
        pg.image()


def test_every_catalogue_scenario_names_the_kinds_its_stack_uses() -> None:
    from drills.catalogue import CATALOGUE
    from drills.plan import load_plan
    from drills.runtime.choose import kinds_needed

    for info in CATALOGUE.values():
        assert all(kinds.get(k).name == k for k in info.more_kinds)
    assert kinds_needed(load_plan(), ["patroni-failover"]) == {"patroni", "etcd", "haproxy"}


@pytest.mark.parametrize("name", kinds.names())
def test_a_local_server_restarts_with_its_kinds_overrides(name: str) -> None:
    """drills.stack cannot ask the registry: each local service class gives its kind's."""
    from drills.errors import StackError
    from drills.stack.local_service import LocalService

    def said(override_args: Callable[[Mapping[str, str]], list[str]]) -> list[str] | str:
        try:
            return override_args({"appendonly": "no"})
        except StackError as exc:
            return str(exc)

    module = importlib.import_module(f"drills.kinds.{name}.local")
    made = [c for c in vars(module).values() if isinstance(c, type)
            and issubclass(c, LocalService) and c.__module__ == module.__name__]
    assert made, f"{module.__name__} defines no LocalService"
    for cls in made:
        server = object.__new__(cls)  # its arguments, not a server: nothing is started
        assert said(server.override_args) == said(kinds.get(name).override_args)
