-- Insert the next version of each area (1 for a new code); a NULL geometry keeps the old row's.
-- Params: parallel arrays codes, names, names_en, kinds, parents, departments, attributes (json
-- text), wkbs (hex WKB or NULL), old_ids (or NULL); ts, actor, reason.
INSERT INTO area (code, name, name_en, kind, parent_code, department_code, attributes, geom, version,
                  valid_from, changed_by, reason)
SELECT n.code, n.name, n.name_en, n.kind, n.parent_code, n.department_code, CAST(n.attributes AS jsonb),
       coalesce(ST_Multi(ST_GeomFromWKB(decode(n.wkb, 'hex'), 4326)), old.geom),
       coalesce((SELECT max(h.version) FROM area h WHERE h.code = n.code), 0) + 1,
       CAST(:ts AS timestamptz), :actor, :reason
FROM unnest(CAST(:codes AS text[]), CAST(:names AS text[]), CAST(:names_en AS text[]), CAST(:kinds AS text[]),
            CAST(:parents AS text[]), CAST(:departments AS text[]), CAST(:attributes AS text[]),
            CAST(:wkbs AS text[]), CAST(:old_ids AS bigint[]))
     AS n(code, name, name_en, kind, parent_code, department_code, attributes, wkb, old_id)
LEFT JOIN area old ON old.id = n.old_id
RETURNING code, version
