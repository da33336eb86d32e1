"""Reading a plan file as plain data, refusing anything surprising, with the key named.

A plan is read by a person and then by a machine; both must see the same thing. So:

- only a regular file of at most 1 MiB is read (never a pipe, a device or a huge file),
  opened without blocking;
- nesting deeper than 32 levels is refused before anything is built (PyYAML's composer
  recurses, so a deep file would otherwise end in RecursionError);
- scalars follow the YAML 1.2 core schema: ``true``/``false`` are booleans, numbers are
  decimal; ``yes``, ``030``, ``0x1f``, ``1:30`` and ``2001-13-45`` stay text, and the
  reader refuses the numeric-looking ones instead of guessing (YAML 1.1 reads ``030``
  as 24 and ``1:30`` as 90);
- values are built from the node tree here, not by PyYAML's constructors, so every
  problem names its key: a duplicate key, an explicit tag (``!!int abc``), a merge key, a
  recursive alias, or a file whose aliases expand to more than 10,000 values;
- any error message shows at most a few hundred characters of the file, with control
  characters escaped.

Everything that goes wrong raises PlanError (drills.errors); nothing else escapes.
"""

from __future__ import annotations

import math
import os
import re
import stat
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from drills.errors import PlanError, printable

MAX_BYTES = 1 << 20
MAX_DEPTH = 32
MAX_VALUES = 10_000

_CORE = "tag:yaml.org,2002:"
_BOOL = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")
_INT = re.compile(r"^[-+]?(?:0|[1-9][0-9]*)$")
_FLOAT = re.compile(
    r"^[-+]?(?:[0-9]+\.[0-9]*(?:[eE][-+]?[0-9]+)?|\.[0-9]+(?:[eE][-+]?[0-9]+)?"
    r"|[0-9]+[eE][-+]?[0-9]+|\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
)
_NULL = re.compile(r"^(?:~|null|Null|NULL|)$")


class _CoreResolver(yaml.resolver.Resolver):
    """YAML 1.2 core schema scalars only: no 1.1 octals, sexagesimals, yes/no, timestamps."""


_CoreResolver.yaml_implicit_resolvers = {}
for _tag, _regexp, _first in (
    ("bool", _BOOL, "tTfF"),
    ("int", _INT, "-+0123456789"),
    ("float", _FLOAT, "-+0123456789."),
    ("null", _NULL, ["~", "n", "N", ""]),
):
    _CoreResolver.add_implicit_resolver(_CORE + _tag, _regexp, list(_first))


class _Loader(yaml.reader.Reader, yaml.scanner.Scanner, yaml.parser.Parser,
              yaml.composer.Composer, _CoreResolver):
    """Composes nodes only; construction is ours (``_Builder``)."""

    def __init__(self, stream: bytes) -> None:
        yaml.reader.Reader.__init__(self, stream)
        yaml.scanner.Scanner.__init__(self)
        yaml.parser.Parser.__init__(self)
        yaml.composer.Composer.__init__(self)
        _CoreResolver.__init__(self)


def read_plan_bytes(path: Path) -> bytes:
    """The bytes of a plan file: a regular file, at most MAX_BYTES, read without blocking."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        raise PlanError(path, "(file)", f"cannot read the plan: {exc.strerror}") from exc
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_BYTES:
        os.close(fd)
        if not stat.S_ISREG(info.st_mode):
            raise PlanError(path, "(file)", "not a regular file (a pipe, device or directory "
                            "cannot be a plan)")
        raise PlanError(path, "(file)", f"{info.st_size} bytes is larger than a plan can "
                        f"be ({MAX_BYTES} bytes)")
    with os.fdopen(fd, "rb") as f:
        try:
            data = f.read(MAX_BYTES + 1)
        except OSError as exc:
            raise PlanError(path, "(file)", f"cannot read the plan: {exc.strerror}") from exc
    if len(data) > MAX_BYTES:
        raise PlanError(path, "(file)", f"larger than a plan can be ({MAX_BYTES} bytes)")
    return data


def load_tree(path: Path, data: bytes) -> Any:
    """The plan's YAML as plain Python data (dict, list, str, int, float, bool, None)."""
    try:
        _check_depth(path, data)
        loader = _Loader(data)
        try:
            root = loader.get_single_node()
        finally:
            loader.dispose()
    except PlanError:
        raise
    except yaml.YAMLError as exc:
        raise PlanError(path, "(file)", f"not valid YAML: {_short(exc)}") from None
    except RecursionError:
        raise PlanError(path, "(file)", "nested too deeply") from None
    except Exception as exc:  # the YAML library's own failures, at its boundary
        raise PlanError(path, "(file)",
                        f"not valid YAML: {type(exc).__name__}: {_short(exc)}") from None
    if root is None:
        return None
    return _Builder(path).build(root, "")


