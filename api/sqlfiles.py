"""The API's own SQL (accounts, audit, incidents, catalog): ``api/sql/<name>.sql``."""

from spatial.sqlfiles import SqlFiles

sql = SqlFiles("api", planned_per_call=frozenset({"incident_list"}))
