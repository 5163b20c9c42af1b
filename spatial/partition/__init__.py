"""Editing a partition (the children of one parent) so it stays a partition, and checking it.

``topology`` builds the planar arrangement of a parent's children (plain shapely overlay on a
fixed precision grid), ``ops`` applies split / merge / reshape / retire / move to it, and
``validate`` lists what is wrong with a partition (invalid, multipart, outside the parent,
overlaps, gaps, slivers). Pure shapely 2: no database, no web code.
"""
