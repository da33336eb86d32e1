"""What a drill records and reads back, each in its own module.

- ``history``: the op history, every write the load made and its outcome (history.bin);
- ``readback``: what the data store held after the recovery (readback.bin);
- ``timeline``: the drill's events, steps and phases, as they happened;
- ``journal``: the scenario's files on disk (journal.json and the others) and their reading.

The measurement (drills.measure) reads these and nothing else: a run's figures can be
computed again from its recorded files alone (``drill report``, ``drill verify``).
"""
