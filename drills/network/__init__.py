"""The network between services: Toxiproxy links and the REST client that drives them.

toxiproxy.py  ToxiproxyApi: a small client of Toxiproxy's REST API, with timeouts
link.py       Link: one proxied connection between two services (the app to PostgreSQL)

The faults on a link (latency, bandwidth, partition, reset_peer, slow_close) are in
drills.faults.network.
"""
