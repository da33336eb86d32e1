"""The workload: load applied during a drill, recording an op history.

Locust monkey-patches the process with gevent when imported, so it is imported only in
``drills.workload.locust_child``, which runs as a child process; the drill talks to it
through ``drills.workload.runner.Workload``.
"""
