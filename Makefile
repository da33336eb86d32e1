# The two commands a newcomer needs; both install what is missing first.
#   scripts/setup.sh         Python environment, PostgreSQL and Redis servers (apt), Toxiproxy (Go)
#   scripts/setup_docker.sh  Docker engine, Compose v2, the stack's images (built offline)
.PHONY: drill test check setup setup-local lint bench bench-restore bench-http bench-history bench-long bench-probe bench-pdf bench-failover bench-power-loss bench-mongodb

# Images of the compose runtime: the ones setup_docker.sh builds from Debian packages (no
# registry needed: drills/postgres:15, drills/redis:7). DRILLS_IMAGES=official uses the
# registry's images (postgres:15, redis:7); DRILLS_<KIND>_IMAGE names one explicitly.
export DRILLS_IMAGES ?= offline

setup: setup-local
	@bash scripts/setup_docker.sh

setup-local:
	@bash scripts/setup.sh

drill: setup  ## run the default drill plan (runtime auto) and leave a report in reports/
	.venv/bin/drill run

test: setup lint  ## every test: unit, and integration on both runtimes against real servers
	.venv/bin/python -m pytest --durations=30  # the 30 slowest, for whoever shortens `make test` next

check: setup-local lint  ## the fast tier (< 5 min): lint, types, the tests not marked slow or compose, the smoke plan
	.venv/bin/python -m pytest -m "not slow and not compose" -q
	rm -rf build/check  # the previous check: its report and its runs database
	.venv/bin/drill run --plan drills/plans/smoke.yaml --runtime local --out build/check --run-id smoke

lint:
	.venv/bin/ruff check drills tests bench conftest.py
	.venv/bin/mypy

bench: setup  ## print the benchmark figures recorded in README.md
	.venv/bin/python bench/benchmark.py

bench-restore: setup  ## print the restore benchmark figures recorded in README.md
	.venv/bin/python bench/restore.py

bench-http: setup  ## print the app's request rate (workload vs wrk) and Toxiproxy's cost
	.venv/bin/python bench/http_load.py

bench-history: setup  ## `drill report` on a generated 10M-write history: time and peak memory
	.venv/bin/python bench/history_scale.py

bench-long: setup  ## a 10-minute drill at full load, the memory of each of its processes
	.venv/bin/python bench/long_drill.py

bench-probe: setup  ## the load's rate and the RTO resolution with a 50 ms and a 10 ms probe
	.venv/bin/python bench/probe_cost.py

bench-pdf: setup  ## the report's PDF for a finished run: pages, size, time, memory (RUN=reports/<id>, EDITION=condensed|full)
	.venv/bin/python bench/pdf_cost.py $(RUN) --edition $(or $(EDITION),condensed)

bench-failover: setup  ## failover by path, 5 runs each: kill to first acknowledged write, lost writes
	.venv/bin/python bench/repeat.py --runs 5 --out reports/bench-failover

bench-power-loss: setup  ## power cuts (LazyFS, as root), 5 runs each: lost writes per run
	.venv/bin/python bench/repeat.py --plan drills/plans/storage.yaml --runs 5 --out reports/bench-power-loss

bench-mongodb: setup  ## MongoDB kills, j=true and j=false, 5 runs each (local: the FerretDB stand-in)
	.venv/bin/python bench/repeat.py --plan drills/plans/default.yaml --scenario mongodb-kill --scenario mongodb-kill-no-journal --runs 5 --out reports/bench-mongodb
