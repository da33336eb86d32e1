"""The checks a plan runs after recovery: an HTTP answer, a SQL or Redis number in bounds.

Each ends ``pass``, ``fail`` (the answer was wrong, or none came), or ``could not verify``
(the check itself cannot run here: a kind with no query, an answer that is not a number),
and is recorded on the timeline, from which the verdict table is built (docs/measurement.md rule 9).
The write ledger check is the drill's own read-back: it is judged with the other loss
figures, not here.
"""

from __future__ import annotations

from collections.abc import Mapping

from drills import kinds
from drills.datastore import ProbeFailed
from drills.errors import DrillError
from drills.measure.verdict import Verdict
from drills.plan.interpolate import expand
from drills.plan.scenario_spec import CheckKind, CheckSpec
from drills.plan.stack_spec import HealthCheck
from drills.probe.health import run_health
from drills.stack.service import Service


def run_check(check: CheckSpec, services: Mapping[str, Service], ledger: str,
              env: Mapping[str, str]) -> tuple[Verdict | None, str, object]:
    """Run one check: its verdict, what it saw, and the value it read (if any).

    The ledger check has no verdict of its own (None): the read-back after the hold
    judges it, in the loss rows (lost writes, RPO, integrity).
    """
    if check.kind is CheckKind.LEDGER:
        if check.service != ledger:
            return (Verdict.COULD_NOT_VERIFY, f"the write ledger is kept in {ledger}, not "
                    f"{check.service}: one ledger per scenario (set `ledger:`)", None)
        return None, "judged with the loss figures (lost writes, RPO)", None
    if check.kind is CheckKind.COMMAND:
        try:
            argv = tuple(expand(arg, env, "check command") for arg in check.command)
            seen = run_health(HealthCheck(command=argv, timeout_s=check.timeout_s), "check")
        except ProbeFailed as exc:
            return Verdict.FAIL, str(exc).removeprefix("check: "), None
        except DrillError as exc:
            return Verdict.COULD_NOT_VERIFY, str(exc), None
        return Verdict.PASS, seen, None
    if check.kind is CheckKind.HTTP:
        assert check.url is not None
        try:
            url = expand(check.url, env, "check url")
            seen = run_health(HealthCheck(url=url, method=check.method, status=check.status,
                                          timeout_s=check.timeout_s), "check")
        except ProbeFailed as exc:
            return Verdict.FAIL, str(exc).removeprefix("check: "), None
        except DrillError as exc:
            return Verdict.COULD_NOT_VERIFY, str(exc), None
        return Verdict.PASS, seen, None
    assert check.service is not None and check.bound is not None
    service = services[check.service]
    query = getattr(kinds.get(service.kind).store(), "query", None)
    if query is None:
        return (Verdict.COULD_NOT_VERIFY, f"drills cannot query a {service.kind} service",
                None)
    request = check.query if check.query is not None else check.command
    assert request is not None
    refusal = getattr(kinds.get(service.kind).store(), "read_only_refusal", None)
    why = refusal(service.endpoint, request) if refusal is not None else None
    if why:
        return Verdict.COULD_NOT_VERIFY, f"not run: {why}", None
    try:
        value = query(service.endpoint, request, check.timeout_s)
    except DrillError as exc:
        return Verdict.FAIL, f"no answer: {exc}", None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return (Verdict.COULD_NOT_VERIFY, f"the answer {value!r} is not a number to compare "
                f"with {check.bound.describe()}", value)
    verdict = Verdict.PASS if check.bound.holds(number) else Verdict.FAIL
    return verdict, f"answered {number:g} (wanted {check.bound.describe()})", number
