"""KPIs defined once (api.kpi.definitions), computed with their drill-down (api.kpi.service),
exported (api.kpi.export) and documented (api.kpi.docs → docs/kpis.md)."""
