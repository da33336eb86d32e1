"""``${VAR}`` and ``${VAR:-default}`` in a plan's addresses, as Compose reads its files.

A team's compose file often takes its ports from the environment
(``127.0.0.1:${DB_PORT:-5432}:5432``); the plan reaches the same service the same way, so
one variable moves both. Resolved at run time, never when the plan is read: ``drill
check`` shows the text as written.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from drills.errors import UsageError, printable

_VAR = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?-)([^}]*))?\}")


def has_variables(text: str) -> bool:
    return any(m.group(1) for m in _VAR.finditer(text))


def well_formed(text: str) -> bool:
    """Whether every ``$`` of ``text`` starts ``$$`` or a ``${NAME...}`` reference."""
    return "$" not in _VAR.sub("", text)


def expand(text: str, env: Mapping[str, str], what: str) -> str:
    """``text`` with its variables replaced; UsageError naming ``what`` for an unset one."""
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

    return printable(_VAR.sub(one, text), 2000)
