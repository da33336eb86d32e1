"""Benchmark: the report's PDF for a finished run (pages, size, time and peak memory).

Run on demand (not a test): ``make bench-pdf RUN=reports/<run id>`` or
``.venv/bin/python bench/pdf_cost.py reports/<run id> [--edition condensed|full]``.

It renders the run's index.html to a PDF of the edition asked (condensed, the default of
``drill run --pdf``, or full) in a child process, as ``drill run`` does at its end
(drills.evidence.pdf.write_pdf), into a temporary directory (the run's own files are only
read), then prints the pages (pdfinfo), the size, the wall time and the child's peak
resident memory (getrusage).
"""

from __future__ import annotations

import argparse
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from drills.evidence.pdf import EDITIONS

CHILD = ("import sys; from pathlib import Path; from drills.evidence.pdf import Edition, "
         "write_pdf; why = write_pdf(Path(sys.argv[1]), Path(sys.argv[2]), Edition(sys.argv[3])); "
         "sys.exit(why and print(why, file=sys.stderr) or (1 if why else 0))")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path, help="a run directory (reports/<run id>)")
    parser.add_argument("--edition", choices=EDITIONS, default=EDITIONS[0],
                        help="the PDF's edition (default: %(default)s, as drill run)")
    args = parser.parse_args()
    html = args.run / "index.html"
    if not html.is_file():
        print(f"{html}: no report here; give a run directory of `drill run`", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="drills-bench-pdf-") as tmp:
        copy = Path(tmp) / "run"
        shutil.copytree(args.run, copy)  # relative links (charts) resolve as in the run
        pdf = copy / "bench.pdf"
        started = time.monotonic()
        done = subprocess.run([sys.executable, "-c", CHILD, str(copy / "index.html"), str(pdf),
                               args.edition], check=False)
        took = time.monotonic() - started
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        if done.returncode != 0 or not pdf.exists():
            print("the PDF could not be rendered (see above)", file=sys.stderr)
            return 1
        info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=False)
        pages = next((line.split()[-1] for line in info.stdout.splitlines()
                      if line.startswith("Pages:")), "?")
        scenarios = len(list(args.run.glob("*/journal.json")))
        print(f"report.pdf of {args.run.name} ({scenarios} scenarios), {args.edition} edition: "
              f"{pages} pages, "
              f"{pdf.stat().st_size / 1e6:.1f} MB, {took:.1f} s, peak {peak_mb:.0f} MB "
              "(the rendering process)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
