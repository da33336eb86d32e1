"""The built-in drills, as pytest tests: each reads like its runbook.

They ship inside the package, so ``drill run`` finds them wherever drills is installed.
A team's own scenarios live in a directory of theirs (``drill run --scenarios DIR``).
"""
