"""``${VAR}`` and ``${VAR:-default}`` in a plan's addresses, as Compose reads its files.

A team's compose file often takes its ports from the environment
(``127.0.0.1:${DB_PORT:-5432}:5432``); the plan reaches the same service the same way, so
one variable moves both. Resolved at run time, never when the plan is read: in ``reach``,
in health checks (a URL, or each argument of a command) and in checks' URLs. ``drill
check`` shows them filled from its own environment, saying which variables are not set
(``preview``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from drills.errors import UsageError, printable

_VAR = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?-)([^}]*))?\}")


def has_variables(text: str) -> bool:
    return any(m.group(1) for m in _VAR.finditer(text))


def variables(text: str) -> list[str]:
    """The names of the variables ``text`` refers to (``${NAME}``, ``${NAME:-default}``)."""
    return [m.group(1) for m in _VAR.finditer(text) if m.group(1)]


def well_formed(text: str) -> bool:
    """Whether every ``$`` of ``text`` starts ``$$`` or a ``${NAME...}`` reference."""
    return "$" not in _VAR.sub("", text)


def expand(text: str, env: Mapping[str, str], what: str) -> str:
    """``text`` with its variables replaced; UsageError naming ``what`` for an unset one.

    For an address or a message: control characters escaped, at most 2000 characters.
    """
    return printable(substitute(text, env, what), 2000)


def substitute(text: str, env: Mapping[str, str], what: str) -> str:
    """``text`` with its variables replaced, nothing else changed (a command's argument)."""
    def one(match: re.Match[str]) -> str:
        name, op, default = match.group(1), match.group(2), match.group(3)
        if name is None:
            return "$"
        value = env.get(name)
        if op == ":-" and not value:
            return default or ""
        if op == "-" and value is None:
            return default or ""
        if value is None:
            raise UsageError(f"{what}: ${{{name}}} is not set; export {name}, or write "
                             f"${{{name}:-default}} in the plan")
        return value

    return _VAR.sub(one, text)


def preview(text: str, env: Mapping[str, str]) -> tuple[str, list[str]]:
    """``text`` as ``drill run`` would read it in ``env``, for ``drill check`` to show.

    With a note for each variable not set (or empty, with ``:-``): its default is used, or,
    with no default, ``drill run`` stops there (the reference is then shown as written).
    """
    notes: list[str] = []

    def note(text: str) -> None:
        if text not in notes:
            notes.append(text)

    def one(match: re.Match[str]) -> str:
        name, op, default = match.group(1), match.group(2), match.group(3)
        if name is None:
            return "$"
        value = env.get(name)
        if (op == ":-" and not value) or (op == "-" and value is None):
            state = "is empty" if value is not None else "is not set"
            note(f"{name} {state}: its default {default or '(empty)'} is used")
            return default or ""
        if value is None:
            note(f"{name} is not set: drill run stops here (export {name})")
            return match.group(0)
        return value

    return printable(_VAR.sub(one, text), 2000), notes
