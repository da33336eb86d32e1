"""What an HTTP answer says about a write (docs/measurement.md rule 11), for the app's workload.

``ok``       a 2xx: acknowledged
``fail``     certainly not applied: the connection was refused (nothing was sent), a 4xx (the
             app refused it), or a 5xx the app marks ``X-Write-Attempted: no`` (it answered
             before touching its database)
``unknown``  sent, and no certain answer: a timeout, a connection reset or closed mid-request,
             any other 5xx (the write was in flight when it broke)
"""

from __future__ import annotations

from drills.record.history import Outcome

#: the header by which the app says whether a failed write reached its database
ATTEMPTED_HEADER = "X-Write-Attempted"


def classify(status: int, attempted: str | None, error: BaseException | None) -> Outcome:
    """The outcome of one write: ``status`` 0 when no answer came (``error`` says why)."""
    if status == 0:
        return Outcome.FAIL if isinstance(error, ConnectionRefusedError) else Outcome.UNKNOWN
    if 200 <= status < 300:
        return Outcome.OK
    if 400 <= status < 500:
        return Outcome.FAIL
    if status >= 500 and (attempted or "").strip().lower() == "no":
        return Outcome.FAIL
    return Outcome.UNKNOWN
