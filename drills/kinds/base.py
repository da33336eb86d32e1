"""What a service kind is: the one object each kind package exports as ``KIND``."""

from __future__ import annotations

import importlib
import os
from abc import ABC, abstractmethod
from collections.abc import Mapping
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, ClassVar, cast

from drills.errors import StackError, UsageError, printable

if TYPE_CHECKING:
    from drills.datastore import DataStore
    from drills.stack.compose_spec import ComposeContext, ComposeSpec
    from drills.stack.local_service import LocalContext
    from drills.stack.service import Service


#: where a server's data directory can live (its settings' ``storage``)
STORAGE = ("disk", "lazyfs")


class ServiceSettings(ABC):
    """Server settings a scenario asks for, independent of the runtime that applies them."""

    @abstractmethod
    def conf(self) -> dict[str, str]:
        """The server's configuration, as key -> value."""


class ServiceKind(ABC):
    """Everything drills knows about one kind of server.

    A kind's package holds, by convention: ``local.py`` (``service()``, ``servers()``),
    ``compose.py`` (``compose_spec()``), ``store.py`` (the drills.datastore.DataStore
    functions) and optionally ``image/``. They are imported on first use, so that the
    registry never imports a database driver.
    """

    #: registry name, also the template's service name in docker-compose.drill.yml
    name: ClassVar[str]
    #: for people: "PostgreSQL"
    title: ClassVar[str]
    settings_type: ClassVar[type[ServiceSettings]]
    #: the official image; users override it with DRILLS_<NAME>_IMAGE
    default_image: ClassVar[str]
    #: top-level modules of the driver, which the Locust child must import after gevent
    driver_modules: ClassVar[tuple[str, ...]]
    #: what answers for this kind where its own server cannot be installed (said by
    #: ``drill check`` and the report); None: the kind's own server runs everywhere
    stand_in: ClassVar[str | None] = None
    #: the pip extra that brings the driver (``pip install 'drills[mongodb]'``); None:
    #: the driver is one of drills' own dependencies
    extra: ClassVar[str | None] = None
    #: loaded over HTTP by Locust's FastHttpUser, not through a data-store writer
    serves_http: ClassVar[bool] = False

    # -- what a version 2 plan may ask of the kind (drills.plan.reader_v2) --------------
    #: a plan without a compose file may ask drills to run a server of this kind
    plan_builtin: ClassVar[bool] = False
    #: it can hold drills' write ledger; what the ledger is there, for people
    ledger: ClassVar[str | None] = None
    #: what a plan's `reach` must give besides host and port
    reach_needs: ClassVar[tuple[str, ...]] = ()
    #: the ways of logging in a plan's `reach` may name (``auth:``), the driver's default
    #: first; empty: the kind has one way, and ``auth`` is refused
    reach_auth: ClassVar[tuple[str, ...]] = ()
    #: the backup methods drills has for it
    backup_methods: ClassVar[tuple[str, ...]] = ()
    #: the check of a plan that queries it: ``sql`` or ``redis``
    check_language: ClassVar[str | None] = None
    #: a backup job of this kind can be rehearsed (``verify: restore``): restored into a
    #: scratch server before the fault (drills.plan_drill.rehearsal)
    rehearses_restore: ClassVar[bool] = False
    #: the replication settings a plan's service of this kind may give (``replica_of``
    #: first): its settings' field names. Empty: no replicas in a plan (clients of the
    #: kind cannot follow a promotion by themselves)
    plan_replication: ClassVar[tuple[str, ...]] = ()

    @property
    def standalone_store(self) -> bool:
        """A data store that runs by itself: it holds drills' ledger, and a plan may run it.

        PostgreSQL, Redis, MongoDB; not Patroni (a ledger, but its members need etcd), nor
        the app (a plan runs it, but it holds no ledger: HTTP in front of the others).
        Every such kind passes one contract (tests/integration/test_kind_conformance.py).
        """
        return self.ledger is not None and self.plan_builtin

    def plan_settings(self, name: str, stack: Mapping[str, str]) -> ServiceSettings:
        """The settings of a built-in server a plan asks for, given the stack's kinds.

        ``stack`` maps every service of the plan's stack to its kind; a kind whose server
        uses others (the app: a database and a cache) finds them there.
        """
        return self.settings_type()

    def override_args(self, overrides: Mapping[str, str]) -> list[str]:
        """Server command-line arguments that override configuration for one start.

        PostgreSQL takes ``-c key=value``, Redis ``--key value``; a kind whose server takes
        none cannot be restarted with overrides (StackError).
        """
        raise StackError(f"kind {self.name}: its server takes no configuration overrides "
                         "on its command line")

    def image(self) -> str:
        """The compose image of this kind.

        $DRILLS_<NAME>_IMAGE; else, with DRILLS_IMAGES=offline, the image drills builds
        from Debian packages (image/image.env); else the official one.
        """
        explicit = os.environ.get(f"DRILLS_{self.name.upper()}_IMAGE")
        if explicit:
            return explicit
        which = os.environ.get("DRILLS_IMAGES", "official")
        if which not in ("official", "offline"):
            raise UsageError(f"DRILLS_IMAGES={printable(which)}: use 'official' (the "
                             "registry's images) or 'offline' (built by `drill images build`)")
        if which == "offline":
            offline = self.offline_image()
            if offline:
                return offline
        return self.default_image

    def offline_image(self) -> str | None:
        """The name of the image drills builds offline for this kind, if it builds one."""
        sources = self.image_sources()
        if sources is None:
            return None
        for line in (sources / "image.env").read_text(encoding="utf-8").splitlines():
            if line.startswith("IMAGE="):
                return line.split("=", 1)[1].strip()
        return None

    def _package(self) -> ModuleType:
        """The kind's package (``KIND`` is defined in its ``__init__`` or a module of it)."""
        module = importlib.import_module(type(self).__module__)
        if hasattr(module, "__path__"):
            return module
        return importlib.import_module(module.__name__.rsplit(".", 1)[0])

    def store(self) -> DataStore:
        """The data-store adapter: the module ``<package>.store``; imports the driver."""
        if "store" not in self.MODULES:
            raise StackError(f"kind {self.name} holds no data: it has no data-store adapter "
                             "to write to, probe or read back")
        store: DataStore = cast("DataStore", self._module("store"))
        return store

    def image_sources(self) -> Path | None:
        """The directory its offline image is built from (Dockerfile, build-rootfs.sh...)."""
        found = Path(self._package().__file__ or ".").parent / "image"
        return found if found.is_dir() else None

    #: the modules a kind's package holds, and the functions each must define
    MODULES: ClassVar[dict[str, tuple[str, ...]]] = {
        "local": ("service", "servers"),
        "compose": ("compose_spec",),
        "store": ("writer", "probe", "prepare", "read_back", "delete", "identify"),
    }

    def _module(self, name: str) -> ModuleType:
        package = self._package().__name__
        try:
            return importlib.import_module(f"{package}.{name}")
        except ModuleNotFoundError as exc:
            missing = (exc.name or "").split(".")[0]
            if missing in self.driver_modules:
                install = f"pip install 'drills[{self.extra}]'" if self.extra else \
                    f"pip install {missing}"
                raise UsageError(f"kind {self.name}: its driver {missing} is not installed. "
                                 f"To fix this, run: {install}") from None
            if exc.name != f"{package}.{name}":
                raise  # something it imports is missing, not the module itself
            raise StackError(f"kind {self.name}: its package {package} has no {name}.py "
                             f"(a kind needs {', '.join(self.MODULES)})") from None

    def _own(self, settings: ServiceSettings) -> ServiceSettings:
        if not isinstance(settings, self.settings_type):
            raise StackError(f"{type(settings).__name__} are not settings of kind {self.name} "
                             f"({self.settings_type.__name__})")
        return settings

    def local(self, name: str, settings: ServiceSettings, ctx: LocalContext) -> Service:
        """A service of this kind as a local process (created, not started).

        It is ``<package>.local.service(name, settings, ctx)``.
        """
        service: Service = self._module("local").service(name, self._own(settings), ctx)
        return service

    def compose(self, name: str, settings: ServiceSettings, ctx: ComposeContext) -> ComposeSpec:
        """How the compose runtime runs a service of this kind, from the kind's template.

        It is ``<package>.compose.compose_spec(name, settings, ctx)``.
        """
        spec: ComposeSpec = self._module("compose").compose_spec(name, self._own(settings), ctx)
        return spec

    def compose_class(self) -> type[Any] | None:
        """The class of this kind's compose services, when it needs its own.

        It is ``<package>.compose.SERVICE_CLASS`` (a subclass of
        drills.stack.compose_service.ComposeService) if the module defines one.
        """
        found: type[Any] | None = getattr(self._module("compose"), "SERVICE_CLASS", None)
        return found

    def local_servers(self) -> Mapping[str, Any]:
        """Which server binaries the local runtime would use (raises StackError if none).

        It is ``<package>.local.servers()``.
        """
        found: Mapping[str, Any] = self._module("local").servers()
        return found
