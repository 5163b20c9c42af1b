"""Star ratings (星级工作站): monthly 1-5 stars for each linkage workstation and each unit from
weighted KPIs of the KPI service (api.kpi), with the breakdown that produced them, a per-district
configuration (versioned), and a leader's adjustments with a reason beside the computed rating."""

from spatial.sqlfiles import SqlFiles

sql = SqlFiles("api.stars")
