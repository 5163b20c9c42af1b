-- Undo a merge: the people who came with the duplicate leave the original. Returns how many.
WITH gone AS (
    DELETE FROM incident_supporter
    WHERE incident_id = :original_id AND from_incident_id = :duplicate_id AND via = 'merge'
    RETURNING 1
), counted AS (
    UPDATE incident SET supporters = greatest(0, supporters - (SELECT count(*) FROM gone)) WHERE id = :original_id
)
SELECT count(*) FROM gone
