"""A drill: one scenario run from stack-up to verdict, recorded on one timeline.

A scenario reads like its runbook::

    pg = drill.stack(postgres=PostgresSettings())["postgres"]
    kill = Kill(pg)                 # refused here if pg cannot be killed on this runtime
    with drill.load(pg):            # probe pg (RTO) and read its writes back (RPO)
        drill.warm_up()
        with drill.fault(kill):
            drill.recover(Restart(pg))
        drill.wait_for_service()
        drill.hold()
    result = drill.conclude()

A drill may hold several services: ``drill.load(app, store=pg)`` probes one and reads
the writes back from another. ``conclude()`` reads the store back and seals the result:
the journal is written and evaluated once, and what happens afterwards (the stack going
down, an error in code after the conclusion) is recorded without changing the verdict.
``close()`` always tears everything down; a drill that broke before concluding is
evaluated then, from whatever was recorded: ``could not verify``, with the reason.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from drills import interrupt
from drills.backup import Backup, BackupMethod
from drills.catalogue import CATALOGUE
from drills.datastore import LedgerGone, Probe, store_for
from drills.environment import host_facts
from drills.errors import BackupError, DrillError, ProcedureFailed, RecoveryError
from drills.faults.base import Fault
from drills.measure.evaluate import DrillResult, evaluate
from drills.measure.tables import (
    INVENTORY_AFTER_RECOVERY,
    INVENTORY_AT_BACKUP,
    INVENTORY_BEFORE_FAULT,
)
from drills.plan import Plan, ScenarioPlan
from drills.plan.contradictions import gaps, target_of
from drills.plan.stack_spec import HealthCheck
from drills.probe import SteadyStateProbe
from drills.probe.health import HealthyProbe
from drills.record.action import Action
from drills.record.clock import Instant
from drills.record.history import DrillClock
from drills.record.journal import Journal, ScenarioFiles, write_json
from drills.record.readback import readback_meta, write_rows
from drills.record.timeline import Category, EventKind, Timeline
from drills.recovery.base import RecoveryStep
from drills.redact import keep_private
from drills.replication.sampler import ReplicationSampler
from drills.replication.state import DEMOTED_META, DEMOTED_ROWS
from drills.stack.service import Service
from drills.stack.stack import Runtime, Stack
from drills.workload.runner import LoadStats, Workload

log = logging.getLogger(__name__)

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
        # private: its logs and records are this user's alone (drills.redact.keep_private)
        self.files.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.files.logs.mkdir(mode=0o700, exist_ok=True)
        self.runtime_factory = runtime_factory
        self.timeline = Timeline()
        self.result: DrillResult | None = None
        self._progress = progress or (lambda line: None)
        self._phase = "setup"
        self._resources = ExitStack()
        self._stack: Stack | None = None
        self._runtime_name = "unknown"
        self._probed: Service | None = None
        self._store: Service | None = None
        self._probe: SteadyStateProbe | None = None
        self._workload: Workload | None = None
        self._fault_start: float | None = None
        self._fault_end: Instant | None = None
        self._backups = 0
        #: services backed up in this drill (insertion-ordered): their tables are
        #: inventoried at the backup, before the fault and after recovery
        self._backed_up: dict[str, None] = {}
        self._recovered_at: float | None = None
        self._last_stats: LoadStats | None = None
        self._pending_progress: str | None = None  # from the stats thread, printed by main
        self._closed = False
        self._sampler: ReplicationSampler | None = None
        self._environment: dict[str, Any] = {
            **host_facts(),
            "plan": {"path": str(plan.path), "sha256": plan.sha256, "name": plan.name},
            # every op history's times are put on this clock (drills.record.history.clocks)
            "clock": DrillClock.now().to_dict(),
        }
        for gap, accepted in gaps(plan, scenario.name):
            # what the plan cannot hold on its real schedule: a row of this drill's verdict
            self.timeline.record(EventKind.PLAN_GAP, f"plan gap: {gap.key}", key=gap.key,
                                 target=target_of(gap), message=gap.message,
                                 accepted=accepted.to_dict() if accepted else None)

    # -- building blocks, in runbook order ------------------------------------------

    def stack(self, *, using: RuntimeFactory | None = None, **settings: Any) -> Stack:
        """Bring up the stack's services (name=settings) and wait until each is ready.

        ``using``: another runtime than the run's (a plan's own compose project).
        """
        self._set_phase("stack up")
        with self.timeline.step("stack up", Category.SETUP, services=list(settings)) as extra:
            runtime = (using or self.runtime_factory)(self.run_id, self.files.logs)
            # registered before anything else can fail: building the services may raise
            self._resources.callback(self._close_runtime, runtime)
            info = CATALOGUE.get(self.scenario.catalogue_name)
            if info is not None and runtime.name not in info.runtimes:
                raise DrillError(f"{self.scenario.name} runs on the {', '.join(info.runtimes)} "
                                 f"runtime only, not on {runtime.name}")
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
    def load(self, service: Service, store: Service | None = None,
             health: Sequence[tuple[str, HealthCheck]] = ()) -> Iterator[Workload]:
        """Load and probe ``service`` for the body of the ``with``.

        The probe at ``service`` measures the RTO; the writes are read back from ``store``
        (default: the same service) to measure the RPO. ``health``: (service, check) pairs
        every probe attempt must also pass (a plan's stack).
        """
        store = store or service
        self._probed, self._store = service, store
        for target in {service.name: service, store.name: store}.values():
            store_for(target.kind).prepare(target.endpoint)
        if self.scenario.dataset_bytes:
            self._load_dataset(store)
        adapter = store_for(service.kind)
        def make_probe() -> Probe:
            made = adapter.probe(service.endpoint)
            return HealthyProbe(made, health) if health else made

        probe = SteadyStateProbe(make_probe, self.scenario.probe, self.files.probes)
        workload = Workload(service.endpoint, self.scenario.workload, self.files.history,
                            self.files.root, on_stats=self._on_stats)
        probe.start()
        self._probe = probe
        try:
            self._workload = workload
            try:
                workload.start()
                self.timeline.record(EventKind.LOAD_START, "load start", service=service.name,
                                     store=store.name, workload=self.scenario.workload.to_dict())
                yield workload
            finally:
                self._workload = None
                code = workload.stop()
                self.timeline.record(EventKind.LOAD_STOP, "load stop", exit_code=code)
                if code not in (0, None):
                    # its history may end early: the loss figures cannot be trusted
                    self.timeline.record(EventKind.ERROR, "load generator failed",
                                         error=f"the load generator exited with {code}; see "
                                         "logs/workload.log")
        finally:
            probe.stop()
            # what the probe cost: the report sets it against the load (drills.measure.probe_cost)
            self.timeline.record(EventKind.NOTE, "probe stopped", probe=probe.cost())

    def _load_dataset(self, store: Service) -> None:
        """The plan's dataset, loaded before the load starts: a restore then means something."""
        self._set_phase("dataset")
        size = self.scenario.dataset_bytes
        with self.timeline.step(f"load a {size / 1e6:.0f} MB dataset into {store.name}",
                                Category.SETUP, service=store.name, asked_bytes=size) as extra:
            extra.update(store_for(store.kind).load_dataset(store.endpoint, size))

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
        self._inventory(INVENTORY_BEFORE_FAULT)
        done = self._act(fault.name, Category.FAULT, fault.service, fault.inject)
        self._fault_start = done.at.mono
        self._fault_end = Instant.now()
        try:
            yield fault
        finally:
            if fault.revertible:
                self._act(fault.revert_name, Category.REVERT, fault.service, fault.revert)

    def recover(self, step: RecoveryStep, phase: str | None = None) -> Action:
        """Run one recovery step, timed on the timeline as an RTO phase; what it did.

        ``phase``: the plan's RTO phase it belongs to (detection, decision, execution).
        """
        self._set_phase("recovery")
        tag = {"plan_phase": phase} if phase else {}
        done = self._act(step.name, Category.RECOVERY, None,
                         lambda: step.run(self.scenario.recovery_timeout_s).with_facts(**tag))
        self._recovered_at = time.monotonic()
        return done

    def setup_step(self, step: RecoveryStep) -> Action:
        """A step that prepares the stack before any load (the team's migrations, its data)."""
        self._set_phase("setup")
        return self._act(step.name, Category.SETUP, None,
                         lambda: step.run(self.scenario.recovery_timeout_s))

    def manual(self, what: str, stated_s: float, phase: str) -> None:
        """A step a person does, with the duration the plan states: on the timeline, not run.

        It takes no time in the drill; the RTO verdict adds ``stated_s`` to the measured
        RTO, and the report marks it "stated, not measured".
        """
        self._set_phase("recovery")
        at = Instant.now()
        name = f"manual: {what}"
        self.timeline.record(EventKind.STEP_START, name, at=at, category=str(Category.RECOVERY))
        self.timeline.record(EventKind.STEP_END, name, at=at, category=str(Category.RECOVERY),
                             ok=True, manual=True, stated_s=stated_s, plan_phase=phase,
                             mechanism="a person's step: its duration is the plan's, not "
                             "measured")

    def record_check(self, name: str, verdict: str, detail: str, **facts: Any) -> None:
        """The outcome of one of the plan's checks after recovery, for the verdict table."""
        at = Instant.now()
        self.timeline.record(EventKind.STEP_START, name, at=at, category=str(Category.CHECK))
        self.timeline.record(EventKind.STEP_END, name, category=str(Category.CHECK), ok=True,
                             plan_check=True, verdict=verdict, detail=detail[:2000], **facts)

    def backup(self, method: BackupMethod) -> Backup:
        """Take a backup from the live stack and verify it at once, both on the timeline.

        A backup its own tool finds unusable stops the drill (BackupError): no restore is
        tried from it, and the result says so (BACKUP_UNUSABLE). A team's backup procedure
        that fails stops it too, the procedure's outcome and log tail on the step
        (BACKUP_FAILED). One whose content could not
        be verified (``ok`` None: a format drills does not check, a tool missing) does not:
        the restore judges it, and its row says "could not verify", never "pass".
        """
        self._set_phase("backup")
        self._backups += 1
        name = f"{method.label}-{self._backups}"
        with self.timeline.step(f"back up {method.service.name} ({name})", Category.BACKUP,
                                service=method.service.name, method=method.method) as extra:
            try:
                made = method.take(name)
            except ProcedureFailed as exc:  # the team's backup procedure: the backup did not
                extra.update(exc.facts)     # happen (BACKUP_FAILED, drills.measure.step_failures)
                raise
            extra.update(made.to_dict())
        with self.timeline.step(f"verify {name}", Category.BACKUP, backup=name,
                                service=method.service.name) as extra:
            check = method.verify(made)
            extra.update(check.to_dict())
        if check.ok is False:
            raise BackupError(f"backup {name} is unusable: {check.detail}")
        self._backed_up[method.service.name] = None
        self._inventory(INVENTORY_AT_BACKUP, backup=name)
        return made

    def _inventory(self, when: str, **facts: Any) -> None:
        """Record the tables of each backed-up service and their row counts.

        What the restore must bring back, with no check written by the team
        (drills.measure.tables).
        """
        for name in self._backed_up:
            if self._stack is None:
                return
            service = self._stack[name]
            take = getattr(store_for(service.kind), "inventory", None)
            if take is None:
                continue  # a kind without tables (Redis): its ledger judges it
            try:
                tables = take(service.endpoint)
            except DrillError as exc:
                self.timeline.record(EventKind.INVENTORY, f"tables of {name}: {when}",
                                     service=name, when=when, error=str(exc)[:400], **facts)
                continue
            self.timeline.record(EventKind.INVENTORY, f"tables of {name}: {when}",
                                 service=name, when=when, tables=tables, **facts)

    def detect(self, read: bool = False) -> None:
        """Wait until the disaster shows, and declare it: the detection phase of the RTO.

        It shows when the steady-state probe fails after the fault or, with ``read``, when
        a full read of the store fails (a corrupted page of old data, which the probe's new
        writes never touch). A drill in which nothing fails cannot have detected anything,
        and says so.
        """
        if self._probe is None or self._fault_end is None or self._store is None:
            raise DrillError("detect() needs load() and fault() first")
        probe, store = self._probe, self._store
        timeout = self.scenario.recovery_timeout_s
        self._set_phase("detect")
        name = "detect the disaster"
        begin = self._fault_end  # from the end of the fault to the first failure seen
        self.timeline.record(EventKind.STEP_START, name, at=begin, category=str(Category.RECOVERY))
        deadline = time.monotonic() + timeout
        seen: Instant | None = None
        how = ""
        while seen is None and time.monotonic() < deadline:
            # with read: a probe failing during the fault itself (a restart) shows nothing
            failed = probe.wait_failing(begin.mono if read else self._fault_start or 0.0,
                                        0.0 if read else deadline - time.monotonic())
            if failed is not None:
                seen = Instant(failed.complete_mono, failed.complete_wall)
                how = "the steady-state probe failed: " + (failed.error or "too slow")
            elif not read:  # the probe stopped (its thread died): nothing more will come
                break
            else:
                try:
                    for _ in store_for(store.kind).read_back(store.endpoint):
                        pass
                    time.sleep(0.2)
                except Exception as exc:  # the read failing is what is looked for
                    seen = Instant.now()
                    how = f"a full read of {store.name} failed: {type(exc).__name__}: {exc}"
        if seen is None:
            self.timeline.record(EventKind.STEP_END, name, category=str(Category.RECOVERY),
                                 ok=False, error="nothing failed")
            raise RecoveryError(f"neither the probe{' nor a full read' if read else ''} failed "
                                f"within {timeout:g} s of the fault: nothing to detect")
        self.timeline.record(EventKind.STEP_END, name, at=seen if seen.mono > begin.mono else begin,
                             category=str(Category.RECOVERY), ok=True, phase="detect",
                             mechanism=how[:400])

    def detect_by(self, watch: Callable[[], str | None], what: str, every_s: float) -> None:
        """Detection by the plan's monitor, polled from the end of the fault.

        ``watch`` runs every ``every_s``; the damage is detected when it first says what is
        wrong.

        For damage the steady-state probe cannot see (an accidental DELETE behind a
        shallow health check). Nothing found within the recovery timeout: nothing to
        detect, and the RTO cannot be judged (drills.measure.judge).
        """
        if self._fault_end is None:
            raise DrillError("detect_by() needs fault() first")
        timeout = self.scenario.recovery_timeout_s
        self._set_phase("detect")
        name = "detect the disaster"
        begin = self._fault_end
        self.timeline.record(EventKind.STEP_START, name, at=begin, category=str(Category.RECOVERY))
        deadline = time.monotonic() + timeout
        while True:
            polled = Instant.now()
            wrong = watch()
            if wrong is not None:
                self.timeline.record(EventKind.STEP_END, name, at=polled,
                                     category=str(Category.RECOVERY), ok=True, phase="detect",
                                     mechanism=f"the monitor failed: {what}: {wrong}"[:400],
                                     resolution_s=every_s, by_monitor=True)
                return
            if time.monotonic() >= deadline:
                break
            self._sleep(min(every_s, max(0.0, deadline - time.monotonic())))
        self.timeline.record(EventKind.STEP_END, name, category=str(Category.RECOVERY),
                             ok=False, error="nothing failed", undetected=True)
        raise RecoveryError(f"the monitor ({what}) did not fail within {timeout:g} s of the "
                            "fault: nothing to detect")

    def detect_manual(self, what: str, stated_s: float) -> None:
        """Detection by a person, as the plan states it: on the timeline, not measured."""
        self._set_phase("detect")
        at = self._fault_end or Instant.now()
        name = "detect the disaster"
        self.timeline.record(EventKind.STEP_START, name, at=at, category=str(Category.RECOVERY))
        self.timeline.record(EventKind.STEP_END, name, at=at, category=str(Category.RECOVERY),
                             ok=True, manual=True, stated_s=stated_s, phase="detect",
                             mechanism=f"a person: {what} (stated, not measured)"[:400])

    def verify_by(self, watch: Callable[[], str | None], what: str, every_s: float) -> None:
        """After recovery, poll the monitor until it passes again (counted in the RTO).

        A restore is done when the data is back, not when the service answers.
        """
        self._set_phase("verify")
        last = ""

        def until_passing() -> Action:
            nonlocal last
            deadline = time.monotonic() + self.scenario.recovery_timeout_s
            while True:
                wrong = watch()
                if wrong is None:
                    return Action(f"the monitor passes again: {what}", Instant.now())
                last = wrong
                if time.monotonic() >= deadline:
                    raise RecoveryError(f"the monitor ({what}) still fails "
                                        f"{self.scenario.recovery_timeout_s:g} s after the "
                                        f"recovery: {last}")
                self._sleep(every_s)

        self._act("verify: the monitor passes again", Category.RECOVERY, None, until_passing)
        self._recovered_at = time.monotonic()

    def watch_replication(self, *members: Service, every_s: float = 0.25) -> None:
        """Sample each member's role and replication lag onto the timeline until the check.

        The report sets the lag at the fault beside the loss it explains
        (drills.measure.replication).
        """
        if self._sampler is not None:
            raise DrillError("watch_replication() was called already")
        self._sampler = ReplicationSampler(self.timeline, members, every_s)
        self._sampler.start()
        self._resources.callback(self._stop_sampler)
        self.timeline.record(EventKind.NOTE, "replication watched",
                             members=[m.name for m in members], every_s=every_s)

    def read_demoted(self, old: Service) -> None:
        """Read the ledger of a primary that was demoted, before it rejoins (split brain).

        What it holds that the new primary does not is what it acknowledged alone: those
        writes are lost when it rejoins (drills.measure.replication).
        """
        path = self.files.root / DEMOTED_ROWS
        with self.timeline.step(f"read the ledger of {old.name}, the demoted primary",
                                Category.CHECK, service=old.name) as extra:
            adapter = store_for(old.kind)
            rows = write_rows(path, adapter.read_back(old.endpoint))
            extra["rows"] = rows
        write_json(self.files.root / DEMOTED_META,
                   readback_meta(f"{old.name}: {adapter.source}", rows, path.name))
        self.timeline.record(EventKind.DEMOTED_READ, f"ledger of {old.name}", service=old.name,
                             rows=rows, file=DEMOTED_META)

    def _stop_sampler(self) -> None:
        if self._sampler is not None:
            self._sampler.stop()
            self.timeline.record(EventKind.NOTE, "replication sampling stopped",
                                 samples=self._sampler.samples)
            self._sampler = None

    def calibrate_backup(self) -> None:
        """Declare that this drill's loss is exactly its restore's.

        Every write acknowledged before the backup's consistency point present, every
        write made after it and acknowledged before the fault lost, and RPO = fault -
        consistency point.
        """
        self.timeline.record(EventKind.CALIBRATION, "backup consistency point", check="backup")

    def _act(self, name: str, category: Category, service: str | None,
             action: Callable[[], Action]) -> Action:
        """Run an action and record it as a step.

        A fault or a revert starts when it took effect, not when it was asked for (t_fault,
        docs/measurement.md rule 5); a recovery step spans the whole procedure.
        """
        asked = Instant.now()
        where = {"service": service} if service else {}
        try:
            done = action()
        except BaseException as exc:
            self.timeline.record(EventKind.STEP_START, name, at=asked, category=str(category),
                                 **where)
            # a team's procedure that failed: its command, outcome and log tail (the verdict
            # quotes them: drills.measure.step_failures)
            facts = exc.facts if isinstance(exc, ProcedureFailed) else {}
            self.timeline.record(EventKind.STEP_END, name, category=str(category), ok=False,
                                 error=f"{type(exc).__name__}: {exc}", **facts)
            raise
        effect_starts = category in (Category.FAULT, Category.REVERT)
        self.timeline.record(EventKind.STEP_START, name, at=done.at if effect_starts else asked,
                             category=str(category), asked_mono=asked.mono, **where)
        self.timeline.record(EventKind.STEP_END, name, category=str(category), ok=True,
                             mechanism=done.mechanism, effect_mono=done.at.mono,
                             effect_wall=done.at.wall, **done.facts)
        return done

    def wait(self, seconds: float, why: str) -> None:
        """Let time pass inside the drill (a fault's duration), showing progress."""
        self._set_phase(why)
        self._sleep(seconds)

    def wait_for_service(self) -> None:
        """Wait until the steady-state probe passes again after the fault."""
        self._set_phase("verify")
        if self._probe is None or self._fault_end is None:
            raise DrillError("wait_for_service() needs load() and fault() first")
        # after the whole procedure (drills.measure.rto): a probe passing midway is no end
        since = max(self._fault_end.mono, self._recovered_at or 0.0)
        good = self._probe.wait_passing(since, self.scenario.recovery_timeout_s)
        if good is None:
            self.timeline.record(EventKind.NOTE, "service did not answer again",
                                 waited_s=self.scenario.recovery_timeout_s)
            return
        self.timeline.record(EventKind.FIRST_GOOD, "first good probe",
                             at=None, probe_completed_mono=good.complete_mono)
        self._inventory(INVENTORY_AFTER_RECOVERY)

    def hold(self) -> None:
        """Keep the load on after recovery, so post-recovery writes are checked too."""
        self._set_phase("hold")
        self._sleep(self.scenario.workload.hold_s)

    def calibrate_rto(self, tolerance_s: float) -> None:
        """Declare that this drill's outage is exactly its fault, and check the RTO clock.

        The outage runs from the instant the fault took effect to the instant its revert
        did, as the timeline records them; the measured RTO must match it within
        ``tolerance_s``.
        """
        self.timeline.record(EventKind.CALIBRATION, "RTO clock", check="rto",
                             outage="fault to revert", tolerance_s=tolerance_s)

    def calibrate_replication_lag(self, delay_s: float, tolerance_s: float) -> None:
        """Declare the replication delay this drill injected: the RPO must equal it."""
        self.timeline.record(EventKind.CALIBRATION, "replication lag", check="replication_lag",
                             delay_s=delay_s, tolerance_s=tolerance_s)

    def expect_damage(self) -> None:
        """Declare a negative control: it passes only if the fault does damage.

        Lost or changed acknowledged writes, or a server that does not start again; the
        verdict is that one row (drills.measure.judge.Judge.damage_calibration), since a
        control that is meant to lose has no targets to meet.
        """
        self.timeline.record(EventKind.CALIBRATION, "negative control", check="damage")

    def calibrate_split_brain(self) -> None:
        """Declare a split brain: every write lost after the fault is the demoted primary's."""
        self.timeline.record(EventKind.CALIBRATION, "split brain", check="split_brain")

    def calibrate_loss(self, expected_ids: list[int]) -> None:
        """Declare the writes this drill destroyed; the checker must find exactly these."""
        self.timeline.record(EventKind.CALIBRATION, "loss detection", check="loss",
                             expected_ids=expected_ids)

    def fault_started(self) -> float | None:
        """The monotonic instant the fault took effect (t_fault), once injected."""
        return self._fault_start

    def stack_service(self, name: str) -> Service:
        """A service of the running stack (for checks made before close())."""
        if self._stack is None:
            raise DrillError("the stack is not up")
        return self._stack[name]

    # -- ending ---------------------------------------------------------------------

    def conclude(self) -> DrillResult:
        """Read the store back, save the journal and evaluate it: the sealed result."""
        if self.result is not None:
            return self.result
        self._set_phase("check")
        self._stop_sampler()
        self._read_back()
        return self._seal()

    def close(self, error: BaseException | None = None) -> DrillResult:
        """Tear everything down; never hides ``error``.

        Before a conclusion, evaluate what was recorded; after it, keep the sealed result
        and only add the teardown to the journal.
        """
        if self._closed and self.result is not None:
            return self.result
        self._closed = True
        if error is not None:
            self.timeline.record(EventKind.ERROR, "drill error",
                                 error=f"{type(error).__name__}: {error}")
        try:
            if self.result is None and self._stack is not None and error is None:
                self._read_back()
        finally:
            self._resources.close()
        if self.result is None:
            return self._seal()
        self._write_journal()  # the teardown, after the sealed conclusion
        return self.result

    def __enter__(self) -> Drill:
        return self

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        self.close(exc)

    # -- internals ------------------------------------------------------------------

    def _read_back(self) -> None:
        """Read every write the store holds into readback.bin (sorted ids, value digests)."""
        if self.files.readback.exists() or self._store is None:
            return
        store = self._store
        path = self.files.readback_rows
        with self.timeline.step("read back", Category.CHECK, service=store.name) as extra:
            try:
                adapter = store_for(store.kind)
                rows = write_rows(path, adapter.read_back(store.endpoint))
                meta = readback_meta(f"{store.name}: {adapter.source}", rows, path.name)
                extra["rows"] = rows
            except LedgerGone as exc:  # answered: the ledger is gone, and every write with it
                meta = readback_meta(f"{store.name}: {exc}", write_rows(path, ()), path.name)
                extra["rows"] = 0
                extra["ledger_gone"] = str(exc)
            except Exception as exc:  # a failed read-back is "could not verify", not a crash
                path.unlink(missing_ok=True)
                extra["error"] = f"{type(exc).__name__}: {exc}"
                meta = readback_meta("", None, None, extra["error"])
        write_json(self.files.readback, meta)

    def _write_journal(self) -> None:
        journal = Journal(
            run_id=self.run_id, scenario=self.scenario.to_dict(),
            probed_service=self._probed.name if self._probed else None,
            store_service=self._store.name if self._store else None,
            runtime=self._runtime_name, timeline=self.timeline, environment=self._environment,
        )
        write_json(self.files.journal, journal.to_dict())

    def _seal(self) -> DrillResult:
        """Record the conclusion, write the journal, evaluate it once, keep the result."""
        self.timeline.record(EventKind.CHECK_DONE, "check done")
        self._write_journal()
        self.result = evaluate(self.files)
        write_json(self.files.root / "result.json", self.result.to_dict())
        keep_private(self.files.root)
        return self.result

    def _close_runtime(self, runtime: Runtime) -> None:
        try:
            runtime.close()
        except Exception as exc:  # logged, never hiding the drill's own error
            log.exception("closing the %s runtime failed", runtime.name)
            self.timeline.record(EventKind.NOTE, "runtime clean-up failed",
                                 error=f"{type(exc).__name__}: {exc}")

    def _teardown_stack(self, stack: Stack) -> None:
        with self.timeline.step("stack down", Category.TEARDOWN) as extra:
            problems = stack.close()
            if problems:  # on the record: leftovers are what `drill clean` is for
                extra["problems"] = problems

    def _set_phase(self, phase: str) -> None:
        interrupt.check()
        self._phase = phase
        self._progress(f"{self.scenario.name}: {phase}")

    def _sleep(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            time.sleep(min(left, 0.1))
            interrupt.check()
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
        state = self._probe.status().text if self._probe else "n/a"
        self._pending_progress = (
            f"{self.scenario.name}: {self._phase:<9} "
            f"{(stats.ok - prev.ok) / dt:7.0f} ok/s {(stats.fail - prev.fail) / dt:6.0f} fail/s "
            f"{stats.unknown:5d} unknown  p99 {stats.p99_ms:5.0f} ms  probe {state}"
        )
