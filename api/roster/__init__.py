"""A district's people and catalogue from CSV or XLSX files: departments, categories with their
deadlines, linkage workstations, units, and accounts with their grants.

:mod:`.columns` says what each kind of file holds, :mod:`.reading` reads a file into rows,
:mod:`.checks` finds every row's problems, :mod:`.writing` upserts them by code, and
:mod:`.service` runs one file: all rows checked, then all written in the caller's transaction,
or nothing.
"""