def _short(exc: BaseException) -> str:
    return printable(" ".join(str(exc).split()), limit=300)


def _check_depth(path: Path, data: bytes) -> None:
    """Refuse deep nesting from the event stream (iterative), before composing (recursive)."""
    depth = 0
    events = _Loader(data)
    try:
        while events.check_event():
            event = events.get_event()
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    mark = event.start_mark
                    where = f"line {mark.line + 1}" if mark is not None else "somewhere"
                    raise PlanError(path, "(file)",
                                    f"nested more than {MAX_DEPTH} levels deep ({where})")
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
    finally:
        events.dispose()


class _Builder:
    """Plain values from the node tree, naming the key of every problem."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.values = 0
        self.open: set[int] = set()

    def fail(self, key: str, problem: str) -> PlanError:
        return PlanError(self.path, key or "(top level)", problem)

    def build(self, node: Node, key: str) -> Any:
        self.values += 1
        if self.values > MAX_VALUES:
            raise self.fail(key, f"the file expands to more than {MAX_VALUES} values "
                            "(aliases of aliases?); a plan is much smaller")
        if id(node) in self.open:
            raise self.fail(key, "an alias refers to the value that contains it")
        if isinstance(node, ScalarNode):
            return self.scalar(node, key)
        self.open.add(id(node))
        try:
            if isinstance(node, SequenceNode):
                self.expect_tag(node, "seq", key)
                return [self.build(item, f"{key}[{i}]") for i, item in enumerate(node.value)]
            if isinstance(node, MappingNode):
                self.expect_tag(node, "map", key)
                return self.mapping(node, key)
        finally:
            self.open.discard(id(node))
        raise self.fail(key, f"unsupported YAML node {type(node).__name__}")

    def expect_tag(self, node: Node, tag: str, key: str) -> None:
        if node.tag != _CORE + tag:
            raise self.fail(key, f"tag {printable(node.tag, 60)} is not allowed in a plan")

    def mapping(self, node: MappingNode, key: str) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode) or key_node.tag == _CORE + "merge" or (
                    key_node.value == "<<" and key_node.style is None):
                raise self.fail(key, "merge keys (<<) and complex keys are not supported; "
                                "write the keys out")
            name = self.scalar(key_node, key)
            if not isinstance(name, str):
                raise self.fail(f"{key}.{name}" if key else str(name),
                                f"keys must be text, got {type(name).__name__} {name!r}")
            where = f"{key}.{name}" if key else name
            if name in out:
                line = key_node.start_mark.line + 1 if key_node.start_mark else "?"
                raise self.fail(where, f"duplicate key (again on line {line}); a later value "
                                "would silently replace the first")
            out[name] = self.build(value_node, where)
        return out

    def scalar(self, node: ScalarNode, key: str) -> Any:
        tag, value = node.tag, node.value
        if tag == _CORE + "str":
            return value
        if tag == _CORE + "null" and _NULL.match(value):
            return None
        if tag == _CORE + "bool" and _BOOL.match(value):
            return value.lower() == "true"
        if tag == _CORE + "int" and _INT.match(value) and len(value) <= 19:
            return int(value)
        if tag == _CORE + "int" and _INT.match(value):
            raise self.fail(key, f"the number {printable(value, 40)} is too large")
        if tag == _CORE + "float" and _FLOAT.match(value):
            number = float(value.replace(".inf", "inf").replace(".Inf", "inf")
                           .replace(".INF", "inf").replace(".nan", "nan")
                           .replace(".NaN", "nan").replace(".NAN", "nan"))
            if math.isinf(number) and "inf" not in value.lower():
                raise self.fail(key, f"the number {printable(value, 40)} is too large")
            return number
        shown = printable(value, 40)
        if tag.startswith(_CORE):
            raise self.fail(key, f"{shown!r} is not a valid !!{tag[len(_CORE):]}; "
                            "write plain values without tags")
        raise self.fail(key, f"tag {printable(tag, 60)} is not allowed in a plan")
