"""Drills across runs: every run recorded in a small SQLite database, trends, regression limits.

``store`` keeps one row per run and per scenario run (``drills-runs.sqlite`` in the reports
directory unless told otherwise); ``baseline`` turns a scenario's last passing runs into
the limits a plan's ``regression`` section sets, saved beside the scenario's journal so
that ``drill report`` and ``drill verify`` judge exactly as the run did.
"""
