"""MongoDB: settings, local stand-in, compose service, data-store adapter, offline image.

settings.py   MongoSettings: the workload's write concern
local.py      LocalMongo: FerretDB (a MongoDB wire-protocol server) over a PostgreSQL of its
              own, the stand-in where no mongod can be installed (drills/kinds/mongodb/ferretdb/)
compose.py    the service from the ``mongodb`` template of docker-compose.drill.yml
              (the official mongo:7 image; offline, FerretDB and PostgreSQL in one image)
store.py      pymongo: ledger collection, probe, read-back, identity (imported lazily)
image/        the offline image drills/mongodb:ferretdb-1.24 (drills/images/build.sh)

Results on the stand-in measure PostgreSQL's commit durability under FerretDB, not
WiredTiger's journal: the report says which server answered (``identify``).
"""

from __future__ import annotations

from drills.kinds.base import ServiceKind
from drills.kinds.mongodb.settings import MongoSettings

__all__ = ["KIND", "MongoSettings"]


class MongoKind(ServiceKind):
    name = "mongodb"
    title = "MongoDB"
    settings_type = MongoSettings
    default_image = "mongo:7"
    plan_builtin = True
    ledger = "collections drills_writes, drills_probe and drills_meta of database drills"
    reach_needs = ("user", "password")
    check_language = "mongodb"
    stand_in = ("on the local runtime, FerretDB v1.24.2 over a PostgreSQL of its own stands "
                "in for mongod (no package installs one): its durability is PostgreSQL's, "
                "not WiredTiger's; on compose, the image DRILLS_MONGODB_IMAGE names (mongo:7, "
                "or drills' FerretDB image with DRILLS_IMAGES=offline)")
    #: mongod: SCRAM against the admin database (the official image's root user);
    #: FerretDB 1.x: PLAIN, the credentials handed to its PostgreSQL
    reach_auth = ("SCRAM-SHA-256", "SCRAM-SHA-1", "PLAIN")
    driver_modules = ("pymongo", "bson")
    extra = "mongodb"


KIND = MongoKind()
