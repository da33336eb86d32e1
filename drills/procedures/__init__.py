"""The team's own commands, as a plan's ``procedures`` name them.

context.py   what a command is given: its placeholders filled, its environment (the
             drill's Compose project, each service's address, the latest backups)
runner.py    running one: argv, working directory, timeout, its own process group killed
             at the timeout, at teardown or on Ctrl-C; output saved, secrets redacted
leftovers.py what a procedure started, found again (its group, its session, its mark):
             ended with it, and by `drill clean` after a crash

The command as a fault, a recovery step or a backup method lives with its kind:
drills.faults.procedure, drills.recovery.procedure, drills.backup.procedure; a backup
job's restore rehearsed into a scratch server (verify: restore) in drills.plan_drill.rehearsal.
"""
