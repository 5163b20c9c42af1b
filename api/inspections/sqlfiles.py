"""The inspections' SQL: ``api/inspections/sql/<name>.sql``."""

from spatial.sqlfiles import SqlFiles

sql = SqlFiles("api.inspections")
