"""Roles and replication lag of every member, sampled onto the timeline through the drill.

A thread asks each member, every ``every_s``, what its data-store adapter's
``replication(endpoint)`` says (drills.replication.state) and records one REPLICATION event
per answer; a member that does not answer is recorded once per outage, with the error. The
report reads the lag at the fault beside the loss it explains (drills.measure.replication).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

from drills.datastore import store_for
from drills.record.timeline import EventKind, Timeline
from drills.stack.service import Service


class ReplicationSampler:
    """Samples ``members`` every ``every_s`` seconds until stopped."""

    def __init__(self, timeline: Timeline, members: Sequence[Service], every_s: float) -> None:
        self.timeline = timeline
        self.members = tuple(members)
        self.every_s = every_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="replication-sampler",
                                        daemon=True)
        self.samples = 0

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)

    def _run(self) -> None:
        failing: dict[str, str] = {}
        while not self._stop.is_set():
            for member in self.members:
                self._sample(member, failing)
            self._stop.wait(self.every_s)

    def _sample(self, member: Service, failing: dict[str, str]) -> None:
        adapter = store_for(member.kind)
        try:
            state = adapter.replication(member.endpoint)  # type: ignore[attr-defined]
        except Exception as exc:  # a member down is a fact of the drill, not an error
            error = f"{type(exc).__name__}: {exc}".strip()[:300]
            if member.name not in failing:
                failing[member.name] = error
                self.timeline.record(EventKind.REPLICATION, f"{member.name}: no answer",
                                     service=member.name, error=error)
            return
        failing.pop(member.name, None)
        self.samples += 1
        data = state.to_dict()
        for down in data.get("downstream", ()):
            down["member"] = self._member_named(str(down["name"]))
        self.timeline.record(EventKind.REPLICATION, f"{member.name}: {state.role}",
                             service=member.name, **data)

    def _member_named(self, name: str) -> str | None:
        """Which member a primary's replica entry is, by address or by name.

        Redis lists a replica by its address; PostgreSQL by its application_name, which
        drills sets to the replica's service name.
        """
        for member in self.members:
            if name == f"{member.endpoint.host}:{member.endpoint.port}" \
                    or name.startswith(f"{member.name}@"):
                return member.name
        return None
