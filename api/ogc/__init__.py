"""OGC API – Features, Part 1 (core + GeoJSON) over the area layers: one collection per kind.

``models`` are the documents, ``links`` builds absolute links that keep the query, ``service``
answers each endpoint from the one layer query (:mod:`api.layers`).
"""
