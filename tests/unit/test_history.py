"""The op history on disk: records written as operations happen, read back in chunks."""

import math
import os
from pathlib import Path

import numpy as np
import pytest

from drills.errors import HistoryError
from drills.record.history import (
    DrillClock,
    History,
    HistoryFile,
    HistoryWriter,
    Outcome,
    ProbeAttempt,
    read_history,
    read_probes,
)
from drills.record.history.format import RECORD


def _three_ops(path: Path, worker: int = 0, first_id: int = 1) -> None:
    w = HistoryWriter(path, worker)
    w.invoke(first_id, "write", "aa", 10.0, 1000.0)
    w.invoke(first_id + 1, "write", "bb", 10.1, 1000.1)
    w.complete(first_id + 1, Outcome.FAIL, 10.2, 1000.2, 'refused "quoted"')
    w.complete(first_id, Outcome.OK, 10.3, 1000.3)
    w.invoke(first_id + 2, "write", "cc", 10.4, 1000.4)
    w.close()


def test_roundtrip_and_unknown_without_completion(tmp_path: Path) -> None:
    path = tmp_path / "history.bin"
    _three_ops(path)
    assert path.stat().st_size == 6 * RECORD.itemsize  # a header and five records
    ops = {op.id: op for op in read_history(path)}
    assert ops[1].outcome == Outcome.OK and ops[1].latency_s == pytest.approx(0.3)
    assert ops[2].outcome == Outcome.FAIL and ops[2].error == 'refused "quoted"'
    assert ops[3].outcome == Outcome.UNKNOWN and ops[3].complete_mono is None
    assert ops[3].error == "no completion recorded"
    header = HistoryFile.open(path)
    assert header.pid == os.getpid() and header.boot == DrillClock.now().boot


def test_chunks_carry_operations_in_flight(tmp_path: Path) -> None:
    path = tmp_path / "history.bin"
    w = HistoryWriter(path)
    for i in range(1, 101):  # each write completes 10 invokes later, pairs swapped
        w.invoke(i, "write", f"v{i}", float(i), float(i))
        if i > 10:
            t = i - 10
            w.complete(t + 1 if t % 2 else t - 1, Outcome.OK, i + 0.5, i + 0.5)
    w.close()
    small = np.concatenate(list(History.open([path]).chunks(chunk=7)))
    whole = np.concatenate(list(History.open([path]).chunks()))
    small, whole = np.sort(small, order="id"), np.sort(whole, order="id")
    for name in small.dtype.names or ():
        np.testing.assert_array_equal(small[name], whole[name])  # NaN equals NaN here
    assert small["id"].tolist() == list(range(1, 101))
    assert np.isnan(small["complete"][90:]).all()  # never completed: unknown


def test_a_torn_or_unwritten_tail_is_left_out(tmp_path: Path) -> None:
    path = tmp_path / "history.bin"
    _three_ops(path)
    whole = path.read_bytes()
    path.write_bytes(whole[:-13])  # the last record cut short: the writer died
    assert {op.id for op in read_history(path)} == {1, 2}
    path.write_bytes(whole + bytes(2 * RECORD.itemsize))  # a crash's zero-filled tail
    assert len(read_history(path)) == 3


def test_an_empty_record_in_the_middle_is_damage(tmp_path: Path) -> None:
    path = tmp_path / "history.bin"
    _three_ops(path)
    data = bytearray(path.read_bytes())
    data[2 * RECORD.itemsize: 3 * RECORD.itemsize] = bytes(RECORD.itemsize)
    path.write_bytes(bytes(data))
    with pytest.raises(HistoryError, match="damaged"):
        read_history(path)


def test_completion_without_invoke_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "history.bin"
    w = HistoryWriter(path)
    w.complete(7, Outcome.OK, 1.0, 2.0)
    w.close()
    with pytest.raises(HistoryError, match="without an invoke"):
        read_history(path)


def test_ids_invoked_twice_are_an_error(tmp_path: Path) -> None:
    path = tmp_path / "history.bin"
    w = HistoryWriter(path)
    w.invoke(5, "write", "a", 1.0, 1.0)
    w.invoke(5, "write", "b", 1.1, 1.1)
    w.close()
    with pytest.raises(HistoryError, match="out of order or twice"):
        read_history(path)


