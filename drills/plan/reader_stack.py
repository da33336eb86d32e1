"""Plan version 2, its resource sections: ``stack``, ``procedures`` and ``backups``.

The values every section shares (durations, sizes, text) are checked by
drills.plan.reader.PlanReader; the scenarios, targets and the plan as a whole by
drills.plan.reader_v2.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from drills import kinds
from drills.plan.interpolate import has_variables, well_formed
from drills.plan.procedure_spec import (
    PLACEHOLDERS,
    BackupJob,
    Procedure,
    malformed,
    needs_arg,
    placeholders,
)
from drills.plan.reader import PlanReader, shown
from drills.plan.stack_spec import (
    ALLOW_NAMES,
    HealthCheck,
    Reach,
    SecretRef,
    ServiceSpec,
    StackSpec,
)

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_AT = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
_ITEM = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
#: PostgreSQL's synchronous_standby_names: [FIRST|ANY] N (names), or bare names
_STANDBY_NAMES = re.compile(r"^(?:(?:(?:FIRST|ANY)\s+)?\d+\s*\((?P<names>[^()]+)\)|"
                            r"(?P<bare>[^()]+))$", re.IGNORECASE)
_SQL_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*$")
_COMPOSE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")
_HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH")
#: drills' own variables, which a procedure's `env` cannot override (its project, its engine)
_DRILLS_OWN_ENV = ("COMPOSE_", "DOCKER_", "DRILL_", "DRILLS_")


class StackSectionsReader(PlanReader):
    """Reads the sections that define what a scenario can name."""

    def item_name(self, raw: Any, key: str) -> str:
        if not isinstance(raw, str) or not _ITEM.match(raw):
            raise self.fail(key, f"{shown(raw)} cannot be a name: use 1 to 63 lower-case "
                            "letters, digits, '-' and '_', starting with a letter or digit")
        return raw

    def service_ref(self, raw: Any, key: str, stack: StackSpec | None) -> str:
        """A name of a service of the stack."""
        if stack is None:
            raise self.fail(key, "names a service, but the plan has no `stack` section to "
                            "define it")
        if not isinstance(raw, str) or raw not in stack.services:
            raise self.fail(key, f"{shown(raw)} is not a service of the stack; it has: "
                            f"{', '.join(stack.services)}")
        return raw

    # -- stack ---------------------------------------------------------------------------

    def stack(self, raw: Any) -> StackSpec | None:
        if raw is None:
            return None
        entry = self.mapping(raw, "stack", ("compose", "services", "setup", "allow"))
        files: tuple[Path, ...] = ()
        if "compose" in entry:
            listed = entry["compose"]
            listed = [listed] if isinstance(listed, str) else listed
            if not isinstance(listed, list) or not listed:
                raise self.fail("stack.compose", "must be a compose file, or a list of them, "
                                "relative to the plan's directory")
            found = []
            for i, item in enumerate(listed):
                where = self.relative_path(item, f"stack.compose[{i}]")
                if not where.is_file():
                    raise self.fail(f"stack.compose[{i}]", f"{shown(item)}: no such file "
                                    f"(looked for {where})")
                found.append(where)
            files = tuple(found)
        raw_services = entry.get("services")
        if not isinstance(raw_services, dict) or not raw_services:
            raise self.fail("stack.services", "must map at least one service name to its kind")
        services: dict[str, ServiceSpec] = {}
        for n, s in raw_services.items():
            if not isinstance(n, str) or not _ITEM.match(n):
                raise self.fail(f"stack.services.{shown(n)}", "cannot be a service name: use 1 "
                                "to 63 lower-case letters, digits, '-' and '_'")
            clash = [m for m in services if m.replace("-", "_") == n.replace("-", "_")]
            if clash:
                raise self.fail(f"stack.services.{n}", f"{n} and {clash[0]} name the same "
                                "environment variables (DRILL_<SERVICE>_HOST...); rename one")
            services[n] = self.service(n, s, own=bool(files))
        self.replication_groups(services, own=bool(files))
        setup = entry.get("setup") or []
        if not isinstance(setup, list):
            raise self.fail("stack.setup", "must be a list of procedure names, run in order "
                            "once the stack is up (migrations, your data)")
        names = tuple(self.item_name(n, f"stack.setup[{i}]") for i, n in enumerate(setup))
        # Compose's own default: relative paths and .env resolve against the first file's
        # directory, for drills as for the team's scripts (COMPOSE_FILE)
        return StackSpec(services, files, files[0].parent if files else None, names,
                         self.allow(entry.get("allow"), bool(files)))

    def allow(self, raw: Any, own: bool) -> dict[str, tuple[str, ...]]:
        """``stack.allow: {SERVICE: [NAME, ...]}``: host access the plan permits a service.

        Whether each SERVICE is one of the compose project's is known once its files are
        read (drills.runtime.own_compose.preflight, still before anything starts).
        """
        if raw is None:
            return {}
        if not own:
            raise self.fail("stack.allow", "permits host access to services of your compose "
                            "file; the plan names none (stack.compose)")
        if not isinstance(raw, dict):
            raise self.fail("stack.allow", "must map service names of your compose file to "
                            "lists of allowances ({cache: [privileged]})")
        allowed: dict[str, tuple[str, ...]] = {}
        for service, names in raw.items():
            if not isinstance(service, str) or not _COMPOSE_NAME.match(service):
                raise self.fail(f"stack.allow.{shown(service)}", "must be a service name of "
                                "your compose file")
            key = f"stack.allow.{service}"
            names = [names] if isinstance(names, str) else names
            if not isinstance(names, list) or not names:
                raise self.fail(key, "must be a list of allowances; known: "
                                + ", ".join(ALLOW_NAMES))
            for i, name in enumerate(names):
                if name not in ALLOW_NAMES:
                    raise self.fail(f"{key}[{i}]", f"{shown(name)} is not an allowance; known: "
                                    + ", ".join(ALLOW_NAMES))
            allowed[service] = tuple(dict.fromkeys(names))
        return allowed

    def relative_path(self, raw: Any, key: str) -> Path:
        text = self.text(raw, key)
        if not text.strip():
            raise self.fail(key, "is empty: give a path relative to the plan's directory")
        path = Path(text)
        return path if path.is_absolute() else (self.path.parent / path).resolve()

    def service(self, name: str, raw: Any, own: bool) -> ServiceSpec:
        key = f"stack.services.{name}"
        named = raw.get("kind") if isinstance(raw, dict) else None
        known = kinds.find(named) if isinstance(named, str) else None
        replication = known.plan_replication if known is not None else ()
        entry = self.mapping(raw, key, ("kind", "reach", "health", *replication))
        kind = entry.get("kind")
        if not isinstance(kind, str) or not _ITEM.match(kind):
            raise self.fail(f"{key}.kind", f"{shown(kind)}: name the kind of service: one drills "
                            f"knows ({', '.join(kinds.names())}), or your own name for it "
                            "(http, search...): drills then reaches it by address, faults its "
                            "container and runs its health check")
        reach = None
        if own:
            if "reach" not in entry:
                raise self.fail(f"{key}.reach", "missing: say how drills reaches this service "
                                "of your compose project (host and port, or url)")
            reach = self.reach(entry["reach"], f"{key}.reach", kind)
        elif "reach" in entry:
            raise self.fail(f"{key}.reach", "drills starts its own servers (no "
                            "`stack.compose`) and knows how to reach them; remove `reach`, or "
                            "name your compose file in `stack.compose`")
        health = self.health(entry["health"], f"{key}.health") if "health" in entry else None
        settings = {k: self.text(entry[k], f"{key}.{k}") for k in replication if k in entry}
        return ServiceSpec(name, kind, reach, health, settings)

    def replication_groups(self, services: dict[str, ServiceSpec], own: bool) -> None:
        """``replica_of``: a service of the same kind that is itself no replica.

        On drills' own servers every replication setting is applied; in a team's compose
        project replication is the team's own configuration, and ``replica_of`` only tells
        drills the roles (it watches them, and the clients follow a promotion).
        """
        for name, spec in services.items():
            key = f"stack.services.{name}"
            for setting in spec.replication:
                if own and setting != "replica_of":
                    raise self.fail(f"{key}.{setting}", "is set in your compose project's own "
                                    "configuration; drills only starts its own servers with it "
                                    "(here, give only replica_of: the service it follows)")
            primary = spec.replica_of
            if primary is None:
                continue
            where = f"{key}.replica_of"
            if primary == name:
                raise self.fail(where, "names the service itself; name its primary")
            found = services.get(primary)
            if found is None:
                raise self.fail(where, f"{shown(primary)} is not a service of the stack; list "
                                "the primary under stack.services")
            if found.kind != spec.kind:
                raise self.fail(where, f"{primary} is a {found.kind} service, this one a "
                                f"{spec.kind}: a replica follows a primary of its own kind")
            if found.replica_of is not None:
                raise self.fail(where, f"{primary} is itself a replica (of {found.replica_of}); "
                                "drills drills one primary with replicas of it: name "
                                f"{found.replica_of}")
            if not own and list(services).index(primary) > list(services).index(name):
                raise self.fail(where, f"list {primary} before {name} under stack.services: "
                                "drills starts the primary first and clones the replica from it")
            if "synchronous_standby_names" in spec.replication:
                raise self.fail(f"{key}.synchronous_standby_names", "is the primary's setting "
                                f"(which replicas confirm a commit): give it on {primary}")
        for spec in services.values():  # once every role is known
            if spec.replica_of is None and "synchronous_standby_names" in spec.replication:
                self.standby_names(spec, services)

    def standby_names(self, spec: ServiceSpec, services: dict[str, ServiceSpec]) -> None:
        """PostgreSQL's ``[FIRST|ANY] N (name, ...)``: each name one of this primary's replicas.

        drills' replicas connect with their service name as application_name; a name with
        a '-' must be double-quoted, as PostgreSQL itself requires.
        """
        key = f"stack.services.{spec.name}.synchronous_standby_names"
        value = spec.replication["synchronous_standby_names"].strip()
        found = _STANDBY_NAMES.match(value)
        if value and found is None:
            raise self.fail(key, f"{shown(value)}: write FIRST N (name, ...), ANY N (name, "
                            "...) or a list of names, as PostgreSQL reads it")
        replicas = [n for n, s in services.items() if s.replica_of == spec.name]
        listed = (found.group("names") or found.group("bare")) if found else ""
        for raw_name in listed.split(",") if listed else []:
            name = raw_name.strip()
            bare = name.strip('"')
            if name != "*" and not name.startswith('"') and not _SQL_NAME.match(name):
                raise self.fail(key, f"{name}: PostgreSQL reads only letters, digits and _ "
                                f"unquoted; write \"{name}\" in double quotes")
            if name != "*" and bare not in replicas:
                raise self.fail(key, f"{bare} is not a replica of {spec.name} (replicas: "
                                f"{', '.join(replicas) or 'none'}); drills' replicas stream as "
                                "their service name")

    def reach(self, raw: Any, key: str, kind: str) -> Reach:
        known = kinds.find(kind)
        if known is None or known.ledger is None:  # a service drills only reaches
            entry = self.mapping(raw, key, ("url", "host", "port"))
            if "url" in entry:
                if len(entry) > 1:
                    raise self.fail(key, "give url, or host and port, not both")
                return Reach(url=self.url(entry["url"], f"{key}.url"))
            for needed in ("host", "port"):
                if needed not in entry:
                    raise self.fail(f"{key}.{needed}", "missing: give url (http://...), or "
                                    "host and port")
            return Reach(host=self.address(entry["host"], f"{key}.host"),
                         port=self.port(entry["port"], f"{key}.port"))
        entry = self.mapping(raw, key, ("host", "port", "user", "database", "password", "auth"))
        for needed in ("host", "port"):
            if needed not in entry:
                raise self.fail(f"{key}.{needed}", f"missing: how drills reaches this {kind}")
        for needed in known.reach_needs:
            if needed not in entry:
                raise self.fail(f"{key}.{needed}", f"missing: {known.title} needs "
                                f"{' and '.join(known.reach_needs)} to connect "
                                "(drills' write ledger goes there)")
        auth = None
        if "auth" in entry:
            auth = self.text(entry["auth"], f"{key}.auth")
            if has_variables(auth):  # checked once filled, when the drill runs
                if not well_formed(auth):
                    raise self.fail(f"{key}.auth", f"{shown(auth)}: write ${{NAME}} or "
                                    "${NAME:-default}")
            elif auth not in known.reach_auth:
                raise self.fail(f"{key}.auth", f"{shown(auth)}: " + (
                    f"{known.title} logs in with one of {', '.join(known.reach_auth)}"
                    if known.reach_auth else f"{known.title} has one way of logging in; "
                    "leave auth out"))
        return Reach(
            auth=auth,
            host=self.address(entry["host"], f"{key}.host"),
            port=self.port(entry["port"], f"{key}.port"),
            user=self.text(entry["user"], f"{key}.user") if "user" in entry else None,
            database=(self.text(entry["database"], f"{key}.database")
                      if "database" in entry else None),
            password=(self.secret(entry["password"], f"{key}.password")
                      if "password" in entry else None),
        )

    def address(self, raw: Any, key: str) -> str:
        """A host name or address; ``${VAR:-default}`` allowed."""
        text = self.text(raw, key)
        if not text or any(c.isspace() for c in text) or not well_formed(text):
            raise self.fail(key, f"{shown(text)} is not a host name or address")
        return text

    def port(self, raw: Any, key: str) -> int | str:
        """A port number, or text with ``${VAR:-default}`` that makes one at run time."""
        if isinstance(raw, str) and has_variables(raw):
            if not well_formed(raw):
                raise self.fail(key, f"{shown(raw)}: write ${{NAME}} or ${{NAME:-default}}")
            return raw
        return int(self.number(raw, key, integer=True, minimum=1, exclusive=False,
                               maximum=65535))

    def url(self, raw: Any, key: str, service_url: bool = False) -> str:
        """An http(s) URL; with ``service_url``, also ``{url:SVC}/path``.

        That is the base URL of a service drills starts itself, known only at run time.
        """
        text = self.text(raw, key)
        self.check_placeholders(text, key, in_argv=True, place="a URL, shown by drill check "
                                "and saved in the run's records")
        if service_url and re.match(r"^\{url:[a-z0-9][a-z0-9_-]*\}(/\S*)?$", text):
            return text
        if not re.match(r"^https?://[^\s/]+(/\S*)?$", text) or not well_formed(text):
            raise self.fail(key, f"{shown(text)} is not an http:// or https:// URL"
                            + (" (or {url:SERVICE}/path)" if service_url else ""))
        return text

    def secret(self, raw: Any, key: str) -> SecretRef:
        if isinstance(raw, str):
            raise self.fail(key, "a secret is never written in the plan: give {env: NAME} (an "
                            "environment variable) or {file: path}")
        entry = self.mapping(raw, key, ("env", "file"))
        if len(entry) != 1:
            raise self.fail(key, "give exactly one of env (a variable name) or file (a path)")
        if "env" in entry:
            name = entry["env"]
            if not isinstance(name, str) or not _ENV_NAME.match(name):
                raise self.fail(f"{key}.env", f"{shown(name)} is not an environment variable "
                                "name")
            return SecretRef(env=name)
        return SecretRef(file=self.relative_path(entry["file"], f"{key}.file"))

    def health(self, raw: Any, key: str) -> HealthCheck:
        entry = self.mapping(raw, key, ("http", "command", "timeout"))
        if ("http" in entry) == ("command" in entry):
            raise self.fail(key, "give exactly one of http (a URL, or {url, method, status}) "
                            "or command (a list: the program and its arguments)")
        timeout = (self.duration(entry["timeout"], f"{key}.timeout", positive=True)
                   if "timeout" in entry else 2.0)
        if "http" in entry:
            url, method, status = self.http_request(entry["http"], f"{key}.http")
            return HealthCheck(url=url, method=method, status=status, timeout_s=timeout)
        return HealthCheck(command=self.unfilled(self.argv(entry["command"], f"{key}.command"),
                                                 f"{key}.command"), timeout_s=timeout)

    def http_request(self, raw: Any, key: str) -> tuple[str, str, int]:
        if isinstance(raw, str):
            return self.url(raw, key, service_url=True), "GET", 200
        entry = self.mapping(raw, key, ("url", "method", "status"))
        if "url" not in entry:
            raise self.fail(f"{key}.url", "missing: the URL to request")
        method = entry.get("method", "GET")
        if method not in _HTTP_METHODS:
            raise self.fail(f"{key}.method", f"{shown(method)}: use one of "
                            f"{', '.join(_HTTP_METHODS)}")
        status = int(self.number(entry.get("status", 200), f"{key}.status", integer=True,
                                 minimum=100, exclusive=False, maximum=599))
        return self.url(entry["url"], f"{key}.url", service_url=True), method, status

    def argv(self, raw: Any, key: str) -> tuple[str, ...]:
        """A command: a list of strings, or one string that is a path to a program.

        A string is never split on spaces (that would be a shell's job): ``run: a b`` is
        refused with the way to say it.
        """
        if isinstance(raw, str):
            if any(c.isspace() for c in raw.strip()):
                raise self.fail(key, f"{shown(raw)} has spaces: write the command as a list "
                                "([program, arg, ...]); drills runs no shell unless you write "
                                "[sh, -c, '...']")
            raw = [raw]
        if not isinstance(raw, list) or not raw:
            raise self.fail(key, "must be a list: the program and its arguments")
        out = []
        for i, item in enumerate(raw):
            if isinstance(item, bool) or not isinstance(item, str | int | float):
                raise self.fail(f"{key}[{i}]", f"must be text, got {shown(item)}")
            out.append(self.text(str(item), f"{key}[{i}]", multiline=True))
        if not out[0].strip():
            raise self.fail(f"{key}[0]", "the program is empty")
        return tuple(out)

    # -- procedures and backups ----------------------------------------------------------

    def procedures(self, raw: Any) -> dict[str, Procedure]:
        if raw is None:
            return {}
        entry = raw
        if not isinstance(entry, dict):
            raise self.fail("procedures", f"must map procedure names to commands, got "
                            f"{shown(raw)}")
        return {self.item_name(n, f"procedures.{shown(n)}"): self.procedure(n, p)
                for n, p in entry.items()}

    def procedure(self, name: str, raw: Any) -> Procedure:
        key = f"procedures.{name}"
        entry = self.mapping(raw, key, ("run", "cwd", "cwd_outside", "env", "timeout"))
        if "run" not in entry:
            raise self.fail(f"{key}.run", "missing: the command, as a list "
                            "([scripts/restore-db.sh, '{latest:daily-dump}'])")
        argv = self.argv(entry["run"], f"{key}.run")
        cwd = self.procedure_cwd(entry, key)
        program = argv[0]
        if "/" in program:
            path = Path(program) if Path(program).is_absolute() else cwd / program
            if not path.is_file():
                raise self.fail(f"{key}.run[0]", f"{shown(program)}: no such file (looked in "
                                f"{cwd})")
            if not path.stat().st_mode & 0o111:  # drills runs it as the program, no shell
                raise self.fail(f"{key}.run[0]", f"{shown(program)} is not executable: "
                                f"chmod +x {path} (or run it through its interpreter: "
                                f"[sh, {program}])")
        env_raw = entry.get("env") or {}
        if not isinstance(env_raw, dict):
            raise self.fail(f"{key}.env", "must map variable names to values")
        env = {}
        for k, v in env_raw.items():
            if not isinstance(k, str) or not _ENV_NAME.match(k):
                raise self.fail(f"{key}.env", f"{shown(k)} is not an environment variable name")
            if k.upper().startswith(_DRILLS_OWN_ENV):
                raise self.fail(f"{key}.env.{k}", f"{k} cannot be set by a plan: drills sets "
                                "COMPOSE_PROJECT_NAME, COMPOSE_FILE and DRILL_* so that the "
                                "script acts on the drill's own project, and COMPOSE_*, "
                                "DOCKER_*, DRILL_* and DRILLS_* are kept as drills has them: "
                                f"{k} would point the script at another project or engine "
                                "(production's). Remove it; the script finds the drill's stack "
                                "in DRILL_<SERVICE>_HOST, _PORT... and {project}")
            if isinstance(v, bool) or not isinstance(v, str | int | float):
                raise self.fail(f"{key}.env.{k}", f"must be text, got {shown(v)}; a secret is "
                                "passed by the variable itself from your environment, not "
                                "written here")
            env[k] = self.text(str(v), f"{key}.env.{k}")
        for i, text in enumerate(argv):
            self.check_placeholders(text, f"{key}.run[{i}]", in_argv=True)
        for k, text in env.items():
            self.check_placeholders(text, f"{key}.env.{k}", in_argv=False)
        timeout = (self.duration(entry["timeout"], f"{key}.timeout", positive=True)
                   if "timeout" in entry else 600.0)
        return Procedure(name, argv, cwd, env, timeout)

    def procedure_cwd(self, entry: dict[str, Any], key: str) -> Path:
        """The procedure's directory: inside the plan's, unless ``cwd_outside: true``.

        Inside once resolved: a ``..`` or a symlink leading out is outside.
        """
        outside = entry.get("cwd_outside", False)
        if not isinstance(outside, bool):
            raise self.fail(f"{key}.cwd_outside", f"{shown(outside)}: true (the procedure may "
                            "run in a directory outside the plan's) or false")
        raw = entry.get("cwd", ".")
        cwd = self.relative_path(raw, f"{key}.cwd")
        if not cwd.is_dir():
            raise self.fail(f"{key}.cwd", f"{cwd}: no such directory")
        home, real = self.path.parent.resolve(), cwd.resolve()
        if not outside and not real.is_relative_to(home):
            how = ("an absolute path" if Path(str(raw)).is_absolute() else
                   "through '..'" if ".." in Path(str(raw)).parts else "through a symlink")
            raise self.fail(f"{key}.cwd", f"{shown(raw)} is {real}, outside the plan's "
                            f"directory {home} ({how}): a procedure runs inside the plan's "
                            "directory; to run it elsewhere on purpose, add `cwd_outside: "
                            f"true` to {key}")
        return cwd

    def unfilled(self, argv: tuple[str, ...], key: str, indexed: bool = True
                 ) -> tuple[str, ...]:
        """A command drills runs as written (health, checks): no placeholder in it."""
        for i, text in enumerate(argv):
            where = f"{key}[{i}]" if indexed else key
            self.check_placeholders(text, where, in_argv=True)
            for name, arg in placeholders(text):
                raise self.fail(where, f"{{{name}{':' + arg if arg else ''}}}: "
                                "placeholders are filled in procedures and URLs only; here "
                                "it would stay as written")
        return argv

    def check_placeholders(self, text: str, key: str, in_argv: bool,
                           place: str = "any user of the machine can read a command's "
                           "arguments") -> None:
        for bad in malformed(text):
            raise self.fail(key, f"{shown(bad)} is not a placeholder: write {{NAME}} or "
                            "{NAME:ARG} (ARG: letters, digits, '.', '-', '_'), NAME one of "
                            + ", ".join(PLACEHOLDERS) + "; text meant literally (a jq or "
                            "format snippet) goes into a script file")
        for name, arg in placeholders(text):
            if name == "password" and in_argv:
                raise self.fail(key, "{password:...} only in `env` (a procedure's): " + place)
            if name not in PLACEHOLDERS:
                raise self.fail(key, f"unknown placeholder {{{name}}}; known: "
                                + ", ".join(f"{{{p}{':ARG' if needs_arg(p) else ''}}}"
                                            for p in PLACEHOLDERS))
            if needs_arg(name) != (arg is not None):
                raise self.fail(key, f"{{{name}}} " + (f"needs an argument: {{{name}:NAME}}"
                                                       if needs_arg(name) else
                                                       "takes no argument"))

    def backups(self, raw: Any, stack: StackSpec | None,
                procedures: dict[str, Procedure]) -> dict[str, BackupJob]:
        if raw is None:
            return {}
        if not isinstance(raw, dict):
            raise self.fail("backups", "must map backup job names to their schedule and method")
        jobs = {self.item_name(n, f"backups.{shown(n)}"): self.backup_job(n, b, stack,
                                                                           procedures)
                for n, b in raw.items()}
        for name, job in jobs.items():
            self.chain_link(name, job, jobs)
        return jobs

    def chain_link(self, name: str, job: BackupJob, jobs: dict[str, BackupJob]) -> None:
        """``base: JOB`` names another job of the same service, and no chain loops."""
        if job.base is None:
            if job.lag_s is not None:
                raise self.fail(f"backups.{name}.lag", "only a link that continues another "
                                "job (base: JOB) has a lag; a backup's own duration is "
                                "measured when the drill takes it")
            return
        key = f"backups.{name}.base"
        base = jobs.get(job.base)
        if base is None:
            raise self.fail(key, f"{job.base} is not a backup job; `backups` has: "
                            f"{', '.join(n for n in jobs if n != name)}")
        if base.service != job.service:
            raise self.fail(key, f"{job.base} backs up {base.service}, {name} backs up "
                            f"{job.service}: a chain continues backups of one service")
        seen = [name]
        while base is not None and base.base is not None:
            if base.name in seen:
                raise self.fail(key, "the chain loops: " + " -> ".join([*seen, base.name]))
            seen.append(base.name)
            base = jobs.get(base.base)

    def backup_job(self, name: str, raw: Any, stack: StackSpec | None,
                   procedures: dict[str, Procedure]) -> BackupJob:
        key = f"backups.{name}"
        entry = self.mapping(raw, key, ("service", "method", "procedure", "every", "at",
                                        "retention", "compressed_to", "verify", "base", "lag"))
        service = self.service_ref(entry.get("service"), f"{key}.service", stack)
        assert stack is not None
        kind = stack.services[service].kind
        known = kinds.find(kind)
        methods = known.backup_methods if known is not None else ()
        continuous = "base" in entry and "method" not in entry and "procedure" not in entry
        if ("method" in entry) == ("procedure" in entry) and not continuous:
            raise self.fail(key, "give exactly one of method (built in, for this "
                            f"{kind} service: {', '.join(methods) or 'none'}) or "
                            "procedure (the name of your own backup command); a link that "
                            "continues another job (base: JOB), such as WAL archiving by the "
                            "server itself, may have neither")
        method = procedure = None
        if continuous:
            pass  # kept by the team's server (archive_command, log shipping): not taken
        elif "method" in entry:
            method = entry["method"]
            if method not in methods:
                raise self.fail(f"{key}.method", f"{shown(method)}: for a {kind} service use "
                                + (", ".join(methods) if methods
                                   else "a procedure (drills has no built-in backup of it)"))
        else:
            procedure = entry["procedure"]
            if procedure not in procedures:
                raise self.fail(f"{key}.procedure", f"{shown(procedure)} is not in "
                                f"`procedures`; it has: {', '.join(procedures) or 'none'}")
        if "every" not in entry:
            raise self.fail(f"{key}.every", "missing: the real interval of the job (24h for a "
                            "daily dump); drills compresses it (compressed_to) and projects "
                            "what it measures back onto it")
        every = self.duration(entry["every"], f"{key}.every", positive=True)
        at = None
        if "at" in entry:
            at = self.text(entry["at"], f"{key}.at")
            if not _AT.match(at):
                raise self.fail(f"{key}.at", f"{shown(at)}: write the time of day as \"HH:MM\" "
                                "(quoted: YAML 1.1 reads 03:00 as a number)")
        compressed = (self.duration(entry["compressed_to"], f"{key}.compressed_to",
                                    positive=True) if "compressed_to" in entry else 10.0)
        if compressed > every:
            raise self.fail(f"{key}.compressed_to", f"{compressed:g} s is longer than the real "
                            f"interval ({every:g} s): the drill compresses the schedule, it "
                            "never stretches it")
        return BackupJob(
            name, service, method, procedure, every, at,
            retention_s=(self.duration(entry["retention"], f"{key}.retention", positive=True)
                         if "retention" in entry else None),
            compressed_to_s=compressed,
            rehearse=(self.rehearsed(name, entry["verify"], kind, procedures)
                      if "verify" in entry else None),
            base=(self.item_name(entry["base"], f"{key}.base") if "base" in entry else None),
            lag_s=(self.duration(entry["lag"], f"{key}.lag") if "lag" in entry else None),
        )

    def rehearsed(self, job: str, raw: Any, kind: str,
                  procedures: dict[str, Procedure]) -> str:
        """``verify: restore``: the one procedure restoring ``job``, rehearsed before the fault."""
        key = f"backups.{job}.verify"
        if raw != "restore":
            raise self.fail(key, f"{shown(raw)}: the only value is restore (the backup "
                            "restored into a scratch server before the fault, the plan's "
                            "checks run there)")
        known = kinds.find(kind)
        if known is None or not known.rehearses_restore:
            raise self.fail(key, f"a restore rehearsal is for postgres services for now; "
                            f"backups.{job}.service is a {kind} service")
        names = [n for n, p in procedures.items() if job in p.backup_jobs()]
        if len(names) != 1:
            which = (f"procedures {', '.join(names)} all name {{latest:{job}}}: keep one"
                     if names else f"no procedure names {{latest:{job}}}")
            raise self.fail(key, f"restore rehearses the procedure that restores job {job} "
                            f"(the one naming {{latest:{job}}}); {which}")
        return names[0]
