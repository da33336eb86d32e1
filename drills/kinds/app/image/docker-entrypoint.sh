#!/bin/sh
# Entrypoint of drills' offline reference-app image (drills/kinds/app/refapp.py on Debian
# bookworm's python3, python3-aiohttp, python3-psycopg and python3-redis).
#
# The app is configured by its environment alone (APP_PORT, APP_PG_*, APP_REDIS_*...: see the
# docstring of refapp.py), so there is nothing to prepare: run the command, as PID 1, so that
# `docker stop` (SIGTERM) reaches the app and it stops cleanly. Kept, like the other kinds'
# images, so that a command can be wrapped the same way everywhere.
set -e

exec "$@"
