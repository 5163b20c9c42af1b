-- The owning desk's areas of a case if it were at another tier (escalate, hand down).
SELECT case_owners(:tier, :grid, :community, :zone, :street, :district)
