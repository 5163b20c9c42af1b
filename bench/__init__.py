"""Benchmarks of gridgov: ``make bench`` (``python -m bench``).

Sections (plain-text tables, ratios against a baseline measured in the same run, no
assertions):

1. single-point routing latency: raw SQL (psycopg) vs ``spatial.routing.route_point``
   (the app's psycopg pool) vs ``GET /api/route`` (uvicorn on loopback, httpx keep-alive);
2. bulk routing throughput: ``route_many.sql`` in PostGIS vs a geopandas ``sjoin``;
3. incident intake: ``POST /api/incidents``, sequential and concurrent;
4. plan check: ``EXPLAIN ANALYZE`` of ``route_point.sql`` (indexes, sequential scans).

The run works on a throwaway clone of the loaded database (``CREATE DATABASE
<db>_bench TEMPLATE <db>``, dropped at the end). When the clone is impossible because
someone is connected to the source database, it works in place with a temporary user
and deletes the user, its sessions, the incidents it created and their audit rows at
the end. Tables are printed and written to ``bench/results/latest.txt``.
"""
