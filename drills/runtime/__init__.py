"""The runtimes: what brings a stack's services up from the kinds (drills.kinds).

local.py         LocalRuntime: the servers as supervised processes in a per-run directory
compose.py       ComposeRuntime: the servers as containers of a Compose project per run
compose_file.py  the project file of a run, from the kinds' templates
own_compose.py   OwnComposeRuntime: the team's own compose file as a project of drills'
compose_policy.py what a team's compose file may not do to the host, unless its plan allows it
engine_check.py  whether the compose runtime can run here (engine, Compose, images)
choose.py        which runtime a run uses (``auto``, ``local``, ``compose``)

Below them, drills.stack holds the building blocks the kinds build their services on
(drills.stack.local_service, drills.stack.compose_service); the runtimes sit above both.
"""
