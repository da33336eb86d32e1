# The two commands a newcomer needs; both install what is missing first (scripts/setup.sh).
.PHONY: drill test setup lint bench

setup:
	@bash scripts/setup.sh

drill: setup  ## run the default drill plan and leave a report in reports/
	.venv/bin/drill run

test: setup lint  ## run every test: unit, and integration against real servers
	.venv/bin/python -m pytest

lint:
	.venv/bin/ruff check drills scenarios tests bench
	.venv/bin/mypy

bench: setup  ## print the benchmark figures recorded in docs/benchmarks.md
	.venv/bin/python bench/benchmark.py
