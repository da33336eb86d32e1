"""A drill: one scenario run from stack-up to verdict, recorded on one timeline.

A scenario reads like its runbook::

    pg = drill.stack(postgres=PostgresSettings())["postgres"]
    with drill.load(pg):
        drill.warm_up()
        with drill.fault(Kill(pg)):
            drill.recover(Restart(pg))
        drill.wait_for_service()
        drill.hold()
    result = drill.conclude()

``close()`` always tears down the stack, writes the journal and evaluates it, so even
a drill that broke half-way leaves a result: ``could not verify``, with the reason.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from drills.clock import Instant
from drills.datastore import postgres as pg_store
from drills.datastore import read_back
from drills.environment import host_facts
from drills.errors import DrillError
from drills.faults.base import Fault, Injected
from drills.journal import Journal, ReadBack, ScenarioFiles, write_json
from drills.measure.evaluate import DrillResult, evaluate
from drills.plan import Plan, ScenarioPlan
from drills.probe import SteadyStateProbe
from drills.recovery.restart import RecoveryStep
from drills.stack.service import Service
from drills.stack.stack import Runtime, Stack
from drills.timeline import Category, EventKind, Timeline
from drills.workload.runner import LoadStats, Workload

RuntimeFactory = Callable[[str, Path], Runtime]
Progress = Callable[[str], None]


class Drill:
    """One scenario run. Use as a context manager, or call ``close()``."""

    def __init__(
        self,
        scenario: ScenarioPlan,
        plan: Plan,
        run_id: str,
        out_dir: Path,
        runtime_factory: RuntimeFactory,
        progress: Progress | None = None,
    ) -> None:
        self.scenario = scenario
        self.plan = plan
        self.run_id = run_id
        self.files = ScenarioFiles(out_dir / scenario.name)
        self.files.root.mkdir(parents=True, exist_ok=True)
        self.files.logs.mkdir(exist_ok=True)
        self.runtime_factory = runtime_factory
        self.timeline = Timeline()
        self.result: DrillResult | None = None
        self._progress = progress or (lambda line: None)
        self._phase = "setup"
        self._resources = ExitStack()
        self._stack: Stack | None = None
        self._runtime_name = "unknown"
        self._target: Service | None = None
        self._probe: SteadyStateProbe | None = None
        self._workload: Workload | None = None
        self._fault_end: float | None = None
        self._last_stats: LoadStats | None = None
        self._pending_progress: str | None = None  # from the stats thread, printed by main
        self._environment: dict[str, Any] = {
            **host_facts(),
            "plan": {"path": str(plan.path), "sha256": plan.sha256, "name": plan.name},
        }

    # -- building blocks, in runbook order ------------------------------------------

    def stack(self, **settings: Any) -> Stack:
        """Bring up the stack's services (name=settings) and wait until each is ready."""
        self._set_phase("stack up")
        with self.timeline.step("stack up", Category.SETUP, services=list(settings)) as extra:
            runtime = self.runtime_factory(self.run_id, self.files.logs)
            self._runtime_name = runtime.name
            stack = Stack(runtime, runtime.services(settings))
            self._resources.callback(self._teardown_stack, stack)
            stack.up()
            self._stack = stack
            extra["runtime"] = runtime.describe()
        self._environment["runtime"] = runtime.describe()
        self._environment["services"] = {s.name: s.describe() for s in stack}
        self.timeline.record(EventKind.STACK_UP, "stack up", runtime=runtime.name)
        return stack

    @contextmanager
    def load(self, service: Service) -> Iterator[Workload]:
        """Probe ``service`` and put it under load for the body of the ``with``."""
        self._target = service
        if service.kind == "postgres":
            pg_store.prepare(service.endpoint)
        probe = SteadyStateProbe(service.endpoint, self.scenario.probe, self.files.probes)
        probe.start()
        self._probe = probe
        workload = Workload(service.endpoint, self.scenario.workload, self.files.history,
                            self.files.root, on_stats=self._on_stats)
        self._workload = workload
        try:
            workload.start()
            self.timeline.record(EventKind.LOAD_START, "load start", service=service.name,
                                 workload=self.scenario.workload.to_dict())
            yield workload
        finally:
            code = workload.stop()
            self.timeline.record(EventKind.LOAD_STOP, "load stop", exit_code=code)
            probe.stop()

    def warm_up(self) -> None:
        """Run the load for the plan's warm-up and insist the service is healthy."""
        self._set_phase("warm-up")
        self._sleep(self.scenario.workload.warmup_s)
        if self._probe is None or self._probe.wait_passing(0.0, 1.0) is None:
            raise DrillError("the steady-state probe never passed during the warm-up; "
                             "the stack is not healthy enough to drill")

    @contextmanager
    def fault(self, fault: Fault) -> Iterator[Fault]:
        """Inject ``fault``; revert it (if it can be) when the ``with`` ends, whatever happens."""
        self._set_phase("fault")
        self._timed(fault.name, Category.FAULT, fault.service, fault.inject)
        self._fault_end = time.monotonic()
        try:
            yield fault
        finally:
            if fault.revertible:
                self._timed(fault.revert_name, Category.REVERT, fault.service, fault.revert)

    def _timed(self, name: str, category: Category, service: str,
               action: Callable[[], Injected]) -> None:
        """Record a fault or revert step that starts when it took effect, not when asked."""
        asked = Instant.now()
        try:
            done = action()
        except BaseException as exc:
            self.timeline.record(EventKind.STEP_START, name, at=asked,
                                 category=str(category), service=service)
            self.timeline.record(EventKind.STEP_END, name, category=str(category), ok=False,
                                 error=f"{type(exc).__name__}: {exc}")
            raise
        self.timeline.record(EventKind.STEP_START, name, at=done.at, category=str(category),
                             service=service, asked_mono=asked.mono)
        self.timeline.record(EventKind.STEP_END, name, category=str(category), ok=True,
                             mechanism=done.mechanism, **done.facts)

    def recover(self, step: RecoveryStep) -> None:
        """Run one recovery step, timed on the timeline."""
        self._set_phase("recovery")
        with self.timeline.step(step.name, Category.RECOVERY) as extra:
            extra.update(step.run(self.scenario.recovery_timeout_s))

    def wait(self, seconds: float, why: str) -> None:
        """Let time pass inside the drill (a fault's duration), showing progress."""
        self._set_phase(why)
        self._sleep(seconds)

    def wait_for_service(self) -> None:
        """Wait until the steady-state probe passes again after the fault."""
        self._set_phase("verify")
        if self._probe is None or self._fault_end is None:
            raise DrillError("wait_for_service() needs load() and fault() first")
        good = self._probe.wait_passing(self._fault_end, self.scenario.recovery_timeout_s)
        if good is None:
            self.timeline.record(EventKind.NOTE, "service did not answer again",
                                 waited_s=self.scenario.recovery_timeout_s)
            return
        self.timeline.record(EventKind.FIRST_GOOD, "first good probe",
                             at=None, probe_completed_mono=good.complete_mono)

    def hold(self) -> None:
        """Keep the load on after recovery, so post-recovery writes are checked too."""
        self._set_phase("hold")
        self._sleep(self.scenario.workload.hold_s)

    def calibrate_rto(self, expected_s: float, tolerance_s: float) -> None:
        """Declare the outage this drill injected; the RTO must match it."""
        self.timeline.record(EventKind.CALIBRATION, "RTO clock", check="rto",
                             expected_s=expected_s, tolerance_s=tolerance_s)

    def calibrate_loss(self, expected_ids: list[int]) -> None:
        """Declare the writes this drill destroyed; the checker must find exactly these."""
        self.timeline.record(EventKind.CALIBRATION, "loss detection", check="loss",
                             expected_ids=expected_ids)

    def stack_service(self, name: str) -> Service:
        """A service of the running stack (for checks made before teardown)."""
        if self._stack is None:
            raise DrillError("the stack is not up")
        return self._stack[name]

    # -- ending ---------------------------------------------------------------------

    def conclude(self) -> DrillResult:
        """Read the store back, save the journal, and evaluate it."""
        if self.result is not None:
            return self.result
        self._set_phase("check")
        self._read_back()
        return self._finish()

    def close(self, error: BaseException | None = None) -> DrillResult:
        """Tear everything down; evaluate whatever was recorded. Never hides ``error``."""
        if error is not None:
            self.timeline.record(EventKind.ERROR, "drill error",
                                 error=f"{type(error).__name__}: {error}")
        try:
            if self.result is None and self._stack is not None and error is None:
                self._read_back()
        finally:
            self._resources.close()
        return self._finish()

    def __enter__(self) -> Drill:
        return self

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        self.close(exc)

    # -- internals ------------------------------------------------------------------

    def _read_back(self) -> None:
        if self.files.readback.exists() or self._target is None:
            return
        with self.timeline.step("read back", Category.CHECK) as extra:
            try:
                values, source = read_back(self._target.endpoint)
                readback = ReadBack(values=values, source=source)
                extra["rows"] = len(values)
            except Exception as exc:  # a failed read-back is "could not verify", not a crash
                readback = ReadBack(values=None, error=f"{type(exc).__name__}: {exc}")
                extra["error"] = readback.error
        write_json(self.files.readback, readback.to_dict())

    def _finish(self) -> DrillResult:
        journal = Journal(
            run_id=self.run_id, scenario=self.scenario.to_dict(),
            service=self._target.name if self._target else "n/a",
            runtime=self._runtime_name, timeline=self.timeline, environment=self._environment,
        )
        if self.result is None:
            self.timeline.record(EventKind.CHECK_DONE, "check done")
        write_json(self.files.journal, journal.to_dict())
        self.result = evaluate(self.files)
        write_json(self.files.root / "result.json", self.result.to_dict())
        return self.result

    def _teardown_stack(self, stack: Stack) -> None:
        with self.timeline.step("stack down", Category.TEARDOWN):
            stack.close()

    def _set_phase(self, phase: str) -> None:
        self._phase = phase
        self._progress(f"{self.scenario.name}: {phase}")

    def _sleep(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            time.sleep(min(left, 0.1))
            line, self._pending_progress = self._pending_progress, None
            if line:
                self._progress(line)
            if self._workload is not None and not self._workload.running():
                raise DrillError("the load generator died; see logs/workload.log")

    def _on_stats(self, stats: LoadStats) -> None:
        prev, self._last_stats = self._last_stats, stats
        if prev is None:
            return
        dt = max(stats.t - prev.t, 1e-6)
        probe = self._probe.last if self._probe else None
        state = "n/a" if probe is None else ("up" if probe.ok else "DOWN")
        self._pending_progress = (
            f"{self.scenario.name}: {self._phase:<9} "
            f"{(stats.ok - prev.ok) / dt:7.0f} ok/s {(stats.fail - prev.fail) / dt:6.0f} fail/s "
            f"{stats.unknown:5d} unknown  p99 {stats.p99_ms:5.0f} ms  probe {state}"
        )
