"""Joint inspections (综合查一次): checklists, the places due, a joint team's plan for a day
(OR-Tools), the visit on the phone, findings as cases, and the figures."""
