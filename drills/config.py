"""Run configuration, resolved once into a frozen object.

Precedence: explicit argument > command-line option > environment (DRILLS_*) > default.
"""

from __future__ import annotations

import getpass
import os
import secrets
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from drills.errors import UsageError


def new_run_id() -> str:
    """Sortable and unique: UTC time plus a random suffix."""
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()) + "-" + secrets.token_hex(3)


@dataclass(frozen=True)
class RunConfig:
    """Where a run reads its plan, which runtime it uses, where it writes its report."""

    plan_path: Path | None
    out_dir: Path
    runtime: str
    run_id: str
    scenarios: tuple[str, ...] = ()  # empty: every scenario of the plan
    #: the runs database (drills.trends.store); default: drills-runs.sqlite in out_dir
    runs_db: Path | None = None
    #: who ran the drill, for the evidence pack: --operator, else the login name
    operator: str = "unknown"
    #: an SSH private key that signs the evidence pack's manifest (ssh-keygen -Y sign)
    sign_key: Path | None = None

    @property
    def run_dir(self) -> Path:
        return self.out_dir / self.run_id

    @property
    def runs_db_path(self) -> Path:
        """The runs database this run records itself in and judges regressions against."""
        from drills.trends.store import FILE_NAME

        return self.runs_db if self.runs_db is not None else self.out_dir / FILE_NAME

    @classmethod
    def resolve(
        cls,
        plan: str | Path | None = None,
        out: str | Path | None = None,
        runtime: str | None = None,
        run_id: str | None = None,
        scenarios: tuple[str, ...] = (),
        runs_db: str | Path | None = None,
        operator: str | None = None,
        sign_key: str | Path | None = None,
    ) -> RunConfig:
        env = os.environ
        plan = plan if plan is not None else env.get("DRILLS_PLAN")
        if plan is not None and not str(plan).strip():
            raise UsageError("the plan path is empty (--plan or DRILLS_PLAN); give a file, or "
                             "leave it out for the default plan")
        out = out if out is not None else env.get("DRILLS_OUT") or "reports"
        if not str(out).strip():
            raise UsageError("the report directory is empty (--out or DRILLS_OUT)")
        return cls(
            plan_path=Path(plan) if plan is not None else None,
            out_dir=Path(out),
            runtime=runtime or env.get("DRILLS_RUNTIME") or "auto",
            run_id=_run_id(run_id or env.get("DRILLS_RUN_ID") or new_run_id()),
            scenarios=scenarios,
            runs_db=_optional_path(runs_db, "DRILLS_RUNS_DB", "--runs-db",
                                   old_variable="DRILLS_HISTORY"),
            operator=_operator(operator or env.get("DRILLS_OPERATOR")),
            sign_key=_optional_path(sign_key, "DRILLS_SIGN_KEY", "--sign-key"),
        )


def _optional_path(value: str | Path | None, variable: str, option: str,
                   old_variable: str | None = None) -> Path | None:
    """The option's path, else the variable's.

    ``old_variable``, the variable's name before a rename, is still read where only it is
    set (CI scripts set it), with a one-line note on stderr.
    """
    if value is None and old_variable is not None and old_variable in os.environ \
            and variable not in os.environ:
        print(f"drill: {old_variable} is deprecated; set {variable} instead", file=sys.stderr)
        variable = old_variable
    value = value if value is not None else os.environ.get(variable)
    if value is None:
        return None
    if not str(value).strip():
        raise UsageError(f"{option} (or {variable}) is empty; give a file, or leave it out")
    return Path(value)


def _run_id(value: str) -> str:
    """A run id names a directory: letters, digits, ``.``, ``_`` and ``-`` only."""
    if not value or value[0] in ".-" or not all(c.isalnum() or c in "._-" for c in value):
        raise UsageError(f"--run-id {value!r}: use letters, digits, '.', '_' and '-' only "
                         "(it names the run's directory), not starting with '.' or '-'")
    return value


def _operator(value: str | None) -> str:
    """Who ran the drill: as given, else the login name."""
    if value is None:
        try:
            value = getpass.getuser()
        except (KeyError, OSError):  # no login name for this uid (a container)
            return f"uid {os.getuid()}"
    text = value.strip()
    if not text or len(text) > 200 or any(not c.isprintable() for c in text):
        raise UsageError(f"--operator {value!r}: give a name of 1 to 200 printable characters")
    return text


def prepare_out_dir(out_dir: Path) -> None:
    """Create the report directory now, so a bad --out stops the run before anything starts."""
    if out_dir.exists() and not out_dir.is_dir():
        raise UsageError(f"--out {out_dir}: exists and is not a directory")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"--out {out_dir}: cannot create it ({exc.strerror})") from exc
    if not os.access(out_dir, os.W_OK | os.X_OK):
        raise UsageError(f"--out {out_dir}: not writable by this user")
    low = disk_short(out_dir)
    if low:
        raise UsageError(f"--out {out_dir}: {low}; free some space or give an --out on "
                         "another disk")


#: below this much free space a drill would fill the disk mid-run: a minute of full load
#: writes about 30 MB of op history, plus the read-back, journals, logs and the PDF
MIN_FREE_BYTES = 256 * 1024 * 1024


def disk_short(path: Path) -> str:
    """Why the disk holding ``path`` is too full for a drill ("" when it is not)."""
    try:
        free = shutil.disk_usage(path).free
    except OSError:
        return ""
    if free >= MIN_FREE_BYTES:
        return ""
    return (f"the disk holding it has {free / 1e6:.1f} MB free, less than the "
            f"{MIN_FREE_BYTES // (1024 * 1024)} MiB a drill needs for its records")


def run_dir_taken(run_dir: Path) -> UsageError:
    return UsageError(f"{run_dir}: a run with this id is already there; a run directory is "
                      "written once (give another --run-id)")


def claim_run_dir(run_dir: Path) -> None:
    """Make the run's directory, or refuse: one step, so two runs of one id cannot both pass.

    ``os.mkdir`` fails for the second of two runs started at once with the same id, where
    a check for the directory followed by its creation let both through.
    """
    run_dir.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.mkdir(run_dir, 0o700)  # every file of a run is its user's alone
    except FileExistsError:
        raise run_dir_taken(run_dir) from None
    except OSError as exc:
        raise UsageError(f"{run_dir}: cannot create the run directory ({exc.strerror})") \
            from exc
