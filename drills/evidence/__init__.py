"""The evidence pack of a run: what an auditor needs to trust a drill's report.

The run directory is the pack. When the run ends, ``seal`` adds a copy of the plan, the
PDF of the report and ``manifest.json`` (every file with its sha256, the versions of
drills and of the servers, the operator, every command the recovery ran, the start and
end times), then signs the manifest with an SSH key if one was given. ``drill verify``
(``verify.verify_run``) checks all of it and recomputes every figure from the journals.
"""