def test_not_a_history_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "history.bin"
    path.write_bytes(b"x" * RECORD.itemsize * 2)
    with pytest.raises(HistoryError, match="not an op history"):
        read_history(path)


def test_several_workers_merge_and_must_not_share_ids(tmp_path: Path) -> None:
    _three_ops(tmp_path / "history-w1.bin", worker=1, first_id=1_000_000_001)
    _three_ops(tmp_path / "history-w2.bin", worker=2, first_id=2_000_000_001)
    ops = read_history(sorted(tmp_path.glob("history-w*.bin")))
    assert len(ops) == 6 and len({op.id for op in ops}) == 6
    assert HistoryFile.open(tmp_path / "history-w2.bin").worker == 2
    _three_ops(tmp_path / "history-w3.bin", worker=3, first_id=2_000_000_002)
    with pytest.raises(HistoryError, match="share op ids"):
        read_history(sorted(tmp_path.glob("history-w*.bin")))


def test_a_worker_on_another_host_is_put_on_the_drill_clock(tmp_path: Path) -> None:
    path = tmp_path / "history-w1.bin"
    _three_ops(path, worker=1)
    # rewrite the header as if another host wrote it: another boot id, its own clocks
    header = np.fromfile(path, dtype=RECORD, count=1)
    header["digest"] = 0x1234
    header["mono"], header["wall"] = 5.0, 1000.0  # its monotonic clock read 5 at wall 1000
    data = bytearray(path.read_bytes())
    data[: RECORD.itemsize] = header.tobytes()
    path.write_bytes(bytes(data))
    drill = DrillClock(boot=0x9999, mono=500.0, wall=1000.0)  # the drill's read 500 then
    ops = {op.id: op for op in read_history(path, drill)}
    assert ops[1].invoke_mono == pytest.approx(10.0 - 5.0 + 500.0)
    same_host = DrillClock(boot=0x1234, mono=1.0, wall=2.0)
    assert read_history(path, same_host)[0].invoke_mono == 10.0


def test_the_json_lines_history_of_older_runs_is_read(tmp_path: Path) -> None:
    path = tmp_path / "history.jsonl"
    path.write_text('{"e":"invoke","id":2,"k":"write","v":"b","m":1.1,"w":2.1}\n'
                    '{"e":"invoke","id":1,"k":"write","v":"a","m":1.0,"w":2.0}\n'
                    '{"e":"ok","id":1,"m":1.5,"w":2.5}\n'
                    '{"e":"fail","id":2,"m":1.6,"w":2.6,"err":"refused"}\n'
                    '{"e":"ok","id":2,"m"')  # a torn last line
    ops = {op.id: op for op in read_history(path)}
    assert ops[1].outcome == Outcome.OK and ops[1].complete_mono == 1.5
    assert ops[2].outcome == Outcome.FAIL and ops[2].error == "refused"


def test_a_malformed_middle_line_of_an_old_history_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "history.jsonl"
    path.write_text('{"e":"invoke"\n{"e":"ok","id":1,"m":1.0,"w":2.0}\n')
    with pytest.raises(HistoryError, match=r"history\.jsonl:1"):
        read_history(path)


def test_error_texts_are_kept_once_and_capped(tmp_path: Path) -> None:
    path = tmp_path / "history.bin"
    w = HistoryWriter(path)
    for i in range(1, 4):
        w.invoke(i, "write", "v", float(i), float(i))
        w.complete(i, Outcome.UNKNOWN, i + 0.1, i + 0.1, "timeout")
    w.close()
    assert (tmp_path / "history.bin.errors").read_text().count("timeout") == 1
    assert {op.error for op in read_history(path)} == {"timeout"}
    assert not math.isnan(read_history(path)[0].complete_mono or math.nan)


def test_probe_records_roundtrip(tmp_path: Path) -> None:
    path = tmp_path / "p.jsonl"
    attempts = [ProbeAttempt(2.0, 20.0, 2.1, 20.1, False, "refused"),
                ProbeAttempt(1.0, 10.0, 1.01, 10.01, True)]
    path.write_text("".join(a.to_json() + "\n" for a in attempts))
    assert read_probes(path) == sorted(attempts, key=lambda a: a.invoke_mono)
