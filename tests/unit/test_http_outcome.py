"""HTTP answers to outcomes (docs/measurement.md rule 11): what a write through the app became."""

from __future__ import annotations

import pytest

from drills.record.history import Outcome
from drills.workload.http_outcome import classify


@pytest.mark.parametrize(("status", "attempted", "error", "outcome"), [
    (201, None, None, Outcome.OK),
    (200, None, None, Outcome.OK),  # a retry of a stored write
    (400, "no", None, Outcome.FAIL),  # refused before the database
    (409, "yes", None, Outcome.FAIL),  # the id holds another value: nothing changed
    (503, "no", None, Outcome.FAIL),  # not attempted
    (503, "No ", None, Outcome.FAIL),
    (503, None, None, Outcome.UNKNOWN),  # a 503 that does not say: maybe done
    (502, "yes", None, Outcome.UNKNOWN),  # the connection broke mid-INSERT
    (504, "yes", None, Outcome.UNKNOWN),  # the deadline passed mid-INSERT
    (500, None, None, Outcome.UNKNOWN),
    (302, None, None, Outcome.UNKNOWN),  # no redirect is expected: not a success
    (0, None, ConnectionRefusedError(111, "refused"), Outcome.FAIL),  # nothing sent
    (0, None, ConnectionResetError(104, "reset"), Outcome.UNKNOWN),
    (0, None, TimeoutError("timed out"), Outcome.UNKNOWN),
    (0, None, None, Outcome.UNKNOWN),
])
def test_classify(status: int, attempted: str | None, error: BaseException | None,
                  outcome: Outcome) -> None:
    assert classify(status, attempted, error) == outcome


def test_the_load_client_never_resends_a_post() -> None:
    # "refused means fail" holds only if FastHttpUser's client does not resend a POST on a
    # new connection after the first broke (it resends idempotent methods such as PUT)
    from geventhttpclient import client

    assert not client._may_retry_after_send_error("POST")
    assert client._may_retry_after_send_error("PUT")
