"""``gridgov cluster``: etcd and three PostgreSQL nodes under Patroni on one machine (``.gridgov/cluster``).

What production runs on three hosts, here on loopback ports: a primary, a synchronous standby
(Patroni ``synchronous_mode``: a commit is on two nodes before it is acknowledged) and an
asynchronous read replica (``nosync``). ``layout`` says where everything lives, ``patroni.yml.tmpl``
is each node's configuration, ``processes`` starts and stops the daemons, ``members`` reads
Patroni's REST API, ``manage`` is up/down/status.
"""
