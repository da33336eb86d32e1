"""A Ctrl-C whose KeyboardInterrupt Python swallows (in a finaliser) is not lost."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap

CHILD = textwrap.dedent("""
    import os, signal, sys, time
    from drills import interrupt

    interrupt.install()

    class Finaliser:
        def __del__(self):
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.2)  # delivered here: Python prints "Exception ignored" and goes on

    Finaliser()
    print("survived the finaliser", flush=True)
    try:
        interrupt.check()
    except KeyboardInterrupt:
        print("raised again", interrupt.received(), flush=True)
        sys.exit(130)
    sys.exit(0)
""")


def test_a_swallowed_interrupt_is_raised_again_at_the_next_check() -> None:
    done = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True,
                          timeout=60)
    assert "Exception ignored" in done.stderr, done.stderr  # the swallowing really happened
    assert "survived the finaliser" in done.stdout
    assert f"raised again {int(signal.SIGINT)}" in done.stdout, done.stdout + done.stderr
    assert done.returncode == 130


def test_no_signal_no_raise() -> None:
    from drills import interrupt

    assert interrupt.received() is None
    interrupt.check()
