"""Replication: a primary, its replicas, their roles and lag, and failing over between them.

state.py     ReplicationState: what one server says about its role and its replication,
             as a kind's data-store adapter reads it (``replication(endpoint)``)
sampler.py   roles and lag of every member sampled onto the timeline through the drill
group.py     the address clients use for a replicated service (all members; the writable
             one is found by the client: libpq ``target_session_attrs=read-write``)

A kind that replicates adds two functions to its data-store adapter
(drills.datastore.DataStore): ``replication(endpoint) -> ReplicationState`` and
``promote(endpoint, timeout_s) -> str`` (make a replica the primary; what it did).
"""
