"""Whether this machine can host a storage fault: the reason it cannot, or None."""

from __future__ import annotations

from drills.stack.storage import lazyfs, loopfs

#: what each need means, for people
NEEDS = {
    "lazyfs": "LazyFS (a FUSE file system that forgets what was not fsynced)",
    "loop": "a loop-mounted ext4 of its own",
}


def unavailable(need: str) -> str | None:
    """None when ``need`` ("lazyfs", "loop", "") can be met here, else why not."""
    if need == "lazyfs":
        return lazyfs.available()
    if need == "loop":
        return loopfs.available()
    return None
