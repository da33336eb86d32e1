from pathlib import Path

import pytest

from drills.errors import HistoryError
from drills.history import HistoryWriter, Outcome, ProbeAttempt, read_history, read_probes


def test_roundtrip_and_unknown_without_completion(tmp_path: Path) -> None:
    path = tmp_path / "h.jsonl"
    w = HistoryWriter(path)
    w.invoke(1, "write", "aa", 10.0, 1000.0)
    w.invoke(2, "write", "bb", 10.1, 1000.1)
    w.complete(2, Outcome.FAIL, 10.2, 1000.2, 'refused "quoted"')
    w.complete(1, Outcome.OK, 10.3, 1000.3)
    w.invoke(3, "write", "cc", 10.4, 1000.4)
    w.close()
    ops = {op.id: op for op in read_history(path)}
    assert ops[1].outcome == Outcome.OK and ops[1].latency_s == pytest.approx(0.3)
    assert ops[2].outcome == Outcome.FAIL and ops[2].error == 'refused "quoted"'
    assert ops[3].outcome == Outcome.UNKNOWN and ops[3].complete_mono is None


def test_torn_last_line_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "h.jsonl"
    path.write_text('{"e":"invoke","id":1,"k":"write","v":"a","m":1.0,"w":2.0}\n{"e":"ok","id":1,"m"')
    [op] = read_history(path)
    assert op.outcome == Outcome.UNKNOWN


def test_malformed_middle_line_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "h.jsonl"
    path.write_text('{"e":"invoke"\n{"e":"ok","id":1,"m":1.0,"w":2.0}\n')
    with pytest.raises(HistoryError, match=r"h\.jsonl:1"):
        read_history(path)


def test_completion_without_invoke_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "h.jsonl"
    path.write_text('{"e":"ok","id":7,"m":1.0,"w":2.0}\n')
    with pytest.raises(HistoryError, match="without an invoke"):
        read_history(path)


def test_probe_records_roundtrip(tmp_path: Path) -> None:
    path = tmp_path / "p.jsonl"
    attempts = [ProbeAttempt(2.0, 20.0, 2.1, 20.1, False, "refused"),
                ProbeAttempt(1.0, 10.0, 1.01, 10.01, True)]
    path.write_text("".join(a.to_json() + "\n" for a in attempts))
    assert read_probes(path) == sorted(attempts, key=lambda a: a.invoke_mono)
