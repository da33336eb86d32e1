"""The op ids of each load generator: blocks that never overlap.

Worker n of a distributed load writes ids n * ID_BLOCK + 1, + 2, ...; worker 0 is the
drill's single load generator (ids from 1, as before workers existed). A block holds a
billion writes: 10,000 a second for 27 hours. No Locust here: tests and the checker
import it.
"""

ID_BLOCK = 1_000_000_000


def first_id(worker: int) -> int:
    """The first op id of load generator ``worker``."""
    return worker * ID_BLOCK + 1
